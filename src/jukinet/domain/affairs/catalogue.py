"""The catalogue of the Act's appended tables (別表第一〜第五): affairs, codes, kinds, items.

Pure — no I/O: the shipped table is read by :mod:`jukinet.data.affairs`.

* :class:`StatutoryAffair` — one row of an appended table with a stable code ``T<table>-<row>``
  (``T1-16`` is table 1 row 16, ``T1-1-2`` table 1 row 1-2 「一の二」), and the statute it
  names (:func:`extract_law_name`).
* :class:`RecipientKind` (whom a table's affairs are for) and :class:`RecipientType` (what a
  registered recipient is); :meth:`~jukinet.domain.affairs.recipients.Recipient.may_use` ties
  them together.
* :class:`IdentityItem` and :class:`ItemPolicy` — which of the six items an affair gets.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from jukinet.domain.affairs.errors import (
    DuplicateAffairCode,
    InvalidAffairCode,
    InvalidItemPolicy,
    InvalidStatutoryAffair,
    UnknownAffair,
)
from jukinet.domain.prefectures import PREFECTURES

__all__ = [
    "AFFAIR_TABLES",
    "BASIC_ITEMS",
    "DEFAULT_AFFAIR_ITEMS",
    "PREFECTURES",
    "IdentityItem",
    "ItemPolicy",
    "RecipientKind",
    "RecipientType",
    "StatutoryAffair",
    "affair_code",
    "extract_law_name",
    "index_affairs",
    "parse_affair_code",
]

#: The appended tables of the Act that name recipients (別表第一〜第五).
AFFAIR_TABLES: Final = (1, 2, 3, 4, 5)

_BODY_SEPARATORS: Final = re.compile(r"又は|若しくは|並びに|及び")
_ROW_RE: Final = re.compile(r"[1-9][0-9]*(?:-[1-9][0-9]*)*")
_CODE_RE: Final = re.compile(r"T([1-5])-([0-9]+(?:-[0-9]+)*)")

# --------------------------------------------------------------------------------------------
# Codes, law names, kinds
# --------------------------------------------------------------------------------------------


def affair_code(table: int, row: str) -> str:
    """The stable code of table ``table``, row ``row``: ``T<table>-<row>``.

    ``row`` is the table's own row number with sub-rows joined by hyphens, as in the CSV:
    ``"16"`` for 十六, ``"1-2"`` for 一の二. So ``affair_code(1, "1-2") == "T1-1-2"``. The table
    is a single digit, so the first hyphen always separates table from row.
    """
    return f"T{table}-{row}"


def parse_affair_code(value: str) -> str:
    """Return ``value`` as a canonical affair code, or raise :class:`InvalidAffairCode`.

    Full-width characters are folded (NFKC), surrounding blanks stripped, ``t`` upper-cased and
    leading zeros dropped (``ｔ１-016`` → ``T1-16``). Whether the code names a real row is the
    catalogue's business, not this function's.
    """
    text = unicodedata.normalize("NFKC", value).strip().upper() if isinstance(value, str) else ""
    text = text.replace("‐", "-").replace("−", "-").replace("ー", "-")
    match = _CODE_RE.fullmatch(text)
    if match is None:
        raise InvalidAffairCode()
    parts = [int(part) for part in match.group(2).split("-")]
    if any(part == 0 for part in parts):
        raise InvalidAffairCode()
    return affair_code(int(match.group(1)), "-".join(str(part) for part in parts))


def _row_key(row: str) -> tuple[int, ...]:
    return tuple(int(part) for part in row.split("-"))


# A statute's name at the very start of the affair text: the shortest run ending in 法 or 法律
# that is followed by its law number or another parenthesis (恩給法（大正十二年…）), by による,
# by 附則 or by an article (旅行業法第二十四条). The run may contain による (協同組合による金融
# 事業に関する法律) but no punctuation; runs containing が or 又は are sentences, not names.
_LAW_NAME_RE: Final = re.compile(
    r"(?P<name>[^、。（）\s]+?(?:法律|法))"
    r"(?=（|による|附則|第[一二三四五六七八九十百千]+条)"
)
_NOT_IN_A_NAME: Final = ("が", "又は")
_LAW_NAME_MAX: Final = 80


def extract_law_name(affair_text: str) -> str | None:
    """The name of the statute the affair text starts with, or ``None`` when it names none.

    Best effort over the Act's wording: ``恩給法（大正十二年法律第四十八号。…）による…`` gives
    ``恩給法``, ``地方公務員等共済組合法の一部を改正する法律附則第二十三条…`` gives the amending
    act's name, and a text that opens with a situation rather than a statute (``同一都道府県の
    区域内の…選挙人が…公職選挙法第四十四条…``) gives ``None``.
    """
    match = _LAW_NAME_RE.match(affair_text.strip())
    if match is None:
        return None
    name = match.group("name")
    if len(name) > _LAW_NAME_MAX or any(marker in name for marker in _NOT_IN_A_NAME):
        return None
    return name


class RecipientType(StrEnum):
    """What a registered recipient is."""

    NATIONAL_BODY = "national_body"
    PREFECTURE = "prefecture"
    MUNICIPAL_ORGAN = "municipal_organ"

    @property
    def label_ja(self) -> str:
        """Japanese name of the type."""
        return _RECIPIENT_TYPE_LABELS[self][0]

    @property
    def label_en(self) -> str:
        """English name of the type."""
        return _RECIPIENT_TYPE_LABELS[self][1]


_RECIPIENT_TYPE_LABELS: Final[Mapping[RecipientType, tuple[str, str]]] = {
    RecipientType.NATIONAL_BODY: ("国の機関等", "national body"),
    RecipientType.PREFECTURE: ("都道府県の執行機関", "prefectural organ"),
    RecipientType.MUNICIPAL_ORGAN: ("市町村の執行機関", "municipal organ"),
}


class RecipientKind(StrEnum):
    """Whom an appended table's affairs are for — read from data/README.md and the Act.

    The prefectural governor provides identity information to: table 1, national bodies and the
    corporations listed there (art. 30-7 ③); table 2, the executive organs of municipalities in
    its own prefecture (④); table 3, the executive organs of other prefectures (⑤); table 4, the
    executive organs of municipalities in other prefectures (⑥); and table 5 lists what the
    governor may use the prefecture's own data for (art. 30-8).
    """

    NATIONAL_BODY = "national_body"
    MUNICIPAL_ORGAN_IN_PREFECTURE = "municipal_organ_in_prefecture"
    OTHER_PREFECTURE_ORGAN = "other_prefecture_organ"
    OTHER_PREFECTURE_MUNICIPAL_ORGAN = "other_prefecture_municipal_organ"
    PREFECTURE_ITSELF = "prefecture_itself"

    @classmethod
    def for_table(cls, table: int) -> RecipientKind:
        """The kind of recipient appended table ``table`` (1–5) names."""
        for kind, spec in _KIND_SPECS.items():
            if spec[0] == table:
                return kind
        raise ValueError(f"no appended table {table}")

    @property
    def table(self) -> int:
        """The appended table (1–5) whose recipients are of this kind."""
        return _KIND_SPECS[self][0]

    @property
    def recipient_type(self) -> RecipientType:
        """The only type of registered recipient that may use this table's affairs."""
        return _KIND_SPECS[self][1]

    @property
    def same_prefecture(self) -> bool | None:
        """True: only towards the recipient's own prefecture; False: only others; None: any."""
        return _KIND_SPECS[self][2]

    @property
    def label_ja(self) -> str:
        """Japanese description of the kind."""
        return _KIND_SPECS[self][3]

    @property
    def label_en(self) -> str:
        """English description of the kind."""
        return _KIND_SPECS[self][4]


