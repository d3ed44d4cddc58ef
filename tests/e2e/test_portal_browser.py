"""The resident portal in Debian's Chromium (issue 15 item 1): a resident signs in with a
one-time code their card printed, sees in one list what Nishitokyo, Tokyo and the centre
recorded about them — a pension agency's lookup at the centre among them — each entry marked
verified by the server and again by the browser's own SHA-256 check, downloads the list as CSV
and PDF, reports the card lost and is signed out. Every page (desktop and phone) passes
axe-core's WCAG 2.1 A/AA rules (tests/support/axe.min.js, vendored by scripts/vendor-axe.sh).

Three real nodes on loopback (mutual TLS between them, the test's own databases and SoftHSM
card tokens) and the portal served by uvicorn, as ``jukinet serve`` serves it on a
municipality's public port. Screenshots land in docs/screenshots/portal-*.png.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from jukinet.domain.access_log import AccessEntry, Action, ActorKind, Channel
from jukinet.network.hsm import DEFAULT_MODULE
from jukinet.services.context import ServiceContext
from jukinet.storage.access_log import append_entries
from jukinet.web.portal import create_portal_app
from tests.conftest import TEST_NOW
from tests.e2e.test_agency_console_browser import axe_violations
from tests.integration.cli.test_cli import run
from tests.support.clock import FixedClock
from tests.support.network import drain, free_port, make_node, make_pki, serving, wire
from tests.support.portal import PIN, issue_card

NISHITOKYO = "municipality:132292"
TOKYO = "prefecture:13"
CENTRE = "national:jlis"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@contextlib.contextmanager
def _portal(node: ServiceContext) -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_portal_app(node), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the portal did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def tiers(
    tmp_path: Path, new_database: Callable[[str], str], clock: FixedClock
) -> Iterator[dict[str, ServiceContext]]:
    """Nishitokyo, Tokyo and the centre, networked and serving."""
    if not Path(DEFAULT_MODULE).exists():
        pytest.skip("SoftHSM2 is not installed (apt-get install softhsm2)")
    names = [NISHITOKYO, TOKYO, CENTRE]
    pki, _signer = make_pki(tmp_path / "pki", names, TEST_NOW)
    ports = {n: free_port() for n in names}
    peers = wire(names, ports)
    nodes = {
        n: make_node(
            n,
            database_url=new_database(n.replace(":", "_")),
            pki=pki,
            peers=peers[n],
            clock=clock,
        )
        for n in names
    }
    with contextlib.ExitStack() as stack:
        for name, node in nodes.items():
            stack.enter_context(serving(node, ports[name]))
        yield nodes
    for node in nodes.values():
        node.engine.dispose()


def _pension_lookup_at_the_centre(centre: ServiceContext, code: str) -> None:
    """The centre's log entry of a pension agency's lookup (as provision records it)."""
    with centre.uow() as uow:
        append_entries(
            uow.session,
            [
                AccessEntry(
                    recorded_at=centre.now(),
                    node=str(centre.node_id),
                    action=Action.READ,
                    channel=Channel.AGENCY_API,
                    actor_kind=ActorKind.RECIPIENT,
                    actor="soumu-onkyu",
                    subject=code,
                    affair_code="T1-16",
                    reason="恩給法による年金である給付の支給に関する事務",
                    items=("name", "birth_date", "sex", "address"),
                    case_number="R8-0015",
                )
            ],
        )
        uow.commit()


def _browser_checked(page: Any) -> tuple[int, int]:
    page.wait_for_function("document.body.dataset.browserChecked !== undefined")
    good, total = page.evaluate("document.body.dataset.browserChecked").split("/")
    return int(good), int(total)


def _labels_everywhere(page: Any) -> None:
    """Accessibility: language, one h1, every input labelled, a skip link, and axe-core's
    WCAG 2.1 A/AA rules (tests/support/axe.min.js) without a violation."""
    assert page.evaluate("document.documentElement.lang") in ("ja", "en")
    assert page.locator("h1").count() == 1
    assert page.locator("a.skip[href='#main']").count() == 1
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll('input:not([type=hidden]), textarea')]
               .filter(el => !(el.labels && el.labels.length)).length"""
    )
    assert unlabelled == 0
    assert axe_violations(page) == [], page.url


