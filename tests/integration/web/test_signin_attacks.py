"""Issue 18, "bad input and security": each attack on sign-in and sessions is refused with a clear
message, logged, and never a 500 — a replayed or cross-origin WebAuthn assertion, an expired
challenge, a cloned card, a forged session cookie, a missing CSRF token, a card lost or an
account disabled mid-session, a role change, and the idle and absolute session limits.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from jukinet.domain.insider_signals import Severity, SignalKind
from jukinet.domain.operators import Actor, Role
from jukinet.services.context import ServiceContext
from jukinet.services.operator_security.cards import report_lost
from jukinet.services.operator_security.hours import set_hours
from jukinet.services.operators import change_role, set_account_enabled
from jukinet.services.security_signals import alerts
from jukinet.storage.tables import AccessLogRow, OperatorCardRow
from jukinet.web.app import create_app
from tests.support.cards import SoftAuthenticator, card_administrator, csrf_of, lend_security_key
from tests.support.clock import FixedClock
from tests.support.factories import PASSWORD, make_actor, sign_in_page

_OPTIONS = re.compile(r'<script type="application/json" id="card-options">(.*?)</script>', re.S)
_CHALLENGE = re.compile(r'name="challenge_id" value="([^"]+)"')
OFFICER = Actor(operator_id=0, username="officer", role=Role.SECURITY_OFFICER)


@pytest.fixture
def client(node: ServiceContext) -> Iterator[TestClient]:
    with TestClient(create_app(node)) as test_client:
        yield test_client


@pytest.fixture
def clerk_key(node: ServiceContext) -> SoftAuthenticator:
    make_actor(node, Role.CLERK, username="clerk1")
    return lend_security_key(node, "clerk1")


def _card_step(client: TestClient) -> tuple[dict[str, Any], str, str]:
    """Password accepted: the card page's options, challenge id and CSRF token."""
    login = client.post(
        "/login",
        data={
            "username": "clerk1",
            "password": PASSWORD,
            "csrf_token": csrf_of(client.get("/login").text),
        },
        follow_redirects=False,
    )
    assert login.status_code == 303
    page = client.get("/login/card").text
    options_match, challenge_match = _OPTIONS.search(page), _CHALLENGE.search(page)
    assert options_match
    assert challenge_match
    return json.loads(options_match[1]), challenge_match[1], csrf_of(page)


def _answer(client: TestClient, challenge_id: str, token: str, credential: str) -> Any:
    return client.post(
        "/login/card",
        data={
            "csrf_token": token,
            "challenge_id": challenge_id,
            "mode": "signin",
            "credential": credential,
        },
        follow_redirects=False,
    )


def _reasons(node: ServiceContext) -> list[str]:
    with node.session_factory() as session:
        return [r or "" for r in session.scalars(select(AccessLogRow.reason))]


def test_a_replayed_assertion_is_refused(client: TestClient, clerk_key: SoftAuthenticator) -> None:
    options, challenge_id, token = _card_step(client)
    credential = clerk_key.assertion(options, "http://testserver")
    assert _answer(client, challenge_id, token, credential).status_code == 303
    # The same answer again, in a new attempt: the challenge was used, and is refused.
    _, _, token = _card_step(client)
    replay = _answer(client, challenge_id, token, credential)
    assert replay.status_code == 401
    assert "JUKI-AUTH-030" in replay.text or "有効期限" in replay.text


def test_a_cross_origin_assertion_is_refused_and_counted(
    node: ServiceContext, client: TestClient, clerk_key: SoftAuthenticator
) -> None:
    options, challenge_id, token = _card_step(client)
    forged = clerk_key.assertion(options, "https://evil.example")
    answer = _answer(client, challenge_id, token, forged)
    assert answer.status_code == 401
    assert "操作者カードを確認できませんでした" in answer.text
    assert any(r.startswith("operator:card:refused") for r in _reasons(node))


def test_an_expired_challenge_is_refused(
    client: TestClient, clock: FixedClock, clerk_key: SoftAuthenticator
) -> None:
    options, challenge_id, token = _card_step(client)
    credential = clerk_key.assertion(options, "http://testserver")
    clock.advance(seconds=130)  # the card is shown after the challenge's two minutes
    answer = _answer(client, challenge_id, token, credential)
    # Sign-in starts again from the password; no session was opened.
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login"
    assert client.get("/", follow_redirects=False).headers["location"] == "/login"


