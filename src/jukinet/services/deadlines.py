"""Delivery deadlines at the sending end, and the list of overdue deliveries.

Every kind of notice has a deadline (:mod:`jukinet.domain.deadlines`, set per node). A
message still unacknowledged by its neighbour past its deadline is overdue: the check (run by
the node's background job every minute and by ``jukinet network deadlines``) keeps one open
episode per link and kind on the delivery ledger, raises one alert on this node's security
console when an episode opens, and closes the episode once nothing of that kind is overdue on
the link. The receiving end learns of overdue messages when they arrive
(:mod:`jukinet.network.late_arrivals`): both ends of the link see them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jukinet.domain.deadlines import deadlines
from jukinet.domain.operators import Actor, Permission
from jukinet.network import seal_memory
from jukinet.services.context import ServiceContext
from jukinet.storage.delivery_tables import INBOUND, OUTBOUND, OverdueDeliveryRow
from jukinet.storage.security_alerts import DELIVERY_OVERDUE, raise_alert
from jukinet.storage.tables import LinkRow, OutboxRow

#: How far back the ledger and the console show closed episodes.
SHOWN_FOR = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class OverdueDelivery:
    """One episode of overdue deliveries on a link (no resident in it: kinds and counts)."""

    direction: str
    peer: str
    kind: str
    count: int
    deadline_seconds: int
    oldest_at: datetime
    detected_at: datetime
    resolved_at: datetime | None

    @property
    def open(self) -> bool:
        """Whether messages are overdue still (outbound, not yet acknowledged)."""
        return self.resolved_at is None

    @classmethod
    def of(cls, row: OverdueDeliveryRow) -> OverdueDelivery:
        """The episode of a stored row."""
        return cls(
            direction=row.direction,
            peer=row.peer,
            kind=row.kind,
            count=row.count,
            deadline_seconds=row.deadline_seconds,
            oldest_at=row.oldest_at,
            detected_at=row.detected_at,
            resolved_at=row.resolved_at,
        )


def _overdue_now(
    session: Session, peers: set[str], table: dict[str, timedelta], now: datetime
) -> dict[tuple[str, str], tuple[int, datetime, timedelta]]:
    """(peer, kind) → (count, oldest queued, deadline) of unacknowledged messages past due.

    Per peer, so the outbox's pending index (recipient, delivered_at) answers: the age of the
    oldest pending message of each kind first, and a count only where one is overdue.
    """
    longest = max(table.values())
    found: dict[tuple[str, str], tuple[int, datetime, timedelta]] = {}
    for peer in sorted(peers):
        pending = OutboxRow.recipient == peer, OutboxRow.delivered_at.is_(None)
        oldest_by_kind = session.execute(
            select(OutboxRow.kind, func.min(OutboxRow.created_at))
            .where(*pending)
            .group_by(OutboxRow.kind)
        ).all()
        for kind, oldest in oldest_by_kind:
            if oldest.tzinfo is None:
                oldest = oldest.replace(tzinfo=now.tzinfo)
            deadline = table.get(kind, longest)
            if oldest >= now - deadline:
                continue
            count = session.scalar(
                select(func.count()).where(
                    *pending, OutboxRow.kind == kind, OutboxRow.created_at < now - deadline
                )
            )
            found[(peer, kind)] = (int(count or 0), oldest, deadline)
    return found


def check_deadlines(node: ServiceContext) -> list[OverdueDelivery]:
    """Open, update and close this node's outbound overdue episodes; the open ones after.

    A system job (no operator): it reads no personal data, only counts per link and kind.
    Also forgets origin seals older than the node's memory of them.
    """
    now = node.now()
    table = {k.value: v for k, v in deadlines(node.settings.delivery_deadlines).items()}
    with node.uow() as uow:
        session = uow.session
        seal_memory.forget_old(session, now=now)
        peers = set(session.scalars(select(LinkRow.peer)))
        peers |= set(node.network.peers) if node.network is not None else set()
        peers |= set(node.settings.peers)
        overdue = _overdue_now(session, peers, table, now)
        episodes = {
            (row.peer, row.kind): row
            for row in session.scalars(
                select(OverdueDeliveryRow).where(
                    OverdueDeliveryRow.direction == OUTBOUND,
                    OverdueDeliveryRow.resolved_at.is_(None),
                )
            )
        }
        for key, episode in episodes.items():
            if key not in overdue:
                episode.resolved_at = now
        for (peer, kind), (count, oldest, deadline) in sorted(overdue.items()):
            known = episodes.get((peer, kind))
            if known is not None:
                known.count, known.oldest_at = count, oldest
                continue
            session.add(
                OverdueDeliveryRow(
                    direction=OUTBOUND,
                    peer=peer,
                    kind=kind,
                    count=count,
                    deadline_seconds=int(deadline.total_seconds()),
                    oldest_at=oldest,
                    detected_at=now,
                    resolved_at=None,
                )
            )
            raise_alert(
                session,
                kind=DELIVERY_OVERDUE,
                about=peer,
                reason=(
                    f"{count} {kind} to {peer} not acknowledged within the deadline of "
                    f"{int(deadline.total_seconds())} s (the oldest queued at "
                    f"{oldest.isoformat(timespec='seconds')})"
                ),
                now=now,
            )
        uow.commit()
    return [
        OverdueDelivery(OUTBOUND, peer, kind, count, int(d.total_seconds()), oldest, now, None)
        for (peer, kind), (count, oldest, d) in sorted(overdue.items())
    ]


def overdue_deliveries(
    node: ServiceContext, *, actor: Actor, limit: int = 200
) -> list[OverdueDelivery]:
    """Open episodes and those closed within :data:`SHOWN_FOR`, newest first."""
    actor.require(Permission.READ_OUTBOX)
    since = node.now() - SHOWN_FOR
    with node.read_session() as session:
        rows = session.scalars(
            select(OverdueDeliveryRow)
            .where(
                OverdueDeliveryRow.resolved_at.is_(None) | (OverdueDeliveryRow.resolved_at >= since)
            )
            .order_by(OverdueDeliveryRow.detected_at.desc(), OverdueDeliveryRow.id.desc())
            .limit(limit)
        )
        return [OverdueDelivery.of(row) for row in rows]


def overdue_by_peer(episodes: list[OverdueDelivery]) -> dict[str, tuple[int, int]]:
    """Per peer: (messages overdue now, outbound; messages that arrived late, inbound)."""
    counts: dict[str, tuple[int, int]] = {}
    for episode in episodes:
        out, late = counts.get(episode.peer, (0, 0))
        if episode.direction == OUTBOUND and episode.open:
            out += episode.count
        elif episode.direction == INBOUND:
            late += episode.count
        counts[episode.peer] = (out, late)
    return counts
