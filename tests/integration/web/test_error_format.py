"""Every error in the JUKI format (issue 11, finding 12): HTTP-level refusals and faults too."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from jukinet.services.context import ServiceContext
from jukinet.web.app import create_app

BROWSER = {"Accept": "text/html,application/xhtml+xml"}


@pytest.fixture
def faulty(node: ServiceContext) -> Iterator[TestClient]:
    """The node's app with one route that fails as a bug would."""
    app = create_app(node)

    @app.get("/api/v1/broken")
    def broken() -> None:
        raise RuntimeError("山田太郎 1950-01-02")  # what a careless message could carry

    @app.get("/broken-page")
    def broken_page() -> None:
        raise RuntimeError("山田太郎 1950-01-02")

    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def _codes(response: httpx.Response) -> list[str]:
    return [error["code"] for error in response.json()["errors"]]


def test_unknown_paths_and_wrong_methods_answer_in_the_juki_format(client: TestClient) -> None:
    missing = client.get("/api/v1/no-such-thing")
    assert (missing.status_code, _codes(missing)) == (404, ["JUKI-HTTP-404"])
    assert missing.json()["errors"][0]["message_ja"]
    wrong = client.delete("/api/v1/events/birth")
    assert (wrong.status_code, _codes(wrong)) == (405, ["JUKI-HTTP-405"])
    assert "allow" in {k.lower() for k in wrong.headers}


def test_a_browser_gets_the_error_as_a_page(client: TestClient) -> None:
    page = client.get("/no-such-page", headers=BROWSER)
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "指定のページまたはAPIはありません。" in page.text
    # The API stays JSON even for a client that prefers HTML.
    api = client.get("/api/v1/no-such-thing", headers=BROWSER)
    assert _codes(api) == ["JUKI-HTTP-404"]


def test_a_browser_without_a_session_is_still_sent_to_sign_in(client: TestClient) -> None:
    # Redirects travel as HTTP exceptions too: they must stay redirects, not become error pages.
    answer = client.get("/", headers=BROWSER, follow_redirects=False)
    assert answer.status_code in (302, 303, 307)
    assert answer.headers["location"].endswith("/login")


def test_an_unparsable_form_is_a_juki_error_not_a_framework_default(client: TestClient) -> None:
    broken = client.post(
        "/login",
        content=b'--x\r\nContent-Disposition: form-data; name="username\r\n\r\n',
        headers={**BROWSER, "Content-Type": "multipart/form-data; boundary=x"},
    )
    assert 400 <= broken.status_code < 500
    assert "detail" not in broken.text
    assert broken.headers["content-type"].startswith("text/html")


def test_a_fault_is_a_500_in_the_juki_format_without_the_data(faulty: TestClient) -> None:
    api = faulty.get("/api/v1/broken")
    assert (api.status_code, _codes(api)) == (500, ["JUKI-API-500"])
    assert "山田" not in api.text
    page = faulty.get("/broken-page", headers=BROWSER)
    assert page.status_code == 500
    assert "nothing was applied" in page.text
    assert "山田" not in page.text
    assert "Internal Server Error" not in page.text
