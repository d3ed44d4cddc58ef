"""Sign-in for API clients."""

from __future__ import annotations

from fastapi import APIRouter

from jukinet.services.operators import authenticate, issue_token
from jukinet.web.api.schemas import TokenRequest, TokenResponse
from jukinet.web.auth import NodeDep
from jukinet.web.errors import ERROR_RESPONSES

router = APIRouter(tags=["auth"])


@router.post("/auth/token", responses={401: ERROR_RESPONSES[401], 422: ERROR_RESPONSES[422]})
def token(body: TokenRequest, node: NodeDep) -> TokenResponse:
    """Exchange an operator's username and password for a short-lived bearer token."""
    actor = authenticate(node, username=body.username, password=body.password)
    return TokenResponse(
        access_token=issue_token(node, actor), expires_in=node.settings.token_ttl_seconds
    )
