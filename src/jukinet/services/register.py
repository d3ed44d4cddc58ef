"""Counter work (窓口業務): every change to the register goes through these functions.

Each function is one use case in one transaction: the record, its previous version, the event
and the identity notice in the outbox commit together, or nothing is written at all.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from jukinet.bootstrap import Node
from jukinet.data.catalog import get_municipality
from jukinet.domain import register as rules
from jukinet.domain.access_log import AccessEntry, Action, ActorKind, Channel
from jukinet.domain.codes import validate_resident_code
from jukinet.domain.errors import Conflict, ValidationError
from jukinet.domain.identity import ChangeReason, IdentityInfo, IdentityNotice
from jukinet.domain.names import PersonName, validate_name
from jukinet.domain.operators import Actor, Permission
from jukinet.domain.register import Insurance, Relationship, ResidentRecord, Sex
from jukinet.services.views import RecordView, view_of
from jukinet.storage import access_log
from jukinet.storage.repositories import name_key_of
from jukinet.storage.tables import HouseholdRow, ResidentRow
from jukinet.storage.unit_of_work import UnitOfWork

IDENTITY_NOTICE = "identity_notice"
MOVE_IN_NOTICE = "move_in_notice"
ROUTED = "routed"


@dataclass(frozen=True, slots=True)
class PersonInput:
    """A person as entered at the counter (before validation)."""

    family_name: str
    given_name: str
    family_name_kana: str
    given_name_kana: str
    birth_date: date
    sex: Sex
    relationship: Relationship
    resident_code: str | None = None
    domicile: str | None = None
    domicile_head: str | None = None
    insurance: Insurance = dataclasses.field(default_factory=Insurance)

    def name(self) -> PersonName:
        """The validated name."""
        return PersonName.create(
            family=self.family_name,
            given=self.given_name,
            family_kana=self.family_name_kana,
            given_kana=self.given_name_kana,
        )


@dataclass(frozen=True, slots=True)
class HouseholdChange:
    """One member's new place: another household, a new one (as head), or a new relationship."""

    resident_code: str
    relationship: Relationship
    household_number: str | None = None
    new_household: bool = False


@dataclass(frozen=True, slots=True)
class ChangeResult:
    """What a counter operation did."""

    event_id: int
    late: bool
    records: list[RecordView]


