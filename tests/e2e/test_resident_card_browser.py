"""The resident card at the counter in a real browser: a card issuer applies for and issues a
card (the chip written to a SoftHSM token directory of this test's own), a clerk takes a loss
report by phone, and the cards page shows the card suspended (一時停止 / Suspended)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from jukinet.domain.clock import JST
from jukinet.network.hsm import DEFAULT_MODULE, softhsm_environment
from tests.e2e.conftest import _settings, serving, sign_in_with_card

SCREENSHOT = "/tmp/jukinet-resident-card.png"
PASSWORD = "e2e-password-long-enough"  # throw-away test accounts
ISSUER = "issuer.e2e"
CLERK = "clerk.cards"
PIN = "2580"


@dataclass(frozen=True)
class CardCounter:
    """A running server, the record of a resident without a card, and its token directory."""

    base_url: str
    record_ref: str
    tokens: Path


def _prepare(database_url: str, secret_key: str) -> str:
    """Migrate, add the two operators and a resident; the resident's record reference."""
    from jukinet.domain.operators import Actor, Role
    from jukinet.runtime.bootstrap import build_node
    from jukinet.services.codes import allot_codes
    from jukinet.services.operators import add_operator
    from jukinet.services.reading import read_resident
    from jukinet.storage.migrate import upgrade
    from tests.support.factories import move_in_household, person

    upgrade(database_url)
    node = build_node(_settings(database_url, secret_key))
    try:
        for username, role in ((ISSUER, Role.CARD_ISSUER), (CLERK, Role.CLERK)):
            view = add_operator(
                node,
                actor=None,
                username=username,
                display_name="試験 職員",
                role=role,
                password=PASSWORD,
            )
        allot_codes(node, count=10, rng=random.Random(2027))
        # The clerk (added last) files the move-in the test starts from.
        clerk = Actor(operator_id=view.id, username=CLERK, role=Role.CLERK)
        today = datetime.now(JST).date()
        result = move_in_household(
            node, clerk, person(), moved_on=today - timedelta(days=2), filed_on=today
        )
        code = result.records[0].record.resident_code
        return read_resident(node, actor=clerk, resident_code=code).record_ref
    finally:
        node.engine.dispose()


@pytest.fixture(scope="module")
def card_counter(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CardCounter]:
    """A server whose card writer uses a SoftHSM token directory of this module's own."""
    if not Path(DEFAULT_MODULE).exists():
        pytest.skip("SoftHSM2 is not installed (apt-get install softhsm2)")
    directory = tmp_path_factory.mktemp("e2e-cards")
    database_url = f"sqlite:///{directory / 'jukinet.sqlite3'}"
    secret_key = "e2e-cards-secret-key-that-is-long-enough-0123"
    record_ref = _prepare(database_url, secret_key)
    hsm = softhsm_environment(directory / "cards")
    with serving(directory, database_url, secret_key, **hsm) as base_url:
        yield CardCounter(base_url, record_ref, directory / "cards" / "tokens")


def _expect() -> Any:
    from playwright.sync_api import expect

    return expect


def _desk(browser: Any, counter: CardCounter, username: str) -> Any:
    """A browser context of its own (own cookies, own virtual authenticator), signed in."""
    context = browser.new_context(
        base_url=counter.base_url, locale="ja-JP", viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    sign_in_with_card(page, username, PASSWORD)
    _expect()(page.get_by_role("heading", name="住民検索")).to_be_visible()
    return page


@pytest.mark.e2e
def test_issue_a_card_then_a_clerk_suspends_it_on_a_loss_report(
    chromium_browser: Any, card_counter: CardCounter
) -> None:
    expect = _expect()
    issuer = _desk(chromium_browser, card_counter, ISSUER)
    try:
        # From the record to its cards page, then the application (name only).
        issuer.goto(f"/records/{card_counter.record_ref}")
        issuer.get_by_test_id("cards-link").click()
        expect(issuer.get_by_test_id("no-cards")).to_be_visible()
        issuer.get_by_test_id("card-actions").get_by_role("link", name="交付申請").click()
        issuer.locator("#card_form").select_option("name_only")
        issuer.get_by_role("button", name="申請を受け付ける").click()
        expect(issuer.get_by_test_id("done")).to_contain_text("交付申請を受け付けました。")
        expect(issuer.get_by_test_id("card-state")).to_have_text("交付申請中")

        # Issuance: the serial is offered, the resident types the PIN twice, first wrongly.
        issuer.get_by_test_id("card-actions").get_by_role("link", name="交付").click()
        expect(issuer.locator("#serial")).to_have_value("132292-00000001")
        issuer.locator("#pin").fill(PIN)
        issuer.locator("#pin_confirmation").fill("2581")
        issuer.locator("#id_document").select_option("passport")
        issuer.get_by_role("button", name="交付する").click()
        field = issuer.locator(".field", has=issuer.locator("#pin_confirmation"))
        expect(field.locator(".error-message")).to_contain_text("一致しません")
        expect(issuer.locator("#pin")).to_have_value("")  # a PIN is never sent back
        issuer.locator("#pin").fill(PIN)
        issuer.locator("#pin_confirmation").fill(PIN)
        issuer.get_by_role("button", name="交付する").click()
        expect(issuer.get_by_test_id("done")).to_contain_text("カードを交付しました。")
        expect(issuer.get_by_test_id("card-network")).to_have_text("有効")
    finally:
        issuer.context.close()
    # The chip was written to this test's token directory, in the server's process.
    assert any(card_counter.tokens.iterdir())

    clerk = _desk(chromium_browser, card_counter, CLERK)
    try:
        clerk.goto(f"/records/{card_counter.record_ref}/cards")
        actions = clerk.get_by_test_id("card-actions")
        expect(actions.get_by_role("link", name="交付申請")).to_have_count(0)
        actions.get_by_role("link", name="紛失届（一時停止）").click()
        clerk.get_by_label("届出人の氏名").fill("山田 太郎")
        clerk.locator("#caller_relation").select_option("self")
        clerk.get_by_label("氏名", exact=True).check()
        clerk.get_by_label("生年月日").check()
        clerk.get_by_role("button", name="一時停止する").click()
        expect(clerk.get_by_test_id("done")).to_contain_text("カードを一時停止しました")
        expect(clerk.get_by_test_id("card-network")).to_have_text("一時停止")
        expect(clerk.get_by_test_id("card-history")).to_contain_text("山田 太郎（本人）")
        clerk.screenshot(path=SCREENSHOT, full_page=True)
        clerk.get_by_role("link", name="Switch to English").click()
        expect(clerk.get_by_test_id("card-network")).to_have_text("Suspended")
    finally:
        clerk.context.close()
