"""Lending an agency officer a real security key on the page, then the officer signs in with it
(issue 15), in Debian's Chromium.

The national centre serves its operator pages (plain HTTP on ``localhost``, a secure context for
WebAuthn) and the agency console on its mutual-TLS port. The card administrator signs in with
their own card, opens ``/security/officer-cards``, chooses the pension service's officer, types
the card's serial and lends the key in front of them: the key — Chromium's virtual authenticator,
its PIN verified — creates its credential in the operators' own registration ceremony
(``static/card.js``). On the agency's terminal (its client certificate presented) the officer
then signs in on ``/agency`` with the password and that same key. The page passes axe-core's
WCAG 2.1 A/AA rules and its screenshot is kept as docs/screenshots/officer-cards.png.
"""

from __future__ import annotations

import base64
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sqlalchemy import select

from jukinet.domain.operators import Role
from jukinet.services import agency_console, recipients
from jukinet.services.context import ServiceContext
from jukinet.storage.agency_tables import AgencyOfficerCardRow
from jukinet.storage.registry import RegistryCache
from jukinet.storage.tables import AccessLogRow
from jukinet.web.app import create_app
from tests.conftest import TEST_NOW
from tests.e2e.test_agency_console_browser import axe_violations
from tests.support.cards import SoftAuthenticator, lend_security_key
from tests.support.clock import FixedClock
from tests.support.factories import PASSWORD, make_actor
from tests.support.network import free_port, make_node, make_pki, serving
from tests.support.virtual_card import card_in_reader

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "docs" / "screenshots" / "officer-cards.png"
NATIONAL = "national:jlis"
PENSION_AGENCY = "agency:soumu-onkyu"
OFFICER_PASSWORD = "officer-password-long"  # a throw-away test account


@dataclass
class Centre:
    node: ServiceContext
    pages_url: str
    console_url: str
    agency_certificate: tuple[Path, Path]
    admin_card: SoftAuthenticator


