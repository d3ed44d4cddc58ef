"""What every counter page shares: templates, sign-in, CSRF, headers and form state."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from importlib.resources import files
from typing import Annotated, Any, Final, TypeVar
from urllib.parse import urlencode

import jinja2
from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.datastructures import FormData

from jukinet.data.catalog import get_municipality
from jukinet.domain.errors import DomainError, PermissionDenied
from jukinet.domain.operators import Actor, Permission
from jukinet.domain.prefectures import prefecture_name
from jukinet.domain.register import Relationship, Sex
from jukinet.domain.wareki import format_wareki, parse_date
from jukinet.services.context import ServiceContext
from jukinet.web.auth import OUT_OF_HOURS_PATHS, get_node, session_actor
from jukinet.web.ui.i18n import Translator, request_lang
from jukinet.web.ui.navigation import may_open

SESSION_CSRF: Final = "csrf_token"
CSRF_FIELD: Final = "csrf_token"

#: Pages show personal data: never cache them, never frame them, never leak the URL elsewhere.
PAGE_HEADERS: Final[Mapping[str, str]] = {
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
}

_environment = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(files("jukinet.web") / "templates")),
    autoescape=jinja2.select_autoescape(default=True),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def is_htmx(request: Request) -> bool:
    """Whether htmx sent the request (it then wants a fragment, not a whole page)."""
    return request.headers.get("HX-Request") == "true"


def csrf_token(request: Request) -> str:
    """The session's anti-forgery token, created on first use."""
    token = request.session.get(SESSION_CSRF)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        request.session[SESSION_CSRF] = token
    return token


def csrf_ok(request: Request, form: FormData) -> bool:
    """Whether the posted form carries this session's token."""
    expected = request.session.get(SESSION_CSRF)
    given = form.get(CSRF_FIELD)
    return (
        isinstance(expected, str)
        and isinstance(given, str)
        and bool(expected)
        and secrets.compare_digest(expected, given)
    )


def _municipality_name(node: ServiceContext) -> str:
    """The name in the header: the municipality, the prefecture, or the national centre."""
    if node.settings.role == "national":
        return "全国センター（指定情報処理機関）"
    if node.settings.role == "prefecture":
        code = node.settings.node_code or ""
        return f"{prefecture_name(code) or code} 都道府県サーバ"
    try:
        return get_municipality(node.municipality_code).full_name
    except DomainError:
        return node.municipality_code


def node_label(name: str, lang: str = "ja") -> str:
    """A node as people call it (国立市, 東京都, 全国センター), for a node's name such as
    ``municipality:132152``; the name itself when it is not a node's."""
    role, _, code = name.partition(":")
    if role == "national":
        return "全国センター" if lang == "ja" else "National centre"
    if role == "prefecture":
        return prefecture_name(code) or name
    if role == "municipality":
        try:
            return get_municipality(code).full_name
        except DomainError:
            return name
    return name


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status: int = 200,
    actor: Actor | None = None,
) -> HTMLResponse:
    """Render ``template`` with the layout's context; every page gets the no-store headers."""
    node = get_node(request)
    lang = request_lang(request)
    t = Translator(lang)
    full: dict[str, Any] = {
        "request": request,
        "lang": lang,
        "node_role": node.settings.role,
        "t": t,
        "actor": actor,
        "can_correct": actor is not None and actor.can(Permission.EX_OFFICIO),
        "municipality": _municipality_name(node),
        "csrf_token": csrf_token(request),
        "terminal": getattr(request.state, "terminal", None),
        "perm": Permission,
        # The header shows a link only when its page opens for this operator here.
        "may": lambda path: may_open(actor, node.settings.role, path),
        "csrf_field": CSRF_FIELD,
        "today_wareki": format_wareki(node.today()),
        # Every operator page shows the threat level in force (domain.md §6).
        "threat_level": node.emergency.effective_level,
        "emergency_read_only": node.emergency.read_only,
        "sex_options": [(s.value, t.sex(s)) for s in Sex],
        "relationship_options": [(r.value, t.relationship(r)) for r in Relationship],
    }
    full.update(context or {})
    html = _environment.get_template(template).render(full)
    return HTMLResponse(html, status_code=status, headers=dict(PAGE_HEADERS))


def script_data(text: str) -> str:
    """JSON (WebAuthn options) made safe to place inside a ``<script>`` data block: no "</"
    may end the block early."""
    return text.replace("<", "\\u003c")


def redirect(url: str, request: Request | None = None) -> RedirectResponse:
    """A 303 See Other (htmx requests also get ``HX-Redirect`` so the whole page changes)."""
    response = RedirectResponse(url, status_code=303)
    if request is not None and is_htmx(request):
        response.headers["HX-Redirect"] = url
    return response


def record_url(record_ref: str, *, done: str | None = None, late: bool = False) -> str:
    """The record page, with the confirmation of what was just done.

    Pages address a record by its opaque reference (``RecordView.record_ref``), never by the
    resident code or the name: URLs end up in browser histories, proxies and server logs.
    """
    params: dict[str, str] = {}
    if done:
        params["done"] = done
    if late:
        params["late"] = "1"
    query = f"?{urlencode(params)}" if params else ""
    return f"/records/{record_ref}{query}"


