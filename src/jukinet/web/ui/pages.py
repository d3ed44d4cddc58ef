"""The language switch, resident search and the record page."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from jukinet.domain.codes import mask_resident_code
from jukinet.domain.errors import DomainError, ValidationError
from jukinet.domain.operators import Actor, Permission
from jukinet.domain.wareki import format_wareki
from jukinet.services import reading
from jukinet.services.context import ServiceContext
from jukinet.services.views import RecordView
from jukinet.web.auth import NodeDep
from jukinet.web.ui.common import (
    FormState,
    PageActor,
    PostedForm,
    csrf_ok,
    error_page,
    forbidden,
    is_htmx,
    render,
)
from jukinet.web.ui.i18n import LANG_COOKIE, LANGUAGES, Translator, request_lang
from jukinet.web.ui.navigation import landing_page, may_open
from jukinet.web.ui.records import display_items, history_rows, insurance_labels

router = APIRouter()

#: How long the language choice is remembered (one year).
LANG_COOKIE_AGE = 365 * 24 * 3600
#: Pages reached only by a form post: the switch cannot go back to them with a GET.
POST_ONLY_PATHS = frozenset({"/search", "/logout"})
#: The ending of the record page's reveal action (POST only): the switch goes to the record.
_REVEAL_SUFFIX = "/reveal"


@router.get("/lang/{lang}")
def switch_language(request: Request, lang: Annotated[str, Path(max_length=5)]) -> Response:
    """Remember the chosen language and go back to the page the switch was clicked on."""
    target = "/"
    referer = request.headers.get("referer")
    if referer:
        parts = urlsplit(referer)
        same_site = parts.netloc in ("", request.url.netloc)
        if same_site and parts.path.startswith("/") and not parts.path.startswith("//"):
            target = parts.path + (f"?{parts.query}" if parts.query else "")
    path = urlsplit(target).path
    if path in POST_ONLY_PATHS:
        target = "/"
    elif path.startswith("/records/") and path.endswith(_REVEAL_SUFFIX):
        # Back to the record, its code masked again: a reveal is never repeated by a GET.
        target = path.removesuffix(_REVEAL_SUFFIX)
    response = RedirectResponse(target, status_code=303)
    if lang in LANGUAGES:
        response.set_cookie(
            LANG_COOKIE, lang, max_age=LANG_COOKIE_AGE, samesite="strict", httponly=True
        )
    return response


# ---------------------------------------------------------------------------------------------
# Search
# ---------------------------------------------------------------------------------------------


@router.get("/")
def search_page(request: Request, node: NodeDep, actor: PageActor) -> Response:
    """The search page (empty form), for those who search a register; everyone else goes to
    the first page their role may open (prefectures and the centre keep no register)."""
    if not may_open(actor, node.settings.role, "/"):
        return RedirectResponse(landing_page(actor, node.settings.role), status_code=303)
    return render(
        request,
        "search.html",
        {"form": FormState(request_lang(request)), "results": None},
        actor=actor,
    )


@router.post("/search")
def search(request: Request, node: NodeDep, actor: PageActor, form_data: PostedForm) -> Response:
    """Search by name and/or birth date; posted so that names never land in URLs or logs.

    htmx gets the search panel alone; without JavaScript the whole page comes back.
    """
    if not csrf_ok(request, form_data):
        return forbidden(request, actor, "error.csrf")
    form = FormState.from_form(request_lang(request), form_data).expect("name", "birth_date")
    name = form.text("name")
    birth_date = form.date("birth_date", required=False)
    results: list[dict[str, Any]] | None = None
    if form.ok:
        query = reading.SearchQuery(
            name=name or None,
            birth_date=birth_date,
            include_removed=form.checked("include_removed"),
        )
        try:
            views = reading.search_residents(node, actor=actor, query=query)
        except DomainError as error:
            form.add(error)
        else:
            results = [_result_row(request, v) for v in views]
    status = 200 if form.ok else form.status
    template = "_search_panel.html" if is_htmx(request) else "search.html"
    return render(request, template, {"form": form, "results": results}, status=status, actor=actor)


def _result_row(request: Request, view: RecordView) -> dict[str, Any]:
    t = Translator(request_lang(request))
    record = view.record
    return {
        "ref": view.record_ref,
        "masked": mask_resident_code(record.resident_code),
        "name": record.name.full,
        "kana": record.name.full_kana,
        "birth_date": t.date(record.birth_date),
        "sex": t.sex(record.sex),
        "address": record.address,
        "active": record.is_active,
        "removal": t.reason(record.removal_reason),
    }


# ---------------------------------------------------------------------------------------------
# The record (住民票)
# ---------------------------------------------------------------------------------------------


RefPath = Annotated[str, Path(max_length=64)]


@router.get("/records/{ref}")
def record_page(
    request: Request,
    ref: RefPath,
    node: NodeDep,
    actor: PageActor,
    done: str | None = None,
    late: str | None = None,
) -> HTMLResponse:
    """One 住民票 or 除票: every art. 7 item, the household, the actions and the history.

    The resident code is shown masked; the reveal action shows it in full.
    """
    return _record_response(request, node, actor, ref, done=done, late=late == "1")


@router.post("/records/{ref}/reveal")
def reveal_code(
    request: Request, ref: RefPath, node: NodeDep, actor: PageActor, form_data: PostedForm
) -> Response:
    """Show the full resident code once, in this response only; logged with the reason.

    A role without ``REVEAL_CODES`` is refused (403) before anything is read or logged.
    """
    if not csrf_ok(request, form_data):
        return forbidden(request, actor, "error.csrf")
    if not actor.can(Permission.REVEAL_CODES):
        return forbidden(request, actor, "reveal.forbidden")
    form = FormState.from_form(request_lang(request), form_data).expect("reason")
    try:
        code = reading.reveal_resident_code(
            node, actor=actor, record_ref=ref, reason=form.get("reason")
        )
    except ValidationError as error:
        form.add(error)
        return _record_response(request, node, actor, ref, form=form, status=form.status)
    except DomainError as error:
        return error_page(request, actor, error)
    return _record_response(request, node, actor, ref, revealed=code)


def _record_response(
    request: Request,
    node: ServiceContext,
    actor: Actor,
    ref: str,
    *,
    done: str | None = None,
    late: bool = False,
    revealed: str | None = None,
    form: FormState | None = None,
    status: int = 200,
) -> HTMLResponse:
    t = Translator(request_lang(request))
    try:
        view = reading.read_resident_by_ref(node, actor=actor, record_ref=ref)
        entries = reading.read_history(node, actor=actor, resident_code=view.record.resident_code)
        household = reading.read_household(
            node, actor=actor, household_number=view.record.household_number
        )
    except DomainError as error:
        return error_page(request, actor, error)
    record = view.record
    head = next(
        (m.record for m in household.members if m.record.is_active and m.record.is_head), None
    )
    members = sorted(
        household.members, key=lambda m: (not m.record.is_active, not m.record.is_head)
    )
    done_key = f"done.{done}" if done else None
    if form is None:
        form = FormState(t.lang)
    form.values.setdefault("filed_on", format_wareki(node.today()))
    return render(
        request,
        "record.html",
        {
            "view": view,
            "record": record,
            "masked_code": mask_resident_code(record.resident_code),
            # Only in the response to the reveal action: never stored, never in a later page.
            "revealed": revealed if revealed == record.resident_code else None,
            "can_reveal": actor.can(Permission.REVEAL_CODES),
            "items": display_items(t, record),
            "insurance": insurance_labels(t, record.insurance),
            "head": head,
            "members": members,
            "active_members": [m for m in members if m.record.is_active],
            "history": history_rows(t, entries),
            "done": t(done_key) if done_key and t(done_key) != done_key else None,
            "late": late,
            "form": form,
            "allow_opt_out": node.settings.allow_opt_out,
        },
        status=status,
        actor=actor,
    )
