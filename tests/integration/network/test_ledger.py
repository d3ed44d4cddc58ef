"""The delivery ledger: API and page show queues, acknowledgements and quarantine."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from jukinet.domain.operators import Role
from jukinet.services import ledger
from jukinet.storage.tables import OutboxRow
from jukinet.web.app import create_app
from tests.integration.network.conftest import PREFECTURE, Tiers
from tests.support.factories import (
    api_headers,
    make_actor,
    move_in_household,
    person,
    sign_in_page,
)
from tests.support.network import sender


def test_ledger_shows_queue_then_acknowledgement(tiers: Tiers) -> None:
    town = tiers.municipality
    clerk = make_actor(town)
    supervisor = make_actor(town, Role.SUPERVISOR)
    move_in_household(town, clerk, person())
    move_in_household(town, clerk, person(family="佐藤", family_kana="サトウ"))
    (before,) = ledger.link_statuses(town, actor=supervisor)
    assert before.peer == PREFECTURE
    assert before.queued == 2
    assert before.oldest_undelivered_seconds is not None
    link = sender(town, PREFECTURE)
    link.deliver_once()
    link.close()
    (after,) = ledger.link_statuses(town, actor=supervisor)
    assert (after.queued, after.last_sent, after.last_acked) == (0, 2, 2)
    assert after.last_error is None


def test_ledger_counts_quarantine_on_both_sides(tiers: Tiers) -> None:
    town = tiers.municipality
    clerk = make_actor(town)
    move_in_household(town, clerk, person())
    with town.session_factory() as session, session.begin():
        row = session.scalars(select(OutboxRow)).one()
        row.body = dict(row.body) | {"identity": dict(row.body["identity"]) | {"sex": "x"}}
    link = sender(town, PREFECTURE)
    link.deliver_once()
    link.close()
    officer = make_actor(town, Role.SECURITY_OFFICER)
    (status,) = ledger.link_statuses(town, actor=officer)
    assert status.quarantined_outbound == 1
    held = ledger.quarantined_messages(town, actor=officer)
    assert held[0].subject is not None
    assert held[0].subject.startswith("*******")
    upstream_officer = make_actor(tiers.prefecture, Role.SECURITY_OFFICER)
    upstream = {s.peer: s for s in ledger.link_statuses(tiers.prefecture, actor=upstream_officer)}
    assert upstream["municipality:132292"].quarantined_inbound == 1


def test_ledger_api_and_page_need_the_right_role(tiers: Tiers) -> None:
    town = tiers.municipality
    make_actor(town, Role.CLERK, username="ledgerclerk")
    make_actor(town, Role.SUPERVISOR, username="ledgersuper")
    with TestClient(create_app(town)) as client:
        denied = client.get("/api/v1/network/links", headers=api_headers(client, "ledgerclerk"))
        assert denied.status_code == 403
        allowed = client.get("/api/v1/network/links", headers=api_headers(client, "ledgersuper"))
        assert allowed.status_code == 200
        assert allowed.json()[0]["peer"] == PREFECTURE
        assert sign_in_page(client, "ledgersuper").status_code == 303
        page = client.get("/network")
        assert page.status_code == 200
        assert "送受信台帳" in page.text
        assert f"東京都 <code>{PREFECTURE}</code>" in page.text


def test_upper_tiers_open_on_the_ledger(tiers: Tiers) -> None:
    make_actor(tiers.prefecture, Role.SUPERVISOR, username="prefsuper")
    with TestClient(create_app(tiers.prefecture)) as client:
        assert sign_in_page(client, "prefsuper").status_code == 303
        home = client.get("/", follow_redirects=False)
        assert home.status_code == 303
        assert home.headers["location"] == "/network"
        page = client.get("/network")
        assert "東京都 都道府県サーバ" in page.text
        assert "住民検索" not in page.text
        # Peers by name with their identifier beside (issue 17, item 10); a neighbour that
        # never exchanged a message is marked as not connected.
        peers = re.findall(r'<td data-testid="peer">(.*?)</td>', page.text, re.S)
        (centre,) = [p for p in peers if "national:jlis" in p]
        assert centre.startswith("全国センター <code>national:jlis</code>")
        assert "未接続" in centre  # nothing has passed on this link yet
