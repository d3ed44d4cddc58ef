"""Shared fixtures: every storage-backed test runs on SQLite and on PostgreSQL.

``JUKINET_TEST_BACKENDS`` (default ``sqlite,postgresql``) picks the backends;
``JUKINET_TEST_POSTGRES_URL`` is an admin URL used to create a throw-away database per
test session (and per xdist worker).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from jukinet.config import load_settings
from jukinet.network.hsm import DEFAULT_MODULE, TOKEN_LOCK, softhsm_environment
from jukinet.runtime.bootstrap import build_node
from jukinet.services import audit
from jukinet.services.context import ServiceContext
from jukinet.storage.migrate import upgrade
from jukinet.storage.tables import Base
from tests.support.clock import FixedClock

BACKENDS = [
    b.strip()
    for b in os.environ.get("JUKINET_TEST_BACKENDS", "sqlite,postgresql").split(",")
    if b.strip()
]
POSTGRES_ADMIN_URL = os.environ.get(
    "JUKINET_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
#: 2026-11-26 12:00 in Japan: the tests' "now".
TEST_NOW = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (migrating per test would be slow)."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test session, dropped at the end."""
    name = f"jukinet_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    upgrade(url)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    """A migrated PostgreSQL database nobody connects to, copied for multi-node tests."""
    name = f"jukinet_tpl_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    upgrade(POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}")
    yield name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def new_database(
    request: pytest.FixtureRequest, database_url: str, tmp_path: Path
) -> Iterator[Callable[[str], str]]:
    """A factory of further clean databases on the same backend as ``database_url``
    (one per node in network tests); PostgreSQL ones are dropped afterwards."""
    created: list[str] = []
    admin = None

    def make(label: str) -> str:
        nonlocal admin
        if database_url.startswith("sqlite"):
            template: Path = request.getfixturevalue("sqlite_template")
            target = tmp_path / f"{label}.sqlite3"
            shutil.copyfile(template, target)
            return f"sqlite:///{target}"
        template_name: str = request.getfixturevalue("postgres_template")
        admin = admin or create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        name = f"jukinet_n_{uuid.uuid4().hex[:12]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template_name}"'))
        created.append(name)
        return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"

    yield make
    if admin is not None:
        with admin.connect() as conn:
            for name in created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _truncate_postgres(url: str) -> None:
    engine = create_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A clean, migrated database on each backend in turn."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        target = tmp_path / "jukinet.sqlite3"
        shutil.copyfile(template, target)
        return f"sqlite:///{target}"
    url: str = request.getfixturevalue("postgres_url")
    _truncate_postgres(url)
    return url


@pytest.fixture
def clock() -> FixedClock:
    """A clock fixed at TEST_NOW that tests may advance."""
    return FixedClock(TEST_NOW)


@pytest.fixture
def node(database_url: str, clock: FixedClock, tmp_path: Path) -> Iterator[ServiceContext]:
    """A municipality node (Nishitokyo, 132292) on a clean database, with cheap argon2."""
    settings = load_settings(
        environment="test",
        database_url=database_url,
        municipality_code="132292",
        argon2_time_cost=1,
        argon2_memory_cost=8192,
        secret_key="test-secret-key-that-is-long-enough-123",
        # Apart from the database (tmp_path/jukinet.sqlite3), created explicitly as an operator
        # would with `jukinet audit init-key`: no node makes its own.
        audit_key_path=tmp_path / "audit-key" / "audit-signing-key.pem",
        # TestClient's pages are served from http://testserver.
        webauthn_rp_id="testserver",
        card_photo_dir=tmp_path / "card-photos",
    )
    built = build_node(settings, clock=clock)
    audit.create_log_key(built)
    yield built
    built.engine.dispose()


@pytest.fixture
def card_reader(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A SoftHSM2 token directory of this test's own: the card writer and reader use it."""
    folder = tmp_path / "cards"
    for key, value in softhsm_environment(folder).items():
        monkeypatch.setenv(key, value)
    # SoftHSM reads its configuration when the library is initialised: start it afresh so this
    # test sees its own (empty) token directory, not an earlier test's cards.
    import pkcs11

    with TOKEN_LOCK:
        pkcs11.lib(DEFAULT_MODULE).reinitialize()
    return folder
