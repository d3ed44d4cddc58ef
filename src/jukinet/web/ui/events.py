"""Counter notifications (届出) and ex-officio corrections: a GET form and a POST handler each.

Every handler re-renders its form with the input kept and the errors next to their fields
(422, or 409 for a stale record, 403 for a role that may not act); success is a 303 to the
record page, which confirms what was done and flags a late filing.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from jukinet.domain.errors import DomainError
from jukinet.domain.names import validate_kana, validate_name
from jukinet.domain.operators import Actor, Permission
from jukinet.domain.register import (
    Relationship,
    Sex,
)
from jukinet.domain.wareki import format_wareki
from jukinet.services import reading, register
from jukinet.services.context import ServiceContext
from jukinet.services.reading import HouseholdView
from jukinet.services.register import ChangeResult, HouseholdChange, MoveIn, PersonInput
from jukinet.services.views import RecordView
from jukinet.web.auth import NodeDep
from jukinet.web.ui.common import (
    FormState,
    PageActor,
    PostedForm,
    csrf_ok,
    error_page,
    forbidden,
    person_input,
    record_url,
    redirect,
    render,
)
from jukinet.web.ui.i18n import Translator, request_lang

router = APIRouter()

#: Fixed person rows of the move-in form; empty rows are skipped.
MOVE_IN_ROWS = 4
NAME_FIELDS = ("family_name", "given_name", "family_name_kana", "given_name_kana")
PERSON_FIELDS = (
    *NAME_FIELDS,
    "birth_date",
    "sex",
    "relationship",
    "resident_code",
    "domicile",
    "domicile_head",
)
#: Inputs whose emptiness says a move-in row is unused (selects have a default).
_ROW_TEXT_FIELDS = tuple(f for f in PERSON_FIELDS if f not in ("sex", "relationship"))

CodeQuery = Annotated[str, Query(max_length=20)]
OptionalCodeQuery = Annotated[str | None, Query(max_length=20)]
HouseholdQuery = Annotated[str | None, Query(max_length=12)]
VersionQuery = Annotated[int | None, Query(ge=1)]


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def _new_form(request: Request, node: ServiceContext, **values: str) -> FormState:
    """An empty form with the filing date set to today (in 和暦, as clerks type it)."""
    form = FormState(request_lang(request))
    form.values["filed_on"] = format_wareki(node.today())
    form.values.update(values)
    return form


def _done(result: ChangeResult, kind: str, *, prefer: str | None = None) -> Response:
    """Go to the record (``prefer`` if it was among those changed) with the confirmation."""
    codes = [v.record.resident_code for v in result.records]
    code = prefer if prefer in codes else codes[0]
    return redirect(record_url(code, done=kind, late=result.late))


def _version(form: FormState) -> int | None:
    """The record version the screen showed (sent back so a stale screen is refused)."""
    raw = form.get("expected_version").strip()
    return int(raw) if raw.isascii() and raw.isdigit() else None


def _check_name(form: FormState, names: dict[str, str]) -> None:
    """Validate the four name parts, each error next to its own input."""
    for part, input_name in names.items():
        value = form.text(input_name, required=True)
        if not value:
            continue
        try:
            if part.endswith("_kana"):
                validate_kana(value, field=part)
            else:
                validate_name(value, field=part)
        except DomainError as error:
            form.errors.setdefault(input_name, error.message(form.lang))


def _read(node: ServiceContext, actor: Actor, code: str) -> RecordView:
    return reading.read_resident(node, actor=actor, resident_code=code)


def _household(node: ServiceContext, actor: Actor, number: str | None) -> HouseholdView | None:
    """The household for context on a form, or ``None`` if the number is empty or unknown."""
    if not number or not number.strip():
        return None
    try:
        return reading.read_household(node, actor=actor, household_number=number)
    except DomainError:
        return None


def _active(household: HouseholdView | None) -> list[RecordView]:
    if household is None:
        return []
    return [m for m in household.members if m.record.is_active]


def _page(
    request: Request,
    actor: Actor,
    template: str,
    form: FormState,
    *,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    return render(request, template, {"form": form, **context}, status=status, actor=actor)


# ---------------------------------------------------------------------------------------------
# 転入届 (move-in)
# ---------------------------------------------------------------------------------------------

_MOVE_IN_INPUTS = (
    "household_mode",
    "household_number",
    "address",
    "previous_address",
    "previous_municipality_code",
    "moved_on",
    "filed_on",
    "from_abroad",
)


def _move_in_page(
    request: Request, node: ServiceContext, actor: Actor, form: FormState, status: int = 200
) -> HTMLResponse:
    household = None
    if form.get("household_mode") == "join":
        household = _household(node, actor, form.get("household_number"))
    return _page(
        request,
        actor,
        "move_in.html",
        form,
        status=status,
        rows=range(MOVE_IN_ROWS),
        used_rows={row for row in range(MOVE_IN_ROWS) if _row_used(form, row)},
        household=household,
        household_members=_active(household),
    )


@router.get("/events/move-in")
def move_in_form(
    request: Request, node: NodeDep, actor: PageActor, household: HouseholdQuery = None
) -> HTMLResponse:
    """転入届: a new household (up to four people) or people joining a household."""
    form = _new_form(
        request,
        node,
        household_mode="join" if household else "new",
        household_number=household or "",
        p0_relationship="" if household else Relationship.HEAD.value,
    )
    return _move_in_page(request, node, actor, form)


def _row_used(form: FormState, row: int) -> bool:
    """Whether anything was typed into a person row (an empty row is skipped)."""
    return any(form.get(person_input(row, f)).strip() for f in _ROW_TEXT_FIELDS)


def _move_in_person(form: FormState, row: int) -> PersonInput | None:
    """The person typed into ``row``, or ``None`` for an empty row or one the form cannot
    parse (a date or choice); the service validates names, dates and domicile once."""
    names = {f: person_input(row, f) for f in PERSON_FIELDS}
    if not _row_used(form, row):
        return None
    for part in NAME_FIELDS:
        form.text(names[part], required=True)
    birth_date = form.date(names["birth_date"])
    sex = form.choice(names["sex"], Sex)
    relationship = form.choice(names["relationship"], Relationship)
    if birth_date is None or sex is None or relationship is None:
        return None
    return PersonInput(
        family_name=form.get(names["family_name"]),
        given_name=form.get(names["given_name"]),
        family_name_kana=form.get(names["family_name_kana"]),
        given_name_kana=form.get(names["given_name_kana"]),
        birth_date=birth_date,
        sex=sex,
        relationship=relationship,
        resident_code=form.optional(names["resident_code"]),
        domicile=form.optional(names["domicile"]),
        domicile_head=form.optional(names["domicile_head"]),
    )


@router.post("/events/move-in")
def move_in(request: Request, node: NodeDep, actor: PageActor, posted: PostedForm) -> Response:
    """File a move-in; nothing is written unless every row is valid."""
    if not csrf_ok(request, posted):
        return forbidden(request, actor, "error.csrf")
    form = FormState.from_form(request_lang(request), posted).expect(*_MOVE_IN_INPUTS)
    for row in range(MOVE_IN_ROWS):
        form.expect(*(person_input(row, f) for f in PERSON_FIELDS))
    joining = form.get("household_mode") == "join"
    household_number = form.text("household_number", required=joining) if joining else None
    address = form.text("address", required=not joining)
    previous_address = form.text("previous_address", required=True)
    moved_on = form.date("moved_on")
    filed_on = form.date("filed_on")
    persons: list[PersonInput] = []
    rows: list[int] = []
    for row in range(MOVE_IN_ROWS):
        person = _move_in_person(form, row)
        if person is not None:
            persons.append(person)
            rows.append(row)
    if not persons and form.ok:
        form.errors[person_input(0, "family_name")] = Translator(form.lang)("move_in.no_person")
    previous_municipality_code = form.optional("previous_municipality_code")
    if not form.ok or moved_on is None or filed_on is None:
        return _move_in_page(request, node, actor, form, status=422)
    # The service numbers persons in the order given; map its fields back to the form rows.
    field_map = {
        f"persons[{index}].{f}": person_input(row, f)
        for index, row in enumerate(rows)
        for f in PERSON_FIELDS
    }
    if len(rows) == 1:
        field_map.update({f: person_input(rows[0], f) for f in PERSON_FIELDS})
    try:
        result = register.file_move_in(
            node,
            actor=actor,
            move_in=MoveIn(
                persons=tuple(persons),
                address=address,
                previous_address=previous_address,
                moved_on=moved_on,
                filed_on=filed_on,
                household_number=household_number,
                from_abroad=form.checked("from_abroad"),
                previous_municipality_code=previous_municipality_code,
            ),
        )
    except DomainError as error:
        form.add(error, field_map=field_map)
        return _move_in_page(request, node, actor, form, status=form.status)
    return _done(result, "move_in")


# ---------------------------------------------------------------------------------------------
# 出生届 (birth)
# ---------------------------------------------------------------------------------------------

_BIRTH_INPUTS = (
    "household_number",
    *NAME_FIELDS,
    "birth_date",
    "sex",
    "relationship",
    "domicile",
    "domicile_head",
    "filed_on",
)


def _birth_page(
    request: Request, node: ServiceContext, actor: Actor, form: FormState, status: int = 200
) -> HTMLResponse:
    household = _household(node, actor, form.get("household_number"))
    return _page(
        request,
        actor,
        "birth.html",
        form,
        status=status,
        household_members=_active(household),
        child_relationships=[r for r in Relationship if r is not Relationship.HEAD],
    )


@router.get("/events/birth")
def birth_form(
    request: Request, node: NodeDep, actor: PageActor, household: HouseholdQuery = None
) -> HTMLResponse:
    """出生届 for a household (the family name and domicile of the head are suggested)."""
    form = _new_form(
        request, node, household_number=household or "", relationship=Relationship.CHILD.value
    )
    head = next(
        (m.record for m in _active(_household(node, actor, household)) if m.record.is_head), None
    )
    if head is not None:
        form.values.update(
            family_name=head.name.family,
            family_name_kana=head.name.family_kana,
            domicile=head.domicile or "",
            domicile_head=head.domicile_head or "",
        )
    return _birth_page(request, node, actor, form)


@router.post("/events/birth")
def birth(request: Request, node: NodeDep, actor: PageActor, posted: PostedForm) -> Response:
    """File a birth; a new code is drawn from the pool."""
    if not csrf_ok(request, posted):
        return forbidden(request, actor, "error.csrf")
    form = FormState.from_form(request_lang(request), posted).expect(*_BIRTH_INPUTS)
    household_number = form.text("household_number", required=True)
    _check_name(form, {f: f for f in NAME_FIELDS})
    birth_date = form.date("birth_date")
    sex = form.choice("sex", Sex)
    relationship = form.choice("relationship", Relationship)
    filed_on = form.date("filed_on")
    if not form.ok or birth_date is None or sex is None or relationship is None or not filed_on:
        return _birth_page(request, node, actor, form, status=422)
    person = PersonInput(
        family_name=form.get("family_name"),
        given_name=form.get("given_name"),
        family_name_kana=form.get("family_name_kana"),
        given_name_kana=form.get("given_name_kana"),
        birth_date=birth_date,
        sex=sex,
        relationship=relationship,
        domicile=form.optional("domicile"),
        domicile_head=form.optional("domicile_head"),
    )
    try:
        result = register.file_birth(
            node, actor=actor, household_number=household_number, person=person, filed_on=filed_on
        )
    except DomainError as error:
        form.add(error)
        return _birth_page(request, node, actor, form, status=form.status)
    return _done(result, "birth")


# ---------------------------------------------------------------------------------------------
# 転居届 (move within)
# ---------------------------------------------------------------------------------------------

_MOVE_WITHIN_INPUTS = ("household_number", "address", "moved_on", "filed_on")


def _move_within_page(
    request: Request, node: ServiceContext, actor: Actor, form: FormState, status: int = 200
) -> HTMLResponse:
    members = _active(_household(node, actor, form.get("household_number")))
    return _page(request, actor, "move_within.html", form, status=status, household_members=members)


@router.get("/events/move-within")
def move_within_form(
    request: Request,
    node: NodeDep,
    actor: PageActor,
    household: HouseholdQuery = None,
    code: OptionalCodeQuery = None,
) -> HTMLResponse:
    """転居届: the whole household moves to a new address in the municipality."""
    form = _new_form(request, node, household_number=household or "", return_code=code or "")
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
    return _done(result, "move_within", prefer=form.get("return_code"))


# ---------------------------------------------------------------------------------------------
# 転出届 (move-out)
# ---------------------------------------------------------------------------------------------

_MOVE_OUT_INPUTS = ("resident_codes", "destination", "planned_on", "filed_on")
_MOVE_OUT_FIELDS = {
    "resident_code": "resident_codes",
    "relationship": "resident_codes",
    "event_date": "planned_on",
}


def _move_out_page(
    request: Request, node: ServiceContext, actor: Actor, form: FormState, status: int = 200
) -> HTMLResponse:
    members = _active(_household(node, actor, form.get("household_number")))
    return _page(request, actor, "move_out.html", form, status=status, household_members=members)


@router.get("/events/move-out")
def move_out_form(
    request: Request,
    node: NodeDep,
    actor: PageActor,
    household: HouseholdQuery = None,
    code: OptionalCodeQuery = None,
) -> HTMLResponse:
    """転出届: choose who of the household leaves, where to and when."""
    form = _new_form(request, node, household_number=household or "", return_code=code or "")
    if code:
        form.lists["resident_codes"] = [code]
    return _move_out_page(request, node, actor, form)


@router.post("/events/move-out")
def move_out(request: Request, node: NodeDep, actor: PageActor, posted: PostedForm) -> Response:
    """File a move-out for the chosen members (from this form or the record page)."""
    if not csrf_ok(request, posted):
        return forbidden(request, actor, "error.csrf")
    form = FormState.from_form(request_lang(request), posted, lists=["resident_codes"])
    form.expect(*_MOVE_OUT_INPUTS)
    codes = [c for c in form.lists.get("resident_codes", []) if c.strip()]
    if not codes:
        form.missing("resident_codes")
    destination = form.text("destination", required=True)
    planned_on = form.date("planned_on")
    filed_on = form.date("filed_on")
    if not form.ok or planned_on is None or filed_on is None:
        return _move_out_page(request, node, actor, form, status=422)
    try:
        result = register.file_move_out(
            node,
            actor=actor,
            resident_codes=codes,
            destination=destination,
            planned_on=planned_on,
            filed_on=filed_on,
        )
    except DomainError as error:
        form.add(error, field_map=_MOVE_OUT_FIELDS)
        return _move_out_page(request, node, actor, form, status=form.status)
    return _done(result, "move_out", prefer=form.get("return_code"))


# ---------------------------------------------------------------------------------------------
# 死亡届 (death)
# ---------------------------------------------------------------------------------------------

_DEATH_INPUTS = ("died_on", "filed_on", "new_head_code")
_DEATH_FIELDS = {"event_date": "died_on", "relationship": "new_head_code"}


def _person_page(
    request: Request,
    node: ServiceContext,
    actor: Actor,
    template: str,
    form: FormState,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    """A form about one resident, shown with who it concerns."""
    try:
        view = _read(node, actor, form.get("resident_code"))
    except DomainError as error:
        return error_page(request, actor, error)
    return _page(request, actor, template, form, status=status, view=view, **context)


def _death_page(
    request: Request, node: ServiceContext, actor: Actor, form: FormState, status: int = 200
) -> HTMLResponse:
    try:
        view = _read(node, actor, form.get("resident_code"))
    except DomainError as error:
        return error_page(request, actor, error)
    others = [
        m
        for m in _active(_household(node, actor, view.record.household_number))
        if m.record.resident_code != view.record.resident_code
    ]
    return _page(
        request,
        actor,
        "death.html",
        form,
        status=status,
        view=view,
        candidates=others if view.record.is_head else [],
    )


def _person_form(
    request: Request, node: ServiceContext, code: str, version: int | None
) -> FormState:
    return _new_form(
        request, node, resident_code=code, expected_version=str(version) if version else ""
    )


@router.get("/events/death")
def death_form(
    request: Request, node: NodeDep, actor: PageActor, code: CodeQuery, v: VersionQuery = None
) -> HTMLResponse:
    """死亡届 for one resident; a new head is chosen when the head died."""
    return _death_page(request, node, actor, _person_form(request, node, code, v))


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
    try:
        result = register.file_death(
            node,
            actor=actor,
            resident_code=form.get("resident_code"),
            died_on=died_on,
            filed_on=filed_on,
            new_head_code=form.optional("new_head_code"),
            expected_version=_version(form),
        )
    except DomainError as error:
        form.add(error, field_map=_DEATH_FIELDS)
        return _death_page(request, node, actor, form, status=form.status)
    return _done(result, "death", prefer=form.get("resident_code"))


# ---------------------------------------------------------------------------------------------
# 氏名変更 (name change)
# ---------------------------------------------------------------------------------------------

_NAME_CHANGE_INPUTS = (*NAME_FIELDS, "changed_on", "filed_on")


@router.get("/events/name-change")
def name_change_form(
    request: Request, node: NodeDep, actor: PageActor, code: CodeQuery, v: VersionQuery = None
) -> HTMLResponse:
    """氏名変更: the new name and reading (the current ones are filled in to edit)."""
    form = _person_form(request, node, code, v)
    try:
        name = _read(node, actor, code).record.name
    except DomainError as error:
        return error_page(request, actor, error)
    form.values.update(
        family_name=name.family,
        given_name=name.given,
        family_name_kana=name.family_kana,
        given_name_kana=name.given_kana,
    )
    return _person_page(request, node, actor, "name_change.html", form)


@router.post("/events/name-change")
def name_change(request: Request, node: NodeDep, actor: PageActor, posted: PostedForm) -> Response:
    """File a name change."""
    if not csrf_ok(request, posted):
        return forbidden(request, actor, "error.csrf")
    form = FormState.from_form(request_lang(request), posted).expect(*_NAME_CHANGE_INPUTS)
    _check_name(form, {f: f for f in NAME_FIELDS})
    changed_on = form.date("changed_on")
    filed_on = form.date("filed_on")
    if not form.ok or changed_on is None or filed_on is None:
        return _person_page(request, node, actor, "name_change.html", form, status=422)
    try:
        result = register.file_name_change(
            node,
            actor=actor,
            resident_code=form.get("resident_code"),
            family_name=form.get("family_name"),
            given_name=form.get("given_name"),
            family_name_kana=form.get("family_name_kana"),
            given_name_kana=form.get("given_name_kana"),
            changed_on=changed_on,
            filed_on=filed_on,
            expected_version=_version(form),
        )
    except DomainError as error:
        form.add(error)
        return _person_page(request, node, actor, "name_change.html", form, status=form.status)
    return _done(result, "name_change", prefer=form.get("resident_code"))


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
    return _person_page(
        request, node, actor, "household_change.html", form, status=status, modes=HOUSEHOLD_MODES
    )


@router.get("/events/household-change")
def household_change_form(
    request: Request, node: NodeDep, actor: PageActor, code: CodeQuery, v: VersionQuery = None
) -> HTMLResponse:
    """世帯変更: split off as head of a new household, become head, change 続柄, or join."""
    form = _person_form(request, node, code, v)
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
        view = _read(node, actor, code)
        members = _active(_household(node, actor, view.record.household_number))
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
    code = form.get("resident_code")
    changed_on = form.date("changed_on")
    filed_on = form.date("filed_on")
    # Which input an error belongs to depends on the kind of change chosen.
    by_relationship = form.get("mode") in ("relationship", "join")
    field_map = {
        "relationship": "relationship" if by_relationship else "mode",
        "household_number": "household_number" if form.get("mode") == "join" else "mode",
    }
    try:
        changes = _household_changes(node, actor, form, code)
        if not form.ok or changes is None or changed_on is None or filed_on is None:
            return _household_change_page(request, node, actor, form, status=422)
        result = register.file_household_change(
            node, actor=actor, changes=changes, changed_on=changed_on, filed_on=filed_on
        )
    except DomainError as error:
        form.add(error, field_map=field_map)
        return _household_change_page(request, node, actor, form, status=form.status)
    return _done(result, "household_change", prefer=code)


# ---------------------------------------------------------------------------------------------
# 住民票コード変更 (code change)
# ---------------------------------------------------------------------------------------------


@router.get("/events/code-change")
def code_change_form(
    request: Request, node: NodeDep, actor: PageActor, code: CodeQuery, v: VersionQuery = None
) -> HTMLResponse:
    """住民票コード変更 on the resident's request: confirm and give the filing date."""
    return _person_page(
        request, node, actor, "code_change.html", _person_form(request, node, code, v)
    )


