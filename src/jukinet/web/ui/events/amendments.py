"""Amendments to records on the register: 転居届 (move within), 氏名変更 (name change),
世帯変更 (household change) and 住民票コード変更 (code change)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from jukinet.domain.errors import DomainError
from jukinet.domain.operators import Actor
from jukinet.domain.register import Relationship
from jukinet.services import register
from jukinet.services.context import ServiceContext
from jukinet.services.register import HouseholdChange
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
    NAME_FIELDS,
    HouseholdQuery,
    OptionalRefQuery,
    RefQuery,
    VersionQuery,
    active_members,
    code_of,
    done,
    find_household,
    form_version,
    new_form,
    page,
    person_form,
    person_page,
    read_record,
    require_name,
)
from jukinet.web.ui.i18n import request_lang

router = APIRouter()


# ---------------------------------------------------------------------------------------------
# 転居届 (move within)
# ---------------------------------------------------------------------------------------------

_MOVE_WITHIN_INPUTS = ("household_number", "address", "moved_on", "filed_on")


def _move_within_page(
    request: Request, node: ServiceContext, actor: Actor, form: FormState, status: int = 200
) -> HTMLResponse:
    members = active_members(find_household(node, actor, form.get("household_number")))
    return page(request, actor, "move_within.html", form, status=status, household_members=members)


@router.get("/events/move-within")
def move_within_form(
    request: Request,
    node: NodeDep,
    actor: PageActor,
    household: HouseholdQuery = None,
    ref: OptionalRefQuery = None,
) -> HTMLResponse:
    """転居届: the whole household moves to a new address in the municipality."""
    form = new_form(request, node, household_number=household or "", return_ref=ref or "")
    return _move_within_page(request, node, actor, form)


@router.post("/events/move-within")
def move_within(request: Request, node: NodeDep, actor: PageActor, posted: PostedForm) -> Response:
    """File a move within the municipality."""
    if not csrf_ok(request, posted):
        return forbidden(request, actor, "error.csrf")
    form = FormState.from_form(request_lang(request), posted).expect(*_MOVE_WITHIN_INPUTS)
    household_number = form.text("household_number", required=True)
    address = form.text("address", required=True)
    moved_on = form.date("moved_on")
    filed_on = form.date("filed_on")
    if not form.ok or moved_on is None or filed_on is None:
        return _move_within_page(request, node, actor, form, status=422)
    try:
        result = register.file_move_within(
            node,
            actor=actor,
            household_number=household_number,
            address=address,
            moved_on=moved_on,
            filed_on=filed_on,
        )
    except DomainError as error:
        form.add(error)
        return _move_within_page(request, node, actor, form, status=form.status)
    return done(result, "move_within", prefer=form.get("return_ref"))


# ---------------------------------------------------------------------------------------------
# 氏名変更 (name change)
# ---------------------------------------------------------------------------------------------

_NAME_CHANGE_INPUTS = (*NAME_FIELDS, "changed_on", "filed_on")


@router.get("/events/name-change")
def name_change_form(
    request: Request, node: NodeDep, actor: PageActor, ref: RefQuery, v: VersionQuery = None
) -> HTMLResponse:
    """氏名変更: the new name and reading (the current ones are filled in to edit)."""
    form = person_form(request, node, ref, v)
    try:
        name = read_record(node, actor, ref).record.name
    except DomainError as error:
        return error_page(request, actor, error)
    form.values.update(
        family_name=name.family,
        given_name=name.given,
        family_name_kana=name.family_kana,
        given_name_kana=name.given_kana,
    )
    return person_page(request, node, actor, "name_change.html", form)


@router.post("/events/name-change")
def name_change(request: Request, node: NodeDep, actor: PageActor, posted: PostedForm) -> Response:
    """File a name change; the service validates the new name, each error naming its input."""
    if not csrf_ok(request, posted):
        return forbidden(request, actor, "error.csrf")
    form = FormState.from_form(request_lang(request), posted).expect(*_NAME_CHANGE_INPUTS)
    require_name(form)
    changed_on = form.date("changed_on")
    filed_on = form.date("filed_on")
    if not form.ok or changed_on is None or filed_on is None:
        return person_page(request, node, actor, "name_change.html", form, status=422)
    try:
        result = register.file_name_change(
            node,
            actor=actor,
            resident_code=code_of(node, actor, form),
            family_name=form.get("family_name"),
            given_name=form.get("given_name"),
            family_name_kana=form.get("family_name_kana"),
            given_name_kana=form.get("given_name_kana"),
            changed_on=changed_on,
            filed_on=filed_on,
            expected_version=form_version(form),
        )
    except DomainError as error:
        form.add(error)
        return person_page(request, node, actor, "name_change.html", form, status=form.status)
    return done(result, "name_change", prefer=form.get("record_ref"))


# ---------------------------------------------------------------------------------------------
# 世帯変更 (household change)
# ---------------------------------------------------------------------------------------------

HOUSEHOLD_MODES = ("new_household", "become_head", "relationship", "join")
_HOUSEHOLD_INPUTS = (
    "mode",
    "relationship",
    "old_head_relationship",
    "household_number",
    "changed_on",
    "filed_on",
)


def _household_change_page(
    request: Request, node: ServiceContext, actor: Actor, form: FormState, status: int = 200
) -> HTMLResponse:
    return person_page(
        request, node, actor, "household_change.html", form, status=status, modes=HOUSEHOLD_MODES
    )


@router.get("/events/household-change")
def household_change_form(
    request: Request, node: NodeDep, actor: PageActor, ref: RefQuery, v: VersionQuery = None
) -> HTMLResponse:
    """世帯変更: split off as head of a new household, become head, change 続柄, or join."""
    form = person_form(request, node, ref, v)
    form.values.update(mode="new_household", old_head_relationship="")
    return _household_change_page(request, node, actor, form)


def _household_changes(
    node: ServiceContext, actor: Actor, form: FormState, code: str
) -> list[HouseholdChange] | None:
    mode = form.get("mode")
    if mode not in HOUSEHOLD_MODES:
        form.missing("mode")
        return None
    if mode == "new_household":
        return [HouseholdChange(code, Relationship.HEAD, new_household=True)]
    if mode == "become_head":
        old_relationship = form.choice("old_head_relationship", Relationship)
        if old_relationship is None:
            return None
        view = read_record(node, actor, form.get("record_ref"))
        members = active_members(find_household(node, actor, view.record.household_number))
        changes = [HouseholdChange(code, Relationship.HEAD)]
        changes += [
            HouseholdChange(m.record.resident_code, old_relationship)
            for m in members
            if m.record.is_head and m.record.resident_code != code
        ]
        return changes
    relationship = form.choice("relationship", Relationship)
    if relationship is None:
        return None
    if mode == "join":
        number = form.text("household_number", required=True)
        return [HouseholdChange(code, relationship, household_number=number)] if number else None
    return [HouseholdChange(code, relationship)]


@router.post("/events/household-change")
def household_change(
    request: Request, node: NodeDep, actor: PageActor, posted: PostedForm
) -> Response:
    """File a household change for the resident on the form."""
    if not csrf_ok(request, posted):
        return forbidden(request, actor, "error.csrf")
    form = FormState.from_form(request_lang(request), posted).expect(*_HOUSEHOLD_INPUTS)
    changed_on = form.date("changed_on")
    filed_on = form.date("filed_on")
    # Which input an error belongs to depends on the kind of change chosen.
    by_relationship = form.get("mode") in ("relationship", "join")
    field_map = {
        "relationship": "relationship" if by_relationship else "mode",
        "household_number": "household_number" if form.get("mode") == "join" else "mode",
    }
    try:
        changes = _household_changes(node, actor, form, code_of(node, actor, form))
        if not form.ok or changes is None or changed_on is None or filed_on is None:
            return _household_change_page(request, node, actor, form, status=422)
        result = register.file_household_change(
            node, actor=actor, changes=changes, changed_on=changed_on, filed_on=filed_on
        )
    except DomainError as error:
        form.add(error, field_map=field_map)
        return _household_change_page(request, node, actor, form, status=form.status)
    return done(result, "household_change", prefer=form.get("record_ref"))


# ---------------------------------------------------------------------------------------------
# 住民票コード変更 (code change)
# ---------------------------------------------------------------------------------------------


@router.get("/events/code-change")
def code_change_form(
    request: Request, node: NodeDep, actor: PageActor, ref: RefQuery, v: VersionQuery = None
) -> HTMLResponse:
    """住民票コード変更 on the resident's request: confirm and give the filing date."""
    return person_page(request, node, actor, "code_change.html", person_form(request, node, ref, v))


@router.post("/events/code-change")
def code_change(request: Request, node: NodeDep, actor: PageActor, posted: PostedForm) -> Response:
    """Change the code; the record page (same reference, new code) confirms it."""
    if not csrf_ok(request, posted):
        return forbidden(request, actor, "error.csrf")
    form = FormState.from_form(request_lang(request), posted).expect("filed_on")
    filed_on = form.date("filed_on")
    if not form.ok or filed_on is None:
        return person_page(request, node, actor, "code_change.html", form, status=422)
    try:
        result = register.change_resident_code(
            node,
            actor=actor,
            resident_code=code_of(node, actor, form),
            filed_on=filed_on,
            expected_version=form_version(form),
        )
    except DomainError as error:
        form.add(error)
        return person_page(request, node, actor, "code_change.html", form, status=form.status)
    return done(result, "code_change")
