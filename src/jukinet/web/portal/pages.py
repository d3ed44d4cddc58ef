"""The signed-in resident's pages: my information and who looked at it, the downloads, and
requests. Every page is the resident's own: nothing here takes an identifier from the browser.
"""

from __future__ import annotations

import json
from typing import Annotated, Final

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from jukinet.domain.errors import AuthenticationFailed, DomainError
from jukinet.services.portal import overview, requests
from jukinet.services.portal.overview import Overview
from jukinet.services.portal.signin import PortalResident
from jukinet.web.portal import views
from jukinet.web.portal.common import (
    CSRF_FIELD,
    csrf_ok,
    ended_reason,
    environment,
    node_of,
    render,
    resident_of,
    to_sign_in,
)
from jukinet.web.ui.common import PAGE_HEADERS, node_label
from jukinet.web.ui.i18n import request_lang

router = APIRouter(include_in_schema=False)

TASK_KINDS: Final = tuple(k.value for k in requests.TaskKind)


async def _signed_in(request: Request) -> PortalResident | Response:
    try:
        return await resident_of(request)
    except AuthenticationFailed as error:
        return to_sign_in(ended_reason(error))


async def _overview(request: Request, resident: PortalResident) -> Overview:
    return await run_in_threadpool(overview.overview, node_of(request), resident)


@router.get("/me")
async def my_information(request: Request) -> Response:
    """My identity information at every tier, and who looked at it (one verified list)."""
    resident = await _signed_in(request)
    if isinstance(resident, Response):
        return resident
    seen = await _overview(request, resident)
    lang = request_lang(request)
    context = {
        "tiers": [
            {
                "tier": t.tier,
                "name": node_label(t.node, lang),
                "problem": t.problem,
                "verified": t.head_verified,
            }
            for t in seen.tiers
        ],
        "identity": views.identity_table(seen, lang),
        "differences": bool(seen.differences),
        "rows": views.rows(seen, lang),
        "heads": views.heads(seen, lang),
        "count": len(seen.entries),
    }
    return render(request, "portal/me.html", context, resident=resident)


def _download(body: bytes, media_type: str, name: str) -> Response:
    headers = {**PAGE_HEADERS, "Content-Disposition": f'attachment; filename="{name}"'}
    return Response(body, media_type=media_type, headers=headers)


@router.get("/me/disclosure.csv")
async def disclosure_csv(request: Request) -> Response:
    """The combined list as CSV (a new disclosure at every tier, recorded as such)."""
    resident = await _signed_in(request)
    if isinstance(resident, Response):
        return resident
    seen = await _overview(request, resident)
    body = views.csv_bytes(seen, request_lang(request))
    return _download(body, "text/csv; charset=utf-8", "my-disclosure.csv")


@router.get("/me/disclosure.pdf")
async def disclosure_pdf(request: Request) -> Response:
    """The combined list as a PDF."""
    resident = await _signed_in(request)
    if isinstance(resident, Response):
        return resident
    seen = await _overview(request, resident)
    issued = node_of(request).now().isoformat()
    lang = request_lang(request)
    body = await run_in_threadpool(views.pdf_bytes, environment, seen, lang, issued)
    return _download(body, "application/pdf", "my-disclosure.pdf")


@router.get("/me/proofs.json")
async def proofs_json(request: Request) -> Response:
    """Every tier's disclosure document (``jukinet audit check-proof`` checks each)."""
    resident = await _signed_in(request)
    if isinstance(resident, Response):
        return resident
    seen = await _overview(request, resident)
    documents = [t.document for t in seen.tiers if t.document is not None]
    body = json.dumps(documents, ensure_ascii=False, indent=2).encode("utf-8")
    return _download(body, "application/json", "my-disclosure-proofs.json")


def _requests_page(
    request: Request,
    resident: PortalResident,
    *,
    error: DomainError | None = None,
    filed: bool = False,
) -> Response:
    node = node_of(request)
    tasks = requests.tasks_of(node, resident=resident)
    kinds = [k for k in TASK_KINDS if node.settings.allow_opt_out or k not in ("opt_out", "opt_in")]
    context = {
        "tasks": tasks,
        "kinds": kinds,
        "opt_out_allowed": node.settings.allow_opt_out,
        "error": error,
        "filed": filed,
    }
    status = error.status if error is not None else 200
    return render(request, "portal/requests.html", context, status=status, resident=resident)


@router.get("/me/requests")
async def requests_page(request: Request, filed: int = 0) -> Response:
    """The resident's requests and their outcomes, and the form to send one."""
    resident = await _signed_in(request)
    if isinstance(resident, Response):
        return resident
    return await run_in_threadpool(_requests_page, request, resident, filed=filed == 1)


@router.post("/me/requests")
async def file_request(
    request: Request,
    kind: Annotated[str, Form(max_length=40)] = "",
    note: Annotated[str, Form(max_length=400)] = "",
    csrf_token: Annotated[str | None, Form(alias=CSRF_FIELD, max_length=100)] = None,
) -> Response:
    """Send a request; a loss report suspends the card and signs the resident out."""
    resident = await _signed_in(request)
    if isinstance(resident, Response):
        return resident
    node = node_of(request)
    if not csrf_ok(node, resident, csrf_token):
        return render(request, "portal/error.html", {"error": None}, status=403)
    try:
        task = await run_in_threadpool(
            lambda: requests.file_request(
                node, resident=resident, request=requests.PortalRequest(kind=kind, note=note)
            )
        )
    except DomainError as error:
        return await run_in_threadpool(_requests_page, request, resident, error=error)
    if task.kind == requests.TaskKind.CARD_LOSS.value:
        return to_sign_in("card_lost")
    return RedirectResponse("/me/requests?filed=1", status_code=303)
