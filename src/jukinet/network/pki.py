"""The network's private PKI: a root CA, node certificates, signing keys and revocation.

Every node gets a TLS certificate (ECDSA P-256, server and client use) and an Ed25519 signing
key whose certificate is issued by the same CA. Both name the node in a URI subject alternative
name ``urn:jukinet:node:<role>:<code>``, which is what peers check — not the common name.
The CA key signs through a :class:`CaSigner`, so it can live in a file (demo) or in a PKCS#11
token (see :mod:`jukinet.network.hsm`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import ipaddress
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from jukinet.domain.revocation import CRL_BACKDATE, CRL_VALIDITY, DEFAULT_POLICY, RevocationPolicy
from jukinet.storage.private_files import private_folder, write_private

NODE_URI_PREFIX = "urn:jukinet:node:"
CA_VALIDITY = dt.timedelta(days=3650)
NODE_VALIDITY = dt.timedelta(days=825)


class CaSigner(Protocol):
    """Signs certificates and revocation lists with the network CA's key."""

    def public_key(self) -> ec.EllipticCurvePublicKey:
        """The CA's public key."""
        ...

    def sign_certificate(self, builder: x509.CertificateBuilder) -> x509.Certificate:
        """Sign a certificate."""
        ...

    def sign_crl(
        self,
        builder: x509.CertificateRevocationListBuilder,
    ) -> x509.CertificateRevocationList:
        """Sign a revocation list."""
        ...


class FileCaSigner:
    """A CA key kept in a PEM file (demo and tests); production uses a PKCS#11 token."""

    def __init__(self, key: ec.EllipticCurvePrivateKey) -> None:
        self._key = key

    @classmethod
    def generate(cls) -> FileCaSigner:
        """A fresh P-256 key."""
        return cls(ec.generate_private_key(ec.SECP256R1()))

    @classmethod
    def load(cls, path: Path) -> FileCaSigner:
        """Load the key from ``path``."""
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise TypeError("the CA key must be an EC key")
        return cls(key)

    def save(self, path: Path) -> None:
        """Write the key (mode 0600)."""
        _write_private(
            path,
            self._key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
        )

    def public_key(self) -> ec.EllipticCurvePublicKey:
        """The CA's public key."""
        return self._key.public_key()

    def sign_certificate(self, builder: x509.CertificateBuilder) -> x509.Certificate:
        """Sign a certificate with SHA-256."""
        return builder.sign(self._key, hashes.SHA256())

    def sign_crl(
        self,
        builder: x509.CertificateRevocationListBuilder,
    ) -> x509.CertificateRevocationList:
        """Sign a revocation list with SHA-256."""
        return builder.sign(self._key, hashes.SHA256())


def _write_private(path: Path, data: bytes) -> None:
    write_private(path, data)


_KEY_USAGES = (
    "digital_signature",
    "content_commitment",
    "key_encipherment",
    "data_encipherment",
    "key_agreement",
    "key_cert_sign",
    "crl_sign",
    "encipher_only",
    "decipher_only",
)


def _key_usage(**enabled: bool) -> x509.KeyUsage:
    """A KeyUsage with only the named usages set (cryptography wants all nine spelled out)."""
    return x509.KeyUsage(**{usage: enabled.get(usage, False) for usage in _KEY_USAGES})


def node_uri(node: str) -> str:
    """The SAN URI that names ``node`` in its certificates."""
    return NODE_URI_PREFIX + node


