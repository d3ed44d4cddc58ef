"""Repositories: the only code that turns table rows into domain records and back."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from jukinet.data.mj_table import name_identifiers
from jukinet.domain.errors import NotFound, ValidationError
from jukinet.domain.identity import ChangeReason
from jukinet.domain.names import PersonName, kana_search_key, name_search_key
from jukinet.domain.register import (
    Insurance,
    RecordStatus,
    Relationship,
    ResidentRecord,
    Sex,
)
from jukinet.storage.tables import (
    HouseholdRow,
    OperatorRow,
    OutboxRow,
    RegisterEventRow,
    ResidentCodeRow,
    ResidentRow,
    ResidentVersionRow,
)

CODE_AVAILABLE = "available"
CODE_ISSUED = "issued"
CODE_RETIRED = "retired"


def record_to_snapshot(record: ResidentRecord) -> dict[str, Any]:
    """The whole record as JSON-ready data, for the history table."""
    return {
        "resident_code": record.resident_code,
        "municipality_code": record.municipality_code,
        "family_name": record.name.family,
        "given_name": record.name.given,
        "family_name_kana": record.name.family_kana,
        "given_name_kana": record.name.given_kana,
        "family_name_mj": record.name.family_mj,
        "given_name_mj": record.name.given_mj,
        "birth_date": record.birth_date.isoformat(),
        "sex": record.sex.value,
        "household_number": record.household_number,
        "relationship": record.relationship.value,
        "address": record.address,
        "previous_address": record.previous_address,
        "domicile": record.domicile,
        "domicile_head": record.domicile_head,
        "became_resident_on": record.became_resident_on.isoformat(),
        "address_since": record.address_since.isoformat(),
        "insurance": insurance_to_dict(record.insurance),
        "status": record.status.value,
        "removal_reason": record.removal_reason.value if record.removal_reason else None,
        "removed_on": record.removed_on.isoformat() if record.removed_on else None,
        "destination": record.destination,
        "upstream_opt_out": record.upstream_opt_out,
    }


def insurance_to_dict(insurance: Insurance) -> dict[str, bool]:
    """Insurance flags as a plain dict."""
    return {
        "national_health_insurance": insurance.national_health_insurance,
        "late_elderly_insurance": insurance.late_elderly_insurance,
        "long_term_care_insurance": insurance.long_term_care_insurance,
        "national_pension": insurance.national_pension,
        "child_allowance": insurance.child_allowance,
    }


def snapshot_to_record(data: dict[str, Any]) -> ResidentRecord:
    """Inverse of :func:`record_to_snapshot`."""
    return ResidentRecord(
        resident_code=data["resident_code"],
        municipality_code=data["municipality_code"],
        name=PersonName(
            family=data["family_name"],
            given=data["given_name"],
            family_kana=data["family_name_kana"],
            given_kana=data["given_name_kana"],
            family_mj=data.get("family_name_mj", ""),
            given_mj=data.get("given_name_mj", ""),
        ),
        birth_date=date.fromisoformat(data["birth_date"]),
        sex=Sex(data["sex"]),
        household_number=data["household_number"],
        relationship=Relationship(data["relationship"]),
        address=data["address"],
        previous_address=data["previous_address"],
        domicile=data["domicile"],
        domicile_head=data["domicile_head"],
        became_resident_on=date.fromisoformat(data["became_resident_on"]),
        address_since=date.fromisoformat(data["address_since"]),
        insurance=Insurance(**data["insurance"]),
        status=RecordStatus(data["status"]),
        removal_reason=ChangeReason(data["removal_reason"]) if data["removal_reason"] else None,
        removed_on=date.fromisoformat(data["removed_on"]) if data["removed_on"] else None,
        destination=data["destination"],
        upstream_opt_out=bool(data.get("upstream_opt_out", False)),
    )


def name_key_of(name: PersonName) -> str:
    """Folded kanji key of a full name (family + given)."""
    return name_search_key(name.family + name.given)


def kana_key_of(name: PersonName) -> str:
    """Folded reading key of a full name (family + given)."""
    return kana_search_key(name.family_kana + name.given_kana)


class ResidentRepository:
    """Residents' current versions and their history."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def find_row(self, resident_code: str, *, for_update: bool = False) -> ResidentRow | None:
        """The row for a current resident code, or ``None``."""
        stmt = select(ResidentRow).where(ResidentRow.resident_code == resident_code)
        if for_update:
            stmt = stmt.with_for_update()
        return self.session.scalars(stmt).one_or_none()

    def get_row(self, resident_code: str, *, for_update: bool = False) -> ResidentRow:
        """The row for a resident code; :class:`NotFound` (JUKI-REG-030) if there is none."""
        row = self.find_row(resident_code, for_update=for_update)
        if row is None:
            raise NotFound(
                "JUKI-REG-030",
                ja="指定された住民票コードの住民は見つかりません。",
                en="No resident has this resident code.",
                field="resident_code",
            )
        return row

    def get_row_by_ref(self, record_ref: str) -> ResidentRow:
        """The row a page's record reference names; :class:`NotFound` (JUKI-REG-038) if none.

        The message names neither the reference nor anything about the resident.
        """
        row = self.session.scalars(
            select(ResidentRow).where(ResidentRow.record_ref == record_ref)
        ).one_or_none()
        if row is None:
            raise NotFound(
                "JUKI-REG-038",
                ja="指定された住民票は見つかりません。",
                en="No such resident record.",
                field="record_ref",
            )
        return row

    def to_record(self, row: ResidentRow) -> ResidentRecord:
        """The domain record of a row."""
        household = self.session.get(HouseholdRow, row.household_id)
        assert household is not None  # guaranteed by the foreign key
        return ResidentRecord(
            resident_code=row.resident_code,
            municipality_code=row.municipality_code,
            name=PersonName(
                family=row.family_name,
                given=row.given_name,
                family_kana=row.family_name_kana,
                given_kana=row.given_name_kana,
                family_mj=row.family_name_mj,
                given_mj=row.given_name_mj,
            ),
            birth_date=row.birth_date,
            sex=Sex(row.sex),
            household_number=household.household_number,
            relationship=Relationship(row.relationship),
            address=row.address,
            previous_address=row.previous_address,
            domicile=row.domicile,
            domicile_head=row.domicile_head,
            became_resident_on=row.became_resident_on,
            address_since=row.address_since,
            insurance=Insurance(**row.insurance),
            status=RecordStatus(row.status),
            removal_reason=ChangeReason(row.removal_reason) if row.removal_reason else None,
            removed_on=row.removed_on,
            destination=row.destination,
            upstream_opt_out=row.upstream_opt_out,
        )

    def add(
        self, record: ResidentRecord, *, household_id: int, actor_id: int, now: datetime
    ) -> ResidentRow:
        """Insert a new record (version 1 is set by the mapper)."""
        row = ResidentRow(household_id=household_id, created_at=now)
        self._copy(record, row, household_id=household_id, actor_id=actor_id, now=now)
        self.session.add(row)
        return row

    def update(
        self,
        row: ResidentRow,
        record: ResidentRecord,
        *,
        household_id: int,
        actor_id: int,
        now: datetime,
    ) -> None:
        """Write a changed record onto its row; the version column guards against lost updates."""
        self._copy(record, row, household_id=household_id, actor_id=actor_id, now=now)

    @staticmethod
    def _copy(
        record: ResidentRecord, row: ResidentRow, *, household_id: int, actor_id: int, now: datetime
    ) -> None:
        row.resident_code = record.resident_code
        row.municipality_code = record.municipality_code
        row.household_id = household_id
        row.relationship = record.relationship.value
        row.family_name = record.name.family
        row.given_name = record.name.given
        row.family_name_kana = record.name.family_kana
        row.given_name_kana = record.name.given_kana
        # The identifiers the record carries, or (a flow that built the name without them)
        # those of the shipped table: a stored name never lacks its glyphs' identifiers.
        row.family_name_mj = record.name.family_mj or name_identifiers(
            record.name.family, field="family_name"
        )
        row.given_name_mj = record.name.given_mj or name_identifiers(
            record.name.given, field="given_name"
        )
        row.name_key = name_key_of(record.name)
        row.kana_key = kana_key_of(record.name)
        row.birth_date = record.birth_date
        row.sex = record.sex.value
        row.address = record.address
        row.previous_address = record.previous_address
        row.domicile = record.domicile
        row.domicile_head = record.domicile_head
        row.became_resident_on = record.became_resident_on
        row.address_since = record.address_since
        row.insurance = insurance_to_dict(record.insurance)
        row.status = record.status.value
        row.removal_reason = record.removal_reason.value if record.removal_reason else None
        row.removed_on = record.removed_on
        row.destination = record.destination
        row.upstream_opt_out = record.upstream_opt_out
        row.updated_at = now
        row.updated_by = actor_id

    def add_version(
        self, row: ResidentRow, record: ResidentRecord, *, event_id: int, now: datetime
    ) -> None:
        """Keep this version of the record in the history (call after the row is flushed)."""
        self.session.add(
            ResidentVersionRow(
                resident_id=row.id,
                version=row.version,
                event_id=event_id,
                snapshot=record_to_snapshot(record),
                recorded_at=now,
            )
        )

    def history(self, row: ResidentRow) -> Sequence[tuple[ResidentVersionRow, RegisterEventRow]]:
        """Every version of a record, oldest first, with the event that made it."""
        stmt = (
            select(ResidentVersionRow, RegisterEventRow)
            .join(RegisterEventRow, RegisterEventRow.id == ResidentVersionRow.event_id)
            .where(ResidentVersionRow.resident_id == row.id)
            .order_by(ResidentVersionRow.version)
        )
        return [(v, e) for v, e in self.session.execute(stmt).all()]

    def household_members(
        self, household_id: int, *, for_update: bool = False
    ) -> list[ResidentRow]:
        """All records (active and removed) of a household, in resident order."""
        stmt = (
            select(ResidentRow)
            .where(ResidentRow.household_id == household_id)
            .order_by(ResidentRow.id)
        )
        if for_update:
            stmt = stmt.with_for_update()
        return list(self.session.scalars(stmt))

    def search(
        self,
        *,
        name_key: str | None,
        kana_key: str | None,
        birth_date: date | None,
        include_removed: bool,
        limit: int,
    ) -> list[ResidentRow]:
        """Records whose folded keys start with the given keys; never merges anything."""
        stmt = select(ResidentRow)
        if name_key:
            stmt = stmt.where(ResidentRow.name_key.startswith(name_key, autoescape=True))
        if kana_key:
            stmt = stmt.where(ResidentRow.kana_key.startswith(kana_key, autoescape=True))
        if birth_date:
            stmt = stmt.where(ResidentRow.birth_date == birth_date)
        if not include_removed:
            stmt = stmt.where(ResidentRow.status == RecordStatus.ACTIVE.value)
        stmt = stmt.order_by(ResidentRow.kana_key, ResidentRow.birth_date, ResidentRow.id)
        return list(self.session.scalars(stmt.limit(limit)))

    def count(self, *, active_only: bool = True) -> int:
        """How many records the register holds."""
        stmt = select(func.count()).select_from(ResidentRow)
        if active_only:
            stmt = stmt.where(ResidentRow.status == RecordStatus.ACTIVE.value)
        return int(self.session.scalar(stmt) or 0)


