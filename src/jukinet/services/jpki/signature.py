"""Signing a file with the card (the resident) and verifying the signature (a relying party).

The resident's reader opens the card with the PIN; the card signs, with its signature key, the
canonical bytes of what is signed: the file's SHA-256, the signing time and the certificate's
SHA-256. The detached bundle (JSON) carries the signature, the certificate and its CA.

A relying party checks, against a CA certificate it pins: the file's hash, the chain (the
certificate issued by that CA, valid at the signing time, for signatures), the signature, and
the certificate's status by OCSP — the answer signed by the CA's delegated responder, for this
serial and this nonce, fresh — which tells both whether it is revoked now and whether it already
was when the file was signed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Final

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID

from jukinet.domain.errors import Conflict
from jukinet.domain.jpki import malformed
from jukinet.network import resident_card_token as chip

BUNDLE_FORMAT: Final = "jukinet-jpki-signature/1"
#: How far a responder's clock may run ahead of ours.
CLOCK_SKEW: Final = timedelta(minutes=5)


def _no_certificate() -> Conflict:
    return Conflict(
        "JUKI-JPKI-040",
        ja="このカードには署名用電子証明書がありません。市区町村の窓口で発行を受けてください。",
        en="This card holds no signature certificate: it is issued at the municipal counter.",
        field="serial",
    )


def _signed_bytes(signed: dict[str, str]) -> bytes:
    body = json.dumps(signed, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return f"{BUNDLE_FORMAT}\n{body}".encode("ascii")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def sign_file(serial: str, pin: str, data: bytes, *, now: datetime) -> dict[str, Any]:
    """The detached signature bundle of ``data``, made by the card ``serial`` opened with ``pin``.

    The card counts a wrong PIN and locks at the third (JUKI-CARD-030/014); a card without a
    certificate is refused (JUKI-JPKI-040).
    """
    with chip.ResidentCardToken.open(serial, pin) as card:
        certificate_der = card.certificate_der()
        if certificate_der is None:
            raise _no_certificate()
        certificate = x509.load_der_x509_certificate(certificate_der)
        signed = {
            "file_sha256": hashlib.sha256(data).hexdigest(),
            "signing_time": now.isoformat(),
            "certificate_sha256": hashlib.sha256(certificate_der).hexdigest(),
        }
        raw = card.sign(_signed_bytes(signed))
    half = len(raw) // 2
    signature = encode_dss_signature(
        int.from_bytes(raw[:half], "big"), int.from_bytes(raw[half:], "big")
    )
    return {
        "format": BUNDLE_FORMAT,
        "signed": signed,
        "signature": _b64(signature),
        "certificate": _b64(certificate_der),
        "issuer": certificate.issuer.rfc4514_string(),
    }


class Verdict(StrEnum):
    """What a relying party concludes."""

    VALID = "valid"
    REVOKED = "revoked"
    UNKNOWN = "unknown"
    BAD = "bad"


@dataclass(frozen=True, slots=True)
class Verification:
    """The outcome: the verdict, why, and the times that matter."""

    verdict: Verdict
    detail: str
    signing_time: datetime | None = None
    certificate_serial: str | None = None
    revoked_at: datetime | None = None
    revocation_reason: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the signature may be relied on now."""
        return self.verdict is Verdict.VALID

    @property
    def revoked_before_signing(self) -> bool:
        """Whether the certificate was already revoked when the file was signed."""
        return (
            self.revoked_at is not None
            and self.signing_time is not None
            and self.revoked_at <= self.signing_time
        )


@dataclass(frozen=True, slots=True)
class _Bundle:
    signed: dict[str, str]
    signature: bytes
    certificate: x509.Certificate
    signing_time: datetime


def _read_bundle(bundle: Any) -> _Bundle:
    try:
        if not isinstance(bundle, dict) or bundle.get("format") != BUNDLE_FORMAT:
            raise ValueError("format")
        signed = bundle["signed"]
        if not isinstance(signed, dict) or set(signed) != {
            "file_sha256",
            "signing_time",
            "certificate_sha256",
        }:
            raise ValueError("signed")
        signed = {k: str(v) for k, v in signed.items()}
        signing_time = datetime.fromisoformat(signed["signing_time"])
        if signing_time.tzinfo is None:
            raise ValueError("signing_time")
        certificate_der = base64.b64decode(str(bundle["certificate"]), validate=True)
        if hashlib.sha256(certificate_der).hexdigest() != signed["certificate_sha256"]:
            raise ValueError("certificate")
        return _Bundle(
            signed=signed,
            signature=base64.b64decode(str(bundle["signature"]), validate=True),
            certificate=x509.load_der_x509_certificate(certificate_der),
            signing_time=signing_time,
        )
    except (KeyError, ValueError, TypeError, binascii.Error) as error:
        raise malformed("signature") from error


