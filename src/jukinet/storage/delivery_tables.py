"""Tables of delivery watching: origin seals already received, and overdue deliveries.

- ``seal_receipts`` (at a prefecture and the centre): every origin seal (originating node,
  message id) accepted here, so a relay that hands over an older sealed notice a second time
  is caught (:mod:`jukinet.network.seal_memory`). Rows older than the seal memory are pruned;
  a seal older than that is refused outright.
- ``overdue_deliveries``: per link and kind of notice, an episode of deliveries past their
  deadline — outbound (still unacknowledged here) or inbound (arrived late) — for the delivery
  ledger and the security console.

Kept apart from :mod:`jukinet.storage.tables`; ``tables`` imports it so the shared metadata
knows these tables.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from jukinet.storage.table_base import Base, BigId


class SealReceiptRow(Base):
    """One origin seal accepted at this node (its identity, never its content)."""

    __tablename__ = "seal_receipts"
    __table_args__ = (Index("ix_seal_receipts_received_at", "received_at"),)

    origin: Mapped[str] = mapped_column(String(40), primary_key=True)
    message_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    sealed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


#: An episode's direction: messages this node has not delivered, or messages it received late.
OUTBOUND = "outbound"
INBOUND = "inbound"


class OverdueDeliveryRow(Base):
    """Deliveries of one kind on one link past their deadline; open until they are delivered."""

    __tablename__ = "overdue_deliveries"
    __table_args__ = (Index("ix_overdue_deliveries_open", "resolved_at", "direction", "peer"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    direction: Mapped[str] = mapped_column(String(10))
    peer: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(40))
    #: How many messages were overdue when last counted.
    count: Mapped[int] = mapped_column(Integer)
    #: The deadline that applied, in seconds.
    deadline_seconds: Mapped[int] = mapped_column(Integer)
    #: When the oldest of them was queued (outbound) or sealed or sent (inbound).
    oldest_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    detected_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: When nothing of this kind was overdue on the link any more (inbound: on arrival).
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
