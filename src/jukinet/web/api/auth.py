"""Sign-in for API clients: the password and the operator card (a PKCS#11 token)."""

from __future__ import annotations

import base64
from typing import Annotated, Any

import pydantic
from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError

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


#: What OAuth2 clients add to a password-grant form; taken and dropped (the grant must be
#: "password" when named).
_OAUTH2_FORM_EXTRAS = ("grant_type", "scope", "client_id")
_FORM = "application/x-www-form-urlencoded"


async def token_request(request: Request) -> TokenRequest:
    """The sign-in, posted as JSON or as an OAuth2-style form (what OAuth2 clients send)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    raw: Any
    if content_type == _FORM:
        raw = dict((await request.form()).items())
        if raw.pop("grant_type", "password") != "password":
            raw["grant_type"] = "not password"  # refused below as an unknown field
        for extra in _OAUTH2_FORM_EXTRAS[1:]:
            raw.pop(extra, None)
    else:
        try:
            raw = await request.json()
        except ValueError:
            raw = None
        if not isinstance(raw, dict):
            raise RequestValidationError(
                [{"type": "model_attributes_type", "loc": ("body",), "msg": "not an object",
                  "input": None}]
            )  # fmt: skip
    try:
        return TokenRequest.model_validate(raw)
    except pydantic.ValidationError as error:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in error.errors(include_url=False)]
        ) from None


_TOKEN_SCHEMA = TokenRequest.model_json_schema()


@router.post(
    "/auth/token",
    responses={401: ERROR_RESPONSES[401], 403: ERROR_RESPONSES[403], 422: ERROR_RESPONSES[422]},
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "JSON, or a form as OAuth2 clients post it (grant_type=password).",
            "content": {
                "application/json": {"schema": _TOKEN_SCHEMA},
                _FORM: {"schema": _TOKEN_SCHEMA},
            },
        }
    },
)
def token(
    body: Annotated[TokenRequest, Depends(token_request)], node: NodeDep, terminal: TerminalDep
) -> TokenResponse:
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
