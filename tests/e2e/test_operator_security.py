"""Issue 18's day at the counter, end to end: Debian's Chromium at a registered terminal
(a client certificate, mutual TLS), a clerk's operator card in Chromium's virtual authenticator
(WebAuthn with the card's PIN verified), the node's clock moved by the test.

The clerk signs in with password and card, finds a resident (code masked), reveals the code
(logged), is refused at 19:30 on a weekday and on a public holiday, works again under a permit a
security officer approves with their own card; five wrong passwords lock another clerk until the
officer unlocks them; a card reported lost ends the running session; an unregistered or revoked
terminal never reaches the sign-in page.
"""

from __future__ import annotations

import os
import re
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from sqlalchemy import select

from jukinet.domain.clock import JST
from jukinet.domain.codes import mask_resident_code
from jukinet.domain.operators import Actor, Role
from jukinet.network.terminal_ca import TerminalAuthority
from jukinet.runtime.bootstrap import build_node
from jukinet.services import audit
from jukinet.services.context import ServiceContext
from jukinet.services.operator_security.cards import report_lost
from jukinet.services.operator_security.terminals import enroll_terminal, revoke_terminal
from jukinet.services.operators import add_operator
from jukinet.storage.migrate import upgrade
from jukinet.storage.tables import AccessLogRow
from tests.e2e.conftest import ROOT
from tests.e2e.operator_server import settings_for
from tests.support.cards import SoftAuthenticator, card_administrator, lend_security_key
from tests.support.clock import FileClock
from tests.support.factories import PASSWORD, move_in_household, person, with_pool
from tests.support.virtual_card import card_in_reader

pytestmark = pytest.mark.e2e

#: Thursday 3 December 2026, 10:00 in Japan: the counter is open.
OPEN = datetime(2026, 12, 3, 10, 0, tzinfo=JST)
#: The same Thursday at 19:30: closed.
EVENING = datetime(2026, 12, 3, 19, 30, tzinfo=JST)
#: Thursday 11 February 2027 (建国記念の日, a public holiday) at 10:00: closed.
HOLIDAY = datetime(2027, 2, 11, 10, 0, tzinfo=JST)
#: The Friday after: open.
NEXT_DAY = datetime(2027, 2, 12, 10, 0, tzinfo=JST)
P12_PASSWORD = "terminal-import-password"
OFFICER = Actor(operator_id=0, username="setup.officer", role=Role.SECURITY_OFFICER)


@dataclass
class Counter:
    """The running node, its clock, its terminal files and the people at the counter."""

    base_url: str
    folder: Path
    clock: FileClock
    node: ServiceContext
    terminal_p12: Path
    revoked_p12: Path
    cards: dict[str, SoftAuthenticator]
    resident_code: str


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _client_pem(p12: Path, folder: Path) -> tuple[str, str]:
    """The PKCS#12's certificate and key as PEM files (what httpx's SSL context loads)."""
    key, cert, _ = pkcs12.load_key_and_certificates(p12.read_bytes(), P12_PASSWORD.encode())
    assert key is not None
    assert cert is not None
    cert_path, key_path = folder / f"{p12.stem}.crt", folder / f"{p12.stem}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_path), str(key_path)


def _tls(folder: Path, p12: Path | None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(folder / "terminals" / "terminal-ca.crt"))
    if p12 is not None:
        context.load_cert_chain(*_client_pem(p12, folder))
    return context


