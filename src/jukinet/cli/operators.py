"""``jukinet operator``: operator accounts, managed on the server itself."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from jukinet.cli.common import (
    OPERATOR_ENV,
    cli_command,
    console,
    node_of,
    read_secret,
    read_stdin_secret,
    sign_in,
)
from jukinet.domain.operators import Role
from jukinet.services.operators import add_operator, unlock_operator

app = typer.Typer(help="操作者 / Operator accounts.", no_args_is_help=True)


@app.command("add")
@cli_command
def add_command(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="Sign-in name: a-z, 0-9, . _ - (3–32).")],
    role: Annotated[Role, typer.Option("--role", help="What the operator may do.")],
    display_name: Annotated[
        str, typer.Option("--display-name", help="The operator's name as screens show it.")
    ],
    password_stdin: Annotated[
        bool,
        typer.Option(
            "--password-stdin", help="Read the password from the first line of standard input."
        ),
    ] = False,
) -> None:
    """Create an operator account. The password is never taken as an argument."""
    password = (
        read_stdin_secret()
        if password_stdin
        else read_secret("パスワード / password", confirm=True)
    )
    view = add_operator(
        node_of(ctx),
        actor=None,
        username=username,
        display_name=display_name,
        role=role,
        password=password,
    )
    console.print(
        f"[green]操作者を登録しました / operator added:[/] [bold]{escape(view.username)}[/] "
        f"({escape(view.display_name)}, {view.role.label_ja} / {view.role.value})"
    )


@app.command("list")
@cli_command
def list_command(ctx: typer.Context) -> None:
    """Every operator account (never a password hash)."""
    node = node_of(ctx)
    with node.uow() as uow:
        rows = [
            (r.username, r.display_name, Role(r.role), r.active, r.locked_at is not None)
            for r in uow.operators.all()
        ]
    table = Table(title="操作者 / Operators")
    table.add_column("ユーザー名 / username")
    table.add_column("氏名 / name")
    table.add_column("役割 / role")
    table.add_column("有効 / active")
    table.add_column("ロック / locked")
    for username, display_name, role, active, locked in rows:
        table.add_row(
            escape(username),
            escape(display_name),
            f"{role.label_ja} ({role.value})",
            "✓" if active else "[red]✗[/]",
            "[red]locked[/]" if locked else "",
        )
    console.print(table)


@app.command("unlock")
@cli_command
def unlock_command(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="The locked account.")],
    reason: Annotated[str, typer.Option("--reason", help="Why it is unlocked (recorded).")],
    operator: Annotated[
        str | None,
        typer.Option("--operator", envvar=OPERATOR_ENV, help="You: a security officer."),
    ] = None,
) -> None:
    """Unlock an account locked by failed sign-ins (security officers; logged with the reason)."""
    node = node_of(ctx)
    unlock_operator(node, actor=sign_in(node, operator), username=username, reason=reason)
    console.print(f"[green]ロックを解除しました / unlocked:[/] [bold]{escape(username)}[/]")
