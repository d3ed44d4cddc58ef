"""What the resident card pages share: the resident and their cards, the choices, the page.

Pages address the resident by the record's opaque reference (``/records/{ref}/cards``), never
by the resident code or the card serial; the serial is typed (or confirmed) in the form's body.
A serial typed on one resident's page must be one of that resident's cards.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Path, Request
from fastapi.responses import HTMLResponse

from jukinet.domain.errors import Conflict
from jukinet.domain.operators import Actor
from jukinet.domain.resident_card import CardForm, CardState, issuer_of, validate_serial
from jukinet.services import reading
from jukinet.services.context import ServiceContext
from jukinet.services.resident_card import counter, records
from jukinet.services.resident_card.counter import CardView
from jukinet.services.resident_card.inputs import LOSS_QUESTIONS, CallerRelation, IdDocument
from jukinet.services.views import RecordView
from jukinet.web.ui.common import FormState, render
from jukinet.web.ui.i18n import Translator, request_lang

RefPath = Annotated[str, Path(max_length=64)]

_LIVE = (CardState.APPLIED, CardState.VALID, CardState.SUSPENDED)


@dataclass(frozen=True, slots=True)
class Desk:
    """The resident a card page is about, and every card they have had here (newest first)."""

    view: RecordView
    cards: list[CardView]

    @property
    def resident_code(self) -> str:
        """The resident's code (handed to services only, never shown in full)."""
        return self.view.record.resident_code

    @property
    def live(self) -> CardView | None:
        """The card that still counts (applied for, valid or suspended): one at a time."""
        return next((card for card in self.cards if card.state in _LIVE), None)


def desk_of(node: ServiceContext, actor: Actor, ref: str) -> Desk:
    """The record behind ``ref`` and its cards (both reads are logged)."""
    view = reading.read_resident_by_ref(node, actor=actor, record_ref=ref)
    cards = counter.cards_of_resident(node, actor=actor, resident_code=view.record.resident_code)
    return Desk(view=view, cards=cards)


def cards_url(ref: str) -> str:
    """The resident's cards page."""
    return f"/records/{ref}/cards"


def require_own_card(node: ServiceContext, desk: Desk, serial: str) -> None:
    """Refuse a serial that is not one of this resident's cards (said beside the serial).

    A malformed serial and another town's card get the register's own refusals.
    """
    if any(card.serial == serial for card in desk.cards):
        return
    validate_serial(serial)
    if issuer_of(serial) != node.municipality_code:
        raise records.not_ours()
    raise Conflict(
        "JUKI-CARD-025",
        ja="このカード番号はこの方のカードではありません。",
        en="This serial is not this resident's card.",
        field="serial",
    )


def choices(t: Translator) -> dict[str, list[tuple[str, str]]]:
    """The options of the forms' selects and check boxes, in the page's language."""
    return {
        "id_document_options": [(d.value, t(f"rcard.id_document.{d.value}")) for d in IdDocument],
        "relation_options": [(r.value, t(f"rcard.relation.{r.value}")) for r in CallerRelation],
        "question_options": [(q, t(f"rcard.question.{q}")) for q in LOSS_QUESTIONS],
        "card_form_options": [(f.value, t(f"rcard.card_form.{f.value}")) for f in CardForm],
    }


def id_document(form: FormState) -> IdDocument | None:
    """The ID document the clerk checked; an empty or unknown choice is marked beside it."""
    try:
        return IdDocument(form.get("id_document"))
    except ValueError:
        form.missing("id_document")
        return None


def serial_of(form: FormState) -> str:
    """The serial typed (required)."""
    return form.text("serial", required=True)


def card_page(
    request: Request,
    actor: Actor,
    template: str,
    desk: Desk,
    form: FormState,
    *,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    """Render a card page about ``desk``'s resident."""
    t = Translator(request_lang(request))
    return render(
        request,
        template,
        {
            "form": form,
            "view": desk.view,
            "desk": desk,
            "cards_url": cards_url(desk.view.record_ref),
            **choices(t),
            **context,
        },
        status=status,
        actor=actor,
    )
