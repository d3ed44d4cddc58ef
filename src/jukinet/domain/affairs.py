"""Statutory affairs (別表第一〜第五) and the registry of who may use them, from when.

The Basic Resident Registers Act lets identity-confirmation information go only to the bodies
named in its appended tables, and only for the affair named beside them (design/domain.md §4.4,
§9 item 1). This module is pure — no I/O, no clock: the shipped table is read by
:mod:`jukinet.data.affairs` and the current date/time always comes from the caller.

What lives here:

* :class:`StatutoryAffair` — one row of an appended table with a stable code ``T<table>-<row>``
  (``T1-16`` is table 1 row 16, ``T1-1-2`` table 1 row 1-2 「一の二」).
* :class:`RecipientKind` (what a table's recipients are) and :class:`RecipientType` (what a
  registered recipient is), tied together by the table rule of :meth:`Recipient.may_use`.
* :class:`IdentityItem` and :class:`ItemPolicy` — which of the six items an affair gets.
* :class:`AffairRegistry` — the append-only, versioned record of grants and revocations, and
  :meth:`AffairRegistry.authorise`, the check a gateway runs **before** any personal data is read.

Error codes are ``JUKI-AFF-001`` … ``JUKI-AFF-016``; docs/affairs.md lists them. Messages name
affairs and recipients (public bodies), never a resident.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from jukinet.domain.errors import Conflict, NotFound, PermissionDenied, ValidationError
from jukinet.domain.municipality import validate_municipality_code

__all__ = [
    "AFFAIR_TABLES",
    "BASIC_ITEMS",
    "DEFAULT_AFFAIR_ITEMS",
    "PREFECTURES",
    "AffairNotAuthorised",
    "AffairOutOfScope",
    "AffairRegistry",
    "Authorisation",
    "DuplicateAffairCode",
    "EntryKind",
    "IdentityItem",
    "InvalidAffairCode",
    "InvalidItemPolicy",
    "InvalidRecipient",
    "InvalidRegistryEntry",
    "InvalidStatutoryAffair",
    "InvalidValidityPeriod",
    "ItemPolicy",
    "NothingToRevoke",
    "OutOfOrderEntry",
    "Recipient",
    "RecipientConflict",
    "RecipientKind",
    "RecipientType",
    "RegistryEntry",
    "RetroactiveRevocation",
    "StatutoryAffair",
    "TableNotPermitted",
    "UnknownAffair",
    "UnknownRecipient",
    "ValidityPeriod",
    "affair_code",
    "extract_law_name",
    "index_affairs",
    "parse_affair_code",
]

#: The appended tables of the Act that name recipients (別表第一〜第五).
AFFAIR_TABLES: Final = (1, 2, 3, 4, 5)

#: Japan has no daylight saving time: a fixed +09:00 offset gives the Japanese calendar date.
_JST: Final = timezone(timedelta(hours=9), "JST")

_ROW_RE: Final = re.compile(r"[1-9][0-9]*(?:-[1-9][0-9]*)*")
_CODE_RE: Final = re.compile(r"T([1-5])-([0-9]+(?:-[0-9]+)*)")
_RECIPIENT_ID_RE: Final = re.compile(r"[a-z][a-z0-9-]*:[a-z0-9][a-z0-9._-]*")
_RECIPIENT_ID_MAX: Final = 64
_ACTOR_MAX: Final = 100
_REASON_MAX: Final = 500

# 都道府県コード (JIS X 0401) and names, used to read table 3/5 rows that name one prefecture's
# governor (福島県知事, 沖縄県知事) and to validate recipients' prefecture codes.
_PREFECTURE_NAMES: Final = (
    "北海道", "青森県", "岩手県", "宮城県", "秋田県", "山形県", "福島県", "茨城県",
    "栃木県", "群馬県", "埼玉県", "千葉県", "東京都", "神奈川県", "新潟県", "富山県",
    "石川県", "福井県", "山梨県", "長野県", "岐阜県", "静岡県", "愛知県", "三重県",
    "滋賀県", "京都府", "大阪府", "兵庫県", "奈良県", "和歌山県", "鳥取県", "島根県",
    "岡山県", "広島県", "山口県", "徳島県", "香川県", "愛媛県", "高知県", "福岡県",
    "佐賀県", "長崎県", "熊本県", "大分県", "宮崎県", "鹿児島県", "沖縄県",
)  # fmt: skip
PREFECTURES: Final[Mapping[str, str]] = MappingProxyType(
    {f"{number:02d}": name for number, name in enumerate(_PREFECTURE_NAMES, start=1)}
)


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


class AffairNotAuthorised(PermissionDenied):
    """``JUKI-AFF-001``: the recipient holds no valid grant for the affair on the date asked."""

    def __init__(self, affair_code: str, recipient_id: str, on: date) -> None:
        super().__init__(
            "JUKI-AFF-001",
            ja=(
                f"業務 {affair_code} は受領者 {recipient_id} に認められていません"
                f"（基準日 {on.isoformat()}）。"
            ),
            en=(
                f"affair {affair_code} is not authorised for recipient {recipient_id} "
                f"(on {on.isoformat()})."
            ),
            field="affair_code",
        )
        self.affair_code = affair_code
        self.recipient_id = recipient_id
        self.on = on


class UnknownAffair(NotFound):
    """``JUKI-AFF-002``: a well-formed affair code that names no row of the appended tables."""

    def __init__(self, affair_code: str) -> None:
        super().__init__(
            "JUKI-AFF-002",
            ja=f"affair_code: 業務 {affair_code} は別表にありません。",
            en=f"affair_code: affair {affair_code} is not in the appended tables.",
            field="affair_code",
        )
        self.affair_code = affair_code


class InvalidAffairCode(ValidationError):
    """``JUKI-AFF-003``: not of the form ``T<table 1-5>-<row>`` (e.g. ``T1-16``, ``T1-1-2``)."""

    def __init__(self) -> None:
        super().__init__(
            "JUKI-AFF-003",
            ja="affair_code: 業務コードは「T表番号-項番号」（例 T1-16, T1-1-2）の形式です。",
            en="affair_code: an affair code has the form T<table>-<row> (e.g. T1-16, T1-1-2).",
            field="affair_code",
        )


class UnknownRecipient(NotFound):
    """``JUKI-AFF-004``: no recipient is registered under this id."""

    def __init__(self, recipient_id: str) -> None:
        super().__init__(
            "JUKI-AFF-004",
            ja=f"recipient_id: 受領者 {recipient_id} は登録されていません。",
            en=f"recipient_id: recipient {recipient_id} is not registered.",
            field="recipient_id",
        )
        self.recipient_id = recipient_id


class TableNotPermitted(ValidationError):
    """``JUKI-AFF-005``: the affair's table is not for this kind of recipient (grant refused)."""

    def __init__(self, affair: StatutoryAffair, recipient: Recipient) -> None:
        super().__init__(
            "JUKI-AFF-005",
            ja=(
                f"affair_code: 業務 {affair.code}（{affair.citation_ja}）は"
                f"{affair.recipient_kind.label_ja}のための業務であり、"
                f"受領者 {recipient.id}（{recipient.kind.label_ja}）には認められません。"
            ),
            en=(
                f"affair_code: affair {affair.code} ({affair.citation_en}) is for a "
                f"{affair.recipient_kind.label_en}; recipient {recipient.id} is a "
                f"{recipient.kind.label_en}."
            ),
            field="affair_code",
        )
        self.affair_code = affair.code
        self.recipient_id = recipient.id