class _Change:
    """Helpers shared by the use cases inside one unit of work."""

    def __init__(self, node: Node, uow: UnitOfWork, actor: Actor) -> None:
        self.node = node
        self.uow = uow
        self.actor = actor
        self.now: datetime = node.now()
        self.today: date = node.today()
        self.kind = "counter"
        #: Set when another node's message causes the change (e.g. a move-in notice): the log
        #: then names that node and the network as the channel.
        self.requested_by: str | None = None

    def written(self, resident_code: str) -> None:
        """Record the write of one resident's record in the access log (same transaction)."""
        access_log.record(
            self.uow.session,
            [
                AccessEntry(
                    recorded_at=self.now,
                    node=str(self.node.node_id),
                    action=Action.WRITE,
                    channel=Channel.NETWORK if self.requested_by else Channel.COUNTER,
                    actor_kind=ActorKind.NODE if self.requested_by else ActorKind.OPERATOR,
                    actor=self.requested_by or self.actor.username,
                    subject=resident_code,
                    reason=self.kind,
                    items=("record",),
                    terminal=self.actor.terminal_id,
                )
            ],
        )

    def event(self, kind: str, filing: rules.Filing, note: str | None = None) -> int:
        self.kind = kind
        return self.uow.events.add(
            kind=kind,
            event_date=filing.event_date,
            filed_on=filing.filed_on,
            late=filing.late,
            operator_id=self.actor.operator_id,
            terminal_id=self.actor.terminal_id,
            now=self.now,
            note=note,
        ).id

    def load(self, resident_code: str) -> tuple[ResidentRow, ResidentRecord]:
        code = validate_resident_code(resident_code)
        row = self.uow.residents.get_row(code)
        return row, self.uow.residents.to_record(row)

    def save(
        self,
        row: ResidentRow,
        record: ResidentRecord,
        *,
        event_id: int,
        household_id: int | None = None,
    ) -> None:
        self.uow.residents.update(
            row,
            record,
            household_id=household_id or row.household_id,
            actor_id=self.actor.operator_id,
            now=self.now,
        )
        self.uow.flush()
        self.uow.residents.add_version(row, record, event_id=event_id, now=self.now)
        self.written(record.resident_code)

    def insert(self, record: ResidentRecord, *, household_id: int, event_id: int) -> ResidentRow:
        row = self.uow.residents.add(
            record, household_id=household_id, actor_id=self.actor.operator_id, now=self.now
        )
        self.uow.flush()
        self.uow.residents.add_version(row, record, event_id=event_id, now=self.now)
        self.written(record.resident_code)
        return row

    def route(self, municipality_code: str, *, kind: str, payload: dict[str, object]) -> None:
        """Queue a message for another municipality; the tiers relay it without keeping it."""
        if not self.node.connected:
            return
        self.uow.outbox.add(
            kind=ROUTED,
            recipient=self.node.upstream,
            subject=None,
            body={
                "destination": f"municipality:{municipality_code}",
                "kind": kind,
                "payload": payload,
            },
            now=self.now,
        )

    def notify(
        self,
        record: ResidentRecord,
        *,
        reason: ChangeReason,
        changed_on: date,
        before: IdentityInfo | None,
    ) -> None:
        # A disconnected municipality sends nothing (its initial load follows on connecting);
        # a resident who opted out is never reported upstream.
        if not self.node.connected or record.upstream_opt_out:
            return
        notice = IdentityNotice(
            municipality_code=self.node.municipality_code,
            current=record.identity(),
            reason=reason,
            changed_on=changed_on,
            before=before,
        )
        self.uow.outbox.add(
            kind=IDENTITY_NOTICE,
            recipient=self.node.upstream,
            subject=record.resident_code,
            body=notice.as_body(),
            now=self.now,
        )

    def new_code(self) -> str:
        code = self.uow.codes.draw(self.node.municipality_code, now=self.now)
        if code is None:
            raise Conflict(
                "JUKI-CODE-010",
                ja="住民票コードの割当てが残っていません。全国センターに追加の割当てを依頼してください。",
                en="The pool of resident codes is empty; ask the national centre for more.",
                field="resident_code",
            )
        return code

    def check_households(self, household_ids: set[int]) -> None:
        for household_id in household_ids:
            members = self.uow.residents.household_members(household_id)
            rules.check_household([self.uow.residents.to_record(m) for m in members])

    def views(self, rows: Sequence[ResidentRow]) -> list[RecordView]:
        return [view_of(self.uow, row) for row in rows]


def _require(actor: Actor, permission: Permission) -> None:
    actor.require(permission)


def file_birth(
    node: Node, *, actor: Actor, household_number: str, person: PersonInput, filed_on: date
) -> ChangeResult:
    """出生: a newborn joins a household; a fresh code comes from the pool."""
    _require(actor, Permission.FILE_EVENTS)
    with node.uow() as uow:
        change = _Change(node, uow, actor)
        rules.validate_birth_date(person.birth_date, today=change.today)
        filing = rules.check_filing(
            event_date=person.birth_date, filed_on=filed_on, today=change.today, field="birth_date"
        )
        if person.relationship is Relationship.HEAD:
            raise ValidationError(
                "JUKI-REG-023",
                ja="出生届で世帯主を指定することはできません。",
                en="A newborn cannot be entered as the household head.",
                field="relationship",
            )
        household = uow.households.get(household_number)
        members = [
            uow.residents.to_record(m) for m in uow.residents.household_members(household.id)
        ]
        active = [m for m in members if m.is_active]
        if not active:
            raise Conflict(
                "JUKI-REG-024",
                ja="この世帯には記載中の住民がいません。",
                en="This household has no resident on the register.",
                field="household_number",
            )
        name = person.name()
        rules.ensure_not_duplicate_birth(
            (name_key_of(name), person.birth_date),
            [(name_key_of(m.name), m.birth_date) for m in active],
        )
        domicile, domicile_head = rules.validate_domicile(person.domicile, person.domicile_head)
        head = next(m for m in active if m.is_head)
        record = ResidentRecord(
            resident_code=change.new_code(),
            municipality_code=node.municipality_code,
            name=name,
            birth_date=person.birth_date,
            sex=person.sex,
            household_number=household_number,
            relationship=person.relationship,
            address=head.address,
            became_resident_on=person.birth_date,
            address_since=person.birth_date,
            domicile=domicile,
            domicile_head=domicile_head,
            insurance=person.insurance,
        )
        event_id = change.event("birth", filing)
        row = change.insert(record, household_id=household.id, event_id=event_id)
        change.notify(record, reason=ChangeReason.BIRTH, changed_on=person.birth_date, before=None)
        result = ChangeResult(event_id=event_id, late=filing.late, records=change.views([row]))
        uow.commit()
        return result


