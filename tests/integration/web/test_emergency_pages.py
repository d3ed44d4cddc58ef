"""Threat levels and two-card disconnects through the JSON API and the pages (both backends):
the level on every operator page, read-only personal-data pages at level 3, refusals that leave
storage unchanged, and the public record of every cut on the transparency page."""

from __future__ import annotations

import random
import re
from typing import Any

from fastapi.testclient import TestClient

from jukinet.domain.codes import random_resident_codes
from jukinet.domain.operators import Role
from jukinet.services.context import ServiceContext
from jukinet.web.app import create_app
from tests.support.factories import api_headers, make_actor, sign_in_page, with_pool
from tests.support.snapshots import table_digests

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
#: Sign-in and the session touch these; a refused request must change nothing else.
_TRACES = frozenset(
    {"operator_sessions", "access_log", "auditlog_heads", "signin_challenges", "terminals"}
)
_LEVEL = {
    "reason": "不正侵入の痕跡",
    "decided_by": "統括責任者 山田一郎",
    "decided_at": "2026-11-26T11:30:00+09:00",
    "minutes_ref": "SC-2026-07",
}


def _headers(client: TestClient, node: ServiceContext, role: Role, name: str) -> dict[str, str]:
    make_actor(node, role, username=name)
    return api_headers(client, name)


def _move_in() -> dict[str, Any]:
    return {
        "persons": [
            {
                "family_name": "渡邊",
                "given_name": "健一",
                "family_name_kana": "ワタナベ",
                "given_name_kana": "ケンイチ",
                "birth_date": "1975-03-14",
                "sex": "male",
                "relationship": "head",
                "resident_code": random_resident_codes(random.Random(7), 1)[0],
                "domicile": "東京都国立市中一丁目1番",
                "domicile_head": "渡邊健一",
            }
        ],
        "address": "東京都西東京市泉町一丁目2番3号",
        "previous_address": "東京都国立市中一丁目1番1号",
        "moved_on": "2026-11-20",
        "filed_on": "2026-11-26",
    }


def test_two_cards_over_the_api_and_one_is_not_enough(
    node: ServiceContext, client: TestClient
) -> None:
    officer = _headers(client, node, Role.SECURITY_OFFICER, "sec1")
    delegate = _headers(client, node, Role.SUPERVISOR, "boss1")
    clerk = _headers(client, node, Role.CLERK, "clerk1")
    body = {"action": "activate", "scope": "affair", "target": "T1-16", "reason": "調査"}
    before = table_digests(node, exclude=_TRACES)
    refused = client.post("/api/v1/emergency/proposals", json=body, headers=clerk)
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["code"] == "JUKI-EMG-020"
    missing = client.post(
        "/api/v1/emergency/proposals",
        json=body | {"scope": "node", "target": "municipality:132152"},
        headers=officer,
    )
    assert missing.status_code == 404
    assert missing.json()["errors"][0]["code"] == "JUKI-EMG-015"
    assert table_digests(node, exclude=_TRACES) == before
    proposed = client.post("/api/v1/emergency/proposals", json=body, headers=officer)
    assert proposed.status_code == 200, proposed.text
    number = proposed.json()["id"]
    alone = client.post(f"/api/v1/emergency/proposals/{number}/countersign", headers=officer)
    assert alone.status_code == 403
    assert alone.json()["errors"][0]["code"] == "JUKI-EMG-023"
    signed = client.post(f"/api/v1/emergency/proposals/{number}/countersign", headers=delegate)
    assert signed.status_code == 200, signed.text
    assert signed.json()["in_force"] is True
    state = client.get("/api/v1/emergency", headers=officer).json()
    assert [d["target"] for d in state["disconnects"]] == ["T1-16"]
    assert client.get("/api/v1/emergency", headers=clerk).status_code == 403
    public = client.get("/transparency")
    assert public.status_code == 200
    assert 'data-testid="emergency-events"' in public.text
    assert "T1-16" in public.text
    assert "sec1" not in public.text  # the public record names no operator