class AffairOutOfScope(PermissionDenied):
    """``JUKI-AFF-006``: the recipient holds the affair, but not towards this prefecture's data.

    Tables 2 and 5 cover the recipient's own prefecture, tables 3 and 4 the others.
    """

    def __init__(self, affair: StatutoryAffair, recipient_id: str, provider: str) -> None:
        super().__init__(
            "JUKI-AFF-006",
            ja=(
                f"業務 {affair.code} は{affair.recipient_kind.label_ja}の業務のため、受領者 "
                f"{recipient_id} は都道府県 {provider} からこの業務の提供を受けられません。"
            ),
            en=(
                f"affair {affair.code} is for a {affair.recipient_kind.label_en}; recipient "
                f"{recipient_id} may not receive it from prefecture {provider}."
            ),
            field="affair_code",
        )
        self.affair_code = affair.code
        self.recipient_id = recipient_id
        self.provider_prefecture_code = provider


class InvalidValidityPeriod(ValidationError):
    """``JUKI-AFF-007``: a grant's ``valid_until`` is not after its ``valid_from``."""

    def __init__(self) -> None:
        super().__init__(
            "JUKI-AFF-007",
            ja="valid_until: 有効期間の終了日は開始日より後でなければなりません。",
            en="valid_until: the end of the validity period must be after its start.",
            field="valid_until",
        )


