"""The disclosure page, its JSON download and the API (本人確認情報の提供状況の開示).

A clerk handles a resident's request: the page lists the write and the reads of the record with
date, method, reason, source, recipient and items; the download and the API answer verify
against the signed tree head and fail once an entry is edited; security officers are refused;
a bad code is a 4xx with its message; the resident code is never put in a URL.
"""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select

from jukinet.domain.access_log import AccessEntry, Action, ActorKind, Channel
from jukinet.domain.codes import mask_resident_code
from jukinet.domain.operators import Role
from jukinet.services import audit
from jukinet.services.context import ServiceContext
from jukinet.storage.access_log import append_entries
from jukinet.storage.tables import AccessLogRow
from tests.support.factories import (
    api_headers,
    make_actor,
    move_in_household,
    person,
    sign_in_page,
)

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class _Links(HTMLParser):
    """Every URL a page links to or submits to: href, action, src, formaction."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("href", "action", "src", "formaction") and value is not None:
                self.urls.append(value)


def _urls(html: str) -> list[str]:
    parser = _Links()
    parser.feed(html)
    return parser.urls


def _csrf(client: TestClient, path: str = "/disclosure") -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    match = _CSRF.search(page.text)
    assert match, "the page has no anti-forgery token"
    return match[1]


def _login(client: TestClient, username: str) -> None:
    response = sign_in_page(client, username)
    assert response.status_code == 303, response.text


def _post(client: TestClient, path: str, code: str, token: str | None = None) -> Response:
    response: Response = client.post(
        path,
        data={"resident_code": code, "csrf_token": token or _csrf(client)},
        follow_redirects=False,
    )
    return response


def _rows(html: str) -> list[tuple[str, str]]:
    """``(position, action)`` of every row of the entries table."""
    return re.findall(r'<tr data-position="(\d+)" data-action="(\w+)">', html)


@pytest.fixture
def resident(node: ServiceContext, client: TestClient) -> str:
    """A clerk (signed in to the pages) moves a resident in and opens the record."""
    clerk = make_actor(node, Role.CLERK, username="clerk1")
    result = move_in_household(node, clerk, person())
    code = result.records[0].record.resident_code
    _login(client, "clerk1")
    assert client.get(f"/records/{result.records[0].record_ref}").status_code == 200
    return code


def test_form_needs_sign_in_and_notes_the_identity_check(
    node: ServiceContext, client: TestClient
) -> None:
    assert client.get("/disclosure", follow_redirects=False).status_code == 303
    make_actor(node, Role.CLERK, username="clerk1")
    _login(client, "clerk1")
    page = client.get("/disclosure")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert "本人確認情報の提供状況の開示" in page.text
    assert "本人確認書類" in page.text  # the note: the resident shows an identity document
    assert 'action="/disclosure"' in page.text
    assert 'method="post"' in page.text


def test_clerk_discloses_the_write_and_the_reads(
    node: ServiceContext, client: TestClient, resident: str
) -> None:
    page = _post(client, "/disclosure", resident)

    assert page.status_code == 200, page.text
    assert page.headers["cache-control"] == "no-store"
    html = page.text
    actions = [action for _, action in _rows(html)]
    assert actions[0] == "write"  # the move-in
    assert actions.count("read") >= 2  # the record page's reads, and this disclosure
    assert "記載・更新" in html
    assert "提供（参照）" in html
    assert "転入" in html  # the write's reason
    assert "窓口端末" in html  # the method
    assert "窓口業務" in html  # the reads' reason
    assert "本人確認情報の提供状況の開示請求" in html  # the disclosure's own reason
    assert "職員 (operator)" in html
    assert "<code>clerk1</code>" in html
    assert f"<code>{node.node_id}</code>" in html  # the source
    assert "住民票" in html
    assert "提供状況（アクセスログ）" in html
    assert "令和8年11月26日" in html
    assert "12:00:00" in html
    assert mask_resident_code(resident) in html
    assert "署名付きツリーヘッド" in html
    size = re.search(r'data-testid="tree-size">(\d+)<', html)
    assert size
    # The tree covers the whole log: this resident's entries and the operators' own events.
    with node.session_factory() as session:
        logged = session.scalar(select(func.count()).select_from(AccessLogRow))
    assert int(size[1]) == logged
    assert logged > len(actions)
    assert re.search(r'data-testid="root-hash">[0-9a-f]{64}<', html)
    assert 'action="/disclosure.json"' in html

    client.cookies.set("lang", "en")
    english = _post(client, "/disclosure", resident)
    assert english.status_code == 200
    assert "Counter terminal" in english.text
    assert "Staff (operator)" in english.text
    assert "Move-in" in english.text
    assert "26 Nov 2026 (Reiwa 8)" in english.text
    assert len(_rows(english.text)) == len(actions) + 1  # the first disclosure is listed too


def _provided(node: ServiceContext, code: str, affair_code: str, recipient: str) -> AccessEntry:
    return AccessEntry(
        recorded_at=node.now(),
        node=str(node.node_id),
        action=Action.READ,
        channel=Channel.AGENCY_API,
        actor_kind=ActorKind.RECIPIENT,
        actor=recipient,
        subject=code,
        affair_code=affair_code,
        reason="銀行法",
        items=("name", "birth_date", "resident_code"),
        officer="担当 一郎",
        case_number="R8-0042",
    )


def test_provision_to_a_recipient_names_the_affair_and_items(
    node: ServiceContext, client: TestClient, resident: str
) -> None:
    with node.uow() as uow:
        append_entries(
            uow.session,
            [
                _provided(node, resident, "T1-1-2", "fsa-bank-01"),
                _provided(node, resident, "T9-99", "gone-agency"),  # no table lists it
            ],
        )
        uow.commit()

    html = _post(client, "/disclosure", resident).text

    rows = re.findall(r'<tr data-position="\d+" data-action="read">(.*?)</tr>', html, re.S)
    bank = next(row for row in rows if "fsa-bank-01" in row)
    assert "機関照会（オンライン）" in bank  # the method
    assert '<span class="code">T1-1-2</span><br>銀行法' in bank  # the affair and its law
    assert "提供先機関" in bank  # the recipient's kind
    assert "氏名、生年月日、住民票コード" in bank  # the items, by name
    assert "R8-0042" in bank  # the recipient's case number
    assert "担当 一郎" not in bank  # the officer's name stays in the JSON
    unknown = next(row for row in rows if "gone-agency" in row)
    assert '<span class="code">T9-99</span></td>' in unknown


def test_resident_code_is_in_no_url(
    node: ServiceContext, client: TestClient, resident: str
) -> None:
    pages = [client.get("/disclosure").text, _post(client, "/disclosure", resident).text]
    failed = _post(client, "/disclosure", resident[:-1] + str((int(resident[-1]) + 1) % 10))
    pages.append(failed.text)
    for html in pages:
        urls = _urls(html)
        assert "/disclosure" in urls
        for url in urls:
            assert resident not in url, url
            assert "?" not in url, url  # no query strings at all
    # The full code travels only in the download form's body.
    assert f'name="resident_code" value="{resident}"' in pages[1]


def test_download_verifies_and_fails_when_edited(
    node: ServiceContext, client: TestClient, resident: str
) -> None:
    response = _post(client, "/disclosure.json", resident)

    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert f'filename="disclosure-xxxxxxx{resident[-4:]}.json"' in disposition
    assert resident not in disposition
    assert response.headers["cache-control"] == "no-store"
    document = response.json()
    assert document["format"] == audit.DISCLOSURE_FORMAT
    assert document["resident_code"] == resident
    assert next(e["entry"]["action"] for e in document["entries"]) == "write"
    assert document["entries"][-1]["entry"]["items"] == ["access_log"]
    key = document["signer_public_key"].encode()

    check = audit.check_disclosure(document, public_key_pem=key)
    assert check.ok, check.problems
    assert check.entries == len(document["entries"])

    edited = copy.deepcopy(document)
    edited["entries"][0]["entry"]["actor"] = "someone_else"
    assert not audit.check_disclosure(edited, public_key_pem=key).ok
    dropped_item = copy.deepcopy(document)
    dropped_item["entries"][1]["entry"]["items"] = []
    assert not audit.check_disclosure(dropped_item, public_key_pem=key).ok


def test_api_returns_the_same_document(
    node: ServiceContext, client: TestClient, resident: str
) -> None:
    headers = api_headers(client, "clerk1")
    downloaded = _post(client, "/disclosure.json", resident).json()

    response = client.get(f"/api/v1/residents/{resident}/disclosure", headers=headers)

    assert response.status_code == 200, response.text
    document = response.json()
    assert set(document) == set(downloaded)
    assert document["resident_code"] == resident
    assert document["signer_public_key"] == downloaded["signer_public_key"]
    # The API's own disclosure is one more entry; everything before it is the same.
    assert [e["entry"] for e in document["entries"][: len(downloaded["entries"])]] == [
        e["entry"] for e in downloaded["entries"]
    ]
    assert len(document["entries"]) == len(downloaded["entries"]) + 1
    assert document["entries"][-1]["entry"]["items"] == ["access_log"]
    key = document["signer_public_key"].encode()
    assert audit.check_disclosure(document, public_key_pem=key).ok
    edited = copy.deepcopy(document)
    edited["entries"][0]["entry"]["recorded_at"] = "2020-01-01T00:00:00.000000+00:00"
    assert not audit.check_disclosure(edited, public_key_pem=key).ok
    # A document written like the CLI's still round-trips through JSON text.
    assert audit.check_disclosure(json.loads(json.dumps(document)), public_key_pem=key).ok
    schema = client.get("/openapi.json").json()
    assert "/api/v1/residents/{resident_code}/disclosure" in schema["paths"]


def test_security_officer_is_refused(node: ServiceContext, client: TestClient) -> None:
    clerk = make_actor(node, Role.CLERK, username="clerk1")
    code = move_in_household(node, clerk, person()).records[0].record.resident_code
    make_actor(node, Role.SECURITY_OFFICER, username="sec1")
    token = _csrf(client, "/login")
    _login(client, "sec1")

    page = client.get("/disclosure")
    assert page.status_code == 403
    assert "この操作を行う権限がありません。" in page.text
    # The page carries a token for the sign-out form; the posts are refused all the same.
    match = _CSRF.search(page.text)
    token = match[1] if match else token
    for path in ("/disclosure", "/disclosure.json"):
        refused = _post(client, path, code, token)
        assert refused.status_code == 403, path
        assert code not in refused.text
    api = client.get(f"/api/v1/residents/{code}/disclosure", headers=api_headers(client, "sec1"))
    assert api.status_code == 403
    assert api.json()["errors"][0]["code"] == "JUKI-AUTH-003"


@pytest.mark.parametrize("path", ["/disclosure", "/disclosure.json"])
def test_bad_code_shows_the_message_on_the_form(
    node: ServiceContext, client: TestClient, resident: str, path: str
) -> None:
    wrong_digit = resident[:-1] + str((int(resident[-1]) + 1) % 10)
    bad = _post(client, path, wrong_digit)
    assert bad.status_code == 422
    assert "text/html" in bad.headers["content-type"]
    assert "住民票コードの検査数字が正しくありません。" in bad.text
    assert 'data-error-for="resident_code"' in bad.text
    assert 'data-testid="disclosure-result"' not in bad.text

    short = _post(client, path, "12345")
    assert short.status_code == 422
    assert "住民票コードは11桁の数字でなければなりません。" in short.text

    empty = _post(client, path, "  ")
    assert empty.status_code == 422
    assert "入力してください。" in empty.text

    client.cookies.set("lang", "en")
    english = _post(client, path, "abc")
    assert english.status_code == 422
    assert "a resident code must be exactly 11 digits" in english.text

    forged = client.post(path, data={"resident_code": resident, "csrf_token": "forged"})
    assert forged.status_code == 403


def test_api_bad_codes_are_4xx(client: TestClient, clerk_headers: dict[str, str]) -> None:
    short = client.get("/api/v1/residents/12345/disclosure", headers=clerk_headers)
    assert short.status_code == 422
    error = short.json()["errors"][0]
    assert error["code"] == "JUKI-CODE-001"
    assert error["message_ja"]
    assert error["message_en"]
    too_long = client.get(f"/api/v1/residents/{'1' * 21}/disclosure", headers=clerk_headers)
    assert too_long.status_code == 422
    anonymous = client.get("/api/v1/residents/12345678901/disclosure")
    assert anonymous.status_code == 401


def test_the_pages_check_instructions_work_as_written(
    node: ServiceContext, client: TestClient, resident: str, tmp_path: Path
) -> None:
    # Issue 17, item 12: the key the page names is published (page, file, API), and the
    # command on the page, run as written beside the two downloaded files, checks the proof.
    page = _post(client, "/disclosure", resident)
    assert page.status_code == 200, page.text
    command_match = re.search(r'data-testid="check-command">(.*?)</code>', page.text)
    assert command_match
    command = unescape(command_match[1])
    link = re.search(r'href="([^"]+)" download="([^"]+)" data-testid="public-key-link"', page.text)
    assert link
    document = _post(client, "/disclosure.json", resident)
    name = re.search(r'filename="([^"]+)"', document.headers["content-disposition"])
    assert name
    (tmp_path / name[1]).write_bytes(document.content)
    key = client.get(link[1])
    assert key.status_code == 200
    assert key.headers["content-disposition"] == f'attachment; filename="{link[2]}"'
    (tmp_path / link[2]).write_bytes(key.content)

    ran = subprocess.run(
        ["/bin/bash", "-c", command],
        cwd=tmp_path,
        env={"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert ran.returncode == 0, f"{command}\n{ran.stdout}\n{ran.stderr}"
    assert "OK" in ran.stdout

    published = audit.published_key(node)
    assert published is not None
    assert key.text == published.public_key_pem
    api = client.get("/api/v1/log-public-key").json()
    assert api["public_key_pem"] == published.public_key_pem
    assert api["fingerprint_sha256"] == published.fingerprint
    assert published.fingerprint in client.get("/transparency").text
    assert published.fingerprint in page.text  # the fingerprint the page asks to compare
