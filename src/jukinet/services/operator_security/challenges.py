"""One-time challenges for cards to sign, and how a PKCS#11 card's signature is checked."""

from __future__ import annotations

import secrets
from datetime import timedelta

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from sqlalchemy.orm import Session

from jukinet.domain.clock import aware_utc
from jukinet.domain.errors import AuthenticationFailed
from jukinet.services.context import ServiceContext
from jukinet.storage.tables import SigninChallengeRow

#: A challenge is answered within this time or not at all.
CHALLENGE_LIFETIME = timedelta(minutes=2)


def new_challenge(
    node: ServiceContext, session: Session, *, purpose: str, operator_id: int | None
) -> tuple[str, bytes]:
    """Store a fresh 32-byte challenge; returns its id and bytes."""
    challenge_id = secrets.token_urlsafe(24)
    challenge = secrets.token_bytes(32)
    session.add(
        SigninChallengeRow(
            id=challenge_id,
            purpose=purpose,
            operator_id=operator_id,
            challenge=challenge,
            created_at=node.now(),
        )
    )
    return challenge_id, challenge


def take_challenge(
    node: ServiceContext,
    session: Session,
    challenge_id: str,
    *,
    purpose: str,
    operator_id: int | None,
) -> bytes:
    """Use a challenge once: unknown, used, expired or another's challenge is refused."""
    row = session.get(SigninChallengeRow, challenge_id) if challenge_id else None
    now = node.now()
    if (
        row is None
        or row.purpose != purpose
        or row.used_at is not None
        or (row.operator_id is not None and row.operator_id != operator_id)
        or now - aware_utc(row.created_at) > CHALLENGE_LIFETIME
    ):
        raise AuthenticationFailed(
            "JUKI-AUTH-030",
            ja="カード認証の有効期限が切れたか、既に使われています。最初からやり直してください。",
            en="The card challenge has expired or was already used; start again.",
        )
    row.used_at = now
    return row.challenge


def signin_message(node_id: str, challenge: bytes) -> bytes:
    """What a PKCS#11 card signs: bound to this node, so another node cannot replay it."""
    return b"jukinet operator sign-in\n" + node_id.encode() + b"\n" + challenge


def card_signature_ok(public_key_der: bytes, message: bytes, signature: bytes) -> bool:
    """Verify an Ed25519 signature, or an ECDSA P-256 signature given as raw r‖s (PKCS#11)."""
    try:
        key = serialization.load_der_public_key(public_key_der)
        if isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature, message)
            return True
        if isinstance(key, ec.EllipticCurvePublicKey) and len(signature) == 64:
            der = encode_dss_signature(
                int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
            )
            key.verify(der, message, ec.ECDSA(hashes.SHA256()))
            return True
    except (InvalidSignature, ValueError):
        return False
    return False