def file_move_in(
    node: Node,
    *,
    actor: Actor,
    persons: Sequence[PersonInput],
    address: str,
    previous_address: str,
    moved_on: date,
    filed_on: date,
    household_number: str | None = None,
    from_abroad: bool = False,
    ex_officio: bool = False,
    previous_municipality_code: str | None = None,
) -> ChangeResult:
    """転入 (or 職権記載 with ``ex_officio``): people arrive and are entered on the register.

    With ``previous_municipality_code`` a move-in notice (転入通知) goes over the network to the
    old municipality, which then removes its record.

    Without ``household_number`` they form a new household, and exactly one of them must be its
    head. People arriving from another municipality bring their resident code; people arriving
    from abroad bring theirs if they ever had one, otherwise a fresh one is drawn from the pool.
    """
    _require(actor, Permission.EX_OFFICIO if ex_officio else Permission.FILE_EVENTS)
    if not persons:
        raise ValidationError(
            "JUKI-REG-025",
            ja="転入する人を1人以上入力してください。",
            en="Enter at least one person.",
            field="persons",
        )
    with node.uow() as uow:
        change = _Change(node, uow, actor)
        filing = rules.check_filing(
            event_date=moved_on, filed_on=filed_on, today=change.today, field="moved_on"
        )
        previous = rules.validate_address(previous_address, field="previous_address")
        old_municipality = _old_municipality(
            node, previous_municipality_code, applies=not (from_abroad or ex_officio)
        )
        if household_number is None:
            household: HouseholdRow = uow.households.create(
                municipality_code=node.municipality_code, now=change.now
            )
            new_address = rules.validate_address(address)
        else:
            household = uow.households.get(household_number)
            existing = [
                m for m in uow.residents.household_members(household.id) if m.status == "active"
            ]
            if not existing:
                raise Conflict(
                    "JUKI-REG-024",
                    ja="この世帯には記載中の住民がいません。",
                    en="This household has no resident on the register.",
                    field="household_number",
                )
            new_address = existing[0].address
        reason = (
            ChangeReason.EX_OFFICIO_ENTRY
            if ex_officio
            else ChangeReason.MOVE_IN_FROM_ABROAD
            if from_abroad
            else ChangeReason.MOVE_IN
        )
        event_id = change.event("ex_officio_entry" if ex_officio else "move_in", filing)
        rows: list[ResidentRow] = []
        seen_codes: set[str] = set()
        for index, person in enumerate(persons):
            _check_person(person, index=index, today=change.today)
            if person.birth_date > moved_on:
                raise ValidationError(
                    "JUKI-REG-026",
                    ja="転入日が生年月日より前です。",
                    en="The move-in date is before the date of birth.",
                    field="moved_on",
                )
            domicile, domicile_head = rules.validate_domicile(person.domicile, person.domicile_head)
            code = _arriving_code(
                change, person, from_abroad=from_abroad or ex_officio, index=index
            )
            if code in seen_codes:
                raise ValidationError(
                    "JUKI-REG-027",
                    ja="同じ住民票コードが重複しています。",
                    en="The same resident code was given twice.",
                    field=f"persons[{index}].resident_code",
                )
            seen_codes.add(code)
            record = ResidentRecord(
                resident_code=code,
                municipality_code=node.municipality_code,
                name=person.name(),
                birth_date=person.birth_date,
                sex=person.sex,
                household_number=household.household_number,
                relationship=person.relationship,
                address=new_address,
                previous_address=previous,
                became_resident_on=moved_on,
                address_since=moved_on,
                domicile=domicile,
                domicile_head=domicile_head,
                insurance=person.insurance,
            )
            rows.append(change.insert(record, household_id=household.id, event_id=event_id))
            before = dataclasses.replace(record.identity(), address=previous)
            change.notify(
                record,
                reason=reason,
                changed_on=moved_on,
                before=None if from_abroad or ex_officio else before,
            )
            if old_municipality is not None:
                change.route(
                    old_municipality,
                    kind=MOVE_IN_NOTICE,
                    payload={
                        "resident_code": code,
                        "birth_date": person.birth_date.isoformat(),
                        "moved_on": moved_on.isoformat(),
                        "new_municipality_code": node.municipality_code,
                    },
                )
        change.check_households({household.id})
        result = ChangeResult(event_id=event_id, late=filing.late, records=change.views(rows))
        uow.commit()
        return result


