"""The card administrator's page for agency officers' cards (issue 15): ``/security/officer-cards``.

The officer's security key is lent by the operators' own registration ceremony (a software key
posting what a browser posts), the key then opens the officer's console session; a lost card is
revoked with a confirmation and a reason and ends the officer's sessions. Every refusal (bad or
used serial, unknown officer, a key already lent, an answer without the PIN, another page's
answer, no confirmation, no token, a clerk) is a 4xx with its message and leaves storage as it
was. Both databases.
"""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select
from webauthn.helpers import bytes_to_base64url

from jukinet.domain.operators import Role
from jukinet.services import agency_console, agency_officer_cards, recipients
from jukinet.services.context import ServiceContext
from jukinet.storage.agency_tables import AgencyOfficerCardRow, AgencySessionRow
from jukinet.storage.registry import RegistryCache
from jukinet.storage.tables import AccessLogRow
from tests.support.cards import SoftAuthenticator, csrf_of
from tests.support.factories import make_actor, sign_in_page
from tests.support.snapshots import table_digests

PAGE = "/security/officer-cards"
PENSION, RADIO = "agency:soumu-onkyu", "agency:soumu-denpa"
OFFICER_PASSWORD = "officer-password-long"  # a throw-away test account
ORIGIN = "http://testserver"
#: Touched by every page view and sign-in; the card register's own tables are compared.
_SESSION_TABLES = frozenset({"operator_sessions", "signin_challenges"})


def _setup(node: ServiceContext, client: TestClient, role: Role = Role.CARD_ADMINISTRATOR) -> None:
    recipients.seed(node)
    for recipient_id, login, name in (
        (PENSION, "onkyu.tanaka", "田中 恩給"),
        (PENSION, "onkyu.suzuki", "鈴木 恩給"),
        (RADIO, "denpa.sato", "佐藤 電波"),
    ):
        agency_console.add_officer(
            node,
            RegistryCache(),
            recipient_id=recipient_id,
            login=login,
            display_name=name,
            password=OFFICER_PASSWORD,
        )
    make_actor(node, role, username="cardadmin")
    assert sign_in_page(client, "cardadmin").status_code == 303


def _post(client: TestClient, path: str, data: dict[str, Any]) -> Response:
    token = csrf_of(client.get(PAGE).text)
    response: Response = client.post(
        path, data={**data, "csrf_token": token}, follow_redirects=False
    )
    return response


def _ceremony(client: TestClient, officer: str, serial: str) -> tuple[str, str, dict[str, Any]]:
    """Start lending: (the ceremony page's token, challenge id, creation options)."""
    page = _post(client, PAGE + "/lend", {"lend_officer": officer, "lend_serial": serial})
    assert page.status_code == 200, page.text[:2000]
    assert '<script src="/static/card.js" defer></script>' in page.text
    options = re.search(
        r'<script type="application/json" id="card-options">(.*?)</script>', page.text, re.S
    )
    challenge = re.search(r'name="challenge_id" value="([^"]+)"', page.text)
    assert options
    assert challenge
    return csrf_of(page.text), challenge[1], json.loads(options[1].replace("\\u003c", "<"))


def _finish(
    client: TestClient,
    officer: str,
    serial: str,
    key: SoftAuthenticator,
    *,
    origin: str = ORIGIN,
    user_verified: bool = True,
) -> Response:
    token, challenge_id, options = _ceremony(client, officer, serial)
    response: Response = client.post(
        PAGE + "/lend/finish",
        data={
            "csrf_token": token,
            "lend_officer": officer,
            "lend_serial": serial,
            "challenge_id": challenge_id,
            "credential": key.attestation(options, origin, user_verified=user_verified),
        },
        follow_redirects=False,
    )
    return response


def _error_next_to(html: str, field: str) -> str:
    match = re.search(
        rf'<p class="error-message" id="{re.escape(field)}-error"[^>]*>(.*?)</p>', html, re.S
    )
    assert match, f"no error next to {field}"
    return re.sub(r"<[^>]+>", "", match[1])


