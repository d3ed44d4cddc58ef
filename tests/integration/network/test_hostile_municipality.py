"""A municipality (or a prefecture) holding its own genuine keys attacks other towns' residents.

Issue 11, findings 1 and 2: a routed move-in notice (転入通知) carried no authenticated origin, so
one town could close another's resident and have the access log blame a third; and the upper
tiers let any town's notice rewrite (and move) a resident held for another. Every attack here
is made with the attacker's real certificates over real mutual TLS, on both databases.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date
from typing import Any

import httpx
from sqlalchemy import func, select

from jukinet.domain.identity import ChangeReason, IdentityInfo, IdentityNotice
from jukinet.domain.messages import MessageKind
from jukinet.domain.register import RecordStatus
from jukinet.network.envelope import new_envelope
from jukinet.network.origin import ORIGIN, seal, seal_identity
from jukinet.services import reading, register
from jukinet.services.context import ServiceContext
from jukinet.services.register import MoveIn
from jukinet.services.register.change import routed_statement
from jukinet.storage.tables import (
    HouseholdRow,
    IdentityHistoryRow,
    IdentityRecordRow,
    InboxRow,
    OutboxRow,
    RegisterEventRow,
    ResidentRow,
    RoutedReceiptRow,
)
from tests.support.factories import make_actor, move_in_household, person
from tests.support.network import drain

NISHITOKYO = "municipality:132292"
HACHIOJI = "municipality:132012"  # the hostile town, with its genuine keys
CHIYODA = "131016"  # the third town a forgery tries to blame (not even on this network)
TOKYO = "prefecture:13"
KANAGAWA = "prefecture:14"
YOKOHAMA = "municipality:141003"
CENTRE = "national:jlis"
Build = Callable[..., dict[str, ServiceContext]]
MOVED_ON = date(2026, 11, 25)


def _resident(nodes: dict[str, ServiceContext]) -> IdentityInfo:
    """A Nishitokyo resident, known at Tokyo and the centre."""
    town = nodes[NISHITOKYO]
    record = move_in_household(town, make_actor(town), person()).records[0].record
    drain(nodes)
    return record.identity()


def _queue(
    node: ServiceContext, kind: MessageKind, body: dict[str, Any], subject: str | None
) -> None:
    """Put a message in ``node``'s outbox behind its counter's back (its keys will sign it)."""
    with node.session_factory() as session, session.begin():
        session.add(
            OutboxRow(
                kind=kind.value,
                recipient=node.upstream,
                subject=subject,
                body=body,
                created_at=node.now(),
            )
        )


def _move_in_notice(resident: IdentityInfo, *, new_municipality: str) -> dict[str, Any]:
    return routed_statement(
        "132292",
        kind=MessageKind.MOVE_IN_NOTICE,
        payload={
            "resident_code": resident.resident_code,
            "birth_date": resident.birth_date.isoformat(),
            "moved_on": MOVED_ON.isoformat(),
            "new_municipality_code": new_municipality,
        },
    )


def _still_resident(nodes: dict[str, ServiceContext], resident: IdentityInfo) -> bool:
    town = nodes[NISHITOKYO]
    view = reading.read_resident(town, actor=make_actor(town), resident_code=resident.resident_code)
    return view.record.status is RecordStatus.ACTIVE


def _held(node: ServiceContext, code: str) -> IdentityRecordRow:
    """The record an upper tier holds for ``code`` (every test here holds one)."""
    with node.session_factory() as session:
        row = session.get(IdentityRecordRow, code)
    assert row is not None, "the tier holds no record of the resident"
    return row


def _inbox(node: ServiceContext, status: str) -> list[InboxRow]:
    with node.session_factory() as session:
        return list(session.scalars(select(InboxRow).where(InboxRow.status == status)))


def _post_raw(
    node: ServiceContext, peer: str, kind: MessageKind, body: dict[str, Any], *, sequence: int = 1
) -> dict[str, Any]:
    """Post one envelope signed with ``node``'s real key, numbered ``sequence`` on its link."""
    net = node.network
    assert net is not None
    envelope = net.sign(
        new_envelope(
            sender=str(net.node),
            recipient=peer,
            kind=kind.value,
            sequence=sequence,
            now=node.now(),
            body=body,
        )
    )
    with httpx.Client(verify=net.client_ssl_context(), timeout=30.0) as client:
        answer = client.post(
            net.peers[peer] + "/network/v1/inbox", json={"envelopes": [envelope.as_dict()]}
        )
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()["document"]["results"][0]
    return result


