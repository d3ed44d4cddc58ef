"""The resident register (住民基本台帳): the record, households and the rules of counter work.

Pure Python. Records are immutable values; each rule returns a new record or raises a
:class:`~jukinet.domain.errors.DomainError`. Storage and services decide how versions are kept.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

from jukinet.domain.addresses import MAX_ADDRESS_LENGTH, validate_address
from jukinet.domain.errors import Conflict, ValidationError
from jukinet.domain.identity import ChangeReason, IdentityInfo
from jukinet.domain.names import PersonName, validate_name
from jukinet.domain.wareki import EARLIEST_DATE

#: The Act asks residents to file within 14 days of the event (art. 22–25).
FILING_WINDOW = timedelta(days=14)
#: A move-out may be filed in advance; we accept planned dates up to this far ahead.
MOVE_OUT_ADVANCE_LIMIT = timedelta(days=90)
MAX_DOMICILE_LENGTH = 200


class Sex(StrEnum):
    """Sex as the register records it (性別)."""

    MALE = "male"
    FEMALE = "female"

    @property
    def label_ja(self) -> str:
        """男 or 女."""
        return "男" if self is Sex.MALE else "女"


class Relationship(StrEnum):
    """Relationship to the household head (続柄)."""

    HEAD = "head"
    WIFE = "wife"
    HUSBAND = "husband"
    CHILD = "child"
    FATHER = "father"
    MOTHER = "mother"
    GRANDCHILD = "grandchild"
    SIBLING = "sibling"
    OTHER_RELATIVE = "other_relative"
    COHABITANT = "cohabitant"

    @property
    def label_ja(self) -> str:
        """The relationship as printed on a 住民票."""
        return _RELATIONSHIP_LABELS[self]


_RELATIONSHIP_LABELS = {
    Relationship.HEAD: "世帯主",
    Relationship.WIFE: "妻",
    Relationship.HUSBAND: "夫",
    Relationship.CHILD: "子",
    Relationship.FATHER: "父",
    Relationship.MOTHER: "母",
    Relationship.GRANDCHILD: "孫",
    Relationship.SIBLING: "兄弟姉妹",
    Relationship.OTHER_RELATIVE: "その他の親族",
    Relationship.COHABITANT: "同居人",
}


class RecordStatus(StrEnum):
    """A record is either on the register or a 除票 (removed record), kept and readable."""

    ACTIVE = "active"
    REMOVED = "removed"


@dataclass(frozen=True, slots=True)
class Insurance:
    """Insurance and benefit status kept on the 住民票 (art. 7 items 10–11); never sent upstream."""

    national_health_insurance: bool = False
    late_elderly_insurance: bool = False
    long_term_care_insurance: bool = False
    national_pension: bool = False
    child_allowance: bool = False


@dataclass(frozen=True, slots=True)
class ResidentRecord:
    """One 住民票: the items of art. 7 of the Basic Resident Registers Act."""

    resident_code: str
    municipality_code: str
    name: PersonName
    birth_date: date
    sex: Sex
    household_number: str
    relationship: Relationship
    address: str
    became_resident_on: date
    address_since: date
    previous_address: str | None = None
    domicile: str | None = None
    domicile_head: str | None = None
    insurance: Insurance = field(default_factory=Insurance)
    status: RecordStatus = RecordStatus.ACTIVE
    removal_reason: ChangeReason | None = None
    removed_on: date | None = None
    destination: str | None = None
    #: The resident asked not to be reported upstream (only where the municipality allows it).
    upstream_opt_out: bool = False

    @property
    def is_active(self) -> bool:
        """Whether the record is on the register (not a 除票)."""
        return self.status is RecordStatus.ACTIVE

    @property
    def is_head(self) -> bool:
        """Whether this resident heads their household."""
        return self.relationship is Relationship.HEAD

    def identity(self) -> IdentityInfo:
        """The identity-confirmation items of this record."""
        return IdentityInfo(
            resident_code=self.resident_code,
            family_name=self.name.family,
            given_name=self.name.given,
            family_name_kana=self.name.family_kana,
            given_name_kana=self.name.given_kana,
            birth_date=self.birth_date,
            sex=self.sex.value,
            address=self.address,
            family_name_mj=self.name.family_mj,
            given_name_mj=self.name.given_mj,
        )


@dataclass(frozen=True, slots=True)
class Filing:
    """When a notification (届出) was made against when the event happened."""

    event_date: date
    filed_on: date
    late: bool


def require_reason_note(value: str, *, act_ja: str, act_en: str) -> str:
    """The reason for an ex-officio act (職権), which the register must always record."""
    note = validate_optional_text(value, field="reason_note", max_length=400)
    if note is None:
        raise ValidationError(
            "JUKI-REG-035",
            ja=f"{act_ja}の理由を入力してください。",
            en=f"Give the reason for the {act_en}.",
            field="reason_note",
        )
    return note


def validate_optional_text(value: str | None, *, field: str, max_length: int) -> str | None:
    """Optional free text (domicile, destination): empty becomes ``None``; bounded length."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if len(text) > max_length or any(ord(c) < 0x20 for c in text):
        raise ValidationError(
            "JUKI-REG-003",
            ja=f"{max_length}文字以内で、制御文字を含めないでください。",
            en=f"At most {max_length} characters without control characters.",
            field=field,
        )
    return text