def _logged(node: ServiceContext, tag: str) -> list[str]:
    with node.session_factory() as session:
        rows = session.scalars(select(AccessLogRow).order_by(AccessLogRow.position)).all()
        return [row.reason or "" for row in rows if (row.reason or "").startswith(tag)]


def _card(node: ServiceContext, serial: str) -> AgencyOfficerCardRow:
    with node.session_factory() as session:
        row = session.scalars(
            select(AgencyOfficerCardRow).where(AgencyOfficerCardRow.serial == serial)
        ).one()
        session.expunge(row)
        return row


def _console_session(node: ServiceContext, login: str, key: SoftAuthenticator) -> str:
    """The officer signs in to the console (password, then the key): the session's secret."""
    secret = agency_console.sign_in(
        node, recipient_id=PENSION, login=login, password=OFFICER_PASSWORD
    )
    challenge_id, options = agency_officer_cards.card_options(node, secret, recipient_id=PENSION)
    agency_officer_cards.finish_card(
        node,
        secret,
        recipient_id=PENSION,
        challenge_id=challenge_id,
        credential=key.assertion(json.loads(options), ORIGIN),
        page_origin=ORIGIN,
    )
    return secret


def _sessions(node: ServiceContext) -> int:
    with node.session_factory() as session:
        return int(session.scalar(select(func.count()).select_from(AgencySessionRow)) or 0)


def test_the_card_administrator_lends_a_key_that_then_opens_the_officers_console(
    node: ServiceContext, client: TestClient
) -> None:
    _setup(node, client)
    page = client.get(PAGE)
    assert page.status_code == 200
    assert "機関職員カードの貸与" in page.text
    assert f'data-recipient="{PENSION}"' in page.text
    assert f'data-recipient="{RADIO}"' in page.text
    assert page.text.count('data-status="none"') == 3  # nobody has a card yet
    assert f'value="{PENSION}|onkyu.tanaka"' in page.text

    # The operators' ceremony, narrowed to ECDSA P-256 keys (the command line's input model).
    _, _, options = _ceremony(client, f"{PENSION}|onkyu.tanaka", "OC-0001")
    assert options["pubKeyCredParams"] == [{"type": "public-key", "alg": -7}]
    assert options["authenticatorSelection"]["userVerification"] == "required"
    key = SoftAuthenticator(serial="OC-0001")
    lent = _finish(client, f"{PENSION}|onkyu.tanaka", "oc-0001", key)
    assert lent.status_code == 303, lent.text[:2000]
    assert lent.headers["location"] == f"{PAGE}?done=lent"
    card = _card(node, "OC-0001")
    assert card.status == "lent"
    assert card.lent_by == "cardadmin"
    assert card.credential_id == bytes_to_base64url(key.credential_id)
    assert _logged(node, "agency:officer-card:lent: OC-0001 to onkyu.tanaka of " + PENSION)

    shown = client.get(f"{PAGE}?done=lent").text
    assert "カードを貸与しました" in shown
    row = re.search(r'<tr data-card="OC-0001" data-status="lent"[^>]*>(.*?)</tr>', shown, re.S)
    assert row
    assert "田中 恩給" in row[1]
    assert "貸与中" in row[1]
    assert "cardadmin" in row[1]

    # The key now signs the officer in to the console (what /agency/card does).
    secret = _console_session(node, "onkyu.tanaka", key)
    assert secret
    assert _sessions(node) == 1


