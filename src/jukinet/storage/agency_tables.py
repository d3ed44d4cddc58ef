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
    #: When the officer's card answered the challenge; a session without it is only half
    #: open (password checked) and shows nothing but the card step.
    card_verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AgencyOfficerCardRow(Base):
    """An officer's own card (a FIDO2 security key), lent by the node's administrator.

    ``lent`` cards answer the sign-in challenge; a ``lost`` card is revoked at once and every
    session of its officer ends.
    """

    __tablename__ = "agency_officer_cards"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    serial: Mapped[str] = mapped_column(String(32), unique=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("agency_officers.id"), index=True)
    credential_id: Mapped[str] = mapped_column(String(200), unique=True)
    #: The credential's public key, COSE-encoded (as WebAuthn verifies it).
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    sign_count: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16))
    lent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: The operator who lent it (page or command); empty for the demo's self-enrolment.
    lent_by: Mapped[str | None] = mapped_column(String(80))
    status_changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    note: Mapped[str] = mapped_column(String(200), default="")
