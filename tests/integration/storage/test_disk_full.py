"""A full disk under the counter: the write that does not fit fails clearly and leaves nothing.

SQLite: the database file is capped with ``PRAGMA max_page_count`` on every connection, a few
pages above its size. PostgreSQL: the database lives in a tablespace on a small tmpfs, filled
to the last byte with a filler table (needs root to mount; skipped otherwise). Then clerks file
move-ins through the API until one no longer fits. That request must answer 507 with the
project's error body (JUKI-API-003), every table must be exactly as before it, reads must go on
being answered (and logged — a read whose access-log entry cannot be written is refused the
same way, never served unlogged), nothing of the refused person may reach the logs, and once
space is freed the same move-in goes through.
"""

from __future__ import annotations

import contextlib
import logging
import random
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, event, text
from sqlalchemy.exc import DBAPIError

from jukinet.config import load_settings
from jukinet.domain.codes import random_resident_codes
from jukinet.domain.operators import Role
from jukinet.runtime.bootstrap import build_node
from jukinet.services.context import ServiceContext
from jukinet.storage.database import make_engine
from jukinet.web.app import create_app
from tests.conftest import POSTGRES_ADMIN_URL
from tests.support.clock import FixedClock
from tests.support.factories import api_headers, make_actor
from tests.support.snapshots import table_digests

#: Enough move-ins to fill the few pages left; the test stops at the first that does not fit.
MAX_FILINGS = 400
FAMILY = "渡邊"
GIVEN = "健一郎"


def _move_in(code: str) -> dict[str, Any]:
    return {
        "persons": [
            {
                "family_name": FAMILY,
                "given_name": GIVEN,
                "family_name_kana": "ワタナベ",
                "given_name_kana": "ケンイチロウ",
                "birth_date": "1975-03-14",
                "sex": "male",
                "relationship": "head",
                "resident_code": code,
                "domicile": "東京都国立市中一丁目1番",
                "domicile_head": FAMILY + GIVEN,
            }
        ],
        "address": "東京都西東京市泉町一丁目2番3号",
        "previous_address": "東京都国立市中一丁目1番1号",
        "moved_on": "2026-11-20",
        "filed_on": "2026-11-26",
    }


def _settings(url: str, tmp_path: Path) -> Any:
    return load_settings(
        environment="test",
        database_url=url,
        municipality_code="132292",
        argon2_time_cost=1,
        argon2_memory_cost=8192,
        secret_key="test-secret-key-that-is-long-enough-123",
        audit_key_path=tmp_path / "audit-signing-key.pem",
    )


class Storage:
    """A node whose storage can be filled up and freed again."""

    def __init__(
        self, node: ServiceContext, fill: Callable[[], None], free: Callable[[], None]
    ) -> None:
        self.node = node
        self.fill = fill
        self.free = free


@contextlib.contextmanager
def _sqlite_storage(url: str, tmp_path: Path, clock: FixedClock) -> Iterator[Storage]:
    node = build_node(_settings(url, tmp_path), clock=clock)
    cap: dict[str, int] = {}

    @event.listens_for(node.engine, "connect")
    def _limit(dbapi_connection: Any, _record: Any) -> None:
        if "pages" in cap:
            dbapi_connection.execute(f"PRAGMA max_page_count = {cap['pages']}")

    def fill() -> None:
        with node.engine.connect() as conn:
            cap["pages"] = int(conn.exec_driver_sql("PRAGMA page_count").scalar_one()) + 4
        node.engine.dispose()  # new connections carry the cap

    def free() -> None:
        cap.pop("pages")
        node.engine.dispose()

    try:
        yield Storage(node, fill, free)
    finally:
        node.engine.dispose()


