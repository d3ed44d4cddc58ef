"""The JSON API: counter operations, lookups, errors and access control."""

from __future__ import annotations

import copy
import random
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from jukinet.domain.codes import mask_resident_code, random_resident_codes
from jukinet.services.context import ServiceContext
from jukinet.storage.tables import Base
from tests.support.factories import with_pool
from tests.support.snapshots import table_digests


def _move_in_body(**overrides: Any) -> dict[str, Any]:
    code = random_resident_codes(random.Random(7), 1)[0]
    body: dict[str, Any] = {
        "persons": [
            {
                "family_name": "渡邊",
                "given_name": "健一",
                "family_name_kana": "ワタナベ",
                "given_name_kana": "ケンイチ",
                "birth_date": "1975-03-14",
                "sex": "male",
                "relationship": "head",
                "resident_code": code,
                "domicile": "東京都国立市中一丁目1番",
                "domicile_head": "渡邊健一",
            }
        ],
        "address": "東京都西東京市泉町一丁目2番3号",
        "previous_address": "東京都国立市中一丁目1番1号",
        "moved_on": "2026-11-20",
        "filed_on": "2026-11-26",
    }
    body.update(overrides)
    return body


def _error(response: Any) -> dict[str, Any]:
    errors = response.json()["errors"]
    assert len(errors) >= 1
    error: dict[str, Any] = errors[0]
    assert error["message_ja"]
    assert error["message_en"]
    return error


def test_move_in_then_lookups(client: TestClient, clerk_headers: dict[str, str]) -> None:
    response = client.post("/api/v1/events/move-in", json=_move_in_body(), headers=clerk_headers)
    assert response.status_code == 201, response.text
    resident = response.json()["residents"][0]
    code = resident["resident_code"]
    assert resident["birth_date_wareki"] == "昭和50年3月14日"
    assert resident["relationship_label"] == "世帯主"
    # Lists mask the code and name the record by its reference.
    masked = [(mask_resident_code(code), resident["record_ref"])]
    found = client.get("/api/v1/residents", params={"name": "渡辺"}, headers=clerk_headers)
    assert [(r["resident_code"], r["record_ref"]) for r in found.json()] == masked
    found = client.post(
        "/api/v1/residents/search", json={"name": "わたなべ"}, headers=clerk_headers
    )
    assert [(r["resident_code"], r["record_ref"]) for r in found.json()] == masked
    one = client.get(f"/api/v1/residents/{code}", headers=clerk_headers)
    assert one.json()["family_name"] == "渡邊"
    history = client.get(f"/api/v1/residents/{code}/history", headers=clerk_headers)
    assert [h["event_kind"] for h in history.json()] == ["move_in"]
    household = client.get(
        f"/api/v1/households/{resident['household_number']}", headers=clerk_headers
    )
    assert [m["resident_code"] for m in household.json()["members"]] == [masked[0][0]]


def test_no_anonymous_access(client: TestClient) -> None:
    response = client.get("/api/v1/residents", params={"name": "ヤマダ"})
    assert response.status_code == 401
    assert _error(response)["code"] == "JUKI-AUTH-002"
    response = client.get(
        "/api/v1/residents",
        params={"name": "ヤマダ"},
        headers={"Authorization": "Bearer forged.token.value"},
    )
    assert response.status_code == 401
    assert _error(response)["code"] == "JUKI-AUTH-005"


