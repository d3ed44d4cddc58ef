"""The insider-alert page, its CSV and the API: security staff see alerts with resident codes
masked; clerks are refused; a bad day is a clear 422."""

from __future__ import annotations

import random
import re
from datetime import date, datetime, time, timedelta

import pytest
from fastapi.testclient import TestClient

from jukinet.domain.access_log import AccessEntry, Action, ActorKind, Channel
from jukinet.domain.codes import mask_resident_code, random_resident_codes
from jukinet.domain.insider_signals import JST
from jukinet.domain.operators import Role
from jukinet.services.context import ServiceContext
from jukinet.storage.access_log import append_entries
from tests.support.factories import api_headers, make_actor, sign_in_page

TODAY = date(2026, 11, 26)  # TEST_NOW in Japan
WEDNESDAY = TODAY - timedelta(days=1)
CODE = random_resident_codes(random.Random(7), 1)[0]
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _login(client: TestClient, username: str) -> int:
    """Sign in through the form; returns the status (303 on success)."""
    status: int = sign_in_page(client, username).status_code
    return status


def _read(at: datetime, actor: str, subject: str = CODE) -> AccessEntry:
    return AccessEntry(
        recorded_at=at,
        node="municipality:132292",
        action=Action.READ,
        channel=Channel.COUNTER,
        actor_kind=ActorKind.OPERATOR,
        actor=actor,
        subject=subject,
        items=("record",),
    )


@pytest.fixture
def suspicious(node: ServiceContext) -> None:
    """Five operators read one resident today; one of them also read it at 22:00 yesterday."""
    entries = [
        _read(datetime.combine(WEDNESDAY, time(22), JST), "clerk0"),
        *(_read(datetime.combine(TODAY, time(10, i), JST), f"clerk{i}") for i in range(5)),
    ]
    with node.uow() as uow:
        append_entries(uow.session, entries)
        uow.commit()


def test_security_officer_sees_alerts_with_codes_masked(
    node: ServiceContext, client: TestClient, suspicious: None
) -> None:
    make_actor(node, Role.SECURITY_OFFICER, username="sec1")
    assert _login(client, "sec1") == 303

    page = client.get("/security/alerts")

    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    html = page.text
    assert "不正利用の兆候" in html
    assert 'data-kind="many_readers"' in html
    assert "多数の職員による参照" in html
    assert mask_resident_code(CODE) in html
    assert CODE not in html
    assert "clerk4" in html
    assert 'href="/security/alerts.csv?day=2026-11-26"' in html
    # Evidence figures read as counts, never as floats ("基準件数: 50.0").
    evidence = re.findall(r'<span class="changes__label">[^<]*:</span>([^<]*)</li>', html)
    assert evidence
    assert not [value for value in evidence if re.fullmatch(r"\s*[\d,]+\.0\s*", value)]

    yesterday = client.get("/security/alerts", params={"day": "令和8年11月25日"})
    assert yesterday.status_code == 200
    assert 'data-kind="off_hours"' in yesterday.text
    assert "業務時間外の参照" in yesterday.text
    assert "clerk0" in yesterday.text

    client.get("/lang/en")
    english = client.get("/security/alerts", params={"day": "2026-11-26"}).text
    assert "Insider alerts" in english
    assert "Many readers" in english
    assert "read by 5 distinct actors" in english


def test_quiet_day_and_csv_download(
    node: ServiceContext, client: TestClient, suspicious: None
) -> None:
    make_actor(node, Role.SUPERVISOR, username="super1")
    assert _login(client, "super1") == 303

    quiet = client.get("/security/alerts", params={"day": "2026-11-01"})
    assert quiet.status_code == 200
    assert 'data-testid="no-alerts"' in quiet.text

    download = client.get("/security/alerts.csv", params={"day": "2026-11-26"})
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    assert "alerts-2026-11-26.csv" in download.headers["content-disposition"]
    text = download.content.decode("utf-8-sig")
    lines = text.splitlines()
    assert lines[0].startswith("severity,kind,day,actor,subject")
    assert any(",many_readers,2026-11-26,," + mask_resident_code(CODE) in ln for ln in lines)
    assert CODE not in text