def _old_municipality(node: Node, code: str | None, *, applies: bool) -> str | None:
    if not applies or code is None or not code.strip():
        return None
    old = get_municipality(code.strip()).code
    return None if old == node.municipality_code else old


def _check_person(person: PersonInput, *, index: int, today: date) -> None:
    """Validate one arriving person; errors name the row (``persons[1].given_name``)."""
    try:
        rules.validate_birth_date(person.birth_date, today=today)
        person.name()
        rules.validate_domicile(person.domicile, person.domicile_head)
    except ValidationError as error:
        if error.field and not error.field.startswith("persons["):
            error.field = f"persons[{index}].{error.field}"
        raise


def _arriving_code(change: _Change, person: PersonInput, *, from_abroad: bool, index: int) -> str:
    field = f"persons[{index}].resident_code"
    if person.resident_code is None or not person.resident_code.strip():
        if not from_abroad:
            raise ValidationError(
                "JUKI-REG-028",
                ja="他の市区町村からの転入では住民票コードが必要です。",
                en="A move-in from another municipality needs the person's resident code.",
                field=field,
            )
        return change.new_code()
    code = validate_resident_code(person.resident_code, field=field)
    if change.uow.residents.find_row(code) is not None:
        raise Conflict(
            "JUKI-REG-029",
            ja="この住民票コードの住民は既に記載されています。",
            en="A resident with this resident code is already registered here.",
            field=field,
        )
    if change.uow.codes.state_of(code) == "retired":
        raise ValidationError(
            "JUKI-CODE-011",
            ja="この住民票コードは変更により廃止されています。",
            en="This resident code was retired by a code change.",
            field=field,
        )
    change.uow.codes.register_existing(
        code, municipality_code=change.node.municipality_code, now=change.now
    )
    return code


def file_move_within(
    node: Node, *, actor: Actor, household_number: str, address: str, moved_on: date, filed_on: date
) -> ChangeResult:
    """転居: a household moves to a new address inside the municipality."""
    _require(actor, Permission.FILE_EVENTS)
    with node.uow() as uow:
        change = _Change(node, uow, actor)
        filing = rules.check_filing(
            event_date=moved_on, filed_on=filed_on, today=change.today, field="moved_on"
        )
        household = uow.households.get(household_number)
        rows = [m for m in uow.residents.household_members(household.id) if m.status == "active"]
        if not rows:
            raise Conflict(
                "JUKI-REG-024",
                ja="この世帯には記載中の住民がいません。",
                en="This household has no resident on the register.",
                field="household_number",
            )
        event_id = change.event("move_within", filing)
        for row in rows:
            before = uow.residents.to_record(row)
            after = rules.move_within(before, address=address, moved_on=moved_on)
            change.save(row, after, event_id=event_id)
            change.notify(
                after,
                reason=ChangeReason.MOVE_WITHIN,
                changed_on=moved_on,
                before=before.identity(),
            )
        result = ChangeResult(event_id=event_id, late=filing.late, records=change.views(rows))
        uow.commit()
        return result


