"""The resident portal's pages on one municipality, both databases, real SoftHSM card tokens:
sign-in with the card's one-time code, wrong PIN and bad codes refused with nothing stored, a
card suspended at the counter ends the session on the next request, nothing of another
resident is reachable, requests reach the counter's queue and their outcome comes back, and a
loss report from the portal suspends the card and signs the resident out.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from jukinet.domain.access_log import AccessEntry, Action, ActorKind, Channel
from jukinet.domain.errors import AuthenticationFailed
from jukinet.domain.operators import Role
from jukinet.network.hsm import DEFAULT_MODULE
from jukinet.network.portal_card import sign_in_code
from jukinet.services.context import ServiceContext
from jukinet.services.resident_card import counter
from jukinet.services.resident_card.inputs import CallerRelation, LossReport
from jukinet.storage.access_log import append_entries
from jukinet.storage.card_tables import ResidentCardRow
from jukinet.storage.portal_tables import PortalCodeRow, PortalSessionRow, PortalTaskRow
from jukinet.web.app import create_app
from jukinet.web.portal import create_portal_app
from tests.support.factories import make_actor, sign_in_page
from tests.support.portal import PIN, issue_card

pytestmark = pytest.mark.skipif(
    not Path(DEFAULT_MODULE).exists(), reason="SoftHSM2 is not installed (apt-get install softhsm2)"
)

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def portal(node: ServiceContext) -> Iterator[TestClient]:
    """A browser on the municipality's portal."""
    with TestClient(create_portal_app(node), follow_redirects=False) as client:
        yield client


def _count(node: ServiceContext, table: type) -> int:
    with node.session_factory() as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


def _sign_in(portal: TestClient, serial: str) -> None:
    code = sign_in_code("http://testserver", serial=serial, pin=PIN, http=portal)
    answer = portal.post("/sign-in", data={"code": code})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/me"
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "samesite=strict" in cookie.lower()


def test_sign_in_with_the_card_shows_my_information(
    node: ServiceContext, portal: TestClient, card_reader: Path
) -> None:
    code, serial = issue_card(node, family="山田", given="太郎")
    other_code, _other = issue_card(node, family="佐藤", given="花子")
    assert portal.get("/me").status_code == 303  # not signed in yet
    _sign_in(portal, serial)
    page = portal.get("/me")
    assert page.status_code == 200
    html = page.text
    assert "山田" in html
    assert "佐藤" not in html
    assert other_code not in html
    # The resident code is shown nowhere in the page, nor in any URL.
    assert code not in html
    assert page.headers["cache-control"] == "no-store"
    # Off the network the upper tiers say why they are missing; the town's own entries verify.
    assert "data-leaf=" in html
    assert "✓" in html
    csv = portal.get("/me/disclosure.csv")
    assert csv.status_code == 200
    assert csv.headers["content-type"].startswith("text/csv")
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("tier,recorded_at")
    assert len(lines) > 2
    assert all(line.endswith(",yes") for line in lines[1:])
    pdf = portal.get("/me/disclosure.pdf")
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")


def test_another_municipalitys_wide_area_lookup_is_named_as_people_call_it(
    node: ServiceContext, portal: TestClient, card_reader: Path
) -> None:
    """The town's own entry for answering Yokohama's 広域交付 request is the resident's record
    of Yokohama's look-up: shown with Yokohama by name, not its network name."""
    code, serial = issue_card(node, family="山田", given="太郎")
    with node.uow() as uow:
        append_entries(
            uow.session,
            [
                AccessEntry(
                    recorded_at=node.now(),
                    node=str(node.node_id),
                    action=Action.READ,
                    channel=Channel.NETWORK,
                    actor_kind=ActorKind.NODE,
                    actor="municipality:141003",
                    subject=code,
                    affair_code="広域交付",
                    reason="wide-area:answered for municipality:141003",
                    items=("name",),
                )
            ],
        )
        uow.commit()
    _sign_in(portal, serial)
    html = portal.get("/me").text
    assert "神奈川県横浜市" in html
    assert ">municipality:141003<" not in html
    assert "住民基本台帳法第12条の4" in html  # the affair with its statute
    csv = portal.get("/me/disclosure.csv").content.decode("utf-8-sig")
    assert "神奈川県横浜市" in csv


def test_wrong_pin_and_bad_codes_store_nothing(
    node: ServiceContext, portal: TestClient, card_reader: Path
) -> None:
    _code, serial = issue_card(node)
    with pytest.raises(AuthenticationFailed) as refused:
        sign_in_code("http://testserver", serial=serial, pin="0000", http=portal)
    assert refused.value.code == "JUKI-CARD-030"
    assert _count(node, PortalCodeRow) == 0
    for bad in ("", "ABCDE-FGHJK", "x" * 30):
        answer = portal.post("/sign-in", data={"code": bad})
        assert answer.status_code in (401, 422)
    assert "JUKI-PORTAL-002" in portal.post("/sign-in", data={"code": "ABCDE-FGHJK"}).text
    assert _count(node, PortalSessionRow) == 0
    # A forged signature gets no code either.
    challenge = portal.post("/api/v1/portal/challenge").json()
    forged = portal.post(
        "/api/v1/portal/code",
        json={"serial": serial, "challenge_id": challenge["challenge_id"], "signature": "AAAA"},
    )
    assert forged.status_code == 401
    assert forged.json()["errors"][0]["code"] == "JUKI-CARD-036"
    # Malformed card answers get the same error shape, never a 500.
    for body in ({}, {"serial": "x" * 50}, [1, 2]):
        malformed = portal.post("/api/v1/portal/code", json=body)
        assert malformed.status_code == 422
        assert malformed.json()["errors"][0]["code"].startswith("JUKI-")
    assert _count(node, PortalCodeRow) == 0
    # A code is spent once used.
    code = sign_in_code("http://testserver", serial=serial, pin=PIN, http=portal)
    assert portal.post("/sign-in", data={"code": code}).status_code == 303
    assert portal.post("/sign-in", data={"code": code}).status_code == 401
    assert _count(node, PortalSessionRow) == 1


