"""Departures from the register: move-outs (転出), deaths (死亡), ex-officio deletions (職権消除).

Each leaves a 除票 (removed record) that stays readable, and tells upstream.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import date

from jukinet.domain import register as rules
from jukinet.domain import resident_card as card_rules
from jukinet.domain.errors import ValidationError
from jukinet.domain.identity import ChangeReason
from jukinet.domain.operators import Actor, Permission
from jukinet.domain.register import Relationship
from jukinet.domain.resident_card import InvalidReason
from jukinet.services.context import ServiceContext
from jukinet.services.register.change import Change, ChangeResult
from jukinet.storage.tables import ResidentRow


def file_move_out(
    node: ServiceContext,
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
    actor.require(Permission.FILE_EVENTS)
    if not resident_codes:
        raise ValidationError(
            "JUKI-REG-025",
            ja="転出する人を1人以上指定してください。",
            en="Name at least one person.",
            field="resident_codes",
        )
    with node.uow() as uow:
        change = Change(node, uow, actor)
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
            # Without the card move (転入転出の特例) the card does not continue elsewhere.
            change.end_card(row, card_rules.end_reason_for_move_out(destination))
            rows.append(row)
        change.check_households({r.household_id for r in rows})
        return change.finish(event_id, late=filing.late, rows=rows)


def file_death(
    node: ServiceContext,
    *,
    actor: Actor,
    resident_code: str,
    died_on: date,
    filed_on: date,
    new_head_code: str | None = None,
    expected_version: int | None = None,
) -> ChangeResult:
    """死亡: the record becomes a 除票. If the head died, name the new head of the household."""
    actor.require(Permission.FILE_EVENTS)
    with node.uow() as uow:
        change = Change(node, uow, actor)
        filing = rules.check_filing(
            event_date=died_on, filed_on=filed_on, today=change.today, field="died_on"
        )
        row, before = change.load(resident_code)
        rules.ensure_expected_version(current=row.version, expected=expected_version)
        event_id = change.event("death", filing)
        after = rules.die(before, died_on=died_on)
        change.save(row, after, event_id=event_id)
        change.notify(after, reason=ChangeReason.DEATH, changed_on=died_on, before=None)
        change.end_card(row, InvalidReason.DIED)
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
        return change.finish(event_id, late=filing.late, rows=rows)


def delete_ex_officio(
    node: ServiceContext, *, actor: Actor, resident_code: str, deleted_on: date, reason_note: str
) -> ChangeResult:
    """職権消除: the municipality removes a record (e.g. the person no longer lives here)."""
    actor.require(Permission.EX_OFFICIO)
    note = rules.require_reason_note(reason_note, act_ja="消除", act_en="deletion")
    with node.uow() as uow:
        change = Change(node, uow, actor)
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
        change.end_card(row, InvalidReason.DELETED_EX_OFFICIO)
        change.check_households({row.household_id})
        return change.finish(event_id, late=False, rows=[row])
