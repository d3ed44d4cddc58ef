"""What a municipality does with messages from the network, and its own network-side services.

- A move-in notice (転入通知) from the new municipality removes the old record (a 除票) — itself
  an identity notice upstream — or confirms a move-out filed earlier.
- Connecting after a period off the network sends an initial load of every record.
- A resident may opt out of upstream notification where the municipality allows it (the Yokohama
  method); upstream is then told to hold nothing about them.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jukinet.data.catalog import get_municipality
from jukinet.domain import register as rules
from jukinet.domain.card_move import PlannedMoveState
from jukinet.domain.errors import Conflict, DomainError
from jukinet.domain.identity import ChangeReason, snapshot_body
from jukinet.domain.messages import MessageKind
from jukinet.domain.network import NodeId, municipality
from jukinet.domain.operators import Actor, Permission, Role
from jukinet.domain.participation import OptOutRequest, check_opt_out_request
from jukinet.domain.resident_card import InvalidReason
from jukinet.network.handlers import APPLIED, QUARANTINED, REFUSED, Delivery, Handler, Outcome
from jukinet.services.card_move.planned import take_card_move
from jukinet.services.context import ServiceContext
from jukinet.services.register.change import Change, ChangeResult
from jukinet.storage import bulk, identity_records
from jukinet.storage.tables import OperatorRow, OutboxRow, table_of
from jukinet.storage.unit_of_work import UnitOfWork

SYSTEM_OPERATOR = "system.network"


def system_actor(session: Session, node: ServiceContext) -> Actor:
    """The account under which the network's own acts are recorded (it cannot sign in)."""
    row = session.scalars(
        select(OperatorRow).where(OperatorRow.username == SYSTEM_OPERATOR)
    ).one_or_none()
    if row is None:
        row = OperatorRow(
            username=SYSTEM_OPERATOR,
            display_name="ネットワーク処理",
            role=Role.SUPERVISOR.value,
            password_hash="!",  # noqa: S106 - not a hash: this account can never sign in
            active=False,
            created_at=node.now(),
        )
        session.add(row)
        session.flush()
    return Actor(
        operator_id=row.id,
        username=row.username,
        role=Role.SUPERVISOR,
        display_name=row.display_name,
    )


def move_in_notice_handler(node: ServiceContext) -> Handler:
    """The handler of routed move-in notices at this municipality (for the handler table)."""

    def handle(delivery: Delivery) -> Outcome:
        return handle_move_in_notice(node, delivery.session, delivery.body, origin=delivery.origin)

    return handle


def handle_move_in_notice(
    node: ServiceContext, session: Session, payload: dict[str, Any], *, origin: NodeId | None
) -> Outcome:
    """転入通知: the person now lives elsewhere; remove (or confirm the removal of) our record.

    ``origin`` is the municipality whose signature the inbox verified; the notice must speak
    for that municipality and no other (a town cannot move a resident into a third town).
    """
    try:
        code = str(payload["resident_code"])
        birth_date = date.fromisoformat(str(payload["birth_date"]))
        moved_on = date.fromisoformat(str(payload["moved_on"]))
        new_municipality = get_municipality(str(payload["new_municipality_code"]))
    except (KeyError, ValueError, DomainError):
        return Outcome(QUARANTINED, "malformed move-in notice")
    if origin is None or origin != municipality(new_municipality.code):
        return Outcome(REFUSED, "the move-in notice is not signed by the new municipality")
    if moved_on > node.today():
        return Outcome(QUARANTINED, "the move-in notice is dated in the future")
    uow = UnitOfWork.joining(session)
    row = uow.residents.find_row(code)
    if row is None or row.birth_date != birth_date:
        # Never guess: a notice that does not match a record of ours is kept for a person to see.
        return Outcome(QUARANTINED, "no matching resident for this move-in notice")
    change = Change(node, uow, system_actor(session, node))
    change.requested_by = str(municipality(new_municipality.code))
    record = uow.residents.to_record(row)
    filing = rules.Filing(event_date=moved_on, filed_on=change.today, late=False)
    if not record.is_active:
        change.event("move_out_confirmed", filing, note=f"転入通知: {new_municipality.full_name}")
        return Outcome(APPLIED, "move-out already recorded; confirmed")
    event_id = change.event(
        "move_out_by_notice", filing, note=f"転入通知: {new_municipality.full_name}"
    )
    planned = take_card_move(
        uow,
        serial=payload.get("card_move"),
        resident_code=code,
        new_municipality_code=new_municipality.code,
    )
    destination = new_municipality.full_name if planned is None else planned.destination
    after = rules.move_out(record, destination=destination, planned_on=moved_on)
    change.save(row, after, event_id=event_id)
    change.notify(after, reason=ChangeReason.MOVE_OUT, changed_on=moved_on, before=None)
    if planned is None:
        change.end_card(row, InvalidReason.MOVED_WITHOUT_CONTINUATION)
    else:
        # The card moved with its holder (転入転出の特例): the new municipality reports it now.
        change.end_card(row, InvalidReason.CONTINUED_ELSEWHERE, handed_to=new_municipality.code)
        planned.state = PlannedMoveState.COMPLETED.value
        planned.completed_at = change.now
    members = [
        uow.residents.to_record(m) for m in uow.residents.household_members(row.household_id)
    ]
    if record.is_head and any(m.is_active for m in members):
        # The household stays without its head until a clerk files the household change;
        # refusing the notice would leave the person registered in two places.
        change.event("household_head_left", filing, note="世帯主転出: 世帯変更届が必要")
    return Outcome(APPLIED)


