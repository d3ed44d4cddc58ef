"""Operator cards for tests: software keys speaking the real protocols.

A :class:`TokenCard` is what a PKCS#11 operator card does (sign the server's challenge with
Ed25519); :class:`SoftAuthenticator` is a FIDO2 authenticator (P-256, user verified, counting
signatures) producing real WebAuthn assertions the server verifies with the ``webauthn``
library. Cards are registered and lent through the card register's own services.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
from dataclasses import dataclass, field
from typing import Any

import cbor2
import httpx
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from jukinet.domain.operators import Actor, Role
from jukinet.services.context import ServiceContext
from jukinet.services.operator_security.challenges import signin_message
from jukinet.storage.tables import OperatorCardRow

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_OPTIONS = re.compile(r'<script type="application/json" id="card-options">(.*?)</script>', re.S)
_CHALLENGE_ID = re.compile(r'name="challenge_id" value="([^"]+)"')


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def card_administrator() -> Actor:
    """An actor with the card register's role (for lending cards in test setup)."""
    return Actor(operator_id=0, username="cardadmin", role=Role.CARD_ADMINISTRATOR)


@dataclass
class TokenCard:
    """A PKCS#11-style operator card: an Ed25519 key that signs sign-in challenges."""

    serial: str
    key: ed25519.Ed25519PrivateKey = field(default_factory=ed25519.Ed25519PrivateKey.generate)

    def public_der(self) -> bytes:
        return self.key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def sign(self, node_name: str, challenge: bytes) -> bytes:
        return self.key.sign(signin_message(node_name, challenge))


def lend_token_card(node: ServiceContext, username: str, serial: str | None = None) -> TokenCard:
    """Register a new token card and lend it to ``username``."""
    from jukinet.services.operator_security.cards import lend_card, register_token_card

    card = TokenCard(serial or f"T-{secrets.token_hex(4).upper()}")
    admin = card_administrator()
    register_token_card(node, actor=admin, serial=card.serial, public_key_der=card.public_der())
    lend_card(node, actor=admin, serial=card.serial, username=username)
    return card


def api_token(client: httpx.Client, username: str, password: str, card: TokenCard) -> str:
    """Sign in through the API with the password and the card; the bearer token."""
    challenge = client.post("/api/v1/auth/challenge")
    assert challenge.status_code == 200, challenge.text
    body = challenge.json()
    signature = card.sign(body["node"], unb64url(body["challenge"]))
    answer = client.post(
        "/api/v1/auth/token",
        json={
            "username": username,
            "password": password,
            "card_serial": card.serial,
            "challenge_id": body["challenge_id"],
            "signature": b64url(signature),
        },
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


@dataclass
class SoftAuthenticator:
    """A FIDO2 security key in software: P-256, user verification, a signature counter."""

    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    credential_id: bytes = field(default_factory=lambda: secrets.token_bytes(16))
    sign_count: int = 0
    serial: str = ""

    def cose_key(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        return cbor2.dumps(
            {
                1: 2,
                3: -7,
                -1: 1,
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
            }
        )

    def assertion(self, options: dict[str, Any], origin: str, *, user_verified: bool = True) -> str:
        """The JSON a browser would post for ``options`` (from the page)."""
        self.sign_count += 1
        client_data = json.dumps(
            {"type": "webauthn.get", "challenge": options["challenge"], "origin": origin}
        ).encode()
        flags = 0x01 | (0x04 if user_verified else 0)
        auth_data = (
            hashlib.sha256(options["rpId"].encode()).digest()
            + bytes([flags])
            + self.sign_count.to_bytes(4, "big")
        )
        signature = self.key.sign(
            auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256())
        )
        return json.dumps(
            {
                "id": b64url(self.credential_id),
                "rawId": b64url(self.credential_id),
                "type": "public-key",
                "response": {
                    "clientDataJSON": b64url(client_data),
                    "authenticatorData": b64url(auth_data),
                    "signature": b64url(signature),
                },
                "clientExtensionResults": {},
            }
        )

    def attestation(
        self, options: dict[str, Any], origin: str, *, user_verified: bool = True
    ) -> str:
        """The JSON a browser would post to enrol this key ("none" attestation); without
        ``user_verified`` the key was touched but its PIN not entered."""
        client_data = json.dumps(
            {"type": "webauthn.create", "challenge": options["challenge"], "origin": origin}
        ).encode()
        # User present, user verified (the PIN), credential data included.
        flags = 0x01 | (0x04 if user_verified else 0) | 0x40
        auth_data = (
            hashlib.sha256(options["rp"]["id"].encode()).digest()
            + bytes([flags])
            + self.sign_count.to_bytes(4, "big")
            + bytes(16)  # AAGUID
            + len(self.credential_id).to_bytes(2, "big")
            + self.credential_id
            + self.cose_key()
        )
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return json.dumps(
            {
                "id": b64url(self.credential_id),
                "rawId": b64url(self.credential_id),
                "type": "public-key",
                "response": {
                    "clientDataJSON": b64url(client_data),
                    "attestationObject": b64url(attestation),
                },
                "clientExtensionResults": {},
            }
        )


def lend_security_key(
    node: ServiceContext, username: str, serial: str | None = None
) -> SoftAuthenticator:
    """Register a software security key as a card and lend it to ``username``.

    The registration ceremony is the card administrator's page work; here the register row is
    written as that ceremony would leave it, then lent through the service.
    """
    from jukinet.services.operator_security.cards import lend_card

    number = serial or f"K-{secrets.token_hex(4).upper()}"
    authenticator = SoftAuthenticator(serial=number)
    now = node.now()
    with node.uow() as uow:
        uow.session.add(
            OperatorCardRow(
                serial=number,
                kind="webauthn",
                status="in_stock",
                credential_id=b64url(authenticator.credential_id),
                public_key=authenticator.cose_key(),
                sign_count=0,
                registered_at=now,
                status_changed_at=now,
                note="",
            )
        )
        uow.commit()
    lend_card(node, actor=card_administrator(), serial=number, username=username)
    return authenticator


def csrf_of(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def page_sign_in(
    client: httpx.Client,
    username: str,
    password: str,
    authenticator: SoftAuthenticator,
    *,
    origin: str | None = None,
) -> Any:
    """Sign in on the pages: password, then the card; the final response (a 303 on success)."""
    token = csrf_of(client.get("/login").text)
    first = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token},
        follow_redirects=False,
    )
    if first.status_code != 303:
        return first
    page = client.get("/login/card")
    options_match = _OPTIONS.search(page.text)
    challenge_match = _CHALLENGE_ID.search(page.text)
    assert options_match, page.text[:400]
    assert challenge_match, page.text[:400]
    options = json.loads(options_match.group(1).replace("\\u003c", "<"))
    where = origin or str(client.base_url).rstrip("/")
    enrol = 'name="mode" value="enrol"' in page.text
    credential = (
        authenticator.attestation(options, where)
        if enrol
        else authenticator.assertion(options, where)
    )
    return client.post(
        "/login/card",
        data={
            "csrf_token": csrf_of(page.text),
            "challenge_id": challenge_match.group(1),
            "mode": "enrol" if enrol else "signin",
            "credential": credential,
        },
        follow_redirects=False,
    )
