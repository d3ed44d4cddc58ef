"""Database tables (SQLAlchemy 2). The migrations in ``storage/migrations`` must agree with these.

Counter work never deletes a row here: removed records stay as 除票, each change keeps the
version before it in ``resident_versions``, and codes are retired, never freed.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime
from typing import Any, Final

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from jukinet.storage.table_base import NAMING_CONVENTION as NAMING_CONVENTION
from jukinet.storage.table_base import Base as Base
from jukinet.storage.table_base import BigId as BigId
from jukinet.storage.table_base import table_of as table_of


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
    #: Wrong passwords in a row since the last sign-in; reaching the limit locks the account.
    failed_signins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class OperatorCardRow(Base):
    """An operator card (操作者カード): the municipality's property, lent per duty.

    ``kind`` is ``webauthn`` (a FIDO2 security key: ``credential_id`` and its COSE public key)
    or ``pkcs11`` (a token whose key signs a server challenge: the DER public key).
    """

    __tablename__ = "operator_cards"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    serial: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    #: in_stock, lent, lost (revoked at once), retired.
    status: Mapped[str] = mapped_column(String(10))
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("operators.id"))
    credential_id: Mapped[str | None] = mapped_column(String(400), unique=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    sign_count: Mapped[int] = mapped_column(BigInteger, default=0)
    registered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status_changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    note: Mapped[str] = mapped_column(String(200), default="")
    #: Enrolled by a demo operator's own first sign-in (labelled as such; demo only).
    demo_enrolled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class TerminalRow(Base):
    """A registered terminal (登録端末): a client certificate issued by the node's CA."""

    __tablename__ = "terminals"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    place: Mapped[str] = mapped_column(String(80))
    purpose: Mapped[str] = mapped_column(String(80))
    #: mtls (a client certificate) or loopback (the demo's own machine, labelled on every page).
    kind: Mapped[str] = mapped_column(String(10))
    #: SHA-256 of the client certificate, lower-case hex; empty for the loopback terminal.
    cert_fingerprint: Mapped[str] = mapped_column(String(64), default="")
    status: Mapped[str] = mapped_column(String(10))
    registered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class OperatorSessionRow(Base):
    """A signed-in session, kept on the server so that it can be ended at once."""

    __tablename__ = "operator_sessions"

    #: SHA-256 of the session secret (the cookie or token holds the secret itself).
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id"), index=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("operator_cards.id"))
    terminal: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(10))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    end_reason: Mapped[str] = mapped_column(String(80), default="")


class SigninChallengeRow(Base):
    """A one-time challenge for a card to sign (WebAuthn or a PKCS#11 token)."""

    __tablename__ = "signin_challenges"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(20))
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("operators.id"))
    challenge: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class OutOfHoursPermitRow(Base):
    """An out-of-hours permit (時間外利用許可): asked for by one operator, approved by another."""

    __tablename__ = "out_of_hours_permits"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id"), index=True)
    reason: Mapped[str] = mapped_column(String(200))
    minutes: Mapped[int] = mapped_column(Integer)
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    approved_by: Mapped[int | None] = mapped_column(ForeignKey("operators.id"))
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_by: Mapped[int | None] = mapped_column(ForeignKey("operators.id"))


class OperatingHoursRow(Base):
    """Opening hours for one weekday (0 = Monday); empty times: closed. No rows: the defaults
    (``services.operator_security.hours.DEFAULT_HOURS``)."""

    __tablename__ = "operating_hours"

    weekday: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    opens: Mapped[str] = mapped_column(String(5))
    closes: Mapped[str] = mapped_column(String(5))


class CalendarDayRow(Base):
    """A local exception to the calendar: a closure (閉庁日) or an extra opening day."""

    __tablename__ = "calendar_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    open: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(String(80))


class HouseholdRow(Base):
    """A household (世帯): members share an address and have one head."""

    __tablename__ = "households"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    household_number: Mapped[str] = mapped_column(String(12), unique=True)
    municipality_code: Mapped[str] = mapped_column(String(6))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


#: Characters of a record reference: 16 random bytes in hex.
RECORD_REF_LENGTH: Final = 32