def validate_birth_date(birth_date: date, *, today: date) -> date:
    """No one is born in the future, nor before the register's first era (明治, 1868-10-23):
    a date the register cannot write in 和暦 is refused before anything is stored."""
    if birth_date < EARLIEST_DATE:
        raise ValidationError(
            "JUKI-REG-037",
            ja="生年月日は明治元年10月23日以降の日付を入力してください。",
            en="The date of birth must be on or after 23 Oct 1868 (the start of Meiji).",
            field="birth_date",
        )
    if birth_date > today:
        raise ValidationError(
            "JUKI-REG-004",
            ja="生年月日に未来の日付は指定できません。",
            en="The date of birth cannot be in the future.",
            field="birth_date",
        )
    return birth_date


def check_filing(
    *, event_date: date, filed_on: date, today: date, field: str = "event_date"
) -> Filing:
    """Check a notification's dates; a late filing is accepted and flagged, never refused.

    The Act fines late filers (art. 52), it does not refuse their notification.
    """
    if filed_on > today:
        raise ValidationError(
            "JUKI-REG-005",
            ja="届出日に未来の日付は指定できません。",
            en="The filing date cannot be in the future.",
            field="filed_on",
        )
    if event_date > filed_on:
        raise ValidationError(
            "JUKI-REG-006",
            ja="異動日は届出日より後にできません。",
            en="The date of the event cannot be after the filing date.",
            field=field,
        )
    return Filing(
        event_date=event_date, filed_on=filed_on, late=filed_on - event_date > FILING_WINDOW
    )


def check_move_out_dates(*, planned_on: date, filed_on: date, today: date) -> Filing:
    """A move-out is filed in advance (or within 14 days after the move)."""
    if filed_on > today:
        raise ValidationError(
            "JUKI-REG-005",
            ja="届出日に未来の日付は指定できません。",
            en="The filing date cannot be in the future.",
            field="filed_on",
        )
    if planned_on - filed_on > MOVE_OUT_ADVANCE_LIMIT:
        raise ValidationError(
            "JUKI-REG-007",
            ja="転出予定日は届出日から90日以内にしてください。",
            en="The planned move-out date must be within 90 days of the filing date.",
            field="planned_on",
        )
    return Filing(
        event_date=planned_on, filed_on=filed_on, late=filed_on - planned_on > FILING_WINDOW
    )


def ensure_active(record: ResidentRecord) -> None:
    """Counter events apply to records on the register; a 除票 only takes corrections."""
    if not record.is_active:
        raise Conflict(
            "JUKI-REG-010",
            ja="この住民票は消除されています（除票）。職権修正以外の異動はできません。",
            en="This record has been removed (除票); only an ex-officio correction is possible.",
            field="resident_code",
        )


def ensure_expected_version(*, current: int, expected: int | None) -> None:
    """Refuse a change made on a stale screen: another clerk changed the record meanwhile."""
    if expected is not None and expected != current:
        raise Conflict(
            "JUKI-REG-011",
            ja="この住民票は他の操作者によって更新されました。最新の内容を確認してください。",
            en="Another operator has changed this record; reload it and try again.",
            field="version",
        )


def move_within(record: ResidentRecord, *, address: str, moved_on: date) -> ResidentRecord:
    """転居: a new address inside the municipality; the old one becomes the previous address."""
    ensure_active(record)
    new_address = validate_address(address)
    if new_address == record.address:
        raise ValidationError(
            "JUKI-REG-012",
            ja="新しい住所が現在の住所と同じです。",
            en="The new address is the same as the current one.",
            field="address",
        )
    return dataclasses.replace(
        record, address=new_address, previous_address=record.address, address_since=moved_on
    )


def move_out(record: ResidentRecord, *, destination: str, planned_on: date) -> ResidentRecord:
    """転出: the record becomes a 除票 as of the planned date, with the destination kept."""
    ensure_active(record)
    dest = validate_optional_text(destination, field="destination", max_length=MAX_ADDRESS_LENGTH)
    if dest is None:
        raise ValidationError(
            "JUKI-REG-013",
            ja="転出先を入力してください。",
            en="The destination is required.",
            field="destination",
        )
    return dataclasses.replace(
        record,
        status=RecordStatus.REMOVED,
        removal_reason=ChangeReason.MOVE_OUT,
        removed_on=planned_on,
        destination=dest,
    )


