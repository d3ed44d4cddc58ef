"""Resident codes are need-to-know (issue 18, item 7).

Pages, JSON and CSV show codes masked; revealing one is an explicit, logged act; codes and
names never appear in URLs (links, form actions, redirects) or page titles.
"""

from __future__ import annotations

import re
from collections import deque
from html import unescape
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from jukinet.domain.codes import mask_resident_code
from jukinet.domain.operators import Role
from jukinet.services import reading, security_signals
from jukinet.services.context import ServiceContext
from jukinet.storage import access_log
from tests.integration.web.test_pages import _csrf, _login, _post, _watanabe
from tests.support.factories import api_headers, make_actor

#: What must never show in an address or a title: both spouses' names, as written and read.
NAMES = ("渡邊", "健一", "花子", "ワタナベ", "ケンイチ", "ハナコ")
_URL_ATTRIBUTE = re.compile(r'\b(href|action|src|hx-get|hx-post)="([^"]*)"')
_TITLE = re.compile(r"<title>(.*?)</title>", re.S)
#: Pages a clerk reaches from the search and the record: the counter, not the frame's extras.
_COUNTER_PATHS = ("/records/", "/events/", "/corrections")


@pytest.fixture
def household(node: ServiceContext, client: TestClient) -> dict[str, str]:
    """A clerk signed in, and the two residents of a household: code -> record reference."""
    clerk = make_actor(node, Role.CLERK, username="clerk1")
    assert _login(client, "clerk1").status_code == 303
    head = reading.read_resident(node, actor=clerk, resident_code=_watanabe(node, clerk))
    members = reading.read_household(
        node, actor=clerk, household_number=head.record.household_number
    ).members
    return {m.record.resident_code: m.record_ref for m in members}


def _secrets_in(text: str, codes: list[str]) -> list[str]:
    """The codes and names found in ``text`` (also percent-encoded or as HTML entities)."""
    plain = unquote(unescape(text))
    return [s for s in (*codes, *NAMES) if s in text or s in plain]


def _check_addresses(response: Response, codes: list[str], seen: list[str]) -> list[str]:
    """Check every address of ``response`` and its title; return the pages it links to
    (``href``: form actions are checked, not followed)."""
    where = str(response.request.url)
    assert _secrets_in(where, codes) == [], where
    for header in ("location", "hx-redirect"):
        if header in response.headers:
            assert _secrets_in(response.headers[header], codes) == [], (where, header)
            seen.append(response.headers[header])
    html = response.text
    for title in _TITLE.findall(html):
        assert _secrets_in(title, codes) == [], (where, title)
    found = [(kind, unescape(url)) for kind, url in _URL_ATTRIBUTE.findall(html)]
    for _, link in found:
        assert _secrets_in(link, codes) == [], (where, link)
    seen.extend(link for _, link in found)
    return [link for kind, link in found if kind == "href"]


