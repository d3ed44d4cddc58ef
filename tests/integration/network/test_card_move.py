"""The card move (転入転出の特例) between Nishitokyo and Yokohama on real nodes over mutual TLS,
SoftHSM cards, both databases.

The holder files the move-out in advance at Nishitokyo; at Yokohama the card and its PIN pull
the move-out information through Kanagawa, the centre and Tokyo, the move-in is registered in
one transaction, and Nishitokyo closes its records on the move-in notice. Refusals leave both
ends as they were.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from jukinet.domain.access_log import Action
from jukinet.domain.card_move import FilingChannel
from jukinet.domain.errors import AuthenticationFailed, Conflict, DomainError, FieldErrors
from jukinet.domain.network import municipality
from jukinet.domain.operators import Role
from jukinet.domain.register import RecordStatus, Relationship, Sex
from jukinet.domain.resident_card import CardState, InvalidReason
from jukinet.network import resident_card_token as chip
from jukinet.network.handlers import APPLIED
from jukinet.network.hsm import DEFAULT_MODULE
from jukinet.services import reading
from jukinet.services.card_move.inputs import CardContinuation, CardMoveIn, CardMoveOut
from jukinet.services.card_move.move_in import (
    continue_card,
    file_card_move_in,
    lapse_overdue_cards,
)
from jukinet.services.card_move.move_out import (
    file_card_move_out,
    file_card_move_out_online,
    online_message,
)
from jukinet.services.card_move.pull import pull_move_out
from jukinet.services.context import ServiceContext
from jukinet.services.register import ChangeResult
from jukinet.services.register.notices import handle_move_in_notice
from jukinet.services.resident_card import counter, terminal
from jukinet.services.resident_card.inputs import (
    CallerRelation,
    CardApplication,
    CardIssue,
    IdDocument,
    LossReport,
)
from jukinet.services.resident_card.status import check_card_status
from jukinet.storage.card_move_tables import ArrivingCardRow, PlannedCardMoveRow
from jukinet.storage.card_tables import CardStatusRow, ResidentCardRow
from jukinet.storage.tables import AccessLogRow, ResidentRow
from tests.support.clock import FixedClock
from tests.support.factories import make_actor, move_in_household, person, with_pool
from tests.support.network import drain

pytestmark = pytest.mark.skipif(
    not Path(DEFAULT_MODULE).exists(), reason="SoftHSM2 is not installed (apt-get install softhsm2)"
)

NISHITOKYO = "municipality:132292"
YOKOHAMA = "municipality:141003"
TOKYO = "prefecture:13"
KANAGAWA = "prefecture:14"
CENTRE = "national:jlis"
NODES = (NISHITOKYO, TOKYO, CENTRE, KANAGAWA, YOKOHAMA)
Build = Callable[..., dict[str, ServiceContext]]
PIN = "2580"
NEW_ADDRESS = "神奈川県横浜市中区山下町1番地"
DESTINATION = "神奈川県横浜市中区山下町1番地"


@dataclass
class Family:
    """A Nishitokyo household: the card holder (head), a child without a card, and a stranger
    from another household."""

    holder: str
    child: str
    stranger: str
    serial: str


def _family(town: ServiceContext) -> Family:
    with_pool(town)
    clerk = make_actor(town)
    household = move_in_household(
        town,
        clerk,
        person(),
        person(
            given="花子",
            given_kana="ハナコ",
            birth_date=date(2015, 6, 1),
            sex=Sex.FEMALE,
            relationship=Relationship.CHILD,
        ),
    )
    holder, child = (v.record.resident_code for v in household.records)
    stranger = move_in_household(town, clerk, person(family="佐藤", family_kana="サトウ"))
    issuer = make_actor(town, Role.CARD_ISSUER)
    applied = counter.apply_for_card(
        town, actor=issuer, application=CardApplication(holder, counter.CardForm.NAME_ONLY)
    )
    counter.issue_card(
        town, actor=issuer, issue=CardIssue(applied.serial, PIN, PIN, IdDocument.PASSPORT)
    )
    return Family(holder, child, stranger.records[0].record.resident_code, applied.serial)


def _move_out(
    town: ServiceContext,
    family: Family,
    *,
    destination: str = DESTINATION,
    planned_on: date | None = None,
    filed_on: date | None = None,
    member_codes: tuple[str, ...] | None = None,
) -> ChangeResult:
    return file_card_move_out(
        town,
        actor=make_actor(town),
        request=CardMoveOut(
            holder_code=family.holder,
            destination=destination,
            destination_municipality_code="141003",
            planned_on=planned_on or town.today(),
            filed_on=filed_on or town.today(),
            member_codes=(family.child,) if member_codes is None else member_codes,
            channel=FilingChannel.POST,
            insurance_note="国民健康保険 資格喪失",
        ),
    )


def _move_in(
    node: ServiceContext,
    serial: str,
    *,
    pin: str = PIN,
    moved_in_on: date | None = None,
    continue_card: bool = True,
) -> ChangeResult:
    return file_card_move_in(
        node,
        actor=make_actor(node),
        request=CardMoveIn(
            serial=serial,
            pin=pin,
            address=NEW_ADDRESS,
            moved_in_on=moved_in_on or node.today(),
            filed_on=node.today(),
            continue_card=continue_card,
        ),
        pull=pull_move_out,
    )


def _count(node: ServiceContext, table: type) -> int:
    with node.session_factory() as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


def _planned_state(node: ServiceContext) -> list[str]:
    with node.session_factory() as session:
        return list(session.scalars(select(PlannedCardMoveRow.state)))


def _active(node: ServiceContext, code: str) -> bool:
    with node.session_factory() as session:
        row = session.scalars(select(ResidentRow).where(ResidentRow.resident_code == code)).one()
        return row.status == "active"


def _unchanged(nodes: dict[str, ServiceContext], family: Family) -> None:
    """Nothing registered at Yokohama; Nishitokyo still holds the planned move and the records."""
    yokohama = nodes[YOKOHAMA]
    assert _count(yokohama, ResidentRow) == 0
    assert _count(yokohama, ArrivingCardRow) == 0
    assert _count(yokohama, ResidentCardRow) == 0
    drain(nodes)
    town = nodes[NISHITOKYO]
    assert _active(town, family.holder)
    assert _active(town, family.child)
    assert _planned_state(town) == ["planned"]


def test_the_holder_and_a_child_without_a_card_move_and_the_card_is_continued(
    network: Build, card_reader: Path
) -> None:
    nodes = network(*NODES)
    town, yokohama = nodes[NISHITOKYO], nodes[YOKOHAMA]
    family = _family(town)
    _move_out(town, family)
    drain(nodes)
    # The planned move is marked; the records stay on the register until the move-in notice.
    assert _planned_state(town) == ["planned"]
    assert _active(town, family.holder)

    result = _move_in(yokohama, family.serial)
    arrived = {v.record.resident_code: v.record for v in result.records}
    assert set(arrived) == {family.holder, family.child}
    holder = arrived[family.holder]
    assert holder.address == NEW_ADDRESS
    assert holder.previous_address == "東京都西東京市泉町一丁目2番3号"
    assert holder.domicile == "東京都千代田区千代田1番"
    assert arrived[family.child].relationship is Relationship.CHILD
    assert arrived[family.child].household_number == holder.household_number
    drain(nodes)

    # Nishitokyo closed both records (除票) on the move-in notice; the planned move is done.
    clerk = make_actor(town)
    for code in (family.holder, family.child):
        removed = reading.read_resident(town, actor=clerk, resident_code=code).record
        assert removed.status is RecordStatus.REMOVED
        assert removed.destination == DESTINATION
    assert _planned_state(town) == ["completed"]
    # The card keeps its serial and chip, now held by Yokohama; Nishitokyo's entry ended.
    with town.session_factory() as session:
        old = session.scalars(
            select(ResidentCardRow).where(ResidentCardRow.serial == family.serial)
        ).one()
        assert old.state == CardState.INVALID.value
        assert old.invalid_reason == InvalidReason.CONTINUED_ELSEWHERE.value
    with yokohama.session_factory() as session:
        new = session.scalars(
            select(ResidentCardRow).where(ResidentCardRow.serial == family.serial)
        ).one()
        assert new.state == CardState.VALID.value
        assert new.resident_code == family.holder
    with nodes[CENTRE].session_factory() as session:
        status = session.get(CardStatusRow, family.serial)
        assert status is not None
        assert (status.municipality_code, status.status) == ("141003", "valid")
    # The card works at a Yokohama terminal as Yokohama's own card, and Nishitokyo asks the
    # network about it rather than its ended entry.
    challenge = terminal.new_challenge(yokohama)
    with chip.ResidentCardToken.open(family.serial, PIN) as card:
        signature = card.authenticate(challenge.message)
    proved = terminal.authenticate_card(
        yokohama,
        serial=family.serial,
        challenge_id=challenge.challenge_id,
        signature=signature,
        place="kiosk-y1",
    )
    assert proved.local
    assert proved.resident_code == family.holder
    answer = check_card_status(town, serial=family.serial, asked_by="kiosk-n1")
    assert answer.municipality_code == "141003"
    # Tokyo forgot the card handed to a Kanagawa town; Kanagawa knows it as Yokohama's.
    with nodes[TOKYO].session_factory() as session:
        assert session.get(CardStatusRow, family.serial) is None
    with nodes[KANAGAWA].session_factory() as session:
        kanagawa = session.get(CardStatusRow, family.serial)
        assert kanagawa is not None
        assert kanagawa.municipality_code == "141003"
    # Every relay logged the pull under the card move's affair, and stored nothing else.
    for relay in (KANAGAWA, CENTRE, TOKYO):
        with nodes[relay].session_factory() as session:
            affairs = set(session.scalars(select(AccessLogRow.affair_code)))
        assert "転入転出の特例" in affairs, relay
    # A move-in notice delivered again (a retry) only confirms: nothing changes at the old end.
    with town.session_factory() as session, session.begin():
        again = handle_move_in_notice(
            town,
            session,
            {
                "resident_code": family.holder,
                "birth_date": "1980-04-01",
                "moved_on": town.today().isoformat(),
                "new_municipality_code": "141003",
                "card_move": family.serial,
            },
            origin=municipality("141003"),
        )
    assert again.status == APPLIED
    assert _planned_state(town) == ["completed"]
    with town.session_factory() as session:
        assert (
            session.scalars(
                select(ResidentCardRow.invalid_reason).where(
                    ResidentCardRow.serial == family.serial
                )
            ).one()
            == InvalidReason.CONTINUED_ELSEWHERE.value
        )
    # Both ends logged the access: the old one its answer to Yokohama, the new one its writes.
    with town.session_factory() as session:
        answered = set(
            session.scalars(
                select(AccessLogRow.subject).where(
                    AccessLogRow.reason == "card_move:move_out_info",
                    AccessLogRow.actor == YOKOHAMA,
                )
            )
        )
    assert answered == {family.holder, family.child}
    with yokohama.session_factory() as session:
        written = set(
            session.scalars(
                select(AccessLogRow.subject).where(AccessLogRow.action == Action.WRITE.value)
            )
        )
    assert {family.holder, family.child} <= written


def test_a_late_move_in_is_refused_naming_the_deadline(
    network: Build, card_reader: Path, clock: FixedClock
) -> None:
    nodes = network(*NODES)
    town, yokohama = nodes[NISHITOKYO], nodes[YOKOHAMA]
    family = _family(town)
    today = town.today()
    _move_out(
        town, family, planned_on=today - timedelta(days=20), filed_on=today - timedelta(days=25)
    )
    drain(nodes)
    with pytest.raises(Conflict) as refused:
        _move_in(yokohama, family.serial, moved_in_on=today - timedelta(days=20))
    assert refused.value.code == "JUKI-MOVE-002"
    deadline = today - timedelta(days=6)
    assert deadline.isoformat() in refused.value.message_en
    _unchanged(nodes, family)


def test_a_person_not_in_the_household_cannot_move_with_the_holder(
    network: Build, card_reader: Path
) -> None:
    nodes = network(NISHITOKYO, TOKYO, CENTRE)
    town = nodes[NISHITOKYO]
    family = _family(town)
    with pytest.raises(FieldErrors) as refused:
        _move_out(town, family, member_codes=(family.stranger,))
    assert [(e.code, e.field) for e in refused.value.each()] == [
        ("JUKI-MOVE-005", "member_codes[0]")
    ]
    assert _planned_state(town) == []


def test_a_move_abroad_is_not_a_card_move(network: Build, card_reader: Path) -> None:
    nodes = network(NISHITOKYO, TOKYO, CENTRE)
    town = nodes[NISHITOKYO]
    family = _family(town)
    with pytest.raises(DomainError) as refused:
        _move_out(town, family, destination="国外（フランス共和国）")
    assert "JUKI-MOVE-004" in [e.code for e in refused.value.each()]
    assert _planned_state(town) == []


def test_a_wrong_pin_and_a_suspended_card_are_refused(network: Build, card_reader: Path) -> None:
    nodes = network(*NODES)
    town, yokohama = nodes[NISHITOKYO], nodes[YOKOHAMA]
    family = _family(town)
    _move_out(town, family)
    drain(nodes)
    with pytest.raises(AuthenticationFailed) as wrong:
        _move_in(yokohama, family.serial, pin="0000")
    assert wrong.value.code == "JUKI-CARD-030"
    counter.report_loss(
        town,
        actor=make_actor(town),
        report=LossReport(family.serial, "山田 太郎", CallerRelation.SELF, ("name", "phone")),
    )
    drain(nodes)
    with pytest.raises(Conflict) as suspended:
        _move_in(yokohama, family.serial)
    assert suspended.value.code == "JUKI-CARD-011"
    # Both refusals are in Yokohama's access log; nothing else was written there.
    with yokohama.session_factory() as session:
        refusals = list(
            session.scalars(
                select(AccessLogRow.reason).where(AccessLogRow.action == Action.REFUSED.value)
            )
        )
    assert refusals == ["card_move:refused JUKI-CARD-030", "card_move:refused JUKI-CARD-011"]
    _unchanged(nodes, family)


def test_a_network_failure_mid_move_leaves_both_ends_unchanged(
    network: Build, card_reader: Path
) -> None:
    nodes = network(*NODES)
    town, yokohama = nodes[NISHITOKYO], nodes[YOKOHAMA]
    family = _family(town)
    _move_out(town, family)
    drain(nodes)
    tokyo = nodes[TOKYO].network
    assert tokyo is not None
    reachable = tokyo.peers[NISHITOKYO]
    # The last hop (Tokyo → Nishitokyo) fails: the card is checked, the pull is not answered.
    tokyo.peers[NISHITOKYO] = "https://127.0.0.1:9"
    try:
        with pytest.raises(Conflict) as failed:
            _move_in(yokohama, family.serial)
        assert failed.value.code.startswith("JUKI-RELAY-")
        _unchanged(nodes, family)
    finally:
        tokyo.peers[NISHITOKYO] = reachable
    # Once the network is back the same move-in goes through, once.
    _move_in(yokohama, family.serial)
    drain(nodes)
    assert not _active(town, family.holder)
    assert _planned_state(town) == ["completed"]
    with pytest.raises(Conflict) as again:
        _move_in(yokohama, family.serial)
    assert again.value.code in {"JUKI-MOVE-020", "JUKI-MOVE-015"}


def test_an_online_filing_is_accepted_only_with_the_cards_signature(
    network: Build, card_reader: Path
) -> None:
    nodes = network(NISHITOKYO, TOKYO, CENTRE)
    town = nodes[NISHITOKYO]
    family = _family(town)
    request = CardMoveOut(
        holder_code=family.holder,
        destination=DESTINATION,
        destination_municipality_code="141003",
        planned_on=town.today(),
        filed_on=town.today(),
        member_codes=(family.child,),
        channel=FilingChannel.ONLINE,
    )
    with chip.ResidentCardToken.open(family.serial, PIN) as card:
        signature = card.sign(online_message(request))
        # The authentication key is not the signature key: refused.
        wrong = card.authenticate(online_message(request))
    with pytest.raises(AuthenticationFailed) as refused:
        file_card_move_out_online(town, request=request, serial=family.serial, signature=wrong)
    assert refused.value.code == "JUKI-MOVE-011"
    assert _planned_state(town) == []
    file_card_move_out_online(town, request=request, serial=family.serial, signature=signature)
    with town.session_factory() as session:
        channel = session.scalars(select(PlannedCardMoveRow.channel)).one()
    assert channel == "online"


def _arriving_state(node: ServiceContext) -> list[str]:
    with node.session_factory() as session:
        return list(session.scalars(select(ArrivingCardRow.state)))


def _centre_status(nodes: dict[str, ServiceContext], serial: str) -> tuple[str, str, str | None]:
    with nodes[CENTRE].session_factory() as session:
        row = session.get(CardStatusRow, serial)
        assert row is not None
        return row.municipality_code, row.status, row.reason


def test_the_card_is_continued_later_within_ninety_days(
    network: Build, card_reader: Path, clock: FixedClock
) -> None:
    nodes = network(*NODES)
    town, yokohama = nodes[NISHITOKYO], nodes[YOKOHAMA]
    family = _family(town)
    _move_out(town, family)
    drain(nodes)
    _move_in(yokohama, family.serial, continue_card=False)
    drain(nodes)
    assert _arriving_state(yokohama) == ["awaiting"]
    assert _count(yokohama, ResidentCardRow) == 0
    # Handed over on the move-in notice: the centre names Yokohama, the card still valid.
    assert _centre_status(nodes, family.serial) == ("141003", "valid", None)
    clock.advance(days=60)
    with pytest.raises(AuthenticationFailed):
        continue_card(
            yokohama,
            actor=make_actor(yokohama),
            request=CardContinuation(serial=family.serial, pin="9999"),
        )
    assert (
        continue_card(
            yokohama,
            actor=make_actor(yokohama),
            request=CardContinuation(serial=family.serial, pin=PIN),
        )
        == family.serial
    )
    assert _arriving_state(yokohama) == ["continued"]
    with yokohama.session_factory() as session:
        card = session.scalars(select(ResidentCardRow)).one()
        assert (card.serial, card.state, card.resident_code) == (
            family.serial,
            "valid",
            family.holder,
        )


def test_a_card_not_continued_within_ninety_days_lapses(
    network: Build, card_reader: Path, clock: FixedClock
) -> None:
    nodes = network(*NODES)
    town, yokohama = nodes[NISHITOKYO], nodes[YOKOHAMA]
    family = _family(town)
    _move_out(town, family)
    drain(nodes)
    _move_in(yokohama, family.serial, continue_card=False)
    drain(nodes)
    clock.advance(days=90)
    assert lapse_overdue_cards(yokohama) == 0  # the 90th day: still in time
    clock.advance(days=1)
    assert lapse_overdue_cards(yokohama) == 1
    assert lapse_overdue_cards(yokohama) == 0
    with pytest.raises(Conflict) as lapsed:
        continue_card(
            yokohama,
            actor=make_actor(yokohama),
            request=CardContinuation(serial=family.serial, pin=PIN),
        )
    assert lapsed.value.code == "JUKI-MOVE-003"
    assert _arriving_state(yokohama) == ["lapsed"]
    assert _count(yokohama, ResidentCardRow) == 0
    drain(nodes)
    assert _centre_status(nodes, family.serial) == (
        "141003",
        "invalid",
        InvalidReason.MOVED_WITHOUT_CONTINUATION.value,
    )
