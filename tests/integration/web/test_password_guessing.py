"""Guessing an operator's password through the API's sign-in (brute force).

Every wrong guess gets the same 401 (JUKI-AUTH-001) whether the name exists or not; after
``signin_lockout_after`` (5) wrong passwords in a row the account locks, and from then on even
the right password gets that same answer — so guessing on cannot reveal a right guess — until a
security officer unlocks it with a reason. Every failure, the lock and the unlock are in the
access log under the account's name; an unknown name writes nothing.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from jukinet.domain.errors import PermissionDenied, ValidationError
from jukinet.domain.operators import Role
from jukinet.services.context import ServiceContext
from jukinet.services.operators import unlock_operator
from jukinet.storage.tables import AccessLogRow
from tests.support.cards import TokenCard, b64url, lend_token_card, unb64url
from tests.support.factories import PASSWORD, make_actor, node_of
from tests.support.snapshots import table_digests

GUESSES = 60


def _sign_in(client: TestClient, username: str, password: str) -> tuple[int, dict[str, Any]]:
    """The API's sign-in with the operator's own card (lent on first use) and ``password``."""
    node = node_of(client)
    card = _CARDS.get(username)
    if card is None and username != "nobody":
        card = _CARDS[username] = lend_token_card(node, username)
    challenge = client.post("/api/v1/auth/challenge").json()
    signature = (card or TokenCard("NOBODY")).sign(
        challenge["node"], unb64url(challenge["challenge"])
    )
    answer = client.post(
        "/api/v1/auth/token",
        json={
            "username": username,
            "password": password,
            "card_serial": card.serial if card else "NOBODY",
            "challenge_id": challenge["challenge_id"],
            "signature": b64url(signature),
        },
    )
    return answer.status_code, answer.json()


_CARDS: dict[str, TokenCard] = {}


@pytest.fixture(autouse=True)
def _fresh_cards() -> None:
    _CARDS.clear()


def _log(node: ServiceContext) -> list[tuple[str, str, str | None]]:
    with node.session_factory() as session:
        rows = session.scalars(select(AccessLogRow).order_by(AccessLogRow.position)).all()
        return [(r.action, r.actor, r.reason) for r in rows]


def test_password_guessing_locks_the_account_and_a_right_guess_stays_hidden(
    node: ServiceContext, client: TestClient
) -> None:
    make_actor(node, Role.SUPERVISOR, username="target")
    answers = [_sign_in(client, "target", f"guess-{i:04d}") for i in range(GUESSES)]
    # The right password after the lock: refused exactly like a wrong one.
    answers.append(_sign_in(client, "target", PASSWORD))
    assert {status for status, _ in answers} == {401}
    assert {body["errors"][0]["code"] for _, body in answers} == {"JUKI-AUTH-001"}
    log = _log(node)
    log = [entry for entry in log if entry[1] == "target" and entry[0] == "refused"]
    assert log[:5] == [("refused", "target", "operator:session:signin-failed")] * 5
    assert log[5] == ("refused", "target", "operator:account:locked: after 5 failed sign-ins")
    assert len(log) == 5 + 1 + (GUESSES - 5) + 1
    assert log[-1] == ("refused", "target", "operator:session:signin-refused-locked")


def test_unknown_names_are_refused_alike_and_leave_nothing(
    node: ServiceContext, client: TestClient
) -> None:
    before = table_digests(node, exclude={"signin_challenges"})
    answers = [_sign_in(client, "nobody", f"guess-{i:04d}") for i in range(10)]
    assert {status for status, _ in answers} == {401}
    assert {body["errors"][0]["code"] for _, body in answers} == {"JUKI-AUTH-001"}
    # Only the one-time challenges asked for were stored; nothing about the name.
    assert table_digests(node, exclude={"signin_challenges"}) == before


def test_a_security_officer_unlocks_with_a_reason(node: ServiceContext, client: TestClient) -> None:
    make_actor(node, Role.CLERK, username="target")
    officer = make_actor(node, Role.SECURITY_OFFICER, username="anzen")
    for i in range(5):
        _sign_in(client, "target", f"wrong-{i}")
    assert _sign_in(client, "target", PASSWORD)[0] == 401
    clerk = make_actor(node, Role.CLERK, username="clerk2")
    with pytest.raises(PermissionDenied):
        unlock_operator(node, actor=clerk, username="target", reason="頼まれたので")
    with pytest.raises(ValidationError):
        unlock_operator(node, actor=officer, username="target", reason="  ")
    unlock_operator(node, actor=officer, username="target", reason="本人確認の上、解除")
    status, body = _sign_in(client, "target", PASSWORD)
    assert status == 200, body
    assert ("write", "anzen", "operator:account:unlocked: target: 本人確認の上、解除") in _log(node)
    # A successful sign-in starts the count again: four more failures do not lock.
    for i in range(4):
        _sign_in(client, "target", f"wrong-again-{i}")
    assert _sign_in(client, "target", PASSWORD)[0] == 200
