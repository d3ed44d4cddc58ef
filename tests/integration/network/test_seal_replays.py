"""A relay that hands over a genuine sealed notice a second time is caught (issue 12, security
gap: replays of origin seals), and card status notices carry their municipality's seal too.

The hostile prefecture holds its genuine keys and posts over real mutual TLS, on a fresh
sequence number of its own link: every signature is right, only the seal was seen before. On
both databases.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import func, select

from jukinet.domain.messages import MessageKind
from jukinet.network.origin import MESSAGE_ID, ORIGIN_SIGNATURE, seal_identity
from jukinet.network.seal_memory import SEAL_MEMORY, forget_old
from jukinet.services import register
from jukinet.services.context import ServiceContext
from jukinet.storage.card_tables import CardStatusRow
from jukinet.storage.delivery_tables import SealReceiptRow
from jukinet.storage.tables import IdentityRecordRow, InboxRow, OutboundEnvelopeRow, OutboxRow
from jukinet.storage.trust_tables import SecurityAlertRow
from tests.integration.network.test_hostile_municipality import _post_raw
from tests.support.clock import FixedClock
from tests.support.factories import make_actor, move_in_household, person
from tests.support.network import drain, sender

NISHITOKYO = "municipality:132292"
HACHIOJI = "municipality:132012"
TOKYO = "prefecture:13"
CENTRE = "national:jlis"
Build = Callable[..., dict[str, ServiceContext]]


def _to_tokyo(town: ServiceContext) -> None:
    link = sender(town, TOKYO)
    try:
        link.deliver_once()
    finally:
        link.close()


def _relayed_bodies(tokyo: ServiceContext, kind: MessageKind) -> list[dict[str, Any]]:
    """What Tokyo queued for the centre, oldest first (genuine seals a hostile relay keeps)."""
    with tokyo.session_factory() as session:
        return list(
            session.scalars(
                select(OutboxRow.body)
                .where(OutboxRow.recipient == CENTRE, OutboxRow.kind == kind.value)
                .order_by(OutboxRow.id)
            )
        )


def _next_sequence(tokyo: ServiceContext) -> int:
    with tokyo.session_factory() as session:
        last = session.scalar(
            select(func.max(OutboundEnvelopeRow.sequence)).where(OutboundEnvelopeRow.peer == CENTRE)
        )
    return (last or 0) + 1


def _alerts(node: ServiceContext) -> list[tuple[str, str, str]]:
    with node.session_factory() as session:
        rows = session.scalars(select(SecurityAlertRow).order_by(SecurityAlertRow.id))
        return [(a.kind, a.about, a.reason) for a in rows]


def _address_at(node: ServiceContext, code: str) -> str | None:
    with node.session_factory() as session:
        row = session.get(IdentityRecordRow, code)
        return None if row is None else row.address


def test_a_prefecture_replaying_an_older_notice_is_caught_at_the_centre(network: Build) -> None:
    nodes = network(NISHITOKYO, TOKYO, CENTRE)
    town, tokyo, centre = nodes[NISHITOKYO], nodes[TOKYO], nodes[CENTRE]
    clerk = make_actor(town)
    record = move_in_household(town, clerk, person()).records[0].record
    _to_tokyo(town)
    (first,) = _relayed_bodies(tokyo, MessageKind.IDENTITY_NOTICE)
    drain(nodes)
    register.file_move_within(
        town,
        actor=clerk,
        household_number=record.household_number,
        address="東京都西東京市田無町四丁目5番6号",
        moved_on=date(2026, 11, 25),
        filed_on=date(2026, 11, 26),
    )
    drain(nodes)
    newest = _address_at(centre, record.resident_code)
    assert newest == "東京都西東京市田無町四丁目5番6号"
    with centre.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(SealReceiptRow)) == 2

    # Tokyo hands the first notice over again, in a new envelope on its next sequence number.
    result = _post_raw(
        tokyo, CENTRE, MessageKind.IDENTITY_NOTICE, first, sequence=_next_sequence(tokyo)
    )
    assert result["status"] == "refused"
    assert result["reason"] == (
        f"origin seal replayed: {NISHITOKYO}'s seal {first[MESSAGE_ID]} was received here before"
    )
    # The resident is not put back at the old address; the alert names the relay.
    assert _address_at(centre, record.resident_code) == newest
    ((kind, about, reason),) = _alerts(centre)
    assert (kind, about) == ("origin_replay", TOKYO)
    assert "西東京" not in reason  # no personal data in the alert


def test_a_replay_within_one_request_is_caught(network: Build) -> None:
    """The same seal twice in one batch: the second is refused before anything is written."""
    nodes = network(NISHITOKYO, TOKYO, CENTRE)
    town, tokyo, centre = nodes[NISHITOKYO], nodes[TOKYO], nodes[CENTRE]
    move_in_household(town, make_actor(town), person())
    _to_tokyo(town)
    (genuine,) = _relayed_bodies(tokyo, MessageKind.IDENTITY_NOTICE)
    with tokyo.session_factory() as session, session.begin():
        session.add(
            OutboxRow(
                kind=MessageKind.IDENTITY_NOTICE.value,
                recipient=CENTRE,
                subject=None,
                body=genuine,
                created_at=tokyo.now(),
            )
        )
    drain(nodes)
    with centre.session_factory() as session:
        statuses = list(session.scalars(select(InboxRow.status).order_by(InboxRow.sequence)))
    assert statuses == ["applied", "refused"]
    assert [a[:2] for a in _alerts(centre)] == [("origin_replay", TOKYO)]


def test_a_seal_older_than_the_memory_is_refused(network: Build, clock: FixedClock) -> None:
    """A genuine seal from before the centre's memory of seals: it can no longer tell a replay
    from a first delivery, so it refuses (reconciliation repairs a genuine one)."""
    nodes = network(NISHITOKYO, TOKYO, CENTRE)
    town, tokyo, centre = nodes[NISHITOKYO], nodes[TOKYO], nodes[CENTRE]
    move_in_household(town, make_actor(town), person())
    _to_tokyo(town)
    (genuine,) = _relayed_bodies(tokyo, MessageKind.IDENTITY_NOTICE)
    drain(nodes)
    clock.advance(days=SEAL_MEMORY.days + 1)
    with centre.session_factory() as session, session.begin():
        assert forget_old(session, now=centre.now()) == 1
    result = _post_raw(
        tokyo, CENTRE, MessageKind.IDENTITY_NOTICE, genuine, sequence=_next_sequence(tokyo)
    )
    assert result["status"] == "refused"
    assert result["reason"].startswith("origin seal replayed: sealed 31 days ago")
    assert [a[:2] for a in _alerts(centre)] == [("origin_replay", TOKYO)]


def _card_status(code: str, serial: str, status: str, now: str) -> dict[str, Any]:
    return {
        "serial": serial,
        "municipality_code": code,
        "status": status,
        "reason": None,
        "expires_on": None,
        "changed_at": now,
    }


def _queue_card_status(town: ServiceContext, body: dict[str, Any]) -> None:
    with town.session_factory() as session, session.begin():
        session.add(
            OutboxRow(
                kind=MessageKind.CARD_STATUS_NOTICE.value,
                recipient=TOKYO,
                subject=None,
                body=body,
                created_at=town.now(),
            )
        )


def _card_at(node: ServiceContext, serial: str) -> str | None:
    with node.session_factory() as session:
        row = session.get(CardStatusRow, serial)
        return None if row is None else row.status


SERIAL = "132292-00000001"


def test_card_status_notices_are_sealed_and_a_relay_cannot_alter_them(
    network: Build, clock: FixedClock
) -> None:
    nodes = network(NISHITOKYO, TOKYO, CENTRE)
    town, tokyo, centre = nodes[NISHITOKYO], nodes[TOKYO], nodes[CENTRE]
    _queue_card_status(town, _card_status("132292", SERIAL, "valid", town.now().isoformat()))
    _to_tokyo(town)
    (sealed,) = _relayed_bodies(tokyo, MessageKind.CARD_STATUS_NOTICE)
    assert sealed[ORIGIN_SIGNATURE]
    drain(nodes)
    assert _card_at(centre, SERIAL) == "valid"

    # Tokyo suspends Nishitokyo's card on its way to the centre: the seal breaks.
    clock.advance(minutes=1)
    sequence = _next_sequence(tokyo)
    altered = sealed | {"status": "suspended", "changed_at": tokyo.now().isoformat()}
    result = _post_raw(tokyo, CENTRE, MessageKind.CARD_STATUS_NOTICE, altered, sequence=sequence)
    assert (result["status"], result["reason"]) == (
        "refused",
        f"origin signature refused: the origin signature is not {NISHITOKYO}'s",
    )
    # Stripped of its seal: refused as unsealed.
    bare = {k: v for k, v in altered.items() if k in _card_status("", "", "", "")}
    result = _post_raw(tokyo, CENTRE, MessageKind.CARD_STATUS_NOTICE, bare, sequence=sequence + 1)
    assert (result["status"], result["reason"]) == (
        "refused",
        "origin signature refused: no origin signature",
    )
    # The genuine notice again: a replay.
    result = _post_raw(tokyo, CENTRE, MessageKind.CARD_STATUS_NOTICE, sealed, sequence=sequence + 2)
    assert result["status"] == "refused"
    assert result["reason"].startswith("origin seal replayed")
    assert _card_at(centre, SERIAL) == "valid"
    assert [a[:2] for a in _alerts(centre)] == [
        ("origin_signature", TOKYO),
        ("origin_signature", TOKYO),
        ("origin_replay", TOKYO),
    ]


def test_another_towns_seal_on_a_card_status_is_refused(network: Build) -> None:
    """Hachiōji's genuine seal over a notice about Nishitokyo's card, relayed by a colluding
    Tokyo: the centre wants Nishitokyo's own seal."""
    nodes = network(NISHITOKYO, HACHIOJI, TOKYO, CENTRE)
    hachioji, tokyo, centre = nodes[HACHIOJI], nodes[TOKYO], nodes[CENTRE]
    assert hachioji.network is not None
    forged = seal_identity(
        MessageKind.CARD_STATUS_NOTICE.value,
        _card_status("132292", SERIAL, "suspended", tokyo.now().isoformat()),
        net=hachioji.network,
        now=hachioji.now(),
    )
    result = _post_raw(tokyo, CENTRE, MessageKind.CARD_STATUS_NOTICE, forged)
    assert (result["status"], result["reason"]) == (
        "refused",
        f"origin signature refused: signed by {HACHIOJI}, not by the municipality it names",
    )
    assert _card_at(centre, SERIAL) is None
    assert [a[:2] for a in _alerts(centre)] == [("origin_signature", TOKYO)]


def test_the_prefecture_checks_card_status_seals_too(network: Build) -> None:
    """An unsealed card status notice from a town (a broken or hostile one) stops at Tokyo."""
    nodes = network(NISHITOKYO, TOKYO, CENTRE)
    town, tokyo = nodes[NISHITOKYO], nodes[TOKYO]
    body = _card_status("132292", SERIAL, "valid", town.now().isoformat())
    result = _post_raw(town, TOKYO, MessageKind.CARD_STATUS_NOTICE, body)
    assert (result["status"], result["reason"]) == (
        "refused",
        "origin signature refused: no origin signature",
    )
    assert _card_at(tokyo, SERIAL) is None
    assert [a[:2] for a in _alerts(tokyo)] == [("origin_signature", NISHITOKYO)]
