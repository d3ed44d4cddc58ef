"""Accounts the command-line tests sign in as (dev/test nodes: the password alone)."""

from __future__ import annotations

import os
from pathlib import Path

from jukinet.config import load_settings
from jukinet.domain.operators import Role
from jukinet.runtime.bootstrap import build_node
from jukinet.services.operators import add_operator
from jukinet.storage.migrate import upgrade

PASSWORD = "correct horse battery"

#: Who runs which kind of command in these tests (created on the test's database by ``ensure``).
ADMINISTRATOR = "admin0"
SECURITY_OFFICER = "anzen0"
CARD_ADMINISTRATOR = "cardadmin0"
SUPERVISOR = "kanri0"
AUDITOR = "kansa0"
_ROLES = {
    ADMINISTRATOR: Role.SYSTEM_ADMINISTRATOR,
    SECURITY_OFFICER: Role.SECURITY_OFFICER,
    CARD_ADMINISTRATOR: Role.CARD_ADMINISTRATOR,
    SUPERVISOR: Role.SUPERVISOR,
    AUDITOR: Role.AUDITOR,
}


def ensure(url: str, *usernames: str) -> None:
    """Create the named officials on the database at ``url`` (once), password :data:`PASSWORD`."""
    node = build_node(
        load_settings(
            environment="test",
            database_url=url,
            municipality_code="132292",
            argon2_time_cost=1,
            argon2_memory_cost=8192,
            secret_key="test-secret-key-that-is-long-enough-123",
        )
    )
    try:
        for username in usernames or tuple(_ROLES):
            with node.uow() as uow:
                if uow.operators.by_username(username) is not None:
                    continue
            add_operator(
                node,
                actor=None,
                username=username,
                display_name="試験 職員",
                role=_ROLES[username],
                password=PASSWORD,
            )
    finally:
        node.engine.dispose()


SRC = Path(__file__).resolve().parents[3] / "src"


def child_environment(database_url: str, hsm: dict[str, str]) -> dict[str, str]:
    """The environment of a ``python -m jukinet.cli.main`` child on this host: the test's
    database, its SoftHSM2 folder, cheap argon2, no JUKINET_* setting of the test process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUKINET_")}
    env.update(hsm)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), env.get("PYTHONPATH")]))
    env.update(
        {
            "JUKINET_DATABASE_URL": database_url,
            "JUKINET_MUNICIPALITY_CODE": "132292",
            "JUKINET_ARGON2_TIME_COST": "1",
            "JUKINET_ARGON2_MEMORY_COST": "8192",
            "COLUMNS": "200",
        }
    )
    return env


def as_(username: str) -> dict[str, str]:
    """The environment that signs ``username`` in (the password alone: a test node)."""
    return {"JUKINET_OPERATOR": username, "JUKINET_OPERATOR_PASSWORD": PASSWORD}


def administrator_env(folder: Path) -> dict[str, str]:
    """A test node (SQLite under ``folder``) with a system administrator, and the environment
    that signs them in: for PKI commands, which sign in at the node that keeps the CA."""
    folder.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{folder / 'ca-node.sqlite3'}"
    upgrade(url)
    ensure(url, ADMINISTRATOR)
    return {"JUKINET_ENVIRONMENT": "test", "JUKINET_DATABASE_URL": url, **as_(ADMINISTRATOR)}


def bootstrap_args(
    administrator: str = ADMINISTRATOR,
    officer: str = SECURITY_OFFICER,
    card_administrator: str = CARD_ADMINISTRATOR,
) -> list[str]:
    """``jukinet bootstrap`` for the three first operators (no cards: a test node), their
    passwords read from standard input (:func:`bootstrap_input`)."""
    return [
        "bootstrap",
        "--administrator", administrator, "--administrator-name", "管理 一郎",
        "--security-officer", officer, "--security-officer-name", "安全 花子",
        "--card-administrator", card_administrator, "--card-administrator-name", "札 三郎",
        "--secrets-stdin",
    ]  # fmt: skip


def bootstrap_input(*pins: str) -> str:
    """The three passwords (all :data:`PASSWORD`), then each card's PIN, one a line."""
    return "".join(f"{line}\n" for line in (PASSWORD, PASSWORD, PASSWORD, *pins))