# ---- finding 1: routed move-in notices carry their origin's signature --------------------------


def test_a_move_in_notice_claiming_a_third_town_removes_nobody(network: Build) -> None:
    """The review's attack: Hachiōji's keys, a notice saying the resident moved to Chiyoda."""
    nodes = network(NISHITOKYO, HACHIOJI, TOKYO, CENTRE)
    resident = _resident(nodes)
    _queue(
        nodes[HACHIOJI],
        MessageKind.ROUTED,
        _move_in_notice(resident, new_municipality=CHIYODA),
        None,
    )
    drain(nodes)
    assert _still_resident(nodes, resident)
    refused = _inbox(nodes[NISHITOKYO], "refused")
    assert [r.reason for r in refused] == [
        "the move-in notice is not signed by the new municipality"
    ]
    with nodes[NISHITOKYO].session_factory() as session:
        events = list(session.scalars(select(RegisterEventRow.kind)))
        receipt = session.scalars(select(RoutedReceiptRow)).one()
    assert "move_out_by_notice" not in events
    # The evidence names the town that signed, not the one it claimed to be.
    assert receipt.origin == HACHIOJI
    assert _held(nodes[CENTRE], resident.resident_code).deleted is False


def test_an_unsigned_routed_message_stops_at_the_first_hop(network: Build) -> None:
    nodes = network(NISHITOKYO, HACHIOJI, TOKYO, CENTRE)
    resident = _resident(nodes)
    result = _post_raw(
        nodes[HACHIOJI],
        TOKYO,
        MessageKind.ROUTED,
        _move_in_notice(resident, new_municipality="132012"),
    )
    assert result["status"] == "refused"
    assert result["reason"] == "routed message refused: no origin signature"
    with nodes[TOKYO].session_factory() as session:
        relayed = session.scalar(
            select(func.count()).select_from(OutboxRow).where(OutboxRow.kind == "routed")
        )
    assert relayed == 0
    drain(nodes)
    assert _still_resident(nodes, resident)


def test_a_seal_whose_origin_was_rewritten_is_refused(network: Build) -> None:
    """Hachiōji seals the notice itself, then names Chiyoda as the origin: the signature breaks."""
    nodes = network(NISHITOKYO, HACHIOJI, f"municipality:{CHIYODA}", TOKYO, CENTRE)
    resident = _resident(nodes)
    hostile = nodes[HACHIOJI]
    assert hostile.network is not None
    sealed = seal(
        _move_in_notice(resident, new_municipality=CHIYODA), net=hostile.network, now=hostile.now()
    )
    forged = sealed | {ORIGIN: f"municipality:{CHIYODA}"}
    result = _post_raw(hostile, TOKYO, MessageKind.ROUTED, forged)
    assert result["status"] == "refused"
    assert result["reason"] == (
        f"routed message refused: the origin signature is not municipality:{CHIYODA}'s"
    )
    drain(nodes)
    assert _still_resident(nodes, resident)


