"""Database tables (SQLAlchemy 2). The migrations in ``storage/migrations`` must agree with these.

Counter work never deletes a row here: removed records stay as 除票, each change keeps the
version before it in ``resident_versions``, and codes are retired, never freed.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# BigInteger ids autoincrement on PostgreSQL; SQLite only autoincrements INTEGER PRIMARY KEY.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    """Declarative base with a naming convention so Alembic names constraints predictably."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def table_of(model: type[Base]) -> Table:
    """The Core table of a mapped class, for bulk statements.

    Declarative classes type ``__table__`` as a generic ``FromClause``; every model here maps
    exactly one ``Table``, so the cast only states what the mapping guarantees.
    """
    return cast(Table, model.__table__)


class OperatorRow(Base):
    """An operator account (職員): a person who works the register."""

    __tablename__ = "operators"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    username: Mapped[str] = mapped_column(String(32), unique=True)
    display_name: Mapped[str] = mapped_column(String(60))
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class HouseholdRow(Base):
    """A household (世帯): members share an address and have one head."""

    __tablename__ = "households"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    household_number: Mapped[str] = mapped_column(String(12), unique=True)
    municipality_code: Mapped[str] = mapped_column(String(6))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ResidentRow(Base):
    """The current version of one 住民票 (or 除票, when ``status`` is ``removed``)."""

    __tablename__ = "residents"
    __table_args__ = (
        Index("ix_residents_name_key", "name_key"),
        Index("ix_residents_kana_key", "kana_key"),
        Index("ix_residents_birth_date", "birth_date"),
        Index("ix_residents_household_id", "household_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    resident_code: Mapped[str] = mapped_column(String(11), unique=True)
    municipality_code: Mapped[str] = mapped_column(String(6))
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"))
    relationship: Mapped[str] = mapped_column(String(20))
    family_name: Mapped[str] = mapped_column(String(40))
    given_name: Mapped[str] = mapped_column(String(40))
    family_name_kana: Mapped[str] = mapped_column(String(60))
    given_name_kana: Mapped[str] = mapped_column(String(60))
    name_key: Mapped[str] = mapped_column(String(80))
    kana_key: Mapped[str] = mapped_column(String(120))
    birth_date: Mapped[date] = mapped_column(Date)
    sex: Mapped[str] = mapped_column(String(6))
    address: Mapped[str] = mapped_column(String(200))
    previous_address: Mapped[str | None] = mapped_column(String(200))
    domicile: Mapped[str | None] = mapped_column(String(200))
    domicile_head: Mapped[str | None] = mapped_column(String(40))
    became_resident_on: Mapped[date] = mapped_column(Date)
    address_since: Mapped[date] = mapped_column(Date)
    insurance: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(10))
    removal_reason: Mapped[str | None] = mapped_column(String(3))
    removed_on: Mapped[date | None] = mapped_column(Date)
    destination: Mapped[str | None] = mapped_column(String(200))
    upstream_opt_out: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_by: Mapped[int] = mapped_column(ForeignKey("operators.id"))

    # Optimistic locking: an UPDATE carries "WHERE version = <read version>", so of two clerks
    # editing the same record the second one's flush matches no row and is refused.
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class ResidentVersionRow(Base):
    """Every version a record has had: one row per change, never updated or deleted."""

    __tablename__ = "resident_versions"
    __table_args__ = (UniqueConstraint("resident_id", "version"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    event_id: Mapped[int] = mapped_column(ForeignKey("register_events.id"))
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RegisterEventRow(Base):
    """One counter event (異動): what was filed, when, by whom, and whether it was late."""

    __tablename__ = "register_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    event_date: Mapped[date] = mapped_column(Date)
    filed_on: Mapped[date] = mapped_column(Date)
    late: Mapped[bool] = mapped_column(Boolean)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id"))
    terminal_id: Mapped[str | None] = mapped_column(String(40))
    note: Mapped[str | None] = mapped_column(String(400))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ResidentCodeRow(Base):
    """A resident code allotted to this municipality: available, issued, or retired for ever."""

    __tablename__ = "resident_codes"
    __table_args__ = (Index("ix_resident_codes_state", "municipality_code", "state"),)

    code: Mapped[str] = mapped_column(String(11), primary_key=True)
    municipality_code: Mapped[str] = mapped_column(String(6))
    state: Mapped[str] = mapped_column(String(10))
    allotted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    issued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class OutboxRow(Base):
    """A message waiting to leave the node, written in the transaction that caused it."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "recipient", "delivered_at", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    recipient: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str | None] = mapped_column(String(40))
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class LinkRow(Base):
    """One end of a link to a neighbouring node: sequence numbers in both directions."""

    __tablename__ = "links"

    peer: Mapped[str] = mapped_column(String(40), primary_key=True)
    #: Highest sequence number given to an outgoing envelope on this link.
    last_sent: Mapped[int] = mapped_column(BigInteger, default=0)
    #: Highest sequence number the peer has acknowledged.
    last_acked: Mapped[int] = mapped_column(BigInteger, default=0)
    #: Highest sequence number received (and applied) from the peer.
    last_received: Mapped[int] = mapped_column(BigInteger, default=0)
    last_error: Mapped[str | None] = mapped_column(String(400))
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_success_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class OutboundEnvelopeRow(Base):
    """An outbox message once numbered and signed for its link; resent byte for byte."""

    __tablename__ = "outbound_envelopes"
    __table_args__ = (
        UniqueConstraint("peer", "sequence"),
        Index("ix_outbound_envelopes_unacked", "peer", "acked_at", "sequence"),
    )

    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id"), primary_key=True)
    peer: Mapped[str] = mapped_column(String(40))
    sequence: Mapped[int] = mapped_column(BigInteger)
    envelope: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(12))  # pending, applied, quarantined, held
    reason: Mapped[str | None] = mapped_column(String(400))
    acked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class InboxRow(Base):
    """Every envelope received, once: the (sender, sequence) key makes delivery idempotent."""

    __tablename__ = "inbox"
    __table_args__ = (Index("ix_inbox_subject_status", "subject", "status"),)

    sender: Mapped[str] = mapped_column(String(40), primary_key=True)
    sequence: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    envelope_id: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(12))  # applied, quarantined, held, forwarded
    reason: Mapped[str | None] = mapped_column(String(400))
    #: Kept only while quarantined, so the fault can be inspected and the notice re-applied.
    body: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class NetworkRejectionRow(Base):
    """An envelope or request refused before anything was applied (bad signature, replay...)."""

    __tablename__ = "network_rejections"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    claimed_sender: Mapped[str | None] = mapped_column(String(60))
    tls_peer: Mapped[str | None] = mapped_column(String(60))
    reason: Mapped[str] = mapped_column(String(200))
    envelope_id: Mapped[str | None] = mapped_column(String(60))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class IdentityRecordRow(Base):
    """Identity-confirmation information held at a prefecture or the national centre."""

    __tablename__ = "identity_records"
    __table_args__ = (
        Index("ix_identity_records_municipality", "municipality_code"),
        Index("ix_identity_records_four_items", "kana_key", "birth_date"),
    )

    resident_code: Mapped[str] = mapped_column(String(11), primary_key=True)
    municipality_code: Mapped[str] = mapped_column(String(6))
    family_name: Mapped[str] = mapped_column(String(40))
    given_name: Mapped[str] = mapped_column(String(40))
    family_name_kana: Mapped[str] = mapped_column(String(60))
    given_name_kana: Mapped[str] = mapped_column(String(60))
    kana_key: Mapped[str] = mapped_column(String(120))
    birth_date: Mapped[date] = mapped_column(Date)
    sex: Mapped[str] = mapped_column(String(6))
    address: Mapped[str] = mapped_column(String(200))
    deleted: Mapped[bool] = mapped_column(Boolean)
    last_reason: Mapped[str] = mapped_column(String(3))
    last_changed_on: Mapped[date] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer)
    digest: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class IdentityHistoryRow(Base):
    """Every version of identity information received, with its change information."""

    __tablename__ = "identity_history"
    __table_args__ = (
        Index("ix_identity_history_code", "resident_code", "version"),
        # Reconciliation looks up the last version a municipality reported for moved residents.
        Index("ix_identity_history_municipality", "municipality_code", "resident_code"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    resident_code: Mapped[str] = mapped_column(String(11))
    version: Mapped[int] = mapped_column(Integer)
    municipality_code: Mapped[str] = mapped_column(String(6))
    identity: Mapped[dict[str, Any]] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(String(3))
    changed_on: Mapped[date] = mapped_column(Date)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    deleted: Mapped[bool] = mapped_column(Boolean)
    source_envelope: Mapped[str] = mapped_column(String(40))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
