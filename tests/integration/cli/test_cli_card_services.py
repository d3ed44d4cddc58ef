"""``jukinet card-service``: the registry, enrolment and a service terminal's use, in process
(both databases; the cards are SoftHSM tokens of this test's own)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from jukinet.cli.main import app
from jukinet.domain.operators import Role
from jukinet.network.hsm import DEFAULT_MODULE
from jukinet.services.context import ServiceContext
from tests.integration.cli.test_cli import ENV
from tests.support.card_services import PIN, resident_with_card
from tests.support.factories import PASSWORD, make_actor

IDENTIFIER = re.compile(r"[A-Z2-7]{4}(?:-[A-Z2-7]{4}){5}")

pytestmark = pytest.mark.skipif(
    not Path(DEFAULT_MODULE).exists(), reason="SoftHSM2 is not installed (apt-get install softhsm2)"
)


def _run(node: ServiceContext, *args: str, operator: str | None = None, stdin: str = "") -> Result:
    env = {**ENV, "JUKINET_AUDIT_KEY_PATH": str(node.settings.audit_key_path)}
    if operator:
        env |= {"JUKINET_OPERATOR": operator, "JUKINET_OPERATOR_PASSWORD": PASSWORD}
    argv = ["--database-url", node.settings.database_url, "card-service", *args]
    return CliRunner().invoke(app, argv, input=stdin, env=env)


def test_add_enrol_use_and_deactivate(node: ServiceContext, card_reader: Path) -> None:
    make_actor(node, Role.SUPERVISOR, username="kanri1")
    make_actor(node, Role.CLERK, username="madoguchi1")
    holder = resident_with_card(node)

    added = _run(
        node, "add", "library", "--name-ja", "図書館", "--name-en", "Library",
        "--ordinance", "西東京市図書館条例", "--enacted-on", "R8.4.1", operator="kanri1",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    refused = _run(
        node, "add", "gym", "--name-ja", "体育館", "--name-en", "Gym",
        "--ordinance", "体育館条例", "--enacted-on", "R8.4.1", operator="madoguchi1",
    )  # fmt: skip
    assert refused.exit_code == 2
    assert "JUKI-AUTH-003" in refused.output
    listed = _run(node, "list", operator="madoguchi1")
    assert listed.exit_code == 0, listed.output
    # (The table may be wrapped to the test runner's width: the code is one word.)
    assert "library" in listed.output

    enrolled = _run(node, "enrol", holder.resident_code, "library", operator="madoguchi1")
    assert enrolled.exit_code == 0, enrolled.output
    [identifier] = IDENTIFIER.findall(enrolled.output)

    used = _run(node, "use", "library", holder.serial, "--pin-stdin", stdin=PIN + "\n")
    assert used.exit_code == 0, used.output
    assert f"service_identifier={identifier}" in used.output
    assert holder.resident_code not in used.output

    wrong = _run(node, "use", "library", holder.serial, "--pin-stdin", stdin="9999\n")
    assert wrong.exit_code == 2
    assert "JUKI-ORD-035" in wrong.output

    assert _run(node, "deactivate", "library", operator="kanri1").exit_code == 0
    inactive = _run(node, "use", "library", holder.serial, "--pin-stdin", stdin=PIN + "\n")
    assert inactive.exit_code == 2
    assert "JUKI-ORD-012" in inactive.output
    withdrawn = _run(node, "withdraw", holder.resident_code, "library", operator="madoguchi1")
    assert withdrawn.exit_code == 0, withdrawn.output
