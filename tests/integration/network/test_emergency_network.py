"""Emergencies on real nodes over mutual TLS (both databases): a two-card cut of one link
queues and then drains in order on expiry (reconciliation agrees), an agency cut answers 503
with Retry-After to that agency only, level 2 reaches the prefecture and the centre, the
centre's quarantine reaches every node, and a forged quarantine is refused at the signature."""

from __future__ import annotations

import ssl
from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy import func, select

from jukinet.domain.emergency import DisconnectProposal
from jukinet.domain.messages import MessageKind
from jukinet.domain.operators import Role
from jukinet.network.envelope import new_envelope
from jukinet.network.origin import ORIGIN, seal
from jukinet.services import recipients
from jukinet.services.context import ServiceContext
from jukinet.services.emergency import disconnects, levels
from jukinet.services.emergency.messages import incident_notices
from jukinet.services.reconcile import reconcile
from jukinet.storage.emergency_tables import EmergencyDisconnectRow
from jukinet.storage.tables import InboxRow, OutboundEnvelopeRow, OutboxRow
from tests.conftest import TEST_NOW
from tests.integration.network.conftest import NATIONAL, Tiers
from tests.support.clock import FixedClock
from tests.support.emergency import carded, cut_of, decision
from tests.support.factories import make_actor, move_in_household, person, with_pool
from tests.support.network import drain

TOWN = "municipality:132292"
HACHIOJI = "municipality:132012"  # the hostile town, with its genuine keys
TOKYO = "prefecture:13"
CENTRE = "national:jlis"
Build = Callable[..., dict[str, ServiceContext]]
FAMILIES = (("山田", "ヤマダ"), ("佐藤", "サトウ"), ("鈴木", "スズキ"), ("高橋", "タカハシ"))


def _two_cards(node: ServiceContext, scope: str, target: str = "", minutes: float = 1) -> int:
    officer = carded(node, Role.SECURITY_OFFICER)
    delegate = carded(node, Role.SUPERVISOR)
    proposal = disconnects.propose(
        node, actor=officer, proposal=cut_of(scope, target, minutes=minutes)
    )
    return disconnects.countersign(node, actor=delegate, proposal_id=proposal.id).id


def _pending(node: ServiceContext) -> int:
    with node.session_factory() as session:
        return int(
            session.scalar(
                select(func.count()).select_from(OutboxRow).where(OutboxRow.delivered_at.is_(None))
            )
            or 0
        )


def _post(
    node: ServiceContext, peer: str, kind: MessageKind, body: dict[str, Any], *, sequence: int = 1
) -> httpx.Response:
    """One envelope signed with ``node``'s real key, posted to ``peer``'s inbox."""
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
        return client.post(
            net.peers[peer] + "/network/v1/inbox", json={"envelopes": [envelope.as_dict()]}
        )


def test_a_cut_link_queues_in_order_and_drains_when_it_expires(
    network: Build, clock: FixedClock
) -> None:
    nodes = network(TOWN, TOKYO, CENTRE)
    town, tokyo = nodes[TOWN], nodes[TOKYO]
    with_pool(town)
    clerk = make_actor(town)
    move_in_household(town, clerk, person(family="山田", family_kana="ヤマダ"))
    drain(nodes)
    _two_cards(town, "link", TOKYO, minutes=1)
    for family, kana in FAMILIES[1:]:
        move_in_household(town, clerk, person(family=family, family_kana=kana))
    queued = _pending(town)
    assert queued == 3
    drain(nodes)
    assert _pending(town) == queued  # counter work went on; nothing left the town
    # The prefecture's own envelopes are refused at the town with the reason and Retry-After.
    refused = _post(tokyo, TOWN, MessageKind.ROUTED, {"x": 1})
    assert refused.status_code == 503
    assert refused.headers["Retry-After"] == "60"
    assert refused.json()["code"] == "JUKI-EMG-030"
    clock.advance(seconds=60)  # the cut expires by itself
    drain(nodes)
    assert _pending(town) == 0
    with tokyo.session_factory() as session:
        received = list(
            session.scalars(
                select(InboxRow.sequence).where(InboxRow.sender == TOWN).order_by(InboxRow.sequence)
            )
        )
    with town.session_factory() as session:
        sent = list(
            session.scalars(
                select(OutboundEnvelopeRow.sequence)
                .where(OutboundEnvelopeRow.peer == TOKYO)
                .order_by(OutboundEnvelopeRow.outbox_id)
            )
        )
        queued_total = session.scalar(
            select(func.count()).select_from(OutboxRow).where(OutboxRow.recipient == TOKYO)
        )
    # Numbered in the outbox's order, every one received once: nothing lost, nothing twice.
    assert sent == received == list(range(1, int(queued_total or 0) + 1))
    report = reconcile(town)
    assert report.consistent, report.lines(show_codes=True)
    assert report.expected == 4


def test_level_two_reaches_the_prefecture_and_the_centre(network: Build) -> None:
    nodes = network(TOWN, TOKYO, CENTRE)
    town = nodes[TOWN]
    levels.change_level(
        town, actor=make_actor(town, Role.SECURITY_OFFICER), decision=decision(2, town.now())
    )
    drain(nodes)
    for tier in (TOKYO, CENTRE):
        with nodes[tier].session_factory() as session:
            found = incident_notices(session)
        assert [(n.origin, n.level, n.minutes_ref) for n in found] == [(TOWN, 2, "SC-2026-02")]
    with nodes[CENTRE].session_factory() as session:
        assert incident_notices(session)[0].sender == TOKYO  # relayed, the town's seal intact