def test_lending_refusals_leave_storage_unchanged(node: ServiceContext, client: TestClient) -> None:
    _setup(node, client)
    first = SoftAuthenticator(serial="OC-0001")
    assert _finish(client, f"{PENSION}|onkyu.tanaka", "OC-0001", first).status_code == 303
    before = table_digests(node, exclude=_SESSION_TABLES)

    bad_serial = _post(
        client, PAGE + "/lend", {"lend_officer": f"{PENSION}|onkyu.tanaka", "lend_serial": "x"}
    )
    assert bad_serial.status_code == 422
    assert "カード番号" in _error_next_to(bad_serial.text, "lend_serial")

    used_serial = _post(
        client,
        PAGE + "/lend",
        {"lend_officer": f"{PENSION}|onkyu.suzuki", "lend_serial": "OC-0001"},
    )
    assert used_serial.status_code == 409
    assert "既に登録されています" in _error_next_to(used_serial.text, "lend_serial")

    unknown = _post(
        client, PAGE + "/lend", {"lend_officer": f"{PENSION}|nobody", "lend_serial": "OC-0002"}
    )
    assert unknown.status_code == 422
    assert "職員は登録されていません" in _error_next_to(unknown.text, "lend_officer")
    # An officer of another organisation under this one's name is unknown too.
    crossed = _post(
        client, PAGE + "/lend", {"lend_officer": f"{PENSION}|denpa.sato", "lend_serial": "OC-0002"}
    )
    assert crossed.status_code == 422

    none_chosen = _post(client, PAGE + "/lend", {"lend_officer": "", "lend_serial": "OC-0002"})
    assert none_chosen.status_code == 422
    assert _error_next_to(none_chosen.text, "lend_officer")

    # The key's answers: without the PIN, from another page, a key already lent.
    no_pin = _finish(
        client,
        f"{PENSION}|onkyu.suzuki",
        "OC-0002",
        SoftAuthenticator(serial="OC-0002"),
        user_verified=False,
    )
    assert no_pin.status_code == 422
    assert "PIN" in no_pin.text
    assert "セキュリティキーを登録できませんでした" in no_pin.text
    elsewhere = _finish(
        client,
        f"{PENSION}|onkyu.suzuki",
        "OC-0002",
        SoftAuthenticator(serial="OC-0002"),
        origin="https://evil.example",
    )
    assert elsewhere.status_code == 422
    already_lent = _finish(client, f"{PENSION}|onkyu.suzuki", "OC-0002", first)
    assert already_lent.status_code == 409
    assert "既に登録されています" in _error_next_to(already_lent.text, "lend_serial")

    # A replayed ceremony: the challenge of a refused answer cannot lend another key later
    # than its lifetime, and a used one never (here: a made-up id).
    forged = client.post(
        PAGE + "/lend/finish",
        data={
            "csrf_token": csrf_of(client.get(PAGE).text),
            "lend_officer": f"{PENSION}|onkyu.suzuki",
            "lend_serial": "OC-0003",
            "challenge_id": "not-a-challenge",
            "credential": "{}",
        },
        follow_redirects=False,
    )
    assert forged.status_code in (401, 422)
    assert table_digests(node, exclude=_SESSION_TABLES) == before
    with node.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(AgencyOfficerCardRow)) == 1


