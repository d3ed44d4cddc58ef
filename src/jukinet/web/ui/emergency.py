"""Page: threat level, emergency disconnects (propose / countersign), incident notices.

The same input models as the API and the command line (:class:`LevelDecision`,
:class:`DisconnectProposal`); the operator's own card is the page session's security key, used
to sign in within the last ten minutes (the service checks it, and the second operator's).
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from jukinet.domain.emergency import DisconnectProposal, LevelDecision, Scope
from jukinet.domain.errors import DomainError
from jukinet.domain.operators import Actor
from jukinet.services.context import ServiceContext
from jukinet.services.emergency import disconnects, levels
from jukinet.services.emergency.messages import incident_notices
from jukinet.web.auth import NodeDep
from jukinet.web.ui.common import (
    FormState,
    PageActor,
    PostedForm,
    csrf_ok,
    forbidden,
    redirect,
    render,
)
from jukinet.web.ui.i18n import request_lang

router = APIRouter()
PAGE = "/security/emergency"
_LEVEL_INPUTS = ("level", "reason", "decided_by", "decided_at", "minutes_ref", "scope")
_PROPOSAL_INPUTS = ("action", "scope", "target", "reason", "duration_minutes", "disconnect_id")
#: The prefix of the proposal form's inputs.
CUT = "cut_"


def _page(
    request: Request, node: ServiceContext, actor: Actor, form: FormState, *, status: int = 200
) -> HTMLResponse:
    state = node.refresh_emergency()
    with node.read_session() as session:
        notices = incident_notices(session, limit=50)
    return render(
        request,
        "security/emergency.html",
        {
            "state": state,
            "levels": levels.level_history(node),
            "cuts": disconnects.disconnects(node, actor=actor),
            "proposals": disconnects.open_proposals(node),
            "notices": notices,
            "scope_options": [(s.value, s.value) for s in Scope],
            "form": form,
            "done": request.query_params.get("done") == "1",
        },
        status=status,
        actor=actor,
    )


@router.get(PAGE)
def emergency_page(request: Request, node: NodeDep, actor: PageActor) -> HTMLResponse:
    """The level in force, the cuts with their countdown, proposals and incident notices."""
    return _page(request, node, actor, FormState(request_lang(request)))


def _number(form: FormState, name: str) -> float | None:
    text = form.text(name)
    try:
        return float(text) if text else None
    except ValueError:
        form.errors.setdefault(name, "?")
        return None


@router.post(f"{PAGE}/level")
def level_post(request: Request, node: NodeDep, actor: PageActor, posted: PostedForm) -> Response:
    """Record the security council's decision on the level."""
    if not csrf_ok(request, posted):
        return forbidden(request, actor, "error.csrf")
    form = FormState.from_form(request_lang(request), posted).expect(*_LEVEL_INPUTS)
    level = _number(form, "level")
    when_text = form.text("decided_at")
    try:
        when = dt.datetime.fromisoformat(when_text) if when_text else node.now()
        if when.tzinfo is None:  # typed on a counter in Japan
            when = when.replace(tzinfo=dt.timezone(dt.timedelta(hours=9)))
    except ValueError:
        form.errors.setdefault("decided_at", "?")
        when = node.now()
    if not form.ok or level is None:
        return _page(request, node, actor, form, status=422)
    try:
        levels.change_level(
            node,
            actor=actor,
            decision=LevelDecision(
                level=int(level),
                reason=form.text("reason"),
                decided_by=form.text("decided_by"),
                decided_at=when,
                minutes_ref=form.text("minutes_ref"),
                scope=form.text("scope") or "node",
            ),
        )
    except DomainError as error:
        form.add(error)
        return _page(request, node, actor, form, status=form.status)
    return redirect(f"{PAGE}?done=1", request)


@router.post(f"{PAGE}/proposals")
def proposal_post(
    request: Request, node: NodeDep, actor: PageActor, posted: PostedForm
) -> Response:
    """The first card: propose a cut, a renewal or an end."""
    if not csrf_ok(request, posted):
        return forbidden(request, actor, "error.csrf")
    # The proposal's inputs are named cut_… on the page (the level form shares field names).
    names = {field: f"{CUT}{field}" for field in _PROPOSAL_INPUTS}
    form = FormState.from_form(request_lang(request), posted).expect(*names.values())
    minutes = _number(form, names["duration_minutes"])
    cut_id = _number(form, names["disconnect_id"])
    if not form.ok:
        return _page(request, node, actor, form, status=422)
    try:
        disconnects.propose(
            node,
            actor=actor,
            proposal=DisconnectProposal(
                action=form.text(names["action"]) or "activate",
                reason=form.text(names["reason"]),
                scope=form.text(names["scope"]),
                target=form.text(names["target"]),
                duration_minutes=minutes if minutes is not None else 60,
                disconnect_id=int(cut_id) if cut_id is not None else None,
            ),
        )
    except DomainError as error:
        form.add(error, field_map=names)
        return _page(request, node, actor, form, status=form.status)
    return redirect(f"{PAGE}?done=1", request)


@router.post(PAGE + "/proposals/{proposal_id}/countersign")
def countersign_post(
    request: Request, proposal_id: int, node: NodeDep, actor: PageActor, posted: PostedForm
) -> Response:
    """The second card: the proposal takes effect now."""
    if not csrf_ok(request, posted):
        return forbidden(request, actor, "error.csrf")
    form = FormState(request_lang(request))
    try:
        disconnects.countersign(node, actor=actor, proposal_id=proposal_id)
    except DomainError as error:
        form.add(error)
        return _page(request, node, actor, form, status=form.status)
    return redirect(f"{PAGE}?done=1", request)


@router.post(f"{PAGE}/urgent-affairs")
def urgent_post(request: Request, node: NodeDep, actor: PageActor, posted: PostedForm) -> Response:
    """Mark an affair urgent (still provided at level 3), or take the mark away."""
    if not csrf_ok(request, posted):
        return forbidden(request, actor, "error.csrf")
    form = FormState.from_form(request_lang(request), posted).expect("affair_code")
    code = form.text("affair_code", required=True)
    if not form.ok:
        return _page(request, node, actor, form, status=422)
    try:
        levels.mark_urgent(node, actor=actor, affair_code=code, urgent=not form.checked("off"))
    except DomainError as error:
        form.add(error)
        return _page(request, node, actor, form, status=form.status)
    return redirect(f"{PAGE}?done=1", request)
