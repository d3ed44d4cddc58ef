"""Generated from the one table of command rules (jukinet.cli.permissions.COMMAND_RULES).

Every ``jukinet`` command has a rule, and every rule names a command; every command guarded by
a permission is run as every role (password-only sign-in: a test node), with dummy arguments
built from its parameters: a role without the permission is refused (JUKI-AUTH-003, exit 2, a
refused ``operator:cli:command`` entry), a role with it gets past the check (a logged entry;
what the command then does with dummy arguments does not matter here).

One database per backend for the whole module: each command only adds log entries for its own
name, and the dummy values never name the accounts the test signs in as.
"""

from __future__ import annotations

import enum
import secrets
import shutil
import traceback
import typing
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
import typer.testing
from sqlalchemy import create_engine, select, text
from typer.testing import CliRunner, Result

from jukinet.cli.main import app
from jukinet.cli.permissions import COMMAND_RULES, SERVICE_CHECKED, CommandRule
from jukinet.config import load_settings
from jukinet.domain.operators import ROLE_PERMISSIONS, Permission, Role
from jukinet.runtime.bootstrap import build_node
from jukinet.runtime.runner import NodeConfig
from jukinet.services.operators import add_operator
from jukinet.storage.tables import AccessLogRow
from tests.conftest import BACKENDS, POSTGRES_ADMIN_URL
from tests.integration.cli.accounts import PASSWORD
from tests.integration.cli.test_cli import ENV


def _walk(command: Any, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, Any]]:
    commands = getattr(command, "commands", None)
    if commands is None:
        yield " ".join(prefix), command
        return
    for name, sub in commands.items():
        yield from _walk(sub, (*prefix, name))


#: The ``jukinet`` app as click sees it, and every command path in it.
ROOT = typer.main.get_command(app)
COMMANDS: dict[str, Any] = dict(_walk(ROOT))

#: Arguments that keep a command's real work small once it is past the check.
EXTRA_ARGS: dict[str, list[str]] = {"seed": ["--residents", "1", "--seed", "1"]}

GUARDED = sorted(name for name, rule in COMMAND_RULES.items() if isinstance(rule, Permission))
SERVICE = sorted(
    name
    for name, rule in COMMAND_RULES.items()
    if isinstance(rule, CommandRule) and rule.check is SERVICE_CHECKED
)


def username(role: Role) -> str:
    """The account of ``role`` in this module (never a dummy value: those are ``x``)."""
    return f"perm_{role.value}"[:32]


def test_every_command_has_a_rule_and_every_rule_a_command() -> None:
    missing = sorted(set(COMMANDS) - set(COMMAND_RULES))
    unknown = sorted(set(COMMAND_RULES) - set(COMMANDS))
    assert not missing, f"commands without a rule in jukinet.cli.permissions: {missing}"
    assert not unknown, f"rules naming no command: {unknown}"
    for name, rule in COMMAND_RULES.items():
        if isinstance(rule, CommandRule):
            assert rule.reason.strip(), f"{name}: say why it needs no permission"


@pytest.fixture(scope="module", autouse=True)
def built_once() -> Iterator[None]:
    """Typer rebuilds the click command on every invoke (most of a run's time); the app does
    not change within this module."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(typer.testing, "_get_command", lambda _app: ROOT)
        yield


@pytest.fixture(scope="module", params=BACKENDS)
def shared_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """One migrated database per backend for the module, with one operator per role."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        target = tmp_path_factory.mktemp("permissions") / "permissions.sqlite3"
        shutil.copyfile(template, target)
        url = f"sqlite:///{target}"
        dropped = None
    else:
        template_name: str = request.getfixturevalue("postgres_template")
        dropped = f"jukinet_perm_{uuid.uuid4().hex[:12]}"
        admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{dropped}" TEMPLATE "{template_name}"'))
        admin.dispose()
        url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{dropped}"
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
        for role in Role:
            add_operator(
                node,
                actor=None,
                username=username(role),
                display_name="試験 職員",
                role=role,
                password=PASSWORD,
            )
    finally:
        node.engine.dispose()
    yield url
    if dropped is not None:
        admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{dropped}" WITH (FORCE)'))
        admin.dispose()