class NothingToRevoke(Conflict):
    """``JUKI-AFF-008``: the recipient holds the affair on no day from the revocation date on."""

    def __init__(self, affair_code: str, recipient_id: str, effective_from: date) -> None:
        super().__init__(
            "JUKI-AFF-008",
            ja=(
                f"affair_code: 受領者 {recipient_id} の業務 {affair_code} には "
                f"{effective_from.isoformat()} 以降に取り消す利用権限がありません。"
            ),
            en=(
                f"affair_code: recipient {recipient_id} holds affair {affair_code} on no day "
                f"from {effective_from.isoformat()}; there is nothing to revoke."
            ),
            field="affair_code",
        )


class RetroactiveRevocation(ValidationError):
    """``JUKI-AFF-009``: a revocation may not take effect before the day it is recorded.

    Queries already answered under a grant stay lawful; a revocation only ends the future.
    """

    def __init__(self) -> None:
        super().__init__(
            "JUKI-AFF-009",
            ja="effective_from: 取消しは記録日（日本時間）より前に遡って効力を生じません。",
            en="effective_from: a revocation cannot take effect before the day (JST) it is "
            "recorded.",
            field="effective_from",
        )


class InvalidRecipient(ValidationError):
    """``JUKI-AFF-010``: a recipient's id, name, kind or codes break a rule."""

    def __init__(self, field_name: str, *, ja: str, en: str) -> None:
        super().__init__(
            "JUKI-AFF-010", ja=f"{field_name}: {ja}", en=f"{field_name}: {en}", field=field_name
        )


class RecipientConflict(Conflict):
    """``JUKI-AFF-011``: a different recipient is already registered under this id."""

    def __init__(self, recipient_id: str) -> None:
        super().__init__(
            "JUKI-AFF-011",
            ja=f"recipient_id: 受領者 {recipient_id} は別の内容で登録済みです。",
            en=f"recipient_id: recipient {recipient_id} is already registered differently.",
            field="recipient_id",
        )


class InvalidRegistryEntry(ValidationError):
    """``JUKI-AFF-012``: who decided, when it was recorded or why is missing or malformed."""

    def __init__(self, field_name: str, *, ja: str, en: str) -> None:
        super().__init__(
            "JUKI-AFF-012", ja=f"{field_name}: {ja}", en=f"{field_name}: {en}", field=field_name
        )


class OutOfOrderEntry(Conflict):
    """``JUKI-AFF-013``: an entry would break the log's order (sequence gap, time going back)."""

    def __init__(self, *, ja: str, en: str) -> None:
        super().__init__("JUKI-AFF-013", ja=ja, en=en, field="sequence")


class DuplicateAffairCode(Conflict):
    """``JUKI-AFF-014``: two rows of the appended tables would get the same code."""

    def __init__(self, affair_code: str) -> None:
        super().__init__(
            "JUKI-AFF-014",
            ja=f"affair_code: 業務コード {affair_code} が重複しています。",
            en=f"affair_code: affair code {affair_code} occurs twice.",
            field="affair_code",
        )
        self.affair_code = affair_code


