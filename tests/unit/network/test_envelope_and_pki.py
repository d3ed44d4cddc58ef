"""Signed envelopes and the network PKI, without the network."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from jukinet.domain.errors import ValidationError
from jukinet.domain.network import NATIONAL, NodeId, are_neighbours, next_hop, parent_of
from jukinet.network.envelope import Envelope, canonical_json, new_envelope
from jukinet.network.pki import FileCaSigner, NetworkPki, node_of_certificate

NOW = dt.datetime(2026, 11, 26, 3, 0, tzinfo=dt.UTC)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def _envelope(body: dict[str, object] | None = None) -> Envelope:
    return new_envelope(
        sender="municipality:132292",
        recipient="prefecture:13",
        kind="identity_notice",
        sequence=1,
        now=NOW,
        body=body if body is not None else {"identity": {"family_name": "髙橋"}},
    )


def test_signature_verifies_and_detects_tampering() -> None:
    key = Ed25519PrivateKey.generate()
    signed = _envelope().signed_with(key)
    assert signed.verify(key.public_key())
    tampered = Envelope.from_dict(
        signed.as_dict() | {"body": {"identity": {"family_name": "高橋"}}}
    )
    assert not tampered.verify(key.public_key())
    replayed_elsewhere = Envelope.from_dict(signed.as_dict() | {"sequence": 2})
    assert not replayed_elsewhere.verify(key.public_key())
    assert not signed.verify(Ed25519PrivateKey.generate().public_key())


@given(st.dictionaries(st.text(max_size=8), json_values, max_size=5))
def test_canonical_bytes_survive_the_wire(body: dict[str, object]) -> None:
    key = Ed25519PrivateKey.generate()
    signed = _envelope(body).signed_with(key)
    wire = canonical_json(signed.as_dict())
    import json

    assert Envelope.from_dict(json.loads(wire)).verify(key.public_key())


def test_malformed_envelopes_are_refused() -> None:
    with pytest.raises(ValueError, match="malformed"):
        Envelope.from_dict({"id": "x"})
    with pytest.raises(ValueError, match="sequence"):
        Envelope.from_dict(_envelope().as_dict() | {"sequence": 0})
    with pytest.raises(ValueError, match="sequence"):
        Envelope.from_dict(_envelope().as_dict() | {"sequence": 2**63})


def test_a_value_no_signer_could_sign_fails_verification_not_the_node() -> None:
    # Found by fuzzing the inbox: an integer beyond 64 bits in the body made verification raise
    # (a 500) instead of refusing the envelope.
    key = Ed25519PrivateKey.generate()
    forged = Envelope(**(_envelope().as_dict() | {"body": {"n": 2**70}}))
    assert forged.verify(key.public_key()) is False


def test_node_names_and_routes() -> None:
    town = NodeId.parse("municipality:132292")
    assert parent_of(town) == NodeId.parse("prefecture:13")
    assert parent_of(NodeId.parse("prefecture:13")) == NATIONAL
    assert are_neighbours(town, NodeId.parse("prefecture:13"))
    assert not are_neighbours(town, NATIONAL)
    yokohama = NodeId.parse("municipality:141003")
    assert next_hop(town, yokohama) == NodeId.parse("prefecture:13")
    assert next_hop(NodeId.parse("prefecture:13"), yokohama) == NATIONAL
    assert next_hop(NATIONAL, yokohama) == NodeId.parse("prefecture:14")
    assert next_hop(NodeId.parse("prefecture:14"), yokohama) == yokohama
    for bad in ("municipality:1322", "prefecture:48", "national:x", "city:132292", ""):
        with pytest.raises(ValidationError):
            NodeId.parse(bad)


def test_pki_issues_verifiable_node_credentials_and_revokes(tmp_path: Path) -> None:
    signer = FileCaSigner.generate()
    pki = NetworkPki(tmp_path / "pki")
    pki.init(signer, now=NOW)
    creds = pki.issue_node(signer, "municipality:132292", now=NOW)
    pki.issue_node(signer, "prefecture:13", now=NOW)
    anchor = pki.trust_anchor()
    tls_cert = x509.load_pem_x509_certificate(creds.tls_cert.read_bytes())
    assert anchor.verify_node_certificate(tls_cert, now=NOW) == "municipality:132292"
    directory = pki.directory()
    assert set(directory) == {"municipality:132292", "prefecture:13"}
    assert node_of_certificate(directory["prefecture:13"]) == "prefecture:13"
    # A signing key's certificate carries the key that verifies the node's envelopes.
    signed = _envelope().signed_with(creds.load_signing_key())
    public = directory["municipality:132292"].public_key()
    assert signed.verify(public)  # type: ignore[arg-type]
    pki.revoke(signer, tls_cert, now=NOW)
    with pytest.raises(ValueError, match="revoked"):
        pki.trust_anchor().verify_node_certificate(tls_cert, now=NOW)
    # A certificate from another CA does not chain.
    other_signer = FileCaSigner.generate()
    other = NetworkPki(tmp_path / "other")
    other.init(other_signer, now=NOW)
    stranger = other.issue_node(other_signer, "prefecture:13", now=NOW)
    stranger_cert = x509.load_pem_x509_certificate(stranger.tls_cert.read_bytes())
    with pytest.raises(ValueError, match="network CA"):
        anchor.verify_node_certificate(stranger_cert, now=NOW)
    with pytest.raises(ValueError, match="expired"):
        anchor.verify_node_certificate(
            x509.load_pem_x509_certificate(pki.node("prefecture:13").tls_cert.read_bytes()),
            now=NOW + dt.timedelta(days=3000),
        )


@given(json_values)
def test_canonical_json_is_the_standard_library_form(value: object) -> None:
    import json

    expected = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert canonical_json(value) == expected.encode("utf-8")
