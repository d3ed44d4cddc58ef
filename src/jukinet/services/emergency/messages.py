"""Emergency messages on the network: incident notices up, the centre's orders down.

An **incident notice** (level 2 and above) is sealed by the node that decided the level and
goes to its prefecture, which keeps it and passes it on unchanged to the centre; each checks the
seal against the origin's certificate (the inbox does, before this handler runs) and that the
origin is the sender or a node below it.

An **order** of the centre — the quarantine of a node, its lifting, the network-wide threat
level, an agency suspended network-wide — is sealed by the centre and travels down the tiers: each
prefecture applies it and passes it on to each of its municipalities. An order whose seal is not
the centre's is refused at the signature (by the inbox); one sealed by any other node, however
real its keys, is refused here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jukinet.domain.clock import aware_utc
from jukinet.domain.emergency import Scope, travelling_expiry
from jukinet.domain.messages import MessageKind
from jukinet.domain.network import NATIONAL, NodeId, parent_of
from jukinet.network.handlers import APPLIED, QUARANTINED, REFUSED, Delivery, Handler, Outcome
from jukinet.network.node import NetworkNode
from jukinet.storage.emergency_tables import (
    EmergencyDisconnectRow,
    EmergencyEventRow,
    IncidentNoticeRow,
    ThreatLevelRow,
)
from jukinet.storage.tables import OutboxRow

#: The orders the centre gives, and the scope of the cut each starts or ends.
_CUT_ORDERS = {"quarantine": Scope.NODE, "suspend_agency": Scope.AGENCY}
_LIFT_ORDERS = {"lift_quarantine": Scope.NODE, "lift_agency": Scope.AGENCY}


@dataclass(frozen=True, slots=True)
class IncidentNoticeView:
    """A received incident notice, as the security console shows it."""

    id: int
    origin: str
    sender: str
    level: int
    previous_level: int
    reason: str
    decided_by: str
    decided_at: datetime
    minutes_ref: str
    sealed_at: datetime
    received_at: datetime


def incident_notices(
    session: Session, *, origin: str | None = None, limit: int = 100
) -> list[IncidentNoticeView]:
    """Incident notices received from nodes below, newest first (``origin`` to filter)."""
    query = select(IncidentNoticeRow).order_by(IncidentNoticeRow.id.desc()).limit(limit)
    if origin is not None:
        query = query.where(IncidentNoticeRow.origin == origin)
    return [
        IncidentNoticeView(
            id=row.id,
            origin=row.origin,
            sender=row.sender,
            level=row.level,
            previous_level=row.previous_level,
            reason=row.reason,
            decided_by=row.decided_by,
            decided_at=aware_utc(row.decided_at),
            minutes_ref=row.minutes_ref,
            sealed_at=aware_utc(row.sealed_at),
            received_at=aware_utc(row.received_at),
        )
        for row in session.scalars(query)
    ]


def children_of(node: NetworkNode) -> list[str]:
    """This node's neighbours below it (from the topology and its configured peers)."""
    if node.network is None:
        return []
    here = node.node_id
    children = []
    for peer in sorted(node.network.peers):
        try:
            if parent_of(NodeId.parse(peer)) == here:
                children.append(peer)
        except ValueError:
            continue
    return children


def queue_order(node: NetworkNode, session: Session, order: dict[str, Any]) -> int:
    """Queue one of the centre's orders for each node below (sealed when put on each link)."""
    now = node.now()
    children = children_of(node)
    for child in children:
        session.add(
            OutboxRow(
                kind=MessageKind.EMERGENCY_ORDER.value,
                recipient=child,
                subject=None,
                created_at=now,
                body=order,
            )
        )
    return len(children)


def _when(value: Any) -> datetime:
    moment = datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        raise ValueError("a time without its zone")
    return moment