class InvalidStatutoryAffair(ValidationError):
    """``JUKI-AFF-015``: a row of the appended tables is malformed (table, row or empty text)."""

    def __init__(self, field_name: str, *, ja: str, en: str) -> None:
        super().__init__(
            "JUKI-AFF-015", ja=f"{field_name}: {ja}", en=f"{field_name}: {en}", field=field_name
        )


class InvalidItemPolicy(ValidationError):
    """``JUKI-AFF-016``: an affair would be given no items at all."""

    def __init__(self, affair_code: str | None) -> None:
        what = "default" if affair_code is None else affair_code
        super().__init__(
            "JUKI-AFF-016",
            ja=f"items: 提供項目が空です（{what}）。",
            en=f"items: the set of items provided is empty ({what}).",
            field="items",
        )


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


# --------------------------------------------------------------------------------------------
# Recipients
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Recipient:
    """A body that may be registered to receive identity information for some affairs.

    ``id`` is a stable lower-case handle such as ``agency:soumu-onkyu`` or ``pref:13``.
    A national body has no prefecture; a prefectural or municipal organ has its 2-digit
    prefecture code (JIS X 0401), and a municipal organ may also carry its 6-digit
    municipality code, which must lie in that prefecture.
    """

    id: str
    name: str
    kind: RecipientType
    prefecture_code: str | None = None
    municipality_code: str | None = None

    def __post_init__(self) -> None:
        if (
            not isinstance(self.id, str)
            or len(self.id) > _RECIPIENT_ID_MAX
            or _RECIPIENT_ID_RE.fullmatch(self.id) is None
        ):
            raise InvalidRecipient(
                "id",
                ja="受領者IDは「agency:soumu-onkyu」のような英小文字の識別子です（64文字以内）。",
                en="a recipient id is a lower-case handle like agency:soumu-onkyu (≤ 64 chars).",
            )
        if not isinstance(self.name, str) or not self.name.strip():
            raise InvalidRecipient("name", ja="名称が空です。", en="the name is empty.")
        try:
            object.__setattr__(self, "kind", RecipientType(self.kind))
        except ValueError:
            raise InvalidRecipient(
                "kind",
                ja="種別は national_body / prefecture / municipal_organ のいずれかです。",
                en="the kind is national_body, prefecture or municipal_organ.",
            ) from None
        if self.kind is RecipientType.NATIONAL_BODY:
            if self.prefecture_code is not None or self.municipality_code is not None:
                raise InvalidRecipient(
                    "prefecture_code",
                    ja="国の機関等に都道府県・市町村コードはありません。",
                    en="a national body has no prefecture or municipality code.",
                )
            return
        if self.prefecture_code not in PREFECTURES:
            raise InvalidRecipient(
                "prefecture_code",
                ja="都道府県コードは01から47の2桁です。",
                en="a prefecture code is two digits, 01 to 47.",
            )
        if self.municipality_code is None:
            return
        if self.kind is RecipientType.PREFECTURE:
            raise InvalidRecipient(
                "municipality_code",
                ja="都道府県の執行機関に市町村コードはありません。",
                en="a prefectural organ has no municipality code.",
            )
        code = validate_municipality_code(self.municipality_code)
        if code[:2] != self.prefecture_code:
            raise InvalidRecipient(
                "municipality_code",
                ja="市町村コードが都道府県コードと一致しません。",
                en="the municipality code is not in the recipient's prefecture.",
            )
        object.__setattr__(self, "municipality_code", code)

    def may_use(self, affair: StatutoryAffair) -> bool:
        """The table rule: may a recipient of this type ever be granted ``affair``?

        Table 1 is for national bodies (and the corporations listed there), tables 2 and 4 for
        municipal organs, tables 3 and 5 for prefectural organs. A table 3/5 row naming one
        governor (福島県知事, 沖縄県知事) is further limited to that prefecture. Finer wording
        (指定都市の長, 広島市又は長崎市の長, 政令で定める市の長) is not checked: that reading is
        left to the official who grants.
        """
        if self.kind is not affair.recipient_kind.recipient_type:
            return False
        named = affair.named_prefecture_code
        return named is None or named == self.prefecture_code

    def may_receive_from(self, affair: StatutoryAffair, provider_prefecture_code: str) -> bool:
        """The scope rule: may ``affair`` be answered with prefecture ``provider``'s data?

        Tables 2 and 5 cover the recipient's own prefecture, tables 3 and 4 only other
        prefectures; table 1 any prefecture.
        """
        same = affair.recipient_kind.same_prefecture
        if same is None:
            return True
        return (provider_prefecture_code == self.prefecture_code) is same


