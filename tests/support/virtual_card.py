"""A security key in Chromium's virtual authenticator, for browser tests of card sign-in."""

from __future__ import annotations

import base64
from typing import Any

from cryptography.hazmat.primitives import serialization

from tests.support.cards import SoftAuthenticator


def card_in_reader(context: Any, page: Any, card: SoftAuthenticator) -> None:
    """A security key in Chromium's virtual authenticator, its PIN verified."""
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    authenticator = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "usb",
                "hasResidentKey": False,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )["authenticatorId"]
    private = card.key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    cdp.send(
        "WebAuthn.addCredential",
        {
            "authenticatorId": authenticator,
            "credential": {
                "credentialId": base64.b64encode(card.credential_id).decode(),
                "isResidentCredential": False,
                "rpId": "localhost",
                "privateKey": base64.b64encode(private).decode(),
                "signCount": 0,
            },
        },
    )