def receive_incident_notice(node: NetworkNode, session: Session, *, delivery: Delivery) -> Outcome:
    """Keep a notice from below; a prefecture passes it on to the centre."""
    origin, sender = delivery.origin, NodeId.parse(delivery.envelope.sender)
    if origin is None or not (origin == sender or parent_of(origin) == sender):
        return Outcome(REFUSED, f"{origin} may not send an incident notice through {sender}")
    body = delivery.body
    try:
        row = IncidentNoticeRow(
            message_id=str(body["message_id"])[:64],
            origin=str(origin),
            sender=str(sender),
            level=int(body["level"]),
            previous_level=int(body["previous_level"]),
            reason=str(body["reason"])[:400],
            decided_by=str(body["decided_by"])[:400],
            decided_at=_when(body["decided_at"]),
            minutes_ref=str(body["minutes_ref"])[:400],
            sealed_at=_when(delivery.envelope.body["sealed_at"]),
            received_at=node.now(),
        )
    except (KeyError, TypeError, ValueError) as error:
        return Outcome(QUARANTINED, f"malformed incident notice: {error}"[:200])
    if session.scalar(
        select(IncidentNoticeRow.id).where(IncidentNoticeRow.message_id == row.message_id)
    ):
        return Outcome(APPLIED, "already received")
    session.add(row)
    return Outcome(APPLIED, forward=node.parent is not None)


def apply_order(node: NetworkNode, session: Session, *, delivery: Delivery) -> Outcome:
    """Apply an order of the centre here and pass it on to the nodes below."""
    if delivery.origin != NATIONAL:
        return Outcome(REFUSED, f"only the national centre gives orders, not {delivery.origin}")
    body, now = delivery.body, node.now()
    order = str(body.get("order", ""))
    try:
        if order in _CUT_ORDERS:
            scope, target = _CUT_ORDERS[order], str(body["target"])[:80]
            row = EmergencyDisconnectRow(
                scope=scope.value,
                target=target,
                reason=str(body["reason"])[:400],
                source=str(NATIONAL),
                activated_at=now,
                expires_at=travelling_expiry(_when(body["expires_at"])),
                end_reason="",
                decided_by=str(NATIONAL),
            )
            session.add(row)
            session.flush()
            record_event(session, row, "activated", now)
        elif order in _LIFT_ORDERS:
            rows = session.scalars(
                select(EmergencyDisconnectRow).where(
                    EmergencyDisconnectRow.source == str(NATIONAL),
                    EmergencyDisconnectRow.scope == _LIFT_ORDERS[order].value,
                    EmergencyDisconnectRow.target == str(body["target"]),
                    EmergencyDisconnectRow.ended_at.is_(None),
                )
            ).all()
            for row in rows:
                row.ended_at, row.end_reason = now, str(body.get("reason", ""))[:400]
                record_event(session, row, "ended", now)
        elif order == "threat_level":
            session.add(
                ThreatLevelRow(
                    scope="network",
                    level=int(body["level"]),
                    previous_level=int(body["previous_level"]),
                    reason=str(body["reason"])[:400],
                    decided_by=str(body["decided_by"])[:400],
                    decided_at=_when(body["decided_at"]),
                    minutes_ref=str(body["minutes_ref"])[:400],
                    recorded_by=str(NATIONAL),
                    recorded_at=now,
                )
            )
        else:
            return Outcome(QUARANTINED, f"unknown order {order[:40]!r}")
    except (KeyError, TypeError, ValueError) as error:
        return Outcome(QUARANTINED, f"malformed order: {error}"[:200])
    for child in children_of(node):
        # Passed on exactly as received: every node checks the centre's own seal.
        session.add(
            OutboxRow(
                kind=MessageKind.EMERGENCY_ORDER.value,
                recipient=child,
                subject=None,
                created_at=now,
                body=delivery.envelope.body,
            )
        )
    return Outcome(APPLIED)


def record_event(session: Session, row: EmergencyDisconnectRow, action: str, now: datetime) -> None:
    session.add(
        EmergencyEventRow(
            disconnect_id=row.id,
            action=action,
            at=now,
            scope=row.scope,
            target=row.target,
            expires_at=row.expires_at,
            decided_by=row.decided_by,
            reason=row.end_reason if action == "ended" and row.end_reason else row.reason,
        )
    )


def emergency_handlers(node: NetworkNode) -> dict[MessageKind, Handler]:
    """The handlers of incident notices (upper tiers) and the centre's orders (lower tiers)."""

    def notice(delivery: Delivery) -> Outcome:
        return receive_incident_notice(node, delivery.session, delivery=delivery)

    def order(delivery: Delivery) -> Outcome:
        return apply_order(node, delivery.session, delivery=delivery)

    return {MessageKind.INCIDENT_NOTICE: notice, MessageKind.EMERGENCY_ORDER: order}
