"""The security council's decision on the threat level, and the runbook it starts.

Recording a decision takes a security officer or a supervisor (the chief officer's delegate);
the council's chair, the time of its decision, the reason and the minutes' reference are kept.
The runbook (:mod:`jukinet.domain.emergency`) then runs by itself: level 1 tightens the
insider-signal thresholds, level 2 (and any raise above it) queues a signed incident notice for
the prefecture and the centre in the same transaction, level 3 suspends agency provision except
urgent affairs and makes personal-data pages read-only, level 4 cuts every link. At the centre,
a network-wide decision is ordered to every node.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from jukinet.data.affairs import get_affair
from jukinet.domain.emergency import (
    EMERGENCY_ROLES,
    LevelDecision,
    ThreatLevel,
    check_level_decision,
    notifies_upstream,
)
from jukinet.domain.errors import PermissionDenied
from jukinet.domain.messages import MessageKind
from jukinet.domain.network import NodeRole
from jukinet.domain.operator_events import OperatorEvent
from jukinet.domain.operators import Actor
from jukinet.services.context import ServiceContext
from jukinet.services.emergency.messages import queue_order
from jukinet.services.operator_security.events import log_event
from jukinet.storage import emergency as store
from jukinet.storage.emergency_tables import ThreatLevelRow, UrgentAffairRow
from jukinet.storage.tables import OutboxRow


@dataclass(frozen=True, slots=True)
class LevelView:
    """One decision as pages, the API and the CLI show it."""

    id: int
    scope: str
    level: int
    label_ja: str
    previous_level: int
    reason: str
    decided_by: str
    decided_at: datetime
    minutes_ref: str
    recorded_by: str
    recorded_at: datetime
    #: Whether an incident notice went into the outbox for the prefecture and the centre.
    notice_queued: bool = False


def require_emergency_role(actor: Actor) -> None:
    """A security officer or a supervisor (the chief officer's delegate); nobody else."""
    if actor.out_of_hours or actor.role not in EMERGENCY_ROLES:
        raise PermissionDenied(
            "JUKI-EMG-020",
            ja="緊急時の決定を記録できるのはセキュリティ責任者と管理職（統括責任者の代理）"
            "だけです。",
            en="Only a security officer and a supervisor (the chief officer's delegate) record "
            "emergency decisions.",
        )


def _view(row: ThreatLevelRow, *, notice_queued: bool = False) -> LevelView:
    return LevelView(
        id=row.id,
        scope=row.scope,
        level=row.level,
        label_ja=ThreatLevel(row.level).label_ja,
        previous_level=row.previous_level,
        reason=row.reason,
        decided_by=row.decided_by,
        decided_at=row.decided_at,
        minutes_ref=row.minutes_ref,
        recorded_by=row.recorded_by,
        recorded_at=row.recorded_at,
        notice_queued=notice_queued,
    )


def change_level(node: ServiceContext, *, actor: Actor, decision: LevelDecision) -> LevelView:
    """Record the council's decision and start what the new level does.

    Refused (nothing written) for a role other than the two, an invalid field (all reported at
    once), a network-wide decision outside the centre, or no change.
    """
    require_emergency_role(actor)
    network_wide = decision.scope == "network"
    with node.uow() as uow:
        current = store.current_level(uow.session, "network" if network_wide else "node")
        checked = check_level_decision(
            decision,
            current=current,
            now=node.now(),
            at_centre=node.node_id.role is NodeRole.NATIONAL,
        )
        now = node.now()
        row = ThreatLevelRow(
            scope="network" if checked.network_wide else "node",
            level=int(checked.level),
            previous_level=current,
            reason=checked.reason,
            decided_by=checked.decided_by,
            decided_at=checked.decided_at,
            minutes_ref=checked.minutes_ref,
            recorded_by=actor.username,
            recorded_at=now,
        )
        uow.session.add(row)
        uow.session.flush()
        notice = {
            "level": int(checked.level),
            "previous_level": current,
            "reason": checked.reason,
            "decided_by": checked.decided_by,
            "decided_at": checked.decided_at.isoformat(),
            "minutes_ref": checked.minutes_ref,
        }
        queued = False
        if checked.network_wide:
            queue_order(node, uow.session, {"order": "threat_level", **notice})
        elif notifies_upstream(current, int(checked.level)) and node.parent is not None:
            # Sealed by this node when it is put on the link (network.origin.seal_outgoing).
            uow.session.add(
                OutboxRow(
                    kind=MessageKind.INCIDENT_NOTICE.value,
                    recipient=node.upstream,
                    subject=None,
                    created_at=now,
                    body=notice | {"node": str(node.node_id)},
                )
            )
            queued = True
        log_event(
            node,
            uow.session,
            OperatorEvent.THREAT_LEVEL_CHANGED,
            actor=actor.username,
            text=f"{row.scope} {current} → {row.level} (minutes {checked.minutes_ref[:40]})",
            terminal=actor.terminal_id,
        )
        uow.commit()
        view = _view(row, notice_queued=queued)
    node.refresh_emergency()
    return view


def level_history(node: ServiceContext, *, limit: int = 50) -> list[LevelView]:
    """Decisions on the level, newest first (any signed-in operator sees the level)."""
    with node.read_session() as session:
        rows = session.scalars(
            select(ThreatLevelRow).order_by(ThreatLevelRow.id.desc()).limit(limit)
        )
        return [_view(row) for row in rows]


def mark_urgent(node: ServiceContext, *, actor: Actor, affair_code: str, urgent: bool) -> bool:
    """Mark an affair urgent (provided even at level 3) or take the mark away; returns the mark."""
    require_emergency_role(actor)
    code = get_affair(affair_code.strip()).code
    with node.uow() as uow:
        row = uow.session.get(UrgentAffairRow, code)
        if urgent and row is None:
            uow.session.add(
                UrgentAffairRow(affair_code=code, marked_by=actor.username, marked_at=node.now())
            )
        elif not urgent and row is not None:
            uow.session.delete(row)
        log_event(
            node,
            uow.session,
            OperatorEvent.URGENT_AFFAIR_CHANGED,
            actor=actor.username,
            text=f"{code} {'urgent' if urgent else 'not urgent'}",
            terminal=actor.terminal_id,
        )
        uow.commit()
    node.refresh_emergency()
    return urgent
