"""The network CA's key in a PKCS#11 token (SoftHSM2 in tests; a real HSM in production).

The key never leaves the token. ``cryptography`` cannot sign with a key it does not hold, so a
certificate (or CRL) is built and signed with a throw-away key of the same type, which gives the
exact to-be-signed bytes; the token signs their SHA-256 digest (``CKM_ECDSA``: SoftHSM2 has no
``CKM_ECDSA_SHA256``), and the signature is put in place of the throw-away one.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

#: AlgorithmIdentifier of ecdsa-with-SHA256 (1.2.840.10045.4.3.2), DER-encoded.
_ECDSA_SHA256 = bytes.fromhex("300a06082a8648ce3d040302")
DEFAULT_MODULE = "/usr/lib/softhsm/libsofthsm2.so"

#: Held around every use of a PKCS#11 session in this process. A token written after the module
#: was loaded (a card issued at the counter) is only seen after the library is re-initialised,
#: which invalidates every open session: :func:`find_token` re-initialises only under this lock,
#: so it never pulls a session from under another thread.
TOKEN_LOCK = threading.RLock()


def find_token(label: str, *, module: str = DEFAULT_MODULE) -> Any:
    """The token labelled ``label``, re-scanning the slots once if it is not (yet) known.

    Raises pkcs11's ``NoSuchToken`` when there is no such token even after the re-scan.
    """
    # Imported here: SOFTHSM2_CONF must be set before the module is loaded.
    import pkcs11
    from pkcs11.exceptions import NoSuchToken, TokenNotPresent

    with TOKEN_LOCK:
        lib = pkcs11.lib(module)
        try:
            return lib.get_token(token_label=label)
        except (TokenNotPresent, NoSuchToken):
            lib.reinitialize()
            try:
                return lib.get_token(token_label=label)
            except TokenNotPresent:
                raise NoSuchToken(label) from None


def _der_length(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    body = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def _sequence(*parts: bytes) -> bytes:
    content = b"".join(parts)
    return b"\x30" + _der_length(len(content)) + content


def _bit_string(data: bytes) -> bytes:
    content = b"\x00" + data
    return b"\x03" + _der_length(len(content)) + content


class Pkcs11CaSigner:
    """A CA signer whose P-256 key lives in a PKCS#11 token, selected by label."""

    def __init__(
        self,
        *,
        token_label: str,
        pin: str,
        key_label: str = "jukinet-ca",
        module: str = DEFAULT_MODULE,
    ) -> None:
        # Imported here: SOFTHSM2_CONF must be set before the module is loaded.
        import pkcs11

        self._pkcs11 = pkcs11
        self._lib = pkcs11.lib(module)
        # A token initialised after the library was loaded is found after a re-scan.
        self._token = find_token(token_label, module=module)
        self._pin = pin
        self._key_label = key_label
        self._throwaway = ec.generate_private_key(ec.SECP256R1())

    def _session(self) -> Any:
        return self._token.open(user_pin=self._pin, rw=True)

    def generate(self) -> None:
        """Create the CA key pair inside the token (once)."""
        from pkcs11 import Attribute, KeyType
        from pkcs11.util.ec import encode_named_curve_parameters

        with TOKEN_LOCK, self._session() as session:
            params = session.create_domain_parameters(
                KeyType.EC,
                {Attribute.EC_PARAMS: encode_named_curve_parameters("secp256r1")},
                local=True,
            )
            params.generate_keypair(store=True, label=self._key_label)

    def public_key(self) -> ec.EllipticCurvePublicKey:
        """The CA's public key, read from the token."""
        from pkcs11 import KeyType, ObjectClass
        from pkcs11.util.ec import encode_ec_public_key

        with TOKEN_LOCK, self._session() as session:
            key = session.get_key(
                object_class=ObjectClass.PUBLIC_KEY, key_type=KeyType.EC, label=self._key_label
            )
            public = serialization.load_der_public_key(encode_ec_public_key(key))
        if not isinstance(public, ec.EllipticCurvePublicKey):
            raise TypeError("the CA key in the token is not an EC key")
        return public

    def _sign_digest(self, data: bytes) -> bytes:
        from pkcs11 import KeyType, Mechanism, ObjectClass

        digest = hashlib.sha256(data).digest()
        with TOKEN_LOCK, self._session() as session:
            key = session.get_key(
                object_class=ObjectClass.PRIVATE_KEY, key_type=KeyType.EC, label=self._key_label
            )
            raw = key.sign(digest, mechanism=Mechanism.ECDSA)
        half = len(raw) // 2
        return encode_dss_signature(
            int.from_bytes(raw[:half], "big"), int.from_bytes(raw[half:], "big")
        )

    def sign_certificate(self, builder: x509.CertificateBuilder) -> x509.Certificate:
        """Sign a certificate with the token's key."""
        draft = builder.sign(self._throwaway, hashes.SHA256())
        tbs = draft.tbs_certificate_bytes
        der = _sequence(tbs, _ECDSA_SHA256, _bit_string(self._sign_digest(tbs)))
        return x509.load_der_x509_certificate(der)

    def sign_crl(
        self,
        builder: x509.CertificateRevocationListBuilder,
    ) -> x509.CertificateRevocationList:
        """Sign a revocation list with the token's key."""
        draft = builder.sign(self._throwaway, hashes.SHA256())
        tbs = draft.tbs_certlist_bytes
        der = _sequence(tbs, _ECDSA_SHA256, _bit_string(self._sign_digest(tbs)))
        return x509.load_der_x509_crl(der)


def softhsm_environment(folder: Path) -> dict[str, str]:
    """A SoftHSM2 configuration with its token directory under ``folder`` (tests, demos)."""
    tokens = folder / "tokens"
    tokens.mkdir(parents=True, exist_ok=True)
    conf = folder / "softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n",
        encoding="utf-8",
    )
    return {"SOFTHSM2_CONF": str(conf)}


def init_softhsm_token(folder: Path, *, label: str, pin: str, so_pin: str) -> None:
    """Initialise a fresh SoftHSM2 token (sets ``SOFTHSM2_CONF`` for this process)."""
    import subprocess

    os.environ.update(softhsm_environment(folder))
    subprocess.run(  # noqa: S603 - fixed program, our own arguments
        [
            "/usr/bin/softhsm2-util",
            "--init-token",
            "--free",
            "--label",
            label,
            "--pin",
            pin,
            "--so-pin",
            so_pin,
        ],
        check=True,
        capture_output=True,
    )
