"""Tables of a node's place on the network: its participation changes and resident-code blocks.

- ``participation_changes``: every change of a municipality's participation state (connected,
  disconnected, never connected) with who decided it, when and why; the newest row is the state
  in force (before any row, the node's configuration says).
- ``code_blocks``: blocks of resident codes the national centre allotted — at the centre, the
  record of every block it handed out (the codes themselves are kept in ``resident_codes`` as
  ``allotted``); at a municipality, the blocks it received.

Kept apart from :mod:`jukinet.storage.tables` (one concept per module); ``tables`` imports this
module so that every table is known to whoever imports the metadata.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from jukinet.storage.table_base import Base, BigId


class ParticipationChangeRow(Base):
    """One change of this municipality's participation state, decided by an operator."""

    __tablename__ = "participation_changes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    state: Mapped[str] = mapped_column(String(20))
    previous_state: Mapped[str] = mapped_column(String(20))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    operator: Mapped[str] = mapped_column(String(80))
    terminal: Mapped[str | None] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(String(400))
    #: Snapshots queued for upstream by the initial load that joining caused.
    snapshots_queued: Mapped[int | None] = mapped_column(Integer)


class CodeBlockRow(Base):
    """A block of resident codes the national centre allotted to one municipality."""

    __tablename__ = "code_blocks"
    __table_args__ = (Index("ix_code_blocks_municipality", "municipality_code", "allotted_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: The centre's name for the block (the same at the centre and at the municipality).
    block_id: Mapped[str] = mapped_column(String(40), unique=True)
    municipality_code: Mapped[str] = mapped_column(String(6))
    size: Mapped[int] = mapped_column(Integer)
    #: The municipality's request (its nonce), as signed by the municipality.
    request_nonce: Mapped[str] = mapped_column(String(64))
    #: The prefecture the request came through.
    via: Mapped[str] = mapped_column(String(40))
    allotted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: At the municipality: when the block reached its pool (``None`` at the centre).
    received_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