def node_of_certificate(cert: x509.Certificate) -> str | None:
    """The node a certificate names, from its URI SAN; ``None`` if it names none."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return None
    for uri in san.get_values_for_type(x509.UniformResourceIdentifier):
        if uri.startswith(NODE_URI_PREFIX):
            return uri.removeprefix(NODE_URI_PREFIX)
    return None


def create_ca_certificate(
    signer: CaSigner, *, now: dt.datetime, name: str = "jukinet network CA"
) -> x509.Certificate:
    """A self-signed root certificate for the network."""
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "jukinet"),
            x509.NameAttribute(NameOID.COMMON_NAME, name),
        ]
    )
    public = signer.public_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + CA_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            _key_usage(key_cert_sign=True, crl_sign=True),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
    )
    return signer.sign_certificate(builder)


def _node_builder(
    ca_cert: x509.Certificate,
    signer: CaSigner,
    node: str,
    public_key: ec.EllipticCurvePublicKey | Ed25519PublicKey,
    *,
    now: dt.datetime,
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, "jukinet"),
                    x509.NameAttribute(NameOID.COMMON_NAME, node),
                ]
            )
        )
        .issuer_name(ca_cert.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + NODE_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()), critical=False
        )
    )


def issue_tls_certificate(
    ca_cert: x509.Certificate,
    signer: CaSigner,
    node: str,
    key: ec.EllipticCurvePrivateKey,
    *,
    now: dt.datetime,
    hosts: Iterable[str] = ("localhost", "127.0.0.1"),
) -> x509.Certificate:
    """A TLS certificate usable as server and as client, naming ``node``."""
    names: list[x509.GeneralName] = [x509.UniformResourceIdentifier(node_uri(node))]
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    builder = (
        _node_builder(ca_cert, signer, node, key.public_key(), now=now)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .add_extension(
            _key_usage(digital_signature=True, key_agreement=True),
            critical=True,
        )
    )
    return signer.sign_certificate(builder)


def issue_client_certificate(
    ca_cert: x509.Certificate,
    signer: CaSigner,
    principal: str,
    key: ec.EllipticCurvePrivateKey,
    *,
    now: dt.datetime,
) -> x509.Certificate:
    """A TLS client-only certificate for a recipient (an agency's system), naming ``principal``.

    It cannot serve (no serverAuth) and has no message-signing key: a recipient queries, it
    never takes part in delivery.
    """
    builder = (
        _node_builder(ca_cert, signer, principal, key.public_key(), now=now)
        .add_extension(
            x509.SubjectAlternativeName([x509.UniformResourceIdentifier(node_uri(principal))]),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(_key_usage(digital_signature=True, key_agreement=True), critical=True)
    )
    return signer.sign_certificate(builder)


def issue_signing_certificate(
    ca_cert: x509.Certificate,
    signer: CaSigner,
    node: str,
    key: Ed25519PrivateKey,
    *,
    now: dt.datetime,
) -> x509.Certificate:
    """A certificate for a node's Ed25519 message-signing key."""
    builder = (
        _node_builder(ca_cert, signer, node, key.public_key(), now=now)
        .add_extension(
            x509.SubjectAlternativeName([x509.UniformResourceIdentifier(node_uri(node))]),
            critical=False,
        )
        .add_extension(
            _key_usage(digital_signature=True, content_commitment=True),
            critical=True,
        )
    )
    return signer.sign_certificate(builder)


def build_crl(
    ca_cert: x509.Certificate,
    signer: CaSigner,
    revoked_serials: Iterable[int],
    *,
    now: dt.datetime,
    last_update: dt.datetime | None = None,
) -> x509.CertificateRevocationList:
    """A revocation list naming ``revoked_serials``, valid for ``CRL_VALIDITY`` from ``now``.

    ``last_update`` defaults to ``now`` less :data:`CRL_BACKDATE` (clock skew between nodes).
    """
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca_cert.subject)
        .last_update(last_update or now - CRL_BACKDATE)
        .next_update(now + CRL_VALIDITY)
    )
    for serial in sorted(set(revoked_serials)):
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(now).build()
        )
    return signer.sign_crl(builder)


