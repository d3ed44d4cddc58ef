"""The network CA with its key in a PKCS#11 token (SoftHSM2)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from cryptography import x509

from jukinet.network.envelope import new_envelope
from jukinet.network.hsm import Pkcs11CaSigner, init_softhsm_token
from jukinet.network.pki import NetworkPki

NOW = dt.datetime(2026, 11, 26, 3, 0, tzinfo=dt.UTC)

pytestmark = pytest.mark.skipif(
    not Path("/usr/lib/softhsm/libsofthsm2.so").exists(),
    reason="SoftHSM2 is not installed (apt-get install softhsm2)",
)


def test_a_ca_in_a_token_issues_and_revokes(tmp_path: Path) -> None:
    init_softhsm_token(tmp_path / "hsm", label="jukinet-test-ca", pin="1234", so_pin="5678")
    signer = Pkcs11CaSigner(token_label="jukinet-test-ca", pin="1234")
    signer.generate()
    pki = NetworkPki(tmp_path / "pki")
    ca_cert = pki.init(signer, now=NOW)
    # The self-signed root verifies with the token's public key.
    ca_cert.verify_directly_issued_by(ca_cert)
    creds = pki.issue_node(signer, "prefecture:13", now=NOW)
    tls_cert = x509.load_pem_x509_certificate(creds.tls_cert.read_bytes())
    tls_cert.verify_directly_issued_by(ca_cert)
    anchor = pki.trust_anchor()
    assert anchor.verify_node_certificate(tls_cert, now=NOW) == "prefecture:13"
    signed = new_envelope(
        sender="prefecture:13", recipient="national:jlis", kind="x", sequence=1, now=NOW, body={}
    ).signed_with(creds.load_signing_key())
    assert signed.verify(pki.directory()["prefecture:13"].public_key())  # type: ignore[arg-type]
    pki.revoke(signer, tls_cert, now=NOW)
    crl = pki.trust_anchor().crl
    assert crl.is_signature_valid(ca_cert.public_key())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="revoked"):
        pki.trust_anchor().verify_node_certificate(tls_cert, now=NOW)
    # No private key material of the CA exists outside the token.
    assert not (pki.folder / "ca.key").exists()
