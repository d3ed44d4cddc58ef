"""A prefecture's certification authority for signature certificates (公的個人認証, JPKI).

Kept apart from the network CA (a resident's certificate must never pass as a node's, nor a
node's as a resident's) and from the terminal CA. Its files live in the node's own folder, like
the node's other keys: ``ca.key`` (0600) and ``ca.crt``, and the delegated OCSP responder's
``ocsp.key`` and ``ocsp.crt`` (extended key usage OCSPSigning, issued by the CA, renewed a month
before it expires). The CA key signs through a :class:`~jukinet.network.pki.CaSigner`, so a
PKCS#11 token can hold it instead (:mod:`jukinet.network.hsm`).

What is revoked is the register's business (:mod:`jukinet.storage.jpki_tables`); this module
turns it into X.509: certificates, the CRL, and OCSP answers.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

from jukinet.config import DEFAULT_DATA_DIR, Settings
from jukinet.domain.jpki import (
    BACKDATE,
    CRL_VALIDITY,
    OCSP_VALIDITY,
    CertificateStatus,
    SubjectItems,
    malformed,
    subject_attributes,
)
from jukinet.network.pki import CaSigner, FileCaSigner
from jukinet.storage.private_files import private_folder, write_private

CA_VALIDITY: Final = dt.timedelta(days=3650)
RESPONDER_VALIDITY: Final = dt.timedelta(days=365)
#: The responder's certificate is renewed once less than this is left.
RESPONDER_RENEW_WHEN_LEFT: Final = dt.timedelta(days=30)

CA_KEY: Final = "ca.key"
CA_CERT: Final = "ca.crt"
OCSP_KEY: Final = "ocsp.key"
OCSP_CERT: Final = "ocsp.crt"

_HASHES: Final[dict[str, type[hashes.HashAlgorithm]]] = {
    "sha1": hashes.SHA1,
    "sha224": hashes.SHA224,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}


def jpki_folder(settings: Settings, prefecture: str) -> Path:
    """Where prefecture ``prefecture``'s CA lives: ``jpki/prefecture-NN`` next to the PKI
    folder (or under the data folder), one folder per prefecture."""
    base = settings.pki_dir.parent if settings.pki_dir is not None else DEFAULT_DATA_DIR
    return base / "jpki" / f"prefecture-{prefecture}"


@dataclass(frozen=True, slots=True)
class HeldStatus:
    """What the register says of one serial: good, or revoked when and why."""

    status: CertificateStatus
    revoked_at: dt.datetime | None = None
    #: ``cryptography``'s ``ReasonFlags`` member name (RFC 5280 CRLReason).
    crl_reason: str | None = None


@dataclass(frozen=True, slots=True)
class OcspQuestion:
    """A parsed OCSP request: which serial, whether it names this CA, and its nonce."""

    serial: int
    ours: bool
    request: ocsp.OCSPRequest
    nonce: bytes | None


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _key_usage(*, sign: bool, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=sign,
        content_commitment=sign and not ca,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


class PrefecturalCa:
    """The files of one prefecture's JPKI CA under ``folder``."""

    def __init__(self, folder: Path, prefecture: str, *, signer: CaSigner | None = None) -> None:
        self.folder = folder
        self.prefecture = prefecture
        self._signer = signer
        self._lock = threading.Lock()
        self._ca: x509.Certificate | None = None
        self._responder: tuple[ec.EllipticCurvePrivateKey, x509.Certificate] | None = None
        self._key_hashes: dict[str, tuple[bytes, bytes]] = {}

    # --- the files ------------------------------------------------------------------------

    @property
    def exists(self) -> bool:
        """Whether the CA has been created."""
        return (self.folder / CA_CERT).exists()

    @contextlib.contextmanager
    def _file_lock(self) -> Iterator[None]:
        # One creator at a time, across processes (nodes of a test share a parent folder).
        private_folder(self.folder)
        with (self.folder / ".lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def ensure(self, *, now: dt.datetime) -> None:
        """Create the CA and its OCSP responder unless they exist (idempotent)."""
        if self.exists:
            return
        with self._file_lock():
            if self.exists:
                return
            signer = self._signer or FileCaSigner.generate()
            if self._signer is None:
                assert isinstance(signer, FileCaSigner)
                signer.save(self.folder / CA_KEY)
            name = x509.Name(
                [
                    x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, "jukinet"),
                    x509.NameAttribute(
                        NameOID.COMMON_NAME, f"jukinet JPKI prefectural CA {self.prefecture}"
                    ),
                ]
            )
            public = signer.public_key()
            builder = (
                x509.CertificateBuilder()
                .subject_name(name)
                .issuer_name(name)
                .public_key(public)
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - BACKDATE)
                .not_valid_after(now + CA_VALIDITY)
                .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                .add_extension(_key_usage(sign=False, ca=True), critical=True)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            )
            cert = signer.sign_certificate(builder)
            (self.folder / CA_CERT).write_bytes(cert.public_bytes(serialization.Encoding.PEM))
            self._issue_responder(signer, cert, now=now)

    def certificate(self) -> x509.Certificate:
        """The CA certificate (read once)."""
        if self._ca is None:
            self._ca = x509.load_pem_x509_certificate((self.folder / CA_CERT).read_bytes())
        return self._ca

    def signer(self) -> CaSigner:
        """The CA's signer: the one given, else ``ca.key``."""
        if self._signer is None:
            self._signer = FileCaSigner.load(self.folder / CA_KEY)
        return self._signer

    # --- certificates ---------------------------------------------------------------------

    def issue(
        self,
        *,
        public_key_der: bytes,
        items: SubjectItems,
        serial: int,
        not_before: dt.datetime,
        not_after: dt.datetime,
    ) -> x509.Certificate:
        """A signature certificate for a card's P-256 key, naming the four items only."""
        try:
            public = serialization.load_der_public_key(public_key_der)
        except ValueError as error:
            raise malformed("sign_public_key") from error
        if not isinstance(public, ec.EllipticCurvePublicKey) or public.curve.name != "secp256r1":
            raise malformed("sign_public_key")
        ca = self.certificate()
        subject = x509.Name(
            [
                x509.NameAttribute(ObjectIdentifier(oid), value)
                for oid, value in subject_attributes(items)
            ]
        )
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(ca.subject)
            .public_key(public)
            .serial_number(serial)
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(sign=True, ca=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self._ca_public()),
                critical=False,
            )
        )
        return self.signer().sign_certificate(builder)

    def _ca_public(self) -> ec.EllipticCurvePublicKey:
        public = self.certificate().public_key()
        assert isinstance(public, ec.EllipticCurvePublicKey)
        return public

    # --- the CRL --------------------------------------------------------------------------

    def crl(
        self,
        revoked: Iterable[tuple[str, dt.datetime, str]],
        *,
        now: dt.datetime,
        number: int,
    ) -> bytes:
        """The CRL (DER) of ``revoked`` (hex serial, revocation time, CRLReason member name)."""
        ca = self.certificate()
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(ca.subject)
            .last_update(now - BACKDATE)
            .next_update(now + CRL_VALIDITY)
            .add_extension(x509.CRLNumber(number), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self._ca_public()),
                critical=False,
            )
        )
        for serial, when, reason in revoked:
            entry = (
                x509.RevokedCertificateBuilder()
                .serial_number(int(serial, 16))
                .revocation_date(when)
                .add_extension(x509.CRLReason(x509.ReasonFlags[reason]), critical=False)
                .build()
            )
            builder = builder.add_revoked_certificate(entry)
        return self.signer().sign_crl(builder).public_bytes(serialization.Encoding.DER)

    # --- OCSP -----------------------------------------------------------------------------

    def _issue_responder(self, signer: CaSigner, ca: x509.Certificate, *, now: dt.datetime) -> None:
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "jukinet"),
                x509.NameAttribute(
                    NameOID.COMMON_NAME, f"jukinet JPKI OCSP responder {self.prefecture}"
                ),
            ]
        )
        ca_public = ca.public_key()
        assert isinstance(ca_public, ec.EllipticCurvePublicKey)
        builder = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(ca.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - BACKDATE)
            .not_valid_after(now + RESPONDER_VALIDITY)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(sign=True, ca=False), critical=True)
            .add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.OCSP_SIGNING]), critical=False
            )
            # RFC 6960 §4.2.2.2.1: relying parties need not check the responder's own status.
            .add_extension(x509.OCSPNoCheck(), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_public), critical=False
            )
        )
        cert = signer.sign_certificate(builder)
        write_private(self.folder / OCSP_KEY, _pem_key(key))
        (self.folder / OCSP_CERT).write_bytes(cert.public_bytes(serialization.Encoding.PEM))

    def responder(self, *, now: dt.datetime) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
        """The delegated responder's key and certificate, renewed when it nears its end."""
        with self._lock:
            held = self._responder
            if held is not None and held[1].not_valid_after_utc - now > RESPONDER_RENEW_WHEN_LEFT:
                return held
            with self._file_lock():
                cert = x509.load_pem_x509_certificate((self.folder / OCSP_CERT).read_bytes())
                if cert.not_valid_after_utc - now <= RESPONDER_RENEW_WHEN_LEFT:
                    self._issue_responder(self.signer(), self.certificate(), now=now)
                    cert = x509.load_pem_x509_certificate((self.folder / OCSP_CERT).read_bytes())
                key = serialization.load_pem_private_key(
                    (self.folder / OCSP_KEY).read_bytes(), None
                )
            assert isinstance(key, ec.EllipticCurvePrivateKey)
            self._responder = (key, cert)
            return self._responder

    def _issuer_hashes(self, algorithm: str) -> tuple[bytes, bytes]:
        held = self._key_hashes.get(algorithm)
        if held is None:
            ca = self.certificate()
            name = ca.subject.public_bytes()
            key = self._ca_public().public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
            held = (hashlib.new(algorithm, name).digest(), hashlib.new(algorithm, key).digest())
            self._key_hashes[algorithm] = held
        return held

    def parse_ocsp(self, der: bytes) -> OcspQuestion:
        """Read an OCSP request (:func:`~jukinet.domain.jpki.malformed` when unreadable)."""
        try:
            request = ocsp.load_der_ocsp_request(der)
            algorithm = request.hash_algorithm.name
        except (ValueError, x509.UnsupportedGeneralNameType) as error:
            raise malformed("ocsp_request") from error
        if algorithm not in _HASHES:
            raise malformed("ocsp_request")
        name_hash, key_hash = self._issuer_hashes(algorithm)
        ours = request.issuer_name_hash == name_hash and request.issuer_key_hash == key_hash
        try:
            nonce: bytes | None = request.extensions.get_extension_for_class(
                x509.OCSPNonce
            ).value.nonce
        except x509.ExtensionNotFound:
            nonce = None
        return OcspQuestion(request.serial_number, ours, request, nonce)

    def ocsp_answer(
        self, question: OcspQuestion, held: HeldStatus | None, *, now: dt.datetime
    ) -> bytes:
        """The signed OCSP response (DER) for ``question``: good, revoked, or unknown.

        A request about another CA's certificate is answered "unauthorized" (RFC 6960 §2.3).
        """
        if not question.ours:
            return ocsp.OCSPResponseBuilder.build_unsuccessful(
                ocsp.OCSPResponseStatus.UNAUTHORIZED
            ).public_bytes(serialization.Encoding.DER)
        key, cert = self.responder(now=now)
        request = question.request
        status = ocsp.OCSPCertStatus.UNKNOWN
        revoked_at = None
        reason = None
        if held is not None and held.status is CertificateStatus.GOOD:
            status = ocsp.OCSPCertStatus.GOOD
        elif held is not None:
            status = ocsp.OCSPCertStatus.REVOKED
            revoked_at = held.revoked_at
            reason = x509.ReasonFlags[held.crl_reason] if held.crl_reason else None
        builder = ocsp.OCSPResponseBuilder().add_response_by_hash(
            issuer_name_hash=request.issuer_name_hash,
            issuer_key_hash=request.issuer_key_hash,
            serial_number=request.serial_number,
            algorithm=request.hash_algorithm,
            cert_status=status,
            this_update=now - BACKDATE,
            next_update=now + OCSP_VALIDITY,
            revocation_time=revoked_at,
            revocation_reason=reason,
        )
        builder = builder.responder_id(ocsp.OCSPResponderEncoding.HASH, cert).certificates([cert])
        if question.nonce is not None:
            builder = builder.add_extension(x509.OCSPNonce(question.nonce), critical=False)
        return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def malformed_ocsp_answer() -> bytes:
    """The OCSP answer to a request that cannot be read (RFC 6960 malformedRequest)."""
    return ocsp.OCSPResponseBuilder.build_unsuccessful(
        ocsp.OCSPResponseStatus.MALFORMED_REQUEST
    ).public_bytes(serialization.Encoding.DER)


_AUTHORITIES: dict[Path, PrefecturalCa] = {}
_AUTHORITIES_LOCK = threading.Lock()


def authority_of(settings: Settings, prefecture: str) -> PrefecturalCa:
    """This process's handle on prefecture ``prefecture``'s CA (keys read once)."""
    folder = jpki_folder(settings, prefecture)
    with _AUTHORITIES_LOCK:
        held = _AUTHORITIES.get(folder)
        if held is None or not held.exists:
            held = _AUTHORITIES[folder] = PrefecturalCa(folder, prefecture)
        return held
