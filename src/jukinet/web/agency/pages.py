"""The agency console's pages: sign-in, the affair first, look-ups, history and statistics.

Every resident shown comes from :mod:`jukinet.services.provision` (the audit gateway, which
writes the access-log entries in the query's own transaction); the officer named in the log is
the signed-in officer, never a typed name.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Final

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from jukinet.domain.access_log import Channel
from jukinet.domain.affairs import StatutoryAffair
from jukinet.domain.errors import DomainError, ValidationError
from jukinet.domain.four_items import FourItemsQuery
from jukinet.domain.network import NodeRole
from jukinet.services import agency_console, provision
from jukinet.services.agency_console import Officer
from jukinet.web.agency.common import (
    COOKIE,
    PREFIX,
    MaybeOfficer,
    Organisation,
    cache_of,
    csrf_ok,
    error_page,
    node_of,
    redirect,
    render,
    require_recipient,
    set_lang_cookie,
    to_sign_in,
)
from jukinet.web.ui.i18n import LANGUAGES

router = APIRouter(prefix=PREFIX, include_in_schema=False)

#: Codes the look-up form takes at once (the API's limit; more belong in a batch).
MAX_FORM_CODES: Final = 100


class CsrfRefused(ValidationError):
    """A form without this session's token."""

    status = 403

    def __init__(self) -> None:
        super().__init__(
            "JUKI-AGC-010",
            ja="フォームの有効期限が切れました。ページを開き直してください。",
            en="The form has expired; open the page again.",
        )


def _affair_of(request: Request, code: str) -> StatutoryAffair | None:
    with node_of(request).read_session() as session:
        registry = cache_of(request).get(session)
    try:
        return registry.affair(code)
    except DomainError:
        return None


def _granted(request: Request, recipient_id: str) -> list[dict[str, Any]]:
    """The affairs granted today that this node answers (a prefecture: not table 1's)."""
    node = node_of(request)
    affairs = provision.affairs_for(node, cache_of(request), recipient_id)
    if node.node_id.role is NodeRole.PREFECTURE:
        return [a for a in affairs if a["table"] != 1]
    return affairs


@router.get("/login")
def login_form(request: Request, organisation: Organisation, officer: MaybeOfficer) -> Response:
    """The officer's sign-in (the organisation is the terminal's certificate)."""
    if officer is not None:
        return redirect(PREFIX)
    return render(request, "agency/login.html", {"error": None}, organisation=organisation)


@router.post("/login")
async def login(
    request: Request,
    organisation: Organisation,
    login: Annotated[str, Form(max_length=80)] = "",
    password: Annotated[str, Form(max_length=256)] = "",
) -> Response:
    """Check the officer's password for this organisation; the card step follows."""
    await run_in_threadpool(require_recipient, request, organisation)
    try:
        secret = await run_in_threadpool(
            agency_console.sign_in,
            node_of(request),
            recipient_id=organisation,
            login=login.strip(),
            password=password,
        )
    except DomainError as error:
        return render(
            request,
            "agency/login.html",
            {"error": error, "login": login},
            status=error.status,
            organisation=organisation,
        )
    response = redirect(f"{PREFIX}/card")  # the officer's card next (web/agency/card.py)
    response.set_cookie(COOKIE, secret, httponly=True, secure=True, samesite="strict", path=PREFIX)
    return response


@router.post("/logout")
async def logout(request: Request, organisation: Organisation) -> Response:
    """End the session."""
    del organisation
    await run_in_threadpool(agency_console.sign_out, node_of(request), request.cookies.get(COOKIE))
    response = to_sign_in()
    response.delete_cookie(COOKIE, path=PREFIX)
    return response


@router.get("/lang/{lang}")
def choose_language(lang: str, organisation: Organisation) -> Response:
    """Switch the console's language."""
    del organisation
    response = redirect(PREFIX)
    if lang in LANGUAGES:
        set_lang_cookie(response, lang)
    return response


@router.get("")
def home(request: Request, officer: MaybeOfficer) -> Response:
    """Choose the affair first: only the affairs the organisation is granted today."""
    if officer is None:
        return to_sign_in()
    affairs = _granted(request, officer.recipient_id)
    return render(request, "agency/home.html", {"affairs": affairs}, officer=officer)


def workspace(
    request: Request, officer: Officer, code: str, **extra: Any
) -> tuple[dict[str, Any] | None, Response | None]:
    """The granted affair ``code``, or the refusal page (recorded as a refused access)."""
    granted = {a["affair_code"]: a for a in _granted(request, officer.recipient_id)}
    if code in granted:
        return granted[code], None
    ctx = provision.QueryContext(
        recipient_id=officer.recipient_id,
        affair_code=code[:20],
        officer=officer.query_name,
        channel=Channel.AGENCY_API,
    )
    try:
        # Not granted (or granted no longer): the gateway refuses and records it.
        provision.authorise(node_of(request), cache_of(request), ctx, console=True)
    except DomainError as error:
        affair = _affair_of(request, code[:20])
        return None, error_page(request, error, officer=officer, extra={"affair": affair})
    return (
        None,
        error_page(  # granted, but not usable here (e.g. a table the node lacks)
            request, provision.TableNotAnsweredHere(code[:20]), officer=officer
        ),
    )


