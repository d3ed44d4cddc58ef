"""Issue 13's end-to-end path on real node processes with SoftHSM cards.

A card is issued at Nishitokyo, locks at the third wrong PIN, is reset in person, is suspended by a
phone report and refused at a Yokohama terminal within seconds — the status travelling Nishitokyo →
Tokyo → centre and the check Yokohama → Kanagawa → centre between node processes over mutual TLS.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from jukinet.domain.errors import AuthenticationFailed, Conflict
from jukinet.domain.operators import Role
from jukinet.domain.resident_card import CardForm, NetworkStatus
from jukinet.network import resident_card_token as chip
from jukinet.runtime.cluster import Cluster
from jukinet.services.context import ServiceContext
from jukinet.services.resident_card import counter, terminal
from jukinet.services.resident_card.inputs import (
    CallerRelation,
    CardApplication,
    CardIssue,
    IdDocument,
    LossReport,
    PinReset,
)
from jukinet.services.resident_card.status import check_card_status
from tests.support.databases import running_cluster
from tests.support.factories import make_actor, move_in_household, person

pytestmark = pytest.mark.e2e

NISHITOKYO = "municipality:132292"
YOKOHAMA = "municipality:141003"
TOKYO = "prefecture:13"
KANAGAWA = "prefecture:14"
CENTRE = "national:jlis"
NODES = (CENTRE, TOKYO, KANAGAWA, NISHITOKYO, YOKOHAMA)
PIN = "2580"


@pytest.fixture
def cluster(tmp_path: Path, database_url: str) -> Iterator[Cluster]:
    """Five node processes on the backend of ``database_url``."""
    with running_cluster(tmp_path / "cluster", database_url, NODES) as built:
        yield built


def _wait(condition: Callable[[], bool], *, timeout: float, what: str) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if condition():
            return time.monotonic() - started
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _status_at(node: ServiceContext, serial: str) -> NetworkStatus | None:
    try:
        return check_card_status(node, serial=serial, asked_by="e2e-kiosk").status
    except Conflict:
        return None


def _open_at_counter(node: ServiceContext, serial: str, pin: str) -> None:
    with terminal.open_chip(node, serial=serial, pin=pin, place="counter-1"):
        pass


def _sign(node: ServiceContext, serial: str, pin: str) -> tuple[str, bytes]:
    challenge = terminal.new_challenge(node)
    with chip.ResidentCardToken.open(serial, pin) as card:
        return challenge.challenge_id, card.authenticate(challenge.message)


def test_card_issued_locked_suspended_and_refused_elsewhere(
    cluster: Cluster, card_reader: Path
) -> None:
    town = cluster.handle(NISHITOKYO)
    yokohama = cluster.handle(YOKOHAMA)
    try:
        code = move_in_household(town, make_actor(town), person()).records[0].record.resident_code
        issuer = make_actor(town, Role.CARD_ISSUER)
        serial = counter.apply_for_card(
            town, actor=issuer, application=CardApplication(code, CardForm.NAME_ONLY)
        ).serial
        counter.issue_card(
            town, actor=issuer, issue=CardIssue(serial, PIN, PIN, IdDocument.DRIVERS_LICENCE)
        )

        # Three wrong PINs at Nishitokyo's counter: locked, on the chip and in the register.
        for _ in range(3):
            with pytest.raises(AuthenticationFailed):
                _open_at_counter(town, serial, "0000")
        with pytest.raises(Conflict) as locked:
            _open_at_counter(town, serial, PIN)
        assert locked.value.code == "JUKI-CARD-014"
        counter.reset_pin(
            town, actor=issuer, reset=PinReset(serial, PIN, PIN, IdDocument.DRIVERS_LICENCE)
        )

        # The card's status reaches the centre; Yokohama's terminal accepts the card.
        _wait(
            lambda: _status_at(yokohama, serial) is NetworkStatus.VALID,
            timeout=60,
            what="the card's status to reach the centre",
        )
        challenge_id, signature = _sign(yokohama, serial, PIN)
        accepted = terminal.authenticate_card(
            yokohama, serial=serial, challenge_id=challenge_id, signature=signature, place="y-1"
        )
        assert accepted.municipality_code == "132292"
        assert accepted.resident_code is None

        # A phone call at Nishitokyo; within seconds Yokohama refuses the card.
        counter.report_loss(
            town,
            actor=make_actor(town),
            report=LossReport(serial, "山田 太郎", CallerRelation.SELF, ("name", "birth_date")),
        )
        took = _wait(
            lambda: _status_at(yokohama, serial) is NetworkStatus.SUSPENDED,
            timeout=30,
            what="the suspension to reach Yokohama's checks",
        )
        assert took < 10
        challenge_id, signature = _sign(yokohama, serial, PIN)
        with pytest.raises(Conflict) as refused:
            terminal.authenticate_card(
                yokohama,
                serial=serial,
                challenge_id=challenge_id,
                signature=signature,
                place="y-1",
            )
        assert refused.value.code == "JUKI-CARD-011"
    finally:
        town.engine.dispose()
        yokohama.engine.dispose()
