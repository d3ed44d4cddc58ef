"""Amendments to records on the register: moves within (転居), name changes (氏名変更), household
changes (世帯変更), ex-officio corrections (職権修正) and resident-code changes (住民票コード変更).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import date

from jukinet.data.mj_table import identified
from jukinet.domain import register as rules
from jukinet.domain.addresses import validate_address
from jukinet.domain.errors import Conflict, ValidationError
from jukinet.domain.identity import ChangeReason
from jukinet.domain.names import PersonName, validate_name
from jukinet.domain.operators import Actor, Permission
from jukinet.domain.resident_card import InvalidReason
from jukinet.services.context import ServiceContext
from jukinet.services.register.change import Change, ChangeResult
from jukinet.services.register.inputs import HouseholdChange
from jukinet.storage.tables import ResidentRow


def file_move_within(
    node: ServiceContext,
    *,
    actor: Actor,
    household_number: str,
    address: str,
    moved_on: date,
    filed_on: date,
) -> ChangeResult:
    """転居: a household moves to a new address inside the municipality."""
    actor.require(Permission.FILE_EVENTS)
    with node.uow() as uow:
        change = Change(node, uow, actor)
        filing = rules.check_filing(
            event_date=moved_on, filed_on=filed_on, today=change.today, field="moved_on"
        )
        new_address = change.local_address(address)
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
            after = rules.move_within(before, address=new_address, moved_on=moved_on)
            change.save(row, after, event_id=event_id)
            change.notify(
                after,
                reason=ChangeReason.MOVE_WITHIN,
                changed_on=moved_on,
                before=before.identity(),
            )
        return change.finish(event_id, late=filing.late, rows=rows)


def file_name_change(
    node: ServiceContext,
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
    actor.require(Permission.FILE_EVENTS)
    with node.uow() as uow:
        change = Change(node, uow, actor)
        filing = rules.check_filing(
            event_date=changed_on, filed_on=filed_on, today=change.today, field="changed_on"
        )
        name = identified(
            PersonName.create(
                family=family_name,
                given=given_name,
                family_kana=family_name_kana,
                given_kana=given_name_kana,
            )
        )
        row, before = change.load(resident_code)
        rules.ensure_expected_version(current=row.version, expected=expected_version)
        after = rules.change_name(before, name=name)
        event_id = change.event("name_change", filing)
        change.save(row, after, event_id=event_id)
        change.notify(
            after, reason=ChangeReason.NAME_CHANGE, changed_on=changed_on, before=before.identity()
        )
        return change.finish(event_id, late=filing.late, rows=[row])


def file_household_change(
    node: ServiceContext,
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
    actor.require(Permission.FILE_EVENTS)
    if not changes:
        raise ValidationError(
            "JUKI-REG-025",
            ja="変更する人を1人以上指定してください。",
            en="Name at least one person.",
            field="changes",
        )
    with node.uow() as uow:
        change = Change(node, uow, actor)
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
        return change.finish(event_id, late=filing.late, rows=rows)


def correct_record(
    node: ServiceContext,
    *,
    actor: Actor,
    resident_code: str,
    items: dict[str, object],
    reason_note: str,
    expected_version: int | None = None,
) -> ChangeResult:
    """職権修正: the municipality corrects recorded items, on a 除票 too. Supervisors only."""
    actor.require(Permission.EX_OFFICIO)
    note = rules.require_reason_note(reason_note, act_ja="修正", act_en="correction")
    with node.uow() as uow:
        change = Change(node, uow, actor)
        row, before = change.load(resident_code)
        rules.ensure_expected_version(current=row.version, expected=expected_version)
        clean = _validated_items(items, current=before.name)
        if "address" in clean:
            clean["address"] = change.local_address(str(clean["address"]))
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
        return change.finish(event_id, late=False, rows=[row])


NAME_PARTS = ("family_name", "given_name", "family_name_kana", "given_name_kana")


def _validated_items(items: dict[str, object], *, current: PersonName) -> dict[str, object]:
    """Validate correction items; name parts merge with the current name into one new name."""
    clean: dict[str, object] = {}
    parts = {k: items[k] for k in NAME_PARTS if k in items and items[k] is not None}
    if parts:
        clean["name"] = identified(
            PersonName.create(
                family=str(parts.get("family_name", current.family)),
                given=str(parts.get("given_name", current.given)),
                family_kana=str(parts.get("family_name_kana", current.family_kana)),
                given_kana=str(parts.get("given_name_kana", current.given_kana)),
            )
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
            clean[key] = validate_address(str(value))
        elif key in {"previous_address", "domicile"}:
            clean[key] = rules.validate_optional_text(
                None if value is None else str(value), field=key, max_length=200
            )
        elif key == "domicile_head":
            clean[key] = None if not value else validate_name(str(value), field=key, max_length=40)
        else:
            clean[key] = value
    return clean


def change_resident_code(
    node: ServiceContext,
    *,
    actor: Actor,
    resident_code: str,
    filed_on: date,
    expected_version: int | None = None,
) -> ChangeResult:
    """住民票コード変更 on the resident's request: a code from the pool; the old one retires."""
    actor.require(Permission.FILE_EVENTS)
    with node.uow() as uow:
        change = Change(node, uow, actor)
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
        # The chip holds the old code: the card stops working (domain.md §3).
        change.end_card(row, InvalidReason.CODE_CHANGED)
        return change.finish(event_id, late=filing.late, rows=[row])
