"""The node's terminal authority: who may even open the operator pages.

Each node keeps its own small CA for terminals, apart from the network CA (a terminal's
certificate must never pass as a node's). It issues the operator port's server certificate and
one client certificate per registered terminal, delivered as a PKCS#12 file a browser imports.
The operator port asks for a client certificate in the TLS handshake and trusts only this CA;
the app then matches the certificate's SHA-256 against the terminal register on every request,
so revoking a terminal takes effect on its next request.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from jukinet.storage.private_files import private_folder, write_private

CA_VALIDITY = dt.timedelta(days=3650)
SERVER_VALIDITY = dt.timedelta(days=825)
TERMINAL_VALIDITY = dt.timedelta(days=825)

CA_KEY = "terminal-ca.key"
CA_CERT = "terminal-ca.crt"
SERVER_KEY = "operator-server.key"
SERVER_CERT = "operator-server.crt"


@dataclass(frozen=True, slots=True)
class IssuedTerminal:
    """A terminal's new certificate, its DER (for the register) and the PKCS#12 to hand over."""

    certificate_der: bytes
    pkcs12: bytes


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "jukinet"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


class TerminalAuthority:
    """The files of a node's terminal CA under ``folder`` (keys 0600)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @property
    def exists(self) -> bool:
        """Whether the CA and the server certificate have been created."""
        return all((self.folder / name).exists() for name in (CA_KEY, CA_CERT, SERVER_CERT))

    def create(self, *, node: str, hosts: Iterable[str], now: dt.datetime) -> None:
        """Create the CA and the operator port's server certificate for ``hosts``."""
        private_folder(self.folder)
        key = ec.generate_private_key(ec.SECP256R1())
        subject = _name(f"jukinet terminal CA {node}")
        ca = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + CA_VALIDITY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=False,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .sign(key, hashes.SHA256())
        )
        write_private(self.folder / CA_KEY, _pem_key(key))
        (self.folder / CA_CERT).write_bytes(ca.public_bytes(serialization.Encoding.PEM))
        self._issue_server(node=node, hosts=list(hosts), now=now)

    def _ca(self) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
        key = serialization.load_pem_private_key((self.folder / CA_KEY).read_bytes(), None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise TypeError("the terminal CA key is not an EC key")
        cert = x509.load_pem_x509_certificate((self.folder / CA_CERT).read_bytes())
        return key, cert

    def _leaf(
        self,
        *,
        common_name: str,
        public_key: ec.EllipticCurvePublicKey,
        usage: x509.ObjectIdentifier,
        sans: list[x509.GeneralName],
        now: dt.datetime,
        validity: dt.timedelta,
    ) -> x509.Certificate:
        ca_key, ca_cert = self._ca()
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(common_name))
            .issuer_name(ca_cert.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + validity)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        )
        if sans:
            builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        return builder.sign(ca_key, hashes.SHA256())

    def _issue_server(self, *, node: str, hosts: list[str], now: dt.datetime) -> None:
        key = ec.generate_private_key(ec.SECP256R1())
        sans: list[x509.GeneralName] = []
        for host in hosts:
            try:
                sans.append(x509.IPAddress(ipaddress.ip_address(host)))
            except ValueError:
                sans.append(x509.DNSName(host))
        cert = self._leaf(
            common_name=f"jukinet operator pages {node}",
            public_key=key.public_key(),
            usage=ExtendedKeyUsageOID.SERVER_AUTH,
            sans=sans,
            now=now,
            validity=SERVER_VALIDITY,
        )
        write_private(self.folder / SERVER_KEY, _pem_key(key))
        (self.folder / SERVER_CERT).write_bytes(cert.public_bytes(serialization.Encoding.PEM))

    def issue_terminal(self, *, name: str, password: bytes, now: dt.datetime) -> IssuedTerminal:
        """A client certificate for terminal ``name``, and a PKCS#12 protected by ``password``."""
        key = ec.generate_private_key(ec.SECP256R1())
        cert = self._leaf(
            common_name=f"terminal {name}",
            public_key=key.public_key(),
            usage=ExtendedKeyUsageOID.CLIENT_AUTH,
            sans=[],
            now=now,
            validity=TERMINAL_VALIDITY,
        )
        _, ca_cert = self._ca()
        bundle = pkcs12.serialize_key_and_certificates(
            name=f"jukinet terminal {name}".encode(),
            key=key,
            cert=cert,
            cas=[ca_cert],
            encryption_algorithm=serialization.BestAvailableEncryption(password),
        )
        return IssuedTerminal(
            certificate_der=cert.public_bytes(serialization.Encoding.DER), pkcs12=bundle
        )

    def server_ssl_context(self) -> ssl.SSLContext:
        """TLS for the operator port: our server certificate, a terminal certificate required."""
        context = ssl.create_default_context(
            ssl.Purpose.CLIENT_AUTH, cafile=str(self.folder / CA_CERT)
        )
        context.verify_mode = ssl.CERT_REQUIRED
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(str(self.folder / SERVER_CERT), str(self.folder / SERVER_KEY))
        return context

    @property
    def ca_cert_path(self) -> Path:
        """The CA certificate operators' browsers trust for the operator pages."""
        return self.folder / CA_CERT