class HouseholdRepository:
    """Households and their numbers (世帯番号)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def create(self, *, municipality_code: str, now: datetime) -> HouseholdRow:
        """A new household; its number derives from its id, so it is unique without guessing."""
        row = HouseholdRow(
            household_number="pending", municipality_code=municipality_code, created_at=now
        )
        self.session.add(row)
        self.session.flush()
        # Temporary number replaced at once; the row is not visible outside this transaction.
        row.household_number = f"{row.id:010d}"
        return row

    def get(self, household_number: str) -> HouseholdRow:
        """The household with this number; :class:`NotFound` (JUKI-REG-031) otherwise."""
        if not household_number.isascii() or not household_number.isdigit():
            raise ValidationError(
                "JUKI-REG-036",
                ja="世帯番号は半角数字で入力してください。",
                en="A household number consists of digits.",
                field="household_number",
            )
        row = self.session.scalars(
            select(HouseholdRow).where(HouseholdRow.household_number == household_number)
        ).one_or_none()
        if row is None:
            raise NotFound(
                "JUKI-REG-031",
                ja="指定された世帯番号の世帯は見つかりません。",
                en="No household has this household number.",
                field="household_number",
            )
        return row

    def by_id(self, household_id: int) -> HouseholdRow:
        """The household row with this id."""
        row = self.session.get(HouseholdRow, household_id)
        assert row is not None  # ids come from foreign keys
        return row


class EventRepository:
    """Counter events (異動)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(
        self,
        *,
        kind: str,
        event_date: date,
        filed_on: date,
        late: bool,
        operator_id: int,
        terminal_id: str | None,
        now: datetime,
        note: str | None = None,
    ) -> RegisterEventRow:
        """Record an event and give it an id."""
        row = RegisterEventRow(
            kind=kind,
            event_date=event_date,
            filed_on=filed_on,
            late=late,
            operator_id=operator_id,
            terminal_id=terminal_id,
            note=note,
            recorded_at=now,
        )
        self.session.add(row)
        self.session.flush()
        return row


