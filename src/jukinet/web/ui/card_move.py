"""Counter pages of the card move (転入転出の特例): the move-out in advance at the old
municipality, the move-in with the card (and its PIN on the PIN pad) at the new one, and the
card's continuation. Same input models and services as the API and the CLI.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from jukinet.domain.card_move import FilingChannel
from jukinet.domain.errors import DomainError
from jukinet.domain.operators import Actor
from jukinet.services.card_move.inputs import CardContinuation, CardMoveIn, CardMoveOut
from jukinet.services.card_move.move_in import continue_card, file_card_move_in
from jukinet.services.card_move.move_out import file_card_move_out
from jukinet.services.card_move.pull import pull_move_out
from jukinet.services.context import ServiceContext
from jukinet.web.auth import NodeDep
from jukinet.web.ui.common import FormState, PageActor, PostedForm, csrf_ok, forbidden
from jukinet.web.ui.events.common import (
    HouseholdQuery,
    OptionalRefQuery,
    active_members,
    code_of,
    codes_of,
    done,
    find_household,
    new_form,
    page,
    read_record,
)
from jukinet.web.ui.i18n import Translator, request_lang

router = APIRouter()

#: The inputs of the move-out page: CardMoveOut's fields (codes as record references).
_OUT_INPUTS = (
    "holder_ref",
    "member_refs",
    "destination",
    "destination_municipality_code",
    "planned_on",
    "filed_on",
    "channel",
    "insurance_note",
)
_OUT_FIELDS = {
    "holder_code": "holder_ref",
    "member_codes": "member_refs",
    "event_date": "planned_on",
}
#: The inputs of the move-in page: CardMoveIn's fields.
_IN_INPUTS = (
    "serial",
    "pin",
    "address",
    "moved_in_on",
    "filed_on",
    "household_number",
    "continue_card",
)
_CONTINUE_INPUTS = ("serial", "pin")


def _out_page(
    request: Request, node: ServiceContext, actor: Actor, form: FormState, status: int = 200
) -> HTMLResponse:
    holder_ref = form.get("holder_ref")
    holder = None
    if holder_ref:
        try:
            holder = read_record(node, actor, holder_ref)
        except DomainError:
            holder = None
    members = [
        m
        for m in active_members(find_household(node, actor, form.get("household_number")))
        if m.record_ref != holder_ref
    ]
    t = Translator(form.lang)
    channels = [(c.value, t(f"card_move.channel.{c.value}")) for c in _PAPER_CHANNELS]
    return page(
        request,
        actor,
        "card_move_out.html",
        form,
        status=status,
        holder=holder,
        household_members=members,
        channel_options=channels,
    )


#: The counter takes filings at the counter and by post; online ones come from the portal.
_PAPER_CHANNELS = (FilingChannel.COUNTER, FilingChannel.POST)


@router.get("/card-moves/move-out")
def card_move_out_form(
    request: Request,
    node: NodeDep,
    actor: PageActor,
    household: HouseholdQuery = None,
    ref: OptionalRefQuery = None,
) -> HTMLResponse:
    """転出届（特例）: the holder (from the record page), members, destination and date."""
    form = new_form(
        request, node, household_number=household or "", holder_ref=ref or "", channel="counter"
    )
    return _out_page(request, node, actor, form)


@router.post("/card-moves/move-out")
def card_move_out(
    request: Request, node: NodeDep, actor: PageActor, posted: PostedForm
) -> Response:
    """Mark the planned move of the holder and the members chosen."""
    if not csrf_ok(request, posted):
        return forbidden(request, actor, "error.csrf")
    form = FormState.from_form(request_lang(request), posted, lists=["member_refs"])
    form.expect(*_OUT_INPUTS)
    holder_ref = form.text("holder_ref", required=True)
    destination = form.text("destination", required=True)
    code = form.text("destination_municipality_code", required=True)
    planned_on = form.date("planned_on")
    filed_on = form.date("filed_on")
    channel = next((c for c in _PAPER_CHANNELS if c.value == form.get("channel")), None)
    if channel is None:
        form.missing("channel")
    if not form.ok or planned_on is None or filed_on is None or channel is None or not holder_ref:
        return _out_page(request, node, actor, form, status=422)
    refs = [r for r in form.lists.get("member_refs", []) if r.strip()]
    try:
        request_model = CardMoveOut(
            holder_code=code_of(node, actor, _holder_form(form)),
            destination=destination,
            destination_municipality_code=code,
            planned_on=planned_on,
            filed_on=filed_on,
            member_codes=tuple(codes_of(node, actor, refs)) if refs else (),
            channel=channel,
            insurance_note=form.optional("insurance_note"),
        )
        result = file_card_move_out(node, actor=actor, request=request_model)
    except DomainError as error:
        form.add(error, field_map=_OUT_FIELDS)
        return _out_page(request, node, actor, form, status=form.status)
    return done(result, "card_move_out", prefer=holder_ref)


def _holder_form(form: FormState) -> FormState:
    """The holder's reference as :func:`code_of` reads it (``record_ref``)."""
    holder = FormState(form.lang)
    holder.values["record_ref"] = form.get("holder_ref")
    return holder