def test_resident_sees_every_tier_verifies_downloads_and_reports_loss(
    tiers: dict[str, ServiceContext],
    card_reader: Path,
    chromium_browser: Any,
    tmp_path: Path,
) -> None:
    town = tiers[NISHITOKYO]
    code, serial = issue_card(town, family="西東", given="京子")
    drain(tiers)
    _pension_lookup_at_the_centre(tiers[CENTRE], code)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with _portal(town) as portal_url:
        # What the resident types on their own computer, card on the reader.
        printed = run(
            "card", "sign-in", "--portal", portal_url, "--serial", serial, "--pin-stdin",
            input=PIN + "\n",
        )  # fmt: skip
        assert printed.exit_code == 0, printed.output
        found = re.search(r"\b[A-Z2-9]{5}-[A-Z2-9]{5}\b", printed.output)
        assert found is not None, printed.output
        one_time = found.group(0)
        context = chromium_browser.new_context(
            base_url=portal_url, locale="ja-JP", viewport={"width": 1280, "height": 900}
        )
        context.set_default_timeout(20_000)
        page = context.new_page()
        try:
            page.goto("/")
            _labels_everywhere(page)
            page.screenshot(path=str(SCREENSHOTS / "portal-sign-in.png"))
            page.fill("#code", one_time)
            page.click("button[type=submit]")
            page.wait_for_url("**/me")
            good, total = _browser_checked(page)
            assert total >= 4
            assert good == total  # every entry's proof verified in the browser
            assert page.locator("span.server.ok").count() == total  # and by the server
            table = page.locator("#combined").inner_text()
            for source in ("西東京市", "東京都", "全国センター"):
                assert source in table
            assert "soumu-onkyu" in table
            assert "T1-16" in table
            assert "すべての階層で同じ内容です" in page.content()
            _labels_everywhere(page)
            page.screenshot(path=str(SCREENSHOTS / "portal-me.png"), full_page=True)

            with page.expect_download() as csv_download:
                page.click("a[href='/me/disclosure.csv']")
            csv_path = tmp_path / "my.csv"
            csv_download.value.save_as(str(csv_path))
            lines = csv_path.read_text(encoding="utf-8-sig").splitlines()
            assert lines[0].startswith("tier,recorded_at")
            assert any("soumu-onkyu" in line for line in lines)
            with page.expect_download() as pdf_download:
                page.click("a[href='/me/disclosure.pdf']")
            pdf_path = tmp_path / "my.pdf"
            pdf_download.value.save_as(str(pdf_path))
            assert pdf_path.read_bytes().startswith(b"%PDF")

            # On a phone: the same page, one column.
            page.set_viewport_size({"width": 390, "height": 844})
            page.reload()
            _browser_checked(page)
            _labels_everywhere(page)
            page.screenshot(path=str(SCREENSHOTS / "portal-me-phone.png"))
            page.set_viewport_size({"width": 1280, "height": 900})

            page.click("a[href='/me/requests']")
            page.wait_for_url("**/me/requests")
            _labels_everywhere(page)
            page.check("#kind-card_loss")
            page.screenshot(path=str(SCREENSHOTS / "portal-requests.png"), full_page=True)
            page.click("form.card button[type=submit]")
            page.wait_for_url("**/?ended=card_lost")
            assert "カードを一時停止しました" in page.locator("#ended").inner_text()
            _labels_everywhere(page)
            page.screenshot(path=str(SCREENSHOTS / "portal-signed-out.png"))
            page.goto("/me")
            assert (
                page.url.rstrip("/").endswith(portal_url.rsplit(":", 1)[1]) or "/me" not in page.url
            )
            assert page.locator("#code").count() == 1  # back on the sign-in page
        finally:
            context.close()
