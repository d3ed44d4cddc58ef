"""Checking a witness's countersignature offline (what ``jukinet audit check-proof`` does with
the ``witnesses`` of a disclosure): trusted only through the network CA, never on its own."""

from __future__ import annotations

import base64
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from jukinet.domain.audit_math import SignedTreeHead
from jukinet.domain.errors import ValidationError
from jukinet.domain.network import NodeId
from jukinet.domain.witness import WITNESS_FORMAT, may_witness
from jukinet.network.envelope import canonical_json
from jukinet.network.pki import node_of_certificate


def check_countersignature(item: Any, *, head: SignedTreeHead, ca_pem: bytes) -> str:
    """The witness that countersigned exactly ``head``; ``ValueError`` saying why not.

    The witness's certificate must be issued by the CA the checker trusts and name a node
    that witnesses the head's node; its key must have signed the statement, which must name
    that witness and carry the head exactly as the node signed it.
    """
    if not isinstance(item, dict):
        raise ValueError("not a countersignature")
    try:
        cert = x509.load_pem_x509_certificate(str(item["certificate"]).encode("ascii"))
        cert.verify_directly_issued_by(x509.load_pem_x509_certificate(ca_pem))
        document = item["document"]
        signature = base64.b64decode(str(item["signature"]), validate=True)
    except (KeyError, TypeError, ValueError, InvalidSignature) as error:
        raise ValueError("the witness certificate is not the network CA's") from error
    witness = node_of_certificate(cert)
    key = cert.public_key()
    if witness is None or not isinstance(key, Ed25519PublicKey):
        raise ValueError("the witness certificate names no node")
    try:
        key.verify(signature, canonical_json(document))
    except (InvalidSignature, TypeError) as error:
        raise ValueError(f"bad countersignature of {witness}") from error
    if not isinstance(document, dict) or document.get("format") != WITNESS_FORMAT:
        raise ValueError(f"{witness} signed something else than a witnessed head")
    if document.get("witness") != witness or document.get("head") != head.to_dict():
        raise ValueError(f"{witness} countersigned another head")
    try:
        allowed = may_witness(NodeId.parse(witness), NodeId.parse(head.signer))
    except ValidationError:
        allowed = False
    if not allowed:
        raise ValueError(f"{witness} is not a witness of {head.signer}")
    return witness
