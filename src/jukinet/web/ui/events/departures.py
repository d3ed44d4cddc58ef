"""Departures: 転出届 (move-out, for chosen members of a household) and 死亡届 (death)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from jukinet.domain.errors import DomainError
from jukinet.domain.operators import Actor
from jukinet.services import register
from jukinet.services.context import ServiceContext
from jukinet.web.auth import NodeDep
from jukinet.web.ui.common import (
    FormState,
    PageActor,
    PostedForm,
    csrf_ok,
    error_page,
    forbidden,
)
from jukinet.web.ui.events.common import (
    HouseholdQuery,
    OptionalRefQuery,
    RefQuery,
    VersionQuery,
    active_members,
    code_of,
    codes_of,
    done,
    find_household,
    form_version,
    new_form,
    page,
    person_form,
    read_record,
)
from jukinet.web.ui.i18n import request_lang

router = APIRouter()


# ---------------------------------------------------------------------------------------------
# 転出届 (move-out)
# ---------------------------------------------------------------------------------------------

_MOVE_OUT_INPUTS = ("resident_refs", "destination", "planned_on", "filed_on")
_MOVE_OUT_FIELDS = {
    "resident_codes": "resident_refs",
    "resident_code": "resident_refs",
    "record_ref": "resident_refs",
    "relationship": "resident_refs",
    "event_date": "planned_on",
}


def _move_out_page(
    request: Request, node: ServiceContext, actor: Actor, form: FormState, status: int = 200
) -> HTMLResponse:
    members = active_members(find_household(node, actor, form.get("household_number")))
    return page(request, actor, "move_out.html", form, status=status, household_members=members)


@router.get("/events/move-out")
def move_out_form(
    request: Request,
    node: NodeDep,
    actor: PageActor,
    household: HouseholdQuery = None,
    ref: OptionalRefQuery = None,
) -> HTMLResponse:
    """転出届: choose who of the household leaves, where to and when."""
    form = new_form(request, node, household_number=household or "", return_ref=ref or "")
    if ref:
        form.lists["resident_refs"] = [ref]
    return _move_out_page(request, node, actor, form)


@router.post("/events/move-out")
def move_out(request: Request, node: NodeDep, actor: PageActor, posted: PostedForm) -> Response:
    """File a move-out for the chosen members (from this form or the record page)."""
    if not csrf_ok(request, posted):
        return forbidden(request, actor, "error.csrf")
    form = FormState.from_form(request_lang(request), posted, lists=["resident_refs"])
    form.expect(*_MOVE_OUT_INPUTS)
    refs = [r for r in form.lists.get("resident_refs", []) if r.strip()]
    if not refs:
        form.missing("resident_refs")
    destination = form.text("destination", required=True)
    planned_on = form.date("planned_on")
    filed_on = form.date("filed_on")
    if not form.ok or planned_on is None or filed_on is None:
        return _move_out_page(request, node, actor, form, status=422)
    try:
        result = register.file_move_out(
            node,
            actor=actor,
            resident_codes=codes_of(node, actor, refs),
            destination=destination,
            planned_on=planned_on,
            filed_on=filed_on,
        )
    except DomainError as error:
        form.add(error, field_map=_MOVE_OUT_FIELDS)
        return _move_out_page(request, node, actor, form, status=form.status)
    return done(result, "move_out", prefer=form.get("return_ref"))


# ---------------------------------------------------------------------------------------------
# 死亡届 (death)
# ---------------------------------------------------------------------------------------------

_DEATH_INPUTS = ("died_on", "filed_on", "new_head_ref")
_DEATH_FIELDS = {
    "event_date": "died_on",
    "relationship": "new_head_ref",
    "new_head_code": "new_head_ref",
}


def _death_page(
    request: Request, node: ServiceContext, actor: Actor, form: FormState, status: int = 200
) -> HTMLResponse:
    try:
        view = read_record(node, actor, form.get("record_ref"))
    except DomainError as error:
        return error_page(request, actor, error)
    others = [
        m
        for m in active_members(find_household(node, actor, view.record.household_number))
        if m.record_ref != view.record_ref
    ]
    return page(
        request,
        actor,
        "death.html",
        form,
        status=status,
        view=view,
        candidates=others if view.record.is_head else [],
    )


@router.get("/events/death")
def death_form(
    request: Request, node: NodeDep, actor: PageActor, ref: RefQuery, v: VersionQuery = None
) -> HTMLResponse:
    """死亡届 for one resident; a new head is chosen when the head died."""
    return _death_page(request, node, actor, person_form(request, node, ref, v))


@router.post("/events/death")
def death(request: Request, node: NodeDep, actor: PageActor, posted: PostedForm) -> Response:
    """File a death; the record becomes a 除票."""
    if not csrf_ok(request, posted):
        return forbidden(request, actor, "error.csrf")
    form = FormState.from_form(request_lang(request), posted).expect(*_DEATH_INPUTS)
    died_on = form.date("died_on")
    filed_on = form.date("filed_on")
    if not form.ok or died_on is None or filed_on is None:
        return _death_page(request, node, actor, form, status=422)
    new_head_ref = form.optional("new_head_ref")
    try:
        result = register.file_death(
            node,
            actor=actor,
            resident_code=code_of(node, actor, form),
            died_on=died_on,
            filed_on=filed_on,
            new_head_code=codes_of(node, actor, [new_head_ref])[0] if new_head_ref else None,
            expected_version=form_version(form),
        )
    except DomainError as error:
        form.add(error, field_map=_DEATH_FIELDS)
        return _death_page(request, node, actor, form, status=form.status)
    return done(result, "death", prefer=form.get("record_ref"))
