"""Participation and residents' opt-out through the pages and the JSON API (both backends);
every refusal leaves storage unchanged."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from jukinet.domain.messages import MessageKind
from jukinet.domain.operators import Role
from jukinet.domain.participation import OptOutRequest
from jukinet.services.context import ServiceContext
from jukinet.services.reading import read_resident
from jukinet.services.register.notices import set_upstream_opt_out
from jukinet.storage.tables import OutboxRow
from tests.support.factories import (
    api_headers,
    make_actor,
    move_in_household,
    person,
    sign_in_page,
)
from tests.support.snapshots import table_digests

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
#: Sign-in and the session touch these; a refused request must change nothing else.
_SESSION_TABLES = frozenset({"operator_sessions", "access_log", "access_log_state", "tree_heads"})


def _post(client: TestClient, path: str, data: dict[str, str], *, form_page: str) -> Any:
    page = client.get(form_page)
    assert page.status_code == 200, page.text
    match = _CSRF.search(page.text)
    assert match
    return client.post(path, data={**data, "csrf_token": match[1]}, follow_redirects=False)


def _resident(node: ServiceContext) -> tuple[str, str]:
    clerk = make_actor(node)
    code = move_in_household(node, clerk, person()).records[0].record.resident_code
    return code, read_resident(node, actor=clerk, resident_code=code).record_ref


def _opted_out(node: ServiceContext, code: str) -> bool:
    actor = make_actor(node)
    return read_resident(node, actor=actor, resident_code=code).record.upstream_opt_out


def _withdrawals(node: ServiceContext) -> int:
    with node.session_factory() as session:
        return len(
            session.scalars(
                select(OutboxRow.id).where(OutboxRow.kind == MessageKind.IDENTITY_WITHDRAWAL.value)
            ).all()
        )


def _body(code: str, **overrides: Any) -> dict[str, Any]:
    return {
        "resident_code": code,
        "opt_out": True,
        "requested_on": "2026-11-25",
        "request_number": "Y-2026-001",
    } | overrides


def test_opt_out_and_back_in_through_the_api(node: ServiceContext, client: TestClient) -> None:
    node.settings.allow_opt_out = True
    code, _ref = _resident(node)
    make_actor(node, Role.CLERK, username="clerk1")
    headers = api_headers(client, "clerk1")
    answer = client.post("/api/v1/events/opt-out", json=_body(code), headers=headers)
    assert answer.status_code == 200, answer.text
    assert _opted_out(node, code)
    assert _withdrawals(node) == 1
    back = client.post("/api/v1/events/opt-out", json=_body(code, opt_out=False), headers=headers)
    assert back.status_code == 200, back.text
    assert not _opted_out(node, code)


@pytest.mark.parametrize(
    ("overrides", "status", "error"),
    [
        ({"request_number": "番号"}, 422, "JUKI-NET-044"),
        ({"requested_on": "2026-12-31"}, 422, "JUKI-NET-045"),
        ({"opt_out": False}, 409, "JUKI-NET-022"),
        ({"resident_code": "12345678901"}, 422, None),
    ],
)
def test_refused_opt_out_requests_change_nothing(
    node: ServiceContext,
    client: TestClient,
    overrides: dict[str, Any],
    status: int,
    error: str | None,
) -> None:
    node.settings.allow_opt_out = True
    code, _ref = _resident(node)
    make_actor(node, Role.CLERK, username="clerk1")
    headers = api_headers(client, "clerk1")
    before = table_digests(node, exclude=_SESSION_TABLES)
    answer = client.post("/api/v1/events/opt-out", json=_body(code, **overrides), headers=headers)
    assert answer.status_code == status, answer.text
    if error:
        assert error in answer.text
    assert table_digests(node, exclude=_SESSION_TABLES) == before


def test_opt_out_refused_where_the_municipality_does_not_allow_it(
    node: ServiceContext, client: TestClient
) -> None:
    code, _ref = _resident(node)
    make_actor(node, Role.CLERK, username="clerk1")
    headers = api_headers(client, "clerk1")
    before = table_digests(node, exclude=_SESSION_TABLES)
    answer = client.post("/api/v1/events/opt-out", json=_body(code), headers=headers)
    assert answer.status_code == 409
    assert "JUKI-NET-021" in answer.text
    assert table_digests(node, exclude=_SESSION_TABLES) == before


def test_opt_out_at_the_counter_page(node: ServiceContext, client: TestClient) -> None:
    node.settings.allow_opt_out = True
    code, ref = _resident(node)
    make_actor(node, Role.CLERK, username="clerk1")
    assert sign_in_page(client, "clerk1").status_code == 303
    record = client.get(f"/records/{ref}")
    assert 'data-testid="opt-out-link"' in record.text
    form_page = f"/events/opt-out?ref={ref}"
    before = table_digests(node, exclude=_SESSION_TABLES)
    bad = _post(
        client,
        "/events/opt-out",
        {"record_ref": ref, "opt_out": "true", "requested_on": "R8.11.25", "request_number": ""},
        form_page=form_page,
    )
    assert bad.status_code == 422
    assert table_digests(node, exclude=_SESSION_TABLES) == before
    answer = _post(
        client,
        "/events/opt-out",
        {
            "record_ref": ref,
            "opt_out": "true",
            "requested_on": "R8.11.25",
            "request_number": "Y-7",
        },
        form_page=form_page,
    )
    assert answer.status_code == 303, answer.text
    assert "done=opt_out" in answer.headers["location"]
    shown = client.get(answer.headers["location"])
    assert 'data-testid="opted-out"' in shown.text
    assert _opted_out(node, code)


def test_participation_page_for_the_system_administrator(
    node: ServiceContext, client: TestClient
) -> None:
    make_actor(node, Role.SYSTEM_ADMINISTRATOR, username="admin1")
    assert sign_in_page(client, "admin1").status_code == 303
    page = client.get("/network/participation")
    assert page.status_code == 200
    before = table_digests(node, exclude=_SESSION_TABLES)
    empty = _post(
        client,
        "/network/participation",
        {"state": "disconnected", "reason": ""},
        form_page="/network/participation",
    )
    assert empty.status_code == 422
    assert table_digests(node, exclude=_SESSION_TABLES) == before
    done = _post(
        client,
        "/network/participation",
        {"state": "disconnected", "reason": "議会の決議による"},
        form_page="/network/participation",
    )
    assert done.status_code == 303, done.text
    shown = client.get(done.headers["location"])
    assert "議会の決議による" in shown.text
    assert not node.connected
    # Joining needs network credentials this node does not have: refused, nothing written.
    before = table_digests(node, exclude=_SESSION_TABLES)
    refused = _post(
        client,
        "/network/participation",
        {"state": "connected", "reason": "再接続"},
        form_page="/network/participation",
    )
    assert refused.status_code == 409
    assert "JUKI-NET-047" in refused.text or "証明書" in refused.text
    assert table_digests(node, exclude=_SESSION_TABLES) == before


def test_participation_is_not_for_clerks(node: ServiceContext, client: TestClient) -> None:
    make_actor(node, Role.CLERK, username="clerk1")
    assert sign_in_page(client, "clerk1").status_code == 303
    assert client.get("/network/participation").status_code == 403
    headers = api_headers(client, "clerk1")
    before = table_digests(node, exclude=_SESSION_TABLES)
    answer = client.post(
        "/api/v1/network/participation",
        json={"state": "disconnected", "reason": "x"},
        headers=headers,
    )
    assert answer.status_code == 403
    assert table_digests(node, exclude=_SESSION_TABLES) == before


def test_participation_over_the_api(node: ServiceContext, client: TestClient) -> None:
    make_actor(node, Role.SYSTEM_ADMINISTRATOR, username="admin1")
    headers = api_headers(client, "admin1")
    answer = client.post(
        "/api/v1/network/participation",
        json={"state": "disconnected", "reason": "議会の決議"},
        headers=headers,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["previous_state"] == "connected"
    state = client.get("/api/v1/network/participation", headers=headers).json()
    assert state["state"] == "disconnected"
    assert [c["reason"] for c in state["changes"]] == ["議会の決議"]
    before = table_digests(node, exclude=_SESSION_TABLES)
    again = client.post(
        "/api/v1/network/participation",
        json={"state": "disconnected", "reason": "二度目"},
        headers=headers,
    )
    assert again.status_code == 409
    assert table_digests(node, exclude=_SESSION_TABLES) == before


def test_the_transparency_page_counts_opted_out_residents(
    node: ServiceContext, client: TestClient
) -> None:
    node.settings.allow_opt_out = True
    code, _ref = _resident(node)
    _resident(node)
    clerk = make_actor(node)
    set_upstream_opt_out(
        node,
        actor=clerk,
        request=OptOutRequest(
            resident_code=code, opt_out=True, requested_on=date(2026, 11, 25), request_number="1"
        ),
    )
    page = client.get("/transparency")
    assert page.status_code == 200
    count = re.search(r'data-testid="opted-out-count">([^<]+)<', page.text)
    assert count is not None
    assert count[1].strip() == "1 / 2"