@router.get("/card-moves/move-in")
def card_move_in_form(request: Request, node: NodeDep, actor: PageActor) -> HTMLResponse:
    """転入届（特例）: the card on the reader, its PIN on the pad, the new address."""
    form = new_form(request, node, continue_card="1")
    return page(request, actor, "card_move_in.html", form)


@router.post("/card-moves/move-in")
def card_move_in(request: Request, node: NodeDep, actor: PageActor, posted: PostedForm) -> Response:
    """Pull the move-out information and register the move-in in one transaction."""
    if not csrf_ok(request, posted):
        return forbidden(request, actor, "error.csrf")
    form = FormState.from_form(request_lang(request), posted)
    form.expect(*_IN_INPUTS)
    serial = form.text("serial", required=True)
    pin = form.text("pin", required=True)
    address = form.text("address", required=True)
    moved_in_on = form.date("moved_in_on")
    filed_on = form.date("filed_on")
    if not form.ok or moved_in_on is None or filed_on is None:
        return page(request, actor, "card_move_in.html", form, status=422)
    try:
        result = file_card_move_in(
            node,
            actor=actor,
            request=CardMoveIn(
                serial=serial,
                pin=pin,
                address=address,
                moved_in_on=moved_in_on,
                filed_on=filed_on,
                household_number=form.optional("household_number"),
                continue_card=form.checked("continue_card"),
            ),
            pull=pull_move_out,
        )
    except DomainError as error:
        form.add(error, field_map={"resident_code": "serial"})
        return page(request, actor, "card_move_in.html", form, status=form.status)
    return done(result, "card_move_in")


@router.get("/card-moves/continue")
def card_continue_form(request: Request, node: NodeDep, actor: PageActor) -> HTMLResponse:
    """継続利用: the card and its PIN again."""
    return page(request, actor, "card_move_continue.html", new_form(request, node), continued=False)


@router.post("/card-moves/continue")
def card_continue(
    request: Request, node: NodeDep, actor: PageActor, posted: PostedForm
) -> Response:
    """Continue the card of a resident who moved in with it."""
    if not csrf_ok(request, posted):
        return forbidden(request, actor, "error.csrf")
    form = FormState.from_form(request_lang(request), posted)
    form.expect(*_CONTINUE_INPUTS)
    serial = form.text("serial", required=True)
    pin = form.text("pin", required=True)
    if not form.ok:
        return page(request, actor, "card_move_continue.html", form, status=422, continued=False)
    try:
        continue_card(node, actor=actor, request=CardContinuation(serial=serial, pin=pin))
    except DomainError as error:
        form.add(error)
        return page(
            request, actor, "card_move_continue.html", form, status=form.status, continued=False
        )
    return page(request, actor, "card_move_continue.html", FormState(form.lang), continued=True)
