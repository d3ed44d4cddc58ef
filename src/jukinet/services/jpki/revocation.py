"""Automatic revocation of signature certificates when an identity notice changes their subject.

Called by the identity store (:mod:`jukinet.services.identity_store`) inside the transaction
that applies a notice or a snapshot at a prefecture, before the held record is overwritten: a
notice reporting a new name, birth date, sex or address, or the record's deletion, revokes the
resident's certificates in the same commit — so OCSP answers "revoked" the moment the notice is
applied. A resident-code change revokes the certificates issued under the old code (the card
they sit on ends with the code). Nothing else does (the kana reading, a repeated notice).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from jukinet.domain.identity import ChangeReason, IdentityInfo, IdentityNotice
from jukinet.domain.jpki import (
    CertificateStatus,
    RevocationReason,
    SubjectItems,
    revocation_reason,
)
from jukinet.storage import identity_records
from jukinet.storage.jpki_tables import JpkiCertificateRow
from jukinet.storage.tables import IdentityRecordRow


class HasFourItems(Protocol):
    """Anything with the four basic items: a notice's identity, a held record, a register row."""

    @property
    def family_name(self) -> str: ...
    @property
    def given_name(self) -> str: ...
    @property
    def birth_date(self) -> date: ...
    @property
    def sex(self) -> str: ...
    @property
    def address(self) -> str: ...


def items_of(info: HasFourItems) -> SubjectItems:
    """The four basic items of an identity (a notice's, a held record's, a register row's)."""
    return SubjectItems(
        family_name=info.family_name,
        given_name=info.given_name,
        birth_date=info.birth_date,
        sex=info.sex,
        address=info.address,
    )


def on_notice(session: Session, notice: IdentityNotice, *, now: datetime) -> int:
    """Revoke what ``notice`` makes untrue; returns how many certificates were revoked."""
    revoked = 0
    if notice.reason is ChangeReason.CODE_CHANGE and notice.before is not None:
        old = notice.before.resident_code
        if old != notice.current.resident_code:
            revoked += revoke_resident(session, old, reason=RevocationReason.CODE_CHANGED, now=now)
    return revoked + on_identity(
        session,
        notice.current,
        municipality_code=notice.municipality_code,
        deleted=notice.deleted,
        now=now,
    )


def on_identity(
    session: Session,
    info: IdentityInfo,
    *,
    municipality_code: str,
    deleted: bool,
    now: datetime,
) -> int:
    """Revoke the resident's certificates if ``info`` (about to be held) changes their subject.

    A deletion revokes only what the deleting municipality asked for: a late deletion from the
    town a resident left must not revoke the certificate their new town has since obtained.
    """
    held = identity_records.find(session, info.resident_code)
    reason = revocation_reason(
        items_of(held) if held is not None else None,
        items_of(info),
        deleted=deleted,
        code_changed=False,
    )
    if reason is None:
        return 0
    return revoke_resident(
        session,
        info.resident_code,
        reason=reason,
        now=now,
        municipality_code=municipality_code if deleted else None,
    )


def on_withdrawal(
    session: Session, resident_code: str, *, municipality_code: str, now: datetime
) -> int:
    """Revoke the certificates a municipality asked for when it withdraws the resident's record
    (an opt-out): no later notice would reach the prefecture to keep them true."""
    return revoke_resident(
        session,
        resident_code,
        reason=RevocationReason.WITHDRAWN,
        now=now,
        municipality_code=municipality_code,
    )


def revoke_resident(
    session: Session,
    resident_code: str,
    *,
    reason: RevocationReason,
    now: datetime,
    municipality_code: str | None = None,
) -> int:
    """Revoke every good certificate of ``resident_code`` (of one municipality, if given)."""
    _lock_identity(session, resident_code)
    query = select(JpkiCertificateRow).where(
        JpkiCertificateRow.resident_code == resident_code,
        JpkiCertificateRow.status == CertificateStatus.GOOD.value,
    )
    if municipality_code is not None:
        query = query.where(JpkiCertificateRow.municipality_code == municipality_code)
    count = 0
    # The notice's own pending writes (the batch's history rows) need not be flushed for this.
    with session.no_autoflush:
        rows = session.scalars(query).all()
    for row in rows:
        if row.status != CertificateStatus.GOOD.value:
            continue  # revoked earlier in this batch, not yet flushed
        revoke(row, reason=reason, now=now)
        count += 1
    return count


def on_card_status(session: Session, card_serial: str, status: str, *, now: datetime) -> int:
    """Revoke the good certificates on a card that was suspended (lost) or ended.

    A lost card's signature key may be in a finder's hands, so its certificate cannot wait for the
    card to come back: resuming the card in person is followed by a new certificate.
    """
    if status == "suspended":
        reason = RevocationReason.CARD_SUSPENDED
    elif status == "invalid":
        reason = RevocationReason.CARD_ENDED
    else:
        return 0
    rows = session.scalars(
        select(JpkiCertificateRow).where(
            JpkiCertificateRow.card_serial == card_serial,
            JpkiCertificateRow.status == CertificateStatus.GOOD.value,
        )
    ).all()
    for row in rows:
        revoke(row, reason=reason, now=now)
    return len(rows)


def revoke(row: JpkiCertificateRow, *, reason: RevocationReason, now: datetime) -> None:
    """Mark one certificate revoked now, for ``reason``."""
    row.status = CertificateStatus.REVOKED.value
    row.revoked_at = now
    row.reason = reason.value


def _lock_identity(session: Session, resident_code: str) -> None:
    # PostgreSQL: take the held record's row lock first, so an issuance that is checking the
    # items (under the same lock) either commits before this looks for certificates or sees
    # the changed items afterwards. SQLite writers are serialised already (BEGIN IMMEDIATE).
    if session.get_bind().dialect.name != "postgresql":
        return
    with session.no_autoflush:
        session.execute(
            select(IdentityRecordRow.resident_code)
            .where(IdentityRecordRow.resident_code == resident_code)
            .with_for_update()
        )
