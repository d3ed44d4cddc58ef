"""``jukinet operator`` and ``jukinet bootstrap``: operator accounts, managed on the server.

Every command but ``bootstrap`` is run by a signed-in security officer and logged under their
name; ``bootstrap`` creates the node's first system administrator once, and refuses ever after.
"""

from __future__ import annotations

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
    terminal_id,
)
from jukinet.domain.operators import Role
from jukinet.services.operators import (
    add_operator,
    bootstrap_administrator,
    change_role,
    list_operators,
    reset_password,
    set_account_enabled,
    unlock_operator,
)

app = typer.Typer(help="操作者 / Operator accounts (security officers).", no_args_is_help=True)

PasswordStdinOption = Annotated[
    bool,
    typer.Option(
        "--password-stdin", help="Read the password from the first line of standard input."
    ),
]
ReasonOption = Annotated[str, typer.Option("--reason", help="Why (recorded in the access log).")]


def _new_password(from_stdin: bool, prompt: str = "パスワード / password") -> str:
    return read_stdin_secret() if from_stdin else read_secret(prompt, confirm=True)


@cli_command
def bootstrap_command(
    ctx: typer.Context,
    username: Annotated[str, typer.Option("--username", help="Sign-in name: a-z, 0-9, . _ -.")],
    display_name: Annotated[
        str, typer.Option("--display-name", help="The administrator's name as screens show it.")
    ],
    password_stdin: PasswordStdinOption = False,
) -> None:
    """Create the node's first operator, a system administrator (once: refused when any
    operator exists). Run on the server after ``jukinet db upgrade``."""
    password = _new_password(password_stdin)
    node = node_of(ctx)
    view = bootstrap_administrator(
        node,
        username=username,
        display_name=display_name,
        password=password,
        terminal_id=terminal_id(),
    )
    console.print(
        f"[green]最初のシステム管理者を登録しました / first system administrator created:[/] "
        f"[bold]{escape(view.username)}[/] ({escape(view.display_name)})"
    )


@app.command("add")
@cli_command
def add_command(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="Sign-in name: a-z, 0-9, . _ - (3–32).")],
    role: Annotated[Role, typer.Option("--role", help="What the operator may do.")],
    display_name: Annotated[
        str, typer.Option("--display-name", help="The operator's name as screens show it.")
    ],
    password_stdin: PasswordStdinOption = False,
    operator: OperatorOption = None,
) -> None:
    """Create an operator account (security officers). The password is never an argument."""
    node = node_of(ctx)
    actor = act_as(node, operator, command="operator add")
    password = _new_password(password_stdin)
    view = add_operator(
        node,
        actor=actor,
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
def list_command(ctx: typer.Context, operator: OperatorOption = None) -> None:
    """Every operator account (never a password hash; security officers)."""
    node = node_of(ctx)
    actor = act_as(node, operator, command="operator list")
    views = {view.username: view for view in list_operators(node, actor=actor)}
    with node.uow() as uow:
        locked = {r.username for r in uow.operators.all() if r.locked_at is not None}
    table = Table(title="操作者 / Operators")
    table.add_column("ユーザー名 / username")
    table.add_column("氏名 / name")
    table.add_column("役割 / role")
    table.add_column("有効 / active")
    table.add_column("ロック / locked")
    for username, view in views.items():
        table.add_row(
            escape(username),
            escape(view.display_name),
            f"{view.role.label_ja} ({view.role.value})",
            "✓" if view.active else "[red]✗[/]",
            "[red]locked[/]" if username in locked else "",
        )
    console.print(table)


@app.command("unlock")
@cli_command
def unlock_command(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="The locked account.")],
    reason: ReasonOption,
    operator: OperatorOption = None,
) -> None:
    """Unlock an account locked by failed sign-ins (security officers; logged with the reason)."""
    node = node_of(ctx)
    actor = act_as(node, operator, command="operator unlock")
    unlock_operator(node, actor=actor, username=username, reason=reason)
    console.print(f"[green]ロックを解除しました / unlocked:[/] [bold]{escape(username)}[/]")


@app.command("disable")
@cli_command
def disable_command(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="The account to disable.")],
    reason: ReasonOption,
    operator: OperatorOption = None,
) -> None:
    """Disable an account: its sessions end at once (security officers)."""
    node = node_of(ctx)
    actor = act_as(node, operator, command="operator disable")
    set_account_enabled(node, actor=actor, username=username, enabled=False, reason=reason)
    console.print(f"[yellow]無効にしました / disabled:[/] [bold]{escape(username)}[/]")


@app.command("enable")
@cli_command
def enable_command(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="The account to enable again.")],
    reason: ReasonOption,
    operator: OperatorOption = None,
) -> None:
    """Enable a disabled account again (security officers)."""
    node = node_of(ctx)
    actor = act_as(node, operator, command="operator enable")
    set_account_enabled(node, actor=actor, username=username, enabled=True, reason=reason)
    console.print(f"[green]有効にしました / enabled:[/] [bold]{escape(username)}[/]")


@app.command("role")
@cli_command
def role_command(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="The account.")],
    role: Annotated[Role, typer.Argument(help="The new role.")],
    reason: ReasonOption,
    operator: OperatorOption = None,
) -> None:
    """Give an account another role: its sessions end at once (security officers)."""
    node = node_of(ctx)
    actor = act_as(node, operator, command="operator role")
    change_role(node, actor=actor, username=username, role=role, reason=reason)
    console.print(
        f"[green]役割を変更しました / role changed:[/] [bold]{escape(username)}[/] → "
        f"{role.label_ja} ({role.value})"
    )


@app.command("reset-password")
@cli_command
def reset_password_command(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="The account whose password was forgotten.")],
    reason: ReasonOption,
    password_stdin: PasswordStdinOption = False,
    operator: OperatorOption = None,
) -> None:
    """Set a new password for an account (security officers); its sessions end at once."""
    node = node_of(ctx)
    actor = act_as(node, operator, command="operator reset-password")
    password = _new_password(password_stdin, f"{username} の新しいパスワード / new password")
    reset_password(node, actor=actor, username=username, new_password=password, reason=reason)
    console.print(
        f"[green]パスワードを再設定しました / password reset:[/] [bold]{escape(username)}[/]"
    )
