"""A node's network identity: its keys, what it trusts, and who its neighbours are."""

from __future__ import annotations

import datetime as dt
import ssl
import threading
import weakref
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from jukinet.domain.network import NodeId
from jukinet.network.envelope import Envelope
from jukinet.network.pki import NetworkPki, NodeCredentials, TrustAnchor
from jukinet.network.tls_refusals import HandshakeRefusals, record_failed_handshakes

#: Verified client certificates remembered at most (agencies hold a handful each).
_VERIFIED_LIMIT = 10_000


class Rejected(Exception):
    """An envelope or request refused before anything was applied; ``reason`` says why."""

    def __init__(
        self, reason: str, *, status: int = 403, details: dict[str, int] | None = None
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        #: Machine-readable items the refusal's JSON carries beside ``error``.
        self.details = details or {}


@dataclass
class NetworkContext:
    """Everything a node needs to speak on the network."""

    node: NodeId
    pki: NetworkPki
    credentials: NodeCredentials
    signing_key: Ed25519PrivateKey
    peers: dict[str, str]
    #: Handshakes the node's TLS server refused, waiting to be recorded.
    handshake_refusals: HandshakeRefusals = field(default_factory=HandshakeRefusals)
    _anchor: TrustAnchor | None = None
    _keys: dict[str, Ed25519PublicKey] = field(default_factory=dict)
    _published: tuple[int, int, int, int] | None = None
    # Every TLS context this node made (server and client side), so a newly published CRL
    # reaches the handshakes of the running process, not only new contexts.
    _tls_contexts: weakref.WeakSet[ssl.SSLContext] = field(default_factory=weakref.WeakSet)
    _trust_lock: threading.Lock = field(default_factory=threading.Lock)
    # The version of crl.pem last added to those contexts.
    _crl_in_tls: tuple[int, int] | None = None
    # Client certificates already verified under the current CA and CRL: DER -> (node, valid
    # from, valid until). Cleared with the anchor, so a newly published CRL re-checks them all.
    _verified: dict[bytes, tuple[str, dt.datetime, dt.datetime]] = field(default_factory=dict)

    @classmethod
    def load(cls, node: NodeId, pki_dir: Path, peers: dict[str, str]) -> NetworkContext:
        """Load a node's credentials from the PKI folder; fails closed if any is missing."""
        pki = NetworkPki(pki_dir)
        creds = pki.node(str(node))
        for path in (
            pki.ca_cert_path,
            pki.crl_path,
            creds.tls_key,
            creds.tls_cert,
            creds.signing_key,
        ):
            if not path.exists():
                msg = f"missing network credential: {path}"
                raise FileNotFoundError(msg)
        return cls(
            node=node,
            pki=pki,
            credentials=creds,
            signing_key=creds.load_signing_key(),
            peers=dict(peers),
        )

    def anchor(self) -> TrustAnchor:
        """The CA and the current CRL; a newly published CRL or directory takes effect at once.

        A running node notices a revocation or a republished CRL on its next request or CRL
        check (a cheap ``stat`` of the two published files), without a restart: the new list
        is also added to every TLS context the node made, so the handshakes use it too.
        """
        with self._trust_lock:
            published = (*_version(self.pki.crl_path), *_version(self.pki.directory_path))
            if self._anchor is None or published != self._published:
                self._keys.clear()
                self._verified.clear()
                self._anchor = self.pki.trust_anchor()
                self._published = published
            if published[:2] != self._crl_in_tls:
                self._reload_crl_into_tls_contexts()
                self._crl_in_tls = published[:2]
            return self._anchor

    def _reload_crl_into_tls_contexts(self) -> None:
        # OpenSSL keeps every list it was given (the same one twice is ignored) and uses the
        # newest that is currently valid, so adding the new list is enough (a few hundred
        # bytes a week per context).
        for context in list(self._tls_contexts):
            context.load_verify_locations(cafile=str(self.pki.crl_path))

    def refresh_if_republished(self) -> None:
        """Pick up a newly published CRL or directory (call once per request)."""
        self.anchor()

    def refresh_trust(self) -> None:
        """Forget cached trust so a newly published CRL and directory take effect."""
        self._anchor = None
        self._keys.clear()
        self._verified.clear()

    def peer_key(self, node: str, *, now: dt.datetime) -> Ed25519PublicKey:
        """The verified signing key of ``node`` from the published directory."""
        # Trust is refreshed once per request (see refresh_if_republished), not per envelope.
        anchor = self._anchor or self.anchor()
        if node not in self._keys:
            cert = self.pki.directory().get(node)
            if cert is None:
                raise Rejected(f"unknown node {node!r}")
            try:
                named = anchor.verify_node_certificate(cert, now=now)
            except ValueError as error:
                raise Rejected(f"signing certificate of {node}: {error}") from error
            key = cert.public_key()
            if named != node or not isinstance(key, Ed25519PublicKey):
                raise Rejected(f"signing certificate does not belong to {node}")
            self._keys[node] = key
        return self._keys[node]

    def peer_of_tls_certificate(self, der: bytes | None, *, now: dt.datetime) -> str:
        """The node a TLS client certificate names, checked against the CA and the CRL."""
        if not der:
            raise Rejected("no client certificate", status=401)
        anchor = self.anchor()  # first: a republished CRL empties the cache below
        known = self._verified.get(der)
        if known is not None:
            node, valid_from, valid_until = known
            if valid_from <= now <= valid_until:
                return node
        try:
            cert = x509.load_der_x509_certificate(der)
            node = anchor.verify_node_certificate(cert, now=now)
        except ValueError as error:
            raise Rejected(f"client certificate: {error}", status=401) from error
        if len(self._verified) >= _VERIFIED_LIMIT:
            self._verified.clear()
        self._verified[der] = (node, cert.not_valid_before_utc, cert.not_valid_after_utc)
        return node

    def verify(self, envelope: Envelope, *, now: dt.datetime) -> None:
        """Raise :class:`Rejected` unless the sender's signature covers exactly this envelope."""
        if not envelope.verify(self.peer_key(envelope.sender, now=now)):
            raise Rejected("bad signature")

    def sign(self, envelope: Envelope) -> Envelope:
        """Sign an outgoing envelope with this node's key."""
        return envelope.signed_with(self.signing_key)

    def client_ssl_context(self) -> ssl.SSLContext:
        """TLS for calling neighbours: present our certificate, trust only the network CA."""
        context = ssl.create_default_context(
            ssl.Purpose.SERVER_AUTH, cafile=str(self.pki.ca_cert_path)
        )
        self._harden(context)
        return context

    def server_ssl_context(self) -> ssl.SSLContext:
        """TLS for serving: a client certificate from the network CA is required."""
        context = ssl.create_default_context(
            ssl.Purpose.CLIENT_AUTH, cafile=str(self.pki.ca_cert_path)
        )
        context.verify_mode = ssl.CERT_REQUIRED
        self._harden(context)
        record_failed_handshakes(context, self.handshake_refusals)
        return context

    def _harden(self, context: ssl.SSLContext) -> None:
        context.load_cert_chain(str(self.credentials.tls_cert), str(self.credentials.tls_key))
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        # Revoked certificates are refused during the handshake itself; so is every peer once
        # the list has expired ("CRL has expired"): fail closed.
        with self._trust_lock:
            context.load_verify_locations(cafile=str(self.pki.crl_path))
            self._tls_contexts.add(context)
        context.verify_flags |= ssl.VERIFY_CRL_CHECK_LEAF


def _version(path: Path) -> tuple[int, int]:
    """What changes when a published file is replaced (atomically: a new inode)."""
    status = path.stat()
    return status.st_mtime_ns, status.st_ino
