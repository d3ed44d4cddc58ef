"""The public transparency report: a page anyone can read, with SVG charts and their tables, and
the same figures as JSON, CSV and over the API; the period is validated (422, never 500)."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from jukinet.domain.access_log import AccessEntry, Action, ActorKind, Channel
from jukinet.domain.operators import Role
from jukinet.services.context import ServiceContext
from jukinet.services.transparency import CSV_COLUMNS, to_csv, to_json, transparency_stats
from jukinet.storage.access_log import append_entries
from jukinet.storage.tables import BatchJobRow, RecipientRow
from tests.support.factories import make_actor, sign_in_page

RECIPIENT = "agency:soumu-onkyu"
RECIPIENT_NAME = "総務省（恩給）"
RESIDENT_CODE = "18429637052"
OFFICER = "照会官 佐藤花子"
CASE = "CASE-2026-000123"
OPERATOR = "clerk-tanaka"
PUBLIC_PATHS = ("/transparency", "/transparency/stats.json", "/transparency/stats.csv")
API_PATH = "/api/v1/transparency/stats"


def _entry(
    at: datetime, action: Action, kind: ActorKind, actor: str, channel: Channel
) -> AccessEntry:
    return AccessEntry(
        recorded_at=at,
        node="municipality:132292",
        action=action,
        channel=channel,
        actor_kind=kind,
        actor=actor,
        subject=RESIDENT_CODE,
        affair_code="T1-16" if kind is ActorKind.RECIPIENT else None,
        reason="住所確認",
        officer=OFFICER if kind is ActorKind.RECIPIENT else None,
        case_number=CASE if kind is ActorKind.RECIPIENT else None,
    )


@pytest.fixture
def seeded(node: ServiceContext) -> ServiceContext:
    """Five records provided in November (JST), one refusal, two counter reads, one batch job."""
    november = datetime(2026, 11, 10, 1, tzinfo=UTC)
    recipient = (ActorKind.RECIPIENT, RECIPIENT, Channel.AGENCY_API)
    entries = [_entry(november + timedelta(minutes=i), Action.READ, *recipient) for i in range(5)]
    entries.append(_entry(november, Action.REFUSED, *recipient))
    counter = (ActorKind.OPERATOR, OPERATOR, Channel.COUNTER)
    entries += [_entry(november, Action.READ, *counter) for _ in range(2)]
    with node.uow() as uow:
        uow.session.add(
            RecipientRow(id=RECIPIENT, name=RECIPIENT_NAME, kind="national", registered_at=november)
        )
        uow.session.add(
            BatchJobRow(
                id="job-1",
                recipient_id=RECIPIENT,
                affair_code="T1-16",
                officer=OFFICER,
                case_number=CASE,
                query_kind="codes",
                status="done",
                total_rows=250,
                processed_rows=250,
                found_rows=240,
                error_rows=10,
                chunks=1,
                done_chunks=1,
                created_at=november,
            )
        )
        uow.session.flush()
        append_entries(uow.session, entries)
        uow.commit()
    return node


def _no_personal_data(text: str) -> None:
    for secret in (RESIDENT_CODE, OFFICER, CASE, OPERATOR, "住所確認"):
        assert secret not in text, secret


def test_the_page_is_public_with_charts_and_tables(
    seeded: ServiceContext, client: TestClient
) -> None:
    response = client.get("/transparency", follow_redirects=False)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert '<html lang="ja">' in html
    assert "<h1>本人確認情報の提供状況</h1>" in html
    # Charts: inline SVG, labelled, inside a figure with its caption and a table of the figures.
    svgs = re.findall(r"<svg [^>]*>", html)
    assert len(svgs) == 9  # six report charts, disconnects, opt-outs, card services
    assert all('role="img"' in svg and "aria-labelledby=" in svg for svg in svgs)
    assert '<title id="chart-provisions-title">月別の提供件数</title>' in html
    assert html.count("<figcaption>") == html.count("<figure ") == 9
    assert 'data-testid="table-provisions"' in html
    # 和暦 as everywhere else (issue 17, item 11), and each chart's table folded under it.
    assert '<tr><th scope="row">令和8年11月</th><td>5</td></tr>' in html
    assert not re.search(r"\b20\d\d年", html)
    for figure in re.findall(r"<figure .*?</figure>", html, re.S):
        table = figure.index("<table")
        assert figure.rfind('<details class="chart-data">', 0, table) > figure.index("<svg")
    assert 'data-testid="total-provisions">5件<' in html
    assert 'data-testid="total-refusals">1件<' in html
    assert RECIPIENT_NAME in html
    assert "<script" not in html.split("</head>", 1)[1]  # no chart library, no inline script
    assert " style=" not in html  # the page's CSP forbids inline styles
    assert response.headers["content-security-policy"].startswith("default-src 'self'")
    _no_personal_data(html)


def test_the_page_in_english(seeded: ServiceContext, client: TestClient) -> None:
    client.cookies.set("lang", "en")
    html = client.get("/transparency?months=3").text
    assert '<html lang="en">' in html
    assert "Transparency report" in html
    assert '<tr><th scope="row">Nov 2026</th><td>5</td></tr>' in html
    assert '<option value="3" selected>Last 3 months</option>' in html
    # Registered names and statutory wording are Japanese text inside an English page.
    assert f'<span lang="ja">{RECIPIENT_NAME}</span>' in html


def test_an_empty_node_renders_zeros(client: TestClient) -> None:
    response = client.get("/transparency?months=1")
    assert response.status_code == 200
    assert 'data-testid="total-provisions">0件<' in response.text
    assert "この期間の件数はありません。" in response.text


def test_json_and_api_serve_the_same_figures(seeded: ServiceContext, client: TestClient) -> None:
    expected = to_json(transparency_stats(seeded, months=6))
    response = client.get("/transparency/stats.json?months=6")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == expected
    api = client.get(f"{API_PATH}?months=6")
    assert api.status_code == 200
    body = api.json()
    assert datetime.fromisoformat(body.pop("generated_at")) == datetime.fromisoformat(
        expected.pop("generated_at")
    )
    assert body == expected
    assert body["totals"]["provisions"] == 5
    assert body["batch_jobs"][0]["found_rows"] == 240
    _no_personal_data(response.text + api.text)


def test_csv_is_a_download(seeded: ServiceContext, client: TestClient) -> None:
    response = client.get("/transparency/stats.csv")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert 'filename="transparency-municipality-132292-2025-12-2026-11.csv"' in disposition
    assert response.content.startswith(b"\xef\xbb\xbf")  # BOM: spreadsheets read it as UTF-8
    text = response.content.decode("utf-8-sig")
    assert text == to_csv(transparency_stats(seeded))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert tuple(rows[0]) == CSV_COLUMNS
    provided = [r for r in rows if r["section"] == "provisions"]
    assert [(r["month"], r["recipient_name"], r["count"]) for r in provided] == [
        ("2026-11", RECIPIENT_NAME, "5")
    ]
    _no_personal_data(text)


@pytest.mark.parametrize("path", [*PUBLIC_PATHS, API_PATH])
@pytest.mark.parametrize("months", ["0", "121", "-1", "abc", "1.5", ""])
def test_the_period_is_validated(client: TestClient, path: str, months: str) -> None:
    response = client.get(path, params={"months": months})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "months"


@pytest.mark.parametrize("path", [*PUBLIC_PATHS, API_PATH])
def test_every_endpoint_needs_no_sign_in(client: TestClient, path: str) -> None:
    for months in ("1", "120"):
        assert (
            client.get(path, params={"months": months}, follow_redirects=False).status_code == 200
        )


def test_only_the_api_is_in_the_openapi_document(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert API_PATH in paths
    assert not [p for p in paths if p.startswith("/transparency")]
    parameters = paths[API_PATH]["get"]["parameters"]
    months = next(p for p in parameters if p["name"] == "months")
    assert (months["schema"]["minimum"], months["schema"]["maximum"]) == (1, 120)
    assert "422" in paths[API_PATH]["get"]["responses"]


def test_a_signed_in_clerk_keeps_the_header(node: ServiceContext, client: TestClient) -> None:
    make_actor(node, Role.CLERK, username="clerk1")
    assert sign_in_page(client, "clerk1").status_code == 303
    html = client.get("/transparency").text
    assert 'data-testid="operator"' in html
    assert 'data-testid="figure-provisions"' in html
