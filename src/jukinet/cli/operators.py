"""``jukinet operator`` and ``jukinet bootstrap``: operator accounts, managed on the server.

Every command but ``bootstrap`` is run by a signed-in security officer and logged under their
name; ``bootstrap`` creates the node's first three operators (system administrator, security
officer, card administrator) and their cards once, and refuses ever after.
"""

from __future__ import annotations

import os
from dataclasses import replace
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
from jukinet.config import PKCS11_MODULE_VARIABLE
from jukinet.domain.operators import Role
from jukinet.network.hsm import DEFAULT_MODULE
from jukinet.network.operator_card import TokenOperatorCard
from jukinet.services.operator_security.bootstrap import (
    FirstOperator,
    bootstrap_operators,
    check_first,
)
from jukinet.services.operators import (
    add_operator,
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


def _first(
    role: Role,
    username: str,
    display_name: str,
    card: str | None,
) -> FirstOperator:
    return FirstOperator(
        role=role, username=username, display_name=display_name, password="", card_serial=card
    )


@cli_command
def bootstrap_command(
    ctx: typer.Context,
    administrator: Annotated[
        str, typer.Option("--administrator", help="The system administrator's username.")
    ],
    administrator_name: Annotated[
        str, typer.Option("--administrator-name", help="Their name as screens show it.")
    ],
    security_officer: Annotated[
        str, typer.Option("--security-officer", help="The security officer's username.")
    ],
    security_officer_name: Annotated[
        str, typer.Option("--security-officer-name", help="Their name as screens show it.")
    ],
    card_administrator: Annotated[
        str, typer.Option("--card-administrator", help="The card administrator's username.")
    ],
    card_administrator_name: Annotated[
        str, typer.Option("--card-administrator-name", help="Their name as screens show it.")
    ],
    administrator_card: Annotated[
        str | None,
        typer.Option("--administrator-card", help="Label (serial) of the administrator's token."),
    ] = None,
    security_officer_card: Annotated[
        str | None,
        typer.Option("--security-officer-card", help="Label (serial) of the officer's token."),
    ] = None,
    card_administrator_card: Annotated[
        str | None,
        typer.Option(
            "--card-administrator-card", help="Label (serial) of the card administrator's token."
        ),
    ] = None,
    module: Annotated[
        str | None,
        typer.Option(
            "--module",
            help=f"The PKCS#11 module (default: {PKCS11_MODULE_VARIABLE} or SoftHSM2's).",
        ),
    ] = None,
    secrets_stdin: Annotated[
        bool,
        typer.Option(
            "--secrets-stdin",
            help="Read the three passwords (administrator, security officer, card "
            "administrator), then each card's PIN in the same order, one a line from "
            "standard input.",
        ),
    ] = False,
) -> None:
    """Bring up a node: its first system administrator, security officer and card
    administrator, each lent a PKCS#11 card whose key is made in the token now (once: refused
    when any operator exists). Run on the server after ``jukinet db upgrade``; the tokens must
    be initialised (labelled with their serials). Dev and test nodes may leave the cards out."""
    node = node_of(ctx)
    first = [
        _first(Role.SYSTEM_ADMINISTRATOR, administrator, administrator_name, administrator_card),
        _first(
            Role.SECURITY_OFFICER, security_officer, security_officer_name, security_officer_card
        ),
        _first(
            Role.CARD_ADMINISTRATOR,
            card_administrator,
            card_administrator_name,
            card_administrator_card,
        ),
    ]
    check_first(node, first, passwords=False)  # before any prompt: refused now, not later
    passwords = [
        read_stdin_secret()
        if secrets_stdin
        else read_secret(f"{one.username} のパスワード / password", confirm=True)
        for one in first
    ]
    first = [replace(one, password=secret) for one, secret in zip(first, passwords, strict=True)]
    check_first(node, first)
    library = module or os.environ.get(PKCS11_MODULE_VARIABLE, DEFAULT_MODULE)
    made: list[FirstOperator] = []
    for one in first:
        if one.card_serial is None:
            made.append(one)
            continue
        pin = (
            read_stdin_secret()
            if secrets_stdin
            else read_secret(f"カード {one.card_serial} のPIN / card PIN", confirm=False)
        )
        with TokenOperatorCard(serial=one.card_serial, pin=pin, module=library) as card:
            card.generate()
            made.append(replace(one, card_public_key_der=card.public_key_der()))
    views = bootstrap_operators(node, first=made, terminal_id=terminal_id())
    for view, one in zip(views, made, strict=True):
        card_text = f", card {escape(one.card_serial)}" if one.card_serial else ""
        console.print(
            f"[green]登録しました / created:[/] [bold]{escape(view.username)}[/] "
            f"({escape(view.display_name)}, {view.role.label_ja} / {view.role.value}{card_text})"
        )
    console.print(
        "次は / next: jukinet terminal init (system administrator), jukinet terminal enroll "
        "(security officer), jukinet operator-card issue / lend (card administrator)."
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