def test_level_three_makes_personal_data_read_only(
    node: ServiceContext, client: TestClient
) -> None:
    with_pool(node)
    officer = _headers(client, node, Role.SECURITY_OFFICER, "sec1")
    clerk = _headers(client, node, Role.CLERK, "clerk1")
    created = client.post("/api/v1/events/move-in", json=_move_in(), headers=clerk)
    assert created.status_code in (200, 201), created.text
    raised = client.post("/api/v1/emergency/level", json=_LEVEL | {"level": 3}, headers=officer)
    assert raised.status_code == 200, raised.text
    assert raised.json()["notice_queued"] is True
    before = table_digests(node, exclude=_TRACES)
    body = _move_in()
    body["persons"][0]["resident_code"] = random_resident_codes(random.Random(8), 1)[0]
    refused = client.post("/api/v1/events/move-in", json=body, headers=clerk)
    assert refused.status_code == 503
    assert refused.headers["Retry-After"]
    assert refused.json()["errors"][0]["code"] == "JUKI-EMG-031"
    assert table_digests(node, exclude=_TRACES) == before
    found = client.get("/api/v1/residents", params={"name": "渡邊"}, headers=clerk)
    assert found.status_code == 200  # reads go on (and are logged)
    lowered = client.post("/api/v1/emergency/level", json=_LEVEL | {"level": 0}, headers=officer)
    assert lowered.status_code == 200
    again = client.post("/api/v1/events/move-in", json=body, headers=clerk)
    assert again.status_code in (200, 201), again.text


def test_the_level_is_on_every_operator_page_and_the_page_takes_two_cards(
    node: ServiceContext, client: TestClient
) -> None:
    make_actor(node, Role.SECURITY_OFFICER, username="sec1")
    make_actor(node, Role.SUPERVISOR, username="boss1")
    sign_in_page(client, "sec1")
    page = client.get("/security/emergency")
    assert page.status_code == 200, page.text
    assert 'data-testid="threat-level"' in page.text
    assert "平常" in page.text
    token = _CSRF.search(page.text)
    assert token is not None
    level = client.post(
        "/security/emergency/level",
        data=_LEVEL | {"level": "1", "scope": "node", "csrf_token": token[1]},
        follow_redirects=False,
    )
    assert level.status_code == 303, level.text
    before = table_digests(node, exclude=_TRACES)
    missing = client.post(
        "/security/emergency/proposals",
        data={
            "cut_action": "activate",
            "cut_scope": "node",
            "cut_target": "municipality:132152",
            "cut_reason": "訓練",
            "csrf_token": token[1],
        },
        follow_redirects=False,
    )
    assert missing.status_code == 422  # shown next to the field, like every form error
    assert "切断の対象（node）が見つかりません" in missing.text
    assert 'value="municipality:132152"' in missing.text  # what was typed is kept
    assert table_digests(node, exclude=_TRACES) == before
    proposed = client.post(
        "/security/emergency/proposals",
        data={
            "cut_action": "activate",
            "cut_scope": "all",
            "cut_target": "",
            "cut_duration_minutes": "5",
            "cut_disconnect_id": "",
            "cut_reason": "訓練",
            "csrf_token": token[1],
        },
        follow_redirects=False,
    )
    assert proposed.status_code == 303, proposed.text
    listed = client.get("/security/emergency")
    assert "レベル1（監視強化）" in listed.text
    number = re.search(r"/security/emergency/proposals/(\d+)/countersign", listed.text)
    assert number is not None
    with TestClient(create_app(node)) as second:
        sign_in_page(second, "boss1")
        other = second.get("/security/emergency")
        token2 = _CSRF.search(other.text)
        assert token2 is not None
        done = second.post(
            f"/security/emergency/proposals/{number[1]}/countersign",
            data={"csrf_token": token2[1]},
            follow_redirects=False,
        )
        assert done.status_code == 303, done.text
    assert node.emergency.link_cut("prefecture:13", node.now()) is not None
    clerk_page = TestClient(create_app(node))
    with clerk_page:
        make_actor(node, Role.CLERK, username="clerk1")
        sign_in_page(clerk_page, "clerk1")
        home = clerk_page.get("/")
        assert 'data-testid="threat-level"' in home.text
        assert "レベル1（監視強化）" in home.text
        assert clerk_page.get("/security/emergency").status_code == 403