def test_wrong_password_is_refused(client: TestClient, clerk_headers: dict[str, str]) -> None:
    def token(username: str) -> Any:
        challenge = client.post("/api/v1/auth/challenge").json()
        return client.post(
            "/api/v1/auth/token",
            json={
                "username": username,
                "password": "x",
                "card_serial": "ANY",
                "challenge_id": challenge["challenge_id"],
                "signature": "AAAA",
            },
        )

    response = token("clerk1")
    assert response.status_code == 401
    unknown = token("nobody")
    assert _error(unknown)["code"] == _error(response)["code"] == "JUKI-AUTH-001"


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        (
            {"persons": [{"resident_code": "BAD_CHECK_DIGIT"}]},
            "persons[0].resident_code",
            "JUKI-CODE-002",
        ),
        (
            {"persons": [{"family_name_kana": "わたなべ"}]},
            "persons[0].family_name_kana",
            "JUKI-NAME-012",
        ),
        (
            {"persons": [{"family_name_kana": "ﾜﾀﾅﾍﾞ"}]},
            "persons[0].family_name_kana",
            "JUKI-NAME-013",
        ),
        ({"persons": [{"birth_date": "2027-01-01"}]}, "persons[0].birth_date", "JUKI-REG-004"),
        ({"persons": [{"birth_date": "2026-02-30"}]}, "persons[0].birth_date", "JUKI-DATE-003"),
        ({"persons": [{"relationship": "child"}]}, "relationship", "JUKI-REG-020"),
        ({"address": "x" * 301}, "address", "JUKI-API-001"),
        ({"persons": [{"given_name": "a" * 31}]}, "persons[0].given_name", "JUKI-NAME-002"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(
    client: TestClient,
    clerk_headers: dict[str, str],
    change: dict[str, Any],
    field: str,
    code: str,
) -> None:
    change = copy.deepcopy(change)  # parameters are shared between the two backends' runs
    body = _move_in_body()
    if change.get("persons", [{}])[0].get("resident_code") == "BAD_CHECK_DIGIT":
        good = body["persons"][0]["resident_code"]
        change["persons"][0]["resident_code"] = good[:-1] + str((int(good[-1]) + 1) % 10)
    if "persons" in change:
        body["persons"][0].update(change.pop("persons")[0])
    body.update(change)
    response = client.post("/api/v1/events/move-in", json=body, headers=clerk_headers)
    assert response.status_code == 422, response.text
    error = _error(response)
    assert error["code"] == code
    assert error["field"] == field
    everyone = client.get(
        "/api/v1/residents", params={"name": "ワ", "include_removed": True}, headers=clerk_headers
    )
    assert everyone.json() == []


def test_unknown_resident_is_404(client: TestClient, clerk_headers: dict[str, str]) -> None:
    response = client.get("/api/v1/residents/00000000000", headers=clerk_headers)
    assert response.status_code == 404
    assert _error(response)["code"] == "JUKI-REG-030"
    response = client.get("/api/v1/residents/12345", headers=clerk_headers)
    assert response.status_code == 422
    assert _error(response)["code"] == "JUKI-CODE-001"


def test_clerk_cannot_correct_but_supervisor_can(
    client: TestClient,
    clerk_headers: dict[str, str],
    supervisor_headers: dict[str, str],
) -> None:
    code = client.post(
        "/api/v1/events/move-in", json=_move_in_body(), headers=clerk_headers
    ).json()["residents"][0]["resident_code"]
    body = {"resident_code": code, "items": {"given_name": "健壱"}, "reason_note": "誤記の訂正"}
    denied = client.post("/api/v1/ex-officio/corrections", json=body, headers=clerk_headers)
    assert denied.status_code == 403
    allowed = client.post("/api/v1/ex-officio/corrections", json=body, headers=supervisor_headers)
    assert allowed.status_code == 200, allowed.text
    assert allowed.json()["residents"][0]["given_name"] == "健壱"
    assert allowed.json()["residents"][0]["family_name"] == "渡邊"


def test_stale_version_is_a_conflict(client: TestClient, clerk_headers: dict[str, str]) -> None:
    code = client.post(
        "/api/v1/events/move-in", json=_move_in_body(), headers=clerk_headers
    ).json()["residents"][0]["resident_code"]
    body = {
        "resident_code": code,
        "family_name": "佐藤",
        "given_name": "健一",
        "family_name_kana": "サトウ",
        "given_name_kana": "ケンイチ",
        "changed_on": "2026-11-26",
        "filed_on": "2026-11-26",
        "expected_version": 1,
    }
    assert (
        client.post("/api/v1/events/name-change", json=body, headers=clerk_headers).status_code
        == 200
    )
    stale = client.post(
        "/api/v1/events/name-change",
        json=body | {"family_name": "鈴木", "family_name_kana": "スズキ"},
        headers=clerk_headers,
    )
    assert stale.status_code == 409
    assert _error(stale)["code"] == "JUKI-REG-011"


def test_birth_and_late_filing(
    node: ServiceContext, client: TestClient, clerk_headers: dict[str, str]
) -> None:
    with_pool(node, 2)
    household = client.post(
        "/api/v1/events/move-in", json=_move_in_body(), headers=clerk_headers
    ).json()["residents"][0]["household_number"]
    body = {
        "household_number": household,
        "filed_on": "2026-11-26",
        "person": {
            "family_name": "渡邊",
            "given_name": "葵",
            "family_name_kana": "ワタナベ",
            "given_name_kana": "アオイ",
            "birth_date": "2026-10-01",
            "sex": "female",
            "relationship": "child",
        },
    }
    response = client.post("/api/v1/events/birth", json=body, headers=clerk_headers)
    assert response.status_code == 201, response.text
    assert response.json()["late"] is True
    assert "14日" in response.json()["late_notice_ja"]


def test_municipality_reference(client: TestClient) -> None:
    assert client.get("/api/v1/municipalities/132292").json()["name"] == "西東京市"
    assert client.get("/api/v1/municipalities/132293").status_code == 422
    assert client.get("/api/v1/municipalities/139998").status_code in {404, 422}


def test_nul_bytes_are_client_errors(client: TestClient, clerk_headers: dict[str, str]) -> None:
    # Found by schemathesis: PostgreSQL refuses NUL in text, which must not become a 500.
    challenge = client.post("/api/v1/auth/challenge").json()
    token = client.post(
        "/api/v1/auth/token",
        json={
            "username": "\u0000",
            "password": "x",
            "card_serial": "ANY",
            "challenge_id": challenge["challenge_id"],
            "signature": "AAAA",
        },
    )
    assert token.status_code == 401
    search = client.get("/api/v1/residents", params={"name": "山\u0000"}, headers=clerk_headers)
    assert search.status_code == 422
    household = client.get("/api/v1/households/00%001", headers=clerk_headers)
    assert household.status_code == 422


def _storage(node: ServiceContext) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in a stable order: what "storage unchanged" compares."""
    with node.engine.connect() as connection:
        return {
            table.name: sorted(
                (tuple(map(repr, row)) for row in connection.execute(select(table))),
            )
            for table in Base.metadata.sorted_tables
        }


@pytest.mark.parametrize(
    ("person", "field"),
    [
        ({"birth_date": "1800-01-01"}, "persons[0].birth_date"),
        ({"birth_date": "1868-10-22"}, "persons[0].birth_date"),
    ],
)
def test_a_refused_move_in_leaves_storage_unchanged(
    node: ServiceContext,
    client: TestClient,
    clerk_headers: dict[str, str],
    person: dict[str, str],
    field: str,
) -> None:
    """A birth date before the register's first era (明治) is refused before anything is written
    (it was once committed, and every later read of it failed)."""
    with_pool(node)
    body = _move_in_body()
    body["persons"][0].update(person)
    before = _storage(node)
    response = client.post("/api/v1/events/move-in", json=body, headers=clerk_headers)
    assert response.status_code == 422, response.text
    assert _error(response)["field"] == field
    assert _storage(node) == before
    listed = client.get("/api/v1/residents", params={"name": "ワタナベ"}, headers=clerk_headers)
    assert listed.status_code == 200


def test_dates_in_wareki_or_iso_are_both_accepted(
    node: ServiceContext, client: TestClient, clerk_headers: dict[str, str]
) -> None:
    with_pool(node)
    body = _move_in_body(moved_on="R8.11.20", filed_on="令和8年11月26日")
    body["persons"][0]["birth_date"] = "昭和50年3月14日"
    response = client.post("/api/v1/events/move-in", json=body, headers=clerk_headers)
    assert response.status_code == 201, response.text
    resident = response.json()["residents"][0]
    assert resident["birth_date"] == "1975-03-14"
    assert resident["birth_date_wareki"] == "昭和50年3月14日"
    before = table_digests(node)
    body["persons"][0]["birth_date"] = "令和元年4月30日"  # the day before 令和 began
    refused = client.post("/api/v1/events/move-in", json=body, headers=clerk_headers)
    assert refused.status_code == 422
    assert _error(refused)["code"] == "JUKI-DATE-002"
    assert "precedes" in _error(refused)["message_en"]
    assert table_digests(node) == before


def test_the_token_endpoint_takes_an_oauth2_form_as_well_as_json(
    node: ServiceContext, client: TestClient
) -> None:
    from tests.support.cards import b64url, lend_token_card, unb64url
    from tests.support.factories import PASSWORD, make_actor

    make_actor(node, username="formclerk")
    card = lend_token_card(node, "formclerk")

    def fields() -> dict[str, str]:
        challenge = client.post("/api/v1/auth/challenge").json()
        signature = card.sign(challenge["node"], unb64url(challenge["challenge"]))
        return {
            "username": "formclerk",
            "password": PASSWORD,
            "card_serial": card.serial,
            "challenge_id": challenge["challenge_id"],
            "signature": b64url(signature),
        }

    as_form = client.post("/api/v1/auth/token", data={"grant_type": "password", **fields()})
    assert as_form.status_code == 200, as_form.text
    assert as_form.json()["token_type"] == "bearer"
    as_json = client.post("/api/v1/auth/token", json=fields())
    assert as_json.status_code == 200, as_json.text
    headers = {"Authorization": f"Bearer {as_form.json()['access_token']}"}
    assert client.get("/api/v1/code-pool", headers=headers).status_code in (200, 403)

    other_grant = client.post("/api/v1/auth/token", data={**fields(), "grant_type": "code"})
    assert other_grant.status_code == 422
    missing = client.post("/api/v1/auth/token", data={"username": "formclerk"})
    assert missing.status_code == 422
    assert {e["field"] for e in _error_list(missing)} >= {"password", "signature"}
    not_json = client.post(
        "/api/v1/auth/token", content=b"[1,", headers={"content-type": "application/json"}
    )
    assert not_json.status_code == 422

    body = client.get("/openapi.json").json()["paths"]["/api/v1/auth/token"]["post"]
    assert set(body["requestBody"]["content"]) == {
        "application/json",
        "application/x-www-form-urlencoded",
    }


def test_the_schema_says_dates_may_be_iso_or_wareki(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    birth = schemas["PersonBody"]["properties"]["birth_date"]
    assert "和暦" in birth["description"]
    assert "ISO 8601" in birth["description"]


def _error_list(response: Any) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = response.json()["errors"]
    return errors