INITIAL_LOAD_CHUNK = 2_000


def initial_load(node: ServiceContext, *, chunk: int = INITIAL_LOAD_CHUNK) -> int:
    """Queue a snapshot of every record for upstream (on connecting); returns how many.

    Works in chunks, each its own short transaction, so delivery starts while the rest is being
    queued and counter work is never blocked for long (on SQLite one long transaction would hold
    the write lock throughout). Running it twice only re-sends snapshots, which upstream applies
    idempotently as to content; reconciliation (``jukinet reconcile``) confirms the result.
    """
    if not node.connected:
        raise Conflict(
            "JUKI-NET-020",
            ja="ネットワークに接続されていません。",
            en="This municipality is not connected to the network.",
        )
    count = 0
    last_id = 0
    while True:
        with node.session_factory() as session, session.begin():
            chunk_rows = identity_records.reported_chunk(session, after_id=last_id, limit=chunk)
            if not chunk_rows:
                return count
            now = node.now()
            messages = [
                {
                    "kind": MessageKind.IDENTITY_SNAPSHOT.value,
                    "recipient": node.upstream,
                    "subject": info.resident_code,
                    "created_at": now,
                    "body": snapshot_body(node.municipality_code, info, deleted=removed),
                }
                for _row_id, info, removed in chunk_rows
            ]
            bulk.insert_rows(session, table_of(OutboxRow), messages)
            count += len(chunk_rows)
            last_id = chunk_rows[-1][0]


def set_upstream_opt_out(
    node: ServiceContext, *, actor: Actor, request: OptOutRequest
) -> ChangeResult:
    """Record a resident's request about upstream notification; upstream follows it.

    Opting out queues a withdrawal (the prefecture and the centre delete what they hold about
    the resident); opting back in queues a fresh snapshot. A municipality that is not connected
    queues nothing: joining sends what is due (:mod:`jukinet.services.participation`).
    """
    actor.require(Permission.FILE_EVENTS)
    if not node.settings.allow_opt_out:
        raise Conflict(
            "JUKI-NET-021",
            ja="この市区町村では通知の選択制を採用していません。",
            en="This municipality does not let residents opt out.",
            field="opt_out",
        )
    with node.uow() as uow:
        change = Change(node, uow, actor)
        number = check_opt_out_request(request, today=change.today)
        row, before = change.load(request.resident_code)
        rules.ensure_expected_version(current=row.version, expected=request.expected_version)
        if not before.is_active:
            raise Conflict(
                "JUKI-NET-048",
                ja="除票の方の通知の選択は変更できません。",
                en="The record is removed (除票): there is no notification to choose.",
                field="resident_code",
            )
        if before.upstream_opt_out == request.opt_out:
            raise Conflict(
                "JUKI-NET-022", ja="既にその設定です。", en="Nothing to change.", field="opt_out"
            )
        after = dataclasses.replace(before, upstream_opt_out=request.opt_out)
        filing = rules.Filing(event_date=request.requested_on, filed_on=change.today, late=False)
        event_id = change.event(
            "opt_out" if request.opt_out else "opt_in", filing, note=f"申出番号 {number}"
        )
        change.save(row, after, event_id=event_id)
        if node.connected:
            _queue_choice(node, uow, after, now=change.now)
        return change.finish(event_id, late=False, rows=[row])


def _queue_choice(
    node: ServiceContext, uow: UnitOfWork, record: rules.ResidentRecord, *, now: datetime
) -> None:
    if record.upstream_opt_out:
        uow.outbox.add(
            kind=MessageKind.IDENTITY_WITHDRAWAL.value,
            recipient=node.upstream,
            subject=record.resident_code,
            body={
                "resident_code": record.resident_code,
                "municipality_code": node.municipality_code,
            },
            now=now,
        )
    else:
        uow.outbox.add(
            kind=MessageKind.IDENTITY_SNAPSHOT.value,
            recipient=node.upstream,
            subject=record.resident_code,
            body=snapshot_body(node.municipality_code, record.identity(), deleted=False),
            now=now,
        )
