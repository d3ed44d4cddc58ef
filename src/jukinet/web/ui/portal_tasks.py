"""The counter's queue of requests from the resident portal (住民ポータルからの申請).

Clerks see each waiting request (the resident code masked: the clerk opens the record the
usual way when the resident comes in), carry it out at the counter, and record the outcome,
which the resident then sees in the portal.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from jukinet.domain.errors import DomainError
from jukinet.services.portal import requests
from jukinet.web.auth import NodeDep
from jukinet.web.ui.common import (
    PageActor,
    PostedForm,
    csrf_ok,
    error_page,
    forbidden,
    redirect,
    render,
)

router = APIRouter(include_in_schema=False)


@router.get("/portal-requests")
def queue_page(request: Request, node: NodeDep, actor: PageActor) -> HTMLResponse:
    """Waiting requests first, then the latest decided, with their outcomes."""
    try:
        tasks = requests.counter_queue(node, actor=actor)
    except DomainError as error:
        return error_page(request, actor, error)
    return render(request, "portal_requests.html", {"tasks": tasks}, actor=actor)


@router.post("/portal-requests/decide", response_model=None)
def decide(
    request: Request, node: NodeDep, actor: PageActor, form_data: PostedForm
) -> HTMLResponse | Response:
    """Record the outcome of one waiting request (done or refused, with a note)."""
    if not csrf_ok(request, form_data):
        return forbidden(request, actor, "error.csrf")
    try:
        task_id = int(str(form_data.get("task_id", "")))
    except ValueError:
        task_id = -1
    decision = requests.TaskDecision(
        task_id=task_id,
        status=str(form_data.get("status", ""))[:20],
        outcome=str(form_data.get("outcome", ""))[:400],
    )
    try:
        requests.decide_task(node, actor=actor, decision=decision)
    except DomainError as error:
        return error_page(request, actor, error)
    return redirect("/portal-requests", request)
