"""Operator cards for the demo's command line: one SoftHSM2 token per demo operator.

Each token is labelled with the card's serial, its key made inside it, registered in the card
register and lent to its operator, so that ``jukinet`` commands can be tried exactly as in
production (password, card and PIN). The keys are made in a child process: python-pkcs11 loads
SoftHSM once per process and SoftHSM reads ``SOFTHSM2_CONF`` then, so the demo's own process
never loads it (nor changes its environment for whoever loads it next).
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from jukinet.domain.operators import Actor, Role
from jukinet.network.hsm import DEFAULT_MODULE, softhsm_environment
from jukinet.services.context import ServiceContext
from jukinet.services.operator_security.cards import lend_card, register_token_card

SOFTHSM_UTIL = "/usr/bin/softhsm2-util"


@dataclass(frozen=True, slots=True)
class DemoCard:
    """A demo operator's card: the token's label (the serial) and its PIN."""

    username: str
    serial: str
    pin: str


def softhsm_available() -> bool:
    """Whether SoftHSM2 (its module and ``softhsm2-util``) is installed here."""
    return Path(DEFAULT_MODULE).exists() and shutil.which(SOFTHSM_UTIL) is not None


def issue_demo_cards(
    node: ServiceContext, folder: Path, usernames: list[str]
) -> tuple[dict[str, str], list[DemoCard]]:
    """Make, register and lend one card per operator; returns (the environment, the cards)."""
    # A fresh token folder with the fresh database: labels must stay unique.
    shutil.rmtree(folder, ignore_errors=True)
    env = softhsm_environment(folder)
    cards = [
        DemoCard(username=name, serial=f"DEMO-{i + 1:03d}", pin=f"{secrets.randbelow(10**6):06d}")
        for i, name in enumerate(usernames)
    ]
    for card in cards:
        subprocess.run(  # noqa: S603 - fixed program, our own arguments
            [
                SOFTHSM_UTIL, "--init-token", "--free", "--label", card.serial,
                "--pin", card.pin, "--so-pin", secrets.token_hex(8),
            ],
            env={"PATH": "/usr/bin:/bin", **env},
            check=True,
            capture_output=True,
        )  # fmt: skip
    made = subprocess.run(
        [sys.executable, "-m", "jukinet.runtime.demo_cards"],
        input="".join(f"{card.serial} {card.pin}\n" for card in cards),
        env={**_child_env(), **env},
        check=True,
        capture_output=True,
        text=True,
    )
    keys = dict(line.split() for line in made.stdout.splitlines() if line.strip())
    # The demo sets its cards up itself, as its card administrator would (recorded as such).
    keeper = Actor(operator_id=0, username="demo-setup", role=Role.CARD_ADMINISTRATOR)
    for card in cards:
        register_token_card(
            node, actor=keeper, serial=card.serial, public_key_der=bytes.fromhex(keys[card.serial])
        )
        lend_card(node, actor=keeper, serial=card.serial, username=card.username)
    return env, cards


def _child_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "SOFTHSM2_CONF"}


def _generate_from_stdin() -> None:
    # In the child: "SERIAL PIN" per line in, "SERIAL PUBLIC-KEY-HEX" per line out.
    from jukinet.network.operator_card import TokenOperatorCard

    for line in sys.stdin:
        if not line.strip():
            continue
        serial, pin = line.split()
        with TokenOperatorCard(serial=serial, pin=pin) as card:
            card.generate()
            sys.stdout.write(f"{serial} {card.public_key_der().hex()}\n")


if __name__ == "__main__":  # pragma: no cover - run by issue_demo_cards in a child process
    _generate_from_stdin()
