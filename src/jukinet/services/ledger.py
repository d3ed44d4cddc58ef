"""The delivery ledger: per link, what was sent, acknowledged, queued, late or quarantined.

Overdue deliveries (past their deadline: :mod:`jukinet.services.deadlines`) are counted per link
and listed on the ledger page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jukinet.domain.codes import mask_resident_code
from jukinet.domain.operators import Actor, Permission
from jukinet.network.handlers import HELD, QUARANTINED, REFUSED
from jukinet.services.context import ServiceContext
from jukinet.services.deadlines import SHOWN_FOR, OverdueDelivery, overdue_by_peer
from jukinet.storage.delivery_tables import OverdueDeliveryRow
from jukinet.storage.tables import InboxRow, LinkRow, OutboundEnvelopeRow, OutboxRow

#: Messages a person must look at: faults, those held behind them, and refusals.
TROUBLE = (QUARANTINED, HELD, REFUSED)


@dataclass(frozen=True, slots=True)
class LinkStatus:
    """One link as this node sees it."""

    peer: str
    last_sent: int
    last_acked: int
    last_received: int
    queued: int
    oldest_undelivered_at: datetime | None
    oldest_undelivered_seconds: float | None
    quarantined_outbound: int
    quarantined_inbound: int
    last_error: str | None
    last_attempt_at: datetime | None
    last_success_at: datetime | None
    #: Messages to the peer unacknowledged past their delivery deadline now.
    overdue: int = 0
    #: Messages from the peer that arrived past their deadline (the last seven days).
    arrived_late: int = 0


@dataclass(frozen=True, slots=True)
class QuarantinedMessage:
    """A message held back on a link, with its reason (resident codes masked)."""

    direction: str
    peer: str
    sequence: int
    status: str
    reason: str | None
    subject: str | None


def link_statuses(node: ServiceContext, *, actor: Actor) -> list[LinkStatus]:
    """Every link of this node: configured neighbours and any link with history."""
    actor.require(Permission.READ_OUTBOX)
    now = node.now()
    with node.read_session() as session:
        links = {row.peer: row for row in session.scalars(select(LinkRow))}
        queued = dict(
            session.execute(
                select(OutboxRow.recipient, func.count())
                .where(OutboxRow.delivered_at.is_(None))
                .group_by(OutboxRow.recipient)
            ).all()
        )
        oldest = dict(
            session.execute(
                select(OutboxRow.recipient, func.min(OutboxRow.created_at))
                .where(OutboxRow.delivered_at.is_(None))
                .group_by(OutboxRow.recipient)
            ).all()
        )
        out_trouble = dict(
            session.execute(
                select(OutboundEnvelopeRow.peer, func.count())
                .where(OutboundEnvelopeRow.status.in_(TROUBLE))
                .group_by(OutboundEnvelopeRow.peer)
            ).all()
        )
        in_trouble = dict(
            session.execute(
                select(InboxRow.sender, func.count())
                .where(InboxRow.status.in_(TROUBLE))
                .group_by(InboxRow.sender)
            ).all()
        )
        late = overdue_by_peer([OverdueDelivery.of(row) for row in _recent_overdue(session, now)])
    peers = set(links) | set(queued) | set(node.network.peers if node.network else {})
    result = []
    for peer in sorted(peers):
        link = links.get(peer)
        first = oldest.get(peer)
        if first is not None and first.tzinfo is None:
            first = first.replace(tzinfo=now.tzinfo)
        result.append(
            LinkStatus(
                peer=peer,
                last_sent=link.last_sent if link else 0,
                last_acked=link.last_acked if link else 0,
                last_received=link.last_received if link else 0,
                queued=int(queued.get(peer, 0)),
                oldest_undelivered_at=first,
                oldest_undelivered_seconds=(now - first).total_seconds() if first else None,
                quarantined_outbound=int(out_trouble.get(peer, 0)),
                quarantined_inbound=int(in_trouble.get(peer, 0)),
                last_error=link.last_error if link else None,
                last_attempt_at=link.last_attempt_at if link else None,
                last_success_at=link.last_success_at if link else None,
                overdue=late.get(peer, (0, 0))[0],
                arrived_late=late.get(peer, (0, 0))[1],
            )
        )
    return result


def _recent_overdue(session: Session, now: datetime) -> list[OverdueDeliveryRow]:
    since = now - SHOWN_FOR
    return list(
        session.scalars(
            select(OverdueDeliveryRow).where(
                OverdueDeliveryRow.resolved_at.is_(None) | (OverdueDeliveryRow.resolved_at >= since)
            )
        )
    )


def quarantined_messages(
    node: ServiceContext,
    *,
    actor: Actor,
    limit: int = 200,
) -> list[QuarantinedMessage]:
    """Messages held back on either side of this node's links, newest first."""
    actor.require(Permission.READ_OUTBOX)
    with node.read_session() as session:
        inbound = session.scalars(
            select(InboxRow)
            .where(InboxRow.status.in_(TROUBLE))
            .order_by(InboxRow.received_at.desc())
            .limit(limit)
        )
        out = session.execute(
            select(OutboundEnvelopeRow, OutboxRow.subject)
            .join(OutboxRow, OutboxRow.id == OutboundEnvelopeRow.outbox_id)
            .where(OutboundEnvelopeRow.status.in_(TROUBLE))
            .order_by(OutboundEnvelopeRow.sequence.desc())
            .limit(limit)
        ).all()
        messages = [
            QuarantinedMessage(
                "inbound", r.sender, r.sequence, r.status, r.reason, _mask(r.subject)
            )
            for r in inbound
        ]
        messages += [
            QuarantinedMessage("outbound", r.peer, r.sequence, r.status, r.reason, _mask(subject))
            for r, subject in out
        ]
    return messages


def _mask(subject: str | None) -> str | None:
    # Security staff watch the flow, not the residents: codes are masked.
    return mask_resident_code(subject) if subject else None
