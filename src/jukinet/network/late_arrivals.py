"""The receiving end of delivery deadlines: messages that arrive later than their deadline.

The sending end knows a message is overdue while it waits for the acknowledgement
(:mod:`jukinet.services.deadlines`). The receiving end cannot see what was never sent, but it
learns of every overdue message the moment it arrives: each carries the time it was put on
the link (the envelope's signed ``created_at``) and, if sealed, the time its origin sealed it.
A message that arrives more than its deadline (plus the clock skew nodes may have) after the
earlier of the two was overdue; each request's late messages become one episode per kind on
the delivery ledger and one alert on this node's security console. The sender's own alert
covers the time before they arrive; a persistent sequence gap is recorded as a rejection.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from jukinet.domain.deadlines import CLOCK_SKEW, deadline_of, deadlines
from jukinet.domain.messages import MessageKind
from jukinet.network.envelope import Envelope
from jukinet.network.origin import SEALED_AT
from jukinet.storage.delivery_tables import INBOUND, OverdueDeliveryRow
from jukinet.storage.security_alerts import DELIVERY_OVERDUE, raise_alert

#: Late arrivals on a link within this long of the last ones belong to the same episode.
MERGE_WITHIN = timedelta(hours=1)


def sent_at(envelope: Envelope) -> datetime | None:
    """When the message started its way: its seal's time, else its envelope's (aware)."""
    moments = []
    for text in (envelope.body.get(SEALED_AT), envelope.created_at):
        try:
            moment = datetime.fromisoformat(str(text))
        except ValueError:
            continue
        if moment.tzinfo is not None:
            moments.append(moment)
    return min(moments) if moments else None


@dataclass
class LateArrivals:
    """Late messages of one request, counted per kind."""

    peer: str
    overrides: Mapping[str, float]
    now: datetime
    _late: dict[str, tuple[int, datetime, timedelta]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._table: dict[MessageKind, timedelta] = deadlines(self.overrides)

    def note(self, envelope: Envelope) -> None:
        """Count ``envelope`` if it arrived past its deadline."""
        started = sent_at(envelope)
        if started is None:
            return
        deadline = deadline_of(envelope.kind, self._table)
        if self.now - started <= deadline + CLOCK_SKEW:
            return
        count, oldest, _ = self._late.get(envelope.kind, (0, started, deadline))
        self._late[envelope.kind] = (count + 1, min(oldest, started), deadline)

    def record(self, session: Session) -> None:
        """Per kind with late messages: add them to the link's late episode of the last
        :data:`MERGE_WITHIN` (a long outage drains in many requests: one episode, one alert),
        or open a new one and raise one alert (in the request's transaction; no personal
        data: kinds, counts and times)."""
        for kind, (count, oldest, deadline) in sorted(self._late.items()):
            recent = session.scalars(
                select(OverdueDeliveryRow)
                .where(
                    OverdueDeliveryRow.direction == INBOUND,
                    OverdueDeliveryRow.peer == self.peer,
                    OverdueDeliveryRow.kind == kind,
                    OverdueDeliveryRow.resolved_at >= self.now - MERGE_WITHIN,
                )
                .order_by(OverdueDeliveryRow.id.desc())
                .limit(1)
            ).first()
            if recent is not None:
                recent.count += count
                recent.resolved_at = self.now
                continue
            session.add(
                OverdueDeliveryRow(
                    direction=INBOUND,
                    peer=self.peer,
                    kind=kind,
                    count=count,
                    deadline_seconds=int(deadline.total_seconds()),
                    oldest_at=oldest,
                    detected_at=self.now,
                    resolved_at=self.now,
                )
            )
            late_by = self.now - oldest - deadline
            raise_alert(
                session,
                kind=DELIVERY_OVERDUE,
                about=self.peer,
                reason=(
                    f"{count} {kind} from {self.peer} arrived past the deadline of "
                    f"{int(deadline.total_seconds())} s (the oldest by "
                    f"{int(late_by.total_seconds())} s)"
                ),
                now=self.now,
            )