def test_clerk_pages_keep_codes_and_names_out_of_addresses_and_titles(
    client: TestClient, household: dict[str, str]
) -> None:
    codes = list(household)
    seen: list[str] = []
    search = _post(client, "/search", {"name": "ワタナベ"})
    assert search.status_code == 200
    queue = deque(_check_addresses(search, codes, seen))
    visited: set[str] = set()
    pages = 0
    while queue:
        link = queue.popleft()
        path = urlsplit(link).path
        if link in visited or not path.startswith(_COUNTER_PATHS):
            continue
        visited.add(link)
        page = client.get(link, follow_redirects=False)
        assert page.status_code == 200, (link, page.status_code)
        pages += 1
        # Every page that shows a code shows it masked.
        for code in codes:
            assert code not in page.text, link
        queue.extend(_check_addresses(page, codes, seen))
    # Both records and every event form of the record page were reached.
    assert all(any(f"/records/{ref}" in v for v in visited) for ref in household.values())
    for form in ("name-change", "household-change", "death", "code-change", "move-out"):
        assert any(f"/events/{form}" in v for v in visited), form
    assert pages >= 10

    # Filing goes to the record by reference (the Location header), and the form's inputs
    # carry references, not codes.
    head_code, head_ref = next(iter(household.items()))
    record = client.get(f"/records/{head_ref}").text
    assert head_code not in record
    assert f'name="return_ref" value="{head_ref}"' in record
    number = re.search(r'name="household_number" value="(\d+)"', record)
    assert number
    moved = _post(
        client,
        "/events/move-within",
        {
            "household_number": number[1],
            "address": "東京都西東京市田無町四丁目5番6号",
            "moved_on": "R8.11.25",
            "filed_on": "R8.11.26",
            "return_ref": head_ref,
        },
    )
    assert moved.status_code == 303
    assert moved.headers["location"] == f"/records/{head_ref}?done=move_within"
    _check_addresses(moved, codes, seen)
    renamed = _post(
        client,
        "/events/name-change",
        {
            "record_ref": head_ref,
            "family_name": "佐藤",
            "given_name": "健一",
            "family_name_kana": "サトウ",
            "given_name_kana": "ケンイチ",
            "changed_on": "R8.11.26",
            "filed_on": "R8.11.26",
        },
        form_page=f"/records/{head_ref}",
    )
    assert renamed.status_code == 303
    _check_addresses(renamed, codes, seen)
    redirected = client.get(renamed.headers["location"])
    _check_addresses(redirected, codes, seen)
    # A refused filing shows the form again: still no code in it.
    refused = _post(client, "/events/name-change", {"record_ref": head_ref, "family_name": ""})
    assert refused.status_code == 422
    assert head_code not in refused.text
    _check_addresses(refused, codes, seen)
    assert len(seen) > 50  # the crawl looked at real pages, not an empty set


def test_reveal_needs_a_reason_and_shows_the_code_once(
    node: ServiceContext, client: TestClient, household: dict[str, str]
) -> None:
    code, ref = next(iter(household.items()))
    record = client.get(f"/records/{ref}").text
    assert f'action="/records/{ref}/reveal"' in record
    assert f">{mask_resident_code(code)}<" in record

    no_reason = _post(client, f"/records/{ref}/reveal", {"reason": "  "})
    assert no_reason.status_code == 422
    assert 'id="reason-error"' in no_reason.text
    assert code not in no_reason.text
    no_token = client.post(f"/records/{ref}/reveal", data={"reason": "確認"})
    assert no_token.status_code == 403
    assert code not in no_token.text
    assert _reveal_reasons(node, code) == []

    shown = _post(client, f"/records/{ref}/reveal", {"reason": "住民票の写しへの記載"})
    assert shown.status_code == 200
    assert shown.headers["cache-control"] == "no-store"
    cell = re.search(r'data-testid="resident-code">([^<]*)<', shown.text)
    assert cell
    assert cell[1].strip() == code
    _check_addresses(shown, list(household), [])
    assert _reveal_reasons(node, code) == ["code revealed: 住民票の写しへの記載"]
    # Only in that response: the record is masked again afterwards.
    assert code not in client.get(f"/records/{ref}").text
    # The language switch from the reveal goes back to the record, not to the POST action.
    switched = client.get(
        "/lang/en",
        headers={"referer": f"http://testserver/records/{ref}/reveal"},
        follow_redirects=False,
    )
    assert switched.headers["location"] == f"/records/{ref}"


