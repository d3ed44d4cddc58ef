"""A newcomer's first hour (issue 17, Done when): the demo as ``./scripts/demo`` runs it, every
command it prints run as printed in a new shell, every demo operator signed in at every node,
and Ctrl-C during set-up and after the network settled — each stop within 3 s, nothing left.

The demo runs as a child process from the venv's ``jukinet`` script with a clean environment
(only what ``scripts/demo`` sets), never in-process: signals, output and processes are real.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.cards import SoftAuthenticator, page_sign_in
from tests.support.ports import base_port as block_base_port

pytestmark = pytest.mark.e2e

#: The issue's bound: every phase of the demo stops within 3 s of Ctrl-C.
STOP_BOUND_SECONDS = 3.0
JUKINET = Path(sys.executable).parent / "jukinet"
NODES = 6


def clean_environment(home: Path) -> dict[str, str]:
    """What a new login shell has: no venv activated, no JUKINET_* variable."""
    return {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8"}


@dataclass
class Demo:
    """``jukinet demo`` in a child process, its output lines as they come."""

    folder: Path
    base_port: int
    process: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)
    reader: threading.Thread | None = None
    #: The security key each operator enrolled at each node on first sign-in (node, username).
    cards: dict[tuple[int, str], SoftAuthenticator] = field(default_factory=dict)

    @classmethod
    def start(cls, tmp_path: Path, *extra: str) -> Demo:
        base_port = block_base_port()
        folder = tmp_path / "demo"
        env = {**clean_environment(tmp_path), "JUKINET_ENVIRONMENT": "dev"}  # as scripts/demo
        process = subprocess.Popen(
            [str(JUKINET), "demo", "--data-dir", str(folder), "--base-port", str(base_port),
             *extra],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )  # fmt: skip
        demo = cls(folder=folder, base_port=base_port, process=process)
        demo.reader = threading.Thread(target=demo._read, daemon=True)
        demo.reader.start()
        return demo

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(text in line for line in self.lines):
                return
            if self.process.poll() is not None:
                time.sleep(0.2)  # the last lines
                pytest.fail(f"the demo exited ({self.process.returncode}):\n{self.output}")
            time.sleep(0.05)
        pytest.fail(f"no {text!r} within {timeout} s:\n{self.output}")

    def interrupt(self) -> float:
        """Ctrl-C; the seconds until the demo process has exited."""
        pressed = time.monotonic()
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f"the demo ignored Ctrl-C for 30 s:\n{self.output}")
        elapsed = time.monotonic() - pressed
        if self.reader is not None:
            self.reader.join(timeout=5)
        return elapsed

    def kill(self) -> None:
        """Clean up after a failed test: the demo and whatever nodes it left."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        for pid in node_processes(self.folder):
            os.kill(pid, signal.SIGKILL)

    def ports(self) -> list[int]:
        return [self.base_port + i for i in range(NODES)] + [
            self.base_port + 100 + i for i in range(NODES)
        ]


def node_processes(folder: Path) -> list[int]:
    """Processes whose command line names the demo's folder (its node runners)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if str(folder) in command and int(entry.name) != os.getpid():
            found.append(int(entry.name))
    return found


def listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def assert_stopped_cleanly(demo: Demo, elapsed: float) -> None:
    assert elapsed < STOP_BOUND_SECONDS, f"stopped after {elapsed:.1f} s:\n{demo.output}"
    assert demo.lines[-1].endswith("stopped"), demo.output
    assert node_processes(demo.folder) == []
    assert [port for port in demo.ports() if listening(port)] == []


@pytest.fixture
def demo_cleanup() -> Iterator[list[Demo]]:
    started: list[Demo] = []
    yield started
    for demo in started:
        demo.kill()


def test_ctrl_c_while_the_nodes_start_stops_everything_within_3_s(
    tmp_path: Path, demo_cleanup: list[Demo]
) -> None:
    demo = Demo.start(tmp_path, "--residents", "60")
    demo_cleanup.append(demo)
    demo.wait_for("starting the nodes", timeout=90)
    time.sleep(1.0)  # the node processes exist and are still coming up
    assert node_processes(demo.folder), "no node was started yet"
    elapsed = demo.interrupt()
    assert_stopped_cleanly(demo, elapsed)
    assert demo.process.returncode == 130
    assert "Traceback" not in demo.output


def _commands(output: str) -> list[str]:
    """The lines after each ``# what it does`` line of the demo's command block."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if "commands to run in a new shell" in line)
    block = lines[start + 1 :]
    return [block[i + 1] for i, line in enumerate(block) if line.startswith("# ")]