def test_a_relay_cannot_replay_a_move_in_notice(network: Build) -> None:
    """A prefecture keeps a genuine, delivered notice and sends it again: refused as a replay."""
    nodes = network(NISHITOKYO, HACHIOJI, TOKYO, CENTRE)
    resident = _resident(nodes)
    _move(nodes, resident, to=HACHIOJI)
    with nodes[NISHITOKYO].session_factory() as session:
        genuine = session.scalars(select(RoutedReceiptRow.statement)).one()
        events_before = session.scalar(select(func.count()).select_from(RegisterEventRow))
    tokyo = nodes[TOKYO]
    with tokyo.session_factory() as session, session.begin():
        session.add(
            OutboxRow(
                kind=MessageKind.ROUTED.value,
                recipient=NISHITOKYO,
                subject=None,
                body=genuine,
                created_at=tokyo.now(),
            )
        )
    drain(nodes)
    assert [r.reason for r in _inbox(nodes[NISHITOKYO], "refused")] == [
        "replay of a routed message already received"
    ]
    with nodes[NISHITOKYO].session_factory() as session:
        assert session.scalar(select(func.count()).select_from(RegisterEventRow)) == events_before


# ---- finding 2: a municipality changes only the residents it holds --------------------------


def _notice(
    resident: IdentityInfo, *, municipality_code: str, reason: ChangeReason, **changes: Any
) -> dict[str, Any]:
    current = dataclasses.replace(resident, **changes)
    return IdentityNotice(
        municipality_code=municipality_code,
        current=current,
        reason=reason,
        changed_on=MOVED_ON,
        before=resident,
    ).as_body()


def test_a_name_change_from_another_town_rewrites_nothing(network: Build) -> None:
    nodes = network(NISHITOKYO, HACHIOJI, TOKYO, CENTRE)
    resident = _resident(nodes)
    forged = _notice(
        resident,
        municipality_code="132012",
        reason=ChangeReason.NAME_CHANGE,
        family_name="偽名",
        address="東京都八王子市元本郷町三丁目24番1号",
    )
    _queue(nodes[HACHIOJI], MessageKind.IDENTITY_NOTICE, forged, resident.resident_code)
    drain(nodes)
    for tier in (TOKYO, CENTRE):
        held = _held(nodes[tier], resident.resident_code)
        assert held is not None
        assert (held.municipality_code, held.family_name, held.address) == (
            "132292",
            resident.family_name,
            resident.address,
        )
    refused = _inbox(nodes[TOKYO], "refused")
    assert len(refused) == 1
    assert "held for another municipality" in (refused[0].reason or "")
    # A refusal holds nobody back: Nishitokyo's own later notice for the resident still applies.
    town = nodes[NISHITOKYO]
    register.file_move_within(
        town,
        actor=make_actor(town),
        household_number=_household_number(town, resident.resident_code),
        address="東京都西東京市田無町四丁目5番6号",
        moved_on=MOVED_ON,
        filed_on=MOVED_ON,
    )
    drain(nodes)
    assert (
        _held(nodes[CENTRE], resident.resident_code).address == "東京都西東京市田無町四丁目5番6号"
    )


def _household_number(town: ServiceContext, code: str) -> str:
    with town.session_factory() as session:
        number = session.scalars(
            select(HouseholdRow.household_number)
            .join(ResidentRow, ResidentRow.household_id == HouseholdRow.id)
            .where(ResidentRow.resident_code == code)
        ).one()
        return str(number)


def test_a_move_in_without_the_signed_notice_takes_nobody(network: Build) -> None:
    nodes = network(NISHITOKYO, HACHIOJI, TOKYO, CENTRE)
    resident = _resident(nodes)
    forged = _notice(
        resident,
        municipality_code="132012",
        reason=ChangeReason.MOVE_IN,
        address="東京都八王子市元本郷町三丁目24番1号",
    )
    _queue(nodes[HACHIOJI], MessageKind.IDENTITY_NOTICE, forged, resident.resident_code)
    drain(nodes)
    assert _held(nodes[TOKYO], resident.resident_code).municipality_code == "132292"
    assert _held(nodes[CENTRE], resident.resident_code).municipality_code == "132292"


