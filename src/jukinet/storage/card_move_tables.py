"""Tables of the card move (転入転出の特例): the move-out in advance the old municipality
holds, and the arriving card the new municipality holds until it is continued.

Kept apart from :mod:`jukinet.storage.tables` (one concept per module); both share one
``Base.metadata`` and ``tables`` imports this module.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from jukinet.storage.table_base import Base, BigId


class PlannedCardMoveRow(Base):
    """A move-out in advance with the card, filed at the old municipality (転出予定)."""

    __tablename__ = "planned_card_moves"
    __table_args__ = (Index("ix_planned_card_moves_serial", "serial", "state"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: The card of the holder (its serial: the new municipality asks by it).
    serial: Mapped[str] = mapped_column(String(15))
    holder_id: Mapped[int] = mapped_column(ForeignKey("residents.id"))
    #: Everyone moving: the holder first, then the members without a card.
    resident_codes: Mapped[list[str]] = mapped_column(JSON)
    destination: Mapped[str] = mapped_column(String(200))
    destination_municipality_code: Mapped[str] = mapped_column(String(6))
    planned_on: Mapped[date] = mapped_column(Date)
    filed_on: Mapped[date] = mapped_column(Date)
    #: counter, post or online (see :class:`jukinet.domain.card_move.FilingChannel`).
    channel: Mapped[str] = mapped_column(String(10))
    #: Insurance items noted on the filing (e.g. 国保資格喪失), carried to the new municipality.
    insurance_note: Mapped[str | None] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(10))
    filed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ArrivingCardRow(Base):
    """A card that moved in with its holder: held here once continued (継続利用)."""

    __tablename__ = "arriving_cards"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    serial: Mapped[str] = mapped_column(String(15), unique=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"))
    old_municipality_code: Mapped[str] = mapped_column(String(6))
    moved_in_on: Mapped[date] = mapped_column(Date)
    #: awaiting, continued or lapsed (see :class:`jukinet.domain.card_move.ArrivalCardState`).
    state: Mapped[str] = mapped_column(String(10))
    #: The card as the old municipality held it: form, issue and expiry dates.
    card: Mapped[dict[str, Any]] = mapped_column(JSON)
    auth_public_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    sign_public_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    arrived_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    continued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