def _passwords(output: str) -> dict[str, str]:
    found = {}
    for username in ("madoguchi", "kanri", "anzen"):
        match = re.search(rf"│ {username}\s+│ (\S+)", output)
        assert match, output
        found[username] = match.group(1)
    return found


def _nav_links(html: str) -> list[str]:
    nav = re.search(r'<nav class="site-header__nav".*?</nav>', html, re.S)
    assert nav, html[:500]
    return re.findall(r'href="([^"]+)"', nav.group(0))


@pytest.fixture(scope="module")
def running_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """One settled demo for the tests below; the last of them presses Ctrl-C."""
    demo = Demo.start(tmp_path_factory.mktemp("first-hour"), "--residents", "200")
    try:
        demo.wait_for("press Ctrl-C to stop", timeout=150)
        yield demo
    finally:
        demo.kill()


@contextmanager
def _signed_in(demo: Demo, index: int, username: str, password: str) -> Iterator[httpx.Client]:
    """A client signed in on the pages; the first sign-in enrols a key as the demo does."""
    card = demo.cards.setdefault((index, username), SoftAuthenticator())
    with httpx.Client(base_url=f"http://localhost:{demo.base_port + index}", timeout=30) as client:
        answer = page_sign_in(client, username, password, card)
        assert answer.status_code == 303, (client.base_url, username, answer.text[:300])
        yield client


def test_the_demo_prints_commands_that_run_as_printed_in_a_new_shell(
    running_demo: Demo, tmp_path: Path
) -> None:
    output = running_demo.output
    assert "╭" not in output  # no box around commands
    assert "│ jukinet" not in output
    commands = _commands(output)
    assert len(commands) == 4, output
    assert any(" audit disclose " in command for command in commands)
    assert any(" --public-key " in command for command in commands)
    for command in commands:
        ran = subprocess.run(
            ["/bin/bash", "-c", command],
            cwd=tmp_path,
            env=clean_environment(tmp_path),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert ran.returncode == 0, f"{command}\n{ran.stdout}\n{ran.stderr}"


def test_every_demo_operator_lands_on_a_page_at_every_node(running_demo: Demo) -> None:
    # ... without an error, and every link of its navigation opens for that operator.
    for index in range(NODES):
        for username, password in _passwords(running_demo.output).items():
            with _signed_in(running_demo, index, username, password) as client:
                landing = client.get("/", follow_redirects=True)
                where = f"{client.base_url} {username} → {landing.url}"
                assert landing.status_code == 200, where
                assert 'data-testid="error-message"' not in landing.text, where
                for link in _nav_links(landing.text):
                    page = client.get(link, follow_redirects=True)
                    assert page.status_code == 200, f"{where}: nav {link} → {page.status_code}"


#: Counts each navigation link's line boxes: more than one means its words were broken.
_WRAPPED_LINKS = """() => [...document.querySelectorAll('.site-header__nav a')].flatMap(a => {
  const range = document.createRange();
  range.selectNodeContents(a);
  const lines = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
  return lines.size > 1 ? [a.textContent.trim()] : [];
})"""


@pytest.mark.parametrize("width", [1024, 1280, 1366])
def test_the_navigation_never_breaks_a_word(
    running_demo: Demo, chromium_browser: Any, width: int, tmp_path: Path
) -> None:
    # The operators with the most links, at a municipality and at the centre, in both languages.
    passwords = _passwords(running_demo.output)
    for index, username in [(3, "anzen"), (3, "kanri"), (0, "anzen"), (0, "madoguchi")]:
        with _signed_in(running_demo, index, username, passwords[username]) as client:
            cookies = [
                {"name": name, "value": value, "url": str(client.base_url)}
                for name, value in client.cookies.items()
            ]
            context = chromium_browser.new_context(
                base_url=str(client.base_url), viewport={"width": width, "height": 800}
            )
            try:
                context.add_cookies(cookies)
                page = context.new_page()
                for lang in ("ja", "en"):
                    page.goto(f"/lang/{lang}")
                    page.goto("/")
                    shot = tmp_path / f"nav-{width}-{index}-{username}-{lang}.png"
                    page.screenshot(path=str(shot))
                    wrapped = page.evaluate(_WRAPPED_LINKS)
                    assert wrapped == [], f"{username}@{index} {lang} {width}px: {wrapped} ({shot})"
            finally:
                context.close()


def test_ctrl_c_after_the_network_settled_stops_everything_within_3_s(
    running_demo: Demo,
) -> None:
    elapsed = running_demo.interrupt()
    assert_stopped_cleanly(running_demo, elapsed)
    assert running_demo.process.returncode == 130