def file_move_out(
    node: Node,
    *,
    actor: Actor,
    resident_codes: Sequence[str],
    destination: str,
    planned_on: date,
    filed_on: date,
) -> ChangeResult:
    """転出: people leave; their records become 除票.

    A head leaves only with the whole household (or after a household change).
    """
    _require(actor, Permission.FILE_EVENTS)
    if not resident_codes:
        raise ValidationError(
            "JUKI-REG-025",
            ja="転出する人を1人以上指定してください。",
            en="Name at least one person.",
            field="resident_codes",
        )
    with node.uow() as uow:
        change = _Change(node, uow, actor)
        filing = rules.check_move_out_dates(
            planned_on=planned_on, filed_on=filed_on, today=change.today
        )
        event_id = change.event("move_out", filing)
        rows: list[ResidentRow] = []
        for code in dict.fromkeys(resident_codes):
            row, before = change.load(code)
            after = rules.move_out(before, destination=destination, planned_on=planned_on)
            change.save(row, after, event_id=event_id)
            change.notify(after, reason=ChangeReason.MOVE_OUT, changed_on=planned_on, before=None)
            rows.append(row)
        change.check_households({r.household_id for r in rows})
        result = ChangeResult(event_id=event_id, late=filing.late, records=change.views(rows))
        uow.commit()
        return result


def file_death(
    node: Node,
    *,
    actor: Actor,
    resident_code: str,
    died_on: date,
    filed_on: date,
    new_head_code: str | None = None,
    expected_version: int | None = None,
) -> ChangeResult:
    """死亡: the record becomes a 除票. If the head died, name the new head of the household."""
    _require(actor, Permission.FILE_EVENTS)
    with node.uow() as uow:
        change = _Change(node, uow, actor)
        filing = rules.check_filing(
            event_date=died_on, filed_on=filed_on, today=change.today, field="died_on"
        )
        row, before = change.load(resident_code)
        rules.ensure_expected_version(current=row.version, expected=expected_version)
        event_id = change.event("death", filing)
        after = rules.die(before, died_on=died_on)
        change.save(row, after, event_id=event_id)
        change.notify(after, reason=ChangeReason.DEATH, changed_on=died_on, before=None)
        rows = [row]
        if new_head_code:
            head_row, head = change.load(new_head_code)
            if head_row.household_id != row.household_id:
                raise ValidationError(
                    "JUKI-REG-032",
                    ja="新しい世帯主は同じ世帯の人にしてください。",
                    en="The new head must belong to the same household.",
                    field="new_head_code",
                )
            change.save(
                head_row,
                dataclasses.replace(head, relationship=Relationship.HEAD),
                event_id=event_id,
            )
            rows.append(head_row)
        change.check_households({row.household_id})
        result = ChangeResult(event_id=event_id, late=filing.late, records=change.views(rows))
        uow.commit()
        return result


def file_name_change(
    node: Node,
    *,
    actor: Actor,
    resident_code: str,
    family_name: str,
    given_name: str,
    family_name_kana: str,
    given_name_kana: str,
    changed_on: date,
    filed_on: date,
    expected_version: int | None = None,
) -> ChangeResult:
    """氏名変更: a new name (marriage, adoption, court permission)."""
    _require(actor, Permission.FILE_EVENTS)
    with node.uow() as uow:
        change = _Change(node, uow, actor)
        filing = rules.check_filing(
            event_date=changed_on, filed_on=filed_on, today=change.today, field="changed_on"
        )
        name = PersonName.create(
            family=family_name,
            given=given_name,
            family_kana=family_name_kana,
            given_kana=given_name_kana,
        )
        row, before = change.load(resident_code)
        rules.ensure_expected_version(current=row.version, expected=expected_version)
        after = rules.change_name(before, name=name)
        event_id = change.event("name_change", filing)
        change.save(row, after, event_id=event_id)
        change.notify(
            after, reason=ChangeReason.NAME_CHANGE, changed_on=changed_on, before=before.identity()
        )
        result = ChangeResult(event_id=event_id, late=filing.late, records=change.views([row]))
        uow.commit()
        return result