# --------------------------------------------------------------------------------------------
# The registry
# --------------------------------------------------------------------------------------------


class EntryKind(StrEnum):
    """What a registry entry records."""

    GRANT = "grant"
    REVOKE = "revoke"


@dataclass(frozen=True, slots=True)
class ValidityPeriod:
    """Days ``start`` (inclusive) to ``end`` (exclusive); ``end`` ``None`` means open-ended."""

    start: date
    end: date | None

    def contains(self, day: date) -> bool:
        """Whether ``day`` lies in the period."""
        return self.start <= day and (self.end is None or day < self.end)


@dataclass(frozen=True, slots=True)
class RegistryEntry:
    """One append-only entry of the affair registry; never edited once written.

    A ``GRANT`` makes ``affair_code`` usable by ``recipient_id`` on the days
    ``[valid_from, valid_until)`` (``valid_until`` ``None``: until revoked). A ``REVOKE`` ends
    every grant of that pair from ``valid_from`` on (its ``valid_until`` is always ``None``).
    Later entries prevail over earlier ones for the days they speak about. ``decided_by`` is the
    official who granted or revoked; ``recorded_at`` is when the entry was written (aware).
    """

    sequence: int
    kind: EntryKind
    recipient_id: str
    affair_code: str
    valid_from: date
    valid_until: date | None
    decided_by: str
    recorded_at: datetime
    reason: str | None = None

    @property
    def period(self) -> ValidityPeriod:
        """The days the entry speaks about."""
        return ValidityPeriod(self.valid_from, self.valid_until)


@dataclass(frozen=True, slots=True)
class Authorisation:
    """The outcome of a successful :meth:`AffairRegistry.authorise`: go ahead, with these items."""

    recipient: Recipient
    affair: StatutoryAffair
    on: date
    items: frozenset[IdentityItem]

    @property
    def ordered_items(self) -> tuple[IdentityItem, ...]:
        """``items`` in the canonical order of :class:`IdentityItem`."""
        return tuple(item for item in IdentityItem if item in self.items)


# Periods as half-open ordinal intervals, sorted, disjoint and never touching.
_Spans = list[tuple[int, int]]
_OPEN: Final = date.max.toordinal() + 1


def _span_add(spans: _Spans, start: int, end: int) -> _Spans:
    result: _Spans = []
    for s, e in spans:
        if e < start or s > end:
            result.append((s, e))
        else:
            start, end = min(s, start), max(e, end)
    result.append((start, end))
    result.sort()
    return result


def _span_cut(spans: _Spans, cut: int) -> _Spans:
    return [(s, min(e, cut)) for s, e in spans if s < cut]


def _apply(spans: _Spans, entry: RegistryEntry) -> _Spans:
    start = entry.valid_from.toordinal()
    if entry.kind is EntryKind.REVOKE:
        return _span_cut(spans, start)
    end = _OPEN if entry.valid_until is None else entry.valid_until.toordinal()
    return _span_add(spans, start, end)


def _contains(spans: _Spans, day: int) -> bool:
    index = bisect.bisect_right(spans, (day, _OPEN + 1)) - 1
    return index >= 0 and spans[index][0] <= day < spans[index][1]


