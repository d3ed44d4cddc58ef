"""Idempotency keys on API writes (issue 11, finding 11): a retry after a lost answer files once."""

from __future__ import annotations

import copy
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from jukinet.services import idempotency
from jukinet.services.context import ServiceContext
from jukinet.storage.tables import IdempotencyRow, RegisterEventRow, ResidentRow
from tests.integration.web.test_api import _error, _move_in_body
from tests.support.clock import FixedClock
from tests.support.factories import with_pool


def _new_arrival() -> dict[str, Any]:
    # No previous code: the register draws a new one, so a second filing would be a second person.
    body = _move_in_body(from_abroad=True, previous_address="Seoul, Republic of Korea")
    del body["persons"][0]["resident_code"]
    return body


def _count(node: ServiceContext, table: type) -> int:
    with node.session_factory() as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


def test_a_retried_move_in_files_once_and_answers_the_same(
    node: ServiceContext, client: TestClient, clerk_headers: dict[str, str]
) -> None:
    with_pool(node)
    headers = {**clerk_headers, "Idempotency-Key": "3f0c6a52-7d1e-4f4e-9a57-0d8a4b1f2c11"}
    first = client.post("/api/v1/events/move-in", json=_new_arrival(), headers=headers)
    assert first.status_code == 201, first.text
    again = client.post("/api/v1/events/move-in", json=_new_arrival(), headers=headers)
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert _count(node, ResidentRow) == 1
    assert _count(node, RegisterEventRow) == 1
    # Without a key, the same filing is a new one (the key is what says "the same request").
    plain = client.post("/api/v1/events/move-in", json=_new_arrival(), headers=clerk_headers)
    assert plain.status_code == 201
    assert _count(node, ResidentRow) == 2


def test_a_key_reused_for_another_request_is_refused_and_changes_nothing(
    node: ServiceContext, client: TestClient, clerk_headers: dict[str, str]
) -> None:
    with_pool(node)
    headers = {**clerk_headers, "Idempotency-Key": "key-1"}
    assert (
        client.post("/api/v1/events/move-in", json=_new_arrival(), headers=headers).status_code
        == 201
    )
    other = copy.deepcopy(_new_arrival())
    other["persons"][0]["given_name"] = "健二"
    refused = client.post("/api/v1/events/move-in", json=other, headers=headers)
    assert refused.status_code == 422
    assert _error(refused)["code"] == "JUKI-IDEM-002"
    assert _count(node, ResidentRow) == 1


def test_a_failed_write_keeps_no_answer_so_a_corrected_retry_runs(
    node: ServiceContext, client: TestClient, clerk_headers: dict[str, str]
) -> None:
    with_pool(node)
    headers = {**clerk_headers, "Idempotency-Key": "key-2"}
    bad = _new_arrival()
    bad["persons"][0]["birth_date"] = "1800-01-01"
    refused = client.post("/api/v1/events/move-in", json=bad, headers=headers)
    assert refused.status_code == 422
    assert _count(node, IdempotencyRow) == 0
    assert _count(node, ResidentRow) == 0


def test_keys_are_per_operator_checked_and_forgotten_after_a_day(
    node: ServiceContext,
    client: TestClient,
    clerk_headers: dict[str, str],
    supervisor_headers: dict[str, str],
    clock: FixedClock,
) -> None:
    with_pool(node)
    for headers in (clerk_headers, supervisor_headers):
        sent = client.post(
            "/api/v1/events/move-in",
            json=_new_arrival(),
            headers={**headers, "Idempotency-Key": "shared"},
        )
        assert sent.status_code == 201
    assert _count(node, ResidentRow) == 2
    bad_key = client.post(
        "/api/v1/events/move-in",
        json=_new_arrival(),
        headers={**clerk_headers, "Idempotency-Key": "x" * 201},
    )
    assert bad_key.status_code == 422
    assert _error(bad_key)["code"] == "JUKI-IDEM-001"
    clock.advance(hours=24, seconds=1)
    assert idempotency.forget_expired(node) == 2
    assert _count(node, IdempotencyRow) == 0
