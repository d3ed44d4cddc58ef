"""Helpers for card-service tests: a resident with an issued card, a service, an enrolment."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from jukinet.domain.operators import Actor, Role
from jukinet.domain.resident_card import CardForm
from jukinet.services.card_services.enrolment import enrol
from jukinet.services.card_services.inputs import Enrolment, NewCardService
from jukinet.services.card_services.registry import CardServiceView, add_service
from jukinet.services.context import ServiceContext
from jukinet.services.resident_card import counter, terminal
from jukinet.services.resident_card.inputs import CardApplication, CardIssue, IdDocument
from tests.support.factories import make_actor, move_in_household, person, with_pool

PIN = "1234"
#: The tables a refused terminal use may touch: the log of the refusal, the card's trail and
#: PIN count, and the used-up challenge.
TERMINAL_REFUSAL_WRITES = frozenset(
    {
        "access_log",
        "access_log_subtrees",
        "access_log_state",
        "resident_card_events",
        "resident_cards",
        "signin_challenges",
        "card_status_checks",
    }
)


@dataclass(frozen=True)
class CardHolder:
    """A resident who moved in, and their card (issued unless asked otherwise)."""

    resident_code: str
    serial: str


def resident_with_card(
    node: ServiceContext, *, issue: bool = True, given: str = "太郎", pin: str = PIN
) -> CardHolder:
    """A resident who has just moved in, with a name-only card."""
    with_pool(node)
    result = move_in_household(node, make_actor(node), person(given=given))
    code = result.records[0].record.resident_code
    issuer = make_actor(node, Role.CARD_ISSUER)
    applied = counter.apply_for_card(
        node, actor=issuer, application=CardApplication(code, CardForm.NAME_ONLY)
    )
    if issue:
        counter.issue_card(
            node,
            actor=issuer,
            issue=CardIssue(applied.serial, pin, pin, IdDocument.DRIVERS_LICENCE),
        )
    return CardHolder(code, applied.serial)


def library(node: ServiceContext, supervisor: Actor | None = None) -> CardServiceView:
    """The library service, enacted by ordinance."""
    return add_service(
        node,
        actor=supervisor or make_actor(node, Role.SUPERVISOR),
        service=NewCardService(
            code="library",
            name_ja="図書館",
            name_en="Library",
            ordinance_name="西東京市住民基本台帳カードの利用に関する条例",
            enacted_on=date(2026, 4, 1),
        ),
    )


def enrolled(node: ServiceContext, holder: CardHolder, service: str = "library") -> str:
    """Enrol ``holder`` in ``service``; its service identifier."""
    view = enrol(
        node,
        actor=make_actor(node, Role.CLERK),
        enrolment=Enrolment(holder.resident_code, service),
    )
    return view.service_identifier


def signed_challenge(node: ServiceContext, message: bytes, serial: str, pin: str = PIN) -> bytes:
    """The card's signature over ``message`` (opened on this node's PIN pad)."""
    with terminal.open_chip(node, serial=serial, pin=pin, place="counter-1") as card:
        return card.authenticate(message)
