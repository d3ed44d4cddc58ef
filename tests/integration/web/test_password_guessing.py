"""Guessing an operator's password through the API's sign-in (brute force).

What the node does today, measured: every wrong guess gets the same 401 (JUKI-AUTH-001) whether
the name exists or not, a guess never succeeds, and a refused sign-in writes nothing. There is
no throttling and no lockout: THREAT_MODEL.md lists rate limiting of sign-in attempts as out of
scope at this stage, and this test pins that down so the gap is visible (see
docs/reliability/faults.md). The only brake is argon2id's cost per guess (about 240 ms of a
core with the production parameters; the tests use cheap ones).
"""

from __future__ import annotations

from fastapi.testclient import TestClient

from jukinet.domain.operators import Role
from jukinet.services.context import ServiceContext
from tests.support.factories import PASSWORD, make_actor
from tests.support.snapshots import table_digests

GUESSES = 60


def _sign_in(client: TestClient, username: str, password: str) -> tuple[int, dict[str, object]]:
    answer = client.post("/api/v1/auth/token", json={"username": username, "password": password})
    return answer.status_code, answer.json()


def test_password_guessing_is_refused_uniformly_but_not_throttled(
    node: ServiceContext, client: TestClient
) -> None:
    make_actor(node, Role.SUPERVISOR, username="target")
    before = table_digests(node)
    answers = [_sign_in(client, "target", f"guess-{i:04d}") for i in range(GUESSES)]
    answers += [_sign_in(client, "nobody", f"guess-{i:04d}") for i in range(10)]
    statuses = {status for status, _body in answers}
    codes = {body["errors"][0]["code"] for _status, body in answers}  # type: ignore[index]
    # Every guess refused, with one answer that does not tell a known name from an unknown one.
    assert statuses == {401}
    assert codes == {"JUKI-AUTH-001"}
    # A refused sign-in leaves storage unchanged (nothing recorded either: no attempt counter).
    assert table_digests(node) == before
    # No throttling (no 429) and no lockout: the right password still works at once.
    status, body = _sign_in(client, "target", PASSWORD)
    assert status == 200
    assert body["token_type"].lower() == "bearer"  # type: ignore[union-attr]
