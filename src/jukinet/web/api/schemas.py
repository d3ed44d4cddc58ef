"""Request and response bodies of the JSON API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, WithJsonSchema
from pydantic_core import PydanticCustomError

from jukinet.domain.codes import mask_resident_code
from jukinet.domain.errors import DomainError
from jukinet.domain.register import Insurance, Relationship, Sex
from jukinet.domain.wareki import format_wareki, parse_date
from jukinet.services.register import MoveIn, PersonInput
from jukinet.services.views import HistoryEntry, RecordView
from jukinet.web.errors import JUKI_ERROR

ResidentCode = Annotated[
    str,
    Field(
        min_length=1, max_length=20, description="住民票コード: 11 digits, the last a check digit"
    ),
]
NameText = Annotated[str, Field(min_length=1, max_length=100)]
Address = Annotated[str, Field(min_length=1, max_length=300)]
OptionalText = Annotated[str | None, Field(default=None, max_length=300)]


class Strict(BaseModel):
    """Bodies refuse unknown fields, so a typo is an error rather than silently ignored."""

    model_config = ConfigDict(extra="forbid")


class TokenRequest(Strict):
    """Sign-in for API clients: the password and the operator card's signature.

    The card (a PKCS#11 token) signs ``"jukinet operator sign-in\\n" + node + "\\n" +
    challenge`` for a challenge from ``POST /api/v1/auth/challenge``: Ed25519, or ECDSA P-256 as
    raw r‖s.
    """

    username: Annotated[str, Field(min_length=1, max_length=64)]
    password: Annotated[str, Field(min_length=1, max_length=256)]
    card_serial: Annotated[str, Field(min_length=1, max_length=32)]
    challenge_id: Annotated[str, Field(min_length=1, max_length=64)]
    #: base64url, no padding.
    signature: Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_-]+$")]


class ChallengeResponse(BaseModel):
    """A one-time challenge for an operator card to sign (valid two minutes)."""

    challenge_id: str
    #: base64url, no padding.
    challenge: str
    #: The node name the card's signature is bound to.
    node: str


class TokenResponse(BaseModel):
    """A short-lived bearer token."""

    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_in: int


class InsuranceBody(Strict):
    """Insurance and benefit flags kept on the 住民票."""

    national_health_insurance: bool = False
    late_elderly_insurance: bool = False
    long_term_care_insurance: bool = False
    national_pension: bool = False
    child_allowance: bool = False


def _iso_or_wareki(value: object, info: ValidationInfo) -> object:
    # The counter's date forms on the API too; a wrong one is the register's own JUKI-DATE error.
    if isinstance(value, str):
        try:
            return parse_date(value, field=info.field_name or "date")
        except DomainError as error:
            # Reported at the field's full path (persons[0].birth_date) with its own code.
            raise PydanticCustomError(
                JUKI_ERROR,
                "{en}",
                {"code": error.code, "ja": error.message_ja, "en": error.message_en},
            ) from None
    return value


#: A date in a request: ISO 8601 or 和暦, as the pages and the CLI take it.
InputDate = Annotated[
    date,
    BeforeValidator(_iso_or_wareki),
    WithJsonSchema(
        {
            "type": "string",
            "description": "ISO 8601 (2026-11-26) or 和暦 (令和8年11月26日, R8.11.26)",
            "examples": ["2026-11-26", "令和8年11月26日", "R8.11.26"],
        }
    ),
]


class PersonBody(Strict):
    """A person entered at the counter."""

    family_name: NameText
    given_name: NameText
    family_name_kana: NameText
    given_name_kana: NameText
    birth_date: InputDate
    sex: Sex
    relationship: Relationship
    resident_code: Annotated[str | None, Field(default=None, max_length=20)] = None
    domicile: OptionalText = None
    domicile_head: Annotated[str | None, Field(default=None, max_length=100)] = None
    insurance: InsuranceBody = Field(default_factory=InsuranceBody)

    def to_input(self) -> PersonInput:
        """The service's input model of this person."""
        return PersonInput(
            family_name=self.family_name,
            given_name=self.given_name,
            family_name_kana=self.family_name_kana,
            given_name_kana=self.given_name_kana,
            birth_date=self.birth_date,
            sex=self.sex,
            relationship=self.relationship,
            resident_code=self.resident_code,
            domicile=self.domicile,
            domicile_head=self.domicile_head,
            insurance=Insurance(**self.insurance.model_dump()),
        )


class BirthRequest(Strict):
    """出生届."""

    household_number: Annotated[str, Field(min_length=1, max_length=12)]
    person: PersonBody
    filed_on: InputDate


class MoveInRequest(Strict):
    """転入届 (or 職権記載 through the ex-officio endpoint)."""

    persons: Annotated[list[PersonBody], Field(min_length=1, max_length=20)]
    address: Address
    previous_address: Address
    moved_on: InputDate
    filed_on: InputDate
    household_number: Annotated[str | None, Field(default=None, max_length=12)] = None
    from_abroad: bool = False
    #: The old municipality in Japan: it is sent a move-in notice (転入通知) and closes its record.
    previous_municipality_code: Annotated[str | None, Field(default=None, max_length=6)] = None

    def to_move_in(self, *, ex_officio: bool = False) -> MoveIn:
        """The service's input model; every field of it is a field of this request."""
        return MoveIn(
            persons=tuple(person.to_input() for person in self.persons),
            address=self.address,
            previous_address=self.previous_address,
            moved_on=self.moved_on,
            filed_on=self.filed_on,
            household_number=self.household_number,
            from_abroad=self.from_abroad,
            ex_officio=ex_officio,
            previous_municipality_code=self.previous_municipality_code,
        )


class MoveWithinRequest(Strict):
    """転居届: the whole household moves."""

    household_number: Annotated[str, Field(min_length=1, max_length=12)]
    address: Address
    moved_on: InputDate
    filed_on: InputDate


class MoveOutRequest(Strict):
    """転出届 (may be filed in advance)."""

    resident_codes: Annotated[list[ResidentCode], Field(min_length=1, max_length=20)]
    destination: Address
    planned_on: InputDate
    filed_on: InputDate


class DeathRequest(Strict):
    """死亡届."""

    resident_code: ResidentCode
    died_on: InputDate
    filed_on: InputDate
    new_head_code: Annotated[str | None, Field(default=None, max_length=20)] = None
    expected_version: Annotated[int | None, Field(default=None, ge=1)] = None


class NameChangeRequest(Strict):
    """氏名変更."""

    resident_code: ResidentCode
    family_name: NameText
    given_name: NameText
    family_name_kana: NameText
    given_name_kana: NameText
    changed_on: InputDate
    filed_on: InputDate
    expected_version: Annotated[int | None, Field(default=None, ge=1)] = None


class HouseholdChangeItem(Strict):
    """One member's new place in a household change."""

    resident_code: ResidentCode
    relationship: Relationship
    household_number: Annotated[str | None, Field(default=None, max_length=12)] = None
    new_household: bool = False


class HouseholdChangeRequest(Strict):
    """世帯変更."""

    changes: Annotated[list[HouseholdChangeItem], Field(min_length=1, max_length=20)]
    changed_on: InputDate
    filed_on: InputDate


class CorrectionItems(Strict):
    """Items an ex-officio correction may set (omit what stays)."""

    family_name: Annotated[str | None, Field(default=None, max_length=100)] = None
    given_name: Annotated[str | None, Field(default=None, max_length=100)] = None
    family_name_kana: Annotated[str | None, Field(default=None, max_length=100)] = None
    given_name_kana: Annotated[str | None, Field(default=None, max_length=100)] = None
    birth_date: InputDate | None = None
    sex: Sex | None = None
    address: Annotated[str | None, Field(default=None, max_length=300)] = None
    previous_address: OptionalText = None
    domicile: OptionalText = None
    domicile_head: Annotated[str | None, Field(default=None, max_length=100)] = None
    became_resident_on: InputDate | None = None
    address_since: InputDate | None = None


class CorrectionRequest(Strict):
    """職権修正."""

    resident_code: ResidentCode
    items: CorrectionItems
    reason_note: Annotated[str, Field(min_length=1, max_length=400)]
    expected_version: Annotated[int | None, Field(default=None, ge=1)] = None


class DeletionRequest(Strict):
    """職権消除."""

    resident_code: ResidentCode
    deleted_on: InputDate
    reason_note: Annotated[str, Field(min_length=1, max_length=400)]


class CodeChangeRequest(Strict):
    """住民票コード変更 on the resident's request."""

    resident_code: ResidentCode
    filed_on: InputDate
    expected_version: Annotated[int | None, Field(default=None, ge=1)] = None


class ResidentOut(BaseModel):
    """A 住民票 (or 除票) as the API shows it.

    In lists (search results, a household) ``resident_code`` is masked as screens show it
    (``*******1234``); ``record_ref`` names the record for ``/records/{ref}`` and its reveal.
    """

    resident_code: str = Field(
        description="住民票コード: in full for a lookup by code or a filing, masked in lists"
    )
    record_ref: str = Field(description="The record's opaque reference (never the code)")
    municipality_code: str
    family_name: str
    given_name: str
    family_name_kana: str
    given_name_kana: str
    birth_date: date
    birth_date_wareki: str
    sex: Sex
    household_number: str
    relationship: Relationship
    relationship_label: str
    address: str
    previous_address: str | None
    domicile: str | None
    domicile_head: str | None
    became_resident_on: date
    address_since: date
    insurance: InsuranceBody
    status: str
    removal_reason: str | None
    removal_reason_label: str | None
    removed_on: date | None
    destination: str | None
    version: int
    updated_at: datetime

    @classmethod
    def of(cls, view: RecordView, *, full_code: bool = True) -> ResidentOut:
        """The API form of a record view; ``full_code=False`` masks the resident code (lists,
        and answers to callers who did not give the code)."""
        r = view.record
        return cls(
            resident_code=r.resident_code if full_code else mask_resident_code(r.resident_code),
            record_ref=view.record_ref,
            municipality_code=r.municipality_code,
            family_name=r.name.family,
            given_name=r.name.given,
            family_name_kana=r.name.family_kana,
            given_name_kana=r.name.given_kana,
            birth_date=r.birth_date,
            birth_date_wareki=format_wareki(r.birth_date),
            sex=r.sex,
            household_number=r.household_number,
            relationship=r.relationship,
            relationship_label=r.relationship.label_ja,
            address=r.address,
            previous_address=r.previous_address,
            domicile=r.domicile,
            domicile_head=r.domicile_head,
            became_resident_on=r.became_resident_on,
            address_since=r.address_since,
            insurance=InsuranceBody(
                **{k: getattr(r.insurance, k) for k in InsuranceBody.model_fields}
            ),
            status=r.status.value,
            removal_reason=r.removal_reason.value if r.removal_reason else None,
            removal_reason_label=r.removal_reason.label_ja if r.removal_reason else None,
            removed_on=r.removed_on,
            destination=r.destination,
            version=view.version,
            updated_at=view.updated_at,
        )


class SearchBody(Strict):
    """Search terms, posted so that names never land in URLs or server logs."""

    name: Annotated[str | None, Field(default=None, max_length=60, description="Kanji or kana")] = (
        None
    )
    birth_date: InputDate | None = None
    include_removed: bool = False
    limit: Annotated[int, Field(default=50, ge=1, le=200)] = 50


class RevealBody(Strict):
    """Why the operator needs the full resident code (kept in the access log)."""

    reason: Annotated[str, Field(min_length=1, max_length=300)]


class RevealedOut(BaseModel):
    """A resident code shown in full, once, by an explicit and logged request."""

    record_ref: str
    resident_code: str


class HistoryOut(BaseModel):
    """One version of a record."""

    version: int
    event_kind: str
    event_date: date
    filed_on: date
    late: bool
    operator_id: int
    #: The operator's display name ("" for the system's own work, such as a bulk load).
    operator_name: str
    note: str | None
    recorded_at: datetime
    record: ResidentOut

    @classmethod
    def of(cls, entry: HistoryEntry) -> HistoryOut:
        """The API form of a history entry."""
        record = ResidentOut.of(
            RecordView(record=entry.record, version=entry.version, updated_at=entry.recorded_at)
        )
        return cls(
            version=entry.version,
            event_kind=entry.event_kind,
            event_date=date.fromisoformat(entry.event_date),
            filed_on=date.fromisoformat(entry.filed_on),
            late=entry.late,
            operator_id=entry.operator_id,
            operator_name=entry.operator_name,
            note=entry.note,
            recorded_at=entry.recorded_at,
            record=record,
        )


class ChangeOut(BaseModel):
    """What a counter operation did."""

    event_id: int
    late: bool
    late_notice_ja: str | None = None
    residents: list[ResidentOut]


class HouseholdOut(BaseModel):
    """A household and its members."""

    household_number: str
    members: list[ResidentOut]


class PoolOut(BaseModel):
    """The resident-code pool."""

    available: int
