"""The resident portal app: card sign-in, my information, who looked at my data, requests.

Served by a municipality on its own port for its own residents (HTTPS in production; the
public never reaches the operator or network ports). Japanese first, English by a switch.
The browser holds an opaque session cookie (HttpOnly, SameSite=Strict); URLs never carry a
resident code or anything else personal. Each request re-checks the card in the register, so
a card suspended anywhere in the town's counter or from the portal ends the session at once.
"""

from __future__ import annotations

import base64
import binascii
from importlib.resources import files
from typing import Annotated

from fastapi import FastAPI, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

from jukinet import __version__
from jukinet.domain.errors import AuthenticationFailed, DomainError
from jukinet.services.context import ServiceContext
from jukinet.services.portal import signin
from jukinet.web.bodies import BodyLimit
from jukinet.web.errors import install_error_handlers
from jukinet.web.i18n import LANGUAGES
from jukinet.web.portal import pages
from jukinet.web.portal.common import (
    ENDED_REASONS,
    LANG_COOKIE,
    MAX_PORTAL_BODY_BYTES,
    RETURN_PATHS,
    SESSION_COOKIE,
    error_page,
    render,
    resident_of,
    to_sign_in,
)


class ChallengeOut(BaseModel):
    """A challenge for the card to sign with its authentication key."""

    challenge_id: str
    message: str = Field(description="The exact bytes to sign (base64)")


class CodeIn(BaseModel):
    """The card's answer to a challenge."""

    serial: str = Field(max_length=20)
    challenge_id: str = Field(max_length=64)
    signature: str = Field(max_length=200, description="The card's signature (base64, r||s)")


class CodeOut(BaseModel):
    """The one-time code to type into the browser."""

    code: str
    expires_in_seconds: int


def create_portal_app(node: ServiceContext) -> FastAPI:
    """The portal of one municipality (tests build one per database)."""
    app = FastAPI(title="jukinet resident portal", version=__version__, docs_url=None)
    app.state.node = node
    app.add_middleware(BodyLimit, limit=MAX_PORTAL_BODY_BYTES)

    # One error shape for the card's API (JUKI codes, ja and en) and a page for a browser.
    install_error_handlers(app, page=error_page)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"node": str(node.node_id), "status": "ok"}

    @app.post("/api/v1/portal/challenge")
    def card_challenge() -> ChallengeOut:
        """A one-time challenge (two minutes) for ``jukinet card sign-in``."""
        made = signin.challenge(node)
        return ChallengeOut(
            challenge_id=made.challenge_id,
            message=base64.b64encode(made.message).decode("ascii"),
        )

    @app.post("/api/v1/portal/code")
    def card_code(body: CodeIn) -> CodeOut:
        """The card's signature checked: a one-time code for the browser (5 minutes)."""
        try:
            signature = base64.b64decode(body.signature, validate=True)
        except (binascii.Error, ValueError):
            signature = b""
        code = signin.issue_code(
            node, serial=body.serial, challenge_id=body.challenge_id, signature=signature
        )
        return CodeOut(code=code, expires_in_seconds=signin.CODE_SECONDS)

    @app.get("/", response_class=HTMLResponse)
    async def sign_in_page(request: Request, ended: str | None = None) -> Response:
        try:
            await resident_of(request)
        except AuthenticationFailed:
            reason = ended if ended in ENDED_REASONS else None
            return render(request, "portal/sign_in.html", {"ended": reason, "error": None})
        return RedirectResponse("/me", status_code=303)

    @app.post("/sign-in", response_class=HTMLResponse)
    async def sign_in(request: Request, code: Annotated[str, Form(max_length=40)] = "") -> Response:
        origin = request.headers.get("origin")
        if origin is not None and origin.rstrip("/") != str(request.base_url).rstrip("/"):
            return render(
                request, "portal/sign_in.html", {"ended": None, "error": None}, status=403
            )
        try:
            token = await run_in_threadpool(signin.redeem_code, node, code=code)
        except DomainError as error:
            context = {"ended": None, "error": error}
            return render(request, "portal/sign_in.html", context, status=error.status)
        response = RedirectResponse("/me", status_code=303)
        response.set_cookie(
            SESSION_COOKIE,
            token,
            httponly=True,
            samesite="strict",
            secure=node.settings.environment == "production",
            max_age=signin.IDLE_SECONDS * 8,
        )
        return response

    @app.post("/sign-out")
    async def sign_out(request: Request) -> Response:
        await run_in_threadpool(signin.sign_out, node, request.cookies.get(SESSION_COOKIE))
        return to_sign_in("signed_out")

    @app.get("/lang/{lang}")
    def switch_language(lang: str, back: str = "/") -> Response:
        response = RedirectResponse(back if back in RETURN_PATHS else "/", status_code=303)
        if lang in LANGUAGES:
            response.set_cookie(LANG_COOKIE, lang, samesite="strict", max_age=365 * 86400)
        return response

    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=str(files("jukinet.web") / "static")), name="static")
    return app
