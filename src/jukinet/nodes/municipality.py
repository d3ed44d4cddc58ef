"""What a municipality does with messages from the network, and its own network-side services.

- A move-in notice (転入通知) from the new municipality removes the old record (a 除票) — itself
  an identity notice upstream — or confirms a move-out filed earlier.
- Connecting after a period off the network sends an initial load of every record.
- A resident may opt out of upstream notification where the municipality allows it (the Yokohama
  method); upstream is then told to hold nothing about them.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from jukinet.bootstrap import Node
from jukinet.data.catalog import get_municipality
from jukinet.domain import register as rules
from jukinet.domain.errors import Conflict, DomainError
from jukinet.domain.identity import ChangeReason, IdentityInfo, snapshot_body
from jukinet.domain.operators import Actor, Permission, Role
from jukinet.domain.register import RecordStatus
from jukinet.network.envelope import Envelope
from jukinet.network.inbox import ROUTED_HANDLERS
from jukinet.nodes.identity_store import APPLIED, QUARANTINED, Outcome
from jukinet.services.register import ChangeResult, _Change
from jukinet.storage.tables import OperatorRow, OutboxRow, ResidentRow
from jukinet.storage.unit_of_work import UnitOfWork

SYSTEM_OPERATOR = "system.network"
MOVE_IN_NOTICE = "move_in_notice"


def system_actor(session: Session, node: Node) -> Actor:
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


def handle_move_in_notice(
    node: Node, session: Session, kind: str, payload: dict[str, Any], envelope: Envelope
) -> Outcome:
    """転入通知: the person now lives elsewhere; remove (or confirm the removal of) our record."""
    try:
        code = str(payload["resident_code"])
        birth_date = date.fromisoformat(str(payload["birth_date"]))
        moved_on = date.fromisoformat(str(payload["moved_on"]))
        new_municipality = get_municipality(str(payload["new_municipality_code"]))
    except (KeyError, ValueError, DomainError):
        return Outcome(QUARANTINED, "malformed move-in notice")
    uow = UnitOfWork.joining(session)
    row = uow.residents.find_row(code)
    if row is None or row.birth_date != birth_date:
        # Never guess: a notice that does not match a record of ours is kept for a person to see.
        return Outcome(QUARANTINED, "no matching resident for this move-in notice")
    change = _Change(node, uow, system_actor(session, node))
    change.requested_by = f"municipality:{new_municipality.code}"
    record = uow.residents.to_record(row)
    filing = rules.Filing(event_date=moved_on, filed_on=change.today, late=False)
    if not record.is_active:
        change.event("move_out_confirmed", filing, note=f"転入通知: {new_municipality.full_name}")
        return Outcome(APPLIED, "move-out already recorded; confirmed")
    event_id = change.event(
        "move_out_by_notice", filing, note=f"転入通知: {new_municipality.full_name}"
    )
    after = rules.move_out(record, destination=new_municipality.full_name, planned_on=moved_on)
    change.save(row, after, event_id=event_id)
    change.notify(after, reason=ChangeReason.MOVE_OUT, changed_on=moved_on, before=None)
    members = [
        uow.residents.to_record(m) for m in uow.residents.household_members(row.household_id)
    ]
    if record.is_head and any(m.is_active for m in members):
        # The household stays without its head until a clerk files the household change;
        # refusing the notice would leave the person registered in two places.
        change.event("household_head_left", filing, note="世帯主転出: 世帯変更届が必要")
    return Outcome(APPLIED)


ROUTED_HANDLERS[MOVE_IN_NOTICE] = handle_move_in_notice


INITIAL_LOAD_CHUNK = 2_000


def initial_load(node: Node, *, chunk: int = INITIAL_LOAD_CHUNK) -> int:
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
    columns = (
        ResidentRow.id,
        ResidentRow.resident_code,
        ResidentRow.family_name,
        ResidentRow.given_name,
        ResidentRow.family_name_kana,
        ResidentRow.given_name_kana,
        ResidentRow.birth_date,
        ResidentRow.sex,
        ResidentRow.address,
        ResidentRow.status,
    )
    count = 0
    last_id = 0
    while True:
        with node.session_factory() as session, session.begin():
            rows = session.execute(
                select(*columns)
                .where(ResidentRow.upstream_opt_out.is_(False), ResidentRow.id > last_id)
                .order_by(ResidentRow.id)
                .limit(chunk)
            ).all()
            if not rows:
                return count
            now = node.now()
            messages = []
            for row in rows:
                info = IdentityInfo(
                    resident_code=row.resident_code,
                    family_name=row.family_name,
                    given_name=row.given_name,
                    family_name_kana=row.family_name_kana,
                    given_name_kana=row.given_name_kana,
                    birth_date=row.birth_date,
                    sex=row.sex,
                    address=row.address,
                )
                messages.append(
                    {
                        "kind": "identity_snapshot",
                        "recipient": node.upstream,
                        "subject": row.resident_code,
                        "created_at": now,
                        "body": snapshot_body(
                            node.municipality_code,
                            info,
                            deleted=row.status != RecordStatus.ACTIVE.value,
                        ),
                    }
                )
            session.connection().execute(insert(OutboxRow), messages)
            count += len(rows)
            last_id = rows[-1].id


def set_upstream_opt_out(
    node: Node, *, actor: Actor, resident_code: str, opt_out: bool
) -> ChangeResult:
    """Record a resident's choice about upstream notification; upstream follows it."""
    actor.require(Permission.FILE_EVENTS)
    if not node.settings.allow_opt_out:
        raise Conflict(
            "JUKI-NET-021",
            ja="この市区町村では通知の選択制を採用していません。",
            en="This municipality does not let residents opt out.",
            field="opt_out",
        )
    with node.uow() as uow:
        change = _Change(node, uow, actor)
        row, before = change.load(resident_code)
        if before.upstream_opt_out == opt_out:
            raise Conflict(
                "JUKI-NET-022", ja="既にその設定です。", en="Nothing to change.", field="opt_out"
            )
        after = dataclasses.replace(before, upstream_opt_out=opt_out)
        filing = rules.Filing(event_date=change.today, filed_on=change.today, late=False)
        event_id = change.event("opt_out" if opt_out else "opt_in", filing)
        change.save(row, after, event_id=event_id)
        if node.connected:
            if opt_out:
                uow.outbox.add(
                    kind="identity_withdrawal",
                    recipient=node.upstream,
                    subject=before.resident_code,
                    body={
                        "resident_code": before.resident_code,
                        "municipality_code": node.municipality_code,
                    },
                    now=change.now,
                )
            else:
                uow.outbox.add(
                    kind="identity_snapshot",
                    recipient=node.upstream,
                    subject=after.resident_code,
                    body=snapshot_body(
                        node.municipality_code, after.identity(), deleted=not after.is_active
                    ),
                    now=change.now,
                )
        result = ChangeResult(event_id=event_id, late=False, records=change.views([row]))
        uow.commit()
        return result
