"""``jukinet terminal``: the register of terminals (登録端末), kept by security officers."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from jukinet.cli.common import OperatorOption, act_as, cli_command, console, node_of
from jukinet.domain.operators import Permission
from jukinet.services.operator_security.terminals import list_terminals, revoke_terminal

app = typer.Typer(help="登録端末 / Registered terminals (security officers).", no_args_is_help=True)


@app.command("list")
@cli_command
def list_command(ctx: typer.Context, operator: OperatorOption = None) -> None:
    """Every terminal ever registered, the server's console included."""
    node = node_of(ctx)
    actor = act_as(node, operator, Permission.MANAGE_TERMINALS, command="terminal list")
    table = Table(title="登録端末 / Terminals")
    for column in ("名前 / name", "種類 / kind", "場所 / place", "用途 / purpose", "状態 / status"):
        table.add_column(column)
    for row in list_terminals(node, actor=actor):
        table.add_row(
            escape(row.name),
            row.kind,
            escape(row.place),
            escape(row.purpose),
            row.status if row.status == "active" else f"[red]{row.status}[/]",
        )
    console.print(table)


@app.command("revoke")
@cli_command
def revoke_command(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The terminal's name.")],
    reason: Annotated[str, typer.Option("--reason", help="Why (recorded).")],
    operator: OperatorOption = None,
) -> None:
    """Revoke a terminal: its next request (or command) is refused."""
    node = node_of(ctx)
    actor = act_as(node, operator, Permission.MANAGE_TERMINALS, command="terminal revoke")
    revoke_terminal(node, actor=actor, name=name, reason=reason)
    console.print(f"[yellow]端末の登録を取り消しました / terminal revoked:[/] {escape(name)}")
