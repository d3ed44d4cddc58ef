"""Operators' use of the node on the transparency page and API (design/domain.md §9, q8).

Events are made through the real services and the API (sign-in with password and card, wrong
passwords up to the lockout, a permit asked for and approved, lookups at the counter); the page,
the JSON file and the API count them per JST month, and nobody's name appears anywhere.
"""

from __future__ import annotations

from fastapi.testclient import TestClient

from jukinet.domain.operators import Role
from jukinet.services.context import ServiceContext
from jukinet.services.operator_security.permits import approve_permit, request_permit
from tests.support.cards import TokenCard, b64url, lend_token_card, unb64url
from tests.support.factories import api_headers, make_actor, move_in_household, person

CLERK = "clerk-yamamoto"
GUESSER_TARGET = "clerk-suzuki"
OFFICER = "secofficer-ito"
MONTH = "2026-11"  # the tests' clock: 2026-11-26 12:00 JST


def _wrong_password(client: TestClient, username: str, card: TokenCard) -> int:
    challenge = client.post("/api/v1/auth/challenge").json()
    signature = card.sign(challenge["node"], unb64url(challenge["challenge"]))
    answer = client.post(
        "/api/v1/auth/token",
        json={
            "username": username,
            "password": "not the right password",
            "card_serial": card.serial,
            "challenge_id": challenge["challenge_id"],
            "signature": b64url(signature),
        },
    )
    return answer.status_code


def _make_usage(node: ServiceContext, client: TestClient) -> list[str]:
    """Two sign-ins, five failed sign-ins and a lockout, one approved permit, three lookups."""
    clerk = make_actor(node, Role.CLERK, username=CLERK)
    make_actor(node, Role.CLERK, username=GUESSER_TARGET)
    officer = make_actor(node, Role.SECURITY_OFFICER, username=OFFICER)
    codes = [
        move_in_household(node, clerk, person(given=given)).records[0].record.resident_code
        for given in ("太郎", "花子")
    ]
    headers = api_headers(client, CLERK)  # sign-in 1
    for code in (*codes, codes[0]):  # three lookups
        assert client.get(f"/api/v1/residents/{code}", headers=headers).status_code == 200
    api_headers(client, CLERK)  # sign-in 2
    card = lend_token_card(node, GUESSER_TARGET)
    for _ in range(5):  # the fifth locks the account
        assert _wrong_password(client, GUESSER_TARGET, card) == 401
    permit = request_permit(node, actor=clerk, reason="繁忙期の時間外処理", minutes=60)
    approve_permit(node, actor=officer, permit_id=permit.id)
    return codes


EXPECTED = {
    "signins": 2,
    "failed_signins": 5,
    "lockouts": 1,
    "permits_approved": 1,
    "lookups": 3,
}


def test_usage_is_counted_per_month_in_the_api_and_the_json(
    node: ServiceContext, client: TestClient
) -> None:
    _make_usage(node, client)
    for path in ("/api/v1/transparency/stats", "/transparency/stats.json"):
        body = client.get(path).json()
        assert body["totals"]["operator_usage"] == EXPECTED
        assert body["operator_usage"] == [{"month": MONTH, **EXPECTED}]
        # Refused sign-ins are usage, not refused queries of the register.
        assert body["totals"]["refusals"] == 0
        assert body["totals"]["counter_reads"] == 3
        text = str(body)
        for name in (CLERK, GUESSER_TARGET, OFFICER):
            assert name not in text


def test_usage_table_on_the_page_in_japanese_and_english_names_nobody(
    node: ServiceContext, client: TestClient
) -> None:
    codes = _make_usage(node, client)
    page = client.get("/transparency")
    assert page.status_code == 200
    html = page.text
    assert "職員の利用状況" in html
    assert 'data-testid="table-operator-usage"' in html
    table = html.split('data-testid="table-operator-usage"', 1)[1].split("</table>", 1)[0]
    # The November row: 2 sign-ins, 5 failures, 1 lock, 1 permit, 3 lookups.
    row = table.split("令和8年11月", 1)[1].split("</tr>", 1)[0]
    assert [cell.split("</td>")[0] for cell in row.split("<td>")[1:]] == ["2", "5", "1", "1", "3"]
    client.cookies.set("lang", "en")
    english = client.get("/transparency").text
    assert (
        "Operators&#39; use of the system" in english or "Operators' use of the system" in english
    )
    assert "Out-of-hours permits" in english
    csv_text = client.get("/transparency/stats.csv").text
    assert f"operator_signins,{MONTH},,,,,2," in csv_text
    for text in (html, english, csv_text):
        for name in (CLERK, GUESSER_TARGET, OFFICER, *codes):
            assert name not in text