def require_actor(
    request: Request, actor: Annotated[Actor | None, Depends(session_actor)]
) -> Actor:
    """The signed-in operator; anyone else is sent to the sign-in page (303).

    Outside operating hours without a permit only the permit pages answer; every other page
    sends the operator there, where the refusal is explained.
    """
    if (
        actor is not None
        and actor.out_of_hours
        and not request.url.path.startswith(OUT_OF_HOURS_PATHS)
    ):
        raise HTTPException(status_code=303, headers={"Location": "/permits?closed=1"})
    if actor is None:
        if is_htmx(request):
            # XMLHttpRequest follows a 303 silently and htmx would swap the sign-in page into
            # the fragment; HX-Redirect makes htmx load the sign-in page as a whole instead.
            raise HTTPException(status_code=401, headers={"HX-Redirect": "/login"})
        raise HTTPException(status_code=303, headers={"Location": "/login"})
    return actor


PageActor = Annotated[Actor, Depends(require_actor)]
#: The signed-in operator on a public page, or ``None`` for anyone else.
OptionalActor = Annotated[Actor | None, Depends(session_actor)]


async def posted_form(request: Request) -> FormData:
    """The posted form, read on the event loop so that the handler itself can be synchronous.

    Handlers stay ``def``: FastAPI runs them in its thread pool, so database work and password
    hashing never block the loop.
    """
    return await request.form()


PostedForm = Annotated[FormData, Depends(posted_form)]


def error_page(request: Request, actor: Actor | None, error: DomainError) -> HTMLResponse:
    """A whole page explaining a refusal (403, 404, 409) in the operator's language."""
    return render(
        request,
        "error.html",
        {"message": error.message(request_lang(request))},
        status=error.status,
        actor=actor,
    )


def forbidden(request: Request, actor: Actor | None, message_key: str) -> HTMLResponse:
    """A 403 page with a label from the dictionary (e.g. an expired form)."""
    message = Translator(request_lang(request))(message_key)
    return render(request, "error.html", {"message": message}, status=403, actor=actor)


# ---------------------------------------------------------------------------------------------
# Form state: the user's input kept as typed, and errors placed next to their inputs
# ---------------------------------------------------------------------------------------------

_E = TypeVar("_E", Sex, Relationship)
_PERSON_FIELD = re.compile(r"^persons\[(\d+)\]\.(\w+)$")


def person_input(index: int, name: str) -> str:
    """The input name of one person row's field (``p0_family_name``)."""
    return f"p{index}_{name}"


@dataclass
class FormState:
    """A form as the user filled it in, and what is wrong with it."""

    lang: str
    values: dict[str, str] = field(default_factory=dict)
    lists: dict[str, list[str]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)
    inputs: set[str] = field(default_factory=set)
    status: int = 422

    @classmethod
    def from_form(cls, lang: str, form: FormData, *, lists: Iterable[str] = ()) -> FormState:
        """Keep every posted text value (stripped of nothing: the user sees what they typed)."""
        values = {k: v for k, v in form.items() if isinstance(v, str) and k != CSRF_FIELD}
        multi = {name: [v for v in form.getlist(name) if isinstance(v, str)] for name in lists}
        return cls(lang=lang, values=values, lists=multi)

    @property
    def ok(self) -> bool:
        """No error so far."""
        return not self.errors and not self.general

    def get(self, name: str) -> str:
        """The value typed into ``name`` (empty if none)."""
        return self.values.get(name, "")

    def text(self, name: str, *, required: bool = False) -> str:
        """A text input; a required one left empty gets an error next to it."""
        value = self.get(name).strip()
        if required and not value:
            self.missing(name)
        return value

    def optional(self, name: str) -> str | None:
        """A text input where empty means ``None``."""
        return self.get(name).strip() or None

    def checked(self, name: str) -> bool:
        """A checkbox."""
        return name in self.values

    def missing(self, name: str) -> None:
        """Mark a required input as empty."""
        self.errors.setdefault(name, Translator(self.lang)("form.missing"))

    def date(self, name: str, *, required: bool = True) -> date | None:
        """A date typed in 和暦 or ISO; a parse error is shown next to the input."""
        text = self.get(name).strip()
        if not text:
            if required:
                self.missing(name)
            return None
        try:
            return parse_date(text, field="birth_date" if name.endswith("birth_date") else "date")
        except DomainError as error:
            self.errors.setdefault(name, error.message(self.lang))
            return None

    def choice(self, name: str, enum: type[_E]) -> _E | None:
        """A select bound to an enum; an empty or unknown choice is an error next to it."""
        raw = self.get(name)
        try:
            return enum(raw)
        except ValueError:
            self.missing(name)
            return None

    def add(self, error: DomainError, *, field_map: Mapping[str, str] | None = None) -> None:
        """Place a domain error next to its input, or above the form if it has none here.

        An aggregate (:class:`~jukinet.domain.errors.FieldErrors`) places each of its errors.
        """
        for one in error.each():
            self._add_one(one, field_map=field_map)

    def _add_one(self, error: DomainError, *, field_map: Mapping[str, str] | None) -> None:
        if isinstance(error, PermissionDenied):
            self.status = 403
        elif error.status == 409:
            self.status = 409
        name = error.field
        if name is not None and field_map and name in field_map:
            name = field_map[name]
        elif name is not None and (match := _PERSON_FIELD.match(name)):
            name = person_input(int(match[1]), match[2])
        message = error.message(self.lang)
        if name is not None and name in self.inputs:
            # Beside its input the field is plain to see: drop the path the API needs.
            self.errors.setdefault(name, _without_path(message, error.field))
        else:
            self.general.append(message)

    def expect(self, *names: str) -> FormState:
        """Declare the inputs the form shows, so errors for other fields go above the form."""
        self.inputs.update(names)
        return self


def _without_path(message: str, field: str | None) -> str:
    """``message`` without a leading ``persons[0].resident_code: `` (any field path)."""
    if field is None:
        return message
    for prefix in (f"{field}: ", f"{field.rsplit('.', 1)[-1]}: "):
        if message.startswith(prefix):
            return message[len(prefix) :]
    return message
