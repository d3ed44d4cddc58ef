"""Issue 15's "Done when" for the resident portal, on real node processes and a real browser.

Five node processes (the centre, Tokyo, Kanagawa, Nishitokyo, Yokohama) talk over mutual TLS.
A Nishitokyo resident with a card is looked up three ways: the pension agency (soumu-onkyu)
asks the centre through the provision API with its client certificate; a Yokohama clerk issues
a 広域交付 copy for the resident's card (Nishitokyo answers and records that it answered
Yokohama); a Nishitokyo clerk reads the record at the counter. The resident then signs in to
Nishitokyo's portal — served by the node process on its public port — with the one-time code
``jukinet card sign-in`` prints, and sees all three in one list, each marked verified by the
server and by the browser's own check; reports the card lost and is signed out.
Screenshot: docs/screenshots/portal-network-list.png.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jukinet.domain.certificates import OptionalItems
from jukinet.domain.errors import Conflict
from jukinet.domain.resident_card import NetworkStatus
from jukinet.domain.wide_area import AFFAIR, Identification
from jukinet.network.hsm import DEFAULT_MODULE
from jukinet.runtime.cluster import Cluster
from jukinet.runtime.demo_provision import (
    PENSION_AFFAIR,
    PENSION_AGENCY,
    agency_client,
    network_url,
    register_recipients,
)
from jukinet.services.certificates.wide_area import WideAreaRequest, issue_wide_area
from jukinet.services.context import ServiceContext
from jukinet.services.reading import read_resident
from jukinet.services.resident_card.status import check_card_status
from tests.integration.cli.test_cli import run
from tests.support.databases import running_cluster
from tests.support.factories import make_actor
from tests.support.portal import PIN, issue_card

pytestmark = pytest.mark.e2e

NISHITOKYO = "municipality:132292"
YOKOHAMA = "municipality:141003"
TOKYO = "prefecture:13"
KANAGAWA = "prefecture:14"
CENTRE = "national:jlis"
NODES = (CENTRE, TOKYO, KANAGAWA, NISHITOKYO, YOKOHAMA)
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture
def cluster(tmp_path: Path, database_url: str) -> Iterator[Cluster]:
    """Five node processes on the backend of ``database_url``, the demo's agencies registered."""
    if not Path(DEFAULT_MODULE).exists():
        pytest.skip("SoftHSM2 is not installed (apt-get install softhsm2)")
    with running_cluster(tmp_path / "cluster", database_url, NODES) as built:
        register_recipients(built)
        yield built


def _valid_at(node: ServiceContext, serial: str) -> bool:
    try:
        status = check_card_status(node, serial=serial, asked_by="e2e").status
    except Conflict:
        return False
    return status is NetworkStatus.VALID


def _pension_lookup(cluster: Cluster, code: str) -> None:
    """The pension agency asks the centre, over mutual TLS with its client certificate."""
    url = network_url(cluster, CENTRE)
    deadline = time.monotonic() + 60
    with agency_client(cluster, PENSION_AGENCY) as client:
        while True:
            answer = client.post(
                f"{url}/provision/v1/residents/lookup",
                json={
                    "affair_code": PENSION_AFFAIR,
                    "officer": "恩給 担当（E2E）",
                    "case_number": "E2E-0015",
                    "resident_codes": [code],
                },
            )
            assert answer.status_code == 200, answer.text
            if answer.json()["results"][0]["outcome"] == "found":
                return
            assert time.monotonic() < deadline, "the record did not reach the centre"
            time.sleep(0.5)


def _browser_checked(page: Any) -> tuple[int, int]:
    page.wait_for_function("document.body.dataset.browserChecked !== undefined")
    good, total = page.evaluate("document.body.dataset.browserChecked").split("/")
    return int(good), int(total)


def test_one_list_of_three_tiers_lookups_then_card_lost(
    cluster: Cluster, card_reader: Path, chromium_browser: Any
) -> None:
    town, yokohama = cluster.handle(NISHITOKYO), cluster.handle(YOKOHAMA)
    try:
        code, serial = issue_card(town, family="西東", given="京子")
        deadline = time.monotonic() + 60
        while not _valid_at(yokohama, serial):
            assert time.monotonic() < deadline, "the card's status did not reach the centre"
            time.sleep(0.2)
        # (a) the pension agency at the centre; (b) a 広域交付 copy at Yokohama's counter;
        # (c) a Nishitokyo clerk at the counter.
        _pension_lookup(cluster, code)
        issue_wide_area(
            yokohama,
            actor=make_actor(yokohama),
            request=WideAreaRequest(
                Identification.CARD,
                household=False,
                items=OptionalItems(),
                card_serial=serial,
                pin=PIN,
            ),
        )
        read_resident(town, actor=make_actor(town), resident_code=code, reason="窓口での確認")
    finally:
        town.engine.dispose()
        yokohama.engine.dispose()

    portal_url = cluster.nodes[NISHITOKYO].public_url
    assert portal_url is not None
    printed = run(
        "card", "sign-in", "--portal", portal_url, "--serial", serial, "--pin-stdin",
        input=PIN + "\n",
    )  # fmt: skip
    assert printed.exit_code == 0, printed.output
    found = re.search(r"\b[A-Z2-9]{5}-[A-Z2-9]{5}\b", printed.output)
    assert found is not None, printed.output
    context = chromium_browser.new_context(
        base_url=portal_url, locale="ja-JP", viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(30_000)
    page = context.new_page()
    try:
        page.goto("/")
        page.fill("#code", found.group(0))
        page.click("button[type=submit]")
        page.wait_for_url("**/me")
        good, total = _browser_checked(page)
        assert total >= 3
        assert good == total  # every entry's proof verified in the browser
        assert page.locator("span.server.ok").count() == total  # and by the server
        entries = page.locator("#combined tbody tr.entry")
        # One list: the centre's pension lookup, Nishitokyo's answer to Yokohama's 広域交付
        # request (the record Yokohama saw; the request is not kept at the tiers between) and
        # the Nishitokyo clerk's counter read, each verified by the server and in the browser.
        for source, recipient, affair, reason in (
            ("全国センター", "agency:soumu-onkyu", PENSION_AFFAIR, "恩給法"),
            (
                "東京都西東京市",
                "神奈川県横浜市",
                AFFAIR,
                "広域交付：神奈川県横浜市からの請求に回答",
            ),
            ("東京都西東京市", "clerk", "—", "窓口での確認"),
        ):
            row = entries.filter(has_text=reason).filter(has_text=recipient)
            assert row.count() == 1, entries.all_inner_texts()
            cells = row.locator("td").all_inner_texts()
            assert cells[1].startswith(source), cells
            assert cells[4].startswith(affair), cells
            assert affair != AFFAIR or "住民基本台帳法第12条の4" in cells[4], cells
            assert cells[5].startswith(recipient), cells
            assert row.locator("span.server.ok").count() == 1, cells
            assert row.locator("span.browser.ok").count() == 1, cells
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "portal-network-list.png"), full_page=True)

        page.click("a[href='/me/requests']")
        page.wait_for_url("**/me/requests")
        page.check("#kind-card_loss")
        page.click("form.card button[type=submit]")
        page.wait_for_url("**/?ended=card_lost")
        page.goto("/me")
        assert page.locator("#code").count() == 1  # the next page asks for sign-in
    finally:
        context.close()