def new_record_ref() -> str:
    """A fresh record reference: 128 random bits, in hex.

    Pages address a record by this opaque reference, never by its resident code (personal
    data) or its row id (sequential, so guessable and telling how many records there are).
    The reference stays with the row when the resident code changes.
    """
    return secrets.token_hex(RECORD_REF_LENGTH // 2)


class ResidentRow(Base):
    """The current version of one 住民票 (or 除票, when ``status`` is ``removed``)."""

    __tablename__ = "residents"
    __table_args__ = (
        Index("ix_residents_name_key", "name_key"),
        Index("ix_residents_kana_key", "kana_key"),
        Index("ix_residents_birth_date", "birth_date"),
        Index("ix_residents_household_id", "household_id"),
        Index("ix_residents_record_ref", "record_ref", unique=True),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    resident_code: Mapped[str] = mapped_column(String(11), unique=True)
    #: The opaque reference pages use in their addresses (see :func:`new_record_ref`).
    record_ref: Mapped[str] = mapped_column(String(RECORD_REF_LENGTH), default=new_record_ref)
    municipality_code: Mapped[str] = mapped_column(String(6))
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"))
    relationship: Mapped[str] = mapped_column(String(20))
    family_name: Mapped[str] = mapped_column(String(40))
    given_name: Mapped[str] = mapped_column(String(40))
    family_name_kana: Mapped[str] = mapped_column(String(60))
    given_name_kana: Mapped[str] = mapped_column(String(60))
    #: MJ identifiers of the name's characters outside JIS X 0213 (jukinet.domain.mj_names).
    family_name_mj: Mapped[str] = mapped_column(String(400), default="", server_default="")
    given_name_mj: Mapped[str] = mapped_column(String(400), default="", server_default="")
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


class RoutedReceiptRow(Base):
    """A routed message received at its destination, kept as signed evidence of who sent it.

    Keyed by (origin, message id) so a replayed message is recognised and refused.
    """

    __tablename__ = "routed_receipts"

    origin: Mapped[str] = mapped_column(String(40), primary_key=True)
    message_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    #: The sealed statement as received: the origin's signature can be checked again later.
    statement: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class IdempotencyRow(Base):
    """The first answer to an API write sent with an ``Idempotency-Key`` (kept a day)."""

    __tablename__ = "idempotency_keys"

    #: Whose key: ``operator:<id>`` or ``recipient:<id>`` (different callers' keys never meet).
    scope: Mapped[str] = mapped_column(String(80), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(SmallInteger)
    response: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


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
        Index("ix_identity_records_name_birth", "name_key", "birth_date"),
    )

    resident_code: Mapped[str] = mapped_column(String(11), primary_key=True)
    municipality_code: Mapped[str] = mapped_column(String(6))
    family_name: Mapped[str] = mapped_column(String(40))
    given_name: Mapped[str] = mapped_column(String(40))
    family_name_kana: Mapped[str] = mapped_column(String(60))
    given_name_kana: Mapped[str] = mapped_column(String(60))
    #: MJ identifiers carried with the names (jukinet.domain.mj_names), as the notice said.
    family_name_mj: Mapped[str] = mapped_column(String(400), default="", server_default="")
    given_name_mj: Mapped[str] = mapped_column(String(400), default="", server_default="")
    kana_key: Mapped[str] = mapped_column(String(120))
    #: Folded kanji key (variants folded), for queries by the four basic items in kanji.
    name_key: Mapped[str] = mapped_column(String(80), default="", server_default="")
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


class AccessLogRow(Base):
    """One access-log entry (leaf ``position`` of the node's Merkle tree); never updated.

    The only change ever made is retention: after 7 years the content columns are cleared
    (``purged_at`` set) and the leaf hash stays, so the tree and every signed head still verify.
    """

    __tablename__ = "access_log"
    __table_args__ = (
        Index("ix_access_log_subject", "subject", "position"),
        Index("ix_access_log_actor", "actor", "recorded_at"),
        Index("ix_access_log_recorded_at", "recorded_at"),
        Index("ix_access_log_job", "job_id"),
    )

    # Assigned by the log (0, 1, 2 ...) under the log's lock, not by the database.
    position: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    recorded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    node: Mapped[str | None] = mapped_column(String(40))
    action: Mapped[str | None] = mapped_column(String(12))
    channel: Mapped[str | None] = mapped_column(String(12))
    actor_kind: Mapped[str | None] = mapped_column(String(12))
    actor: Mapped[str | None] = mapped_column(String(80))
    subject: Mapped[str | None] = mapped_column(String(11))
    affair_code: Mapped[str | None] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(String(200))
    items: Mapped[str | None] = mapped_column(String(200))
    officer: Mapped[str | None] = mapped_column(String(80))
    terminal: Mapped[str | None] = mapped_column(String(40))
    case_number: Mapped[str | None] = mapped_column(String(80))
    job_id: Mapped[str | None] = mapped_column(String(40))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    purged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AccessLogSubtreeRow(Base):
    """A complete subtree hash of the log's tree at ``level`` ≥ 6 (levels below are recomputed
    from leaf hashes), so proofs over millions of entries need only a few dozen reads."""

    __tablename__ = "access_log_subtrees"

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    position: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class AccessLogStateRow(Base):
    """The log's single state row: its size and Merkle frontier; locked by every append."""

    __tablename__ = "access_log_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    size: Mapped[int] = mapped_column(BigInteger)
    frontier: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TreeHeadRow(Base):
    """A signed tree head the node published (RFC 6962 §3.5)."""

    __tablename__ = "tree_heads"

    tree_size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    timestamp: Mapped[str] = mapped_column(String(40))
    signer: Mapped[str] = mapped_column(String(200))
    signature: Mapped[bytes] = mapped_column(LargeBinary(128))
    #: 0, 1, 2 … over the chained heads (format v2); empty for heads signed before the chain.
    sequence: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    #: SHA-256 of the previous head's signed bytes (zeros for the first); empty before the chain.
    previous_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32))