@router.post("/events/code-change")
def code_change(request: Request, node: NodeDep, actor: PageActor, posted: PostedForm) -> Response:
    """Change the code; the record page of the new code confirms it."""
    if not csrf_ok(request, posted):
        return forbidden(request, actor, "error.csrf")
    form = FormState.from_form(request_lang(request), posted).expect("filed_on")
    filed_on = form.date("filed_on")
    if not form.ok or filed_on is None:
        return _person_page(request, node, actor, "code_change.html", form, status=422)
    try:
        result = register.change_resident_code(
            node,
            actor=actor,
            resident_code=form.get("resident_code"),
            filed_on=filed_on,
            expected_version=_version(form),
        )
    except DomainError as error:
        form.add(error)
        return _person_page(request, node, actor, "code_change.html", form, status=form.status)
    return _done(result, "code_change")


# ---------------------------------------------------------------------------------------------
# 職権修正 (ex-officio correction, supervisors)
# ---------------------------------------------------------------------------------------------

_CORRECTION_INPUTS = (*NAME_FIELDS, "birth_date", "sex", "address", "reason_note")


@router.get("/corrections")
def correction_form(
    request: Request, node: NodeDep, actor: PageActor, code: CodeQuery, v: VersionQuery = None
) -> HTMLResponse:
    """職権修正: the current items to edit, and the reason (supervisors only)."""
    if not actor.can(Permission.EX_OFFICIO):
        return forbidden(request, actor, "error.forbidden")
    form = _person_form(request, node, code, v)
    try:
        record = _read(node, actor, code).record
    except DomainError as error:
        return error_page(request, actor, error)
    form.values.update(
        family_name=record.name.family,
        given_name=record.name.given,
        family_name_kana=record.name.family_kana,
        given_name_kana=record.name.given_kana,
        birth_date=format_wareki(record.birth_date),
        sex=record.sex.value,
        address=record.address,
    )
    return _person_page(request, node, actor, "correction.html", form)


