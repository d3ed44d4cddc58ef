"""The card move's counter pages and API at one node, on SQLite and PostgreSQL (the pull over
the network is tested in tests/integration/network/test_card_move.py).

A clerk files the move-out in advance with the card option from the holder's record (a child
without a card chosen to move along); bad input — a move abroad, no destination code, a person
of another household, a PIN that is not four digits — is shown beside its input (or as the API's
error) at 4xx and changes nothing.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select

from jukinet.domain.operators import Role
from jukinet.domain.register import Relationship, Sex
from jukinet.domain.wareki import format_wareki
from jukinet.network.hsm import DEFAULT_MODULE
from jukinet.services.context import ServiceContext
from jukinet.services.resident_card import counter
from jukinet.services.resident_card.inputs import CardApplication, CardIssue, IdDocument
from jukinet.storage.card_move_tables import PlannedCardMoveRow
from tests.support.card_counter import nothing_changes, ref_of
from tests.support.cards import csrf_of
from tests.support.factories import (
    api_headers,
    make_actor,
    move_in_household,
    person,
    sign_in_page,
    with_pool,
)

pytestmark = pytest.mark.skipif(
    not Path(DEFAULT_MODULE).exists(), reason="SoftHSM2 is not installed (apt-get install softhsm2)"
)

PIN = "1357"


class Household:
    """A holder with a card, a child without one, and a person of another household."""

    def __init__(self, node: ServiceContext) -> None:
        with_pool(node)
        clerk = make_actor(node)
        made = move_in_household(
            node,
            clerk,
            person(),
            person(
                given="花子",
                given_kana="ハナコ",
                birth_date=date(2015, 6, 1),
                sex=Sex.FEMALE,
                relationship=Relationship.CHILD,
            ),
        )
        self.holder, self.child = (v.record.resident_code for v in made.records)
        self.number = made.records[0].record.household_number
        other = move_in_household(node, clerk, person(family="佐藤", family_kana="サトウ"))
        self.stranger = other.records[0].record.resident_code
        issuer = make_actor(node, Role.CARD_ISSUER)
        serial = counter.apply_for_card(
            node, actor=issuer, application=CardApplication(self.holder, counter.CardForm.NAME_ONLY)
        ).serial
        counter.issue_card(
            node, actor=issuer, issue=CardIssue(serial, PIN, PIN, IdDocument.PASSPORT)
        )
        self.holder_ref = ref_of(node, self.holder)
        self.child_ref = ref_of(node, self.child)


@pytest.fixture
def family(node: ServiceContext, card_reader: Path) -> Household:
    return Household(node)


@pytest.fixture
def clerk(node: ServiceContext, client: TestClient) -> TestClient:
    make_actor(node, Role.CLERK, username="clerk1")
    assert sign_in_page(client, "clerk1").status_code == 303
    return client


def _post(client: TestClient, path: str, form_path: str, data: dict[str, Any]) -> Response:
    token = csrf_of(client.get(form_path).text)
    response: Response = client.post(
        path, data={**data, "csrf_token": token}, follow_redirects=False
    )
    return response


def _error_next_to(html: str, field: str) -> str:
    match = re.search(
        rf'<p class="error-message" id="{re.escape(field)}-error"[^>]*>(.*?)</p>', html, re.S
    )
    assert match, f"no error next to {field}"
    return re.sub(r"<[^>]+>", "", match[1])


def _planned(node: ServiceContext) -> list[PlannedCardMoveRow]:
    with node.session_factory() as session:
        return list(session.scalars(select(PlannedCardMoveRow)))


def _out_form(node: ServiceContext, family: Household, **changes: str) -> dict[str, str]:
    today = format_wareki(node.today())
    return {
        "holder_ref": family.holder_ref,
        "household_number": family.number,
        "member_refs": family.child_ref,
        "destination": "神奈川県横浜市中区山下町1番地",
        "destination_municipality_code": "141003",
        "planned_on": today,
        "filed_on": today,
        "channel": "post",
        "insurance_note": "国保 資格喪失",
    } | changes


def test_the_move_out_with_the_card_is_filed_from_the_record(
    node: ServiceContext, clerk: TestClient, family: Household
) -> None:
    record = clerk.get(f"/records/{family.holder_ref}").text
    assert "/card-moves/move-out?household=" in record
    form_path = f"/card-moves/move-out?household={family.number}&ref={family.holder_ref}"
    form = clerk.get(form_path)
    assert form.status_code == 200
    assert f'value="{family.child_ref}"' in form.text
    assert f'value="{family.holder_ref}"' in form.text
    filed = _post(clerk, "/card-moves/move-out", form_path, _out_form(node, family))
    assert filed.status_code == 303, filed.text[:2000]
    assert filed.headers["location"] == f"/records/{family.holder_ref}?done=card_move_out"
    (planned,) = _planned(node)
    assert planned.resident_codes == [family.holder, family.child]
    assert (planned.channel, planned.state) == ("post", "planned")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"destination": "国外（フランス共和国）"}, "destination"),
        ({"destination_municipality_code": ""}, "destination_municipality_code"),
        ({"destination_municipality_code": "132292"}, "destination_municipality_code"),
    ],
)
def test_bad_move_out_input_is_shown_beside_it_and_changes_nothing(
    node: ServiceContext,
    clerk: TestClient,
    family: Household,
    card_reader: Path,
    changes: dict[str, str],
    field: str,
) -> None:
    form_path = f"/card-moves/move-out?household={family.number}&ref={family.holder_ref}"
    token = csrf_of(clerk.get(form_path).text)
    with nothing_changes(node, card_reader):
        refused = clerk.post(
            "/card-moves/move-out",
            data={**_out_form(node, family, **changes), "csrf_token": token},
            follow_redirects=False,
        )
    assert refused.status_code == 422
    assert _error_next_to(refused.text, field)


def test_the_move_in_page_takes_the_pin_on_the_pad_and_refuses_a_bad_one(
    node: ServiceContext, clerk: TestClient, card_reader: Path
) -> None:
    form = clerk.get("/card-moves/move-in").text
    assert 'type="password" id="pin"' in form
    assert 'id="continue_card" name="continue_card" value="1" checked' in form
    token = csrf_of(form)
    today = format_wareki(node.today())
    with nothing_changes(node, card_reader):
        refused = clerk.post(
            "/card-moves/move-in",
            data={
                "serial": "132292-00000001",
                "pin": "12",
                "address": "東京都西東京市泉町一丁目2番3号",
                "moved_in_on": today,
                "filed_on": today,
                "continue_card": "1",
                "csrf_token": token,
            },
            follow_redirects=False,
        )
    assert refused.status_code == 422
    assert _error_next_to(refused.text, "pin")
    assert "12" not in re.findall(r'value="([^"]*)"', refused.text)


def test_the_api_files_the_move_out_and_refuses_a_stranger(
    node: ServiceContext, client: TestClient, family: Household, card_reader: Path
) -> None:
    make_actor(node, Role.CLERK, username="clerk2")
    headers = api_headers(client, "clerk2")
    body = {
        "holder_code": family.holder,
        "destination": "神奈川県横浜市中区山下町1番地",
        "destination_municipality_code": "141003",
        "planned_on": node.today().isoformat(),
        "filed_on": node.today().isoformat(),
        "member_codes": [family.stranger],
    }
    with nothing_changes(node, card_reader):
        refused = client.post("/api/v1/card-moves/move-out", json=body, headers=headers)
    assert refused.status_code == 422
    assert [(e["code"], e["field"]) for e in refused.json()["errors"]] == [
        ("JUKI-MOVE-005", "member_codes[0]")
    ]
    filed = client.post(
        "/api/v1/card-moves/move-out",
        json=body | {"member_codes": [family.child]},
        headers=headers,
    )
    assert filed.status_code == 200, filed.text
    assert len(filed.json()["residents"]) == 2
    assert [p.channel for p in _planned(node)] == ["counter"]
