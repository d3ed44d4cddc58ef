"""Request and response bodies of the resident card (住基カード) API.

Each request has the fields of its use case's input model
(:mod:`jukinet.services.resident_card.inputs`); the application sends the photo itself
(base64) where the input model names the stored file. PINs are checked by the service (four
digits), so a wrong one gets the register's own JUKI-CARD code.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field

from jukinet.domain.resident_card import CardForm, CardState, InvalidReason, NetworkStatus
from jukinet.services.resident_card.counter import CardEventView, CardView
from jukinet.services.resident_card.inputs import CallerRelation, IdDocument
from jukinet.services.resident_card.photos import MAX_PHOTO_BYTES
from jukinet.web.api.schemas import ResidentCode, Strict

Serial = Annotated[
    str,
    Field(
        min_length=1,
        max_length=32,
        description="カード番号: the issuing municipality's code, a dash, eight digits",
        examples=["132292-00000001"],
    ),
]
#: Typed by the resident; the service says when it is not four digits.
Pin = Annotated[str, Field(max_length=16, description="Four digits, chosen by the resident")]
#: A photo in base64 is a third larger than the file.
_PHOTO_CHARS = (MAX_PHOTO_BYTES * 4) // 3 + 4


class CardApplicationRequest(Strict):
    """交付申請: a card of one form for a registered resident without a live card."""

    resident_code: ResidentCode
    form: CardForm
    photo: Annotated[
        str | None,
        Field(
            default=None,
            max_length=_PHOTO_CHARS,
            description="The resident's photo (photo ID cards): a JPEG or PNG file in base64, "
            f"at most {MAX_PHOTO_BYTES // 1024} KB",
        ),
    ] = None


class CardIssueRequest(Strict):
    """交付: the chip is written; the resident chose the PIN and typed it twice."""

    serial: Serial
    pin: Pin
    pin_confirmation: Pin
    id_document: IdDocument


class PinResetRequest(Strict):
    """暗証番号の再設定 in person with ID (unlocks a locked card)."""

    serial: Serial
    new_pin: Pin
    pin_confirmation: Pin
    id_document: IdDocument


class PinChangeRequest(Strict):
    """暗証番号の変更: the resident knows the old PIN (a wrong one counts towards the lock)."""

    serial: Serial
    old_pin: Pin
    new_pin: Pin


class LossReportRequest(Strict):
    """紛失届 (a phone call is enough): the card is suspended at once."""

    serial: Serial
    caller_name: Annotated[str, Field(max_length=100)]
    caller_relation: CallerRelation
    answered: Annotated[
        list[Annotated[str, Field(max_length=20)]],
        Field(
            max_length=10,
            description="What the caller answered correctly: name, birth_date, address, phone",
        ),
    ]
    note: Annotated[str, Field(max_length=400)] = ""


class ResumptionRequest(Strict):
    """一時停止の解除 in person with ID."""

    serial: Serial
    id_document: IdDocument


class CardReturnRequest(Strict):
    """返納 (or the withdrawal of an application)."""

    serial: Serial


class CardOut(BaseModel):
    """A card as the counter sees it (no PIN, no keys, no resident code)."""

    serial: str
    form: CardForm
    state: CardState
    network_status: NetworkStatus
    pin_locked: bool
    pin_failures: int
    issued_on: date | None
    expires_on: date | None
    invalid_reason: InvalidReason | None
    has_photo: bool

    @classmethod
    def of(cls, view: CardView) -> CardOut:
        """The API form of a card view."""
        return cls(
            serial=view.serial,
            form=view.form,
            state=view.state,
            network_status=view.network_status,
            pin_locked=view.pin_locked,
            pin_failures=view.pin_failures,
            issued_on=view.issued_on,
            expires_on=view.expires_on,
            invalid_reason=view.invalid_reason,
            has_photo=view.has_photo,
        )


class CardEventOut(BaseModel):
    """One event of a card's life."""

    kind: str
    at: datetime
    place: str | None
    details: dict[str, Any]

    @classmethod
    def of(cls, event: CardEventView) -> CardEventOut:
        """The API form of a card event."""
        return cls(
            kind=event.kind,
            at=datetime.fromisoformat(event.at),
            place=event.place,
            details=event.details,
        )
