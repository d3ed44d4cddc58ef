"""The agency console in Debian's Chromium (issue 15, items 2 and 4).

A municipality, its prefecture and the national centre run on loopback with mutual TLS; the
centre serves the console on its mutual-TLS port, and the browser presents each agency's client
certificate there (Playwright's ``client_certificates``) as the agency's terminal would. Each
officer signs in with their password and then their own card: a security key lent to them
(``jukinet recipient officer-card-lend``), here held in Chromium's virtual authenticator with
its PIN verified, as the counter's operator cards are (tests/e2e/test_operator_security.py). The
pension service's officer signs in, uploads a 10,000-row batch, watches the progress bar move
(htmx polling) and downloads the results and the rows in error; the radio-licence officer is
not offered the pension affair and, asking for it anyway, is refused with its statute. Every
page passes axe-core's WCAG 2.1 A/AA rules (tests/support/axe.min.js, vendored by
scripts/vendor-axe.sh), and a screenshot of each is kept under docs/screenshots/. The batch
runs on SQLite and PostgreSQL (the issue's Done-when); the refusal on SQLite only.
"""

from __future__ import annotations

import csv
import io
import json
import random
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from jukinet.domain.codes import random_resident_codes
from jukinet.domain.operators import Actor, Role
from jukinet.services import agency_console, agency_officer_cards, batch, recipients
from jukinet.services.context import ServiceContext
from jukinet.storage.registry import RegistryCache
from tests.conftest import TEST_NOW
from tests.support.cards import SoftAuthenticator
from tests.support.clock import FixedClock
from tests.support.factories import make_actor, move_in_household, person, with_pool
from tests.support.network import drain, free_port, make_node, make_pki, serving
from tests.support.virtual_card import card_in_reader

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "screenshots"
AXE = ROOT / "tests" / "support" / "axe.min.js"
MUNICIPALITY, PREFECTURE, NATIONAL = "municipality:132292", "prefecture:13", "national:jlis"
PENSION_AGENCY, RADIO_AGENCY = "agency:soumu-onkyu", "agency:soumu-denpa"
PENSION, RADIO = "T1-16", "T1-26"
PASSWORD = "officer-password-long"  # a throw-away test account
#: Who lends the officers' cards (the service checks the role).
CARD_ADMINISTRATOR = Actor(operator_id=0, username="card.admin", role=Role.CARD_ADMINISTRATOR)
ROWS = 10_000
#: WCAG 2.1 A and AA (the portal's and console's target).
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@dataclass
class Centre:
    node: ServiceContext
    url: str
    certificates: dict[str, tuple[Path, Path]]
    cards: dict[str, SoftAuthenticator]
    residents: list[str]
    release_worker: threading.Event


def _worker(node: ServiceContext, release: threading.Event, stop: threading.Event) -> None:
    """The centre's batch worker, held until the test has seen the queued job, then one chunk
    every 1.5 s so the progress bar has something to show between 0 and 100 %."""
    cache = RegistryCache()
    release.wait()
    while not stop.is_set():
        if batch.run_pending(node, cache, max_chunks=1) == 0:
            stop.wait(0.2)
        else:
            stop.wait(1.5)


