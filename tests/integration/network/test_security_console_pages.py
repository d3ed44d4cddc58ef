"""The security console (every node) and the network map (the centre), as pages and JSON
(issue 12, item 9): only a security officer opens them, each view is logged, and they show
the alerts, overdue deliveries and link states the network produced. Both databases.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select

from jukinet.domain.messages import MessageKind
from jukinet.domain.operator_events import OperatorEvent
from jukinet.domain.operators import Role
from jukinet.services import deadlines
from jukinet.services.context import ServiceContext
from jukinet.services.emergency import levels
from jukinet.services.security_console import console
from jukinet.storage.tables import AccessLogRow, LinkRow, OutboxRow
from jukinet.web.app import create_app
from tests.integration.network.test_hostile_municipality import _post_raw
from tests.support.clock import FixedClock
from tests.support.emergency import decision
from tests.support.factories import (
    api_headers,
    make_actor,
    move_in_household,
    person,
    sign_in_page,
)
from tests.support.network import drain, sender

NISHITOKYO = "municipality:132292"
HACHIOJI = "municipality:132012"
TOKYO = "prefecture:13"
CENTRE = "national:jlis"
Build = Callable[..., dict[str, ServiceContext]]


def _views(node: ServiceContext) -> list[str]:
    with node.session_factory() as session:
        reasons = session.scalars(select(AccessLogRow.reason)).all()
    tag = OperatorEvent.SECURITY_CONSOLE_VIEWED.value
    return [r for r in reasons if r and r.startswith(tag)]


def _troubled(nodes: dict[str, ServiceContext], clock: FixedClock) -> None:
    """A notice arrives late everywhere, then Tokyo replays an older one to the centre."""
    town, tokyo = nodes[NISHITOKYO], nodes[TOKYO]
    clerk = make_actor(town)
    move_in_household(town, clerk, person())
    link = sender(town, TOKYO)
    link.deliver_once()
    link.close()
    with tokyo.session_factory() as session:
        genuine = session.scalars(select(OutboxRow.body)).one()
    drain(nodes)
    move_in_household(town, clerk, person())
    clock.advance(minutes=66)
    assert deadlines.check_deadlines(town)
    drain(nodes)
    with tokyo.session_factory() as session:
        last = session.get(LinkRow, CENTRE)
        assert last is not None
        sequence = last.last_sent + 1
    replay = _post_raw(tokyo, CENTRE, MessageKind.IDENTITY_NOTICE, genuine, sequence=sequence)
    assert replay["status"] == "refused"


def test_the_console_and_the_map_show_the_networks_trouble(
    network: Build, clock: FixedClock
) -> None:
    nodes = network(NISHITOKYO, HACHIOJI, TOKYO, CENTRE)
    _troubled(nodes, clock)
    centre, town = nodes[CENTRE], nodes[NISHITOKYO]
    make_actor(centre, Role.SECURITY_OFFICER, username="kanshi")
    make_actor(centre, Role.SUPERVISOR, username="kanri")
    with TestClient(create_app(centre)) as client:
        # The API first (bearer tokens): a supervisor is refused, the officer answered.
        refused = client.get("/api/v1/network/map", headers=api_headers(client, "kanri"))
        assert refused.status_code == 403
        answer = client.get("/api/v1/network/map", headers=api_headers(client, "kanshi"))
        assert answer.status_code == 200
        by_name = {n["name"]: n for n in answer.json()["nodes"]}
        assert set(by_name) == {NISHITOKYO, HACHIOJI, TOKYO, CENTRE}
        assert by_name[CENTRE]["state"] == "this_node"
        # Tokyo handed over a replay (refused: trouble) and one notice late (overdue).
        assert (by_name[TOKYO]["state"], by_name[TOKYO]["health"]) == ("active", "trouble")
        assert by_name[TOKYO]["overdue"] == 1
        assert by_name[TOKYO]["backlog"] == 0
        assert by_name[NISHITOKYO]["state"] == "active"
        assert by_name[NISHITOKYO]["last_delivery_at"] is not None
        assert by_name[NISHITOKYO]["backlog"] is None  # its prefecture's console shows it
        assert (by_name[HACHIOJI]["state"], by_name[HACHIOJI]["health"]) == (
            "silent",
            "unknown",
        )
        as_json = client.get("/api/v1/security/console", headers=api_headers(client, "kanshi"))
        assert as_json.status_code == 200
        kinds = {a["kind"] for a in as_json.json()["alerts"]}
        assert kinds == {"origin_replay", "delivery_overdue"}
        assert as_json.json()["threat_level"] == 0

        # The pages, signed in as the officer.
        assert sign_in_page(client, "kanshi").status_code == 303
        page = client.get("/security/console")
        assert page.status_code == 200
        assert "セキュリティ監視" in page.text
        assert 'data-kind="origin_replay"' in page.text
        assert "署名済み通知の再送（リプレイ）" in page.text
        assert 'data-direction="inbound" data-peer="prefecture:13"' in page.text
        assert 'data-testid="incidents"' in page.text
        assert 'href="/security/network-map"' in page.text
        picture = client.get("/security/network-map")
        assert picture.status_code == 200
        assert "<svg" in picture.text
        svg = picture.text[picture.text.index("<svg") : picture.text.index("</svg>")]
        assert "<script" not in svg
        # No external script anywhere: only the layout's own vendored file.
        assert re.findall(r'<script src="([^"]+)"', picture.text) == ["/static/htmx.min.js"]
        drawn = dict(re.findall(r'<g data-node="([^"]+)" data-health="([^"]+)"', picture.text))
        assert drawn == {
            CENTRE: "ok",
            TOKYO: "trouble",
            NISHITOKYO: "ok",
            HACHIOJI: "unknown",
        }
        assert "八王子市" in picture.text
    # Every view was logged under the officer's name; the supervisor's refusal answered nothing.
    views = _views(centre)
    assert len(views) == 4
    assert all("kanshi" not in v for v in views)  # the reason names the page, the actor is kept

    # At a municipality: the console opens, the map does not (it is kept at the centre).
    make_actor(town, Role.SECURITY_OFFICER, username="machi")
    make_actor(town, Role.CLERK, username="madoguchi")
    with TestClient(create_app(town)) as client:
        assert sign_in_page(client, "madoguchi").status_code == 303
        assert client.get("/security/console").status_code == 403
    with TestClient(create_app(town)) as client:
        assert sign_in_page(client, "machi").status_code == 303
        own = client.get("/security/console")
        assert own.status_code == 200
        assert 'data-direction="outbound" data-peer="prefecture:13"' in own.text
        elsewhere = client.get("/security/network-map")
        assert elsewhere.status_code == 409
        assert "全国センター" in elsewhere.text


def test_the_centres_console_shows_a_towns_level_two_incident(network: Build) -> None:
    """A town's council raises level 2: its signed incident notice reaches the centre's console."""
    nodes = network(NISHITOKYO, TOKYO, CENTRE)
    town, centre = nodes[NISHITOKYO], nodes[CENTRE]
    levels.change_level(
        town, actor=make_actor(town, Role.SECURITY_OFFICER), decision=decision(2, town.now())
    )
    drain(nodes)
    officer = make_actor(centre, Role.SECURITY_OFFICER)
    view = console(centre, actor=officer)
    assert view.threat_level == 0  # the town's level is its own; the centre's stays where it was
    assert [(i.node, i.level) for i in view.incidents] == [(NISHITOKYO, 2)]
    assert "SC-2026-02" in (view.incidents[0].decided_by or "")
    assert console(town, actor=make_actor(town, Role.SECURITY_OFFICER)).threat_level == 2