def _to_periods(spans: _Spans) -> tuple[ValidityPeriod, ...]:
    return tuple(
        ValidityPeriod(date.fromordinal(s), None if e == _OPEN else date.fromordinal(e))
        for s, e in spans
    )


def _check_text(value: object, field_name: str, limit: int) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise InvalidRegistryEntry(
            field_name,
            ja=f"1文字以上{limit}文字以内で入力してください。",
            en=f"must be 1 to {limit} characters.",
        )
    return value


class AffairRegistry:
    """Who may use which affair, from when: an append-only, replayable log of decisions.

    Grants and revocations are appended as :class:`RegistryEntry` with a contiguous sequence
    number starting at 1; no entry is ever changed or removed, so the registry as it stood after
    any entry can be replayed (``as_of_sequence``). Revocation is a new entry that ends
    validity; it cannot reach back before the day it is recorded, so queries answered under a
    grant stay lawful. ``recorded_at`` never goes backwards.

    Build an empty registry over the affair catalogue, or rebuild a stored one by passing its
    ``recipients`` and ``entries`` (they are replayed and checked like new ones).
    """

    def __init__(
        self,
        affairs: Mapping[str, StatutoryAffair],
        *,
        recipients: Iterable[Recipient] = (),
        entries: Iterable[RegistryEntry] = (),
        items: ItemPolicy | None = None,
    ) -> None:
        self._affairs = affairs
        self._items = items if items is not None else ItemPolicy()
        self._items.check_codes(affairs)
        self._recipients: dict[str, Recipient] = {}
        self._entries: list[RegistryEntry] = []
        self._spans: dict[tuple[str, str], _Spans] = {}
        for recipient in recipients:
            self.register_recipient(recipient)
        for entry in entries:
            self._replay(entry)

    # -- look-ups ------------------------------------------------------------------------------

    @property
    def items(self) -> ItemPolicy:
        """The item policy applied by :meth:`authorise`."""
        return self._items

    @property
    def recipients(self) -> Mapping[str, Recipient]:
        """The registered recipients by id (read-only view)."""
        return MappingProxyType(self._recipients)

    @property
    def entries(self) -> tuple[RegistryEntry, ...]:
        """Every entry, in sequence order."""
        return tuple(self._entries)

    def affair(self, code: str) -> StatutoryAffair:
        """The affair ``code`` (raises :class:`InvalidAffairCode` / :class:`UnknownAffair`)."""
        canonical = parse_affair_code(code)
        found = self._affairs.get(canonical)
        if found is None:
            raise UnknownAffair(canonical)
        return found

    def recipient(self, recipient_id: str) -> Recipient:
        """The recipient ``recipient_id`` (raises :class:`UnknownRecipient`)."""
        found = self._recipients.get(recipient_id)
        if found is None:
            raise UnknownRecipient(recipient_id)
        return found

    # -- changes -------------------------------------------------------------------------------

    def register_recipient(self, recipient: Recipient) -> Recipient:
        """Register ``recipient``; registering the very same recipient again changes nothing.

        A different recipient under an id already taken is refused (:class:`RecipientConflict`):
        ids are referred to by the log and must keep meaning the same body.
        """
        known = self._recipients.get(recipient.id)
        if known is not None and known != recipient:
            raise RecipientConflict(recipient.id)
        self._recipients[recipient.id] = recipient
        return recipient

    def grant(
        self,
        recipient_id: str,
        affair_code: str,
        *,
        valid_from: date,
        valid_until: date | None = None,
        granted_by: str,
        recorded_at: datetime,
        reason: str | None = None,
    ) -> RegistryEntry:
        """Let ``recipient_id`` use ``affair_code`` on ``[valid_from, valid_until)``.

        Refused when the affair's table is not for this kind of recipient
        (:class:`TableNotPermitted`), when ``valid_until`` is not after ``valid_from``
        (:class:`InvalidValidityPeriod`), and for unknown recipients/affairs. A grant may start
        in the past (to record a registry kept elsewhere before); later entries prevail.
        """
        entry = RegistryEntry(
            sequence=len(self._entries) + 1,
            kind=EntryKind.GRANT,
            recipient_id=recipient_id,
            affair_code=affair_code,
            valid_from=valid_from,
            valid_until=valid_until,
            decided_by=granted_by,
            recorded_at=recorded_at,
            reason=reason,
        )
        return self._append(entry)

    def revoke(
        self,
        recipient_id: str,
        affair_code: str,
        *,
        effective_from: date,
        revoked_by: str,
        recorded_at: datetime,
        reason: str | None = None,
    ) -> RegistryEntry:
        """End ``recipient_id``'s use of ``affair_code`` from ``effective_from`` (inclusive) on.

        Refused when it would take effect before the Japanese date of ``recorded_at``
        (:class:`RetroactiveRevocation`) and when the recipient holds the affair on no day
        from ``effective_from`` on (:class:`NothingToRevoke`).
        """
        entry = RegistryEntry(
            sequence=len(self._entries) + 1,
            kind=EntryKind.REVOKE,
            recipient_id=recipient_id,
            affair_code=affair_code,
            valid_from=effective_from,
            valid_until=None,
            decided_by=revoked_by,
            recorded_at=recorded_at,
            reason=reason,
        )
        return self._append(entry)

    def _replay(self, entry: RegistryEntry) -> None:
        if entry.sequence != len(self._entries) + 1:
            raise OutOfOrderEntry(
                ja=f"sequence: 登録簿の記録番号が連続していません（{entry.sequence}）。",
                en=f"sequence: registry entries must be numbered without gaps ({entry.sequence}).",
            )
        self._append(entry)

    def _append(self, entry: RegistryEntry) -> RegistryEntry:
        entry = self._checked(entry)
        key = (entry.recipient_id, entry.affair_code)
        self._spans[key] = _apply(self._spans.get(key, []), entry)
        self._entries.append(entry)
        return entry

    def _checked(self, entry: RegistryEntry) -> RegistryEntry:
        recipient = self.recipient(entry.recipient_id)
        affair = self.affair(entry.affair_code)
        decided_by = _check_text(entry.decided_by, "decided_by", _ACTOR_MAX)
        reason = None if entry.reason is None else _check_text(entry.reason, "reason", _REASON_MAX)
        recorded_at = entry.recorded_at
        if not isinstance(recorded_at, datetime) or recorded_at.utcoffset() is None:
            raise InvalidRegistryEntry(
                "recorded_at",
                ja="記録日時はタイムゾーン付きでなければなりません。",
                en="the recording time must carry a time zone.",
            )
        if self._entries and recorded_at < self._entries[-1].recorded_at:
            raise OutOfOrderEntry(
                ja="recorded_at: 記録日時が直前の記録より前です。",
                en="recorded_at: an entry cannot be recorded before the previous one.",
            )
        if entry.kind is EntryKind.GRANT:
            if not recipient.may_use(affair):
                raise TableNotPermitted(affair, recipient)
            if entry.valid_until is not None and entry.valid_until <= entry.valid_from:
                raise InvalidValidityPeriod()
        else:
            if entry.valid_until is not None:
                raise InvalidRegistryEntry(
                    "valid_until",
                    ja="取消しに終了日はありません。",
                    en="a revocation has no end date.",
                )
            if entry.valid_from < recorded_at.astimezone(_JST).date():
                raise RetroactiveRevocation()
            spans = self._spans.get((recipient.id, affair.code), [])
            if not spans or spans[-1][1] <= entry.valid_from.toordinal():
                raise NothingToRevoke(affair.code, recipient.id, entry.valid_from)
        return RegistryEntry(
            sequence=entry.sequence,
            kind=EntryKind(entry.kind),
            recipient_id=recipient.id,
            affair_code=affair.code,
            valid_from=entry.valid_from,
            valid_until=entry.valid_until,
            decided_by=decided_by,
            recorded_at=recorded_at,
            reason=reason,
        )

    # -- questions -----------------------------------------------------------------------------

    def _spans_for(self, recipient_id: str, affair_code: str, as_of_sequence: int | None) -> _Spans:
        if as_of_sequence is None:
            return self._spans.get((recipient_id, affair_code), [])
        spans: _Spans = []
        for entry in self._entries[: max(as_of_sequence, 0)]:
            if entry.recipient_id == recipient_id and entry.affair_code == affair_code:
                spans = _apply(spans, entry)
        return spans

    def is_authorised(
        self,
        recipient_id: str,
        affair_code: str,
        on: date,
        *,
        as_of_sequence: int | None = None,
    ) -> bool:
        """Whether ``recipient_id`` may use ``affair_code`` on day ``on``.

        Never raises: an unknown recipient or a malformed/unknown code is simply not
        authorised. ``as_of_sequence`` answers as the registry stood after that entry.
        """
        try:
            code = parse_affair_code(affair_code)
        except InvalidAffairCode:
            return False
        return _contains(self._spans_for(recipient_id, code, as_of_sequence), on.toordinal())

    def authorise(
        self,
        recipient_id: str,
        affair_code: str,
        *,
        on: date,
        provider_prefecture_code: str | None = None,
    ) -> Authorisation:
        """The purpose check: run it **before** any personal data is read.

        Returns the :class:`Authorisation` with the items the affair may be given, or raises:
        :class:`InvalidAffairCode` / :class:`UnknownAffair` for a bad code,
        :class:`UnknownRecipient`, :class:`AffairNotAuthorised` (``JUKI-AFF-001``, naming the
        affair) when no grant covers ``on``, and :class:`AffairOutOfScope` when
        ``provider_prefecture_code`` — the prefecture whose residents' data would be provided,
        known to the answering node before it reads anything — is outside the table's scope.
        Pass ``None`` where the answering node does not act for one prefecture.
        """
        affair = self.affair(affair_code)
        recipient = self.recipient(recipient_id)
        if not _contains(self._spans.get((recipient.id, affair.code), []), on.toordinal()):
            raise AffairNotAuthorised(affair.code, recipient.id, on)
        if provider_prefecture_code is not None and not recipient.may_receive_from(
            affair, provider_prefecture_code
        ):
            raise AffairOutOfScope(affair, recipient.id, provider_prefecture_code)
        return Authorisation(
            recipient=recipient, affair=affair, on=on, items=self._items.items_for(affair.code)
        )

    def history(self, recipient_id: str) -> tuple[RegistryEntry, ...]:
        """Every grant and revocation concerning ``recipient_id``, oldest first.

        Each entry says what (affair), from when to when, who decided and when it was recorded.
        Raises :class:`UnknownRecipient` for an id never registered.
        """
        self.recipient(recipient_id)
        return tuple(entry for entry in self._entries if entry.recipient_id == recipient_id)

    def periods(
        self, recipient_id: str, affair_code: str, *, as_of_sequence: int | None = None
    ) -> tuple[ValidityPeriod, ...]:
        """The days on which ``recipient_id`` may use ``affair_code``, as merged periods."""
        code = parse_affair_code(affair_code)
        return _to_periods(self._spans_for(recipient_id, code, as_of_sequence))

    def affairs_for(self, recipient_id: str, on: date) -> tuple[StatutoryAffair, ...]:
        """The affairs ``recipient_id`` may use on ``on``, in statutory order."""
        day = on.toordinal()
        found = [
            self._affairs[code]
            for (rid, code), spans in self._spans.items()
            if rid == recipient_id and _contains(spans, day)
        ]
        return tuple(sorted(found, key=lambda affair: affair.sort_key))

    def holders(self, affair_code: str, on: date) -> tuple[str, ...]:
        """The ids of the recipients that may use ``affair_code`` on ``on``, sorted."""
        code = parse_affair_code(affair_code)
        day = on.toordinal()
        return tuple(
            sorted(
                rid
                for (rid, held), spans in self._spans.items()
                if held == code and _contains(spans, day)
            )
        )