@pytest.fixture
def centre(
    tmp_path: Path, new_database: Callable[[str], str], clock: FixedClock
) -> Iterator[Centre]:
    pki, signer = make_pki(tmp_path / "pki", [MUNICIPALITY, PREFECTURE, NATIONAL], TEST_NOW)
    urls = {name: f"https://127.0.0.1:{free_port()}" for name in (PREFECTURE, NATIONAL)}
    # The browser reaches the centre by name: WebAuthn needs a domain as its relying party.
    console_url = urls[NATIONAL].replace("127.0.0.1", "localhost")
    municipality = make_node(
        MUNICIPALITY,
        database_url=new_database("m"),
        pki=pki,
        peers={PREFECTURE: urls[PREFECTURE]},
        clock=clock,
    )
    prefecture = make_node(
        PREFECTURE,
        database_url=new_database("p"),
        pki=pki,
        peers={NATIONAL: urls[NATIONAL]},
        clock=clock,
    )
    national = make_node(
        NATIONAL,
        database_url=new_database("n"),
        pki=pki,
        peers={},
        clock=clock,
        webauthn_rp_id="localhost",
        webauthn_origins=[console_url],
    )
    release, stop = threading.Event(), threading.Event()
    worker = threading.Thread(target=_worker, args=(national, release, stop), daemon=True)
    with (
        serving(prefecture, int(urls[PREFECTURE].rsplit(":", 1)[1])),
        serving(national, int(urls[NATIONAL].rsplit(":", 1)[1])),
    ):
        with_pool(municipality, count=30)
        clerk = make_actor(municipality, Role.SUPERVISOR, username="clerk")
        residents = []
        for given in ("一郎", "二郎", "三郎", "四郎", "五郎", "花子", "春子", "夏子"):
            moved = move_in_household(municipality, clerk, person(given=given))
            residents.append(moved.records[0].record.resident_code)
        drain({MUNICIPALITY: municipality, PREFECTURE: prefecture, NATIONAL: national})
        recipients.seed(national)
        certificates, cards = {}, {}
        for principal, login in ((PENSION_AGENCY, "onkyu.tanaka"), (RADIO_AGENCY, "denpa.sato")):
            pki.issue_client(signer, principal, now=TEST_NOW)
            creds = pki.node(principal)
            certificates[principal] = (creds.tls_cert, creds.tls_key)
            agency_console.add_officer(
                national,
                RegistryCache(),
                recipient_id=principal,
                login=login,
                display_name="田中 恩給" if principal == PENSION_AGENCY else "佐藤 電波",
                password=PASSWORD,
            )
            card = SoftAuthenticator(serial=f"OC-{login[:5].upper()}")
            agency_officer_cards.lend_card(
                national,
                actor=CARD_ADMINISTRATOR,
                recipient_id=principal,
                login=login,
                serial=card.serial,
                credential_id=card.credential_id,
                public_key_der=card.key.public_key().public_bytes(
                    serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
                ),
            )
            cards[principal] = card
        worker.start()
        try:
            yield Centre(national, console_url, certificates, cards, residents, release)
        finally:
            release.set()
            stop.set()
            worker.join(timeout=30)
    for node in (municipality, prefecture, national):
        node.engine.dispose()


