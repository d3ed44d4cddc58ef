"""Arrivals on the register: births (出生) and move-ins (転入, 職権記載)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from jukinet.data.catalog import get_municipality
from jukinet.domain import register as rules
from jukinet.domain.addresses import validate_address
from jukinet.domain.codes import validate_resident_code
from jukinet.domain.errors import Conflict, DomainError, FieldErrors, ValidationError
from jukinet.domain.identity import ChangeReason
from jukinet.domain.messages import MessageKind
from jukinet.domain.operators import Actor, Permission
from jukinet.domain.register import Relationship, ResidentRecord
from jukinet.services.context import ServiceContext
from jukinet.services.register.change import Change, ChangeResult, routed_statement
from jukinet.services.register.inputs import MoveIn, PersonInput
from jukinet.storage.repositories import name_key_of
from jukinet.storage.tables import HouseholdRow, ResidentRow

_T = TypeVar("_T")


def file_birth(
    node: ServiceContext,
    *,
    actor: Actor,
    household_number: str,
    person: PersonInput,
    filed_on: date,
) -> ChangeResult:
    """出生: a newborn joins a household; a fresh code comes from the pool."""
    actor.require(Permission.FILE_EVENTS)
    with node.uow() as uow:
        change = Change(node, uow, actor)
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
        return change.finish(event_id, late=filing.late, rows=[row])


def file_move_in(node: ServiceContext, *, actor: Actor, move_in: MoveIn) -> ChangeResult:
    """転入 (or 職権記載 with ``ex_officio``): people arrive and are entered on the register.

    Every person is validated once, before anything is written; all their errors come back
    together as one :class:`~jukinet.domain.errors.FieldErrors` naming each row
    (``persons[1].given_name``). With ``previous_municipality_code`` a move-in notice (転入通知)
    goes over the network to the old municipality, which then removes its record. People
    arriving from another municipality bring their resident code; people arriving from abroad
    bring theirs if they ever had one, otherwise a fresh one is drawn from the pool.
    """
    actor.require(Permission.EX_OFFICIO if move_in.ex_officio else Permission.FILE_EVENTS)
    if not move_in.persons:
        raise ValidationError(
            "JUKI-REG-025",
            ja="転入する人を1人以上入力してください。",
            en="Enter at least one person.",
            field="persons",
        )
    with node.uow() as uow:
        change = Change(node, uow, actor)
        arrival = enter_arrivals(node, change, move_in)
        return change.finish(arrival.event_id, late=arrival.late, rows=arrival.rows)


@dataclass(frozen=True, slots=True)
class Arrival:
    """What :func:`enter_arrivals` wrote: the event, whether late, the rows entered."""

    event_id: int
    late: bool
    rows: list[ResidentRow]
    household: HouseholdRow


def enter_arrivals(
    node: ServiceContext,
    change: Change,
    move_in: MoveIn,
    *,
    notice_extra: dict[str, object] | None = None,
    card_move: bool = False,
) -> Arrival:
    """Enter a move-in inside ``change``'s unit of work (the caller commits).

    ``notice_extra`` is added to each move-in notice (転入通知) to the old municipality (the
    card move names its card there); ``card_move`` records the event as a card move-in.
    """
    uow = change.uow
    without_notice = move_in.from_abroad or move_in.ex_officio
    filing, previous, old_municipality = _check_move_in(node, change, move_in)
    if move_in.household_number is None:
        household: HouseholdRow = uow.households.create(
            municipality_code=node.municipality_code, now=change.now
        )
        new_address = change.local_address(move_in.address)
    else:
        household = uow.households.get(move_in.household_number)
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
        if move_in.ex_officio
        else ChangeReason.MOVE_IN_FROM_ABROAD
        if move_in.from_abroad
        else ChangeReason.MOVE_IN
    )
    event_id = change.event(
        "card_move_in" if card_move else "ex_officio_entry" if move_in.ex_officio else "move_in",
        filing,
    )
    rows: list[ResidentRow] = []
    seen_codes: set[str] = set()
    for index, person in enumerate(move_in.persons):
        domicile, domicile_head = rules.validate_domicile(person.domicile, person.domicile_head)
        code = _arriving_code(change, person, from_abroad=without_notice, index=index)
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
            became_resident_on=move_in.moved_on,
            address_since=move_in.moved_on,
            domicile=domicile,
            domicile_head=domicile_head,
            insurance=person.insurance,
        )
        rows.append(change.insert(record, household_id=household.id, event_id=event_id))
        before = dataclasses.replace(record.identity(), address=previous)
        notice = None
        if old_municipality is not None:
            notice = routed_statement(
                old_municipality,
                kind=MessageKind.MOVE_IN_NOTICE,
                payload={
                    "resident_code": code,
                    "birth_date": person.birth_date.isoformat(),
                    "moved_on": move_in.moved_on.isoformat(),
                    "new_municipality_code": node.municipality_code,
                }
                | (notice_extra or {}),
            )
        change.notify(
            record,
            reason=reason,
            changed_on=move_in.moved_on,
            before=None if without_notice else before,
            handover=notice,
        )
        if notice is not None:
            change.route(statement=notice)
    change.check_households({household.id})
    return Arrival(event_id=event_id, late=filing.late, rows=rows, household=household)


def _check_move_in(
    node: ServiceContext, change: Change, move_in: MoveIn
) -> tuple[rules.Filing, str, str | None]:
    """Validate the whole filing at once: dates, addresses, the old municipality and every
    person; raises one :class:`FieldErrors` with every problem found."""
    errors: list[DomainError] = []
    filing = _collect(
        errors,
        lambda: rules.check_filing(
            event_date=move_in.moved_on,
            filed_on=move_in.filed_on,
            today=change.today,
            field="moved_on",
        ),
    )
    previous = _collect(
        errors, lambda: validate_address(move_in.previous_address, field="previous_address")
    )
    old_municipality = _collect(
        errors,
        lambda: _old_municipality(
            node,
            move_in.previous_municipality_code,
            applies=not (move_in.from_abroad or move_in.ex_officio),
        ),
    )
    for index, person in enumerate(move_in.persons):
        errors += _person_errors(person, index=index, moved_on=move_in.moved_on, today=change.today)
    if errors:
        raise FieldErrors(errors)
    # No errors: both were produced.
    assert filing is not None
    assert previous is not None
    return filing, previous, old_municipality


def _collect(errors: list[DomainError], check: Callable[[], _T]) -> _T | None:
    try:
        return check()
    except ValidationError as error:
        errors.extend(error.each())
        return None


def _old_municipality(node: ServiceContext, code: str | None, *, applies: bool) -> str | None:
    if not applies or code is None or not code.strip():
        return None
    try:
        old = get_municipality(code.strip()).code
    except DomainError as error:
        raise ValidationError(
            error.code,
            ja=error.message_ja,
            en=error.message_en,
            field="previous_municipality_code",
        ) from error
    return None if old == node.municipality_code else old


def _person_errors(
    person: PersonInput, *, index: int, moved_on: date, today: date
) -> list[DomainError]:
    """Every rule one arriving person breaks, each naming its row (``persons[1].given_name``)."""
    checks: list[Callable[[], object]] = [
        lambda: rules.validate_birth_date(person.birth_date, today=today),
        person.name,
        lambda: rules.validate_domicile(person.domicile, person.domicile_head),
    ]
    found: list[DomainError] = []
    for check in checks:
        _collect(found, check)
    if person.birth_date > moved_on:
        found.append(
            ValidationError(
                "JUKI-REG-026",
                ja="転入日が生年月日より前です。",
                en="The move-in date is before the date of birth.",
                field="moved_on",
            )
        )
    for error in found:
        if error.field and not error.field.startswith("persons[") and error.field != "moved_on":
            error.field = f"persons[{index}].{error.field}"
    return found


def _arriving_code(change: Change, person: PersonInput, *, from_abroad: bool, index: int) -> str:
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