class CodePoolRepository:
    """The pool of resident codes allotted to a municipality by the national centre."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def known(self, codes: Sequence[str]) -> set[str]:
        """Which of ``codes`` have ever been allotted (anywhere on this node)."""
        if not codes:
            return set()
        rows = self.session.scalars(
            select(ResidentCodeRow.code).where(ResidentCodeRow.code.in_(codes))
        )
        return set(rows)

    def allot(self, codes: Sequence[str], *, municipality_code: str, now: datetime) -> None:
        """Add fresh codes to the pool."""
        self.session.add_all(
            ResidentCodeRow(
                code=c, municipality_code=municipality_code, state=CODE_AVAILABLE, allotted_at=now
            )
            for c in codes
        )

    def register_existing(self, code: str, *, municipality_code: str, now: datetime) -> None:
        """A code issued elsewhere arrives with a resident who moves in; keep it known here."""
        row = self.session.get(ResidentCodeRow, code)
        if row is None:
            self.session.add(
                ResidentCodeRow(
                    code=code,
                    municipality_code=municipality_code,
                    state=CODE_ISSUED,
                    allotted_at=now,
                    issued_at=now,
                )
            )

    def state_of(self, code: str) -> str | None:
        """``available``, ``issued``, ``retired``, or ``None`` if the code is unknown here."""
        row = self.session.get(ResidentCodeRow, code)
        return row.state if row else None

    def available_count(self, municipality_code: str) -> int:
        """Codes left in the pool."""
        return int(
            self.session.scalar(
                select(func.count())
                .select_from(ResidentCodeRow)
                .where(
                    ResidentCodeRow.municipality_code == municipality_code,
                    ResidentCodeRow.state == CODE_AVAILABLE,
                )
            )
            or 0
        )

    def draw(self, municipality_code: str, *, now: datetime) -> str | None:
        """Take one unused code from the pool and mark it issued; ``None`` if the pool is empty."""
        stmt = (
            select(ResidentCodeRow)
            .where(
                ResidentCodeRow.municipality_code == municipality_code,
                ResidentCodeRow.state == CODE_AVAILABLE,
            )
            .limit(1)
            # Two clerks drawing at once on PostgreSQL each get a different code.
            .with_for_update(skip_locked=True)
        )
        row = self.session.scalars(stmt).first()
        if row is None:
            return None
        row.state = CODE_ISSUED
        row.issued_at = now
        return row.code

    def retire(self, code: str, *, municipality_code: str, now: datetime) -> None:
        """A code that was replaced is retired for ever; it never returns to the pool."""
        row = self.session.get(ResidentCodeRow, code)
        if row is None:
            row = ResidentCodeRow(
                code=code, municipality_code=municipality_code, state=CODE_RETIRED, allotted_at=now
            )
            self.session.add(row)
        row.state = CODE_RETIRED
        row.retired_at = now


class OutboxRepository:
    """Messages waiting to leave this node."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(
        self, *, kind: str, recipient: str, subject: str | None, body: dict[str, Any], now: datetime
    ) -> OutboxRow:
        """Queue a message in the current transaction."""
        row = OutboxRow(kind=kind, recipient=recipient, subject=subject, body=body, created_at=now)
        self.session.add(row)
        return row

    def pending(self, *, recipient: str | None = None, limit: int = 100) -> list[OutboxRow]:
        """Undelivered messages, oldest first."""
        stmt = select(OutboxRow).where(OutboxRow.delivered_at.is_(None))
        if recipient:
            stmt = stmt.where(OutboxRow.recipient == recipient)
        return list(self.session.scalars(stmt.order_by(OutboxRow.id).limit(limit)))

    def recent(self, *, limit: int = 100, subject: str | None = None) -> list[OutboxRow]:
        """The newest messages, delivered or not."""
        stmt = select(OutboxRow)
        if subject:
            stmt = stmt.where(or_(OutboxRow.subject == subject))
        return list(self.session.scalars(stmt.order_by(OutboxRow.id.desc()).limit(limit)))

    def mark_delivered(self, ids: Sequence[int], *, now: datetime) -> None:
        """Mark messages acknowledged by their recipient."""
        self.session.execute(
            update(OutboxRow).where(OutboxRow.id.in_(ids)).values(delivered_at=now)
        )


class OperatorRepository:
    """Operator accounts."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def by_username(self, username: str) -> OperatorRow | None:
        """The account with this username, if any."""
        return self.session.scalars(
            select(OperatorRow).where(OperatorRow.username == username)
        ).one_or_none()

    def by_id(self, operator_id: int) -> OperatorRow | None:
        """The account with this id, if any."""
        return self.session.get(OperatorRow, operator_id)

    def display_names(self, ids: set[int]) -> dict[int, str]:
        """The display names of the accounts with these ids (absent ids are left out)."""
        if not ids:
            return {}
        stmt = select(OperatorRow.id, OperatorRow.display_name).where(OperatorRow.id.in_(ids))
        return {row.id: row.display_name for row in self.session.execute(stmt)}

    def add(self, row: OperatorRow) -> OperatorRow:
        """Insert an account."""
        self.session.add(row)
        self.session.flush()
        return row

    def all(self) -> list[OperatorRow]:
        """Every account, by username."""
        return list(self.session.scalars(select(OperatorRow).order_by(OperatorRow.username)))
