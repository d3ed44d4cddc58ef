"""Arrivals: 転入届 (move-in, up to four people) and 出生届 (birth)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from jukinet.domain.errors import DomainError
from jukinet.domain.operators import Actor
from jukinet.domain.register import Relationship, Sex
from jukinet.services import register
from jukinet.services.context import ServiceContext
from jukinet.services.register import MoveIn, PersonInput
from jukinet.web.auth import NodeDep
from jukinet.web.ui.common import (
    FormState,
    PageActor,
    PostedForm,
    csrf_ok,
    forbidden,
    person_input,
)
from jukinet.web.ui.events.common import (
    NAME_FIELDS,
    HouseholdQuery,
    active_members,
    done,
    find_household,
    new_form,
    page,
    require_name,
)
from jukinet.web.ui.i18n import Translator, request_lang

router = APIRouter()

#: Fixed person rows of the move-in form; empty rows are skipped.
MOVE_IN_ROWS = 4
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
        household = find_household(node, actor, form.get("household_number"))
    return page(
        request,
        actor,
        "move_in.html",
        form,
        status=status,
        rows=range(MOVE_IN_ROWS),
        used_rows={row for row in range(MOVE_IN_ROWS) if _row_used(form, row)},
        household=household,
        household_members=active_members(household),
    )


@router.get("/events/move-in")
def move_in_form(
    request: Request, node: NodeDep, actor: PageActor, household: HouseholdQuery = None
) -> HTMLResponse:
    """転入届: a new household (up to four people) or people joining a household."""
    form = new_form(
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
    return done(result, "move_in")


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
    household = find_household(node, actor, form.get("household_number"))
    return page(
        request,
        actor,
        "birth.html",
        form,
        status=status,
        household_members=active_members(household),
        child_relationships=[r for r in Relationship if r is not Relationship.HEAD],
    )


@router.get("/events/birth")
def birth_form(
    request: Request, node: NodeDep, actor: PageActor, household: HouseholdQuery = None
) -> HTMLResponse:
    """出生届 for a household (the family name and domicile of the head are suggested)."""
    form = new_form(
        request, node, household_number=household or "", relationship=Relationship.CHILD.value
    )
    head = next(
        (
            m.record
            for m in active_members(find_household(node, actor, household))
            if m.record.is_head
        ),
        None,
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
    """File a birth; a new code is drawn from the pool. The service validates the name, the
    date of birth and the domicile, each error naming its input."""
    if not csrf_ok(request, posted):
        return forbidden(request, actor, "error.csrf")
    form = FormState.from_form(request_lang(request), posted).expect(*_BIRTH_INPUTS)
    household_number = form.text("household_number", required=True)
    require_name(form)
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
    return done(result, "birth")