@pytest.fixture
def terminal(chromium_browser: Any, centre: Centre) -> Iterator[Callable[[str], Any]]:
    """A browser page on an agency's terminal: its client certificate presented to the centre."""
    contexts = []

    def open_terminal(principal: str) -> Any:
        cert, key = centre.certificates[principal]
        context = chromium_browser.new_context(
            base_url=centre.url,
            locale="ja-JP",
            viewport={"width": 1280, "height": 900},
            ignore_https_errors=True,  # the network CA is private; the handshake is mutual
            accept_downloads=True,
            client_certificates=[{"origin": centre.url, "certPath": cert, "keyPath": key}],
        )
        context.set_default_timeout(20_000)
        contexts.append(context)
        page = context.new_page()
        card_in_reader(context, page, centre.cards[principal])
        return page

    yield open_terminal
    for context in contexts:
        context.close()


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.1 A/AA violations on the page as shown (rule, impact, first target)."""
    page.evaluate(AXE.read_text(encoding="utf-8"))  # evaluated, not a <script>: the CSP holds
    found: list[dict[str, Any]] = page.evaluate(
        "async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags}}))"
        ".violations.map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.length,"
        " target: v.nodes[0] && v.nodes[0].target}))",
        AXE_TAGS,
    )
    return found


def _axe(page: Any, name: str) -> None:
    result = axe_violations(page)
    assert result == [], f"{name}: {json.dumps(result, ensure_ascii=False)}"


def _shot(page: Any, name: str, *, full_page: bool = True) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"agency-{name}.png"), full_page=full_page)


def _sign_in(page: Any, login: str, *, shots: bool = False) -> None:
    page.goto("/agency")
    page.get_by_label("職員ID").fill(login)
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button", name="サインイン").click()
    # The card step: the officer's key signs the challenge (card.js, as for operators).
    page.locator("#card-form[data-ready='true']").wait_for()
    if shots:
        _axe(page, "card")
        _shot(page, "card")
    page.get_by_role("button", name="職員カードで確認する").click()
    page.get_by_test_id("affairs-table").wait_for()


def _batch_file(centre: Centre) -> bytes:
    codes = random_resident_codes(random.Random(15), ROWS)
    lines = ["resident_code,ref"]
    for n in range(ROWS):
        code = centre.residents[n] if n < len(centre.residents) else codes[n]
        lines.append(f"{code},ref-{n}")
    lines[5000] = "too,many,fields"  # a broken line: that row's error, not the file's
    lines[7000] = "12345,short-code"
    return ("\n".join(lines) + "\n").encode()


def test_pension_officer_uploads_a_batch_watches_progress_and_downloads(
    terminal: Callable[[str], Any], centre: Centre, tmp_path: Path
) -> None:
    page = terminal(PENSION_AGENCY)
    page.goto("/agency/login")
    page.get_by_test_id("login-organisation").wait_for()
    assert PENSION_AGENCY in page.get_by_test_id("login-organisation").inner_text()
    _axe(page, "login")
    _shot(page, "login")

    _sign_in(page, "onkyu.tanaka", shots=True)
    assert "田中 恩給" in page.get_by_test_id("officer").inner_text()
    options = page.get_by_test_id("affair-select").locator("option").all_inner_texts()
    assert any(text.startswith(PENSION) for text in options)
    assert not any(text.startswith(RADIO) for text in options)
    _axe(page, "affairs")
    _shot(page, "affairs")

    page.get_by_role("button", name="この事務で照会する").click()
    page.get_by_test_id("batch-form").wait_for()
    # One online look-up first: the result is shown and logged.
    page.get_by_label("住民票コード（1行に1件、100件まで）").fill(centre.residents[0])
    page.get_by_role("button", name="照会する", exact=True).click()
    page.get_by_test_id("lookup-results").wait_for()
    assert centre.residents[0] in page.get_by_test_id("lookup-results").inner_text()
    _axe(page, "affair")
    _shot(page, "affair")

    upload = tmp_path / "pension-batch.csv"
    upload.write_bytes(_batch_file(centre))
    page.get_by_label("照会ファイル").set_input_files(str(upload))
    page.get_by_role("button", name="送信する").click()
    page.get_by_test_id("progress").wait_for()
    assert page.get_by_test_id("progress").get_attribute("data-status") == "queued"
    assert page.get_by_test_id("progress-bar").get_attribute("max") == str(ROWS)
    _axe(page, "progress")
    _shot(page, "progress")

    centre.release_worker.set()
    # htmx swaps the fragment in place: half-way first (one chunk of 5,000 rows), then done.
    page.locator("#progress[data-status='running']").wait_for(timeout=30_000)
    assert page.get_by_test_id("progress-bar").get_attribute("value") == "5000"
    page.locator("#progress[data-status='done']").wait_for(timeout=60_000)
    assert page.get_by_test_id("progress-bar").get_attribute("value") == str(ROWS)
    assert page.get_by_test_id("error-rows").inner_text() == "2"
    _axe(page, "done")
    _shot(page, "done")

    with page.expect_download() as download:
        page.get_by_test_id("download-csv").click()
    results = list(csv.reader(io.StringIO(Path(download.value.path()).read_text("utf-8-sig"))))
    assert len(results) == ROWS + 1  # the header, then one line per row asked
    found = [row for row in results[1:] if row[2] == "found"]
    assert {row[5] for row in found} == set(centre.residents)
    with page.expect_download() as download:
        page.get_by_test_id("download-errors").click()
    errors = list(csv.reader(io.StringIO(Path(download.value.path()).read_text("utf-8-sig"))))
    assert [row[0] for row in errors[1:]] == ["5000", "7000"]

    page.get_by_role("link", name="照会履歴・月別統計").click()
    page.get_by_test_id("monthly").wait_for()
    assert PENSION in page.get_by_test_id("monthly").inner_text()
    _axe(page, "history")
    _shot(page, "history", full_page=False)  # the list is long: its top is the picture


# The refusal is the console's rule, not storage's (both databases in
# tests/integration/network/test_agency_console.py): one browser run is enough.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_radio_officer_cannot_select_the_pension_affair(
    terminal: Callable[[str], Any], centre: Centre
) -> None:
    page = terminal(RADIO_AGENCY)
    _sign_in(page, "denpa.sato")
    options = page.get_by_test_id("affair-select").locator("option").all()
    assert [option.get_attribute("value") for option in options] == [RADIO]
    page.goto(f"/agency/affairs/{PENSION}")
    page.get_by_test_id("statute").wait_for()
    assert page.get_by_test_id("error-code").inner_text() == "JUKI-AFF-001"
    assert "別表第一の十六の項" in page.get_by_test_id("legal-basis").inner_text()
    _axe(page, "refused")
    _shot(page, "refused")
    del centre
