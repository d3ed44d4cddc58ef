"""The security console of a node (セキュリティ監視): what a security officer watches.

One view: the security alerts this node raised (a broken origin seal, a replayed seal, a
rewritten log, overdue deliveries), the delivery episodes past their deadline, every link's
state, and the incident notices and threat level reported to this node. The insider signals
(who read too much) have their own page, linked from the console. Opening the console is an
operator event in the access log; nothing on it names a resident.

Threat levels and incident notices come from :mod:`jukinet.services.emergency`: the level in
force on this node (its own or the network's, whichever is higher) and the signed incident
notices received from the nodes below (:func:`incident_notices`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from jukinet.domain.operator_events import OperatorEvent
from jukinet.domain.operators import Actor, Permission
from jukinet.services import deadlines, ledger
from jukinet.services.context import ServiceContext
from jukinet.services.emergency import messages as emergency_messages
from jukinet.services.operator_security.events import log_event
from jukinet.storage.security_alerts import recent_alerts


@dataclass(frozen=True, slots=True)
class IncidentNotice:
    """A signed incident notice received from a node below (threat level 2 and above).

    The shape the threat-level work fills in; the console shows every field as given.
    """

    node: str
    level: int
    reported_at: datetime
    summary: str
    decided_by: str | None = None


@dataclass(frozen=True, slots=True)
class AlertView:
    """One security alert (no resident in it: nodes, checks, counts)."""

    kind: str
    about: str
    reason: str
    raised_at: datetime


@dataclass(frozen=True, slots=True)
class Console:
    """Everything the console shows, at one moment."""

    node: str
    role: str
    now: datetime
    alerts: list[AlertView]
    overdue: list[deadlines.OverdueDelivery]
    links: list[ledger.LinkStatus]
    #: The threat level in force here (0–4); ``None`` only where a caller leaves it out.
    threat_level: int | None = None
    #: Incident notices from below, newest first.
    incidents: list[IncidentNotice] = field(default_factory=list)

    @property
    def open_overdue(self) -> int:
        """Messages overdue now (outbound, unacknowledged)."""
        return sum(o.count for o in self.overdue if o.open)


def incident_notices(node: ServiceContext, *, limit: int = 100) -> list[IncidentNotice]:
    """The signed incident notices this node received from below, newest first."""
    with node.read_session() as session:
        received = emergency_messages.incident_notices(session, limit=limit)
    return [
        IncidentNotice(
            node=notice.origin,
            level=notice.level,
            reported_at=notice.decided_at,
            summary=notice.reason,
            decided_by=f"{notice.decided_by} ({notice.minutes_ref})",
        )
        for notice in received
    ]


def log_view(node: ServiceContext, *, actor: Actor, what: str) -> None:
    """Write that ``actor`` opened ``what`` (the console, the map) to the access log."""
    with node.uow() as uow:
        log_event(
            node,
            uow.session,
            OperatorEvent.SECURITY_CONSOLE_VIEWED,
            actor=actor.username,
            text=what,
            terminal=actor.terminal_id,
        )
        uow.commit()


def console(
    node: ServiceContext,
    *,
    actor: Actor,
    incidents: Sequence[IncidentNotice] | None = None,
    threat_level: int | None = None,
    alert_limit: int = 100,
) -> Console:
    """The console for ``actor`` (a security officer), logged; raises PermissionDenied else."""
    actor.require(Permission.WATCH_SECURITY)
    with node.read_session() as session:
        alerts = [
            AlertView(a.kind, a.about, a.reason, a.raised_at)
            for a in recent_alerts(session, limit=alert_limit)
        ]
    view = Console(
        node=str(node.node_id),
        role=node.node_id.role.value,
        now=node.now(),
        alerts=alerts,
        overdue=deadlines.overdue_deliveries(node, actor=actor),
        links=ledger.link_statuses(node, actor=actor),
        threat_level=node.emergency.effective_level if threat_level is None else threat_level,
        incidents=sorted(
            incident_notices(node) if incidents is None else incidents,
            key=lambda i: i.reported_at,
            reverse=True,
        ),
    )
    log_view(node, actor=actor, what="console")
    return view
