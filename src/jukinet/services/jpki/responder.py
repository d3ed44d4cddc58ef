"""What a prefecture publishes to relying parties: its CA certificate, its CRL, OCSP answers.

Relying parties are the public, so these answers carry no personal data: a certificate's status
by serial, the list of revoked serials, the CA's own certificate. OCSP reads the register in a
read-only session (no write lock on SQLite) and signs with the delegated responder's key; the
CRL is signed by the CA and rebuilt only when a revocation happened or half its validity passed.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from cryptography.hazmat.primitives import serialization
from sqlalchemy import Engine, Row, bindparam, func, select
from sqlalchemy.exc import DBAPIError

from jukinet.domain.clock import aware_utc
from jukinet.domain.errors import NotFound, ValidationError
from jukinet.domain.jpki import CRL_VALIDITY, CertificateStatus, RevocationReason
from jukinet.domain.network import NodeRole
from jukinet.network.jpki_ca import (
    HeldStatus,
    OcspQuestion,
    PrefecturalCa,
    authority_of,
    malformed_ocsp_answer,
)
from jukinet.services.context import ServiceContext
from jukinet.services.jpki.authority import serial_hex
from jukinet.storage.database import READ_ONLY, make_engine
from jukinet.storage.jpki_tables import JpkiCertificateRow


def _no_such_authority() -> NotFound:
    return NotFound(
        "JUKI-JPKI-030",
        ja="この都道府県の認証局はここにはありません。",
        en="This node holds no certification authority for that prefecture.",
        field="prefecture",
    )


def authority(node: ServiceContext, prefecture: str) -> PrefecturalCa:
    """This prefecture node's CA, created on first use; :class:`NotFound` for any other."""
    here = node.node_id
    if here.role is not NodeRole.PREFECTURE or prefecture != here.code:
        raise _no_such_authority()
    ca = authority_of(node.settings, here.code)
    ca.ensure(now=node.now())
    return ca


def ca_certificate_der(node: ServiceContext, prefecture: str) -> bytes:
    """The prefectural CA's certificate (DER): a relying party's trust anchor."""
    return authority(node, prefecture).certificate().public_bytes(serialization.Encoding.DER)


# --- OCSP -------------------------------------------------------------------------------------


_STATUS_QUERY: Final = select(
    JpkiCertificateRow.status, JpkiCertificateRow.revoked_at, JpkiCertificateRow.reason
).where(JpkiCertificateRow.serial == bindparam("serial"))
_READ_ENGINES: weakref.WeakKeyDictionary[Engine, Engine] = weakref.WeakKeyDictionary()


def _read_engine(node: ServiceContext) -> Engine:
    # One reader per node: an ORM session per OCSP request costs more than the signature.
    # SQLite reads a WAL snapshot without taking the write lock; PostgreSQL reads in
    # autocommit on connections of its own, without the pool's ping (a dropped connection is
    # retried once, below) — a single round trip per answer.
    engine = _READ_ENGINES.get(node.engine)
    if engine is None:
        if node.engine.dialect.name == "postgresql":
            engine = make_engine(
                node.settings.database_url, isolation_level="AUTOCOMMIT", pool_pre_ping=False
            )
        else:
            engine = node.engine.execution_options(**{READ_ONLY: True})
        _READ_ENGINES[node.engine] = engine
    return engine


def _read_status(node: ServiceContext, serial: int) -> Row[str, datetime | None, str | None] | None:
    with _read_engine(node).connect() as connection:
        return connection.execute(_STATUS_QUERY, {"serial": serial_hex(serial)}).first()


def held_status(node: ServiceContext, serial: int) -> HeldStatus | None:
    """What the register says of one certificate serial (``None``: never issued here)."""
    try:
        row = _read_status(node, serial)
    except DBAPIError as error:
        if not error.connection_invalidated:
            raise
        row = _read_status(node, serial)  # the server dropped the pooled connection: once more
    if row is None:
        return None
    status = CertificateStatus(row.status)
    if status is CertificateStatus.GOOD:
        return HeldStatus(status)
    reason = RevocationReason(row.reason) if row.reason else None
    return HeldStatus(status, aware_utc(row.revoked_at), reason.crl_reason if reason else None)


def ocsp_response(node: ServiceContext, prefecture: str, request_der: bytes) -> bytes:
    """The signed OCSP response (DER) to ``request_der`` (malformedRequest if unreadable)."""
    ca = authority(node, prefecture)
    try:
        question: OcspQuestion = ca.parse_ocsp(request_der)
    except ValidationError:
        return malformed_ocsp_answer()
    held = held_status(node, question.serial) if question.ours else None
    return ca.ocsp_answer(question, held, now=node.now())


# --- the CRL ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _PublishedCrl:
    fingerprint: tuple[int, datetime | None]
    der: bytes
    signed_at: datetime


_CRLS: dict[str, _PublishedCrl] = {}
_CRL_LOCK = threading.Lock()


def crl_der(node: ServiceContext, prefecture: str) -> bytes:
    """The current CRL (DER), signed by the prefectural CA.

    Rebuilt when a certificate was revoked since the last one, or half its validity has passed;
    expired certificates drop off the list (RFC 5280 §3.3).
    """
    ca = authority(node, prefecture)
    now = node.now()
    with node.read_session() as session:
        live = (
            JpkiCertificateRow.status == CertificateStatus.REVOKED.value,
            JpkiCertificateRow.not_after > now,
        )
        count, latest = session.execute(
            select(func.count(), func.max(JpkiCertificateRow.revoked_at)).where(*live)
        ).one()
        fingerprint = (int(count), aware_utc(latest) if latest is not None else None)
        key = str(ca.folder)
        with _CRL_LOCK:
            held = _CRLS.get(key)
            if (
                held is not None
                and held.fingerprint == fingerprint
                and now - held.signed_at < CRL_VALIDITY / 2
            ):
                return held.der
            rows = session.execute(
                select(
                    JpkiCertificateRow.serial,
                    JpkiCertificateRow.revoked_at,
                    JpkiCertificateRow.reason,
                ).where(*live)
            ).all()
            der = ca.crl(
                (
                    (serial, aware_utc(when), RevocationReason(reason).crl_reason)
                    for serial, when, reason in rows
                    if when is not None and reason is not None
                ),
                now=now,
                # Increases with every list this CA signs (RFC 5280 §5.2.3).
                number=int(now.timestamp() * 1000),
            )
            _CRLS[key] = _PublishedCrl(fingerprint, der, now)
            return der
