"""The counter in a real browser: sign in, move a household in, search, move it, switch language."""

from __future__ import annotations

import random
import re
from datetime import datetime, timedelta
from typing import Any

import pytest

from jukinet.domain.clock import JST
from jukinet.domain.codes import random_resident_codes
from jukinet.domain.wareki import format_wareki
from tests.e2e.conftest import CounterServer, sign_in_with_card

SCREENSHOT = "/tmp/jukinet-counter.png"
SCREENSHOT_EN = "/tmp/jukinet-counter-en.png"
SCREENSHOT_ERROR = "/tmp/jukinet-counter-error.png"
SCREENSHOT_SEARCH = "/tmp/jukinet-counter-search.png"


def _expect() -> Any:
    from playwright.sync_api import expect

    return expect


@pytest.mark.e2e
def test_counter_scenario(page: Any, counter_server: CounterServer) -> None:
    expect = _expect()
    today = datetime.now(JST).date()
    head_code, wife_code = random_resident_codes(random.Random(), 2)

    # Every page needs a signed-in operator.
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    # The operator's card: Chromium's virtual authenticator, enrolled by the first sign-in.
    sign_in_with_card(page, counter_server.username, counter_server.password)
    expect(page.get_by_role("heading", name="住民検索")).to_be_visible()
    expect(page.get_by_test_id("operator")).to_contain_text("窓口担当")

    # 転入届 for a two-person household, first with the reading in hiragana by mistake.
    page.get_by_role("link", name="転入届").first.click()
    form = page.get_by_test_id("move-in-form")
    form.locator("#address").fill("東京都西東京市泉町一丁目2番3号")
    form.locator("#previous_address").fill("東京都国立市中一丁目1番1号")
    form.locator("#moved_on").fill(format_wareki(today - timedelta(days=3)))
    expect(form.locator("#filed_on")).to_have_value(format_wareki(today))
    rows = [
        (
            "p0_",
            "渡邊",
            "健一",
            "わたなべ",
            "ケンイチ",
            "昭和50年3月14日",
            "male",
            "head",
            head_code,
        ),
        ("p1_", "渡邊", "花子", "ワタナベ", "ハナコ", "H2.6.2", "female", "wife", wife_code),
    ]
    for prefix, family, given, family_kana, given_kana, born, sex, rel, code in rows:
        form.locator(f"#{prefix}family_name").fill(family)
        form.locator(f"#{prefix}given_name").fill(given)
        form.locator(f"#{prefix}family_name_kana").fill(family_kana)
        form.locator(f"#{prefix}given_name_kana").fill(given_kana)
        form.locator(f"#{prefix}birth_date").fill(born)
        form.locator(f"#{prefix}sex").select_option(sex)
        form.locator(f"#{prefix}relationship").select_option(rel)
        form.locator(f"#{prefix}resident_code").fill(code)
    page.get_by_role("button", name="届出を受け付ける").click()

    field = page.locator(".field", has=page.locator("#p0_family_name_kana"))
    expect(field.locator(".error-message")).to_contain_text("ひらがなは使用できません")
    expect(page.get_by_test_id("error-summary")).to_be_visible()
    expect(page.locator("#p0_family_name_kana")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#p1_given_name")).to_have_value("花子")  # the input was kept
    page.screenshot(path=SCREENSHOT_ERROR, full_page=True)
    page.locator("#p0_family_name_kana").fill("ワタナベ")
    page.get_by_role("button", name="届出を受け付ける").click()

    # The record page: 和暦 dates, the household, the confirmation.
    # Records are addressed by an opaque reference, never by the code or the name.
    expect(page).to_have_url(re.compile(r"/records/[0-9a-f]{32}\?done=move_in$"))
    assert head_code not in page.url
    record_url = page.url.split("?")[0]
    expect(page.get_by_test_id("done")).to_contain_text("転入届を受け付けました。")
    expect(page.get_by_test_id("birth-date")).to_have_text("昭和50年3月14日")
    expect(page.get_by_test_id("resident-code")).to_have_text(f"*******{head_code[-4:]}")
    expect(page.get_by_test_id("household")).to_contain_text("渡邊　花子")
    expect(page.get_by_test_id("household")).to_contain_text("妻")

    # Search by kana (htmx, posted: the name never enters the URL) and by a variant kanji.
    page.get_by_role("link", name="住民検索").click()
    page.get_by_label("氏名（漢字・カナ）").fill("わたなべ")
    page.get_by_role("button", name="検索").click()
    results = page.get_by_test_id("results")
    expect(results).to_contain_text("渡邊　健一")
    expect(results).to_contain_text(f"*******{head_code[-4:]}")
    expect(results).not_to_contain_text(head_code)
    expect(page).to_have_url(re.compile(r"/$"))  # htmx swapped the panel; no navigation
    assert "わたなべ" not in page.url
    assert "%E3" not in page.url
    page.get_by_label("氏名（漢字・カナ）").fill("渡辺")
    page.get_by_role("button", name="検索").click()
    expect(results.locator("tbody tr")).to_have_count(2)
    expect(results).to_contain_text("渡邊　花子")
    page.screenshot(path=SCREENSHOT_SEARCH, full_page=True)

    # 転居届 from the record's action menu, then the history shows two versions.
    results.locator("tr", has_text="渡邊　健一").get_by_role("link").click()
    expect(page).to_have_url(re.compile(rf"{re.escape(record_url)}$"))
    page.get_by_test_id("actions").get_by_role("link", name="転居届").click()
    page.get_by_label("新住所").fill("東京都西東京市田無町四丁目5番6号")
    page.locator("#moved_on").fill(format_wareki(today - timedelta(days=1)))
    page.get_by_role("button", name="届出を受け付ける").click()
    expect(page.get_by_test_id("done")).to_contain_text("転居届を受け付けました。")
    history = page.get_by_test_id("history")
    expect(history.locator("tbody tr")).to_have_count(2)
    expect(history).to_contain_text("転居")
    expect(history).to_contain_text("東京都西東京市田無町四丁目5番6号")
    page.screenshot(path=SCREENSHOT, full_page=True)

    # English labels after the switch, on the same record.
    page.get_by_role("link", name="Switch to English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Resident record")
    expect(page.get_by_test_id("birth-date")).to_have_text("14 Mar 1975 (Showa 50)")
    expect(page.get_by_role("heading", name="History")).to_be_visible()
    expect(history).to_contain_text("Move within")
    page.screenshot(path=SCREENSHOT_EN, full_page=True)