def test_a_card_suspended_at_the_counter_ends_the_session(
    node: ServiceContext, portal: TestClient, card_reader: Path
) -> None:
    _code, serial = issue_card(node)
    _sign_in(portal, serial)
    assert portal.get("/me/requests").status_code == 200
    counter.report_loss(
        node,
        actor=make_actor(node),
        report=LossReport(serial, "山田 太郎", CallerRelation.SELF, ("name", "phone")),
    )
    answer = portal.get("/me/requests")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/?ended=card_stopped"
    with node.session_factory() as session:
        row = session.scalars(select(PortalSessionRow)).one()
        assert row.ended_reason == "card_stopped"
    assert "カードが一時停止" in portal.get("/?ended=card_stopped").text


def test_requests_reach_the_counter_and_the_outcome_comes_back(
    node: ServiceContext, portal: TestClient, card_reader: Path
) -> None:
    _code, serial = issue_card(node)
    _other_code, other_serial = issue_card(node, family="佐藤", given="花子")
    _sign_in(portal, serial)
    page = portal.get("/me/requests")
    token = _CSRF.search(page.text)
    assert token is not None
    # Opt-out is not offered where the town does not allow it, and refused if posted.
    assert 'value="opt_out"' not in page.text
    refused = portal.post("/me/requests", data={"kind": "opt_out", "csrf_token": token.group(1)})
    assert refused.status_code == 409
    assert portal.post("/me/requests", data={"kind": "code_change"}).status_code == 403
    assert _count(node, PortalTaskRow) == 0
    filed = portal.post(
        "/me/requests",
        data={"kind": "code_change", "note": "番号が漏れた", "csrf_token": token.group(1)},
    )
    assert filed.status_code == 303
    again = portal.post("/me/requests", data={"kind": "code_change", "csrf_token": token.group(1)})
    assert again.status_code == 409
    assert _count(node, PortalTaskRow) == 1
    # Another resident sees none of it.
    with TestClient(create_portal_app(node), follow_redirects=False) as other:
        _sign_in(other, other_serial)
        assert "番号が漏れた" not in other.get("/me/requests").text
    # The counter's queue lists it; the clerk records the outcome; the resident sees it.
    make_actor(node, Role.CLERK, username="clerk1")
    with TestClient(create_app(node)) as operator:
        sign_in_page(operator, "clerk1")
        queue = operator.get("/portal-requests")
        assert queue.status_code == 200
        assert "番号が漏れた" in queue.text
        with node.session_factory() as session:
            task_id = session.scalar(select(PortalTaskRow.id))
        csrf = _CSRF.search(queue.text)
        assert csrf is not None
        decided = operator.post(
            "/portal-requests/decide",
            data={
                "csrf_token": csrf.group(1),
                "task_id": str(task_id),
                "status": "done",
                "outcome": "新しいコードを通知しました",
            },
            follow_redirects=False,
        )
        assert decided.status_code == 303, decided.text[-800:]
    mine = portal.get("/me/requests").text
    assert "新しいコードを通知しました" in mine
    assert "完了" in mine


def test_loss_report_from_the_portal_suspends_and_signs_out(
    node: ServiceContext, portal: TestClient, card_reader: Path
) -> None:
    _code, serial = issue_card(node)
    _sign_in(portal, serial)
    token = _CSRF.search(portal.get("/me/requests").text)
    assert token is not None
    answer = portal.post("/me/requests", data={"kind": "card_loss", "csrf_token": token.group(1)})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/?ended=card_lost"
    with node.session_factory() as session:
        card = session.scalars(select(ResidentCardRow).where(ResidentCardRow.serial == serial))
        assert card.one().state == "suspended"
        assert session.scalars(select(PortalSessionRow)).one().ended_reason == "card_lost"
    portal.cookies.clear()
    assert portal.get("/me").status_code == 303
    with pytest.raises(Exception) as refused:  # noqa: PT011 - the code is what is checked
        sign_in_code("http://testserver", serial=serial, pin=PIN, http=portal)
    assert getattr(refused.value, "code", None) == "JUKI-CARD-011"


def test_english_and_no_open_redirect(node: ServiceContext, portal: TestClient) -> None:
    switched = portal.get("/lang/en?back=/me")
    assert switched.status_code == 303
    assert switched.headers["location"] == "/me"
    assert portal.get("/lang/en?back=https://evil.example/").headers["location"] == "/"
    page = portal.get("/")
    assert page.status_code == 200
    assert '<html lang="en">' in page.text
    assert "Sign in with your resident card" in page.text
    assert page.headers["x-frame-options"] == "DENY"