def _correction_items(form: FormState, view: RecordView) -> dict[str, object]:
    """The items that differ from the record as it stands (only those are corrected)."""
    record = view.record
    current = {
        "family_name": record.name.family,
        "given_name": record.name.given,
        "family_name_kana": record.name.family_kana,
        "given_name_kana": record.name.given_kana,
    }
    items: dict[str, object] = {}
    _check_name(form, {f: f for f in NAME_FIELDS})
    for part in NAME_FIELDS:
        value = form.get(part).strip(" \u3000")
        if value != current[part]:
            items[part] = value
    birth_date = form.date("birth_date")
    if birth_date is not None and birth_date != record.birth_date:
        items["birth_date"] = birth_date
    sex = form.choice("sex", Sex)
    if sex is not None and sex is not record.sex:
        items["sex"] = sex
    address = form.text("address", required=True)
    if address and address != record.address:
        items["address"] = address
    form.text("reason_note", required=True)
    return items


@router.post("/corrections")
def correction(request: Request, node: NodeDep, actor: PageActor, posted: PostedForm) -> Response:
    """Record a correction; a clerk who posts anyway is refused (403)."""
    if not actor.can(Permission.EX_OFFICIO):
        return forbidden(request, actor, "error.forbidden")
    if not csrf_ok(request, posted):
        return forbidden(request, actor, "error.csrf")
    form = FormState.from_form(request_lang(request), posted).expect(*_CORRECTION_INPUTS)
    try:
        view = _read(node, actor, form.get("resident_code"))
    except DomainError as error:
        return error_page(request, actor, error)
    items = _correction_items(form, view)
    if not form.ok:
        return _person_page(request, node, actor, "correction.html", form, status=422)
    try:
        result = register.correct_record(
            node,
            actor=actor,
            resident_code=view.record.resident_code,
            items=items,
            reason_note=form.get("reason_note"),
            expected_version=_version(form),
        )
    except DomainError as error:
        form.add(error)
        return _person_page(request, node, actor, "correction.html", form, status=form.status)
    return _done(result, "correction")
