"""``jukinet operator-card``: the register of operator cards (操作者カード台帳), kept by the card
administrator on the server's console.

``operator-card issue`` creates the card's key inside its PKCS#11 token (the token labelled with the
card's serial must already be initialised: ``softhsm2-util --init-token`` for SoftHSM, the card
vendor's tool for a real card) and registers its public key; the key never leaves the token.
"""

from __future__ import annotations

import os
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from jukinet.cli.common import (
    OperatorOption,
    act_as,
    cli_command,
    console,
    node_of,
    read_secret,
    read_stdin_secret,
)
from jukinet.config import PKCS11_MODULE_VARIABLE
from jukinet.network.hsm import DEFAULT_MODULE
from jukinet.network.operator_card import TokenOperatorCard
from jukinet.services.operator_security.cards import (
    CardView,
    lend_card,
    list_cards,
    register_token_card,
    replace_card,
    report_lost,
    return_card,
)

app = typer.Typer(help="操作者カード / Operator cards (card administrators).", no_args_is_help=True)

SerialArgument = Annotated[str, typer.Argument(help="The card's serial (its token's label).")]


def _show(view: CardView, what: str) -> None:
    holder = f" → {escape(view.holder)}" if view.holder else ""
    console.print(f"[green]{what}:[/] [bold]{escape(view.serial)}[/] ({view.status}){holder}")


@app.command("issue")
@cli_command
def issue_command(
    ctx: typer.Context,
    serial: SerialArgument,
    pin_from_stdin: Annotated[
        bool,
        typer.Option("--pin-from-stdin", help="Read the card's PIN from standard input."),
    ] = False,
    module: Annotated[
        str | None,
        typer.Option(
            "--module",
            help=f"The PKCS#11 module (default: {PKCS11_MODULE_VARIABLE} or SoftHSM2's).",
        ),
    ] = None,
    operator: OperatorOption = None,
) -> None:
    """Create the card's key in its token and register the card (in stock)."""
    node = node_of(ctx)
    actor = act_as(node, operator, command="operator-card issue")
    pin = (
        read_stdin_secret()
        if pin_from_stdin
        else read_secret(f"カード {serial} のPIN / card PIN", confirm=False)
    )
    library = module or os.environ.get(PKCS11_MODULE_VARIABLE, DEFAULT_MODULE)
    with TokenOperatorCard(serial=serial, pin=pin, module=library) as card:
        card.generate()
        public_key = card.public_key_der()
    _show(
        register_token_card(node, actor=actor, serial=serial, public_key_der=public_key),
        "カードを登録しました / card registered",
    )


@app.command("lend")
@cli_command
def lend_command(
    ctx: typer.Context,
    serial: SerialArgument,
    username: Annotated[str, typer.Argument(help="The operator the card is lent to.")],
    operator: OperatorOption = None,
) -> None:
    """Lend a card in stock to an operator for their duty."""
    node = node_of(ctx)
    actor = act_as(node, operator, command="operator-card lend")
    _show(
        lend_card(node, actor=actor, serial=serial, username=username),
        "貸与しました / lent",
    )


@app.command("return")
@cli_command
def return_command(
    ctx: typer.Context, serial: SerialArgument, operator: OperatorOption = None
) -> None:
    """Take a lent card back (its holder's sessions end at once)."""
    node = node_of(ctx)
    actor = act_as(node, operator, command="operator-card return")
    _show(return_card(node, actor=actor, serial=serial), "返却されました / returned")


@app.command("lost")
@cli_command
def lost_command(
    ctx: typer.Context,
    serial: SerialArgument,
    note: Annotated[str, typer.Option("--note", help="When and where it was lost (recorded).")],
    operator: OperatorOption = None,
) -> None:
    """Report a card lost: revoked at once, every session opened with it ends (the card
    administrator, or its holder)."""
    node = node_of(ctx)
    # The holder may report their own card: the service decides who may; the act is logged.
    actor = act_as(node, operator, command="operator-card lost")
    view = report_lost(node, actor=actor, serial=serial, note=note)
    _show(view, "紛失として失効させました / revoked as lost")


@app.command("replace")
@cli_command
def replace_command(
    ctx: typer.Context,
    lost: Annotated[str, typer.Argument(help="The serial of the lost card.")],
    new: Annotated[str, typer.Argument(help="The serial of a card in stock to lend instead.")],
    operator: OperatorOption = None,
) -> None:
    """Lend a card in stock to the holder of a lost card, in its place."""
    node = node_of(ctx)
    actor = act_as(node, operator, command="operator-card replace")
    _show(
        replace_card(node, actor=actor, lost_serial=lost, new_serial=new),
        "代わりのカードを貸与しました / replacement lent",
    )


@app.command("list")
@cli_command
def list_command(ctx: typer.Context, operator: OperatorOption = None) -> None:
    """The whole register of operator cards."""
    node = node_of(ctx)
    actor = act_as(node, operator, command="operator-card list")
    table = Table(title="操作者カード / Operator cards")
    for column in (
        "番号 / serial",
        "種類 / kind",
        "状態 / status",
        "貸与先 / holder",
        "備考 / note",
    ):
        table.add_column(column)
    for view in list_cards(node, actor=actor):
        table.add_row(
            escape(view.serial),
            view.kind,
            view.status,
            escape(view.holder or ""),
            escape(view.note),
        )
    console.print(table)
