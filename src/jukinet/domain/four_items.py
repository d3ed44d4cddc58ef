"""Lookups by the four basic items (基本4情報): name, birth date, sex and address.

National agencies that do not hold a resident code confirm a resident by the four basic items
(domain.md §4.4): the name in kanji or in kana, the birth date, the sex and the address, which
may be partial (an agency often knows only the prefecture, city and town). This module is the
pure rule half of that lookup:

1. :class:`FourItemsQuery` validates what the agency sent and says, through
   :attr:`FourItemsQuery.lookup`, which indexed key storage should fetch candidates by: the
   folded kanji name key plus birth date when a written name was given, otherwise the folded
   kana key plus birth date.
2. :func:`match` explains, item by item, how one fetched candidate matches the query.
3. :func:`rank` keeps the candidates with no mismatch on any given item and orders them.

It never merges candidates (domain.md §7): two records that look identical but carry different
resident codes are two answers, and deciding which person is meant is for a human.

Messages of :class:`FourItemsError` name the item and the rule, never the value sent: every
item here is personal data.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from jukinet.domain.addresses import MAX_ADDRESS_LENGTH
from jukinet.domain.errors import ValidationError
from jukinet.domain.names import is_kana_query, kana_search_key, name_search_key
from jukinet.domain.register import Sex

__all__ = [
    "MAX_ADDRESS_LENGTH",
    "MAX_KANA_LENGTH",
    "MAX_NAME_LENGTH",
    "Candidate",
    "FourItemsError",
    "FourItemsQuery",
    "IndexKind",
    "IndexLookup",
    "MatchLevel",
    "MatchReport",
    "match",
    "normalise_address",
    "rank",
]

#: A written name in a query: family and given name together (30 + 30, as ``validate_name``
#: allows per part). Spaces and variation selectors do not count.
MAX_NAME_LENGTH = 60
#: A kana reading in a query: family and given reading together (60 + 60, as
#: ``validate_kana`` allows per part). Spaces do not count.
MAX_KANA_LENGTH = 120

_EDGE_SPACES = " \u3000"

_LABELS_JA: Mapping[str, str] = {
    "name": "氏名",
    "name_kana": "氏名（フリガナ）",
    "birth_date": "生年月日",
    "sex": "性別",
    "address": "住所",
}


class FourItemsError(ValidationError):
    """A four-items query that breaks a rule; codes ``JUKI-FOUR-0NN``, never the value sent.

    ``JUKI-FOUR-001`` neither name nor kana reading; ``-002`` no birth date; ``-003`` control
    or invisible format characters; ``-004`` too long; ``-005`` the reading is not kana;
    ``-006`` unknown sex; ``-007`` birth date not a calendar date; ``-008`` nothing left to
    search on after folding; ``-009`` a text item that is not text.
    """


# ---------------------------------------------------------------------------------------------
# Validation helpers
# ---------------------------------------------------------------------------------------------

# As in names.py: controls, invisible format characters (bidi overrides, zero-width joiners),
# lone surrogates, line and paragraph separators. Variation selectors are Mn, so they pass.
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def _is_variation_selector(ch: str) -> bool:
    cp = ord(ch)
    return 0xFE00 <= cp <= 0xFE0F or 0xE0100 <= cp <= 0xE01EF


def _label(field: str) -> str:
    return _LABELS_JA.get(field, field)


def _text_item(value: object, *, field: str) -> str | None:
    """Trim a text item; ``None`` or blank means 'not given'."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise FourItemsError(
            "JUKI-FOUR-009",
            ja=f"{_label(field)}は文字列で指定してください。",
            en=f"{field} must be text.",
            field=field,
        )
    text = value.strip(_EDGE_SPACES)
    if not text:
        return None
    if any(unicodedata.category(ch) in _FORBIDDEN_CATEGORIES for ch in text):
        raise FourItemsError(
            "JUKI-FOUR-003",
            ja=f"{_label(field)}に制御文字または不可視の書式文字が含まれています。",
            en=f"{field} contains control or invisible format characters.",
            field=field,
        )
    return text


def _check_length(*, field: str, limit: int, count: int) -> None:
    if count > limit:
        raise FourItemsError(
            "JUKI-FOUR-004",
            ja=f"{_label(field)}は{limit}文字以内で指定してください。",
            en=f"{field} must be at most {limit} characters.",
            field=field,
        )


def _name_length(text: str) -> int:
    return sum(1 for ch in text if not (ch.isspace() or _is_variation_selector(ch)))