def test_the_centres_quarantine_reaches_every_node(network: Build) -> None:
    nodes = network(TOWN, TOKYO, CENTRE)
    town, tokyo, centre = nodes[TOWN], nodes[TOKYO], nodes[CENTRE]
    with_pool(town)
    cut_id = _two_cards(centre, "node", TOWN, minutes=30)
    drain(nodes)
    for node in (town, tokyo):
        with node.session_factory() as session:
            row = session.scalars(select(EmergencyDisconnectRow)).one()
        assert (row.scope, row.target, row.source) == ("node", TOWN, CENTRE)
        node.refresh_emergency()  # the running node's watcher does this every few seconds
    assert town.emergency.link_cut(TOKYO, town.now()) is not None  # the town is cut off
    assert tokyo.emergency.link_cut(TOWN, tokyo.now(), inbound=True) is not None
    move_in_household(town, make_actor(town), person())
    drain(nodes)
    assert _pending(town) == 1  # kept, not lost
    # Lifted by two cards at the centre: the order reaches the town, which hears it while cut.
    officer, delegate = carded(centre, Role.SECURITY_OFFICER), carded(centre, Role.SUPERVISOR)
    ending = disconnects.propose(
        centre,
        actor=officer,
        proposal=DisconnectProposal(action="end", reason="解除", disconnect_id=cut_id),
    )
    disconnects.countersign(centre, actor=delegate, proposal_id=ending.id)
    drain(nodes)
    for node in (town, tokyo):
        node.refresh_emergency()
        assert node.emergency.cuts == ()
    drain(nodes)
    assert _pending(town) == 0


def test_the_centres_network_level_reaches_every_node(network: Build) -> None:
    nodes = network(TOWN, TOKYO, CENTRE)
    centre = nodes[CENTRE]
    levels.change_level(
        centre,
        actor=make_actor(centre, Role.SECURITY_OFFICER),
        decision=decision(3, centre.now(), scope="network"),
    )
    drain(nodes)
    for name in (TOWN, TOKYO):
        state = nodes[name].refresh_emergency()
        assert (state.level, state.network_level, state.read_only) == (0, 3, True)


def test_a_forged_quarantine_is_refused_at_the_signature(network: Build) -> None:
    nodes = network(TOWN, HACHIOJI, TOKYO, CENTRE)
    hostile, tokyo = nodes[HACHIOJI], nodes[TOKYO]
    assert hostile.network is not None
    order = {
        "order": "quarantine",
        "target": TOWN,
        "reason": "偽装",
        "expires_at": "2099-01-01T00:00:00+00:00",
    }
    # Sealed with the hostile town's genuine key: a real seal, but not the centre's.
    own = _post(
        hostile,
        TOKYO,
        MessageKind.EMERGENCY_ORDER,
        seal(order, net=hostile.network, now=hostile.now()),
    )
    result = own.json()["document"]["results"][0]
    assert (result["status"], result["reason"]) == (
        "refused",
        f"only the national centre gives orders, not {HACHIOJI}",
    )
    # The same seal claiming the centre as its origin: the signature is not the centre's.
    forged = seal(order, net=hostile.network, now=hostile.now()) | {ORIGIN: NATIONAL}
    claimed = _post(hostile, TOKYO, MessageKind.EMERGENCY_ORDER, forged, sequence=2)
    result = claimed.json()["document"]["results"][0]
    assert result["status"] == "refused"
    assert "the origin signature is not national:jlis's" in result["reason"]
    with tokyo.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(EmergencyDisconnectRow)) == 0
        assert (
            session.scalar(
                select(func.count())
                .select_from(OutboxRow)
                .where(OutboxRow.kind == "emergency_order")
            )
            == 0
        )


def _agency_client(tiers: Tiers, principal: str) -> httpx.Client:
    creds = tiers.pki.node(principal)
    context = ssl.create_default_context(cafile=str(tiers.pki.ca_cert_path))
    context.load_cert_chain(str(creds.tls_cert), str(creds.tls_key))
    return httpx.Client(verify=context, timeout=30)


def test_an_agency_cut_answers_503_with_retry_after_to_that_agency_only(tiers: Tiers) -> None:
    centre = tiers.national
    recipients.seed(centre)
    for principal in ("agency:soumu-onkyu", "agency:soumu-denpa"):
        tiers.pki.issue_client(tiers.signer, principal, now=TEST_NOW)
    _two_cards(centre, "agency", "agency:soumu-onkyu", minutes=5)
    url = tiers.urls[NATIONAL] + "/provision/v1/residents/lookup"
    with _agency_client(tiers, "agency:soumu-onkyu") as client:
        cut = client.post(
            url,
            json={
                "affair_code": "T1-16",
                "officer": "恩給 太郎",
                "resident_codes": ["12345678901"],
            },
        )
    assert cut.status_code == 503
    assert cut.headers["Retry-After"] == "300"
    assert cut.json()["errors"][0]["code"] == "JUKI-EMG-030"
    with _agency_client(tiers, "agency:soumu-denpa") as client:
        other = client.post(
            url,
            json={
                "affair_code": "T1-26",
                "officer": "電波 花子",
                "resident_codes": ["12345678901"],
            },
        )
    assert other.status_code == 200, other.text
