"""Out-of-hours permits (時間外利用許可): ask for one, see its state, approve others'.

Every signed-in operator reaches this page, at any hour (it is in ``OUT_OF_HOURS_PATHS``): an
operator signed in outside the hours is sent here with ``?closed=1`` and told why. Once a
permit is approved the session is in hours again on its next request.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from jukinet.domain.operators import Actor, Permission
from jukinet.services.context import ServiceContext
from jukinet.services.operator_security.permits import (
    approve_permit,
    end_permit,
    list_permits,
    request_permit,
)
from jukinet.web.auth import NodeDep
from jukinet.web.i18n import TEXTS
from jukinet.web.ui.common import FormState, PageActor, PostedForm, render
from jukinet.web.ui.i18n import Translator, request_lang
from jukinet.web.ui.security.common import confirmation, jst, required, run_form

router = APIRouter()

PATH = "/permits"
_ASK_INPUTS = ("permit_reason", "permit_minutes")
_ASK_FIELDS = {"reason": "permit_reason", "minutes": "permit_minutes"}
#: Others' permits an approver still has something to do with.
_OPEN_STATES = ("requested", "in_force")


def _page(
    request: Request, node: ServiceContext, actor: Actor, form: FormState, status: int = 200
) -> Response:
    permits = list_permits(node, actor=actor)
    mine = [p for p in permits if p.operator == actor.username]
    others = [p for p in permits if p.operator != actor.username and p.state in _OPEN_STATES]
    in_force = next((p for p in mine if p.state == "in_force"), None)
    return render(
        request,
        "security/permits.html",
        {
            "form": form,
            "mine": mine,
            "others": others if actor.can(Permission.APPROVE_PERMITS) else [],
            "can_request": actor.can(Permission.REQUEST_PERMITS),
            "can_approve": actor.can(Permission.APPROVE_PERMITS),
            # Both languages at once: whoever reads it first must understand it.
            "closed_banner": TEXTS["permits.closed"] if actor.out_of_hours else None,
            "in_force_until": jst(in_force.ends_at) if in_force else None,
            "done": confirmation(request, "permits"),
            "jst": jst,
        },
        status=status,
        actor=actor,
    )


@router.get(PATH)
def permits_page(request: Request, node: NodeDep, actor: PageActor) -> Response:
    """The operator's own requests, the request form, and (for approvers) others' requests."""
    form = FormState(request_lang(request))
    form.values["permit_minutes"] = str(node.settings.permit_default_minutes)
    return _page(request, node, actor, form)


@router.post(PATH)
def ask_for_permit(
    request: Request, node: NodeDep, actor: PageActor, form_data: PostedForm
) -> Response:
    """Ask for an out-of-hours permit for oneself."""

    def ask(form: FormState) -> str | None:
        if not required(form, "permit_reason"):
            return None
        raw = form.text("permit_minutes")
        minutes: int | None = None
        if raw:
            if not (raw.isascii() and raw.isdecimal()):
                form.errors["permit_minutes"] = Translator(form.lang)("permits.minutes_number")
                return None
            minutes = int(raw)
        request_permit(node, actor=actor, reason=form.get("permit_reason"), minutes=minutes)
        return "requested"

    return run_form(
        request,
        actor,
        form_data,
        permission=Permission.REQUEST_PERMITS,
        path=PATH,
        inputs=_ASK_INPUTS,
        field_map=_ASK_FIELDS,
        action=ask,
        page=lambda form, status: _page(request, node, actor, form, status),
    )


@router.post(PATH + "/{permit_id}/approve")
def approve(
    request: Request, node: NodeDep, actor: PageActor, permit_id: int, form_data: PostedForm
) -> Response:
    """Approve another operator's request (a second officer, never oneself)."""

    def act(_form: FormState) -> str:
        approve_permit(node, actor=actor, permit_id=permit_id)
        return "approved"

    return run_form(
        request,
        actor,
        form_data,
        permission=Permission.APPROVE_PERMITS,
        path=PATH,
        inputs=(),
        field_map={},
        action=act,
        page=lambda form, status: _page(request, node, actor, form, status),
    )


@router.post(PATH + "/{permit_id}/end")
def end(
    request: Request, node: NodeDep, actor: PageActor, permit_id: int, form_data: PostedForm
) -> Response:
    """End a permit early or withdraw a request: its holder, or an approver."""

    def act(_form: FormState) -> str:
        end_permit(node, actor=actor, permit_id=permit_id)
        return "ended"

    return run_form(
        request,
        actor,
        form_data,
        permission=None,  # the service lets the holder end their own
        path=PATH,
        inputs=(),
        field_map={},
        action=act,
        page=lambda form, status: _page(request, node, actor, form, status),
    )
