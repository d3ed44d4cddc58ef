"""Shared helpers for the benchmarks: throw-away databases on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text

from jukinet.config import load_settings
from jukinet.runtime.bootstrap import build_node
from jukinet.services.context import ServiceContext
from jukinet.storage.migrate import upgrade

POSTGRES_ADMIN_URL = os.environ.get(
    "JUKINET_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
BACKENDS = [
    b for b in os.environ.get("JUKINET_BENCH_BACKENDS", "sqlite,postgresql").split(",") if b
]


@contextmanager
def fresh_database(backend: str) -> Iterator[str]:
    """A migrated, empty database on ``backend``; removed afterwards."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
            upgrade(url)
            yield url
        return
    name = f"jukinet_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        upgrade(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def bench_node(url: str, **overrides: object) -> ServiceContext:
    """A municipality node for benchmarks (cheap argon2: sign-in is not what is measured)."""
    settings = load_settings(
        **overrides,
        environment="test",
        database_url=url,
        municipality_code="132292",
        argon2_time_cost=1,
        argon2_memory_cost=8192,
        secret_key="bench-secret-key-that-is-long-enough-0123",
    )
    return build_node(settings)