@dataclass(frozen=True)
class TrustAnchor:
    """What a node trusts: the CA certificate and the current revocation list."""

    ca_cert: x509.Certificate
    crl: x509.CertificateRevocationList

    def is_revoked(self, cert: x509.Certificate) -> bool:
        """Whether the CRL names this certificate."""
        return self.crl.get_revoked_certificate_by_serial_number(cert.serial_number) is not None

    @property
    def crl_next_update(self) -> dt.datetime:
        """Until when the CRL may be relied on (a list without nextUpdate: never)."""
        return self.crl.next_update_utc or self.crl.last_update_utc

    def verify_node_certificate(self, cert: x509.Certificate, *, now: dt.datetime) -> str:
        """The node a certificate names, if it chains to the CA, is current and not revoked.

        Raises ``ValueError`` with the reason otherwise.
        """
        ca_key = self.ca_cert.public_key()
        if not isinstance(ca_key, ec.EllipticCurvePublicKey):
            raise ValueError("unsupported CA key")
        try:
            ca_key.verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(hashes.SHA256()))
        except InvalidSignature as error:
            raise ValueError("certificate not issued by the network CA") from error
        if cert.issuer != self.ca_cert.subject:
            raise ValueError("certificate not issued by the network CA")
        if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
            raise ValueError("certificate expired or not yet valid")
        # Fail closed like the handshake: an expired list can no longer say who is revoked
        # (this also catches connections kept alive from before the list expired).
        if now >= self.crl_next_update:
            raise ValueError("revocation list expired")
        if self.is_revoked(cert):
            raise ValueError("certificate revoked")
        node = node_of_certificate(cert)
        if node is None:
            raise ValueError("certificate names no node")
        return node