@pytest.fixture(scope="module")
def counter(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Counter]:
    folder = tmp_path_factory.mktemp("operator-day")
    clock = FileClock(folder / "now.txt")
    # Certificates are issued on the real clock (TLS checks their dates by it); the counter's
    # hours then follow the moved clock.
    clock.set(datetime.now(UTC))
    settings = settings_for(folder)
    upgrade(settings.database_url)
    node = build_node(settings, clock=clock)
    audit.create_log_key(node)
    authority = TerminalAuthority(folder / "terminals")
    authority.create(node=str(node.node_id), hosts=["localhost", "127.0.0.1"], now=clock())
    for username, role in (
        ("madoguchi", Role.CLERK),
        ("madoguchi2", Role.CLERK),
        ("anzen", Role.SECURITY_OFFICER),
        ("kado", Role.CARD_ADMINISTRATOR),
    ):
        add_operator(
            node,
            actor=None,
            username=username,
            display_name="試験 職員",
            role=role,
            password=PASSWORD,
        )
    cards = {
        name: lend_security_key(node, name) for name in ("madoguchi", "madoguchi2", "anzen", "kado")
    }
    terminal_p12 = folder / "T-01.p12"
    terminal_p12.write_bytes(
        enroll_terminal(
            node,
            actor=OFFICER,
            authority=authority,
            name="T-01",
            place="市民課 窓口1",
            purpose="住民記録",
            password=P12_PASSWORD,
        )
    )
    revoked_p12 = folder / "T-99.p12"
    revoked_p12.write_bytes(
        enroll_terminal(
            node,
            actor=OFFICER,
            authority=authority,
            name="T-99",
            place="倉庫",
            purpose="廃棄予定",
            password=P12_PASSWORD,
        )
    )
    revoke_terminal(node, actor=OFFICER, name="T-99", reason="廃棄")
    clerk = Actor(operator_id=1, username="madoguchi", role=Role.CLERK, terminal_id="T-01")
    with_pool(node, 20)
    moved = move_in_household(
        node,
        clerk,
        person(family="渡邊", given="健一", family_kana="ワタナベ", given_kana="ケンイチ"),
    )
    port = _free_port()
    log = (folder / "server.log").open("wb")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.e2e.operator_server", str(folder), str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base_url = f"https://localhost:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base_url}/healthz", verify=_tls(folder, terminal_p12)).is_success:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None, (folder / "server.log").read_text()
            assert time.monotonic() < deadline, "the operator port did not come up"
            time.sleep(0.3)
        yield Counter(
            base_url=base_url,
            folder=folder,
            clock=clock,
            node=node,
            terminal_p12=terminal_p12,
            revoked_p12=revoked_p12,
            cards=cards,
            resident_code=moved.records[0].record.resident_code,
        )
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()
        node.engine.dispose()