@contextlib.contextmanager
def _postgres_storage(tmp_path: Path, clock: FixedClock, template: str) -> Iterator[Storage]:
    # Outside pytest's private folders, which the postgres user cannot traverse.
    mount = Path(tempfile.mkdtemp(prefix="jukinet-small-disk-"))
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=24m,mode=0700", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        mount.rmdir()
        pytest.skip("a small tmpfs for a PostgreSQL tablespace needs root (mount failed)")
    shutil.chown(mount, "postgres", "postgres")
    suffix = uuid.uuid4().hex[:10]
    space, name = f"jukinet_small_{suffix}", f"jukinet_full_{suffix}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    node = None
    try:
        with admin.connect() as conn:
            conn.execute(text(f"CREATE TABLESPACE \"{space}\" LOCATION '{mount}'"))
            conn.execute(
                text(f'CREATE DATABASE "{name}" TEMPLATE "{template}" TABLESPACE "{space}"')
            )
        url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
        node = build_node(_settings(url, tmp_path), clock=clock)
        filler = create_engine(url, isolation_level="AUTOCOMMIT")

        def fill() -> None:
            with filler.connect() as conn:
                conn.execute(text("CREATE TABLE filler (chunk bytea)"))
                # Stored as written: compressed, the repeated bytes would take no room.
                conn.execute(text("ALTER TABLE filler ALTER COLUMN chunk SET STORAGE EXTERNAL"))
                # Fill the tablespace: big chunks first, then small ones into the last pages.
                for size in (1 << 20, 1 << 16, 1 << 12, 1 << 9):
                    with contextlib.suppress(Exception):
                        for _ in range(64):
                            conn.execute(
                                text("INSERT INTO filler VALUES (decode(repeat('ab', :n), 'hex'))"),
                                {"n": size},
                            )

        def free() -> None:
            with filler.connect() as conn:
                conn.execute(text("DROP TABLE filler"))

        yield Storage(node, fill, free)
    finally:
        if node is not None:
            node.engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'DROP TABLESPACE IF EXISTS "{space}"'))
        admin.dispose()
        subprocess.run(["umount", str(mount)], check=False)
        mount.rmdir()


@pytest.fixture
def storage(
    request: pytest.FixtureRequest, database_url: str, tmp_path: Path, clock: FixedClock
) -> Iterator[Storage]:
    """A node on the backend under test whose disk the test can fill."""
    if database_url.startswith("sqlite"):
        with _sqlite_storage(database_url, tmp_path, clock) as built:
            yield built
        return
    template: str = request.getfixturevalue("postgres_template")
    with _postgres_storage(tmp_path, clock, template) as built:
        yield built


def test_a_write_that_does_not_fit_fails_clearly_and_leaves_nothing(
    storage: Storage, caplog: pytest.LogCaptureFixture
) -> None:
    node = storage.node
    make_actor(node, Role.CLERK, username="clerk")
    client = TestClient(create_app(node), raise_server_exceptions=False)
    headers = api_headers(client, "clerk")
    codes = random_resident_codes(random.Random(5), MAX_FILINGS + 1)
    first = client.post("/api/v1/events/move-in", json=_move_in(codes[0]), headers=headers)
    assert first.status_code == 201, first.text
    storage.fill()

    caplog.set_level(logging.DEBUG)
    refused = None
    filed = 0
    for code in codes[1:]:
        before = table_digests(node)
        answer = client.post("/api/v1/events/move-in", json=_move_in(code), headers=headers)
        if answer.status_code != 201:
            refused = (code, answer, before)
            break
        filed += 1
    assert refused is not None, f"{MAX_FILINGS} move-ins fitted into a full disk"
    code, answer, before = refused
    print(f"\ndisk full after {filed} more move-ins; refused with {answer.status_code}")
    # A clear answer: the project's error body with its own code, in both languages.
    assert answer.status_code == 507, answer.text
    assert answer.json()["errors"][0]["code"] == "JUKI-API-003"
    # Nothing partial: every table exactly as before the refused request.
    assert table_digests(node) == before
    # Nothing of the person in the logs.
    logged = "\n".join(record.getMessage() for record in caplog.records) + caplog.text
    assert FAMILY not in logged
    assert code not in logged

    # Reads go on: answered and logged, or refused the same way, never served unlogged.
    read = client.get(f"/api/v1/residents/{codes[0]}", headers=headers)
    assert read.status_code in (200, 507), read.text
    print(f"a read on the full disk answered {read.status_code}")
    assert client.get("/healthz").status_code == 200

    # Once space is freed the same filing goes through.
    storage.free()
    retried = client.post("/api/v1/events/move-in", json=_move_in(code), headers=headers)
    assert retried.status_code == 201, retried.text
    assert client.get(f"/api/v1/residents/{codes[0]}", headers=headers).status_code == 200


def test_database_errors_never_quote_the_statements_parameters(database_url: str) -> None:
    engine = make_engine(database_url)
    query = text("SELECT * FROM no_such_table WHERE name = :name")
    try:
        with pytest.raises(DBAPIError) as caught, engine.begin() as conn:
            conn.execute(query, {"name": "山田太郎"})
    finally:
        engine.dispose()
    assert "山田太郎" not in str(caught.value)