@router.get("/open")
def open_affair(officer: MaybeOfficer, code: str = "") -> Response:
    """The affair chosen in the home page's list."""
    if officer is None:
        return to_sign_in()
    safe = code[:20] if code[:20].replace("-", "").isalnum() else "-"
    return redirect(f"{PREFIX}/affairs/{safe}")


@router.get("/affairs/{code}")
def affair_page(request: Request, officer: MaybeOfficer, code: str) -> Response:
    """The affair's workspace: look up, search by the four items, upload a batch."""
    if officer is None:
        return to_sign_in()
    affair, refused = workspace(request, officer, code)
    if refused is not None:
        return refused
    jobs = agency_console.recent_jobs(
        node_of(request), recipient_id=officer.recipient_id, affair_code=code
    )
    return render(
        request,
        "agency/affair.html",
        {"affair": affair, "jobs": jobs, "results": None, "error": None},
        officer=officer,
    )


@router.post("/affairs/{code}/lookup")
async def lookup(request: Request, officer: MaybeOfficer, code: str) -> Response:
    """Look residents up by code (one a line); every one asked is logged."""
    if officer is None:
        return to_sign_in()
    form = await request.form(max_files=0, max_fields=10)
    if not csrf_ok(officer, form):
        return error_page(request, CsrfRefused(), officer=officer)
    affair, refused = await run_in_threadpool(workspace, request, officer, code)
    if refused is not None:
        return refused
    raw = str(form.get("codes") or "")
    codes = [part.strip() for part in raw.replace(",", "\n").splitlines() if part.strip()]
    case = str(form.get("case_number") or "").strip() or None
    try:
        if len(codes) > MAX_FORM_CODES:
            raise TooManyFormCodes()
        ctx = provision.QueryContext(
            recipient_id=officer.recipient_id,
            affair_code=code,
            officer=officer.query_name,
            case_number=case,
        )
        answers = await run_in_threadpool(
            provision.lookup_by_codes, node_of(request), cache_of(request), ctx, codes
        )
    except DomainError as error:
        return affair_with(request, officer, affair, error=error, status=error.status)
    return affair_with(request, officer, affair, results={"codes": answers})


class TooManyFormCodes(ValidationError):
    """More codes than the form takes."""

    def __init__(self) -> None:
        super().__init__(
            "JUKI-AGC-011",
            ja=f"画面から照会できる住民票コードは{MAX_FORM_CODES}件までです。"
            "それ以上は一括照会を使ってください。",
            en=f"The form takes at most {MAX_FORM_CODES} codes; upload a batch for more.",
            field="codes",
        )


def _date_or_none(value: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationError(
            "JUKI-AGC-012",
            ja="生年月日は YYYY-MM-DD で入力してください。",
            en="Give the birth date as YYYY-MM-DD.",
            field="birth_date",
        ) from None


@router.post("/affairs/{code}/search")
async def search(request: Request, officer: MaybeOfficer, code: str) -> Response:
    """Candidates for the four basic items, each with how it matched (never merged)."""
    if officer is None:
        return to_sign_in()
    form = await request.form(max_files=0, max_fields=12)
    if not csrf_ok(officer, form):
        return error_page(request, CsrfRefused(), officer=officer)
    affair, refused = await run_in_threadpool(workspace, request, officer, code)
    if refused is not None:
        return refused

    def field_text(name: str, limit: int) -> str | None:
        value = str(form.get(name) or "").strip()
        return value[:limit] or None

    sex = field_text("sex", 10)
    try:
        query = FourItemsQuery(
            name=field_text("name", 80),
            name_kana=field_text("name_kana", 130),
            birth_date=_date_or_none(field_text("birth_date", 10) or ""),
            sex=sex if sex in ("male", "female") else None,
            address=field_text("address", 200),
        )
        ctx = provision.QueryContext(
            recipient_id=officer.recipient_id,
            affair_code=code,
            officer=officer.query_name,
            case_number=field_text("case_number", 80),
        )
        answers = await run_in_threadpool(
            provision.search_four_items, node_of(request), cache_of(request), ctx, query
        )
    except DomainError as error:
        return affair_with(request, officer, affair, error=error, status=error.status)
    return affair_with(request, officer, affair, results={"candidates": answers})


def affair_with(
    request: Request,
    officer: Officer,
    affair: dict[str, Any] | None,
    *,
    results: dict[str, Any] | None = None,
    error: DomainError | None = None,
    status: int = 200,
) -> Response:
    assert affair is not None
    jobs = agency_console.recent_jobs(
        node_of(request), recipient_id=officer.recipient_id, affair_code=affair["affair_code"]
    )
    return render(
        request,
        "agency/affair.html",
        {"affair": affair, "jobs": jobs, "results": results, "error": error},
        officer=officer,
        status=status,
    )


@router.get("/history")
def history_page(request: Request, officer: MaybeOfficer) -> Response:
    """The organisation's own queries at this node and its monthly statistics."""
    if officer is None:
        return to_sign_in()
    node = node_of(request)
    return render(
        request,
        "agency/history.html",
        {
            "entries": agency_console.history(node, recipient_id=officer.recipient_id),
            "monthly": agency_console.monthly_statistics(node, recipient_id=officer.recipient_id),
        },
        officer=officer,
    )
