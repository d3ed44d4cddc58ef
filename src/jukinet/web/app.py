"""The web application of a node: JSON API under /api/v1, counter pages under /."""

from __future__ import annotations

from importlib.resources import files

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import Receive, Scope, Send

from jukinet import __version__
from jukinet.domain.errors import DomainError
from jukinet.domain.names import name_search_key
from jukinet.network.crl import revocation_health
from jukinet.services.context import ServiceContext
from jukinet.web.api import router as api_router
from jukinet.web.auth import TerminalCheck
from jukinet.web.bodies import BodyLimit
from jukinet.web.errors import install_error_handlers, refusal_answer
from jukinet.web.route_rules import index_rules

#: The largest request body the operator app reads (its forms and JSON are a few KiB).
MAX_OPERATOR_BODY_BYTES = 1024 * 1024


def create_app(node: ServiceContext) -> FastAPI:
    """Build the app for ``node``; tests build one per database."""
    app = FastAPI(
        title="jukinet municipal register",
        version=__version__,
        description="住民基本台帳 (resident register) counter operations and lookups. "
        "Every error answer carries a stable code and messages in Japanese and English.",
    )
    app.state.node = node
    # Build the name-folding table now rather than inside the first clerk's request.
    name_search_key("髙橋")
    app.add_middleware(
        SessionMiddleware,
        secret_key=node.settings.secret_key,
        session_cookie="jukinet_session",
        max_age=node.settings.session_ttl_seconds,
        # Strict same-site cookies keep other sites from posting forms with a clerk's session.
        same_site="strict",
        https_only=node.settings.environment == "production",
    )
    # Before any sign-in: a request from an unregistered or revoked terminal gets no further.
    app.add_middleware(TerminalCheck, node=node, on_refused=_terminal_refused)
    # Outermost: nothing below reads more of a body than an operator's form or JSON needs.
    app.add_middleware(BodyLimit, limit=MAX_OPERATOR_BODY_BYTES)
    install_error_handlers(app, page=_error_page)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, object]:
        # Monitoring reads this: a networked node reports its revocation list ("warning" two
        # days before it expires, "failing" after, when every handshake is refused).
        answer: dict[str, object] = {"node": str(node.node_id), "status": "ok"}
        if node.network is not None:
            answer |= revocation_health(node.network, now=node.now())
        if node.replica is not None:
            # The read replica's state and lag (agency lookups read there while it serves).
            answer["replica"] = node.replica.state().as_dict()
        return answer

    app.include_router(api_router, prefix="/api/v1")
    app.mount("/static", StaticFiles(directory=str(files("jukinet.web") / "static")), name="static")
    _include_pages(app)
    app.state.route_rules = index_rules(app)
    return app


async def _terminal_refused(scope: Scope, receive: Receive, send: Send) -> None:
    error = scope["state"]["terminal_error"]
    await refusal_answer(scope["path"], error)(scope, receive, send)


def _error_page(request: Request, error: DomainError) -> Response:
    from jukinet.web.ui.common import error_page

    return error_page(request, None, error)


def _include_pages(app: FastAPI) -> None:
    # The pages are optional for API-only deployments and tests of the API alone.
    from jukinet.web.ui import router as ui_router

    app.include_router(ui_router)