def test_a_hand_over_signed_by_a_relay_is_refused(network: Build) -> None:
    """Kanagawa, with its genuine keys, claims Yokohama took a Nishitokyo resident, sealing the
    hand-over and the notice itself: the centre wants Yokohama's signature and refuses (now at
    the notice's own seal, before the hand-over is even looked at)."""
    nodes = network(NISHITOKYO, TOKYO, KANAGAWA, CENTRE)
    resident = _resident(nodes)
    kanagawa = nodes[KANAGAWA]
    assert kanagawa.network is not None
    body = _notice(
        resident,
        municipality_code="141003",
        reason=ChangeReason.MOVE_IN,
        address="神奈川県横浜市中区山下町1番地",
    )
    body["handover"] = seal(
        _move_in_notice(resident, new_municipality="141003"),
        net=kanagawa.network,
        now=kanagawa.now(),
    )
    sealed = seal_identity(
        MessageKind.IDENTITY_NOTICE.value, body, net=kanagawa.network, now=kanagawa.now()
    )
    result = _post_raw(kanagawa, CENTRE, MessageKind.IDENTITY_NOTICE, sealed)
    assert result["status"] == "refused"
    assert result["reason"] == (
        f"origin signature refused: {KANAGAWA} is not a municipality; "
        "only a municipality originates one"
    )
    assert _held(nodes[CENTRE], resident.resident_code).municipality_code == "132292"


def test_a_deletion_from_a_town_that_never_held_the_resident_is_refused(network: Build) -> None:
    nodes = network(NISHITOKYO, HACHIOJI, TOKYO, CENTRE)
    resident = _resident(nodes)
    forged = _notice(resident, municipality_code="132012", reason=ChangeReason.DEATH)
    _queue(nodes[HACHIOJI], MessageKind.IDENTITY_NOTICE, forged, resident.resident_code)
    drain(nodes)
    for tier in (TOKYO, CENTRE):
        with nodes[tier].session_factory() as session:
            kinds = set(
                session.scalars(
                    select(IdentityHistoryRow.municipality_code).where(
                        IdentityHistoryRow.resident_code == resident.resident_code
                    )
                )
            )
        assert kinds == {"132292"}
        assert _held(nodes[tier], resident.resident_code).deleted is False


# ---- the genuine hand-over still works ----------------------------------------------------------


def _move(nodes: dict[str, ServiceContext], resident: IdentityInfo, *, to: str) -> None:
    new = nodes[to]
    register.file_move_in(
        new,
        actor=make_actor(new),
        move_in=MoveIn(
            persons=(
                person(
                    code=resident.resident_code,
                    family=resident.family_name,
                    family_kana=resident.family_name_kana,
                ),
            ),
            address="東京都八王子市元本郷町三丁目24番1号",
            previous_address=resident.address,
            previous_municipality_code="132292",
            moved_on=MOVED_ON,
            filed_on=MOVED_ON,
        ),
    )
    drain(nodes)


def test_a_move_within_the_prefecture_hands_the_resident_over(network: Build) -> None:
    nodes = network(NISHITOKYO, HACHIOJI, TOKYO, CENTRE)
    resident = _resident(nodes)
    _move(nodes, resident, to=HACHIOJI)
    assert not _still_resident(nodes, resident)
    for tier in (TOKYO, CENTRE):
        held = _held(nodes[tier], resident.resident_code)
        assert held is not None
        assert (held.municipality_code, held.deleted) == ("132012", False)
        with nodes[tier].session_factory() as session:
            history = sorted(
                session.execute(
                    select(IdentityHistoryRow.municipality_code, IdentityHistoryRow.reason).where(
                        IdentityHistoryRow.resident_code == resident.resident_code
                    )
                ).all()
            )
        # Nishitokyo's own deletion arrived after the hand-over and is kept as history only.
        assert history == [("132012", "A02"), ("132292", "A02"), ("132292", "C01")]
        assert _inbox(nodes[tier], "refused") == []
        assert _inbox(nodes[tier], "quarantined") == []
