"""Card services by ordinance over HTTP (a real TestClient, both databases): the service
terminal's API, the counter pages of the registry and of enrolment, and the transparency
page's section."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from jukinet.domain.operators import Role
from jukinet.network.hsm import DEFAULT_MODULE
from jukinet.services.context import ServiceContext
from jukinet.services.resident_card import counter
from jukinet.services.resident_card.inputs import CallerRelation, LossReport
from tests.support.card_services import (
    TERMINAL_REFUSAL_WRITES,
    CardHolder,
    enrolled,
    library,
    resident_with_card,
    signed_challenge,
)
from tests.support.cards import csrf_of
from tests.support.factories import make_actor, sign_in_page
from tests.support.snapshots import table_digests

pytestmark = pytest.mark.skipif(
    not Path(DEFAULT_MODULE).exists(), reason="SoftHSM2 is not installed (apt-get install softhsm2)"
)


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _use(client: TestClient, node: ServiceContext, holder: CardHolder, code: str) -> Response:
    """The whole exchange of a service terminal: challenge, PIN on the card, signature."""
    challenge = client.post(f"/api/v1/card-services/{code}/challenge")
    assert challenge.status_code == 200, challenge.text
    body = challenge.json()
    signature = signed_challenge(node, _b64url_decode(body["challenge"]), holder.serial)
    return client.post(
        f"/api/v1/card-services/{code}/authenticate",
        json={
            "serial": holder.serial,
            "challenge_id": body["challenge_id"],
            "signature": _b64url(signature),
        },
    )


def test_the_terminal_api_answers_the_service_identifier_never_the_resident_code(
    node: ServiceContext, client: TestClient, card_reader: Path
) -> None:
    library(node)
    holder = resident_with_card(node)
    identifier = enrolled(node, holder)
    answer = _use(client, node, holder, "library")
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"service_code": "library", "service_identifier": identifier}
    assert holder.resident_code not in answer.text
    assert holder.resident_code not in json.dumps(dict(answer.headers))

    page = client.get("/transparency")
    assert page.status_code == 200
    assert "カードの条例利用" in page.text
    assert "西東京市住民基本台帳カードの利用に関する条例" in page.text
    assert 'data-testid="uses-library">1<' in page.text
    assert holder.resident_code not in page.text


def _refusal(answer: Response) -> tuple[int, str]:
    assert answer.status_code < 500, answer.text
    [error] = answer.json()["errors"]
    return answer.status_code, error["code"]


def test_the_terminal_api_refuses_clearly_and_writes_no_use(
    node: ServiceContext, client: TestClient, card_reader: Path
) -> None:
    supervisor = make_actor(node, Role.SUPERVISOR)
    library(node, supervisor)
    enrolled_holder = resident_with_card(node)
    enrolled(node, enrolled_holder)
    stranger = resident_with_card(node, given="次郎")

    before = table_digests(node)
    assert _refusal(_use(client, node, stranger, "library")) == (403, "JUKI-ORD-030")
    assert _refusal(client.post("/api/v1/card-services/gym/challenge")) == (404, "JUKI-ORD-011")
    assert _refusal(client.post("/api/v1/card-services/BAD!/challenge")) == (422, "JUKI-ORD-001")
    challenge = client.post("/api/v1/card-services/library/challenge").json()
    bad_signature = client.post(
        "/api/v1/card-services/library/authenticate",
        json={"serial": enrolled_holder.serial, "challenge_id": challenge["challenge_id"],
              "signature": _b64url(bytes(64))},
    )  # fmt: skip
    assert _refusal(bad_signature) == (401, "JUKI-ORD-034")
    not_base64 = client.post(
        "/api/v1/card-services/library/authenticate",
        json={"serial": enrolled_holder.serial, "challenge_id": "x", "signature": "***"},
    )
    # Not base64 at all, and an unknown challenge: refused as a card that did not prove itself.
    assert _refusal(not_base64) == (401, "JUKI-ORD-034")
    malformed = client.post("/api/v1/card-services/library/authenticate", json={"serial": 1})
    assert malformed.status_code == 422

    counter.report_loss(
        node,
        actor=make_actor(node),
        report=LossReport(enrolled_holder.serial, "山田 太郎", CallerRelation.SELF, ("name",)),
    )
    suspended = client.post("/api/v1/card-services/library/challenge").json()
    # Whatever it signs, a suspended card is refused before its signature is even checked.
    after_loss = table_digests(node)
    answer = client.post(
        "/api/v1/card-services/library/authenticate",
        json={"serial": enrolled_holder.serial, "challenge_id": suspended["challenge_id"],
              "signature": _b64url(bytes(64))},
    )  # fmt: skip
    assert _refusal(answer) == (409, "JUKI-ORD-031")
    assert enrolled_holder.resident_code not in answer.text

    # Only the refusals' log entries, the cards' trails and the challenges changed.
    for snapshot in (before, after_loss):
        now = table_digests(node)
        changed = {t for t in now if now[t] != snapshot[t]}
        assert changed <= TERMINAL_REFUSAL_WRITES | {"outbox", "operators"}, changed
        assert now["card_service_uses"] == snapshot["card_service_uses"]
        assert now["card_service_enrolments"] == snapshot["card_service_enrolments"]


def _signed_in(client: TestClient, node: ServiceContext, role: Role, username: str) -> None:
    make_actor(node, role, username=username)
    assert sign_in_page(client, username).status_code == 303


def _post(client: TestClient, path: str, data: dict[str, Any], *, page: str) -> Response:
    token = csrf_of(client.get(page).text)
    return client.post(path, data={**data, "csrf_token": token}, follow_redirects=False)


_LIBRARY_FORM = {
    "add_code": "library",
    "add_name_ja": "図書館",
    "add_name_en": "Library",
    "add_ordinance_name": "西東京市図書館条例",
    "add_enacted_on": "令和8年4月1日",
}


def test_registry_pages_for_supervisors_only(node: ServiceContext, client: TestClient) -> None:
    _signed_in(client, node, Role.CLERK, "clerk1")
    page = client.get("/card-services")
    assert page.status_code == 200
    assert 'data-testid="add-service-form"' not in page.text
    before = table_digests(node, exclude={"operator_sessions", "signin_challenges"})
    refused = _post(client, "/card-services/add", _LIBRARY_FORM, page="/card-services")
    assert refused.status_code == 403
    assert table_digests(node, exclude={"operator_sessions", "signin_challenges"}) == before

    supervisor = TestClient(client.app)
    _signed_in(supervisor, node, Role.SUPERVISOR, "super1")
    added = _post(supervisor, "/card-services/add", _LIBRARY_FORM, page="/card-services")
    assert added.status_code == 303, added.text[:2000]
    assert added.headers["location"] == "/card-services?done=added"
    listed = supervisor.get("/card-services?done=added").text
    assert 'data-service="library" data-active="yes"' in listed
    assert "サービスを追加しました" in listed

    before = table_digests(node, exclude={"operator_sessions", "signin_challenges"})
    twice = _post(supervisor, "/card-services/add", _LIBRARY_FORM, page="/card-services")
    assert twice.status_code == 409
    assert "既に登録されています" in twice.text
    empty = _post(supervisor, "/card-services/add", {"add_code": "gym"}, page="/card-services")
    assert empty.status_code == 422
    assert table_digests(node, exclude={"operator_sessions", "signin_challenges"}) == before

    ended = _post(
        supervisor, "/card-services/deactivate", {"deactivate_code": "library"},
        page="/card-services",
    )  # fmt: skip
    assert ended.headers["location"] == "/card-services?done=deactivated"
    assert 'data-service="library" data-active="no"' in supervisor.get("/card-services").text


def test_enrolment_pages(node: ServiceContext, client: TestClient, card_reader: Path) -> None:
    library(node)
    holder = resident_with_card(node)
    without = resident_with_card(node, issue=False, given="次郎")
    _signed_in(client, node, Role.CLERK, "clerk2")
    page = "/card-services/enrolments"
    assert client.get(page).status_code == 200

    shown = _post(client, page, {"resident_code": holder.resident_code}, page=page)
    assert shown.status_code == 200
    assert "利用登録はありません" in shown.text
    done = _post(
        client, page + "/enrol",
        {"resident_code": holder.resident_code, "enrol_service": "library"}, page=page,
    )  # fmt: skip
    assert done.status_code == 200, done.text[:2000]
    assert "利用登録しました" in done.text
    assert 'data-service="library" data-state="enrolled"' in done.text

    before = table_digests(node, exclude={"operator_sessions", "signin_challenges"})
    refused = _post(
        client, page + "/enrol",
        {"resident_code": without.resident_code, "enrol_service": "library"}, page=page,
    )  # fmt: skip
    assert refused.status_code == 409
    assert "有効な住基カード" in refused.text
    unknown = _post(client, page, {"resident_code": "12345678901"}, page=page)
    assert unknown.status_code == 404
    assert table_digests(node, exclude={"operator_sessions", "signin_challenges"}) == before

    gone = _post(
        client, page + "/withdraw",
        {"resident_code": holder.resident_code, "withdraw_service": "library"}, page=page,
    )  # fmt: skip
    assert gone.status_code == 200
    assert 'data-service="library" data-state="withdrawn"' in gone.text
    # The resident code never goes into an address.
    assert holder.resident_code not in str(gone.url)