def _desk(browser: Any, counter: Counter, card: SoftAuthenticator) -> Any:
    """A page at terminal T-01 with ``card`` in Chromium's virtual authenticator."""
    context = browser.new_context(
        base_url=counter.base_url,
        locale="ja-JP",
        ignore_https_errors=True,
        client_certificates=[
            {
                "origin": counter.base_url,
                "pfxPath": str(counter.terminal_p12),
                "passphrase": P12_PASSWORD,
            }
        ],
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    card_in_reader(context, page, card)
    return page


def _sign_in(page: Any, username: str, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("ユーザー名").fill(username)
    page.get_by_label("パスワード").fill(password)
    page.get_by_role("button", name="ログイン").click()


def _card(page: Any) -> None:
    # The button answers once card.js (deferred) has attached to it; then wait for the answer.
    page.locator("#card-form[data-ready='true']").wait_for()
    page.get_by_role("button", name="カードで確認する").click()
    page.wait_for_url(lambda url: "/login/card" not in url)


def _log_reasons(node: ServiceContext) -> list[str]:
    with node.session_factory() as session:
        return [r or "" for r in session.scalars(select(AccessLogRow.reason))]


def test_an_unregistered_or_revoked_terminal_never_reaches_sign_in(counter: Counter) -> None:
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{counter.base_url}/login", verify=_tls(counter.folder, None))
    revoked = httpx.get(
        f"{counter.base_url}/login", verify=_tls(counter.folder, counter.revoked_p12)
    )
    assert revoked.status_code == 403
    assert "登録されていない" in revoked.text


def test_a_day_at_the_counter(chromium_browser: Any, counter: Counter) -> None:
    from playwright.sync_api import expect

    counter.clock.set(OPEN)
    clerk = _desk(chromium_browser, counter, counter.cards["madoguchi"])
    _sign_in(clerk, "madoguchi")
    _card(clerk)
    expect(clerk.get_by_role("heading", name="住民検索")).to_be_visible()
    expect(clerk.get_by_text("T-01")).to_be_visible()

    # Find the resident: the code is masked, in the list and on the record.
    clerk.get_by_label("氏名（漢字・カナ）").fill("渡辺")
    clerk.get_by_role("button", name="検索").click()
    masked = mask_resident_code(counter.resident_code)
    expect(clerk.get_by_text(masked).first).to_be_visible()
    assert counter.resident_code not in clerk.content()
    clerk.get_by_role("link", name=re.compile("渡邊")).first.click()
    expect(clerk.get_by_test_id("resident-code")).to_have_text(masked)
    assert counter.resident_code not in clerk.url

    # Reveal it: an explicit act with its reason, logged.
    clerk.get_by_text("住民票コードを表示").click()
    clerk.get_by_label("表示する理由").fill("本人からの申出による確認")
    clerk.get_by_role("button", name="表示する（記録されます）").click()
    expect(clerk.get_by_test_id("resident-code")).to_contain_text(counter.resident_code)
    assert any("code revealed: 本人からの申出による確認" in r for r in _log_reasons(counter.node))

    # 19:30 on a weekday (the morning's session long over): signing in again leads only to
    # the permits page; the register is refused.
    counter.clock.set(EVENING)
    clerk.goto("/")
    expect(clerk).to_have_url(re.compile(r"/login$"))
    _sign_in(clerk, "madoguchi")
    _card(clerk)
    expect(clerk).to_have_url(re.compile(r"/permits"))
    expect(clerk.get_by_text("業務時間外").first).to_be_visible()
    clerk.goto("/events/move-in")
    expect(clerk).to_have_url(re.compile(r"/permits"))

    # A public holiday at 10:00: refused too; the clerk asks for a permit.
    counter.clock.set(HOLIDAY)
    _sign_in(clerk, "madoguchi")
    _card(clerk)
    expect(clerk).to_have_url(re.compile(r"/permits"))
    clerk.get_by_label("時間外利用の理由").fill("転入届の処理が終わらないため")
    clerk.get_by_label("時間（分）").fill("60")
    clerk.get_by_role("button", name="申請する").click()

    # The security officer approves it, signed in with their own card.
    officer = _desk(chromium_browser, counter, counter.cards["anzen"])
    _sign_in(officer, "anzen")
    _card(officer)
    officer.goto("/permits")
    officer.get_by_role("button", name="承認する").first.click()
    clerk.goto("/")
    expect(clerk.get_by_role("heading", name="住民検索")).to_be_visible()
    assert any(r.startswith("operator:permit:approved") for r in _log_reasons(counter.node))

    # The clerk's card is reported lost: the running session ends on the next request.
    report_lost(
        counter.node,
        actor=card_administrator(),
        serial=counter.cards["madoguchi"].serial,
        note="電話で紛失の届出",
    )
    clerk.goto("/")
    expect(clerk).to_have_url(re.compile(r"/login$"))
    expect(clerk.get_by_text("操作者カード").first).to_be_visible()

    # The next working day: five wrong passwords lock another clerk; the right one is then
    # refused alike, until the officer unlocks the account with a reason.
    counter.clock.set(NEXT_DAY)
    other = _desk(chromium_browser, counter, counter.cards["madoguchi2"])
    for attempt in range(5):
        _sign_in(other, "madoguchi2", f"wrong-password-{attempt}")
        expect(other.get_by_role("alert").first).to_be_visible()
    _sign_in(other, "madoguchi2")
    expect(other).to_have_url(re.compile(r"/login$"))
    assert any(r.startswith("operator:account:locked") for r in _log_reasons(counter.node))
    _sign_in(officer, "anzen")
    _card(officer)
    officer.goto("/security/accounts")
    form = officer.get_by_test_id("unlock-form")
    form.get_by_label(re.compile("ユーザー名")).select_option("madoguchi2")
    form.get_by_label(re.compile("理由")).fill("本人確認の上で解除")
    form.get_by_role("button", name="解除する").click()
    _sign_in(other, "madoguchi2")
    _card(other)
    expect(other.get_by_role("heading", name="住民検索")).to_be_visible()


def test_the_card_administrator_registers_a_new_key_in_the_browser(
    chromium_browser: Any, counter: Counter
) -> None:
    from playwright.sync_api import expect

    counter.clock.set(OPEN)
    desk = _desk(chromium_browser, counter, counter.cards["kado"])
    _sign_in(desk, "kado")
    _card(desk)
    desk.goto("/security/cards")
    form = desk.get_by_test_id("register-form")
    form.get_by_label(re.compile("カード番号")).fill("K-NEW-0001")
    form.get_by_role("button").click()
    # The ceremony page: the new key (here the virtual authenticator) creates its credential.
    desk.locator("#card-form[data-ready='true']").wait_for()
    desk.get_by_role("button", name="キーで登録する").click()
    expect(desk).to_have_url(re.compile(r"/security/cards\?done="))
    expect(desk.get_by_text("K-NEW-0001").first).to_be_visible()
    assert any(
        r.startswith("operator:card:registered: K-NEW-0001") for r in _log_reasons(counter.node)
    )
