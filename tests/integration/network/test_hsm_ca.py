"""The network CA with its key in a PKCS#11 token (SoftHSM2)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from jukinet.domain.network import NodeId
from jukinet.domain.revocation import CrlState
from jukinet.network.ca import TOKEN_FILE, CaSignerUnavailable, ca_signer_of
from jukinet.network.context import NetworkContext
from jukinet.network.crl import check_crl
from jukinet.network.envelope import new_envelope
from jukinet.network.hsm import DEFAULT_MODULE, Pkcs11CaSigner, init_softhsm_token
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
    # The node whose folder names the token republishes the CRL with it (one token per test
    # session — SoftHSM reads its configuration once — hence here and not in a test of its own).
    (pki.folder / TOKEN_FILE).write_text(
        json.dumps(
            {"token_label": "jukinet-test-ca", "key_label": "jukinet-ca", "module": DEFAULT_MODULE}
        ),
        encoding="utf-8",
    )
    with pytest.raises(CaSignerUnavailable):
        ca_signer_of(pki, pin=None)  # the keeper logs that JUKINET_CA_PIN is missing
    net = NetworkContext.load(NodeId.parse("prefecture:13"), pki.folder, {})
    later = NOW + dt.timedelta(days=4)
    check = check_crl(net, now=later, signer=ca_signer_of(pki, pin="1234"))
    assert (check.republished, check.state) == (True, CrlState.FRESH)
    republished = pki.trust_anchor().crl
    ca_key = ca_cert.public_key()
    assert isinstance(ca_key, ec.EllipticCurvePublicKey)
    assert republished.is_signature_valid(ca_key)
    assert republished.next_update_utc == later + dt.timedelta(days=7)
    assert republished.get_revoked_certificate_by_serial_number(tls_cert.serial_number)
