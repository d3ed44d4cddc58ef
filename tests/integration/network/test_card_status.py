"""Card status on the network: a card issued and suspended at Nishitokyo is known at Tokyo and
the centre, checked by serial from Yokohama, and refused at a Yokohama terminal once suspended.

Real nodes over mutual TLS on loopback, SoftHSM chips, both databases. A hostile town holding
its genuine keys cannot change another town's card.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from jukinet.domain.errors import Conflict
from jukinet.domain.messages import MessageKind
from jukinet.domain.operators import Role
from jukinet.domain.resident_card import NetworkStatus
from jukinet.network import resident_card_token as chip
from jukinet.network.hsm import DEFAULT_MODULE
from jukinet.services.context import ServiceContext
from jukinet.services.resident_card import counter, terminal
from jukinet.services.resident_card.inputs import (
    CallerRelation,
    CardApplication,
    CardIssue,
    IdDocument,
    LossReport,
)
from jukinet.services.resident_card.status import check_card_status
from jukinet.storage.card_tables import CardStatusCheckRow, CardStatusRow
from jukinet.storage.tables import InboxRow, OutboxRow
from tests.support.factories import make_actor, move_in_household, person, with_pool
from tests.support.network import drain

pytestmark = pytest.mark.skipif(
    not Path(DEFAULT_MODULE).exists(), reason="SoftHSM2 is not installed (apt-get install softhsm2)"
)

NISHITOKYO = "municipality:132292"
HACHIOJI = "municipality:132012"
TOKYO = "prefecture:13"
KANAGAWA = "prefecture:14"
YOKOHAMA = "municipality:141003"
CENTRE = "national:jlis"
Build = Callable[..., dict[str, ServiceContext]]
PIN = "3141"


def _issue(town: ServiceContext) -> str:
    with_pool(town)
    code = move_in_household(town, make_actor(town), person()).records[0].record.resident_code
    issuer = make_actor(town, Role.CARD_ISSUER)
    applied = counter.apply_for_card(
        town, actor=issuer, application=CardApplication(code, counter.CardForm.NAME_ONLY)
    )
    counter.issue_card(
        town, actor=issuer, issue=CardIssue(applied.serial, PIN, PIN, IdDocument.PASSPORT)
    )
    return applied.serial


def _held(node: ServiceContext, serial: str) -> str | None:
    with node.session_factory() as session:
        row = session.get(CardStatusRow, serial)
        return None if row is None else row.status


def _checks(node: ServiceContext, serial: str) -> list[str]:
    with node.session_factory() as session:
        return list(
            session.scalars(
                select(CardStatusCheckRow.asked_by)
                .where(CardStatusCheckRow.serial == serial)
                .order_by(CardStatusCheckRow.id)
            )
        )


def _sign_at(node: ServiceContext, serial: str) -> tuple[str, bytes]:
    """A terminal of ``node`` asks the card (in the resident's hand) to sign its challenge."""
    challenge = terminal.new_challenge(node)
    with chip.ResidentCardToken.open(serial, PIN) as card:
        return challenge.challenge_id, card.authenticate(challenge.message)


def test_suspension_reaches_a_yokohama_terminal(network: Build, card_reader: Path) -> None:
    nodes = network(NISHITOKYO, TOKYO, CENTRE, KANAGAWA, YOKOHAMA)
    town, yokohama = nodes[NISHITOKYO], nodes[YOKOHAMA]
    serial = _issue(town)
    drain(nodes)
    assert _held(nodes[TOKYO], serial) == "valid"
    assert _held(nodes[CENTRE], serial) == "valid"
    # Kanagawa keeps only its own towns' cards: it asks the centre.
    assert _held(nodes[KANAGAWA], serial) is None

    challenge_id, signature = _sign_at(yokohama, serial)
    card = terminal.authenticate_card(
        yokohama, serial=serial, challenge_id=challenge_id, signature=signature, place="kiosk-y1"
    )
    assert card.municipality_code == "132292"
    assert not card.local
    assert card.resident_code is None

    counter.report_loss(
        town,
        actor=make_actor(town),
        report=LossReport(serial, "山田 太郎", CallerRelation.SELF, ("name", "phone")),
    )
    drain(nodes)
    answer = check_card_status(yokohama, serial=serial, asked_by="kiosk-y1")
    assert answer.status is NetworkStatus.SUSPENDED
    assert answer.answered_by == CENTRE
    challenge_id, signature = _sign_at(yokohama, serial)
    with pytest.raises(Conflict) as refused:
        terminal.authenticate_card(
            yokohama,
            serial=serial,
            challenge_id=challenge_id,
            signature=signature,
            place="kiosk-y1",
        )
    assert refused.value.code == "JUKI-CARD-011"
    # Each node that answered, and the one that asked, recorded the checks.
    assert _checks(yokohama, serial) == ["kiosk-y1", "kiosk-y1", "kiosk-y1"]
    assert _checks(nodes[KANAGAWA], serial) == [YOKOHAMA] * 3
    assert _checks(nodes[CENTRE], serial) == [KANAGAWA] * 3


def test_a_signature_by_another_card_is_refused(network: Build, card_reader: Path) -> None:
    nodes = network(NISHITOKYO, TOKYO, CENTRE, KANAGAWA, YOKOHAMA)
    town, yokohama = nodes[NISHITOKYO], nodes[YOKOHAMA]
    first = _issue(town)
    second = _issue(town)
    drain(nodes)
    challenge = terminal.new_challenge(yokohama)
    with chip.ResidentCardToken.open(second, PIN) as card:
        signature = card.authenticate(challenge.message)
    with pytest.raises(Exception) as refused:  # noqa: PT011 - the code is what is checked
        terminal.authenticate_card(
            yokohama,
            serial=first,
            challenge_id=challenge.challenge_id,
            signature=signature,
            place="kiosk-y1",
        )
    assert getattr(refused.value, "code", None) == "JUKI-CARD-036"


def _queue(node: ServiceContext, body: dict[str, Any]) -> None:
    """A status notice put in ``node``'s outbox behind its counter's back (its keys sign it)."""
    with node.session_factory() as session, session.begin():
        session.add(
            OutboxRow(
                kind=MessageKind.CARD_STATUS_NOTICE.value,
                recipient=node.upstream,
                subject=None,
                body=body,
                created_at=node.now(),
            )
        )


def test_a_hostile_town_cannot_suspend_another_towns_card(
    network: Build, card_reader: Path
) -> None:
    nodes = network(NISHITOKYO, HACHIOJI, TOKYO, CENTRE)
    serial = _issue(nodes[NISHITOKYO])
    drain(nodes)
    hostile = nodes[HACHIOJI]
    forged = {
        "serial": serial,
        "status": "suspended",
        "reason": None,
        "expires_on": None,
        "changed_at": hostile.now().isoformat(),
    }
    # Speaking as Nishitokyo, then as itself about Nishitokyo's card, then about a card of its
    # own number that Nishitokyo holds: all refused at Tokyo, nothing changes anywhere.
    _queue(hostile, forged | {"municipality_code": "132292"})
    _queue(hostile, forged | {"municipality_code": "132012"})
    drain(nodes)
    assert _held(nodes[TOKYO], serial) == "valid"
    assert _held(nodes[CENTRE], serial) == "valid"
    with nodes[TOKYO].session_factory() as session:
        outcomes = list(
            session.scalars(
                select(InboxRow.status).where(
                    InboxRow.kind == MessageKind.CARD_STATUS_NOTICE.value,
                    InboxRow.sender == HACHIOJI,
                )
            )
        )
    assert outcomes
    assert set(outcomes) == {"refused"}