class RecipientRow(Base):
    """A body registered to receive identity information (a national body, prefecture, city)."""

    __tablename__ = "recipients"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    prefecture_code: Mapped[str | None] = mapped_column(String(2))
    municipality_code: Mapped[str | None] = mapped_column(String(6))
    registered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    body: Mapped[str | None] = mapped_column(String(200))


class AffairRegistryRow(Base):
    """One append-only grant or revocation of an affair to a recipient."""

    __tablename__ = "affair_registry"

    sequence: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(8))
    recipient_id: Mapped[str] = mapped_column(ForeignKey("recipients.id"))
    affair_code: Mapped[str] = mapped_column(String(20))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    decided_by: Mapped[str] = mapped_column(String(80))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str | None] = mapped_column(String(400))
    decision: Mapped[str | None] = mapped_column(String(100))
    legal_basis: Mapped[str | None] = mapped_column(String(400))


class BatchJobRow(Base):
    """An agency's batch query: uploaded rows are processed in chunks by the node's worker."""

    __tablename__ = "batch_jobs"
    __table_args__ = (Index("ix_batch_jobs_status", "status", "created_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    recipient_id: Mapped[str] = mapped_column(String(64))
    affair_code: Mapped[str] = mapped_column(String(20))
    officer: Mapped[str] = mapped_column(String(80))
    case_number: Mapped[str | None] = mapped_column(String(80))
    query_kind: Mapped[str] = mapped_column(String(12))
    status: Mapped[str] = mapped_column(String(12))  # queued, running, done, failed
    total_rows: Mapped[int] = mapped_column(BigInteger, default=0)
    processed_rows: Mapped[int] = mapped_column(BigInteger, default=0)
    found_rows: Mapped[int] = mapped_column(BigInteger, default=0)
    error_rows: Mapped[int] = mapped_column(BigInteger, default=0)
    chunks: Mapped[int] = mapped_column(Integer, default=0)
    done_chunks: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    failure: Mapped[str | None] = mapped_column(String(400))


class BatchChunkRow(Base):
    """A slice of a batch job: its parsed input rows and, once processed, its result lines."""

    __tablename__ = "batch_chunks"

    job_id: Mapped[str] = mapped_column(ForeignKey("batch_jobs.id"), primary_key=True)
    chunk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    rows: Mapped[bytes | None] = mapped_column(LargeBinary)
    results: Mapped[bytes | None] = mapped_column(LargeBinary)


# The card tables share this metadata; importing them here makes every table known to whoever
# imports the metadata (migrations, the schema check, test clean-up).
from jukinet.storage import agency_tables as _agency_tables  # noqa: E402, F401
from jukinet.storage import card_move_tables as _card_move_tables  # noqa: E402, F401
from jukinet.storage import card_service_tables as _card_service_tables  # noqa: E402, F401
from jukinet.storage import card_tables as _card_tables  # noqa: E402, F401
from jukinet.storage import certificate_tables as _certificate_tables  # noqa: E402, F401
from jukinet.storage import delivery_tables as _delivery_tables  # noqa: E402, F401
from jukinet.storage import emergency_tables as _emergency_tables  # noqa: E402, F401
from jukinet.storage import jpki_tables as _jpki_tables  # noqa: E402, F401
from jukinet.storage import participation_tables as _participation_tables  # noqa: E402, F401
from jukinet.storage import portal_tables as _portal_tables  # noqa: E402, F401
from jukinet.storage import trust_tables as _trust_tables  # noqa: E402, F401
