"""A stand-alone ``jukinet serve`` process and its access log (issue 11, findings 4 and 12).

The server refuses to start without its audit key (and never makes one up), and signs tree
heads on its schedule, so entries recorded while it runs are covered within the interval: an
insider who then cuts the log's tail is caught by ``jukinet audit verify``. On SQLite and
PostgreSQL.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import delete

from jukinet.runtime.cluster import free_port
from jukinet.services.context import ServiceContext
from jukinet.storage import access_log as store
from jukinet.storage.tables import TreeHeadRow
from tests.integration.services.test_access_log_attacks import _cut_log, _grow, _read

pytestmark = pytest.mark.e2e

INTERVAL = 0.5


def _env(node: ServiceContext, key: Path) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.upper().startswith("JUKINET_")}
    return base | {
        "JUKINET_ENVIRONMENT": "test",
        "JUKINET_DATABASE_URL": node.settings.database_url,
        "JUKINET_SECRET_KEY": node.settings.secret_key,
        "JUKINET_AUDIT_KEY_PATH": str(key),
    }


def _jukinet(*args: str) -> list[str]:
    return [sys.executable, "-m", "jukinet.cli.main", *args]


@contextmanager
def _serving(node: ServiceContext, key: Path, log: Path) -> Iterator[str]:
    port = free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(
            _jukinet("serve", "--port", str(port), "--tree-head-interval", str(INTERVAL)),
            env=_env(node, key),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, log.read_text("utf-8", "replace")
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)


def _verify(node: ServiceContext, key: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        _jukinet("audit", "verify"),
        env=_env(node, key),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_serve_refuses_to_start_without_its_audit_key(node: ServiceContext, tmp_path: Path) -> None:
    missing = tmp_path / "keys" / "nowhere.pem"
    started = subprocess.run(
        _jukinet("serve", "--port", str(free_port())),
        env=_env(node, missing),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert started.returncode == 2, started.stdout + started.stderr
    assert "jukinet audit init-key" in started.stdout + started.stderr
    assert not missing.exists()


def test_serve_signs_heads_on_schedule_and_a_cut_tail_is_caught(
    node: ServiceContext, tmp_path: Path
) -> None:
    key = node.settings.audit_key_path
    assert key is not None
    code = _grow(node, 4)
    with _serving(node, key, tmp_path / "serve.log"):
        _read(node, code, 5)  # ten entries while the server runs
        started = time.monotonic()
        while True:
            with node.uow() as uow:
                head = store.latest_tree_head(uow.session)
                size = store.log_size(uow.session)
            if head is not None and head.tree_size == size:
                break
            assert time.monotonic() - started < INTERVAL + 5, "no head covered the log's end"
            time.sleep(0.05)
        covered_after = time.monotonic() - started
    print(f"5 entries recorded while serving covered by a scheduled head in {covered_after:.2f} s")
    assert covered_after < INTERVAL + 5
    verified = _verify(node, key)
    assert verified.returncode == 0, verified.stdout + verified.stderr

    _read(node, code, 2)  # recorded with no server running: nothing signs them
    uncovered = _verify(node, key)
    assert uncovered.returncode == 1
    assert "no signed head covers the log's end" in uncovered.stdout + uncovered.stderr

    _cut_log(node, size)  # the insider removes them again: back to a covered log
    assert _verify(node, key).returncode == 0
    _cut_log(node, size - 3)  # …but entries a head covers cannot go
    cut = _verify(node, key)
    assert cut.returncode == 1
    assert "beyond the stored log" in cut.stdout + cut.stderr
    with node.uow() as uow:  # nor can the heads that cover them
        uow.session.execute(delete(TreeHeadRow).where(TreeHeadRow.tree_size > size - 3))
        uow.commit()
    headless = _verify(node, key)
    assert headless.returncode == 1
    assert "fewer heads than published" in headless.stdout + headless.stderr
