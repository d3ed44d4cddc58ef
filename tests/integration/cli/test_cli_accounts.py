"""``jukinet bootstrap``, ``operator …`` and ``terminal …``: accounts managed by signed-in staff."""

from __future__ import annotations

import secrets
from pathlib import Path

from sqlalchemy import create_engine, func, select

from jukinet.services.context import ServiceContext
from jukinet.services.operators import authenticate
from jukinet.storage.tables import AccessLogRow, OperatorRow
from tests.integration.cli.accounts import (
    PASSWORD,
    SECURITY_OFFICER,
    as_,
    bootstrap_args,
    bootstrap_input,
    ensure,
)
from tests.integration.cli.test_cli import add_operator, run


def test_bootstrap_creates_the_first_three_operators_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.sqlite3'}"
    assert run("db", "upgrade", url=url).exit_code == 0
    args = bootstrap_args("admin1", "anzen1", "fuda1")
    first = run(*args, url=url, input=bootstrap_input())
    assert first.exit_code == 0, first.output
    for name in ("admin1", "anzen1", "fuda1"):
        assert name in first.output
    # Each can do their duty at once: the machine, accounts, cards.
    assert run("codes", "status", url=url, **as_("admin1")).exit_code == 0
    assert run("operator", "list", url=url, **as_("anzen1")).exit_code == 0
    assert run("operator-card", "list", url=url, **as_("fuda1")).exit_code == 0
    again = run(*bootstrap_args("admin2", "anzen2", "fuda2"), url=url, input=bootstrap_input())
    assert again.exit_code == 2
    assert "JUKI-AUTH-050" in again.output
    assert "Operators already exist" in " ".join(again.output.split())
    # The system administrator manages the machine, not accounts.
    refused = run("operator", "add", "clerk9", "--role", "clerk", "--display-name", "窓口 九郎",
                  "--password-stdin", url=url, input=PASSWORD + "\n", **as_("admin1"))  # fmt: skip
    assert refused.exit_code == 2
    assert "JUKI-AUTH-003" in refused.output


def test_bootstrap_refuses_one_person_for_two_duties_and_production_without_cards(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'new.sqlite3'}"
    assert run("db", "upgrade", url=url).exit_code == 0
    same = run(*bootstrap_args("admin1", "admin1", "fuda1"), url=url, input=bootstrap_input())
    assert same.exit_code == 2
    assert "JUKI-AUTH-051" in same.output
    production = run(
        *bootstrap_args(), url=url, input=bootstrap_input(),
        JUKINET_ENVIRONMENT="production", JUKINET_SECRET_KEY=secrets.token_urlsafe(48),
    )  # fmt: skip
    assert production.exit_code == 2
    assert "JUKI-AUTH-052" in production.output
    engine = create_engine(url)
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(OperatorRow)).scalar() == 0
    engine.dispose()


def test_production_refuses_the_password_alone(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'prod.sqlite3'}"
    assert run("db", "upgrade", url=url).exit_code == 0
    ensure(url, SECURITY_OFFICER)
    result = run(
        "operator", "list", url=url, **as_(SECURITY_OFFICER),
        JUKINET_ENVIRONMENT="production", JUKINET_SECRET_KEY=secrets.token_urlsafe(48),
    )  # fmt: skip
    assert result.exit_code == 2
    flat = " ".join(result.output.split())
    assert "JUKI-AUTH-036" in flat
    assert "JUKINET_OPERATOR_CARD" in flat
    assert "操作者カードが必要です" in flat


def test_security_officers_manage_accounts_and_terminals(
    node: ServiceContext, database_url: str
) -> None:
    add_operator(database_url, "clerk1")
    officer = as_(SECURITY_OFFICER)
    clerk = as_("clerk1")
    assert run("operator", "list", url=database_url, **clerk).exit_code == 2
    disabled = run("operator", "disable", "clerk1", "--reason", "異動", url=database_url, **officer)
    assert disabled.exit_code == 0, disabled.output
    assert run("resident", "search", "ヤマダ", url=database_url, **clerk).exit_code == 2
    enabled = run("operator", "enable", "clerk1", "--reason", "復帰", url=database_url, **officer)
    assert enabled.exit_code == 0, enabled.output
    role = run("operator", "role", "clerk1", "supervisor", "--reason", "昇任", url=database_url,
               **officer)  # fmt: skip
    assert role.exit_code == 0, role.output
    new_password = "another horse battery"
    reset = run("operator", "reset-password", "clerk1", "--reason", "失念", "--password-stdin",
                url=database_url, input=new_password + "\n", **officer)  # fmt: skip
    assert reset.exit_code == 0, reset.output
    assert authenticate(node, username="clerk1", password=new_password).role.value == "supervisor"
    own = run("operator", "disable", SECURITY_OFFICER, "--reason", "x", url=database_url, **officer)
    assert own.exit_code == 2
    assert "JUKI-AUTH-015" in own.output

    terminals = run("terminal", "list", url=database_url, **officer)
    assert terminals.exit_code == 0, terminals.output
    assert "cli:" in terminals.output
    with node.uow() as uow:
        reasons = list(
            uow.session.scalars(
                select(AccessLogRow.reason).where(AccessLogRow.actor == SECURITY_OFFICER)
            )
        )
    for tag in ("operator:account:disabled", "operator:account:enabled",
                "operator:account:role-changed", "operator:account:password-reset",
                "operator:account:added", "operator:cli:command: terminal list"):  # fmt: skip
        assert any((reason or "").startswith(tag) for reason in reasons), tag
    revoked = run("terminal", "revoke", "nowhere", "--reason", "廃棄", url=database_url, **officer)
    assert revoked.exit_code == 2
    assert "JUKI-TRM-003" in revoked.output
