"""Migration 0022 gives the register's existing names their MJ identifiers (both backends)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic import command
from sqlalchemy import create_engine, text

from jukinet.config import load_settings
from jukinet.domain.operators import Role
from jukinet.domain.register import Relationship
from jukinet.runtime.bootstrap import build_node
from jukinet.services import audit
from jukinet.storage.migrate import alembic_config, upgrade
from tests.support.clock import FixedClock
from tests.support.factories import make_actor, move_in_household, person

TSUCHIYOSHI = "\U00020bb7"  # 𠮷


def test_0022_fills_the_identifiers_of_existing_names(
    new_database: Callable[[str], str], clock: FixedClock, tmp_path: Path
) -> None:
    url = new_database("mj-names")
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
    child = person(given=f"{TSUCHIYOSHI}子", given_kana="ヨシコ", relationship=Relationship.CHILD)
    move_in_household(node, clerk, person(family="髙橋", family_kana="タカハシ"), child)
    node.engine.dispose()

    command.downgrade(alembic_config(url), "0018")  # as the rows were before 0022
    upgrade(url)

    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT family_name_mj, given_name_mj FROM residents ORDER BY id")
        ).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [
        ("髙:MJ028902", ""),
        ("", f"{TSUCHIYOSHI}:MJ032129"),  # 山田 needs none
    ]
