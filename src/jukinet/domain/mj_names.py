"""MJ character identifiers (MJ文字図形名) of the characters of a name outside JIS X 0213.

A name is stored as written, in Unicode (domain.md §7). For the characters every system draws
alike that is enough; for those outside JIS X 0213 (𠮷, 髙, and any ideographic variation
sequence such as 葛 + U+E0102) the glyph is fixed by its MJ identifier, which travels next to
the text — in the register, in identity notices and in answers — so that every tier and every
certificate shows the same glyph.

Policy (documented in docs/identity-notices.md):

- A *unit* is one character with the variation selectors that follow it (an IVS is one unit).
- A unit is *outside JIS X 0213* when Python's ``shift_jisx0213`` codec cannot encode it; a
  unit with a variation selector is always outside.
- An outside unit whose base is an ideograph must have an MJ identifier; a name with one that
  has none (not an MJ character, or an IVS outside the Moji_Joho collection such as the
  Adobe-Japan1 葛 + U+E0100) is refused with ``JUKI-NAME-021`` naming the character.
- Outside units that are not ideographs (Hangul, some accented Latin letters) carry no
  identifier: MJ is a set of kanji, and such letters have no glyph variants to fix.
- The folded search key ignores all of this: 𠮷田 and 吉田 still share a key.

The identifiers of a name are written as one text, ``<unit>:<MJ identifier>`` items separated
by single spaces in the order of the name (``"𠮷:MJ032129 髙:MJ028902"``; empty when there are
none). Pure functions: the table itself is package data, read by :mod:`jukinet.data.mj_table`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

from jukinet.domain.errors import ValidationError

__all__ = [
    "MJ_IDENTIFIER",
    "check_carried",
    "format_identifiers",
    "glyph_units",
    "mj_identifiers",
    "needs_identifier",
    "parse_identifiers",
]

#: An MJ文字図形名: ``MJ`` and six digits.
MJ_IDENTIFIER: Final = re.compile(r"MJ[0-9]{6}")
_SEPARATOR: Final = " "
_PAIR: Final = ":"

_LABELS_JA: Final[Mapping[str, str]] = {
    "family_name": "氏",
    "given_name": "名",
}


def _is_selector(point: int) -> bool:
    return 0xFE00 <= point <= 0xFE0F or 0xE0100 <= point <= 0xE01EF


def _is_ideograph(point: int) -> bool:
    # CJK Unified Ideographs and Extension A, Compatibility Ideographs, and the Supplementary
    # and Tertiary Ideographic Planes (Extensions B–H, Compatibility Supplement). Ranges, not
    # unicodedata: Python's database lags the newest extensions.
    return (
        0x3400 <= point <= 0x4DBF
        or 0x4E00 <= point <= 0x9FFF
        or 0xF900 <= point <= 0xFAFF
        or 0x20000 <= point <= 0x3FFFF
    )


def glyph_units(text: str) -> list[str]:
    """``text`` cut into units: each character with the variation selectors that follow it."""
    units: list[str] = []
    for char in text:
        if units and _is_selector(ord(char)):
            units[-1] += char
        else:
            units.append(char)
    return units


def _outside_jisx0213(unit: str) -> bool:
    try:
        unit.encode("shift_jisx0213")
    except UnicodeEncodeError:
        return True
    return False


def needs_identifier(unit: str) -> bool:
    """Whether ``unit`` is an ideograph (or variation sequence of one) outside JIS X 0213."""
    return _is_ideograph(ord(unit[0])) and _outside_jisx0213(unit)


def _code_points(unit: str) -> str:
    return "+".join(f"U+{ord(c):04X}" for c in unit)


def mj_identifiers(text: str, table: Mapping[str, str], *, field: str) -> list[tuple[str, str]]:
    """``(unit, MJ identifier)`` for each unit of ``text`` outside JIS X 0213, in order.

    ``table`` maps a unit (a character, or base + selector) to its MJ identifier. Raises
    ``ValidationError`` ``JUKI-NAME-021`` naming every ideograph that has no MJ identifier.
    """
    pairs: list[tuple[str, str]] = []
    missing: list[str] = []
    for unit in glyph_units(text):
        if not needs_identifier(unit):
            continue
        identifier = table.get(unit)
        if identifier is None:
            missing.append(unit)
        else:
            pairs.append((unit, identifier))
    if missing:
        named = "、".join(f"「{u}」({_code_points(u)})" for u in dict.fromkeys(missing))
        codes = ", ".join(_code_points(u) for u in dict.fromkeys(missing))
        raise ValidationError(
            "JUKI-NAME-021",
            ja=f"{_LABELS_JA.get(field, field)}に文字情報基盤（MJ文字）にない文字があります: "
            f"{named}。MJ文字の字形（異体字セレクタを含む）で入力してください。",
            en=f"{field} has characters outside the MJ character set ({codes}); enter the "
            "MJ glyph (with its Moji_Joho variation selector, if any).",
            field=field,
        )
    return pairs


def format_identifiers(pairs: list[tuple[str, str]]) -> str:
    """The one-text form: ``"𠮷:MJ032129 髙:MJ028902"`` (empty for no pairs)."""
    return _SEPARATOR.join(f"{unit}{_PAIR}{identifier}" for unit, identifier in pairs)


def _malformed(field: str, en: str) -> ValidationError:
    return ValidationError(
        "JUKI-NAME-022",
        ja=f"{_LABELS_JA.get(field, field)}のMJ文字図形名が不正です。",
        en=f"The MJ identifiers of {field} are invalid: {en}",
        field=f"{field}_mj",
    )


def parse_identifiers(value: str, *, field: str) -> list[tuple[str, str]]:
    """The pairs of a one-text form; raises ``JUKI-NAME-022`` when it is malformed."""
    if not value:
        return []
    pairs: list[tuple[str, str]] = []
    for item in value.split(_SEPARATOR):
        unit, sep, identifier = item.rpartition(_PAIR)
        if not sep or not unit or not MJ_IDENTIFIER.fullmatch(identifier):
            raise _malformed(field, "each item is a character, a colon and MJ + six digits")
        pairs.append((unit, identifier))
    return pairs


def check_carried(name: str, value: str, *, field: str) -> str:
    """Check identifiers received with ``name`` (a notice, an answer) and return them.

    They must name exactly the units of ``name`` that need one, in order, each with a
    well-formed identifier; which identifier is the sender's word (its register is the
    authority on its residents' glyphs), and the sender's seal covers it.
    """
    pairs = parse_identifiers(value, field=field)
    wanted = [unit for unit in glyph_units(name) if needs_identifier(unit)]
    if [unit for unit, _ in pairs] != wanted:
        raise _malformed(field, "they do not match the name's characters outside JIS X 0213")
    return value