def test_a_cloned_card_is_refused_revoked_and_logged(
    node: ServiceContext, client: TestClient, clerk_key: SoftAuthenticator
) -> None:
    options, challenge_id, token = _card_step(client)
    clerk_key.sign_count = 10
    assert (
        _answer(
            client, challenge_id, token, clerk_key.assertion(options, "http://testserver")
        ).status_code
        == 303
    )
    # A copy of the key whose counter lags behind the original's.
    clerk_key.sign_count = 3
    client.cookies.clear()
    options, challenge_id, token = _card_step(client)
    cloned = _answer(client, challenge_id, token, clerk_key.assertion(options, "http://testserver"))
    assert cloned.status_code == 401
    with node.session_factory() as session:
        card = session.scalars(
            select(OperatorCardRow).where(OperatorCardRow.serial == clerk_key.serial)
        ).one()
    assert card.status == "lost"
    assert any(r.startswith("operator:card:cloned") for r in _reasons(node))
    # ... and security staff see it at the top of the alert list.
    auditor = Actor(operator_id=0, username="kansa", role=Role.AUDITOR)
    raised = [s for s in alerts(node, actor=auditor) if s.kind is SignalKind.OPERATOR_CARD]
    assert [(s.actor, s.severity) for s in raised] == [("clerk1", Severity.ALERT)]


def test_a_forged_session_cookie_reaches_nothing(client: TestClient) -> None:
    client.cookies.set("jukinet_session", "forged.cookie.value")
    answer = client.get("/", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login"


def test_the_card_step_needs_the_forms_token(
    client: TestClient, clerk_key: SoftAuthenticator
) -> None:
    options, challenge_id, _ = _card_step(client)
    answer = _answer(
        client, challenge_id, "not-the-token", clerk_key.assertion(options, "http://testserver")
    )
    assert answer.status_code == 403


@pytest.mark.parametrize("act", ["card lost", "account disabled", "role changed"])
def test_a_running_session_ends_at_the_next_request(
    node: ServiceContext, client: TestClient, clerk_key: SoftAuthenticator, act: str
) -> None:
    assert sign_in_page(client, "clerk1").status_code == 303
    assert client.get("/", follow_redirects=False).status_code == 200
    if act == "card lost":
        report_lost(node, actor=card_administrator(), serial=clerk_key.serial, note="紛失")
    elif act == "account disabled":
        set_account_enabled(node, actor=OFFICER, username="clerk1", enabled=False, reason="異動")
    else:
        change_role(node, actor=OFFICER, username="clerk1", role=Role.AUDITOR, reason="異動")
    answer = client.get("/", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login"
    assert any(r.startswith("operator:session:ended") for r in _reasons(node))


def test_idle_and_absolute_limits(
    node: ServiceContext, client: TestClient, clock: FixedClock, clerk_key: SoftAuthenticator
) -> None:
    # A counter open around the clock, so that only the session's own limits are at work.
    set_hours(node, actor=OFFICER, hours=dict.fromkeys(range(7), ("00:00", "23:59")))
    assert sign_in_page(client, "clerk1").status_code == 303
    clock.advance(minutes=14)
    assert client.get("/", follow_redirects=False).status_code == 200
    clock.advance(minutes=16)  # 16 minutes without a request: over the 15-minute idle limit
    idle = client.get("/", follow_redirects=False)
    assert idle.headers["location"] == "/login"
    assert "一定時間操作がなかった" in client.get("/login").text
    # Busy all day: the session still ends after 8 hours.
    assert sign_in_page(client, "clerk1").status_code == 303
    for _ in range(8 * 6 + 2):
        clock.advance(minutes=10)
        last = client.get("/", follow_redirects=False)
        if last.status_code != 200:
            break
    assert last.headers["location"] == "/login"
    assert "最長時間" in client.get("/login").text


def test_an_operator_changes_their_own_password_and_signs_in_again(
    node: ServiceContext, client: TestClient, clerk_key: SoftAuthenticator
) -> None:
    assert sign_in_page(client, "clerk1").status_code == 303
    page = client.get("/account/password")
    token = csrf_of(page.text)
    wrong = client.post(
        "/account/password",
        data={
            "csrf_token": token,
            "current": "not it",
            "new": "a new password 2026",
            "new2": "a new password 2026",
        },
        follow_redirects=False,
    )
    assert wrong.status_code in (401, 422)
    assert "現在のパスワードが正しくありません" in wrong.text
    changed = client.post(
        "/account/password",
        data={
            "csrf_token": token,
            "current": PASSWORD,
            "new": "a new password 2026",
            "new2": "a new password 2026",
        },
        follow_redirects=False,
    )
    assert changed.status_code == 303
    assert changed.headers["location"] == "/login"
    assert client.get("/", follow_redirects=False).headers["location"] == "/login"
    assert sign_in_page(client, "clerk1", "a new password 2026").status_code == 303
    assert any(r.startswith("operator:account:password-changed") for r in _reasons(node))
