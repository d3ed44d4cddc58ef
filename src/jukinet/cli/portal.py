"""``jukinet card sign-in``: sign in to the resident portal with the resident card.

Run on the resident's own computer with the card on its reader: the card signs the portal's
challenge once the PIN is entered, and the command prints a one-time code to type into the
browser (valid five minutes, once).
"""

from __future__ import annotations

from typing import Annotated

import typer

from jukinet.cli.common import cli_command, console, read_secret, read_stdin_secret
from jukinet.network.portal_card import sign_in_code


@cli_command
def sign_in_command(
    portal: Annotated[str, typer.Option(help="The portal's address (https://…)")],
    serial: Annotated[str, typer.Option(help="The card's serial (printed on the card)")],
    pin_stdin: Annotated[
        bool, typer.Option("--pin-stdin", help="Read the PIN from standard input")
    ] = False,
) -> None:
    """住民ポータルにカードでサインイン / Sign in to the resident portal with your card."""
    pin = read_stdin_secret() if pin_stdin else read_secret("暗証番号 / PIN", confirm=False)
    code = sign_in_code(portal, serial=serial, pin=pin)
    console.print("ワンタイムコード / one-time code (5 min):")
    console.print(f"[bold]{code}[/]")
