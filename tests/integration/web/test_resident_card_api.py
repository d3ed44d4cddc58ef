"""The resident card API (/api/v1/cards…), on SQLite and PostgreSQL, with SoftHSM chips.

A card issuer applies (with a photo), issues, changes and resets the PIN, resumes and takes
back a card; a clerk reports it lost but may not issue. A retried write with the same
``Idempotency-Key`` answers the first answer again and writes no second chip. Bad input is a
4xx in the JUKI error envelope naming the field, and changes nothing.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from jukinet.domain.operators import Role
from jukinet.network import resident_card_token as chip
from jukinet.network.hsm import DEFAULT_MODULE
from jukinet.services.context import ServiceContext
from tests.support.card_counter import moved_in, nothing_changes
from tests.support.factories import api_headers, make_actor

pytestmark = pytest.mark.skipif(
    not Path(DEFAULT_MODULE).exists(), reason="SoftHSM2 is not installed (apt-get install softhsm2)"
)

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 60


@pytest.fixture
def issuer_headers(node: ServiceContext, client: TestClient) -> dict[str, str]:
    make_actor(node, Role.CARD_ISSUER, username="issuer1")
    return api_headers(client, "issuer1")


@pytest.fixture
def code(node: ServiceContext) -> str:
    return moved_in(node)


def _errors(response: Response) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = response.json()["errors"]
    return errors


def _one_error(response: Response, status: int, code: str, field: str | None) -> None:
    assert response.status_code == status, response.text
    assert [(e["code"], e["field"]) for e in _errors(response)] == [(code, field)]
    assert all(e["message_ja"] and e["message_en"] for e in _errors(response))


def _applied(client: TestClient, headers: dict[str, str], code: str) -> str:
    answer = client.post(
        "/api/v1/cards/applications",
        json={"resident_code": code, "form": "name_only"},
        headers=headers,
    )
    assert answer.status_code == 201, answer.text
    serial: str = answer.json()["serial"]
    return serial


def _issue_body(serial: str, pin: str = "1234", **overrides: str) -> dict[str, str]:
    return {
        "serial": serial,
        "pin": pin,
        "pin_confirmation": pin,
        "id_document": "passport",
    } | overrides


def test_a_card_through_its_life_over_the_api(
    node: ServiceContext,
    client: TestClient,
    issuer_headers: dict[str, str],
    clerk_headers: dict[str, str],
    code: str,
    card_reader: Path,
) -> None:
    applied = client.post(
        "/api/v1/cards/applications",
        json={
            "resident_code": code,
            "form": "photo_id",
            "photo": base64.b64encode(JPEG).decode(),
        },
        headers=issuer_headers,
    )
    assert applied.status_code == 201, applied.text
    card = applied.json()
    assert card["state"] == "applied"
    assert card["has_photo"] is True
    assert code not in applied.text
    serial = card["serial"]

    issued = client.post("/api/v1/cards/issue", json=_issue_body(serial), headers=issuer_headers)
    assert issued.status_code == 200, issued.text
    assert issued.json()["state"] == "valid"
    assert issued.json()["expires_on"] == "2036-11-25"

    changed = client.post(
        "/api/v1/cards/pin-change",
        json={"serial": serial, "old_pin": "1234", "new_pin": "5678"},
        headers=issuer_headers,
    )
    assert changed.status_code == 200, changed.text
    with chip.ResidentCardToken.open(serial, "5678") as token:
        assert token.resident_code() == code

    lost = client.post(
        "/api/v1/cards/loss-reports",
        json={
            "serial": serial,
            "caller_name": "山田 太郎",
            "caller_relation": "self",
            "answered": ["name", "address"],
        },
        headers=clerk_headers,
    )
    assert lost.status_code == 200, lost.text
    assert lost.json()["network_status"] == "suspended"

    resumed = client.post(
        "/api/v1/cards/resumptions",
        json={"serial": serial, "id_document": "drivers_licence"},
        headers=issuer_headers,
    )
    assert resumed.json()["state"] == "valid"
    reset = client.post(
        "/api/v1/cards/pin-reset",
        json={
            "serial": serial,
            "new_pin": "9999",
            "pin_confirmation": "9999",
            "id_document": "passport",
        },
        headers=issuer_headers,
    )
    assert reset.status_code == 200, reset.text
    returned = client.post("/api/v1/cards/returns", json={"serial": serial}, headers=issuer_headers)
    assert returned.json()["state"] == "invalid"
    assert returned.json()["invalid_reason"] == "returned"

    listed = client.get(f"/api/v1/residents/{code}/cards", headers=clerk_headers)
    assert [c["serial"] for c in listed.json()] == [serial]
    history = client.get(f"/api/v1/cards/{serial}/history", headers=clerk_headers).json()
    assert [e["kind"] for e in history] == [
        "applied",
        "issued",
        "pin_changed",
        "suspended",
        "resumed",
        "pin_reset",
        "returned",
    ]
    assert history[3]["details"]["answered"] == ["address", "name"]


def test_a_retried_issuance_answers_again_and_writes_no_second_chip(
    node: ServiceContext,
    client: TestClient,
    issuer_headers: dict[str, str],
    code: str,
    card_reader: Path,
) -> None:
    keyed = {**issuer_headers, "Idempotency-Key": "issue-1"}
    applied = client.post(
        "/api/v1/cards/applications",
        json={"resident_code": code, "form": "name_only"},
        headers={**issuer_headers, "Idempotency-Key": "apply-1"},
    )
    again = client.post(
        "/api/v1/cards/applications",
        json={"resident_code": code, "form": "name_only"},
        headers={**issuer_headers, "Idempotency-Key": "apply-1"},
    )
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == applied.json()
    serial = applied.json()["serial"]
    first = client.post("/api/v1/cards/issue", json=_issue_body(serial), headers=keyed)
    assert first.status_code == 200, first.text
    with nothing_changes(node, card_reader):
        replayed = client.post("/api/v1/cards/issue", json=_issue_body(serial), headers=keyed)
        assert replayed.status_code == 200
        assert replayed.headers["Idempotent-Replayed"] == "true"
        assert replayed.json() == first.json()
        other = client.post("/api/v1/cards/issue", json=_issue_body(serial, "4321"), headers=keyed)
        _one_error(other, 422, "JUKI-IDEM-002", "Idempotency-Key")


def test_bad_input_is_refused_with_its_field_and_changes_nothing(
    node: ServiceContext,
    client: TestClient,
    issuer_headers: dict[str, str],
    clerk_headers: dict[str, str],
    code: str,
    card_reader: Path,
) -> None:
    serial = _applied(client, issuer_headers, code)
    folders = (card_reader, node.settings.card_photo_folder)
    with nothing_changes(node, *folders):
        post = client.post
        short = post("/api/v1/cards/issue", json=_issue_body(serial, "123"), headers=issuer_headers)
        assert short.status_code == 422
        assert ("JUKI-CARD-001", "pin") in [(e["code"], e["field"]) for e in _errors(short)]
        differ = post(
            "/api/v1/cards/issue",
            json=_issue_body(serial, pin_confirmation="1243"),
            headers=issuer_headers,
        )
        _one_error(differ, 422, "JUKI-CARD-003", "pin_confirmation")
        other_town = post(
            "/api/v1/cards/issue",
            json=_issue_body("141003-00000001"),
            headers=issuer_headers,
        )
        _one_error(other_town, 409, "JUKI-CARD-021", "serial")
        second = post(
            "/api/v1/cards/applications",
            json={
                "resident_code": code,
                "form": "photo_id",
                "photo": base64.b64encode(JPEG).decode(),
            },
            headers=issuer_headers,
        )
        _one_error(second, 409, "JUKI-CARD-020", "resident_code")
        not_base64 = post(
            "/api/v1/cards/applications",
            json={"resident_code": code, "form": "photo_id", "photo": "***"},
            headers=issuer_headers,
        )
        _one_error(not_base64, 422, "JUKI-CARD-033", "photo")
        not_issued = post(
            "/api/v1/cards/loss-reports",
            json={
                "serial": serial,
                "caller_name": "山田 太郎",
                "caller_relation": "self",
                "answered": [],
            },
            headers=clerk_headers,
        )
        _one_error(not_issued, 422, "JUKI-CARD-006", "answered")
        clerk_issues = post("/api/v1/cards/issue", json=_issue_body(serial), headers=clerk_headers)
        _one_error(clerk_issues, 403, "JUKI-AUTH-003", None)
        unknown_field = post(
            "/api/v1/cards/returns", json={"serial": serial, "pin": "1"}, headers=issuer_headers
        )
        assert unknown_field.status_code == 422
        unsigned = post("/api/v1/cards/returns", json={"serial": serial})
        assert unsigned.status_code == 401
