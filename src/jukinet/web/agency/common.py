"""What every agency-console page shares: the organisation, the officer, templates, errors.

The console is served on the node's mutual-TLS port next to the agencies' API: the
organisation is the recipient named by the terminal's client certificate
(:func:`jukinet.web.provision_api.principal`), the officer the holder of a console session
opened with that same certificate (:mod:`jukinet.services.agency_console`).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from importlib.resources import files
from typing import Annotated, Any, Final

import jinja2
from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from jukinet.domain.errors import DomainError
from jukinet.services import agency_console, provision
from jukinet.services.agency_console import Officer
from jukinet.services.context import ServiceContext
from jukinet.storage.registry import RegistryCache
from jukinet.web.errors import refusal_answer
from jukinet.web.provision_api import principal
from jukinet.web.ui.common import PAGE_HEADERS
from jukinet.web.ui.i18n import LANG_COOKIE, Translator, request_lang

#: The console's cookie: the session secret only (the node keeps the rest).
COOKIE: Final = "jukinet_agency"
CSRF_FIELD: Final = "csrf_token"
PREFIX: Final = "/agency"

_environment = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(files("jukinet.web") / "templates")),
    autoescape=jinja2.select_autoescape(default=True),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def node_of(request: Request) -> ServiceContext:
    """The node serving the console."""
    node: ServiceContext = request.app.state.node
    return node


def cache_of(request: Request) -> RegistryCache:
    """The node's registry cache (shared with the agencies' API)."""
    cache: RegistryCache = request.app.state.registry_cache
    return cache


Organisation = Annotated[str, Depends(principal)]


def require_recipient(request: Request, organisation: str) -> None:
    """Refuse a certificate that names no registered recipient (a node's, say): 403."""
    with node_of(request).read_session() as session:
        registry = cache_of(request).get(session)
    if organisation not in registry.recipients:
        raise provision.NotARecipient()


def current_officer(request: Request, organisation: Organisation) -> Officer | None:
    """The signed-in officer of the certificate's organisation, or ``None`` (not signed in).

    A certificate of no recipient is refused (403); a session opened with another
    organisation's certificate is ended and refused (401).
    """
    require_recipient(request, organisation)
    secret = request.cookies.get(COOKIE)
    try:
        return agency_console.resolve(node_of(request), secret, recipient_id=organisation)
    except agency_console.NotSignedIn:
        return None


MaybeOfficer = Annotated[Officer | None, Depends(current_officer)]


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status: int = 200,
    officer: Officer | None = None,
    organisation: str | None = None,
) -> HTMLResponse:
    """Render a console page with the layout's context and the no-store headers."""
    lang = request_lang(request)
    values = {
        "t": Translator(lang),
        "lang": lang,
        "officer": officer,
        "organisation": organisation or (officer.recipient_id if officer else None),
        "csrf_field": CSRF_FIELD,
        "csrf_token": officer.csrf_token if officer else "",
        "node_name": str(node_of(request).node_id),
        "path": request.url.path,
        **(context or {}),
    }
    html = _environment.get_template(template).render(values)
    return HTMLResponse(html, status_code=status, headers=dict(PAGE_HEADERS))


def to_sign_in() -> RedirectResponse:
    """Back to the sign-in page (303, so a POST becomes a GET)."""
    return RedirectResponse(f"{PREFIX}/login", status_code=303)


def redirect(path: str) -> RedirectResponse:
    """A 303 to a console path."""
    return RedirectResponse(path, status_code=303)


def csrf_ok(officer: Officer, form: FormData) -> bool:
    """Whether the posted form carries the session's token."""
    given = form.get(CSRF_FIELD)
    return isinstance(given, str) and secrets.compare_digest(given, officer.csrf_token)


def error_page(
    request: Request,
    error: DomainError,
    *,
    officer: Officer | None,
    extra: Mapping[str, Any] | None = None,
) -> HTMLResponse:
    """A refusal or bad input shown as a page with its code and message (status kept)."""
    return render(
        request,
        "agency/error.html",
        {"error": error, **(extra or {})},
        status=error.status,
        officer=officer,
    )


def page_for_error(request: Request, error: DomainError) -> Response:
    """The network app's page for an error raised before a console page ran (a refused
    certificate, another organisation's session); other paths answer JSON as before."""
    if not request.url.path.startswith(PREFIX):
        return refusal_answer(request.url.path, error)
    response = error_page(request, error, officer=None)
    if isinstance(error, agency_console.OtherOrganisation):
        response.delete_cookie(COOKIE, path=PREFIX)
    return response


def set_lang_cookie(response: Response, lang: str) -> None:
    """Remember the chosen language (the same cookie the counter pages use)."""
    response.set_cookie(LANG_COOKIE, lang, samesite="strict", secure=True, path="/")
