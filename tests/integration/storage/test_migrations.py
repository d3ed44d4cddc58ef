"""The migrations and the table definitions agree, on both backends."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text

from jukinet.config import load_settings
from jukinet.domain.operators import Role
from jukinet.domain.register import Relationship
from jukinet.runtime.bootstrap import build_node
from jukinet.services import audit
from jukinet.storage.migrate import alembic_config, upgrade
from jukinet.storage.tables import Base
from tests.support.clock import FixedClock
from tests.support.factories import make_actor, move_in_household, person


def test_models_and_migrations_agree(database_url: str) -> None:
    engine = create_engine(database_url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert differences == []


def test_0013_gives_every_existing_resident_its_own_record_ref(
    new_database: Callable[[str], str], clock: FixedClock, tmp_path: Path
) -> None:
    url = new_database("record-refs")
    settings = load_settings(
        environment="test",
        database_url=url,
        municipality_code="132292",
        argon2_time_cost=1,
        argon2_memory_cost=8192,
        secret_key="test-secret-key-that-is-long-enough-123",
        audit_key_path=tmp_path / "audit-key" / "audit-signing-key.pem",
    )
    node = build_node(settings, clock=clock)
    audit.create_log_key(node)
    clerk = make_actor(node, Role.CLERK)
    wife = person(given="花子", given_kana="ハナコ", relationship=Relationship.WIFE)
    move_in_household(node, clerk, person(), wife)
    node.engine.dispose()

    command.downgrade(alembic_config(url), "0012")  # as the rows were before 0013
    upgrade(url)

    engine = create_engine(url)
    with engine.connect() as conn:
        refs = conn.execute(text("SELECT record_ref FROM residents")).scalars().all()
    engine.dispose()
    assert len(refs) == 2
    assert len(set(refs)) == 2
    assert all(re.fullmatch(r"[0-9a-f]{32}", ref) for ref in refs)