def _dummy(annotation: Any, folder: Path) -> str:
    if typing.get_origin(annotation) is list:
        (annotation,) = typing.get_args(annotation)
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return str(next(iter(annotation)).value)
    if annotation is int:
        return "1"
    if annotation is Path:
        return str(folder)
    return "x"


def dummy_args(name: str, folder: Path) -> list[str]:
    """The command's words, then a dummy for each required argument and option."""
    args = name.split()
    for param in COMMANDS[name].params:
        if not param.required:
            continue
        value = _dummy(param.type_descriptor.annotation, folder)
        if param.param_type_name == "argument":
            args.append(value)
        else:
            args.extend([param.opts[0], value])
    return [*args, *EXTRA_ARGS.get(name, [])]


def run_as(role: Role, name: str, url: str, folder: Path) -> Result:
    """Run ``name`` as the ``role`` account, with dummy arguments and a node folder of its own
    (``--dir`` and the like: a node.json on the same database), files kept under ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    NodeConfig(
        node="municipality:132292",
        network_port=1,
        operator_port=1,
        per_node={
            "database_url": url,
            "environment": "test",
            "secret_key": secrets.token_urlsafe(32),
        },
    ).save(folder)
    env = {
        **ENV,
        "JUKINET_OPERATOR": username(role),
        "JUKINET_OPERATOR_PASSWORD": PASSWORD,
        "JUKINET_AUDIT_KEY_PATH": str(folder / "audit" / "key.pem"),
        "JUKINET_TERMINAL_DIR": str(folder / "terminals"),
    }
    argv = ["--database-url", url, *dummy_args(name, folder)]
    return CliRunner().invoke(app, argv, env=env)


def _entries(url: str, role: Role, name: str) -> list[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(AccessLogRow.action).where(
                    AccessLogRow.actor == username(role),
                    AccessLogRow.reason == f"operator:cli:command: {name}",
                )
            )
            return [row.action for row in rows]
    finally:
        engine.dispose()


def _trace(result: Result) -> str:
    """The traceback of an exception the command did not turn into a message, if any."""
    if result.exc_info is None or isinstance(result.exception, SystemExit):
        return ""
    return "".join(traceback.format_exception(*result.exc_info))


def _output(result: Result) -> str:
    return " ".join((result.output + _trace(result)).split())


@pytest.mark.parametrize("name", GUARDED)
def test_guarded_command_as_every_role(name: str, shared_url: str, tmp_path: Path) -> None:
    permission = COMMAND_RULES[name]
    assert isinstance(permission, Permission)
    for role in Role:
        result = run_as(role, name, shared_url, tmp_path / role.value)
        output = _output(result)
        where = f"{name} as {role.value}: exit {result.exit_code}: {output[-800:]}"
        if permission in ROLE_PERMISSIONS[role]:
            assert "JUKI-AUTH-003" not in output, where
            assert "permission" not in _trace(result).lower(), where
            assert "write" in _entries(shared_url, role, name), where
        else:
            assert result.exit_code == 2, where
            assert "JUKI-AUTH-003" in output, where
            assert "Traceback" not in output, where
            assert _entries(shared_url, role, name) == ["refused"], where


@pytest.mark.parametrize("name", SERVICE)
def test_service_checked_command_signs_in_as_every_role(
    name: str, shared_url: str, tmp_path: Path
) -> None:
    for role in Role:
        result = run_as(role, name, shared_url, tmp_path / role.value)
        output = _output(result)
        where = f"{name} as {role.value}: exit {result.exit_code}: {output[-800:]}"
        assert "permission" not in _trace(result).lower(), where
        assert _entries(shared_url, role, name) == ["write"], where
