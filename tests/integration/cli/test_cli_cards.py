"""The command line signs in with a PKCS#11 operator card (SoftHSM2), as in production.

Every command runs in a child process of its own with ``SOFTHSM2_CONF`` in its environment:
python-pkcs11 loads SoftHSM once per process and SoftHSM reads its configuration then, so this
test process (whose other tests point SoftHSM at folders of their own) never loads it here.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from jukinet.domain.operators import Role
from jukinet.network.hsm import DEFAULT_MODULE, softhsm_environment
from jukinet.services.context import ServiceContext
from jukinet.services.operators import add_operator
from jukinet.storage.tables import AccessLogRow, OperatorRow
from tests.integration.cli.accounts import (
    PASSWORD,
    bootstrap_args,
    bootstrap_input,
    child_environment,
)

pytestmark = pytest.mark.skipif(
    not Path(DEFAULT_MODULE).exists() or not Path("/usr/bin/softhsm2-util").exists(),
    reason="SoftHSM2 is not installed (apt-get install softhsm2)",
)

PIN = "246810"
SO_PIN = "13579135"
TERMINAL = f"cli:{socket.gethostname()}"[:40]


@pytest.fixture(scope="session")
def softhsm(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """One SoftHSM2 token folder for the whole session (one token per card label)."""
    return softhsm_environment(tmp_path_factory.mktemp("softhsm"))


def _init_token(hsm: dict[str, str], label: str) -> None:
    subprocess.run(
        [
            "/usr/bin/softhsm2-util", "--init-token", "--free", "--label", label,
            "--pin", PIN, "--so-pin", SO_PIN,
        ],
        env={**os.environ, **hsm},
        check=True,
        capture_output=True,
    )  # fmt: skip


def _serial() -> str:
    # Unique per test and backend: the token folder is shared by the session.
    return f"T{secrets.token_hex(4).upper()}"


class Console:
    """``python -m jukinet.cli.main`` on this host, against the test's database."""

    def __init__(self, node: ServiceContext, hsm: dict[str, str], *, production: bool) -> None:
        env = child_environment(node.settings.database_url, hsm)
        if production:  # no JUKINET_ENVIRONMENT: production, with a real secret
            env["JUKINET_SECRET_KEY"] = secrets.token_urlsafe(48)
        else:
            env["JUKINET_ENVIRONMENT"] = "test"
        self.env = env

    def run(
        self,
        *args: str,
        operator: str,
        card: str | None = None,
        pin: str = PIN,
        stdin: str | None = None,
        **extra: str,
    ) -> subprocess.CompletedProcess[str]:
        env = {
            **self.env,
            "JUKINET_OPERATOR": operator,
            "JUKINET_OPERATOR_PASSWORD": PASSWORD,
            **extra,
        }
        if card is not None:
            env.update({"JUKINET_OPERATOR_CARD": card, "JUKINET_OPERATOR_CARD_PIN": pin})
        return subprocess.run(
            [sys.executable, "-m", "jukinet.cli.main", *args],
            env=env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


def _ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _refused(result: subprocess.CompletedProcess[str], code: str) -> str:
    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode == 2, output
    assert code in output, output
    assert "Traceback" not in output
    return output


def _account(node: ServiceContext, username: str, role: Role) -> None:
    add_operator(
        node, actor=None, username=username, display_name="試験 職員", role=role, password=PASSWORD
    )


def _log(node: ServiceContext, username: str) -> list[tuple[str, str, str | None]]:
    with node.uow() as uow:
        rows = uow.session.scalars(
            select(AccessLogRow)
            .where(AccessLogRow.actor == username)
            .order_by(AccessLogRow.position)
        )
        return [(row.action, row.reason or "", row.terminal) for row in rows]


# One backend: each command is a fresh interpreter (seconds each), and what is tested here is
# the card, not the database.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_operators_sign_in_with_their_card_in_production(
    node: ServiceContext, softhsm: dict[str, str]
) -> None:
    _account(node, "cardadmin1", Role.CARD_ADMINISTRATOR)
    _account(node, "anzen1", Role.SECURITY_OFFICER)
    _account(node, "clerk1", Role.CLERK)
    own, officer, clerk = _serial(), _serial(), _serial()
    for label in (own, officer, clerk):
        _init_token(softhsm, label)

    # The card administrator's own first card, on a test node (the password alone).
    setup = Console(node, softhsm, production=False)
    issued = _ok(setup.run("operator-card", "issue", own, "--pin-from-stdin", operator="cardadmin1",
                           stdin=PIN + "\n"))  # fmt: skip
    assert own in issued
    _ok(setup.run("operator-card", "lend", own, "cardadmin1", operator="cardadmin1"))

    # From here on a production node: every command needs the card.
    console = Console(node, softhsm, production=True)
    no_card = console.run("operator-card", "list", operator="cardadmin1")
    _refused(no_card, "JUKI-AUTH-036")
    assert "JUKINET_OPERATOR_CARD" in no_card.stdout + no_card.stderr

    for serial, holder in ((officer, "anzen1"), (clerk, "clerk1")):
        _ok(console.run("operator-card", "issue", serial, "--pin-from-stdin", operator="cardadmin1",
                        card=own, stdin=PIN + "\n"))  # fmt: skip
        _ok(console.run("operator-card", "lend", serial, holder, operator="cardadmin1", card=own))
    listed = _ok(console.run("operator-card", "list", operator="cardadmin1", card=own))
    assert listed.count("lent") == 3

    # The right PIN: the security officer lists accounts, logged under their name here.
    accounts = _ok(console.run("operator", "list", operator="anzen1", card=officer))
    assert "clerk1" in accounts
    log = _log(node, "anzen1")
    assert ("write", "operator:cli:command: operator list", TERMINAL) in log
    assert any(reason.startswith("operator:session:signin") and terminal == TERMINAL
               for _, reason, terminal in log)  # fmt: skip

    # A clerk is refused the security officer's and the system administrator's commands.
    _refused(console.run("operator", "list", operator="clerk1", card=clerk), "JUKI-AUTH-003")
    _refused(console.run("codes", "status", operator="clerk1", card=clerk), "JUKI-AUTH-003")
    assert ("refused", "operator:cli:command: codes status", TERMINAL) in _log(node, "clerk1")

    # A wrong PIN is the token's refusal, and ours to count towards the lockout.
    wrong = console.run("operator", "list", operator="clerk1", card=clerk, pin="000000")
    _refused(wrong, "JUKI-AUTH-034")
    with node.uow() as uow:
        row = uow.operators.by_username("clerk1")
        assert row is not None
        assert row.failed_signins == 1
    assert any(
        action == "refused" and reason == f"operator:card:refused: card {clerk}: wrong PIN"
        for action, reason, _ in _log(node, "clerk1")
    )

    # Another's card is refused, counted like a wrong one.
    _refused(console.run("operator", "list", operator="clerk1", card=officer), "JUKI-AUTH-031")

    # A card reported lost is refused at once, right PIN or not.
    _ok(console.run("operator-card", "lost", clerk, "--note", "電車に置き忘れ",
                    operator="cardadmin1", card=own))  # fmt: skip
    _refused(console.run("resident", "search", "ヤマダ", operator="clerk1", card=clerk),
             "JUKI-AUTH-031")  # fmt: skip
    with node.uow() as uow:
        clerk_row = uow.session.scalars(
            select(OperatorRow).where(OperatorRow.username == "clerk1")
        ).one()
        assert clerk_row.failed_signins == 3


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_bootstrap_brings_up_a_production_node_with_cards(
    node: ServiceContext, softhsm: dict[str, str], tmp_path: Path
) -> None:
    admin, officer, card_admin = _serial(), _serial(), _serial()
    for label in (admin, officer, card_admin):
        _init_token(softhsm, label)
    console = Console(node, softhsm, production=True)
    args = [
        *bootstrap_args("unyou1", "anzen1", "fuda1"),
        *("--administrator-card", admin, "--security-officer-card", officer),
        *("--card-administrator-card", card_admin),
    ]
    made = _ok(console.run(*args, operator="", stdin=bootstrap_input(PIN, PIN, PIN)))
    for name in ("unyou1", "anzen1", "fuda1", admin, officer, card_admin):
        assert name in made

    # Each signs in with their own card at once, in production.
    listed = _ok(console.run("operator-card", "list", operator="fuda1", card=card_admin))
    assert listed.count("lent") == 3
    assert "unyou1" in _ok(console.run("operator", "list", operator="anzen1", card=officer))
    terminals = {"JUKINET_TERMINAL_DIR": str(tmp_path / "terminals")}
    _ok(console.run("terminal", "init", operator="unyou1", card=admin, **terminals))
    p12 = tmp_path / "madoguchi.p12"
    _ok(console.run("terminal", "enroll", "madoguchi-01", "--place", "1階窓口", "--purpose",
                    "窓口業務", "--out", str(p12), "--password-stdin", operator="anzen1",
                    card=officer, stdin="p12-password\n", **terminals))  # fmt: skip
    assert p12.stat().st_mode & 0o777 == 0o600

    # Once: never again, cards or not.
    again = console.run(*args, operator="", stdin=bootstrap_input(PIN, PIN, PIN))
    _refused(again, "JUKI-AUTH-050")
    with node.uow() as uow:
        assert {row.username for row in uow.operators.all() if row.password_hash != "!"} == {
            "unyou1", "anzen1", "fuda1"
        }  # fmt: skip
