"""The resident portal (住民ポータル): one-time sign-in codes, sessions, and residents' requests
queued for the counter.

Codes and session tokens are stored only as SHA-256 digests: a copy of the database gives
nobody a way into a resident's portal. Shares :mod:`jukinet.storage.table_base`;
:mod:`jukinet.storage.tables` imports this module so the metadata knows the tables.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from jukinet.storage.table_base import Base, BigId


class PortalCodeRow(Base):
    """A one-time code the card printed for the browser (valid minutes, used once)."""

    __tablename__ = "portal_codes"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"), index=True)
    card_serial: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PortalSessionRow(Base):
    """A resident's portal session: opaque to the browser, ended on sign-out or card loss."""

    __tablename__ = "portal_sessions"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"), index=True)
    card_serial: Mapped[str] = mapped_column(String(20), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_reason: Mapped[str | None] = mapped_column(String(40))


class PortalTaskRow(Base):
    """A resident's request from the portal, queued for the counter, with its outcome."""

    __tablename__ = "portal_tasks"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), index=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    outcome: Mapped[str | None] = mapped_column(String(400))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[str | None] = mapped_column(String(80))
