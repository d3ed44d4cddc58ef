"""Sign-in for API clients: the password and the operator card (a PKCS#11 token)."""

from __future__ import annotations

import base64

from fastapi import APIRouter

from jukinet.domain.errors import ValidationError
from jukinet.services.operator_security.signin import finish_card_signin, token_challenge
from jukinet.web.api.schemas import ChallengeResponse, TokenRequest, TokenResponse
from jukinet.web.auth import NodeDep, TerminalDep
from jukinet.web.errors import ERROR_RESPONSES

router = APIRouter(tags=["auth"])


def b64url(data: bytes) -> str:
    """base64url without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def from_b64url(text: str, *, field: str) -> bytes:
    """Decode base64url (padding optional); a clear 422 for anything else."""
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except ValueError:
        raise ValidationError(
            "JUKI-AUTH-033",
            ja="署名は base64url で送ってください。",
            en="Send the signature as base64url.",
            field=field,
        ) from None


@router.post("/auth/challenge", responses={403: ERROR_RESPONSES[403]})
def challenge(node: NodeDep, terminal: TerminalDep) -> ChallengeResponse:
    """A one-time challenge for the operator card to sign (step 1 of 2)."""
    del terminal  # checked by the dependency: unregistered terminals get no challenge
    challenge_id, value = token_challenge(node)
    return ChallengeResponse(
        challenge_id=challenge_id, challenge=b64url(value), node=str(node.node_id)
    )


@router.post(
    "/auth/token",
    responses={401: ERROR_RESPONSES[401], 403: ERROR_RESPONSES[403], 422: ERROR_RESPONSES[422]},
)
def token(body: TokenRequest, node: NodeDep, terminal: TerminalDep) -> TokenResponse:
    """Exchange the password and the card's signature for a short-lived bearer token."""
    signed_in = finish_card_signin(
        node,
        username=body.username,
        password=body.password,
        card_serial=body.card_serial,
        challenge_id=body.challenge_id,
        signature=from_b64url(body.signature, field="signature"),
        terminal=terminal,
        channel="api",
    )
    return TokenResponse(access_token=signed_in.secret, expires_in=node.settings.token_ttl_seconds)
