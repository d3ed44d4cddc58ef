"""The prefectural certification authority's register of signature certificates (公的個人認証).

One row per certificate the prefecture issued: what OCSP and the CRL answer from. It keeps the
resident code the certificate was issued for (the prefecture holds it anyway, in its identity
store) so that an identity notice finds the certificates to revoke; the certificate itself
never carries it. The subject is kept only as a hash of the four items.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from jukinet.storage.table_base import Base


class JpkiCertificateRow(Base):
    """One signature certificate issued by this prefecture's CA, and whether it is revoked."""

    __tablename__ = "jpki_certificates"
    __table_args__ = (
        # Revocation on a notice looks up a resident's certificates that are still good.
        Index("ix_jpki_certificates_resident", "resident_code", "status"),
        # The CRL lists the revoked ones.
        Index("ix_jpki_certificates_status", "status", "revoked_at"),
    )

    #: The certificate's serial number, 40 lower-case hex digits (RFC 5280: at most 20 octets).
    serial: Mapped[str] = mapped_column(String(40), primary_key=True)
    card_serial: Mapped[str] = mapped_column(String(15))
    #: The municipality that asked for it (the resident's municipality at the time).
    municipality_code: Mapped[str] = mapped_column(String(6))
    resident_code: Mapped[str] = mapped_column(String(11))
    #: SHA-256 of the four items in the subject (:func:`jukinet.domain.jpki.subject_digest`).
    subject_hash: Mapped[str] = mapped_column(String(64))
    not_before: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    not_after: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: good or revoked (:class:`jukinet.domain.jpki.CertificateStatus`).
    status: Mapped[str] = mapped_column(String(10))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: :class:`jukinet.domain.jpki.RevocationReason`.
    reason: Mapped[str | None] = mapped_column(String(30))
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
