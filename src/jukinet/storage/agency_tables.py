"""Tables of the agency console (機関照会画面): the officers of each recipient and their sessions.

- ``agency_officers``: an officer's account at this node, bound to one recipient (the
  organisation whose client certificate the officer's terminal holds);
- ``agency_sessions``: a signed-in officer; only the SHA-256 of the cookie's secret is kept,
  and the session names the recipient whose certificate opened it.

Kept apart from :mod:`jukinet.storage.tables` (one concept per module); ``tables`` imports this
module so that every table is known to whoever imports the metadata.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from jukinet.storage.table_base import Base, BigId


class AgencyOfficerRow(Base):
    """An agency officer's account, for one recipient only."""

    __tablename__ = "agency_officers"
    __table_args__ = (Index("ix_agency_officers_recipient", "recipient_id", "login", unique=True),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    recipient_id: Mapped[str] = mapped_column(String(80))
    login: Mapped[str] = mapped_column(String(40))
    display_name: Mapped[str] = mapped_column(String(60))
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: Wrong passwords in a row; at the node's ``signin_lockout_after`` the account locks.
    failed_signins: Mapped[int] = mapped_column(Integer, default=0)
    locked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AgencySessionRow(Base):
    """A signed-in officer (the cookie holds the secret; this row its hash)."""

    __tablename__ = "agency_sessions"

    secret_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("agency_officers.id"))
    recipient_id: Mapped[str] = mapped_column(String(80))
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
