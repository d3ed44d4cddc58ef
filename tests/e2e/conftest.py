"""A real server and a real browser for the end-to-end tests.

The server is a separate process: ``uvicorn --factory tests.e2e.conftest:app_from_env`` on a
free localhost port, serving a migrated SQLite database prepared in a temporary directory. The
browser is Debian's Chromium driven by Playwright (never ``playwright install``).
"""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

if TYPE_CHECKING:
    from fastapi import FastAPI

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("JUKINET_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ENV_DATABASE_URL = "JUKINET_E2E_DATABASE_URL"
ENV_SECRET_KEY = "JUKINET_E2E_SECRET_KEY"
E2E_USERNAME = "clerk.e2e"
E2E_PASSWORD = "e2e-password-long-enough"  # a throw-away test account


def _settings(database_url: str, secret_key: str) -> Any:
    from jukinet.config import load_settings

    return load_settings(
        environment="test",
        database_url=database_url,
        municipality_code="132292",
        argon2_time_cost=1,
        argon2_memory_cost=8192,
        secret_key=secret_key,
        always_open=True,
        demo_card_enrolment=True,
    )


def app_from_env() -> FastAPI:
    """The app factory uvicorn calls in the server process (settings from the environment)."""
    from jukinet.runtime.bootstrap import build_node
    from jukinet.web.app import create_app

    settings = _settings(os.environ[ENV_DATABASE_URL], os.environ[ENV_SECRET_KEY])
    return create_app(build_node(settings))


def _prepare_database(database_url: str, secret_key: str) -> None:
    from jukinet.domain.operators import Role
    from jukinet.runtime.bootstrap import build_node
    from jukinet.services.codes import allot_codes
    from jukinet.services.operators import add_operator
    from jukinet.storage.migrate import upgrade

    upgrade(database_url)
    node = build_node(_settings(database_url, secret_key))
    try:
        add_operator(
            node,
            actor=None,
            username=E2E_USERNAME,
            display_name="窓口 試験",
            role=Role.CLERK,
            password=E2E_PASSWORD,
        )
        allot_codes(node, count=20, rng=random.Random(2026))
    finally:
        node.engine.dispose()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class CounterServer:
    """A running server and the operator who may sign in to it."""

    base_url: str
    username: str
    password: str


@contextmanager
def serving(directory: Path, database_url: str, secret_key: str, **env: str) -> Iterator[str]:
    """Run uvicorn on a free port (``env`` added to its environment) until the block ends;
    the base URL, on ``localhost``."""
    port = _free_port()
    environment = {
        **os.environ,
        **env,
        ENV_DATABASE_URL: database_url,
        ENV_SECRET_KEY: secret_key,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    log = (directory / "server.log").open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "tests.e2e.conftest:app_from_env",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    # WebAuthn needs the relying-party id as host: localhost, never 127.0.0.1.
    base_url = f"http://localhost:{port}"
    try:
        _wait_until_up(base_url, process, directory / "server.log")
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()


@pytest.fixture(scope="session")
def counter_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CounterServer]:
    """Start uvicorn on a free port with a fresh database; stop it at the end."""
    directory = tmp_path_factory.mktemp("e2e")
    database_url = f"sqlite:///{directory / 'jukinet.sqlite3'}"
    secret_key = "e2e-secret-key-that-is-long-enough-0123456789"
    _prepare_database(database_url, secret_key)
    with serving(directory, database_url, secret_key) as base_url:
        yield CounterServer(base_url=base_url, username=E2E_USERNAME, password=E2E_PASSWORD)


def _wait_until_up(base_url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the server exited early:\n{log.read_text(errors='replace')}")
        try:
            if httpx.get(f"{base_url}/login", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail(f"the server did not start in time:\n{log.read_text(errors='replace')}")


@pytest.fixture(scope="session")
def chromium_browser() -> Iterator[Any]:
    """Debian's Chromium under Playwright; the test is skipped if either is missing."""
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(chromium_browser: Any, counter_server: CounterServer) -> Iterator[Any]:
    """A fresh browser context (own cookies) with a Japanese locale and a desktop viewport."""
    context = chromium_browser.new_context(
        base_url=counter_server.base_url,
        locale="ja-JP",
        viewport={"width": 1280, "height": 900},
    )
    context.set_default_timeout(10_000)
    new_page = context.new_page()
    try:
        yield new_page
    finally:
        context.close()


def sign_in_with_card(page: Any, username: str, password: str) -> None:
    """Sign in on the counter pages: the password, then the operator card — Chromium's virtual
    authenticator with its PIN verified, enrolled by the first sign-in as the demo allows."""
    page.goto("/login")
    page.get_by_label("ユーザー名").fill(username)
    page.get_by_label("パスワード").fill(password)
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "usb",
                "hasResidentKey": False,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )
    page.get_by_role("button", name="ログイン").click()
    page.locator("#card-form[data-ready='true']").wait_for()
    page.get_by_role("button", name="カードで確認する").click()
