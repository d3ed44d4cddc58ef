"""Pages: the municipality's participation (system administrators) and a resident's choice
about upstream notification at the counter (通知の選択, Yokohama 2002–2006)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from jukinet.domain.errors import DomainError
from jukinet.domain.operators import Actor
from jukinet.domain.participation import OptOutRequest, ParticipationChange
from jukinet.services import participation, register
from jukinet.services.context import ServiceContext
from jukinet.web.auth import NodeDep
from jukinet.web.ui.common import (
    FormState,
    PageActor,
    PostedForm,
    csrf_ok,
    error_page,
    forbidden,
    redirect,
    render,
)
from jukinet.web.ui.events.common import (
    RefQuery,
    VersionQuery,
    code_of,
    done,
    form_version,
    person_form,
    person_page,
)
from jukinet.web.ui.i18n import request_lang

router = APIRouter()

_STATES = ("connected", "disconnected")


def _participation_page(
    request: Request, node: ServiceContext, actor: Actor, form: FormState, *, status: int = 200
) -> HTMLResponse:
    try:
        current = participation.participation_status(node, actor=actor)
    except DomainError as error:
        return error_page(request, actor, error)
    return render(
        request,
        "participation.html",
        {
            "status": current,
            "form": form,
            "states": [s for s in _STATES if s != current.state],
            "changed": request.query_params.get("done") == "1",
        },
        status=status,
        actor=actor,
    )


@router.get("/network/participation")
def participation_form(request: Request, node: NodeDep, actor: PageActor) -> HTMLResponse:
    """The state in force, its history, and the form to change it."""
    return _participation_page(request, node, actor, FormState(request_lang(request)))


@router.post("/network/participation")
def participation_change(
    request: Request, node: NodeDep, actor: PageActor, posted: PostedForm
) -> Response:
    """Connect or disconnect this municipality (logged; joining queues the initial load)."""
    if not csrf_ok(request, posted):
        return forbidden(request, actor, "error.csrf")
    form = FormState.from_form(request_lang(request), posted).expect("state", "reason")
    state = form.text("state", required=True)
    reason = form.text("reason", required=True)
    if not form.ok:
        return _participation_page(request, node, actor, form, status=422)
    try:
        participation.change_participation(
            node, actor=actor, change=ParticipationChange(state=state, reason=reason)
        )
    except DomainError as error:
        form.add(error)
        return _participation_page(request, node, actor, form, status=form.status)
    return redirect("/network/participation?done=1", request)


def _opt_out_page(
    request: Request, node: ServiceContext, actor: Actor, form: FormState, status: int = 200
) -> HTMLResponse:
    return person_page(
        request,
        node,
        actor,
        "opt_out.html",
        form,
        status=status,
        allowed=node.settings.allow_opt_out,
    )


@router.get("/events/opt-out")
def opt_out_form(
    request: Request, node: NodeDep, actor: PageActor, ref: RefQuery, v: VersionQuery = None
) -> HTMLResponse:
    """通知の選択: the resident's request, its date and number."""
    form = person_form(request, node, ref, v)
    form.values["requested_on"] = form.values.get("filed_on", "")
    return _opt_out_page(request, node, actor, form)


@router.post("/events/opt-out")
def opt_out(request: Request, node: NodeDep, actor: PageActor, posted: PostedForm) -> Response:
    """Stop or resume upstream notification; the record page confirms it."""
    if not csrf_ok(request, posted):
        return forbidden(request, actor, "error.csrf")
    form = FormState.from_form(request_lang(request), posted).expect(
        "opt_out", "requested_on", "request_number"
    )
    requested_on = form.date("requested_on")
    number = form.text("request_number", required=True)
    choice = form.text("opt_out", required=True)
    if not form.ok or requested_on is None or choice not in ("true", "false"):
        return _opt_out_page(request, node, actor, form, status=422)
    try:
        result = register.set_upstream_opt_out(
            node,
            actor=actor,
            request=OptOutRequest(
                resident_code=code_of(node, actor, form),
                opt_out=choice == "true",
                requested_on=requested_on,
                request_number=number,
                expected_version=form_version(form),
            ),
        )
    except DomainError as error:
        form.add(error)
        return _opt_out_page(request, node, actor, form, status=form.status)
    return done(result, "opt_out" if choice == "true" else "opt_in")
