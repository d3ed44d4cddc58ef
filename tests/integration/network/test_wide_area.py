"""広域交付 through the tiers: a Nishitokyo resident's copy printed at a Yokohama counter.

Real nodes over mutual TLS on loopback (Yokohama → Kanagawa → centre → Tokyo → Nishitokyo),
SoftHSM chips, both databases. Every node logs the request with the affair 広域交付; the home
municipality answers only for living residents still registered; a hostile town holding its
genuine keys can neither pass itself off as another requester nor alter an answer.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

from jukinet.domain.certificates import OptionalItems
from jukinet.domain.errors import DomainError
from jukinet.domain.network import NodeId
from jukinet.domain.operators import Role
from jukinet.domain.register import Relationship, Sex
from jukinet.domain.resident_card import CardForm
from jukinet.domain.wide_area import AFFAIR, PURPOSE, Identification
from jukinet.network.context import Rejected
from jukinet.network.hsm import DEFAULT_MODULE
from jukinet.network.inbox import sign_document
from jukinet.network.relay import RELAY_PATH, make_request, read_reply
from jukinet.services import register
from jukinet.services.certificates.render import qr_payload
from jukinet.services.certificates.verify import verify_code, verify_pdf
from jukinet.services.certificates.wide_area import WideAreaRequest, issue_wide_area
from jukinet.services.context import ServiceContext
from jukinet.services.relay import ask_municipality
from jukinet.services.resident_card import counter
from jukinet.services.resident_card.inputs import (
    CallerRelation,
    CardApplication,
    CardIssue,
    IdDocument,
    LossReport,
)
from jukinet.storage.certificate_tables import IssuedCertificateRow
from jukinet.storage.tables import AccessLogRow, NetworkRejectionRow, ResidentRow
from tests.support.clock import FixedClock
from tests.support.factories import make_actor, move_in_household, person, with_pool
from tests.support.network import drain

FONT = Path("/usr/share/fonts/truetype/ipamj/ipamjm.ttf")
pytestmark = [
    pytest.mark.skipif(not FONT.exists(), reason="IPAmj Mincho is not installed"),
    pytest.mark.skipif(not Path(DEFAULT_MODULE).exists(), reason="SoftHSM2 is not installed"),
]

NISHITOKYO = "municipality:132292"
HACHIOJI = "municipality:132012"  # the hostile town, with its genuine keys
TOKYO = "prefecture:13"
CENTRE = "national:jlis"
KANAGAWA = "prefecture:14"
YOKOHAMA = "municipality:141003"
Build = Callable[..., dict[str, ServiceContext]]
PIN = "2718"
ADDRESS = "東京都西東京市泉町一丁目2番3号"


def _household(town: ServiceContext) -> list[str]:
    with_pool(town)
    result = move_in_household(
        town,
        make_actor(town),
        person(family="髙橋", family_kana="タカハシ"),
        person(
            family="𠮷田",
            given="花子",
            family_kana="ヨシダ",
            given_kana="ハナコ",
            sex=Sex.FEMALE,
            relationship=Relationship.WIFE,
            birth_date=date(1982, 7, 7),
        ),
        address=ADDRESS,
    )
    return [r.record.resident_code for r in result.records]


def _card(town: ServiceContext, code: str) -> str:
    issuer = make_actor(town, Role.CARD_ISSUER)
    applied = counter.apply_for_card(
        town, actor=issuer, application=CardApplication(code, CardForm.NAME_ONLY)
    )
    counter.issue_card(
        town, actor=issuer, issue=CardIssue(applied.serial, PIN, PIN, IdDocument.PASSPORT)
    )
    return applied.serial


def _photo(**changes: Any) -> WideAreaRequest:
    fields: dict[str, Any] = {
        "identification": Identification.PHOTO_ID,
        "home_municipality_code": "132292",
        "id_document": IdDocument.DRIVERS_LICENCE,
        "name": "髙橋 太郎",
        "birth_date": date(1980, 4, 1),
        "address": ADDRESS,
    }
    return WideAreaRequest(**(fields | changes))


def _affair_entries(node: ServiceContext) -> list[tuple[str, str | None]]:
    with node.session_factory() as session:
        rows = session.execute(
            select(AccessLogRow.action, AccessLogRow.subject)
            .where(AccessLogRow.affair_code == AFFAIR)
            .order_by(AccessLogRow.position)
        ).all()
    return [(str(a), s) for a, s in rows]


def _issued(node: ServiceContext) -> int:
    with node.session_factory() as session:
        return int(session.scalar(select(func.count()).select_from(IssuedCertificateRow)) or 0)


def test_household_copy_by_card_through_three_tiers(network: Build, card_reader: Path) -> None:
    nodes = network(NISHITOKYO, TOKYO, CENTRE, KANAGAWA, YOKOHAMA)
    town, yokohama = nodes[NISHITOKYO], nodes[YOKOHAMA]
    head, wife = _household(town)
    serial = _card(town, head)
    drain(nodes)
    clerk = make_actor(yokohama)
    issued = issue_wide_area(
        yokohama,
        actor=clerk,
        request=WideAreaRequest(
            Identification.CARD,
            household=True,
            items=OptionalItems(relationship=True),
            card_serial=serial,
            pin=PIN,
        ),
    )
    names = [p["name"] for p in issued.content["persons"]]
    assert names == ["髙橋\u3000太郎", "𠮷田\u3000花子"]
    assert [p["relationship"] for p in issued.content["persons"]] == ["世帯主", "妻"]
    # Never the domicile; the resident code only when asked for.
    assert "domicile" not in repr(issued.content)
    assert head not in repr(issued.content)
    assert issued.content["municipality_code"] == "141003"
    assert issued.content["serial"].startswith("141003-")
    assert "西東京市" in issued.content["wide_area"]
    assert issued.fee_yen == yokohama.settings.certificate_fee_yen
    # The copy verifies at the issuing node; an edited one does not.
    check = verify_pdf(yokohama, issued.pdf, asked_by="test")
    assert check.genuine
    # Yokohama holds no version of a Nishitokyo record: it never claims the copy is current.
    assert check.current is None
    assert "西東京市" in check.verdict_ja
    assert "西東京市" in check.verdict_en
    with yokohama.session_factory() as session:
        row = session.scalars(select(IssuedCertificateRow)).one()
    assert verify_code(yokohama, qr_payload(row.serial, bytes(row.signature)), asked_by="t").genuine
    edited = bytearray(issued.pdf)
    edited[len(edited) // 2] ^= 0x01
    assert not verify_pdf(yokohama, bytes(edited), asked_by="test").genuine
    # Every node logged the access with the affair; the home one names both residents.
    assert sorted(str(s) for a, s in _affair_entries(town) if a == "read") == sorted([head, wife])
    for relay in (TOKYO, CENTRE, KANAGAWA):
        assert _affair_entries(nodes[relay]) == [("read", None)], relay
    assert [a for a, _s in _affair_entries(yokohama)] == ["read", "read"]


def test_resident_code_only_on_request_and_photo_id(network: Build, card_reader: Path) -> None:
    nodes = network(NISHITOKYO, TOKYO, KANAGAWA, CENTRE, YOKOHAMA)
    head, _wife = _household(nodes[NISHITOKYO])
    issued = issue_wide_area(
        nodes[YOKOHAMA],
        actor=make_actor(nodes[YOKOHAMA]),
        request=_photo(items=OptionalItems(resident_code=True)),
    )
    assert [p["resident_code"] for p in issued.content["persons"]] == [head]
    assert "relationship" not in issued.content["persons"][0]


def _refused(node: ServiceContext, request: WideAreaRequest) -> DomainError:
    before = _issued(node)
    with pytest.raises(DomainError) as refused:
        issue_wide_area(node, actor=make_actor(node), request=request)
    assert _issued(node) == before  # nothing printed
    assert _affair_entries(node)[-1][0] == "refused"  # and the refusal logged
    return refused.value


def test_refusals_are_clear_logged_and_print_nothing(network: Build, card_reader: Path) -> None:
    nodes = network(NISHITOKYO, TOKYO, KANAGAWA, CENTRE, YOKOHAMA)
    town, yokohama = nodes[NISHITOKYO], nodes[YOKOHAMA]
    head, wife = _household(town)
    serial = _card(town, head)
    drain(nodes)
    card = WideAreaRequest(Identification.CARD, card_serial=serial, pin=PIN)
    wrong_pin = WideAreaRequest(Identification.CARD, card_serial=serial, pin="0000")
    assert _refused(yokohama, wrong_pin).code == "JUKI-CARD-030"
    assert _refused(yokohama, _photo(name="髙橋 次郎")).code == "JUKI-WIDE-011"
    assert _refused(yokohama, _photo(items=OptionalItems(domicile=True))).code == "JUKI-WIDE-002"
    register.file_death(
        town,
        actor=make_actor(town),
        resident_code=wife,
        died_on=date(2026, 11, 25),
        filed_on=date(2026, 11, 26),
    )
    dead = _photo(name="𠮷田花子", birth_date=date(1982, 7, 7))
    refusal = _refused(yokohama, dead)
    assert refusal.code == "JUKI-WIDE-010"
    assert "死亡" in refusal.message_ja
    assert ("refused", wife) in _affair_entries(town)
    counter.report_loss(
        town,
        actor=make_actor(town),
        report=LossReport(serial, "髙橋 太郎", CallerRelation.SELF, ("name", "phone")),
    )
    drain(nodes)
    assert _refused(yokohama, card).code == "JUKI-CARD-011"
    # A resident who moved out: the home town holds only a 除票, and answers nothing.
    register.file_move_out(
        town,
        actor=make_actor(town),
        resident_codes=[head],
        destination="大阪府大阪市北区梅田一丁目1番1号",
        planned_on=date(2026, 12, 10),
        filed_on=date(2026, 11, 26),
    )
    assert _refused(yokohama, _photo()).code == "JUKI-WIDE-010"
    assert ("refused", head) in _affair_entries(town)


def test_home_not_participating_or_unreachable(network: Build) -> None:
    nodes = network(
        NISHITOKYO,
        TOKYO,
        KANAGAWA,
        CENTRE,
        YOKOHAMA,
        **{NISHITOKYO: {"participation": "disconnected"}},
    )
    _household(nodes[NISHITOKYO])
    refusal = _refused(nodes[YOKOHAMA], _photo())
    assert refusal.code == "JUKI-RELAY-003"
    assert "参加していない" in refusal.message_ja
    assert "西東京市" in refusal.message_ja
    # Osaka has no node on this network: the centre cannot reach its prefecture.
    refusal = _refused(nodes[YOKOHAMA], _photo(home_municipality_code="271004"))
    assert refusal.code == "JUKI-RELAY-002"
    assert "prefecture:27" in refusal.message_en


def _post_hop(node: ServiceContext, peer: str, hop: dict[str, Any]) -> httpx.Response:
    net = node.network
    assert net is not None
    with httpx.Client(verify=net.client_ssl_context(), timeout=30.0) as client:
        return client.post(net.peers[peer] + RELAY_PATH, json=hop)


def _rejections(node: ServiceContext) -> list[str]:
    with node.session_factory() as session:
        return list(session.scalars(select(NetworkRejectionRow.reason)))


def test_a_request_cannot_be_replayed_later(network: Build, clock: FixedClock) -> None:
    nodes = network(NISHITOKYO, HACHIOJI, TOKYO)
    _household(nodes[NISHITOKYO])
    hostile = nodes[HACHIOJI]
    net = hostile.network
    assert net is not None
    body = {"identification": "photo_id", "name": "髙橋太郎", "birth_date": "1980-04-01",
            "address": ADDRESS}  # fmt: skip
    request = make_request(
        net, destination=NodeId.parse(NISHITOKYO), purpose=PURPOSE, body=body, now=hostile.now()
    )
    hop = sign_document({"kind": "relay_hop", "node": HACHIOJI, "to": TOKYO,
                         "request": request.sealed}, net)  # fmt: skip
    assert _post_hop(hostile, TOKYO, hop).status_code == 200
    clock.advance(minutes=6)
    replayed = _post_hop(hostile, TOKYO, hop)
    assert replayed.status_code == 403
    assert "stale" in replayed.json()["error"]


def test_a_hostile_town_cannot_forge_the_requester_or_the_answer(network: Build) -> None:
    nodes = network(NISHITOKYO, HACHIOJI, TOKYO, CENTRE, KANAGAWA, YOKOHAMA)
    town, hostile = nodes[NISHITOKYO], nodes[HACHIOJI]
    _household(town)
    net = hostile.network
    assert net is not None
    body = {
        "identification": "photo_id",
        "name": "髙橋太郎",
        "birth_date": "1980-04-01",
        "address": ADDRESS,
    }
    # 1. A request sealed by Hachioji whose origin is rewritten to Yokohama.
    request = make_request(
        net, destination=NodeId.parse(NISHITOKYO), purpose=PURPOSE, body=body, now=hostile.now()
    )
    forged = request.sealed | {"origin": YOKOHAMA}
    hop = sign_document(
        {"kind": "relay_hop", "node": HACHIOJI, "to": TOKYO, "request": forged}, net
    )
    assert _post_hop(hostile, TOKYO, hop).status_code == 403
    assert any("origin signature" in r for r in _rejections(nodes[TOKYO]))
    # 2. A hop that claims to come from Kanagawa (the TLS peer is Hachioji).
    hop = sign_document(
        {"kind": "relay_hop", "node": KANAGAWA, "to": TOKYO, "request": request.sealed}, net
    )
    assert _post_hop(hostile, TOKYO, hop).status_code == 403
    # 3. Straight to the home town, skipping its prefecture.
    tokyo_net = nodes[TOKYO].network
    assert tokyo_net is not None
    net.peers[NISHITOKYO] = tokyo_net.peers[NISHITOKYO]
    hop = sign_document(
        {"kind": "relay_hop", "node": HACHIOJI, "to": NISHITOKYO, "request": request.sealed}, net
    )
    response = _post_hop(hostile, NISHITOKYO, hop)
    assert response.status_code == 403
    assert "route" in response.json()["error"]
    assert _affair_entries(town) == []
    # 4. A genuine answer, altered after the home town signed it, fails at the asker.
    relayed, answer = ask_municipality(hostile, destination="132292", purpose=PURPOSE, body=body)
    assert "copy" in answer
    # Within one prefecture the request went Hachioji → Tokyo → Nishitokyo: no centre.
    assert _affair_entries(nodes[TOKYO]) == [("read", None)]
    assert _affair_entries(nodes[CENTRE]) == []
    assert town.network is not None
    signed = sign_document(
        {
            "kind": "relay_answer",
            "node": NISHITOKYO,
            "origin": HACHIOJI,
            "purpose": PURPOSE,
            "message_id": relayed.message_id,
            "request_digest": relayed.digest,
            "answer": answer,
        },
        town.network,
    )
    assert read_reply(signed, relayed, net=net, node=hostile).answer == answer
    altered = copy.deepcopy(signed)
    altered["document"]["answer"]["copy"]["persons"][0]["domicile"] = "東京都千代田区"
    with pytest.raises(Rejected):
        read_reply(altered, relayed, net=net, node=hostile)
    # An answer signed by a relay instead of the home town is refused too.
    relay_signed = sign_document(dict(signed["document"]) | {"node": TOKYO}, net)
    with pytest.raises(Rejected):
        read_reply(relay_signed, relayed, net=net, node=hostile)


def test_a_relay_altering_the_answer_in_transit_is_caught(network: Build) -> None:
    """Kanagawa's real key re-signs an answer it altered on its way back: Yokohama refuses it."""
    nodes = network(NISHITOKYO, TOKYO, CENTRE, KANAGAWA, YOKOHAMA)
    _household(nodes[NISHITOKYO])
    yokohama, kanagawa = nodes[YOKOHAMA], nodes[KANAGAWA]
    net, hostile_net = yokohama.network, kanagawa.network
    assert net is not None
    assert hostile_net is not None
    honest = httpx.Client(verify=net.client_ssl_context(), timeout=30.0)

    def tamper(claimed: str) -> Callable[[httpx.Request], httpx.Response]:
        def handle(request: httpx.Request) -> httpx.Response:
            answer = honest.post(str(request.url), content=request.content).json()
            document = copy.deepcopy(answer["document"])
            document["answer"]["copy"]["persons"][0]["domicile"] = "東京都千代田区千代田1番"
            document["node"] = claimed
            return httpx.Response(200, json=sign_document(document, hostile_net))

        return handle

    body = {"identification": "photo_id", "name": "髙橋太郎", "birth_date": "1980-04-01",
            "address": ADDRESS}  # fmt: skip
    try:
        for claimed in (NISHITOKYO, KANAGAWA):
            with (
                httpx.Client(transport=httpx.MockTransport(tamper(claimed))) as hostile,
                pytest.raises(DomainError) as refused,
            ):
                ask_municipality(
                    yokohama, destination="132292", purpose=PURPOSE, body=body, http=hostile
                )
            assert refused.value.code == "JUKI-RELAY-005", claimed
            assert "nothing is printed" in refused.value.message_en
    finally:
        honest.close()


def test_a_name_the_font_cannot_print_is_refused_by_name(network: Build) -> None:
    from jukinet.services.certificates.font import font_coverage

    nodes = network(NISHITOKYO, TOKYO, CENTRE, KANAGAWA, YOKOHAMA)
    covered, _ = font_coverage(FONT)
    missing = next(chr(p) for p in range(0x2A6D6, 0x2A6DF) if p not in covered)
    town = nodes[NISHITOKYO]
    with_pool(town)
    moved = move_in_household(town, make_actor(town), person(family="山田"), address=ADDRESS)
    # The counter refuses such a name (no MJ identifier, JUKI-NAME-021): only a record kept from
    # before could hold one, so it is written straight into the row.
    with town.session_factory() as session, session.begin():
        session.execute(
            update(ResidentRow)
            .where(ResidentRow.resident_code == moved.records[0].record.resident_code)
            .values(family_name="山" + missing)
        )
    refusal = _refused(nodes[YOKOHAMA], _photo(name=f"山{missing} 太郎"))
    assert refusal.code == "JUKI-CERT-010"
    assert f"U+{ord(missing):04X}" in refusal.message_en