def _nothing_to_search(field: str) -> FourItemsError:
    return FourItemsError(
        "JUKI-FOUR-008",
        ja=f"{_label(field)}に検索に使える文字がありません。",
        en=f"{field} contains nothing to search on.",
        field=field,
    )


# ---------------------------------------------------------------------------------------------
# The query
# ---------------------------------------------------------------------------------------------


class IndexKind(StrEnum):
    """Which stored index candidates are fetched by (always together with the birth date)."""

    NAME = "name"  # name_search_key of family + given name
    KANA = "kana"  # kana_search_key of family + given reading


@dataclass(frozen=True, slots=True)
class IndexLookup:
    """What storage should fetch candidates by: one folded key and the exact birth date."""

    kind: IndexKind
    key: str
    birth_date: date


@dataclass(frozen=True, slots=True)
class FourItemsQuery:
    """A validated lookup by the four basic items.

    ``name`` is kept as written (variants such as 髙 or 﨑, non-BMP ideographs and variation
    selectors included); ``name_kana`` may be hiragana, katakana or half-width katakana;
    ``sex`` is a :class:`~jukinet.domain.register.Sex` value; ``address`` may be full or only
    its leading part. Text items are trimmed of outer spaces and a blank one counts as not
    given. A ``name`` made only of kana while ``name_kana`` is not given is taken as the
    reading. Required: a name or a reading, and the birth date. Raises :class:`FourItemsError`.
    """

    name: str | None
    name_kana: str | None
    birth_date: date | None
    sex: str | None
    address: str | None

    def __post_init__(self) -> None:
        name = _text_item(self.name, field="name")
        name_kana = _text_item(self.name_kana, field="name_kana")
        address = _text_item(self.address, field="address")

        if name is not None and name_kana is None and is_kana_query(name):
            name, name_kana = None, name

        if name is None and name_kana is None:
            raise FourItemsError(
                "JUKI-FOUR-001",
                ja="氏名または氏名（フリガナ）を指定してください。",
                en="name or name_kana is required.",
                field="name",
            )
        if name is not None:
            _check_length(field="name", limit=MAX_NAME_LENGTH, count=_name_length(name))
            if not name_search_key(name):
                raise _nothing_to_search("name")
        if name_kana is not None:
            _check_length(field="name_kana", limit=MAX_KANA_LENGTH, count=_name_length(name_kana))
            if not is_kana_query(name_kana):
                raise FourItemsError(
                    "JUKI-FOUR-005",
                    ja="氏名（フリガナ）はひらがな・カタカナで指定してください。",
                    en="name_kana must be written in hiragana or katakana.",
                    field="name_kana",
                )

        birth_date = self.birth_date
        if birth_date is None:
            raise FourItemsError(
                "JUKI-FOUR-002",
                ja="生年月日を指定してください。",
                en="birth_date is required.",
                field="birth_date",
            )
        # A datetime is a date subclass but never equals a date, so it would silently match
        # nobody: refuse it along with strings and other types.
        if not isinstance(birth_date, date) or isinstance(birth_date, datetime):
            raise FourItemsError(
                "JUKI-FOUR-007",
                ja="生年月日は日付で指定してください。",
                en="birth_date must be a calendar date.",
                field="birth_date",
            )

        sex: Sex | None = None
        if self.sex is not None and self.sex != "":
            try:
                sex = Sex(self.sex)
            except (ValueError, TypeError):
                raise FourItemsError(
                    "JUKI-FOUR-006",
                    ja="性別の値が正しくありません。",
                    en=f"sex must be one of: {', '.join(s.value for s in Sex)}.",
                    field="sex",
                ) from None

        if address is not None:
            _check_length(field="address", limit=MAX_ADDRESS_LENGTH, count=len(address))
            if not normalise_address(address):
                raise _nothing_to_search("address")

        object.__setattr__(self, "name", name)
        object.__setattr__(self, "name_kana", name_kana)
        object.__setattr__(self, "sex", sex)
        object.__setattr__(self, "address", address)

    @property
    def name_key(self) -> str | None:
        """The folded kanji key of ``name`` (``name_search_key``), or ``None``."""
        return None if self.name is None else name_search_key(_without_spaces(self.name))

    @property
    def kana_key(self) -> str | None:
        """The folded reading key of ``name_kana`` (``kana_search_key``), or ``None``."""
        if self.name_kana is None:
            return None
        return kana_search_key(_without_spaces(self.name_kana))

    @property
    def address_key(self) -> str | None:
        """``address`` as :func:`normalise_address` folds it, for prefix matching, or ``None``."""
        return None if self.address is None else normalise_address(self.address)

    @property
    def lookup(self) -> IndexLookup:
        """The index storage should fetch candidates by.

        The kanji name key when a written name was given (it narrows far more than a reading
        does), otherwise the kana key; always with the birth date. Every other given item is
        then checked by :func:`match`, so the choice never changes which candidates survive.
        """
        # __post_init__ guarantees a birth date and at least one of the two keys.
        birth_date = self.birth_date
        name_key, kana_key = self.name_key, self.kana_key
        if birth_date is None:  # pragma: no cover - refused by __post_init__
            raise RuntimeError("FourItemsQuery without a birth date")
        if name_key is not None:
            return IndexLookup(IndexKind.NAME, name_key, birth_date)
        if kana_key is None:  # pragma: no cover - refused by __post_init__
            raise RuntimeError("FourItemsQuery without a name or a reading")
        return IndexLookup(IndexKind.KANA, kana_key, birth_date)