def file_household_change(
    node: Node,
    *,
    actor: Actor,
    changes: Sequence[HouseholdChange],
    changed_on: date,
    filed_on: date,
) -> ChangeResult:
    """世帯変更: a new head, a member moving to another household at the same address, or a split.

    Every household touched must end with exactly one head. No identity item changes, so no
    notice is sent upstream.
    """
    _require(actor, Permission.FILE_EVENTS)
    if not changes:
        raise ValidationError(
            "JUKI-REG-025",
            ja="変更する人を1人以上指定してください。",
            en="Name at least one person.",
            field="changes",
        )
    with node.uow() as uow:
        change = _Change(node, uow, actor)
        filing = rules.check_filing(
            event_date=changed_on, filed_on=filed_on, today=change.today, field="changed_on"
        )
        event_id = change.event("household_change", filing)
        touched: set[int] = set()
        rows: list[ResidentRow] = []
        for item in changes:
            row, before = change.load(item.resident_code)
            rules.ensure_active(before)
            touched.add(row.household_id)
            target_id = row.household_id
            number = before.household_number
            if item.new_household:
                new = uow.households.create(
                    municipality_code=node.municipality_code, now=change.now
                )
                target_id, number = new.id, new.household_number
            elif item.household_number and item.household_number != before.household_number:
                target = uow.households.get(item.household_number)
                members = [
                    m for m in uow.residents.household_members(target.id) if m.status == "active"
                ]
                if not members or members[0].address != before.address:
                    raise ValidationError(
                        "JUKI-REG-033",
                        ja="異なる住所の世帯には世帯変更で移れません（転居届が必要です）。",
                        en="A household change cannot join a household at another address "
                        "(file a move instead).",
                        field="household_number",
                    )
                target_id, number = target.id, target.household_number
            after = dataclasses.replace(
                before, relationship=item.relationship, household_number=number
            )
            if after == before:
                raise ValidationError(
                    "JUKI-REG-034",
                    ja="変更内容がありません。",
                    en="The change does not change anything.",
                    field="relationship",
                )
            change.save(row, after, event_id=event_id, household_id=target_id)
            touched.add(target_id)
            rows.append(row)
        uow.flush()
        change.check_households(touched)
        result = ChangeResult(event_id=event_id, late=filing.late, records=change.views(rows))
        uow.commit()
        return result


def correct_record(
    node: Node,
    *,
    actor: Actor,
    resident_code: str,
    items: dict[str, object],
    reason_note: str,
    expected_version: int | None = None,
) -> ChangeResult:
    """職権修正: the municipality corrects recorded items, on a 除票 too. Supervisors only."""
    _require(actor, Permission.EX_OFFICIO)
    note = rules.validate_optional_text(reason_note, field="reason_note", max_length=400)
    if note is None:
        raise ValidationError(
            "JUKI-REG-035",
            ja="修正の理由を入力してください。",
            en="Give the reason for the correction.",
            field="reason_note",
        )
    with node.uow() as uow:
        change = _Change(node, uow, actor)
        row, before = change.load(resident_code)
        rules.ensure_expected_version(current=row.version, expected=expected_version)
        clean = _validated_items(items, current=before.name)
        after = rules.correct(before, today=change.today, **clean)
        filing = rules.Filing(event_date=change.today, filed_on=change.today, late=False)
        event_id = change.event("ex_officio_correction", filing, note=note)
        change.save(row, after, event_id=event_id)
        if before.identity() != after.identity():
            change.notify(
                after,
                reason=ChangeReason.EX_OFFICIO_CORRECTION,
                changed_on=change.today,
                before=before.identity(),
            )
        if "relationship" in clean:
            change.check_households({row.household_id})
        result = ChangeResult(event_id=event_id, late=False, records=change.views([row]))
        uow.commit()
        return result


