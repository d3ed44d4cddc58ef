"""Connecting and disconnecting a municipality (参加・切断): an operator's decision, logged.

A system administrator changes the state with a reason; the change is kept in
``participation_changes`` and in the access log. Joining (→ connected) queues the initial load:
a snapshot of every record the municipality reports, in chunks (:func:`initial_load`), and —
after a period disconnected — a withdrawal for each resident who opted out meanwhile (upstream
still holds what it had before the cut). Messages queued before a disconnection wait in the
outbox and leave first. ``jukinet reconcile`` confirms the result.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from jukinet.domain.errors import Conflict
from jukinet.domain.messages import MessageKind
from jukinet.domain.operator_events import OperatorEvent
from jukinet.domain.operators import Actor, Permission
from jukinet.domain.participation import (
    Participation,
    ParticipationChange,
    check_change,
    parse_participation,
    validate_reason,
)
from jukinet.services.context import ServiceContext
from jukinet.services.operator_security.events import log_event
from jukinet.services.register.notices import initial_load
from jukinet.storage import bulk, identity_records
from jukinet.storage import participation as store
from jukinet.storage.participation_tables import ParticipationChangeRow
from jukinet.storage.tables import OutboxRow, table_of


@dataclass(frozen=True, slots=True)
class ParticipationView:
    """One change as pages and the API show it."""

    state: str
    previous_state: str
    changed_at: datetime
    operator: str
    reason: str
    snapshots_queued: int | None


@dataclass(frozen=True, slots=True)
class ParticipationStatus:
    """The state in force and the changes that led to it (newest first)."""

    state: str
    node: str
    configured: str
    changes: list[ParticipationView]


@dataclass(frozen=True, slots=True)
class ParticipationFigures:
    """What the public transparency page says about participation (counts only)."""

    #: ``None`` at a prefecture or the centre (they have no register).
    state: str | None
    opt_out_allowed: bool
    residents: int
    opted_out: int


def participation_figures(node: ServiceContext) -> ParticipationFigures:
    """The municipality's state and how many residents opted out (public: no actor needed)."""
    if node.settings.role != "municipality":
        return ParticipationFigures(None, False, 0, 0)
    with node.read_session() as session:
        residents, opted_out = identity_records.opt_out_counts(session)
    return ParticipationFigures(
        state=node.participation,
        opt_out_allowed=node.settings.allow_opt_out,
        residents=residents,
        opted_out=opted_out,
    )


def _view(row: ParticipationChangeRow) -> ParticipationView:
    return ParticipationView(
        state=row.state,
        previous_state=row.previous_state,
        changed_at=row.changed_at,
        operator=row.operator,
        reason=row.reason,
        snapshots_queued=row.snapshots_queued,
    )


def _require_municipality(node: ServiceContext) -> None:
    if node.settings.role != "municipality":
        raise Conflict(
            "JUKI-NET-046",
            ja="接続状態を変更できるのは市区町村のノードだけです。",
            en="Only a municipality's node has a participation state to change.",
            field="state",
        )


def participation_status(node: ServiceContext, *, actor: Actor) -> ParticipationStatus:
    """The state in force, read again from the database, with its history."""
    actor.require(Permission.ADMINISTER_SYSTEM)
    state = node.refresh_participation()
    with node.read_session() as session:
        rows = store.changes(session)
    return ParticipationStatus(
        state=state,
        node=str(node.node_id),
        configured=node.settings.participation,
        changes=[_view(row) for row in rows],
    )


def change_participation(
    node: ServiceContext, *, actor: Actor, change: ParticipationChange
) -> ParticipationView:
    """Connect or disconnect this municipality; joining queues the initial load.

    Refused (nothing written) for a wrong role, an unknown or unchanged state, a change that is
    not allowed, a missing reason, or joining without network credentials.
    """
    actor.require(Permission.ADMINISTER_SYSTEM)
    _require_municipality(node)
    new = parse_participation(change.state)
    reason = validate_reason(change.reason)
    current = Participation(node.refresh_participation())
    check_change(current, new)
    if new is Participation.CONNECTED and (
        node.network is None or node.upstream not in node.network.peers
    ):
        raise Conflict(
            "JUKI-NET-047",
            ja="ネットワークの証明書または都道府県の接続先が設定されていないため接続できません。",
            en="This node has no network credentials or no address for its prefecture.",
            field="state",
        )
    with node.uow() as uow:
        row = ParticipationChangeRow(
            state=new.value,
            previous_state=current.value,
            changed_at=node.now(),
            operator=actor.username,
            terminal=actor.terminal_id,
            reason=reason,
        )
        uow.session.add(row)
        log_event(
            node,
            uow.session,
            OperatorEvent.PARTICIPATION_CHANGED,
            actor=actor.username,
            text=f"{current.value} → {new.value}",
            terminal=actor.terminal_id,
        )
        uow.commit()
        row_id = row.id
    node.recorded_participation = new.value
    queued: int | None = None
    if new is Participation.CONNECTED:
        queued = initial_load(node)
        if current is Participation.DISCONNECTED:
            _withdraw_opted_out(node)
        with node.uow() as uow:
            saved = uow.session.get(ParticipationChangeRow, row_id)
            assert saved is not None
            saved.snapshots_queued = queued
            uow.commit()
    with node.read_session() as session:
        saved = session.get(ParticipationChangeRow, row_id)
        assert saved is not None
        return _view(saved)


def _withdraw_opted_out(node: ServiceContext) -> int:
    """Withdrawals for residents who opted out while the municipality was disconnected."""
    with node.session_factory() as session, session.begin():
        codes = identity_records.opted_out_codes(session)
        now = node.now()
        bulk.insert_rows(
            session,
            table_of(OutboxRow),
            [
                {
                    "kind": MessageKind.IDENTITY_WITHDRAWAL.value,
                    "recipient": node.upstream,
                    "subject": code,
                    "created_at": now,
                    "body": {"resident_code": code, "municipality_code": node.municipality_code},
                }
                for code in codes
            ],
        )
    return len(codes)
