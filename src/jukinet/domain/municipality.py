"""Municipalities and the nationwide local-government code (全国地方公共団体コード).

The code is 2 digits of prefecture, 3 of municipality and a check digit (design/domain.md §3).
This module is pure; the list of real municipalities is loaded by :mod:`jukinet.data.catalog`.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Final

from jukinet.domain.errors import ValidationError

__all__ = [
    "Municipality",
    "Neighbourhood",
    "municipality_check_digit",
    "validate_municipality_code",
]

_WEIGHTS: Final = (6, 5, 4, 3, 2)
_DIGITS: Final = frozenset("0123456789")


def _is_ascii_digits(value: str, length: int) -> bool:
    # str.isdigit() also accepts non-ASCII digits such as "٣"; codes are ASCII only.
    return len(value) == length and _DIGITS.issuperset(value)


def municipality_check_digit(five_digits: str) -> str:
    """The check digit for a 5-digit prefecture+municipality number.

    Weights 6, 5, 4, 3, 2 over the five digits; the check digit is the last digit of
    ``11 − (Σ mod 11)`` (so a remainder of 0 gives 1 and a remainder of 1 gives 0).
    Raises ``ValueError`` unless ``five_digits`` is exactly 5 ASCII digits.
    """
    if not _is_ascii_digits(five_digits, 5):
        raise ValueError("a municipality number is exactly 5 ASCII digits")
    total = sum(int(digit) * weight for digit, weight in zip(five_digits, _WEIGHTS, strict=True))
    return str((11 - total % 11) % 10)


def validate_municipality_code(value: str, *, field: str = "municipality_code") -> str:
    """Return ``value`` as a normalised 6-digit municipality code, or raise ValidationError.

    Surrounding whitespace is stripped and full-width digits are accepted. The 5-digit form
    without check digit is refused on purpose: accepting it would let typos through unchecked.
    Error codes: ``JUKI-MUNI-001`` (not exactly 6 digits), ``JUKI-MUNI-002`` (check digit wrong).
    """
    code = unicodedata.normalize("NFKC", value).strip() if isinstance(value, str) else ""
    if not _is_ascii_digits(code, 6):
        raise ValidationError(
            "JUKI-MUNI-001",
            ja=f"{field}: 地方公共団体コードは6桁の数字でなければなりません。",
            en=f"{field}: a municipality code must be exactly 6 digits.",
            field=field,
        )
    if municipality_check_digit(code[:5]) != code[5]:
        raise ValidationError(
            "JUKI-MUNI-002",
            ja=f"{field}: 地方公共団体コードの検査数字が正しくありません。",
            en=f"{field}: the municipality code's check digit is wrong.",
            field=field,
        )
    return code


@dataclass(frozen=True, slots=True)
class Municipality:
    """A municipality (市町村 or Tokyo special ward), or a ward of a designated city.

    ``name`` is written as the postal data writes it, so a town in a county carries the county
    (西白河郡泉崎村) and a ward carries its city (横浜市鶴見区): ``full_name`` is then a correct
    address prefix. ``name_kana`` is in full-width katakana.
    """

    code: str
    prefecture_code: str
    prefecture: str
    name: str
    name_kana: str

    def __post_init__(self) -> None:
        # Catch a corrupt data file at load time rather than at the first lookup that uses it.
        # validate_municipality_code is lenient about width and spaces; a stored code must
        # already be in normal form, so compare with what it returns.
        if validate_municipality_code(self.code, field="code") != self.code:
            raise ValidationError(
                "JUKI-MUNI-001",
                ja="code: 地方公共団体コードは半角の6桁でなければなりません。",
                en="code: a stored municipality code must be 6 ASCII digits.",
                field="code",
            )
        if self.prefecture_code != self.code[:2]:
            raise ValidationError(
                "JUKI-MUNI-001",
                ja="prefecture_code: 都道府県コードが地方公共団体コードの先頭2桁と一致しません。",
                en="prefecture_code: the prefecture code must be the municipality code's first "
                "two digits.",
                field="prefecture_code",
            )

    @property
    def full_name(self) -> str:
        """Prefecture followed by name, e.g. 東京都西東京市."""
        return self.prefecture + self.name


@dataclass(frozen=True, slots=True)
class Neighbourhood:
    """A town or neighbourhood (町域) of a municipality, as the postal data lists it."""

    postal_code: str
    prefecture: str
    city: str
    town: str
    town_kana: str

    @property
    def full_name(self) -> str:
        """Prefecture, city and town, e.g. 東京都西東京市泉町."""
        return self.prefecture + self.city + self.town
