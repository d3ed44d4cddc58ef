"""Build ``src/jukinet/data/mj_glyphs.tsv.gz``: MJ character identifiers (MJ文字図形名) of the
characters and ideographic variation sequences outside JIS X 0213.

Source: the IPAmj Mincho font (IPAmj明朝 Ver.005.01, Debian package ``fonts-ipamj-mincho``,
IPA Font License v1.0), whose glyph names *are* the MJ文字図形名 of the MJ文字情報一覧表
(文字情報技術促進協議会 / IPA), written in lower case (``mj032129`` for MJ032129). Its Unicode
cmap (format 12) gives the glyph of each bare code point, its variation-sequence cmap
(format 14) the glyph of each sequence of the Moji_Joho IVS collection. So:

- a bare code point maps to the MJ identifier of the glyph the font draws for it;
- a base + variation selector maps to the MJ identifier of that sequence's glyph.

Only what the register needs is kept: ideographs that Python's ``shift_jisx0213`` codec cannot
encode (outside JIS X 0213), and every variation sequence (never encodable there). Glyphs that
are not MJ glyphs (the font's Adobe-Japan1 ``ajNNNN`` glyphs for kana, symbols, Latin) are left
out. Nothing reads the font at run time.

Run from the repository root, inside the project's virtualenv::

    python scripts/build_mj_table.py            # rewrite the table
    python scripts/build_mj_table.py --check    # exit 1 if the table is out of date

Output: gzip (mtime 0, so reproducible) of UTF-8 lines ``<code points>\\t<MJ identifier>``,
code points as upper-case hex joined by ``+`` (``20BB7``, ``845B+E0102``), sorted; the first
lines are ``#`` comments naming the source.
"""

from __future__ import annotations

import argparse
import gzip
import io
import re
import sys
from pathlib import Path
from typing import Final

ROOT: Final = Path(__file__).resolve().parent.parent
FONT: Final = Path("/usr/share/fonts/truetype/ipamj/ipamjm.ttf")
OUTPUT: Final = ROOT / "src" / "jukinet" / "data" / "mj_glyphs.tsv.gz"
_MJ_GLYPH: Final = re.compile(r"mj([0-9]{6})")


def _outside_jisx0213(text: str) -> bool:
    try:
        text.encode("shift_jisx0213")
    except UnicodeEncodeError:
        return True
    return False


def _is_ideograph(point: int) -> bool:
    return (
        0x3400 <= point <= 0x4DBF
        or 0x4E00 <= point <= 0x9FFF
        or 0xF900 <= point <= 0xFAFF
        or 0x20000 <= point <= 0x3FFFF
    )


def build(font_path: Path) -> bytes:
    """The gzip bytes of the table read from the font at ``font_path``."""
    from fontTools.ttLib import TTFont

    font = TTFont(str(font_path), lazy=True)
    bare: dict[int, str] = {}
    sequences: dict[tuple[int, int], str | None] = {}
    for table in font["cmap"].tables:
        if table.format == 12:
            bare = dict(table.cmap)
        elif table.format == 14:
            for selector, entries in table.uvsDict.items():
                for base, glyph in entries:
                    sequences[(base, selector)] = glyph
    version = font["head"].fontRevision
    font.close()

    rows: dict[str, str] = {}
    for point, glyph in bare.items():
        match = _MJ_GLYPH.fullmatch(glyph)
        if match and _is_ideograph(point) and _outside_jisx0213(chr(point)):
            rows[f"{point:X}"] = f"MJ{match[1]}"
    for (base, selector), glyph in sequences.items():
        # A sequence without a glyph of its own is drawn with the base's default glyph.
        match = _MJ_GLYPH.fullmatch(glyph or bare.get(base, ""))
        if match and _is_ideograph(base):
            rows[f"{base:X}+{selector:X}"] = f"MJ{match[1]}"

    text = io.StringIO()
    text.write(
        "# MJ文字図形名 of characters outside JIS X 0213, read from IPAmj Mincho "
        f"(fonts-ipamj-mincho, font revision {version:.2f}) by scripts/build_mj_table.py\n"
    )
    text.write("# code points (hex, + between base and selector)\tMJ identifier\n")
    for key in sorted(rows, key=lambda k: [int(p, 16) for p in k.split("+")]):
        text.write(f"{key}\t{rows[key]}\n")
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0, filename="") as packed:
        packed.write(text.getvalue().encode("utf-8"))
    return buffer.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the table is stale")
    parser.add_argument("--font", type=Path, default=FONT, help="the IPAmj Mincho font file")
    args = parser.parse_args(argv)
    data = build(args.font)
    if args.check:
        current = OUTPUT.read_bytes() if OUTPUT.exists() else b""
        if current != data:
            print(f"{OUTPUT} is out of date; run scripts/build_mj_table.py", file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_bytes(data)
    print(f"wrote {OUTPUT.relative_to(ROOT)} ({len(data):,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