@dataclass(frozen=True)
class NodeCredentials:
    """File locations of one node's keys and certificates."""

    folder: Path

    @property
    def tls_key(self) -> Path:
        """TLS private key (PEM)."""
        return self.folder / "tls.key"

    @property
    def tls_cert(self) -> Path:
        """TLS certificate (PEM)."""
        return self.folder / "tls.crt"

    @property
    def signing_key(self) -> Path:
        """Ed25519 signing key (PEM)."""
        return self.folder / "signing.key"

    @property
    def signing_cert(self) -> Path:
        """Certificate of the signing key (PEM)."""
        return self.folder / "signing.crt"

    def load_signing_key(self) -> Ed25519PrivateKey:
        """The node's Ed25519 signing key."""
        key = serialization.load_pem_private_key(self.signing_key.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise TypeError("the signing key must be Ed25519")
        return key


class NetworkPki:
    """A PKI folder: ``ca.crt``, ``ca.key`` (file CA only), ``crl.pem``, ``revoked.json``,
    ``directory.json`` (each node's signing certificate) and ``nodes/<node>/``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @property
    def ca_cert_path(self) -> Path:
        """The CA certificate every node trusts."""
        return self.folder / "ca.crt"

    @property
    def crl_path(self) -> Path:
        """The current revocation list."""
        return self.folder / "crl.pem"

    @property
    def directory_path(self) -> Path:
        """Public directory: node → signing certificate."""
        return self.folder / "directory.json"

    def node(self, node: str) -> NodeCredentials:
        """Where a node's credentials live."""
        return NodeCredentials(self.folder / "nodes" / node.replace(":", "_"))

    def ca_cert(self) -> x509.Certificate:
        """Load the CA certificate."""
        return x509.load_pem_x509_certificate(self.ca_cert_path.read_bytes())

    def crl(self) -> x509.CertificateRevocationList:
        """The published revocation list."""
        return x509.load_pem_x509_crl(self.crl_path.read_bytes())

    def trust_anchor(self) -> TrustAnchor:
        """The CA and the current CRL."""
        return TrustAnchor(ca_cert=self.ca_cert(), crl=self.crl())

    def directory(self) -> dict[str, x509.Certificate]:
        """Every node's signing certificate."""
        data = json.loads(self.directory_path.read_text(encoding="utf-8"))
        return {
            node: x509.load_pem_x509_certificate(pem.encode("ascii")) for node, pem in data.items()
        }

    def init(self, signer: CaSigner, *, now: dt.datetime) -> x509.Certificate:
        """Create the CA certificate, an empty CRL and an empty directory."""
        private_folder(self.folder)
        ca_cert = create_ca_certificate(signer, now=now)
        self.ca_cert_path.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
        (self.folder / "revoked.json").write_text("[]", encoding="utf-8")
        self.directory_path.write_text("{}", encoding="utf-8")
        self.publish_crl(signer, now=now)
        return ca_cert

    def issue_node(
        self,
        signer: CaSigner,
        node: str,
        *,
        now: dt.datetime,
        hosts: Iterable[str] = ("localhost", "127.0.0.1"),
    ) -> NodeCredentials:
        """Issue a node its TLS certificate and signing key, and publish the signing cert."""
        ca_cert = self.ca_cert()
        creds = self.node(node)
        private_folder(creds.folder)
        tls_key = ec.generate_private_key(ec.SECP256R1())
        _write_private(
            creds.tls_key,
            tls_key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
        )
        tls_cert = issue_tls_certificate(ca_cert, signer, node, tls_key, now=now, hosts=hosts)
        creds.tls_cert.write_bytes(tls_cert.public_bytes(serialization.Encoding.PEM))
        signing_key = Ed25519PrivateKey.generate()
        _write_private(
            creds.signing_key,
            signing_key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
        )
        signing_cert = issue_signing_certificate(ca_cert, signer, node, signing_key, now=now)
        creds.signing_cert.write_bytes(signing_cert.public_bytes(serialization.Encoding.PEM))
        directory = json.loads(self.directory_path.read_text(encoding="utf-8"))
        directory[node] = signing_cert.public_bytes(serialization.Encoding.PEM).decode("ascii")
        self.directory_path.write_text(
            json.dumps(directory, indent=1, sort_keys=True), encoding="utf-8"
        )
        return creds

    def issue_client(
        self, signer: CaSigner, principal: str, *, now: dt.datetime
    ) -> NodeCredentials:
        """Issue a recipient (agency) its client certificate and key under ``nodes/<principal>``.

        Not published in the directory: a recipient signs no messages.
        """
        creds = self.node(principal)
        private_folder(creds.folder)
        key = ec.generate_private_key(ec.SECP256R1())
        _write_private(
            creds.tls_key,
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
        )
        cert = issue_client_certificate(self.ca_cert(), signer, principal, key, now=now)
        creds.tls_cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        return creds

    @contextlib.contextmanager
    def _crl_lock(self) -> Iterator[None]:
        # One writer of revoked.json and crl.pem at a time, across processes: nodes sharing a
        # PKI folder (tests, the demo) may all find the list due at the same moment.
        with (self.folder / ".crl.lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def revoke(self, signer: CaSigner, cert: x509.Certificate, *, now: dt.datetime) -> None:
        """Add a certificate to the CRL and publish it."""
        with self._crl_lock():
            path = self.folder / "revoked.json"
            serials = set(json.loads(path.read_text(encoding="utf-8")))
            serials.add(cert.serial_number)
            path.write_text(json.dumps(sorted(serials)), encoding="utf-8")
            self._publish_crl(signer, now=now)

    def publish_crl(self, signer: CaSigner, *, now: dt.datetime) -> None:
        """Sign and write the current CRL (every serial in ``revoked.json``)."""
        with self._crl_lock():
            self._publish_crl(signer, now=now)

    def republish_crl_if_due(
        self, signer: CaSigner, *, now: dt.datetime, policy: RevocationPolicy = DEFAULT_POLICY
    ) -> bool:
        """Publish a new CRL if the current one has less than half its validity left.

        Decided under the lock, so of several nodes finding it due only the first signs.
        """
        with self._crl_lock():
            if not policy.republish_due(self.trust_anchor().crl_next_update, now=now):
                return False
            self._publish_crl(signer, now=now)
            return True

    def _publish_crl(self, signer: CaSigner, *, now: dt.datetime) -> None:
        serials = json.loads((self.folder / "revoked.json").read_text(encoding="utf-8"))
        # CRL times have whole seconds.
        last_update = (now - CRL_BACKDATE).replace(microsecond=0)
        if self.crl_path.exists():
            previous = self.crl().last_update_utc
            if last_update <= previous <= now:
                # Same second as the list it replaces: OpenSSL keeps the first of two lists
                # dated alike, so the new one (maybe with a new revocation) must be later.
                last_update = previous + dt.timedelta(seconds=1)
        crl = build_crl(self.ca_cert(), signer, serials, now=now, last_update=last_update)
        _replace_atomically(self.crl_path, crl.public_bytes(serialization.Encoding.PEM))


def _replace_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a reader sees the old file or the new, never half."""
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    temporary = Path(name)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        temporary.chmod(0o644)  # the CRL is public: every node reads it
        temporary.replace(path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
