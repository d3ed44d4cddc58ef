"""Checking a certificate: genuine (signed by this node), unaltered (the very PDF handed over),
and still current (no record it printed has changed since).

Anyone holding a certificate may check it — the public page, the command line — and learns only
what the certificate itself prints. Each check is recorded in the access log.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from sqlalchemy import select

from jukinet.domain.access_log import AccessEntry, Action, ActorKind, Channel
from jukinet.domain.certificates import canonical_bytes, validate_serial
from jukinet.domain.errors import ValidationError
from jukinet.services.audit import log_public_key
from jukinet.services.certificates.render import QR_PREFIX
from jukinet.services.context import ServiceContext
from jukinet.storage import access_log
from jukinet.storage.certificate_tables import IssuedCertificateRow
from jukinet.storage.tables import ResidentRow

_MAX_PDF = 5 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class CertificateCheck:
    """The answer: genuine and unaltered, and whether still current; the printed content."""

    genuine: bool
    #: ``None`` for a wide-area copy (広域交付): the record lives at the home municipality, so
    #: only it could say whether the record changed since; this node does not claim either.
    current: bool | None
    serial: str | None
    content: dict[str, Any] | None

    @property
    def wide_area(self) -> str:
        """A wide-area copy's printed note naming its home municipality (広域交付（住所地 …）)."""
        return str((self.content or {}).get("wide_area", ""))

    @property
    def verdict_ja(self) -> str:
        """The answer in one Japanese sentence."""
        if not self.genuine:
            return (
                "この証明書は真正なものと確認できません"
                "（改ざんされたか、当市区町村の発行ではありません）。"
            )
        if self.current is None:
            return (
                f"真正な証明書です（{self.wide_area}）。"
                "発行後の変更の有無は住所地の市区町村にお問い合わせください。"
            )
        if not self.current:
            return "真正な証明書ですが、発行後に記載事項が変更されています（最新ではありません）。"
        return "真正な証明書です。発行後の変更はありません。"

    @property
    def verdict_en(self) -> str:
        """The answer in one English sentence."""
        if not self.genuine:
            return "This certificate cannot be confirmed: it was altered or not issued here."
        if self.current is None:
            return (
                f"Genuine and unaltered (a wide-area copy, {self.wide_area}); whether the record "
                "has changed since is known only to the home municipality."
            )
        if not self.current:
            return "Genuine, but the record has changed since it was issued (superseded)."
        return "Genuine and unaltered; the record has not changed since."


_NOT_GENUINE = CertificateCheck(genuine=False, current=False, serial=None, content=None)


def verify_pdf(node: ServiceContext, pdf: bytes, *, asked_by: str) -> CertificateCheck:
    """Check a certificate PDF byte for byte against the one this node handed over."""
    if not pdf or len(pdf) > _MAX_PDF or not pdf.startswith(b"%PDF"):
        raise ValidationError(
            "JUKI-CERT-020",
            ja="PDFファイル（5MBまで）を選んでください。",
            en="Choose a PDF file (at most 5 MB).",
            field="file",
        )
    digest = hashlib.sha256(pdf).hexdigest()
    with node.session_factory() as session:
        row = session.scalars(
            select(IssuedCertificateRow).where(IssuedCertificateRow.pdf_digest == digest)
        ).first()
    if row is None:
        return _NOT_GENUINE
    return _checked(node, row, asked_by=asked_by)


def verify_code(node: ServiceContext, code: str, *, asked_by: str) -> CertificateCheck:
    """Check the text of a certificate's QR code (``JUKINET-CERT:<serial>:<signature>``)."""
    prefix, _, rest = code.strip().partition(":")
    serial, _, encoded = rest.partition(":")
    try:
        if prefix != QR_PREFIX:
            raise ValueError(prefix)
        validate_serial(serial)
        signature = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    except (ValueError, binascii.Error, ValidationError):
        raise ValidationError(
            "JUKI-CERT-021",
            ja="二次元コードの内容が証明書のものではありません。",
            en="This is not a certificate's verification code.",
            field="code",
        ) from None
    with node.session_factory() as session:
        row = session.scalars(
            select(IssuedCertificateRow).where(IssuedCertificateRow.serial == serial)
        ).first()
    if row is None or bytes(row.signature) != signature:
        return _NOT_GENUINE
    return _checked(node, row, asked_by=asked_by)


def _checked(node: ServiceContext, row: IssuedCertificateRow, *, asked_by: str) -> CertificateCheck:
    try:
        log_public_key(node).verify(bytes(row.signature), canonical_bytes(dict(row.content)))
    except InvalidSignature:
        return _NOT_GENUINE
    if row.content.get("wide_area"):
        # A wide-area copy: this node printed what the home municipality answered and holds no
        # version of the record to compare with.
        return CertificateCheck(
            genuine=True, current=None, serial=row.serial, content=dict(row.content)
        )
    ids = [int(i) for i in row.versions]
    now = node.now()
    with node.session_factory() as session, session.begin():
        residents = session.scalars(select(ResidentRow).where(ResidentRow.id.in_(ids))).all()
        current = len(residents) == len(ids) and all(
            r.version == row.versions[str(r.id)] for r in residents
        )
        access_log.record(
            session,
            [
                AccessEntry(
                    recorded_at=now,
                    node=str(node.node_id),
                    action=Action.READ,
                    channel=Channel.SYSTEM,
                    actor_kind=ActorKind.SYSTEM,
                    actor=asked_by[:60],
                    subject=r.resident_code,
                    reason=f"certificate:verified {row.serial}",
                    items=("certificate",),
                )
                for r in residents
            ],
        )
    return CertificateCheck(
        genuine=True, current=current, serial=row.serial, content=dict(row.content)
    )
