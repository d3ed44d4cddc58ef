"""Reconciliation between the tiers: digests agree after normal work, differences are found
record by record, repaired by re-sending, and only the right neighbours may ask."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, func, select, update

from jukinet.domain.codes import random_resident_codes
from jukinet.domain.identity import IdentityInfo, identity_digest
from jukinet.domain.reconcile import INCONSISTENT
from jukinet.network.reconcile_client import BUCKETS_PATH, RECORDS_PATH
from jukinet.services import register
from jukinet.services.context import ServiceContext
from jukinet.services.reconcile import (
    ReconcileFailed,
    ReconcileRefused,
    expected_hashes,
    held_hashes,
    reconcile,
)
from jukinet.services.register import MoveIn
from jukinet.storage.tables import (
    IdentityRecordRow,
    NetworkRejectionRow,
    OutboxRow,
    ResidentRow,
)
from tests.conftest import TEST_NOW
from tests.support.factories import make_actor, move_in_household, person, with_pool
from tests.support.network import drain

NISHITOKYO = "municipality:132292"
YOKOHAMA = "municipality:141003"
TOKYO = "prefecture:13"
KANAGAWA = "prefecture:14"
CENTRE = "national:jlis"
Build = Callable[..., dict[str, ServiceContext]]


def _populate(town: ServiceContext, count: int) -> list[str]:
    """``count`` single-person households moving in; returns their resident codes."""
    clerk = make_actor(town)
    rng = random.Random(count)
    return [
        move_in_household(town, clerk, person(rng=rng)).records[0].record.resident_code
        for _ in range(count)
    ]


def _outbox_count(node: ServiceContext) -> int:
    with node.session_factory() as session:
        return int(session.scalar(select(func.count()).select_from(OutboxRow)) or 0)


def _record(node: ServiceContext, code: str) -> IdentityRecordRow | None:
    with node.session_factory() as session:
        return session.get(IdentityRecordRow, code)


def expected_hashes_of(node: ServiceContext) -> dict[str, str]:
    with node.session_factory() as session:
        return expected_hashes(session)


def _post(caller: ServiceContext, url: str, body: Any) -> httpx.Response:
    net = caller.network
    assert net is not None
    with httpx.Client(verify=net.client_ssl_context()) as client:
        return client.post(url, json=body)


def _url(node: ServiceContext, peer: str) -> str:
    assert node.network is not None
    return node.network.peers[peer]


def test_tiers_agree_after_normal_work(network: Build) -> None:
    nodes = network(NISHITOKYO, TOKYO, CENTRE)
    town = nodes[NISHITOKYO]
    clerk = make_actor(town)
    with_pool(town)
    codes = _populate(town, 4)
    drain(nodes)  # the arrivals are upstream before the death and the code change are filed
    register.file_death(
        town,
        actor=clerk,
        resident_code=codes[0],
        died_on=date(2026, 11, 24),
        filed_on=date(2026, 11, 26),
    )
    register.change_resident_code(
        town, actor=clerk, resident_code=codes[1], filed_on=date(2026, 11, 26)
    )
    drain(nodes)
    before = _outbox_count(town)

    report = reconcile(town)

    assert report.consistent, report.lines(show_codes=True)
    assert report.expected == 4
    for tier in report.tiers:
        assert tier.error is None
        assert tier.held == 4  # the retired code's tombstone is not the municipality's record
        assert tier.buckets_compared == len({c[:3] for c in expected_hashes_of(town)})
        assert tier.buckets_differing == []
        assert (tier.missing, tier.different, tier.extra) == ([], [], [])
    assert report.repairs_queued == 0
    assert _outbox_count(town) == before
    # The fast column-only digests are exactly those of the domain records.
    with town.uow() as uow:
        by_record = {}
        for row in uow.session.scalars(select(ResidentRow)):
            record = uow.residents.to_record(row)
            by_record[row.resident_code] = identity_digest(
                record.identity(), deleted=not record.is_active
            )
        assert expected_hashes(uow.session) == by_record


def test_differences_are_pinpointed_per_tier_and_repaired(network: Build) -> None:
    nodes = network(NISHITOKYO, TOKYO, CENTRE)
    town, tokyo, centre = nodes[NISHITOKYO], nodes[TOKYO], nodes[CENTRE]
    lost, altered, *_ = _populate(town, 5)
    drain(nodes)
    extra = random_resident_codes(random.Random(99), 1)[0]
    with tokyo.session_factory() as session, session.begin():
        session.execute(delete(IdentityRecordRow).where(IdentityRecordRow.resident_code == lost))
        info = IdentityInfo(
            resident_code=extra,
            family_name="佐藤",
            given_name="花子",
            family_name_kana="サトウ",
            given_name_kana="ハナコ",
            birth_date=date(1990, 1, 1),
            sex="female",
            address="東京都西東京市南町五丁目6番18号",
        )
        session.add(
            IdentityRecordRow(
                resident_code=extra,
                municipality_code="132292",
                family_name=info.family_name,
                given_name=info.given_name,
                family_name_kana=info.family_name_kana,
                given_name_kana=info.given_name_kana,
                kana_key="サトウハナコ",
                birth_date=info.birth_date,
                sex=info.sex,
                address=info.address,
                deleted=False,
                last_reason="A02",
                last_changed_on=date(2026, 11, 1),
                version=1,
                digest=identity_digest(info, deleted=False),
                updated_at=TEST_NOW,
            )
        )
    with centre.session_factory() as session, session.begin():
        # Changed behind the store's back: the stored digest no longer matches the items.
        session.execute(
            update(IdentityRecordRow)
            .where(IdentityRecordRow.resident_code == altered)
            .values(address="東京都西東京市谷戸町一丁目1番1号")
        )
    with centre.session_factory() as session:
        assert held_hashes(session, "132292")[altered] == INCONSISTENT
    queued = _outbox_count(town)

    dry = reconcile(town, repair=False)
    assert not dry.repaired
    assert dry.repairs_queued == 0
    assert _outbox_count(town) == queued

    report = reconcile(town)
    prefecture, national = report.prefecture, report.national
    assert (prefecture.missing, prefecture.different, prefecture.extra) == ([lost], [], [extra])
    assert (national.missing, national.different, national.extra) == ([], [altered], [])
    assert prefecture.expected == national.expected == 5
    assert prefecture.held == 5
    assert national.held == 5
    assert len(prefecture.buckets_differing) == len({lost[:3], extra[:3]})
    assert national.buckets_differing == [altered[:3]]
    assert report.snapshots == sorted([lost, altered])
    assert report.withdrawals == [extra]
    assert report.repairs_queued == 3
    assert dry.snapshots == report.snapshots
    assert dry.withdrawals == report.withdrawals
    with town.session_factory() as session:
        repairs = list(session.scalars(select(OutboxRow).order_by(OutboxRow.id).offset(queued)))
    assert [(r.kind, r.subject, r.recipient) for r in repairs] == [
        ("identity_snapshot", min(lost, altered), TOKYO),
        ("identity_snapshot", max(lost, altered), TOKYO),
        ("identity_withdrawal", extra, TOKYO),
    ]
    assert repairs[2].body == {"resident_code": extra, "municipality_code": "132292"}

    drain(nodes)
    again = reconcile(town)
    assert again.consistent, again.lines(show_codes=True)
    assert again.repairs_queued == 0
    expected = expected_hashes_of(town)
    repaired = _record(centre, altered)
    assert repaired is not None
    assert repaired.address == "東京都西東京市泉町一丁目2番3号"
    assert repaired.digest == expected[altered]
    restored = _record(tokyo, lost)
    assert restored is not None
    assert restored.digest == expected[lost]
    assert _record(tokyo, extra) is None
    assert _record(centre, extra) is None


def test_opted_out_resident_still_held_upstream_is_withdrawn(network: Build) -> None:
    nodes = network(NISHITOKYO, TOKYO, CENTRE, **{NISHITOKYO: {"allow_opt_out": True}})
    town = nodes[NISHITOKYO]
    code, _other = _populate(town, 2)
    drain(nodes)
    # The choice was recorded but its withdrawal never left (e.g. restored from a backup).
    with town.session_factory() as session, session.begin():
        session.execute(
            update(ResidentRow)
            .where(ResidentRow.resident_code == code)
            .values(upstream_opt_out=True, version=ResidentRow.version + 1)
        )
    report = reconcile(town)
    assert report.prefecture.extra == [code]
    assert report.national.extra == [code]
    assert report.withdrawals == [code]
    assert report.snapshots == []
    drain(nodes)
    assert reconcile(town).consistent
    assert _record(nodes[TOKYO], code) is None
    assert _record(nodes[CENTRE], code) is None


def test_a_resident_who_moved_to_another_prefecture_still_agrees(network: Build) -> None:
    nodes = network(NISHITOKYO, YOKOHAMA, TOKYO, KANAGAWA, CENTRE)
    old, new = nodes[NISHITOKYO], nodes[YOKOHAMA]
    arrived = move_in_household(old, make_actor(old), person()).records[0].record
    drain(nodes)
    register.file_move_in(
        new,
        actor=make_actor(new),
        move_in=MoveIn(
            persons=(person(code=arrived.resident_code),),
            address="神奈川県横浜市中区山下町1番地",
            previous_address=arrived.address,
            previous_municipality_code="132292",
            moved_on=date(2026, 11, 25),
            filed_on=date(2026, 11, 26),
        ),
    )
    drain(nodes)
    # The centre holds the person under Yokohama now; Nishitokyo's deletion is its history.
    centre = _record(nodes[CENTRE], arrived.resident_code)
    assert centre is not None
    assert centre.municipality_code == "141003"
    for town in (old, new):
        report = reconcile(town)
        assert report.consistent, report.lines(show_codes=True)
        assert report.repairs_queued == 0
        assert report.national.held == 1


def test_the_centre_out_of_reach_is_reported_not_fatal(network: Build) -> None:
    nodes = network(NISHITOKYO, TOKYO)  # no centre on this network
    town = nodes[NISHITOKYO]
    _populate(town, 1)
    drain({NISHITOKYO: town})
    report = reconcile(town, repair=False)
    assert report.prefecture.agrees
    assert report.national.error is not None
    assert not report.consistent
    assert "not compared" in "\n".join(report.lines())


def test_only_a_connected_municipality_reconciles(network: Build) -> None:
    nodes = network(NISHITOKYO, TOKYO, CENTRE, **{NISHITOKYO: {"participation": "disconnected"}})
    with pytest.raises(ReconcileRefused) as refused:
        reconcile(nodes[TOKYO])
    assert refused.value.code == "JUKI-NET-030"
    with pytest.raises(ReconcileRefused) as refused:
        reconcile(nodes[NISHITOKYO])
    assert refused.value.code == "JUKI-NET-031"
    assert refused.value.message_ja
    assert refused.value.message_en


def test_answers_that_cannot_be_trusted_are_refused(network: Build) -> None:
    nodes = network(NISHITOKYO, TOKYO, CENTRE)
    town = nodes[NISHITOKYO]
    prefecture_url = _url(town, TOKYO)
    # A genuine answer of the prefecture, but to an earlier question: a replay.
    stale = _post(town, prefecture_url + BUCKETS_PATH, {"municipality_code": "132292"}).json()
    forged = {"document": stale["document"], "signature": stale["signature"][::-1]}
    for answer, code in (
        (httpx.Response(200, json=stale), "JUKI-NET-033"),
        (httpx.Response(200, json=forged), "JUKI-NET-033"),
        (httpx.Response(503, json={"error": "busy"}), "JUKI-NET-032"),
    ):
        replay = httpx.Client(transport=httpx.MockTransport(lambda _request, a=answer: a))
        with pytest.raises(ReconcileFailed) as failed:
            reconcile(town, client=replay)
        assert failed.value.code == code
    assert _outbox_count(town) == 0  # nothing is repaired on an answer that was not trusted


def test_a_municipality_may_ask_only_about_itself_and_only_its_prefecture(
    network: Build,
) -> None:
    nodes = network(NISHITOKYO, TOKYO, CENTRE)
    town, tokyo = nodes[NISHITOKYO], nodes[TOKYO]
    prefecture_url = _url(town, TOKYO)
    centre_url = _url(tokyo, CENTRE)
    chiyoda = {"municipality_code": "131016"}
    for path, body in ((BUCKETS_PATH, chiyoda), (RECORDS_PATH, chiyoda | {"buckets": ["123"]})):
        response = _post(town, prefecture_url + path, body)
        assert response.status_code == 403
        assert response.json() == {"error": "a municipality may only reconcile its own records"}
    # Only neighbours talk: a municipality cannot ask the centre directly.
    response = _post(town, centre_url + BUCKETS_PATH, {"municipality_code": "132292"})
    assert response.status_code == 403
    assert "prefectures" in response.json()["error"]
    # Malformed questions from an allowed caller are refused as such.
    bad = _post(
        town, prefecture_url + RECORDS_PATH, {"municipality_code": "132292", "buckets": "1"}
    )
    assert bad.status_code == 400
    assert (
        _post(town, prefecture_url + BUCKETS_PATH, {"municipality_code": "13229"}).status_code
        == 400
    )
    # Its own question is answered, signed by the prefecture.
    good = _post(town, prefecture_url + BUCKETS_PATH, {"municipality_code": "132292"})
    assert good.status_code == 200
    assert good.json()["document"]["node"] == TOKYO
    with tokyo.session_factory() as session:
        reasons = list(session.scalars(select(NetworkRejectionRow.reason)))
    assert len(reasons) == 4
    assert all(r.startswith("reconciliation: ") for r in reasons)


def test_a_stranger_certificate_is_refused(network: Build) -> None:
    nodes = network(NISHITOKYO, TOKYO, CENTRE, YOKOHAMA)
    stranger = nodes[YOKOHAMA]  # a municipality of another prefecture
    prefecture_url = _url(nodes[NISHITOKYO], TOKYO)
    for code in ("141003", "132292"):
        for path, body in (
            (BUCKETS_PATH, {"municipality_code": code}),
            (RECORDS_PATH, {"municipality_code": code, "buckets": ["123"]}),
        ):
            response = _post(stranger, prefecture_url + path, body)
            assert response.status_code == 403
            assert response.json() == {
                "error": "only this prefecture's municipalities may reconcile here"
            }
    # The caller is checked before the question is even read.
    assert _post(stranger, prefecture_url + BUCKETS_PATH, None).status_code == 403
    with nodes[TOKYO].session_factory() as session:
        peers = set(session.scalars(select(NetworkRejectionRow.tls_peer)))
    assert peers == {YOKOHAMA}