def die(record: ResidentRecord, *, died_on: date) -> ResidentRecord:
    """死亡: the record becomes a 除票."""
    ensure_active(record)
    if died_on < record.birth_date:
        raise ValidationError(
            "JUKI-REG-014",
            ja="死亡日が生年月日より前です。",
            en="The date of death is before the date of birth.",
            field="died_on",
        )
    return dataclasses.replace(
        record, status=RecordStatus.REMOVED, removal_reason=ChangeReason.DEATH, removed_on=died_on
    )


def delete_ex_officio(record: ResidentRecord, *, deleted_on: date) -> ResidentRecord:
    """職権消除: the municipality removes a record on its own authority.

    Used, for example, when the person is found to no longer live here.
    """
    ensure_active(record)
    return dataclasses.replace(
        record,
        status=RecordStatus.REMOVED,
        removal_reason=ChangeReason.EX_OFFICIO_DELETION,
        removed_on=deleted_on,
    )


def change_name(record: ResidentRecord, *, name: PersonName) -> ResidentRecord:
    """氏名変更 (marriage, adoption, court permission)."""
    ensure_active(record)
    if name == record.name:
        raise ValidationError(
            "JUKI-REG-015",
            ja="新しい氏名が現在の氏名と同じです。",
            en="The new name is the same as the current one.",
            field="family_name",
        )
    return dataclasses.replace(record, name=name)


def change_code(record: ResidentRecord, *, new_code: str) -> ResidentRecord:
    """住民票コード変更 on request: a fresh code from the pool; the old one is retired for ever."""
    ensure_active(record)
    return dataclasses.replace(record, resident_code=new_code)


#: Items an ex-officio correction (職権修正) may set; the resident code is changed only on request.
CORRECTABLE_ITEMS = frozenset(
    {
        "name",
        "birth_date",
        "sex",
        "address",
        "previous_address",
        "domicile",
        "domicile_head",
        "became_resident_on",
        "address_since",
        "insurance",
        "relationship",
    }
)


def correct(record: ResidentRecord, *, today: date, **items: object) -> ResidentRecord:
    """職権修正: correct recorded items; allowed on a 除票 too, since history must be right."""
    unknown = set(items) - CORRECTABLE_ITEMS
    if unknown or not items:
        raise ValidationError(
            "JUKI-REG-016",
            ja="修正できる項目を1つ以上指定してください。",
            en="Name at least one correctable item.",
            field="items",
        )
    # Item names were checked against CORRECTABLE_ITEMS above; their values were validated by
    # the service, and validate_birth_date below re-checks the one rule the record enforces.
    corrected = dataclasses.replace(record, **items)  # type: ignore[arg-type]
    validate_birth_date(corrected.birth_date, today=today)
    if corrected == record:
        raise ValidationError(
            "JUKI-REG-017",
            ja="修正内容が現在の記載と同じです。",
            en="The correction does not change anything.",
            field="items",
        )
    return corrected


def validate_domicile(
    domicile: str | None, domicile_head: str | None
) -> tuple[str | None, str | None]:
    """本籍 and 筆頭者 go together: both or neither (foreign residents have neither)."""
    dom = validate_optional_text(domicile, field="domicile", max_length=MAX_DOMICILE_LENGTH)
    head = (
        None
        if domicile_head is None or not domicile_head.strip()
        else validate_name(domicile_head, field="domicile_head", max_length=40)
    )
    if (dom is None) != (head is None):
        raise ValidationError(
            "JUKI-REG-018",
            ja="本籍と筆頭者は両方とも入力してください。",
            en="Give both the family-register domicile and its head, or neither.",
            field="domicile_head" if head is None else "domicile",
        )
    return dom, head


def check_household(members: Iterable[ResidentRecord]) -> None:
    """A household on the register has exactly one head among its active members."""
    heads = [m for m in members if m.is_active and m.is_head]
    active = [m for m in members if m.is_active]
    if active and len(heads) == 0:
        raise ValidationError(
            "JUKI-REG-020",
            ja="世帯主がいません。世帯には世帯主が1人必要です。",
            en="The household has no head; a household needs exactly one head.",
            field="relationship",
        )
    if len(heads) > 1:
        raise ValidationError(
            "JUKI-REG-021",
            ja="世帯主は1世帯に1人です。",
            en="A household can have only one head.",
            field="relationship",
        )


def ensure_not_duplicate_birth(
    newborn_key: tuple[str, date], existing: Sequence[tuple[str, date]]
) -> None:
    """A second birth for the same person (same folded name and birth date in the household)."""
    if newborn_key in existing:
        raise Conflict(
            "JUKI-REG-022",
            ja="同じ世帯に同じ氏名・生年月日の住民が既に記載されています（出生届の重複）。",
            en="The household already has a resident with this name and date of birth "
            "(a duplicate birth notification).",
            field="given_name",
        )