def test_clerk_is_refused_page_csv_and_api(
    node: ServiceContext, client: TestClient, suspicious: None
) -> None:
    make_actor(node, Role.CLERK, username="clerk1")
    assert _login(client, "clerk1") == 303

    page = client.get("/security/alerts")
    assert page.status_code == 403
    assert "権限がありません" in page.text
    assert CODE not in page.text
    # Refused before the day is even looked at.
    assert client.get("/security/alerts", params={"day": "nonsense"}).status_code == 403
    assert client.get("/security/alerts.csv").status_code == 403

    api = client.get("/api/v1/security/alerts", headers=api_headers(client, "clerk1"))
    assert api.status_code == 403
    assert api.json()["errors"][0]["code"] == "JUKI-AUTH-003"


def test_pages_need_sign_in(client: TestClient) -> None:
    for path in ("/security/alerts", "/security/alerts.csv"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == "/login"
    assert client.get("/api/v1/security/alerts").status_code == 401


def test_api_gives_full_codes_to_audit_holders(
    node: ServiceContext, client: TestClient, suspicious: None
) -> None:
    make_actor(node, Role.SECURITY_OFFICER, username="sec1")
    headers = api_headers(client, "sec1")

    response = client.get("/api/v1/security/alerts", headers=headers)

    assert response.status_code == 200
    body = response.json()
    assert body["day"] == "2026-11-26"
    assert body["thresholds"]["many_readers"] == 5
    [signal] = body["signals"]
    assert signal["kind"] == "many_readers"
    assert signal["severity"] == "notice"
    assert signal["subject"] == CODE
    assert signal["subject_masked"] == mask_resident_code(CODE)
    assert signal["count"] == 5
    assert signal["evidence"]["readers"] == [f"clerk{i}" for i in range(5)]

    earlier = client.get("/api/v1/security/alerts", params={"day": "2026-11-25"}, headers=headers)
    assert [(s["kind"], s["actor"]) for s in earlier.json()["signals"]] == [("off_hours", "clerk0")]


@pytest.mark.parametrize("day", ["2026-13-01", "yesterday", "2026-11-27", "2019-01-01"])
def test_bad_day_is_422(node: ServiceContext, client: TestClient, day: str) -> None:
    make_actor(node, Role.SECURITY_OFFICER, username="sec1")
    headers = api_headers(client, "sec1")

    api = client.get("/api/v1/security/alerts", params={"day": day}, headers=headers)
    assert api.status_code == 422
    assert api.json()["errors"][0]["field"] == "day"

    assert _login(client, "sec1") == 303
    page = client.get("/security/alerts", params={"day": day})
    assert page.status_code == 422
    assert 'id="day-error"' in page.text
    assert client.get("/security/alerts.csv", params={"day": day}).status_code == 422


@pytest.mark.parametrize(
    ("value", "shown"), [(50.0, "50"), (1234.0, "1,234"), (2.5, "2.50"), (12000, "12,000")]
)
def test_evidence_figures_are_shown_as_counts(value: float, shown: str) -> None:
    from jukinet.web.i18n import Translator
    from jukinet.web.ui.alerts import _evidence_text

    assert _evidence_text("limit", value, Translator("ja")) == shown


def test_a_young_node_says_it_is_building_its_baseline(
    node: ServiceContext, client: TestClient, suspicious: None
) -> None:
    make_actor(node, Role.SECURITY_OFFICER, username="sec2")
    assert _login(client, "sec2") == 303
    page = client.get("/security/alerts")
    assert page.status_code == 200
    assert 'data-testid="baseline-notice"' in page.text
    # Seven days after the first entry (22:00 on 令和8年11月25日): 令和8年12月2日.
    assert "令和8年12月2日" in page.text
    # Other signals are shown as usual.
    assert 'data-kind="many_readers"' in page.text
