"""Issue 14 item 4 on real node processes: the card move (転入転出の特例), Nishitokyo → Yokohama.

A Nishitokyo resident with a card and a child without one file the move-out in advance. At
Yokohama the card and its PIN pull the move-out information through Kanagawa, the centre and
Tokyo (node processes over mutual TLS); the move-in is registered, Nishitokyo's records become
除票 on the move-in notice, and the card is continued at Yokohama with its serial — the centre
then names Yokohama as the card's holder.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from jukinet.domain.card_move import FilingChannel
from jukinet.domain.operators import Role
from jukinet.domain.register import RecordStatus, Relationship, Sex
from jukinet.domain.resident_card import CardForm, NetworkStatus
from jukinet.runtime.cluster import Cluster
from jukinet.services import reading
from jukinet.services.card_move.inputs import CardMoveIn, CardMoveOut
from jukinet.services.card_move.move_in import file_card_move_in
from jukinet.services.card_move.move_out import file_card_move_out
from jukinet.services.card_move.pull import pull_move_out
from jukinet.services.context import ServiceContext
from jukinet.services.resident_card import counter
from jukinet.services.resident_card.inputs import CardApplication, CardIssue, IdDocument
from jukinet.services.resident_card.status import check_card_status
from jukinet.storage.card_tables import CardStatusRow, ResidentCardRow
from tests.support.databases import running_cluster
from tests.support.factories import make_actor, move_in_household, person

pytestmark = pytest.mark.e2e

NISHITOKYO = "municipality:132292"
YOKOHAMA = "municipality:141003"
TOKYO = "prefecture:13"
KANAGAWA = "prefecture:14"
CENTRE = "national:jlis"
NODES = (CENTRE, TOKYO, KANAGAWA, NISHITOKYO, YOKOHAMA)
PIN = "4711"


@pytest.fixture
def cluster(tmp_path: Path, database_url: str) -> Iterator[Cluster]:
    """Five node processes on the backend of ``database_url``."""
    with running_cluster(tmp_path / "cluster", database_url, NODES) as built:
        yield built


def _wait(condition: Callable[[], bool], *, timeout: float, what: str) -> None:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _status(node: ServiceContext, serial: str) -> tuple[str | None, NetworkStatus | None]:
    answer = check_card_status(node, serial=serial, asked_by="e2e-kiosk")
    return answer.municipality_code, answer.status


def _removed(town: ServiceContext, code: str) -> bool:
    clerk = make_actor(town)
    return reading.read_resident(town, actor=clerk, resident_code=code).record.status is (
        RecordStatus.REMOVED
    )


def _centre_holder(centre: ServiceContext, serial: str) -> str | None:
    with centre.session_factory() as session:
        row = session.get(CardStatusRow, serial)
        return None if row is None else row.municipality_code


def test_a_card_holder_and_child_move_to_yokohama_with_the_card(
    cluster: Cluster, card_reader: Path
) -> None:
    town = cluster.handle(NISHITOKYO)
    yokohama = cluster.handle(YOKOHAMA)
    centre = cluster.handle(CENTRE)
    try:
        household = move_in_household(
            town,
            make_actor(town),
            person(),
            person(
                given="花子",
                given_kana="ハナコ",
                birth_date=date(2016, 5, 5),
                sex=Sex.FEMALE,
                relationship=Relationship.CHILD,
            ),
        )
        holder, child = (v.record.resident_code for v in household.records)
        issuer = make_actor(town, Role.CARD_ISSUER)
        serial = counter.apply_for_card(
            town, actor=issuer, application=CardApplication(holder, CardForm.NAME_ONLY)
        ).serial
        counter.issue_card(
            town, actor=issuer, issue=CardIssue(serial, PIN, PIN, IdDocument.PASSPORT)
        )
        _wait(
            lambda: _status(yokohama, serial) == ("132292", NetworkStatus.VALID),
            timeout=60,
            what="the card's status to reach the centre",
        )
        today = town.today()
        file_card_move_out(
            town,
            actor=make_actor(town),
            request=CardMoveOut(
                holder_code=holder,
                destination="神奈川県横浜市中区山下町20番地",
                destination_municipality_code="141003",
                planned_on=today,
                filed_on=today,
                member_codes=(child,),
                channel=FilingChannel.COUNTER,
            ),
        )

        arrived = file_card_move_in(
            yokohama,
            actor=make_actor(yokohama),
            request=CardMoveIn(
                serial=serial,
                pin=PIN,
                address="神奈川県横浜市中区山下町20番地",
                moved_in_on=today,
                filed_on=today,
            ),
            pull=pull_move_out,
        )
        assert {v.record.resident_code for v in arrived.records} == {holder, child}

        # The move-in notice reaches Nishitokyo: both records become 除票.
        _wait(
            lambda: _removed(town, holder) and _removed(town, child),
            timeout=60,
            what="Nishitokyo to close its records on the move-in notice",
        )
        # The card is continued at Yokohama: same serial, held there, known so at the centre.
        with yokohama.session_factory() as session:
            continued = session.scalars(
                select(ResidentCardRow).where(ResidentCardRow.serial == serial)
            ).one()
        assert (continued.state, continued.resident_code) == ("valid", holder)
        _wait(
            lambda: _centre_holder(centre, serial) == "141003",
            timeout=60,
            what="the continuation to reach the centre",
        )
        assert _status(yokohama, serial) == ("141003", NetworkStatus.VALID)
    finally:
        for node in (town, yokohama, centre):
            node.engine.dispose()
