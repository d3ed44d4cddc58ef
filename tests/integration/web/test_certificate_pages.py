"""Certificate pages: a clerk issues a copy as a PDF; anyone checks a copy on the public page.

On SQLite and PostgreSQL, with the IPAmj Mincho font.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from jukinet.domain.operators import Role
from jukinet.services.context import ServiceContext
from tests.support.card_counter import moved_in, nothing_changes, ref_of
from tests.support.cards import csrf_of
from tests.support.factories import make_actor, sign_in_page

FONT = Path("/usr/share/fonts/truetype/ipamj/ipamjm.ttf")
pytestmark = pytest.mark.skipif(
    not FONT.exists(), reason="IPAmj Mincho is not installed (apt-get install fonts-ipamj-mincho)"
)


@pytest.fixture
def clerk(node: ServiceContext, client: TestClient) -> TestClient:
    make_actor(node, Role.CLERK, username="clerk1")
    assert sign_in_page(client, "clerk1").status_code == 303
    return client


def _issue(client: TestClient, ref: str, **fields: str) -> Response:
    page = client.get(f"/records/{ref}/certificates")
    assert page.status_code == 200, page.text
    return client.post(
        f"/records/{ref}/certificates",
        data={"csrf_token": csrf_of(page.text), **fields},
    )


def test_clerk_issues_a_copy_and_the_public_page_checks_it(
    node: ServiceContext, clerk: TestClient
) -> None:
    code = moved_in(node)
    ref = ref_of(node, code)
    record = clerk.get(f"/records/{ref}")
    assert f"/records/{ref}/certificates" in record.text
    issued = _issue(clerk, ref, kind="resident_copy", with_relationship="1")
    assert issued.status_code == 200, issued.text
    assert issued.headers["content-type"] == "application/pdf"
    assert "attachment" in issued.headers["content-disposition"]
    pdf = issued.content

    public = TestClient(clerk.app)
    form = public.get("/certificates/verify")
    assert form.status_code == 200
    checked = public.post(
        "/certificates/verify",
        data={"csrf_token": csrf_of(form.text)},
        files={"file": ("copy.pdf", pdf, "application/pdf")},
    )
    assert checked.status_code == 200
    assert 'data-genuine="yes"' in checked.text
    assert 'data-current="yes"' in checked.text
    assert "山田" in checked.text
    # Only what is printed: the resident code was not asked for, so it is nowhere.
    assert code not in checked.text

    edited = bytearray(pdf)
    edited[len(edited) // 2] ^= 0x01
    refused = public.post(
        "/certificates/verify",
        data={"csrf_token": csrf_of(form.text)},
        files={"file": ("copy.pdf", bytes(edited), "application/pdf")},
    )
    assert 'data-genuine="no"' in refused.text
    assert "山田" not in refused.text


def test_refusals_show_the_form_again_and_change_nothing(
    node: ServiceContext, clerk: TestClient
) -> None:
    ref = ref_of(node, moved_in(node))
    with nothing_changes(node):
        removed = _issue(clerk, ref, kind="removed_copy")
        assert removed.status_code == 409
        assert "JUKI-CERT-003" in removed.text or "除票の写し" in removed.text
        unknown = _issue(clerk, ref, kind="passport")
        assert unknown.status_code == 422
        no_token = clerk.post(f"/records/{ref}/certificates", data={"kind": "resident_copy"})
        assert no_token.status_code == 403


def test_an_auditor_cannot_issue(node: ServiceContext, client: TestClient) -> None:
    ref = ref_of(node, moved_in(node))
    make_actor(node, Role.AUDITOR, username="kansa1")
    assert sign_in_page(client, "kansa1").status_code == 303
    assert client.get(f"/records/{ref}/certificates").status_code == 403


def test_the_public_check_of_nothing_or_garbage_is_a_clear_4xx(
    node: ServiceContext, client: TestClient
) -> None:
    form = client.get("/certificates/verify")
    token = csrf_of(form.text)
    empty = client.post("/certificates/verify", data={"csrf_token": token})
    assert empty.status_code == 422
    garbage = client.post(
        "/certificates/verify",
        data={"csrf_token": token},
        files={"file": ("x.pdf", b"not a pdf", "application/pdf")},
    )
    assert garbage.status_code == 422
    bad_code = client.post("/certificates/verify", data={"csrf_token": token, "code": "hello"})
    assert bad_code.status_code == 422