_KIND_SPECS: Final[Mapping[RecipientKind, tuple[int, RecipientType, bool | None, str, str]]] = {
    RecipientKind.NATIONAL_BODY: (
        1, RecipientType.NATIONAL_BODY, None, "国の機関又は法人", "national body or corporation",
    ),
    RecipientKind.MUNICIPAL_ORGAN_IN_PREFECTURE: (
        2, RecipientType.MUNICIPAL_ORGAN, True,
        "区域内の市町村の執行機関", "municipal organ in the prefecture",
    ),
    RecipientKind.OTHER_PREFECTURE_ORGAN: (
        3, RecipientType.PREFECTURE, False,
        "他の都道府県の執行機関", "organ of another prefecture",
    ),
    RecipientKind.OTHER_PREFECTURE_MUNICIPAL_ORGAN: (
        4, RecipientType.MUNICIPAL_ORGAN, False,
        "他の都道府県の区域内の市町村の執行機関", "municipal organ in another prefecture",
    ),
    RecipientKind.PREFECTURE_ITSELF: (
        5, RecipientType.PREFECTURE, True,
        "都道府県知事（自らの利用）", "the prefecture itself (its governor)",
    ),
}  # fmt: skip

_KANJI_DIGITS: Final = "〇一二三四五六七八九"


