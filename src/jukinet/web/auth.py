"""Who is calling, from which terminal: checked on every request.

The terminal first (a registered client certificate, or the labelled loopback terminal in
dev/test/demo), then the server-side session named by the page cookie or the API's bearer
token. A lost card, a disabled account or a revoked terminal stops the very next request.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from jukinet.domain.errors import AuthenticationFailed, DomainError
from jukinet.domain.operators import Actor, Permission
from jukinet.network.transport import peer_certificate
from jukinet.services.context import ServiceContext
from jukinet.services.emergency.enforcement import check_writable
from jukinet.services.operator_security.sessions import resolve_session
from jukinet.services.operator_security.terminals import identify_terminal
from jukinet.storage.tables import TerminalRow
from jukinet.web.route_rules import check_rule, rule_for

_bearer = HTTPBearer(auto_error=False, description="A token from POST /api/v1/auth/token")

#: The page session's cookie holds only the session secret (the server keeps the rest).
SESSION_SECRET = "sid"  # noqa: S105 - the key in the session, not a secret
#: Between the password and the card: the operator whose card is asked for, and since when.
SESSION_PENDING = "pending_operator"
SESSION_PENDING_AT = "pending_at"
#: Why the last page session ended (shown once on the sign-in page).
SESSION_ENDED = "ended"

#: Paths served before any terminal check: monitoring and the style sheet of the refusal page.
OPEN_PATHS = ("/healthz", "/static/")


def get_node(request: Request) -> ServiceContext:
    """The node this app serves."""
    node: ServiceContext = request.app.state.node
    return node


NodeDep = Annotated[ServiceContext, Depends(get_node)]


class TerminalCheck:
    """Refuse every request from a terminal that is not registered (before sign-in)."""

    def __init__(self, app: ASGIApp, *, node: ServiceContext, on_refused: ASGIApp | None) -> None:
        self.app = app
        self.node = node
        self.on_refused = on_refused

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Identify the terminal, or answer the refusal."""
        if scope["type"] != "http" or scope["path"].startswith(OPEN_PATHS):
            await self.app(scope, receive, send)
            return
        try:
            terminal = await run_in_threadpool(
                identify_terminal, self.node, peer_certificate(scope)
            )
        except DomainError as error:
            scope.setdefault("state", {})["terminal_error"] = error
            if self.on_refused is not None:
                await self.on_refused(scope, receive, send)
            return
        scope.setdefault("state", {})["terminal"] = terminal
        await self.app(scope, receive, send)


def request_terminal(request: Request) -> TerminalRow:
    """The registered terminal the request came from (set by :class:`TerminalCheck`)."""
    terminal = getattr(request.state, "terminal", None)
    if not isinstance(terminal, TerminalRow):
        raise AuthenticationFailed(
            "JUKI-TRM-001",
            ja="この端末は登録されていません。",
            en="This terminal is not registered.",
        )
    return terminal


TerminalDep = Annotated[TerminalRow, Depends(request_terminal)]


def api_actor(
    request: Request,
    node: NodeDep,
    terminal: TerminalDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    """The operator named by the bearer token; 401 without one (resolved once a request)."""
    known = getattr(request.state, "api_actor", None)
    if isinstance(known, Actor):
        return known
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise AuthenticationFailed(
            "JUKI-AUTH-002", ja="ログインしてください。", en="Sign in first: send a bearer token."
        )
    actor = resolve_session(node, credentials.credentials, terminal=terminal, channel=None)
    request.state.api_actor = actor
    return actor


def session_actor(request: Request, node: NodeDep) -> Actor | None:
    """The operator signed in to the pages, or ``None`` (the reason is kept for the page).

    Resolved once a request (the route rule and the page both ask).
    """
    if hasattr(request.state, "page_actor"):
        known: Actor | None = request.state.page_actor
        return known
    actor = _page_session(request, node)
    request.state.page_actor = actor
    return actor


def _page_session(request: Request, node: ServiceContext) -> Actor | None:
    secret = request.session.get(SESSION_SECRET)
    terminal = getattr(request.state, "terminal", None)
    if not isinstance(secret, str) or not isinstance(terminal, TerminalRow):
        return None
    try:
        return resolve_session(node, secret, terminal=terminal, channel="page")
    except AuthenticationFailed as error:
        request.session.clear()
        # Shown once on the sign-in page: why the session ended (idle, card lost, …).
        request.session[SESSION_ENDED] = (
            error.code if error.code not in ("JUKI-AUTH-002", "JUKI-AUTH-005") else ""
        )
        return None


ApiActor = Annotated[Actor, Depends(api_actor)]


def api_rule(
    request: Request,
    node: NodeDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """The route's permission rule for API callers, before the route (and its body) runs."""
    actor = None
    if isinstance(rule_for(request), Permission) and credentials is not None:
        actor = api_actor(request, node, request_terminal(request), credentials)
    check_rule(request, actor)
    # Threat level 3 and above: personal data may be read (and is logged), not changed.
    check_writable(node, request.method, rule_for(request))


#: Pages an operator signed in outside the hours may still reach (the rest send them there).
OUT_OF_HOURS_PATHS = ("/permits", "/logout", "/lang/", "/account/password")


def page_rule(request: Request, node: NodeDep) -> None:
    """The route's permission rule for the pages, before the route runs.

    Outside operating hours the page itself sends the operator to the permits page, which
    explains why, instead of a bare refusal.
    """
    actor = session_actor(request, node) if isinstance(rule_for(request), Permission) else None
    closed = actor is not None and actor.out_of_hours
    if closed and not request.url.path.startswith(OUT_OF_HOURS_PATHS):
        return
    check_rule(request, actor)
    check_writable(node, request.method, rule_for(request))
