"""Tables of residents' cards (住基カード): the municipality's card register and event trail,
and the card statuses every upper tier keeps by serial.

Kept apart from :mod:`jukinet.storage.tables` (one concept per module); both share one
``Base.metadata``, and ``tables`` imports this module so that every table is known to whoever
imports the metadata.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from jukinet.storage.table_base import Base, BigId

#: States in which a card still counts as the resident's card (at most one per resident).
_LIVE_STATES = "state IN ('applied', 'valid', 'suspended')"


class ResidentCardRow(Base):
    """One resident card in its municipality's register, from application to its end.

    The chip holds only the resident code and the keys; the face data of a photo ID card and
    the reference of its photo file are kept here, in the register (domain.md §5).
    """

    __tablename__ = "resident_cards"
    __table_args__ = (
        Index("ix_resident_cards_resident_id", "resident_id"),
        # One live card per resident, enforced by the database as well as the service.
        Index(
            "ix_resident_cards_one_live_card",
            "resident_id",
            unique=True,
            sqlite_where=text(_LIVE_STATES),
            postgresql_where=text(_LIVE_STATES),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    serial: Mapped[str] = mapped_column(String(15), unique=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"))
    #: The resident code written into the chip (a code change ends the card).
    resident_code: Mapped[str] = mapped_column(String(11))
    form: Mapped[str] = mapped_column(String(10))
    state: Mapped[str] = mapped_column(String(10))
    invalid_reason: Mapped[str | None] = mapped_column(String(30))
    issued_on: Mapped[date | None] = mapped_column(Date)
    expires_on: Mapped[date | None] = mapped_column(Date)
    #: Wrong PINs in a row as the register counts them (three lock the card).
    pin_failures: Mapped[int] = mapped_column(SmallInteger, default=0)
    #: The authentication key (SubjectPublicKeyInfo, DER), set at issue.
    auth_public_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: The signature key for 公的個人認証 (SubjectPublicKeyInfo, DER), set at issue.
    sign_public_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: What a photo ID card prints on its face: name, address, birth date, sex.
    face: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    #: The photo file (a reference to private storage, never the image itself).
    photo_ref: Mapped[str | None] = mapped_column(String(200))
    applied_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_by: Mapped[int] = mapped_column(ForeignKey("operators.id"))
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class ResidentCardEventRow(Base):
    """Every event of a card's life (applied, issued, wrong PIN, suspended …); never updated."""

    __tablename__ = "resident_card_events"
    __table_args__ = (Index("ix_resident_card_events_card_id", "card_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("resident_cards.id"))
    kind: Mapped[str] = mapped_column(String(30))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: The operator who acted; none for a service terminal or the network.
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("operators.id"))
    #: Where it happened: a registered terminal, a service terminal, or the network.
    place: Mapped[str | None] = mapped_column(String(80))
    #: The particulars: the ID document shown, a caller's answers, a service's code …
    details: Mapped[dict[str, Any]] = mapped_column(JSON)


class CardStatusRow(Base):
    """A card's status as an upper tier knows it (by serial; no personal data besides)."""

    __tablename__ = "card_statuses"

    serial: Mapped[str] = mapped_column(String(15), primary_key=True)
    municipality_code: Mapped[str] = mapped_column(String(6))
    status: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str | None] = mapped_column(String(30))
    expires_on: Mapped[date | None] = mapped_column(Date)
    #: The card's authentication key (DER): lets any municipality's terminal verify the card.
    auth_public_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: When the municipality changed it (the notice's own time, which orders notices).
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CardStatusCheckRow(Base):
    """One check of a card's status by serial: who asked, from where, and what was answered."""

    __tablename__ = "card_status_checks"
    __table_args__ = (Index("ix_card_status_checks_serial", "serial", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    serial: Mapped[str] = mapped_column(String(15))
    #: The node (or this node's terminal) that asked.
    asked_by: Mapped[str] = mapped_column(String(80))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: valid, suspended, invalid, unknown — or why no answer came.
    answer: Mapped[str] = mapped_column(String(80))