@pytest.fixture(params=["sqlite"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The browser test runs on SQLite (the page's storage is tested on both backends in
    tests/integration/web/test_officer_cards_page.py)."""
    import shutil

    template: Path = request.getfixturevalue("sqlite_template")
    target = tmp_path / "jukinet.sqlite3"
    shutil.copyfile(template, target)
    return f"sqlite:///{target}"


@pytest.fixture
def centre(
    tmp_path: Path, new_database: Callable[[str], str], clock: FixedClock
) -> Iterator[Centre]:
    pki, signer = make_pki(tmp_path / "pki", [NATIONAL], TEST_NOW)
    network_port, pages_port = free_port(), free_port()
    # Both by name: WebAuthn needs a domain as its relying party, the same for both origins.
    console_url = f"https://localhost:{network_port}"
    pages_url = f"http://localhost:{pages_port}"
    national = make_node(
        NATIONAL,
        database_url=new_database("n"),
        pki=pki,
        peers={},
        clock=clock,
        webauthn_rp_id="localhost",
        webauthn_origins=[console_url, pages_url],
    )
    server = uvicorn.Server(
        uvicorn.Config(create_app(national), host="127.0.0.1", port=pages_port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    with serving(national, network_port):
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            assert time.monotonic() < deadline, "the pages server did not start"
            time.sleep(0.02)
        try:
            recipients.seed(national)
            pki.issue_client(signer, PENSION_AGENCY, now=TEST_NOW)
            creds = pki.node(PENSION_AGENCY)
            for login, name in (("onkyu.tanaka", "田中 恩給"), ("onkyu.suzuki", "鈴木 恩給")):
                agency_console.add_officer(
                    national,
                    RegistryCache(),
                    recipient_id=PENSION_AGENCY,
                    login=login,
                    display_name=name,
                    password=OFFICER_PASSWORD,
                )
            make_actor(national, Role.CARD_ADMINISTRATOR, username="kado")
            admin_card = lend_security_key(national, "kado")
            yield Centre(
                national, pages_url, console_url, (creds.tls_cert, creds.tls_key), admin_card
            )
        finally:
            server.should_exit = True
            thread.join(timeout=10)
    national.engine.dispose()


def test_a_key_lent_on_the_page_signs_the_officer_in_to_the_console(
    chromium_browser: Any, centre: Centre
) -> None:
    from playwright.sync_api import expect

    # One terminal: the operator pages, and the agency's certificate for the console's port.
    cert, key = centre.agency_certificate
    context = chromium_browser.new_context(
        locale="ja-JP",
        viewport={"width": 1280, "height": 900},
        ignore_https_errors=True,  # the network CA is private; the handshake is mutual
        client_certificates=[{"origin": centre.console_url, "certPath": cert, "keyPath": key}],
    )
    context.set_default_timeout(20_000)
    try:
        page = context.new_page()
        # The security key on the desk: it holds the administrator's own card to begin with.
        card_in_reader(context, page, centre.admin_card)

        page.goto(centre.pages_url + "/login")
        page.get_by_label("ユーザー名").fill("kado")
        page.get_by_label("パスワード").fill(PASSWORD)
        page.get_by_role("button", name="ログイン").click()
        page.locator("#card-form[data-ready='true']").wait_for()
        page.get_by_role("button", name="カードで確認する").click()
        page.wait_for_url(lambda url: "/login/card" not in url)

        page.get_by_role("link", name="機関職員カード").click()
        expect(page).to_have_url(re.compile(r"/security/officer-cards$"))
        form = page.get_by_test_id("lend-form")
        form.get_by_label(re.compile("機関・職員")).select_option(f"{PENSION_AGENCY}|onkyu.tanaka")
        form.get_by_label(re.compile("カード番号")).fill("OC-0101")
        form.get_by_role("button", name="次へ").click()
        assert page.get_by_test_id("lend-serial").inner_text() == "OC-0101"
        assert page.get_by_test_id("lend-login").inner_text() == "onkyu.tanaka"
        # The officer touches the key and enters its PIN (the virtual key verifies the user).
        page.locator("#card-form[data-ready='true']").wait_for()
        page.get_by_role("button", name="キーで貸与する").click()
        expect(page).to_have_url(re.compile(r"/security/officer-cards\?done=lent"))
        expect(page.get_by_test_id("done")).to_contain_text("カードを貸与しました")
        row = page.locator('tr[data-card="OC-0101"]')
        expect(row).to_contain_text("貸与中")
        expect(row).to_contain_text("kado")
        result = axe_violations(page)
        assert result == [], result
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT), full_page=True)

        with centre.node.session_factory() as session:
            lent = session.scalars(
                select(AgencyOfficerCardRow).where(AgencyOfficerCardRow.serial == "OC-0101")
            ).one()
            assert lent.lent_by == "kado"
            # A new credential, made by the key now: not the administrator's own card.
            assert lent.credential_id != base64.urlsafe_b64encode(
                centre.admin_card.credential_id
            ).decode().rstrip("=")
            reasons = [r or "" for r in session.scalars(select(AccessLogRow.reason))]
        assert any(
            r.startswith("agency:officer-card:lent: OC-0101 to onkyu.tanaka") for r in reasons
        )

        # The officer, at the agency's terminal, signs in to the console with that key.
        page.goto(centre.console_url + "/agency")
        page.get_by_label("職員ID").fill("onkyu.tanaka")
        page.get_by_label("パスワード").fill(OFFICER_PASSWORD)
        page.get_by_role("button", name="サインイン").click()
        page.locator("#card-form[data-ready='true']").wait_for()
        page.get_by_role("button", name="職員カードで確認する").click()
        page.get_by_test_id("affairs-table").wait_for()
        assert "田中 恩給" in page.get_by_test_id("officer").inner_text()
    finally:
        context.close()
