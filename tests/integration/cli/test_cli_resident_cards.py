"""``jukinet card …``: a resident's card from application to loss report, as a clerk types it.

Each command is a child process with its own ``SOFTHSM2_CONF`` (the card writer's token folder).
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from jukinet.domain.operators import Role
from jukinet.network.hsm import DEFAULT_MODULE, softhsm_environment
from jukinet.services.context import ServiceContext
from jukinet.services.operators import add_operator
from tests.integration.cli.accounts import PASSWORD, child_environment
from tests.support.factories import make_actor, move_in_household, person, with_pool

pytestmark = pytest.mark.skipif(
    not Path(DEFAULT_MODULE).exists(), reason="SoftHSM2 is not installed (apt-get install softhsm2)"
)


def _runner(node: ServiceContext, hsm: dict[str, str]) -> Callable[..., tuple[int, str]]:
    env = child_environment(node.settings.database_url, hsm)
    env.update(
        {
            "JUKINET_ENVIRONMENT": "test",
            "JUKINET_SECRET_KEY": "test-secret-key-that-is-long-enough-123",
        }
    )

    def run(*args: str, operator: str, stdin: str | None = None) -> tuple[int, str]:
        result = subprocess.run(
            [sys.executable, "-m", "jukinet.cli.main", *args],
            env={**env, "JUKINET_OPERATOR": operator, "JUKINET_OPERATOR_PASSWORD": PASSWORD},
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        output = " ".join((result.stdout + result.stderr).split())
        assert "Traceback" not in output, output
        return result.returncode, output

    return run


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_card_from_application_to_loss_report(node: ServiceContext, tmp_path: Path) -> None:
    for username, role in (("hakko1", Role.CARD_ISSUER), ("madoguchi1", Role.CLERK)):
        add_operator(
            node, actor=None, username=username, display_name="試験 職員", role=role,
            password=PASSWORD,
        )  # fmt: skip
    with_pool(node)
    code = move_in_household(node, make_actor(node), person()).records[0].record.resident_code
    run = _runner(node, softhsm_environment(tmp_path / "cards"))

    # A clerk cannot issue cards.
    status, output = run("card", "apply", code, operator="madoguchi1")
    assert status == 2, output
    status, output = run("card", "apply", code, operator="hakko1")
    assert status == 0, output
    serial = re.search(r"132292-\d{8}", output)
    assert serial is not None, output
    card = serial.group(0)

    # A three-digit PIN is refused with the field's message; nothing is written.
    status, output = run(
        "card", "issue", card, "--id-document", "passport", "--pin-from-stdin",
        operator="hakko1", stdin="123\n123\n",
    )  # fmt: skip
    assert status == 2, output
    assert "JUKI-CARD-001" in output
    assert not list((tmp_path / "cards" / "tokens").iterdir())

    status, output = run(
        "card", "issue", card, "--id-document", "passport", "--pin-from-stdin",
        operator="hakko1", stdin="4826\n4826\n",
    )  # fmt: skip
    assert status == 0, output
    assert "有効 / valid" in output
    assert len(list((tmp_path / "cards" / "tokens").iterdir())) == 1

    # A second card for the same resident is refused.
    status, output = run("card", "apply", code, operator="hakko1")
    assert status == 2, output
    assert "JUKI-CARD-020" in output

    # A phone call: any counter operator suspends it at once, with the caller's answers.
    status, output = run(
        "card", "lost", card, "--caller", "山田 花子", "--relation", "family",
        "--answered", "name,birth_date", operator="madoguchi1",
    )  # fmt: skip
    assert status == 0, output
    assert "一時停止 / suspended" in output
    status, output = run("card", "status", card, operator="madoguchi1")
    assert status == 0, output
    assert "一時停止 / suspended" in output
    status, output = run("card", "resume", card, "--id-document", "passport", operator="hakko1")
    assert status == 0, output
    assert "有効 / valid" in output

    status, output = run("card", "list", code, operator="madoguchi1")
    assert status == 0, output
    assert card in output
    status, output = run("card", "history", card, operator="madoguchi1")
    assert status == 0, output
    for event in ("applied", "issued", "suspended", "resumed"):
        assert event in output
    # The resident code never reaches the card's history output.
    assert code not in output

    # Another municipality's serial is refused at this counter.
    status, output = run("card", "return", "141003-00000001", operator="hakko1")
    assert status == 2, output
    assert "JUKI-CARD-021" in output
