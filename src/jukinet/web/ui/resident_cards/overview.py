"""A resident's cards page: each card's state, status on the network, expiry, PIN lock and
history, and the procedures the operator may start on the card that still counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from jukinet.domain.errors import DomainError
from jukinet.domain.operators import Actor, Permission
from jukinet.domain.resident_card import CardState
from jukinet.services.context import ServiceContext
from jukinet.services.resident_card import counter
from jukinet.services.resident_card.counter import CardEventView, CardView
from jukinet.services.resident_card.inputs import LOSS_QUESTIONS
from jukinet.web.auth import NodeDep
from jukinet.web.ui.common import FormState, PageActor, error_page
from jukinet.web.ui.i18n import Translator, request_lang
from jukinet.web.ui.resident_cards.common import Desk, RefPath, card_page, cards_url, desk_of
from jukinet.web.ui.security.common import confirmation, jst

router = APIRouter()

_ISSUER = Permission.ISSUE_RESIDENT_CARDS
#: What may be done to a card in each state: (procedure slug, text key name, permission).
_PROCEDURES_BY_STATE: dict[CardState, tuple[tuple[str, str, Permission], ...]] = {
    CardState.APPLIED: (("issue", "issue", _ISSUER), ("return", "return", _ISSUER)),
    CardState.VALID: (
        ("pin-reset", "pin_reset", _ISSUER),
        ("loss", "loss", Permission.REPORT_CARD_LOSS),
        ("return", "return", _ISSUER),
    ),
    CardState.SUSPENDED: (("resume", "resume", _ISSUER), ("return", "return", _ISSUER)),
}


@dataclass(frozen=True, slots=True)
class Offered:
    """A procedure the page links to."""

    url: str
    label: str
    issuer_only: bool


@dataclass(frozen=True, slots=True)
class EventRow:
    """One event of a card's history as the page shows it."""

    at: str
    kind: str
    place: str
    details: list[str]


@dataclass(frozen=True, slots=True)
class CardPanel:
    """A card and its history (newest event first)."""

    card: CardView
    events: list[EventRow]


def _offered(t: Translator, actor: Actor, desk: Desk) -> list[Offered]:
    base = cards_url(desk.view.record_ref)
    live = desk.live
    wanted: tuple[tuple[str, str, Permission], ...]
    if live is None:
        wanted = (("apply", "apply", _ISSUER),) if desk.view.record.is_active else ()
    else:
        wanted = _PROCEDURES_BY_STATE.get(live.state, ())
    return [
        Offered(f"{base}/{slug}", t(f"rcard.action.{name}"), permission is _ISSUER)
        for slug, name, permission in wanted
        if actor.can(permission)
    ]


def _details(t: Translator, details: dict[str, object]) -> list[str]:
    shown: list[str] = []
    if "form" in details:
        form = t(f"rcard.card_form.{details['form']}")
        shown.append(f"{t('rcard.detail.form')}: {form}")
    if "id_document" in details:
        document = t(f"rcard.id_document.{details['id_document']}")
        shown.append(f"{t('rcard.detail.id_document')}: {document}")
    if "caller_name" in details:
        relation = t(f"rcard.relation.{details.get('caller_relation', 'other')}")
        shown.append(f"{t('rcard.detail.caller')}: {details['caller_name']}（{relation}）")
    answered = details.get("answered")
    if isinstance(answered, list):
        # In the order the questions are asked, whatever order they were stored in.
        labels = [t(f"rcard.question.{q}") for q in LOSS_QUESTIONS if q in answered]
        shown.append(f"{t('rcard.detail.answered')}: {t.join(labels)}")
    if details.get("note"):
        shown.append(f"{t('rcard.detail.note')}: {details['note']}")
    if details.get("was_locked"):
        shown.append(t("rcard.detail.was_locked"))
    if "reason" in details:
        reason = t(f"rcard.reason.{details['reason']}")
        shown.append(f"{t('rcard.detail.reason')}: {reason}")
    if "code" in details:
        shown.append(str(details["code"]))
    return shown


def _event_row(t: Translator, event: CardEventView) -> EventRow:
    return EventRow(
        at=jst(datetime.fromisoformat(event.at)),
        kind=t(f"rcard.event.{event.kind}"),
        place=event.place or "—",
        details=_details(t, event.details),
    )


def _panels(t: Translator, node: ServiceContext, actor: Actor, desk: Desk) -> list[CardPanel]:
    panels = []
    for card in desk.cards:
        events = counter.card_history(node, actor=actor, serial=card.serial)
        rows = [_event_row(t, event) for event in reversed(events)]
        panels.append(CardPanel(card=card, events=rows))
    return panels


@router.get("/records/{ref}/cards")
def cards_page(request: Request, ref: RefPath, node: NodeDep, actor: PageActor) -> HTMLResponse:
    """住基カード: the resident's cards, their histories and the procedures on offer."""
    t = Translator(request_lang(request))
    try:
        desk = desk_of(node, actor, ref)
        panels = _panels(t, node, actor, desk)
    except DomainError as error:
        return error_page(request, actor, error)
    return card_page(
        request,
        actor,
        "resident_cards/cards.html",
        desk,
        FormState(t.lang),
        panels=panels,
        offered=_offered(t, actor, desk),
        done=confirmation(request, "rcard"),
    )