def _kanji_number(number: int) -> str:
    # Statutes write row numbers in kanji: 十六, 百二十二. Rows never reach a thousand.
    hundreds, rest = divmod(number, 100)
    tens, ones = divmod(rest, 10)
    text = ""
    if hundreds:
        text += ("" if hundreds == 1 else _KANJI_DIGITS[hundreds]) + "百"
    if tens:
        text += ("" if tens == 1 else _KANJI_DIGITS[tens]) + "十"
    if ones:
        text += _KANJI_DIGITS[ones]
    return text


@dataclass(frozen=True, slots=True)
class StatutoryAffair:
    """One row of an appended table: an affair and the body that may receive data for it.

    Build it with :meth:`from_statute`, which derives ``code``, ``law_name`` and
    ``recipient_kind``; the constructor checks they agree with ``table`` and ``row``.
    ``recipient`` and ``affair`` are the statutory wording, unaltered.
    """

    code: str
    table: int
    row: str
    recipient: str
    affair: str
    law_name: str | None
    recipient_kind: RecipientKind

    def __post_init__(self) -> None:
        if self.table not in AFFAIR_TABLES:
            raise InvalidStatutoryAffair(
                "table", ja="別表の番号は1から5です。", en="the table is 1 to 5."
            )
        if not isinstance(self.row, str) or _ROW_RE.fullmatch(self.row) is None:
            raise InvalidStatutoryAffair(
                "row",
                ja="項番号は「16」「1-2」の形式です。",
                en="a row number looks like 16 or 1-2.",
            )
        for name in ("recipient", "affair"):
            text = getattr(self, name)
            if not isinstance(text, str) or not text.strip():
                raise InvalidStatutoryAffair(name, ja="空欄です。", en="is empty.")
        if self.code != affair_code(self.table, self.row):
            raise InvalidStatutoryAffair(
                "code",
                ja="業務コードが表番号・項番号と一致しません。",
                en="the code does not match table and row.",
            )
        if self.recipient_kind is not RecipientKind.for_table(self.table):
            raise InvalidStatutoryAffair(
                "recipient_kind",
                ja="受領者の種別が表番号と一致しません。",
                en="the recipient kind does not match the table.",
            )

    @classmethod
    def from_statute(cls, *, table: int, row: str, recipient: str, affair: str) -> StatutoryAffair:
        """The affair of table ``table`` row ``row``, with code, law name and kind derived."""
        if table not in AFFAIR_TABLES:
            raise InvalidStatutoryAffair(
                "table", ja="別表の番号は1から5です。", en="the table is 1 to 5."
            )
        return cls(
            code=affair_code(table, row),
            table=table,
            row=row,
            recipient=recipient,
            affair=affair,
            law_name=extract_law_name(affair),
            recipient_kind=RecipientKind.for_table(table),
        )

    @property
    def sort_key(self) -> tuple[int, tuple[int, ...]]:
        """Statutory order: by table, then row (``1-2`` after ``1``, before ``2``)."""
        return (self.table, _row_key(self.row))

    @property
    def citation_ja(self) -> str:
        """How the Act cites the row: ``別表第一の十六の項``, ``別表第一の一の二の項``."""
        row = "の".join(_kanji_number(part) for part in _row_key(self.row))
        return f"別表第{_kanji_number(self.table)}の{row}の項"

    @property
    def bodies(self) -> tuple[str, ...]:
        """The bodies the row names as recipients, split at 又は, 若しくは, 及び and 並びに.

        ``金融庁若しくは財務省又は厚生労働省`` names three bodies; any one of them may be granted
        the affair. A body defined by reference (``…に規定する指定試験機関``) stays one name.
        """
        return tuple(part for part in _BODY_SEPARATORS.split(self.recipient) if part)

    @property
    def legal_basis(self) -> str:
        """What a grant of this affair rests on: the Act's row and the statute it serves."""
        law = f"（{self.law_name}）" if self.law_name else ""
        return f"住民基本台帳法{self.citation_ja}{law}"

    @property
    def citation_en(self) -> str:
        """English citation: ``Appended Table 1, row 16``."""
        return f"Appended Table {self.table}, row {self.row}"

    @property
    def named_prefecture_code(self) -> str | None:
        """For table 3/5 rows whose recipient is one named governor (福島県知事), its code."""
        if self.table not in (3, 5):
            return None
        for code, name in PREFECTURES.items():
            if self.recipient == f"{name}知事":
                return code
        return None


