"""Resident cards (住基カード) at the counter: application, issuance, PIN reset and change, loss
report, resumption, return; a resident's cards and a card's history.

Card issuers do the card work (``ISSUE_RESIDENT_CARDS``); any operator who may take a loss
report suspends a card (``REPORT_CARD_LOSS``). Every write accepts an ``Idempotency-Key``
header, as the counter's other writes do: a retry with the same key gets the first answer again
(``Idempotent-Replayed: true``) and changes nothing — no second chip is written.
"""

from __future__ import annotations

import base64
import binascii
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Path

from jukinet.domain.errors import ValidationError
from jukinet.services.resident_card import counter
from jukinet.services.resident_card.inputs import (
    CardIssue,
    LossReport,
    PinReset,
    Resumption,
)
from jukinet.services.resident_card.photos import apply_with_photo
from jukinet.web.api.card_schemas import (
    CardApplicationRequest,
    CardEventOut,
    CardIssueRequest,
    CardOut,
    CardReturnRequest,
    LossReportRequest,
    PinChangeRequest,
    PinResetRequest,
    ResumptionRequest,
)
from jukinet.web.api.idempotent import IdempotencyKey, answer_once
from jukinet.web.auth import ApiActor, NodeDep
from jukinet.web.errors import ERROR_RESPONSES

router = APIRouter(tags=["resident cards"], responses=ERROR_RESPONSES)


#: Do the card work once per idempotency key; a repeated key gets the first answer.
_answer = partial(answer_once, out=CardOut.of)


def _photo(text: str | None) -> bytes | None:
    if not text:
        return None
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError(
            "JUKI-CARD-033",
            ja="写真は base64 で送ってください。",
            en="Send the photo in base64.",
            field="photo",
        ) from None


@router.get("/residents/{resident_code}/cards")
def cards(
    resident_code: Annotated[str, Path(max_length=20)], node: NodeDep, actor: ApiActor
) -> list[CardOut]:
    """Every card the resident has had here, newest first (a logged read)."""
    views = counter.cards_of_resident(node, actor=actor, resident_code=resident_code)
    return [CardOut.of(view) for view in views]


@router.get("/cards/{serial}/history")
def history(
    serial: Annotated[str, Path(max_length=32)], node: NodeDep, actor: ApiActor
) -> list[CardEventOut]:
    """A card's events, oldest first (a logged read)."""
    return [CardEventOut.of(e) for e in counter.card_history(node, actor=actor, serial=serial)]


@router.post("/cards/applications", status_code=201, response_model=CardOut)
def apply(
    body: CardApplicationRequest, node: NodeDep, actor: ApiActor, key: IdempotencyKey = None
) -> Any:
    """交付申請: a new card (state ``applied``); a photo ID card sends the photo."""
    photo = _photo(body.photo)
    return _answer(
        node,
        actor,
        key,
        "/cards/applications",
        body,
        201,
        lambda: apply_with_photo(
            node, actor=actor, resident_code=body.resident_code, form=body.form, photo=photo
        ),
    )


@router.post("/cards/issue", response_model=CardOut)
def issue(
    body: CardIssueRequest, node: NodeDep, actor: ApiActor, key: IdempotencyKey = None
) -> Any:
    """交付: write the chip with the resident's PIN; the card becomes valid for ten years."""
    issued = CardIssue(body.serial, body.pin, body.pin_confirmation, body.id_document)
    return _answer(
        node,
        actor,
        key,
        "/cards/issue",
        body,
        200,
        lambda: counter.issue_card(node, actor=actor, issue=issued),
    )


@router.post("/cards/pin-reset", response_model=CardOut)
def pin_reset(
    body: PinResetRequest, node: NodeDep, actor: ApiActor, key: IdempotencyKey = None
) -> Any:
    """暗証番号の再設定 in person with ID: a new PIN; a locked card is unlocked."""
    reset = PinReset(body.serial, body.new_pin, body.pin_confirmation, body.id_document)
    return _answer(
        node,
        actor,
        key,
        "/cards/pin-reset",
        body,
        200,
        lambda: counter.reset_pin(node, actor=actor, reset=reset),
    )


@router.post("/cards/pin-change", response_model=CardOut)
def pin_change(
    body: PinChangeRequest, node: NodeDep, actor: ApiActor, key: IdempotencyKey = None
) -> Any:
    """暗証番号の変更 with the old PIN (a wrong old PIN counts towards the lock)."""
    return _answer(
        node,
        actor,
        key,
        "/cards/pin-change",
        body,
        200,
        lambda: counter.change_pin(
            node, actor=actor, serial=body.serial, old_pin=body.old_pin, new_pin=body.new_pin
        ),
    )


@router.post("/cards/loss-reports", response_model=CardOut)
def loss_report(
    body: LossReportRequest, node: NodeDep, actor: ApiActor, key: IdempotencyKey = None
) -> Any:
    """紛失届: the card is suspended at once and the network told; the answers are kept."""
    report = LossReport(
        body.serial, body.caller_name, body.caller_relation, tuple(body.answered), body.note
    )
    return _answer(
        node,
        actor,
        key,
        "/cards/loss-reports",
        body,
        200,
        lambda: counter.report_loss(node, actor=actor, report=report),
    )


@router.post("/cards/resumptions", response_model=CardOut)
def resumption(
    body: ResumptionRequest, node: NodeDep, actor: ApiActor, key: IdempotencyKey = None
) -> Any:
    """一時停止の解除 in person with ID."""
    resumed = Resumption(body.serial, body.id_document)
    return _answer(
        node,
        actor,
        key,
        "/cards/resumptions",
        body,
        200,
        lambda: counter.resume_card(node, actor=actor, resumption=resumed),
    )


@router.post("/cards/returns", response_model=CardOut)
def card_return(
    body: CardReturnRequest, node: NodeDep, actor: ApiActor, key: IdempotencyKey = None
) -> Any:
    """返納 (or an application withdrawn): the card ends for good."""
    return _answer(
        node,
        actor,
        key,
        "/cards/returns",
        body,
        200,
        lambda: counter.return_card(node, actor=actor, serial=body.serial),
    )
