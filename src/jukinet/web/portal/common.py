"""What the portal's pages share: templates, the session cookie, CSRF, rendering."""

from __future__ import annotations

import hashlib
import hmac
from importlib.resources import files
from typing import Any, Final

import jinja2
from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse

from jukinet.domain.errors import AuthenticationFailed, DomainError
from jukinet.services.context import ServiceContext
from jukinet.services.portal import signin
from jukinet.services.portal.signin import PortalResident
from jukinet.web.i18n import Translator
from jukinet.web.ui.common import PAGE_HEADERS, node_label
from jukinet.web.ui.i18n import request_lang

SESSION_COOKIE: Final = "jukinet_portal"
LANG_COOKIE: Final = "lang"
CSRF_FIELD: Final = "csrf_token"
#: Forms and card answers are small.
MAX_PORTAL_BODY_BYTES: Final = 64 * 1024
ENDED_REASONS: Final = ("card_stopped", "signed_out", "card_lost")
#: Where the language switch may send the browser back to.
RETURN_PATHS: Final = ("/", "/me", "/me/requests")

environment = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(files("jukinet.web") / "templates")),
    autoescape=jinja2.select_autoescape(default=True),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def node_of(request: Request) -> ServiceContext:
    """The municipality this portal belongs to."""
    node: ServiceContext = request.app.state.node
    return node


def csrf_for(node: ServiceContext, resident: PortalResident) -> str:
    """The session's anti-forgery token (derived: nothing more to store)."""
    key = node.settings.secret_key.encode()
    return hmac.new(key, resident.session_digest.encode(), hashlib.sha256).hexdigest()[:32]


def csrf_ok(node: ServiceContext, resident: PortalResident, given: str | None) -> bool:
    """Whether a posted form carries the session's token."""
    return given is not None and hmac.compare_digest(csrf_for(node, resident), given)


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status: int = 200,
    resident: PortalResident | None = None,
) -> HTMLResponse:
    """A portal page in the chosen language, with the no-store, no-frame headers."""
    node = node_of(request)
    lang = request_lang(request)
    full: dict[str, Any] = {
        "lang": lang,
        "other_lang": "en" if lang == "ja" else "ja",
        "t": Translator(lang),
        "municipality": node_label(str(node.node_id), lang),
        "resident": resident,
        "csrf_field": CSRF_FIELD,
        "csrf_token": csrf_for(node, resident) if resident is not None else "",
        "path": request.url.path,
    }
    full.update(context or {})
    html = environment.get_template(template).render(full)
    return HTMLResponse(html, status_code=status, headers=dict(PAGE_HEADERS))


def error_page(request: Request, error: DomainError) -> HTMLResponse:
    """The error's message in the page's language, with its stable code."""
    return render(request, "portal/error.html", {"error": error}, status=error.status)


async def resident_of(request: Request) -> PortalResident:
    """The signed-in resident (raises AuthenticationFailed: the caller sends them to sign in)."""
    token = request.cookies.get(SESSION_COOKIE)
    return await run_in_threadpool(signin.current_resident, node_of(request), token)


def to_sign_in(reason: str | None = None) -> RedirectResponse:
    """Back to the sign-in page (with why the session ended, a fixed word, if it did)."""
    url = "/" if reason is None else f"/?ended={reason}"
    response = RedirectResponse(url, status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


def ended_reason(error: AuthenticationFailed) -> str | None:
    """The fixed word the sign-in page explains, for a session that ended."""
    return "card_stopped" if error.code == "JUKI-PORTAL-004" else None