def index_affairs(affairs: Iterable[StatutoryAffair]) -> dict[str, StatutoryAffair]:
    """The affairs keyed by code, in the order given.

    A repeated code is refused with :class:`DuplicateAffairCode` rather than resolved: the
    appended tables never number two rows alike, so a repeat means a broken data file, and
    silently keeping one of two statutory texts would be worse than not starting.
    """
    index: dict[str, StatutoryAffair] = {}
    for affair in affairs:
        if affair.code in index:
            raise DuplicateAffairCode(affair.code)
        index[affair.code] = affair
    return index


# --------------------------------------------------------------------------------------------
# Items provided
# --------------------------------------------------------------------------------------------


class IdentityItem(StrEnum):
    """The identity-confirmation items (本人確認情報) an affair can be given (domain.md §2)."""

    NAME = "name"
    BIRTH_DATE = "birth_date"
    SEX = "sex"
    ADDRESS = "address"
    RESIDENT_CODE = "resident_code"
    CHANGE_INFO = "change_info"

    @property
    def label_ja(self) -> str:
        """Japanese name of the item."""
        return _ITEM_LABELS[self][0]

    @property
    def label_en(self) -> str:
        """English name of the item."""
        return _ITEM_LABELS[self][1]


_ITEM_LABELS: Final[Mapping[IdentityItem, tuple[str, str]]] = {
    IdentityItem.NAME: ("氏名", "name"),
    IdentityItem.BIRTH_DATE: ("生年月日", "date of birth"),
    IdentityItem.SEX: ("性別", "sex"),
    IdentityItem.ADDRESS: ("住所", "address"),
    IdentityItem.RESIDENT_CODE: ("住民票コード", "resident code"),
    IdentityItem.CHANGE_INFO: ("変更情報", "change information"),
}

#: The four basic items (基本4情報).
BASIC_ITEMS: Final = frozenset(
    {IdentityItem.NAME, IdentityItem.BIRTH_DATE, IdentityItem.SEX, IdentityItem.ADDRESS}
)
#: What an affair gets unless overridden — **an assumption**: the real per-affair item lists are
#: set by ministerial ordinance (総務省令) and are not in our data, so every affair gets the four
#: basic items, the resident code and the change information.
DEFAULT_AFFAIR_ITEMS: Final = frozenset(IdentityItem)


def _check_items(items: Iterable[IdentityItem], code: str | None) -> frozenset[IdentityItem]:
    result = frozenset(IdentityItem(item) for item in items)
    if not result:
        raise InvalidItemPolicy(code)
    return result


@dataclass(frozen=True, slots=True)
class ItemPolicy:
    """Which items each affair is given: a default and per-affair overrides, keyed by code.

    The overrides are data (a mapping), not code: when the ordinance's item lists are known they
    can be loaded without touching the rules. Override keys are canonicalised with
    :func:`parse_affair_code`; whether they name real affairs is checked by
    :meth:`check_codes` (the registry does that when it is given a policy).
    """

    default: frozenset[IdentityItem] = DEFAULT_AFFAIR_ITEMS
    overrides: Mapping[str, frozenset[IdentityItem]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "default", _check_items(self.default, None))
        overrides = {
            parse_affair_code(code): _check_items(items, code)
            for code, items in self.overrides.items()
        }
        object.__setattr__(self, "overrides", MappingProxyType(overrides))

    def items_for(self, affair_code: str) -> frozenset[IdentityItem]:
        """The items affair ``affair_code`` is given."""
        return self.overrides.get(parse_affair_code(affair_code), self.default)

    def with_override(self, affair_code: str, items: Iterable[IdentityItem]) -> ItemPolicy:
        """A new policy in which ``affair_code`` is given exactly ``items``."""
        return ItemPolicy(
            default=self.default, overrides={**self.overrides, affair_code: frozenset(items)}
        )

    def check_codes(self, affairs: Mapping[str, StatutoryAffair]) -> None:
        """Raise :class:`UnknownAffair` for an override naming no affair in ``affairs``."""
        for code in self.overrides:
            if code not in affairs:
                raise UnknownAffair(code)
