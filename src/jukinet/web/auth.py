"""Who is calling: bearer tokens for the API, signed session cookies for the pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from jukinet.domain.errors import AuthenticationFailed
from jukinet.domain.operators import Actor
from jukinet.services.context import ServiceContext
from jukinet.services.operators import actor_by_id, actor_from_token

_bearer = HTTPBearer(auto_error=False, description="A token from POST /api/v1/auth/token")

SESSION_OPERATOR = "operator_id"
SESSION_STARTED = "started_at"


def get_node(request: Request) -> ServiceContext:
    """The node this app serves."""
    node: ServiceContext = request.app.state.node
    return node


NodeDep = Annotated[ServiceContext, Depends(get_node)]


def api_actor(
    node: NodeDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    """The operator named by the bearer token; 401 without one."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise AuthenticationFailed(
            "JUKI-AUTH-002", ja="ログインしてください。", en="Sign in first: send a bearer token."
        )
    return actor_from_token(node, credentials.credentials)


def session_actor(request: Request, node: NodeDep) -> Actor | None:
    """The operator signed in to the pages, or ``None``."""
    operator_id = request.session.get(SESSION_OPERATOR)
    if operator_id is None:
        return None
    started = float(request.session.get(SESSION_STARTED, 0))
    if node.now().timestamp() - started > node.settings.session_ttl_seconds:
        request.session.clear()
        return None
    try:
        return actor_by_id(node, int(operator_id))
    except AuthenticationFailed:
        request.session.clear()
        return None


ApiActor = Annotated[Actor, Depends(api_actor)]
