"""Tables of emergencies (domain.md §6): threat levels, two-card disconnects, incident notices.

- ``threat_levels``: every decision of the security council on this node's level (or, at the
  centre and wherever the centre's order reached, the network-wide level); newest row in force.
- ``emergency_proposals``: one operator's card proposes to cut, renew or end; a second operator's
  card countersigns (or it lapses).
- ``emergency_disconnects``: the cuts, with their expiry by the deciding node's clock; a
  quarantine ordered by the centre is kept here too (``source`` names the centre).
- ``emergency_events``: activation, renewal and end of every cut (public: transparency page).
- ``incident_notices``: notices received from nodes below (level 2 and above), origin-sealed.
- ``urgent_affairs``: affairs still provided at threat level 3 (緊急事務).

Kept apart from :mod:`jukinet.storage.tables`; ``tables`` imports this module.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from jukinet.storage.table_base import Base, BigId


class ThreatLevelRow(Base):
    """One decision on the threat level."""

    __tablename__ = "threat_levels"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: ``node`` (this node's own level) or ``network`` (the centre's, for every node).
    scope: Mapped[str] = mapped_column(String(10))
    level: Mapped[int] = mapped_column(Integer)
    previous_level: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(400))
    decided_by: Mapped[str] = mapped_column(String(400))
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    minutes_ref: Mapped[str] = mapped_column(String(400))
    #: The operator who recorded it here (the centre's name for a network-wide order received).
    recorded_by: Mapped[str] = mapped_column(String(80))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class EmergencyDisconnectRow(Base):
    """One cut: what, why, until when, and who decided it."""

    __tablename__ = "emergency_disconnects"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    scope: Mapped[str] = mapped_column(String(10))
    target: Mapped[str] = mapped_column(String(80))
    reason: Mapped[str] = mapped_column(String(400))
    #: ``local`` (decided here) or the node that ordered it (a quarantine from the centre).
    source: Mapped[str] = mapped_column(String(40))
    activated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: By the deciding node's clock (plus the skew margin for an order that travelled).
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    end_reason: Mapped[str] = mapped_column(String(400), default="")
    #: The two operators (``proposer / countersigner``), or the ordering node.
    decided_by: Mapped[str] = mapped_column(String(200))


class EmergencyProposalRow(Base):
    """A first card's proposal, waiting for the second card."""

    __tablename__ = "emergency_proposals"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    action: Mapped[str] = mapped_column(String(10))
    disconnect_id: Mapped[int | None] = mapped_column(ForeignKey("emergency_disconnects.id"))
    scope: Mapped[str] = mapped_column(String(10), default="")
    target: Mapped[str] = mapped_column(String(80), default="")
    reason: Mapped[str] = mapped_column(String(400))
    duration_seconds: Mapped[int] = mapped_column(Integer)
    proposed_by: Mapped[str] = mapped_column(String(80))
    proposed_role: Mapped[str] = mapped_column(String(30))
    proposed_card: Mapped[str] = mapped_column(String(32))
    proposed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: open, countersigned, lapsed.
    status: Mapped[str] = mapped_column(String(15))
    countersigned_by: Mapped[str | None] = mapped_column(String(80))
    countersigned_card: Mapped[str | None] = mapped_column(String(32))
    countersigned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class EmergencyEventRow(Base):
    """Activation, renewal or end of a cut (shown on the public transparency page)."""

    __tablename__ = "emergency_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    disconnect_id: Mapped[int] = mapped_column(ForeignKey("emergency_disconnects.id"), index=True)
    action: Mapped[str] = mapped_column(String(15))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    scope: Mapped[str] = mapped_column(String(10))
    target: Mapped[str] = mapped_column(String(80))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(String(400))


class IncidentNoticeRow(Base):
    """An incident notice a node below sent (its origin's seal checked on receipt)."""

    __tablename__ = "incident_notices"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    message_id: Mapped[str] = mapped_column(String(64), unique=True)
    origin: Mapped[str] = mapped_column(String(40), index=True)
    sender: Mapped[str] = mapped_column(String(40))
    level: Mapped[int] = mapped_column(Integer)
    previous_level: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(400))
    decided_by: Mapped[str] = mapped_column(String(400))
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    minutes_ref: Mapped[str] = mapped_column(String(400))
    sealed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class UrgentAffairRow(Base):
    """An affair marked urgent: still provided at threat level 3."""

    __tablename__ = "urgent_affairs"

    affair_code: Mapped[str] = mapped_column(String(20), primary_key=True)
    marked_by: Mapped[str] = mapped_column(String(80))
    marked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