def test_a_lost_card_is_revoked_with_a_reason_and_ends_the_officers_sessions(
    node: ServiceContext, client: TestClient
) -> None:
    _setup(node, client)
    key = SoftAuthenticator(serial="OC-0001")
    assert _finish(client, f"{PENSION}|onkyu.tanaka", "OC-0001", key).status_code == 303
    _console_session(node, "onkyu.tanaka", key)
    assert _sessions(node) == 1
    before = table_digests(node, exclude=_SESSION_TABLES)

    unconfirmed = _post(
        client, PAGE + "/lost", {"lost_serial": "OC-0001", "lost_note": "電車内で紛失"}
    )
    assert unconfirmed.status_code == 422
    assert "確認欄" in _error_next_to(unconfirmed.text, "lost_confirm")
    no_reason = _post(
        client, PAGE + "/lost", {"lost_serial": "OC-0001", "lost_note": "", "lost_confirm": "1"}
    )
    assert no_reason.status_code == 422
    assert _error_next_to(no_reason.text, "lost_note")
    unknown = _post(
        client,
        PAGE + "/lost",
        {"lost_serial": "OC-9999", "lost_note": "x", "lost_confirm": "1"},
    )
    assert unknown.status_code == 422
    assert "登録されていません" in _error_next_to(unknown.text, "lost_serial")
    assert table_digests(node, exclude=_SESSION_TABLES) == before
    assert _sessions(node) == 1

    revoked = _post(
        client,
        PAGE + "/lost",
        {"lost_serial": "OC-0001", "lost_note": "電車内で紛失", "lost_confirm": "1"},
    )
    assert revoked.status_code == 303, revoked.text[:2000]
    assert revoked.headers["location"] == f"{PAGE}?done=lost"
    assert _card(node, "OC-0001").status == "lost"
    assert _sessions(node) == 0
    assert _logged(node, "agency:officer-card:lost: OC-0001 (onkyu.tanaka): 電車内で紛失")
    shown = client.get(PAGE).text
    row = re.search(r'<tr data-card="OC-0001" data-status="lost"[^>]*>(.*?)</tr>', shown, re.S)
    assert row
    assert "紛失（失効）" in row[1]
    assert "lost: 電車内で紛失" in row[1]
    # No longer offered for a loss report; reported again by a forged form: 409, unchanged.
    assert 'value="OC-0001"' not in shown
    before = table_digests(node, exclude=_SESSION_TABLES)
    twice = _post(
        client, PAGE + "/lost", {"lost_serial": "OC-0001", "lost_note": "x", "lost_confirm": "1"}
    )
    assert twice.status_code == 409
    assert table_digests(node, exclude=_SESSION_TABLES) == before


def test_only_the_card_administrator_and_only_with_the_token(
    node: ServiceContext, client: TestClient
) -> None:
    _setup(node, client, role=Role.CLERK)
    before = table_digests(node, exclude=_SESSION_TABLES)
    assert client.get(PAGE).status_code == 403
    token = csrf_of(client.get("/permits").text)
    for path in ("/lend", "/lend/finish", "/lost"):
        data = {
            "csrf_token": token,
            "lend_officer": f"{PENSION}|onkyu.tanaka",
            "lend_serial": "OC-0001",
            "lost_serial": "OC-0001",
            "lost_note": "x",
            "lost_confirm": "1",
        }
        assert client.post(PAGE + path, data=data, follow_redirects=False).status_code == 403
    assert 'href="/security/officer-cards"' not in client.get("/permits").text
    assert table_digests(node, exclude=_SESSION_TABLES) == before

    admin = TestClient(client.app)
    make_actor(node, Role.CARD_ADMINISTRATOR, username="cardadmin2")
    assert sign_in_page(admin, "cardadmin2").status_code == 303
    before = table_digests(node, exclude=_SESSION_TABLES)
    for token_value in (None, "forged"):
        sent = {"lend_officer": f"{PENSION}|onkyu.tanaka", "lend_serial": "OC-0001"}
        if token_value:
            sent["csrf_token"] = token_value
        refused = admin.post(PAGE + "/lend", data=sent, follow_redirects=False)
        assert refused.status_code == 403
        assert "フォームの有効期限が切れました" in refused.text
    assert table_digests(node, exclude=_SESSION_TABLES) == before


def test_the_page_in_english(node: ServiceContext, client: TestClient) -> None:
    _setup(node, client)
    client.get("/lang/en")
    page = client.get(PAGE)
    assert page.status_code == 200
    assert "Agency officers&#39; cards" in page.text or "Agency officers' cards" in page.text
    assert "No card lent" in page.text
    refused = _post(
        client, PAGE + "/lend", {"lend_officer": f"{PENSION}|nobody", "lend_serial": "OC-0002"}
    )
    assert "No such officer." in refused.text
