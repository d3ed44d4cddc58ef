"""The card move (転入転出の特例) over the JSON API: the move-out in advance at the old
municipality, the move-in with the card at the new one, and the card's continuation.

The bodies carry exactly the fields of the services' input models (one input model per use
case). Writes accept an ``Idempotency-Key`` as the counter's other writes do.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import Field

from jukinet.domain.card_move import FilingChannel
from jukinet.services.card_move.inputs import CardContinuation, CardMoveIn, CardMoveOut
from jukinet.services.card_move.move_in import continue_card, file_card_move_in
from jukinet.services.card_move.move_out import file_card_move_out
from jukinet.services.card_move.pull import pull_move_out
from jukinet.web.api.events import answer_change
from jukinet.web.api.idempotent import IdempotencyKey
from jukinet.web.api.schemas import Address, ChangeOut, InputDate, ResidentCode, Strict
from jukinet.web.auth import ApiActor, NodeDep
from jukinet.web.errors import ERROR_RESPONSES

router = APIRouter(tags=["card move"], responses=ERROR_RESPONSES)

Serial = Annotated[str, Field(min_length=1, max_length=32, description="The card's serial.")]
Pin = Annotated[str, Field(min_length=1, max_length=8, description="The card's PIN (4 digits).")]


class CardMoveOutRequest(Strict):
    """転出届（特例）: filed in advance by the card holder (counter or post)."""

    holder_code: ResidentCode
    destination: Address
    destination_municipality_code: Annotated[str, Field(min_length=1, max_length=6)]
    planned_on: InputDate
    filed_on: InputDate
    member_codes: Annotated[list[ResidentCode], Field(default_factory=list, max_length=20)]
    channel: FilingChannel = FilingChannel.COUNTER
    insurance_note: Annotated[str | None, Field(default=None, max_length=200)] = None


class CardMoveInRequest(Strict):
    """転入届（特例）: the card with its PIN at the new municipality."""

    serial: Serial
    pin: Pin
    address: Address
    moved_in_on: InputDate
    filed_on: InputDate
    household_number: Annotated[str | None, Field(default=None, max_length=20)] = None
    continue_card: bool = True


class CardContinuationRequest(Strict):
    """継続利用 of a card that moved in (within 90 days)."""

    serial: Serial
    pin: Pin


class ContinuedOut(Strict):
    """The serial continued here."""

    serial: str


@router.post("/card-moves/move-out", response_model=ChangeOut)
def card_move_out(
    body: CardMoveOutRequest, node: NodeDep, actor: ApiActor, key: IdempotencyKey = None
) -> Any:
    """転出届（特例）: the planned move is marked; the record stays until the move-in notice."""
    request = CardMoveOut(
        holder_code=body.holder_code,
        destination=body.destination,
        destination_municipality_code=body.destination_municipality_code,
        planned_on=body.planned_on,
        filed_on=body.filed_on,
        member_codes=tuple(body.member_codes),
        channel=body.channel,
        insurance_note=body.insurance_note,
    )
    return answer_change(
        node,
        actor,
        key,
        "/card-moves/move-out",
        body,
        200,
        lambda: file_card_move_out(node, actor=actor, request=request),
    )


@router.post("/card-moves/move-in", status_code=201, response_model=ChangeOut)
def card_move_in(
    body: CardMoveInRequest, node: NodeDep, actor: ApiActor, key: IdempotencyKey = None
) -> Any:
    """転入届（特例）: the move-out information is pulled from the old municipality and the
    move-in registered in one transaction."""
    request = CardMoveIn(
        serial=body.serial,
        pin=body.pin,
        address=body.address,
        moved_in_on=body.moved_in_on,
        filed_on=body.filed_on,
        household_number=body.household_number,
        continue_card=body.continue_card,
    )
    return answer_change(
        node,
        actor,
        key,
        "/card-moves/move-in",
        body,
        201,
        lambda: file_card_move_in(node, actor=actor, request=request, pull=pull_move_out),
    )


@router.post("/card-moves/continue", response_model=ContinuedOut)
def card_continue(body: CardContinuationRequest, node: NodeDep, actor: ApiActor) -> ContinuedOut:
    """継続利用: the card keeps its serial, now held by this municipality."""
    serial = continue_card(
        node, actor=actor, request=CardContinuation(serial=body.serial, pin=body.pin)
    )
    return ContinuedOut(serial=serial)