NAME_PARTS = ("family_name", "given_name", "family_name_kana", "given_name_kana")


def _validated_items(items: dict[str, object], *, current: PersonName) -> dict[str, object]:
    """Validate correction items; name parts merge with the current name into one new name."""
    clean: dict[str, object] = {}
    parts = {k: items[k] for k in NAME_PARTS if k in items and items[k] is not None}
    if parts:
        clean["name"] = PersonName.create(
            family=str(parts.get("family_name", current.family)),
            given=str(parts.get("given_name", current.given)),
            family_kana=str(parts.get("family_name_kana", current.family_kana)),
            given_kana=str(parts.get("given_name_kana", current.given_kana)),
        )
    for key, value in items.items():
        if key in NAME_PARTS:
            continue
        if value is None and key in {
            "birth_date",
            "sex",
            "address",
            "became_resident_on",
            "address_since",
        }:
            continue
        if key == "address":
            clean[key] = rules.validate_address(str(value))
        elif key in {"previous_address", "domicile"}:
            clean[key] = rules.validate_optional_text(
                None if value is None else str(value), field=key, max_length=200
            )
        elif key == "domicile_head":
            clean[key] = None if not value else validate_name(str(value), field=key, max_length=40)
        else:
            clean[key] = value
    return clean


def delete_ex_officio(
    node: Node, *, actor: Actor, resident_code: str, deleted_on: date, reason_note: str
) -> ChangeResult:
    """職権消除: the municipality removes a record (e.g. the person no longer lives here)."""
    _require(actor, Permission.EX_OFFICIO)
    note = rules.validate_optional_text(reason_note, field="reason_note", max_length=400)
    if note is None:
        raise ValidationError(
            "JUKI-REG-035",
            ja="消除の理由を入力してください。",
            en="Give the reason for the deletion.",
            field="reason_note",
        )
    with node.uow() as uow:
        change = _Change(node, uow, actor)
        filing = rules.check_filing(
            event_date=deleted_on, filed_on=change.today, today=change.today, field="deleted_on"
        )
        row, before = change.load(resident_code)
        after = rules.delete_ex_officio(before, deleted_on=deleted_on)
        event_id = change.event("ex_officio_deletion", filing, note=note)
        change.save(row, after, event_id=event_id)
        change.notify(
            after, reason=ChangeReason.EX_OFFICIO_DELETION, changed_on=deleted_on, before=None
        )
        change.check_households({row.household_id})
        result = ChangeResult(event_id=event_id, late=False, records=change.views([row]))
        uow.commit()
        return result


def change_resident_code(
    node: Node,
    *,
    actor: Actor,
    resident_code: str,
    filed_on: date,
    expected_version: int | None = None,
) -> ChangeResult:
    """住民票コード変更 on the resident's request: a code from the pool; the old one retires."""
    _require(actor, Permission.FILE_EVENTS)
    with node.uow() as uow:
        change = _Change(node, uow, actor)
        filing = rules.check_filing(
            event_date=filed_on, filed_on=filed_on, today=change.today, field="filed_on"
        )
        row, before = change.load(resident_code)
        rules.ensure_expected_version(current=row.version, expected=expected_version)
        after = rules.change_code(before, new_code=change.new_code())
        uow.codes.retire(
            before.resident_code, municipality_code=node.municipality_code, now=change.now
        )
        event_id = change.event("code_change", filing)
        change.save(row, after, event_id=event_id)
        change.notify(
            after, reason=ChangeReason.CODE_CHANGE, changed_on=filed_on, before=before.identity()
        )
        result = ChangeResult(event_id=event_id, late=filing.late, records=change.views([row]))
        uow.commit()
        return result