def _without_spaces(text: str) -> str:
    return "".join(ch for ch in text if not ch.isspace())


# ---------------------------------------------------------------------------------------------
# Addresses
# ---------------------------------------------------------------------------------------------

_KANJI_DIGITS: Mapping[str, int] = {
    "〇": 0,
    "一": 1,
    "二": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_KANJI_UNITS: Mapping[str, int] = {"十": 10, "百": 100, "千": 1000}
_NUMERAL = "[〇一二三四五六七八九十百千]"

# Dashes that mean "-" wherever they stand. The prolonged-sound mark ー (and half-width ｰ,
# which NFKC turns into it) is a dash only right after a digit: elsewhere it is part of a
# katakana word (センター, コーポ).
_DASHES = str.maketrans(dict.fromkeys("‐‑‒–—―−﹣－⁃─━", "-"))
_SMALL_KE = str.maketrans({"ヶ": "ケ", "ヵ": "ケ"})

# Any ideograph, so that a separator or numeral followed by more of a place name is left alone.
_IDEOGRAPH = "\u3005\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff"
# Block-number separators, longest first so that 番地の is taken whole.
_SEPARATOR = "丁目|番地の|番地|番の|番|号の|号|の|ノ|-"
# A position after which a number has clearly ended: end of text, a separator, or anything
# that is not an ideograph (katakana building names, Latin letters, digits).
_NUMBER_END = f"(?=$|{_SEPARATOR}|[^{_IDEOGRAPH}])"

_PROLONGED_AFTER_DIGIT = re.compile(r"(?<=\d)ー")
_NUMERAL_BEFORE_BLOCK = re.compile(f"({_NUMERAL}+)(?=丁目|番地)")
_NUMERAL_AFTER_BLOCK = re.compile(f"(\\d(?:{_SEPARATOR}))({_NUMERAL}+){_NUMBER_END}")
_SEPARATOR_BETWEEN_DIGITS = re.compile(f"(?<=\\d)(?:{_SEPARATOR})(?=\\d)")
_UNIT_AFTER_DIGIT = re.compile(f"(?<=\\d)(?:丁目|番地|番|号)(?=$|-|[^{_IDEOGRAPH}])")
_REPEATED_DASH = re.compile("-{2,}")


def _kanji_number(run: str) -> str | None:
    """Read a run of kanji numerals as a decimal string, or ``None`` if it is not a number.

    Both positional (一二 = 12, 二〇 = 20) and counted (二十三 = 23, 百五 = 105) forms.
    """
    if not any(ch in _KANJI_UNITS for ch in run):
        return str(int("".join(str(_KANJI_DIGITS[ch]) for ch in run)))
    total = 0
    pending: int | None = None
    last_unit = 10_000
    for ch in run:
        if ch in _KANJI_DIGITS:
            if pending is not None:
                return None  # 二三十: two digits in a row in the counted form
            pending = _KANJI_DIGITS[ch]
            continue
        unit = _KANJI_UNITS[ch]
        if unit >= last_unit or pending == 0:
            return None  # 十百, 十十, 〇十: not a number
        total += (1 if pending is None else pending) * unit
        pending, last_unit = None, unit
    return str(total + (pending or 0))


def _numeral_sub(match_: re.Match[str]) -> str:
    number = _kanji_number(match_.group(1))
    return match_.group(0) if number is None else number


def _numeral_after_sub(match_: re.Match[str]) -> str:
    number = _kanji_number(match_.group(2))
    return match_.group(0) if number is None else match_.group(1) + number


def _normalise_once(text: str) -> str:
    # NFKC, whitespace, variation selectors and zero-width characters removed, and kanji
    # variants folded as for names (髙 → 高, 澤 → 沢, 龍 → 竜).
    text = name_search_key(text)
    text = text.translate(_DASHES).translate(_SMALL_KE)
    text = _PROLONGED_AFTER_DIGIT.sub("-", text)
    # Kanji numerals: always before 丁目 and 番地; before 番 and 号 only where they continue a
    # block number already begun (三丁目五番十二号), so that town names such as 一番町 stay.
    text = _NUMERAL_BEFORE_BLOCK.sub(_numeral_sub, text)
    while True:
        following = _NUMERAL_AFTER_BLOCK.sub(_numeral_after_sub, text)
        if following == text:
            break
        text = following
    text = _SEPARATOR_BETWEEN_DIGITS.sub("-", text)
    text = _UNIT_AFTER_DIGIT.sub("", text)
    text = _REPEATED_DASH.sub("-", text)
    return text.rstrip("-")


def normalise_address(text: str) -> str:
    """Fold an address into the form compared by :func:`match`.

    Folded:

    - NFKC (full-width digits and letters to ASCII, half-width katakana to full width);
      whitespace, variation selectors and zero-width characters removed;
    - kanji variants as for names (髙/高, 澤/沢, 龍/竜), and small ヶ/ヵ to ケ (霞ヶ関/霞ケ関);
    - hyphen variants ‐ ‑ ‒ – — ― − ﹣ － ⁃ ─ ━ to ``-``; ー and ｰ too, but only right after
      a digit, since elsewhere they belong to a katakana word;
    - kanji numerals to digits before 丁目 and 番地 (三丁目 → 3丁目, 五百十二番地 → 512番地),
      and before 番/号 where they continue a block number (三丁目五番十二号 → 3-5-12);
    - 丁目, 番地, 番, 号 and の/ノ between two numbers to ``-``; after a final number, 丁目/
      番地/番/号 are dropped (but kept before more of a place name: 1番町, 101号室); repeated
      and trailing ``-`` removed.

    So "南町３丁目５番１２号", "南町3-5-12", "南町三丁目五番十二号" and "南町 3ー5ー12" all fold to
    "南町3-5-12".

    Not folded: an omitted prefecture or city (a query must start where the record starts),
    大字/字 present on one side only, が/ケ/ヶ (霞が関 is not 霞ヶ関 by this rule), ノ/之/の
    inside place names, kanji numerals outside block numbers (一番町, 十日町), old-style
    numerals (壱, 弐), 丁 without 目, Kyoto-style 上る/下る directions, and building or room
    names beyond space and width folding. Idempotent: folding a folded address changes nothing.
    """
    # Removing a space or joining numerals can, rarely, expose something a pass would still
    # change (a combining mark meeting a new base character); go round until it is stable.
    for _ in range(4):
        folded = _normalise_once(text)
        if folded == text:
            break
        text = folded
    return text


# ---------------------------------------------------------------------------------------------
# Matching
# ---------------------------------------------------------------------------------------------


class MatchLevel(StrEnum):
    """How one item of a candidate matches the query."""

    EXACT = "exact"  # equal as written (names: ignoring spaces; address: once normalised)
    FOLDED = "folded"  # equal on the folded search key (names and readings only)
    PARTIAL = "partial"  # the query address is the leading part of the candidate's
    MISMATCH = "mismatch"  # given, and different: the candidate is excluded
    NOT_GIVEN = "not_given"  # the query did not give this item


def _address_level(query_key: str, candidate_key: str) -> MatchLevel:
    if query_key == candidate_key:
        return MatchLevel.EXACT
    if candidate_key.startswith(query_key):
        # A prefix may not end inside a number: "南町3" is part of "南町3-5-12", not of
        # "南町31-5". Names are not parsed, so "南町" is also a prefix of "南町田": that only
        # widens the list, and name and birth date must still match.
        following = candidate_key[len(query_key)]
        if not (query_key[-1].isdigit() and following.isdigit()):
            return MatchLevel.PARTIAL
    return MatchLevel.MISMATCH


#: Points per item for :attr:`MatchReport.score`.
_WEIGHTS: Mapping[MatchLevel, int] = {
    MatchLevel.EXACT: 3,
    MatchLevel.FOLDED: 2,
    MatchLevel.PARTIAL: 1,
    MatchLevel.NOT_GIVEN: 0,
}


@dataclass(frozen=True, slots=True)
class Candidate:
    """One record as storage returns it for a four-items lookup (plain values, unvalidated)."""

    resident_code: str
    family_name: str
    given_name: str
    family_name_kana: str
    given_name_kana: str
    birth_date: date
    sex: str
    address: str


@dataclass(frozen=True, slots=True)
class MatchReport:
    """Item by item, how a candidate matches a query."""

    name: MatchLevel
    name_kana: MatchLevel
    birth_date: MatchLevel
    sex: MatchLevel
    address: MatchLevel

    def _levels(self) -> tuple[MatchLevel, ...]:
        return (self.name, self.name_kana, self.birth_date, self.sex, self.address)

    @property
    def is_candidate(self) -> bool:
        """True when no given item mismatches: the record is a possible answer."""
        return MatchLevel.MISMATCH not in self._levels()

    @property
    def score(self) -> int:
        """Ranking points: 3 per exact item, 2 per folded, 1 per partial, 0 per item not given.

        A report with any mismatch is not a candidate and scores -1. Among candidates of one
        query the same items are given, so the score only tells exact from folded names and
        readings and exact from partial addresses.
        """
        if not self.is_candidate:
            return -1
        return sum(_WEIGHTS[level] for level in self._levels())

    def as_dict(self) -> dict[str, str]:
        """The levels by item name, as the API returns them."""
        return {
            "name": self.name.value,
            "name_kana": self.name_kana.value,
            "birth_date": self.birth_date.value,
            "sex": self.sex.value,
            "address": self.address.value,
        }


def match(query: FourItemsQuery, candidate: Candidate) -> MatchReport:
    """Compare a candidate with the query, item by item. Never raises for string/date values.

    Name: EXACT when the written name equals family + given name (spaces ignored), FOLDED when
    their ``name_search_key`` agree. Reading: the same with ``kana_search_key``. Birth date
    and sex: EXACT or MISMATCH. Address: EXACT when the normalised forms are equal, PARTIAL
    when the normalised query is a leading part of the candidate's that does not end inside a
    number ("南町3" is not part of "南町31"; town names are not parsed, so "南町" is part of
    "南町田"). Items the query does not give are NOT_GIVEN.
    """
    name = MatchLevel.NOT_GIVEN
    if query.name is not None:
        stored = _without_spaces(candidate.family_name + candidate.given_name)
        if _without_spaces(query.name) == stored:
            name = MatchLevel.EXACT
        elif query.name_key == name_search_key(stored):
            name = MatchLevel.FOLDED
        else:
            name = MatchLevel.MISMATCH

    name_kana = MatchLevel.NOT_GIVEN
    if query.name_kana is not None:
        stored = _without_spaces(candidate.family_name_kana + candidate.given_name_kana)
        if _without_spaces(query.name_kana) == stored:
            name_kana = MatchLevel.EXACT
        elif query.kana_key == kana_search_key(stored):
            name_kana = MatchLevel.FOLDED
        else:
            name_kana = MatchLevel.MISMATCH

    # A datetime never equals a date, so a malformed row mismatches instead of raising.
    birth_date = (
        MatchLevel.EXACT if candidate.birth_date == query.birth_date else MatchLevel.MISMATCH
    )

    sex = MatchLevel.NOT_GIVEN
    if query.sex is not None:
        sex = MatchLevel.EXACT if candidate.sex == query.sex else MatchLevel.MISMATCH

    address = MatchLevel.NOT_GIVEN
    query_address = query.address_key
    if query_address is not None:
        address = _address_level(query_address, normalise_address(candidate.address))

    return MatchReport(
        name=name, name_kana=name_kana, birth_date=birth_date, sex=sex, address=address
    )


def rank(
    query: FourItemsQuery, candidates: Iterable[Candidate], *, limit: int = 20
) -> list[tuple[Candidate, MatchReport]]:
    """The candidates that match every given item, best score first, ties by resident code.

    Never merges: records that differ in anything, even only the resident code, are separate
    answers however alike they look. Only rows equal in every field (the same row fetched
    twice, e.g. through two indexes) are reported once. At most ``limit`` results; ``limit``
    must be at least 1 (``ValueError`` otherwise: that is a programming error, not input).
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    reports = [
        (candidate, report)
        for candidate in dict.fromkeys(candidates)
        if (report := match(query, candidate)).is_candidate
    ]
    reports.sort(key=lambda pair: (-pair[1].score, pair[0].resident_code))
    return reports[:limit]