def verify_file(
    data: bytes,
    bundle: Any,
    *,
    trust: x509.Certificate,
    ask_ocsp: Callable[[bytes], bytes],
    now: datetime,
) -> Verification:
    """Verify ``bundle`` over ``data`` against the CA ``trust``; status from ``ask_ocsp``.

    ``ask_ocsp`` posts a DER OCSP request and returns the DER response. Raises
    :class:`~jukinet.domain.errors.ValidationError` (JUKI-JPKI-001) for an unreadable bundle.
    """
    read = _read_bundle(bundle)
    certificate = read.certificate
    serial = f"{certificate.serial_number:040x}"
    bad = _static_problem(data, read, trust)
    if bad is not None:
        return Verification(Verdict.BAD, bad, read.signing_time, serial)
    nonce = secrets.token_bytes(16)
    request = (
        ocsp.OCSPRequestBuilder()
        .add_certificate(certificate, trust, hashes.SHA256())
        .add_extension(x509.OCSPNonce(nonce), critical=False)
        .build()
    )
    answer = ask_ocsp(request.public_bytes(serialization.Encoding.DER))
    single, problem = _checked_ocsp(answer, certificate, trust, nonce=nonce, now=now)
    if single is None:
        return Verification(Verdict.BAD, problem, read.signing_time, serial)
    if single.certificate_status is ocsp.OCSPCertStatus.GOOD:
        return Verification(Verdict.VALID, "good", read.signing_time, serial)
    if single.certificate_status is ocsp.OCSPCertStatus.UNKNOWN:
        return Verification(
            Verdict.UNKNOWN, "the CA does not know this certificate", read.signing_time, serial
        )
    reason = single.revocation_reason
    return Verification(
        Verdict.REVOKED,
        "revoked",
        read.signing_time,
        serial,
        revoked_at=single.revocation_time_utc,
        revocation_reason=reason.value if reason is not None else None,
    )


def _static_problem(data: bytes, read: _Bundle, trust: x509.Certificate) -> str | None:
    """What is wrong with the bundle without asking anybody, or ``None``."""
    certificate = read.certificate
    if hashlib.sha256(data).hexdigest() != read.signed["file_sha256"]:
        return "the file is not the one that was signed"
    try:
        certificate.verify_directly_issued_by(trust)
    except (ValueError, TypeError, InvalidSignature):
        return "the certificate is not issued by the trusted prefectural CA"
    if not certificate.not_valid_before_utc <= read.signing_time <= certificate.not_valid_after_utc:
        return "the certificate was not valid at the signing time"
    try:
        usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return "the certificate is not for signatures"
    if not usage.digital_signature:
        return "the certificate is not for signatures"
    public = certificate.public_key()
    if not isinstance(public, ec.EllipticCurvePublicKey):
        return "the certificate's key is not an EC key"
    try:
        public.verify(read.signature, _signed_bytes(read.signed), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return "the signature does not verify"
    return None


def _checked_ocsp(
    answer: bytes,
    certificate: x509.Certificate,
    trust: x509.Certificate,
    *,
    nonce: bytes,
    now: datetime,
) -> tuple[ocsp.OCSPSingleResponse | None, str]:
    """The single response for ``certificate`` if the answer is trustworthy, else why not."""
    try:
        response = ocsp.load_der_ocsp_response(answer)
    except ValueError:
        return None, "the OCSP answer is malformed"
    if response.response_status is not ocsp.OCSPResponseStatus.SUCCESSFUL:
        return None, f"the OCSP responder answered {response.response_status.name}"
    responder = _responder_problem(response, trust, now=now)
    if responder is not None:
        return None, responder
    try:
        got = response.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce
    except x509.ExtensionNotFound:
        got = None
    if got != nonce:
        return None, "the OCSP answer is not for this request (nonce)"
    for single in response.responses:
        if single.serial_number != certificate.serial_number:
            continue
        if single.this_update_utc > now + CLOCK_SKEW:
            return None, "the OCSP answer is from the future"
        if single.next_update_utc is not None and single.next_update_utc < now:
            return None, "the OCSP answer is stale"
        return single, ""
    return None, "the OCSP answer is about another certificate"


def _responder_problem(
    response: ocsp.OCSPResponse, trust: x509.Certificate, *, now: datetime
) -> str | None:
    for responder in response.certificates:
        try:
            responder.verify_directly_issued_by(trust)
            usage = responder.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        except (ValueError, TypeError, InvalidSignature, x509.ExtensionNotFound):
            continue
        if ExtendedKeyUsageOID.OCSP_SIGNING not in usage:
            continue
        if not responder.not_valid_before_utc <= now <= responder.not_valid_after_utc:
            continue
        public = responder.public_key()
        if not isinstance(public, ec.EllipticCurvePublicKey):
            continue
        algorithm = response.signature_hash_algorithm
        if algorithm is None:
            continue
        try:
            public.verify(response.signature, response.tbs_response_bytes, ec.ECDSA(algorithm))
        except InvalidSignature:
            continue
        return None
    return "the OCSP answer is not signed by the CA's responder"
