"""``jukinet emergency`` with real PKCS#11 operator cards (SoftHSM2), as in production: the
first card proposes, the second operator's own card and PIN countersign; one card twice, or a
password without a card, is refused with a clear message."""

from __future__ import annotations

import pytest

from jukinet.domain.operators import Role
from jukinet.services.context import ServiceContext
from tests.integration.cli.test_cli_cards import (
    PIN,
    Console,
    _account,
    _init_token,
    _ok,
    _refused,
    _serial,
    pytestmark,
    softhsm,
)

__all__ = ["pytestmark", "softhsm"]


# One backend: each command is a fresh interpreter; the two-card rule itself runs on both
# backends in tests/integration/services/test_emergency.py.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_two_operators_cards_cut_on_the_command_line(
    node: ServiceContext, softhsm: dict[str, str]
) -> None:
    _account(node, "cardadmin1", Role.CARD_ADMINISTRATOR)
    _account(node, "anzen1", Role.SECURITY_OFFICER)
    _account(node, "kanri1", Role.SUPERVISOR)
    own, officer, delegate = _serial(), _serial(), _serial()
    for label in (own, officer, delegate):
        _init_token(softhsm, label)
    setup = Console(node, softhsm, production=False)
    _ok(setup.run("operator-card", "issue", own, "--pin-from-stdin", operator="cardadmin1",
                  stdin=PIN + "\n"))  # fmt: skip
    _ok(setup.run("operator-card", "lend", own, "cardadmin1", operator="cardadmin1"))
    console = Console(node, softhsm, production=True)
    for serial, holder in ((officer, "anzen1"), (delegate, "kanri1")):
        _ok(console.run("operator-card", "issue", serial, "--pin-from-stdin",
                        operator="cardadmin1", card=own, stdin=PIN + "\n"))  # fmt: skip
        _ok(console.run("operator-card", "lend", serial, holder, operator="cardadmin1", card=own))

    _refused(console.run("emergency", "disconnect", "all", "--reason", "訓練", operator="anzen1"),
             "JUKI-AUTH-036")  # fmt: skip
    proposed = _ok(console.run("emergency", "disconnect", "all", "--reason", "訓練", "--minutes",
                               "1", operator="anzen1", card=officer))  # fmt: skip
    assert "emergency countersign 1" in proposed
    _refused(console.run("emergency", "countersign", "1", operator="anzen1", card=officer),
             "JUKI-EMG-023")  # fmt: skip
    _refused(console.run("emergency", "countersign", "1", operator="kanri1", card=delegate,
                         pin="000000"), "JUKI-AUTH-034")  # fmt: skip
    signed = _ok(console.run("emergency", "countersign", "1", operator="kanri1", card=delegate))
    assert "in force" in signed
    status = _ok(console.run("emergency", "status", operator="kanri1", card=delegate))
    assert "#1 all" in status