def test_reveal_is_refused_for_a_role_without_the_permission(
    node: ServiceContext, client: TestClient, household: dict[str, str]
) -> None:
    code, ref = next(iter(household.items()))
    client.post("/logout", data={"csrf_token": _csrf(client)})
    make_actor(node, Role.CARD_ISSUER, username="issuer1")  # reads records, no reveal
    assert _login(client, "issuer1").status_code == 303
    record = client.get(f"/records/{ref}")
    assert record.status_code == 200
    assert "/reveal" not in record.text  # no reveal action offered
    token = _csrf(client, f"/records/{ref}")
    before = _log_size(node)

    refused = client.post(
        f"/records/{ref}/reveal", data={"reason": "確認のため", "csrf_token": token}
    )

    # Refused by the route's permission rule before anything is read.
    assert refused.status_code == 403
    assert "JUKI-AUTH-003" in refused.text
    assert "reveal_codes" in refused.text
    assert code not in refused.text
    assert _log_size(node) == before  # nothing read, nothing logged
    assert _reveal_reasons(node, code) == []


def test_api_lists_mask_codes_and_reveal_is_logged(
    node: ServiceContext, client: TestClient, household: dict[str, str]
) -> None:
    headers = api_headers(client, "clerk1")
    codes = list(household)
    posted = client.post("/api/v1/residents/search", json={"name": "渡辺"}, headers=headers)
    got = client.get("/api/v1/residents", params={"name": "渡辺"}, headers=headers)
    for listing in (posted, got):
        assert listing.status_code == 200
        body = listing.json()
        assert sorted(r["resident_code"] for r in body) == sorted(map(mask_resident_code, codes))
        assert sorted(r["record_ref"] for r in body) == sorted(household.values())
        for code in codes:
            assert code not in listing.text
    number = posted.json()[0]["household_number"]
    members = client.get(f"/api/v1/households/{number}", headers=headers)
    for code in codes:
        assert code not in members.text

    code, ref = next(iter(household.items()))
    by_ref = client.get(f"/api/v1/records/{ref}", headers=headers)
    assert by_ref.status_code == 200
    assert by_ref.json()["resident_code"] == mask_resident_code(code)
    # A lookup by code answers with the code the caller already has.
    assert client.get(f"/api/v1/residents/{code}", headers=headers).json()["resident_code"] == code

    no_reason = client.post(f"/api/v1/records/{ref}/reveal", json={"reason": " "}, headers=headers)
    assert no_reason.status_code == 422
    assert no_reason.json()["errors"][0]["code"] == "JUKI-REG-039"
    revealed = client.post(
        f"/api/v1/records/{ref}/reveal", json={"reason": "他市への回答"}, headers=headers
    )
    assert revealed.status_code == 200
    assert revealed.json() == {"record_ref": ref, "resident_code": code}
    assert _reveal_reasons(node, code) == ["code revealed: 他市への回答"]

    make_actor(node, Role.CARD_ISSUER, username="issuer1")
    refused = client.post(
        f"/api/v1/records/{ref}/reveal",
        json={"reason": "確認"},
        headers=api_headers(client, "issuer1"),
    )
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["code"] == "JUKI-AUTH-003"
    assert _reveal_reasons(node, code) == ["code revealed: 他市への回答"]


def test_alerts_csv_masks_codes(
    node: ServiceContext, client: TestClient, household: dict[str, str]
) -> None:
    code = next(iter(household))
    # Six operators read the same resident: a MANY_READERS signal names them.
    for i in range(6):
        reader = make_actor(node, Role.CLERK, username=f"reader{i}")
        reading.read_resident(node, actor=reader, resident_code=code)
    supervisor = make_actor(node, Role.SUPERVISOR, username="super1")
    signals = security_signals.alerts(node, actor=supervisor, day=node.today())
    assert any(s.subject == code for s in signals)
    text = security_signals.alerts_csv(signals)
    assert mask_resident_code(code) in text
    assert code not in text


def _log_size(node: ServiceContext) -> int:
    with node.uow() as uow:
        return access_log.log_size(uow.session)


def _reveal_reasons(node: ServiceContext, code: str) -> list[Any]:
    with node.uow() as uow:
        entries = access_log.entries_about(uow.session, code)
    return [
        e.reason
        for _, e in entries
        if e.reason and e.reason.startswith(reading.REVEAL_REASON_PREFIX)
    ]
