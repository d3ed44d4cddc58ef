"""The service terminal's API for card services by ordinance (条例利用).

A terminal of a service (a library desk, a certificate kiosk) asks for a challenge, has the
resident's card sign it after the PIN, and sends the signature back. The answer is the
service's code and its identifier for the resident, and nothing else. Only registered
terminals reach these routes (the terminal check runs before every request); no operator signs
in: the card and its PIN are the credential.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from jukinet.services.card_services import terminal as service_terminal
from jukinet.web.api.auth import b64url, from_b64url
from jukinet.web.auth import NodeDep, TerminalDep
from jukinet.web.errors import ERROR_RESPONSES

router = APIRouter(tags=["card services"])

#: The service's code as the registry holds it (checked by the service, refused with a code).
ServiceCode = Annotated[str, Path(max_length=64, description="The card service's code")]


class ServiceChallengeResponse(BaseModel):
    """A one-time challenge for the card to sign (valid two minutes)."""

    service_code: str
    challenge_id: str
    challenge: str = Field(description="The exact bytes the card signs, base64url")


class ServiceAuthenticateRequest(BaseModel):
    """The card's answer to the challenge."""

    serial: str = Field(max_length=32, description="The card's serial (MMMMMM-NNNNNNNN)")
    challenge_id: str = Field(max_length=64)
    signature: str = Field(max_length=200, description="Raw r||s ECDSA P-256, base64url")


class ServiceUseResponse(BaseModel):
    """What the service receives: its own code and its identifier for the card's holder."""

    service_code: str
    service_identifier: str


_REFUSALS: dict[int | str, dict[str, Any]] = {
    k: ERROR_RESPONSES[k] for k in (401, 403, 404, 409, 422)
}


@router.post("/card-services/{code}/challenge", responses=_REFUSALS)
def challenge(code: ServiceCode, node: NodeDep, terminal: TerminalDep) -> ServiceChallengeResponse:
    """Step 1: a challenge for a card at this service's terminal (active services only)."""
    issued = service_terminal.service_challenge(node, code=code, place=terminal.name)
    return ServiceChallengeResponse(
        service_code=code, challenge_id=issued.challenge_id, challenge=b64url(issued.message)
    )


@router.post("/card-services/{code}/authenticate", responses=_REFUSALS)
def authenticate(
    code: ServiceCode, body: ServiceAuthenticateRequest, node: NodeDep, terminal: TerminalDep
) -> ServiceUseResponse:
    """Step 2: the card's signature; the answer is the service's identifier (never the
    resident code). Suspended, invalid, expired, locked or unenrolled cards are refused."""
    use = service_terminal.use_service(
        node,
        code=code,
        serial=body.serial,
        challenge_id=body.challenge_id,
        signature=from_b64url(body.signature, field="signature"),
        place=terminal.name,
    )
    return ServiceUseResponse(
        service_code=use.service_code, service_identifier=use.service_identifier
    )
