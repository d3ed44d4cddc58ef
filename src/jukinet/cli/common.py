"""What every command shares: settings, the node, sign-in, dates, and how errors are shown.

User errors never end in a traceback: a :class:`~jukinet.domain.errors.DomainError` is printed
with its code, its Japanese and English messages and the field, in red, and the command exits
with status 2. A database that was never migrated gets a hint instead of a stack of SQL.
"""

from __future__ import annotations

import functools
import os
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Annotated, ParamSpec, TypeVar

import pydantic
import typer
from rich.console import Console
from rich.markup import escape
from sqlalchemy.exc import OperationalError, ProgrammingError

from jukinet.cli.permissions import SERVICE_CHECKED, CommandRule, rule_for
from jukinet.config import (
    DEVELOPMENT_ENVIRONMENTS,
    OPERATOR_CARD_PIN_VARIABLE,
    OPERATOR_CARD_VARIABLE,
    OPERATOR_PASSWORD_VARIABLE,
    OPERATOR_VARIABLE,
    PKCS11_MODULE_VARIABLE,
    Settings,
    SettingsError,
    load_settings,
)
from jukinet.domain.errors import AuthenticationFailed, DomainError, PermissionDenied
from jukinet.domain.operators import Actor, Permission, Role
from jukinet.domain.wareki import format_wareki, parse_date
from jukinet.network.hsm import DEFAULT_MODULE
from jukinet.network.operator_card import TokenOperatorCard
from jukinet.runtime.bootstrap import build_node
from jukinet.services.context import ServiceContext
from jukinet.services.operator_security.challenges import signin_message
from jukinet.services.operator_security.events import record_command
from jukinet.services.operator_security.signin import (
    finish_card_signin,
    refuse_card_pin,
    token_challenge,
)
from jukinet.services.operator_security.terminals import console_terminal
from jukinet.services.operators import verify_password

#: Columns for output that is not a terminal (a pipe, a file, a test). Rich assumes 80 there and
#: cuts table cells and option names with "…"; wide enough instead that nothing is cut.
PIPE_WIDTH = 200


def output_width(stream: object = None) -> int | None:
    """The width to print at: ``None`` (Rich measures) on a terminal or when ``COLUMNS`` says,
    :data:`PIPE_WIDTH` otherwise."""
    if os.environ.get("COLUMNS") or os.environ.get("TERMINAL_WIDTH"):
        return None
    isatty = getattr(stream if stream is not None else sys.stdout, "isatty", None)
    return None if callable(isatty) and isatty() else PIPE_WIDTH


console = Console(width=output_width())
err_console = Console(stderr=True, width=output_width(sys.stderr))

#: Exit status for an input the register refuses (a domain error), and for anything else wrong.
EXIT_REFUSED = 2
EXIT_FAILED = 1

#: Variables the command line reads itself (jukinet.config lists every JUKINET_* variable).
PASSWORD_ENV = OPERATOR_PASSWORD_VARIABLE
OPERATOR_ENV = OPERATOR_VARIABLE

#: The error a PKCS#11 token gives for a wrong PIN (counted towards the lockout).
WRONG_PIN = "JUKI-AUTH-034"

#: ``--operator``: who runs the command (signs in; every command is logged with the name).
OperatorOption = Annotated[
    str | None,
    typer.Option(
        "--operator",
        "-u",
        envvar=OPERATOR_ENV,
        help="You: your operator username (signs in with the password and your card; "
        "JUKINET_OPERATOR_PASSWORD, JUKINET_OPERATOR_CARD, JUKINET_OPERATOR_CARD_PIN or prompts).",
    ),
]

P = ParamSpec("P")
R = TypeVar("R")


@dataclass
class CliState:
    """Options given before the command (``jukinet --database-url … COMMAND``)."""

    database_url: str | None = None


def state_of(ctx: typer.Context) -> CliState:
    """The global options, whichever sub-command ``ctx`` belongs to."""
    root = ctx.find_root()
    if not isinstance(root.obj, CliState):
        root.obj = CliState()
    return root.obj


def settings_of(ctx: typer.Context, **overrides: object) -> Settings:
    """Settings from the environment, with ``--database-url`` and ``overrides`` applied."""
    database_url = state_of(ctx).database_url
    if database_url:
        overrides.setdefault("database_url", database_url)
    return load_settings(**overrides)


def node_of(ctx: typer.Context, **overrides: object) -> ServiceContext:
    """The node the command works on; its engine is disposed when the command ends."""
    node = build_node(settings_of(ctx, **overrides))
    ctx.call_on_close(node.engine.dispose)
    return node


def print_domain_error(error: DomainError) -> None:
    """The error (each of them, for an aggregate) as a clerk and an administrator both
    understand it."""
    for one in error.each():
        err_console.print(
            f"[bold red]エラー {escape(one.code)}[/]: [red]{escape(one.message_ja)}[/]"
        )
        err_console.print(
            f"[bold red]Error {escape(one.code)}[/]: [red]{escape(one.message_en)}[/]"
        )
        if one.field:
            err_console.print(f"[red]項目 / field: {escape(one.field)}[/]")


def print_settings_error(error: SettingsError) -> None:
    """Refused settings: each one, and what to set, in Japanese and English."""
    err_console.print("[bold red]設定が正しくありません / invalid settings[/]")
    for problem in error.problems:
        err_console.print(f"[bold red]  {escape(problem.setting)}[/]")
        err_console.print(f"[red]    {escape(problem.ja)}[/]")
        err_console.print(f"[red]    {escape(problem.en)}[/]")


def cli_command(func: Callable[P, R]) -> Callable[P, R]:
    """Turn user errors into a red message and an exit status instead of a traceback."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except DomainError as error:
            print_domain_error(error)
            raise typer.Exit(EXIT_REFUSED) from None
        except SettingsError as error:
            print_settings_error(error)
            raise typer.Exit(EXIT_REFUSED) from None
        except pydantic.ValidationError as error:
            err_console.print("[bold red]設定が正しくありません / invalid settings[/]")
            for problem in error.errors():
                where = ".".join(str(part) for part in problem["loc"]) or "settings"
                err_console.print(f"[red]  {escape(where)}: {escape(problem['msg'])}[/]")
            raise typer.Exit(EXIT_REFUSED) from None
        except (OperationalError, ProgrammingError) as error:
            err_console.print("[bold red]データベースエラー / database error[/]")
            err_console.print(f"[red]{escape(str(error.orig))}[/]")
            err_console.print(
                "データベースを作成・更新するには [bold]jukinet db upgrade[/] を実行してください。 "
                "/ Run [bold]jukinet db upgrade[/] to create or update the database."
            )
            raise typer.Exit(EXIT_FAILED) from None

    return wrapper


def parse_date_option(value: str | None, *, field: str, default: date | None = None) -> date:
    """A date typed as 和暦 (令和8年11月26日, R8.11.26) or ISO (2026-11-26)."""
    if value is None or not value.strip():
        if default is None:
            raise typer.BadParameter(f"{field} is required")
        return default
    return parse_date(value, field=field)


def wareki(d: date | None) -> str:
    """``令和8年11月26日 (2026-11-26)``, or an empty string."""
    return "" if d is None else f"{format_wareki(d)} ({d.isoformat()})"


def read_secret(prompt: str, *, confirm: bool) -> str:
    """A password typed without echo (twice when ``confirm``)."""
    value: str = typer.prompt(prompt, hide_input=True, confirmation_prompt=confirm)
    return value


def read_stdin_secret() -> str:
    """The first line of standard input, without its line ending."""
    return sys.stdin.readline().rstrip("\r\n")


def terminal_id() -> str:
    """How the operation log names this terminal: the command line on this host."""
    return f"cli:{socket.gethostname()}"[:40]


def _password_only(node: ServiceContext, username: str) -> Actor:
    # Development and test nodes only (production always asks for the card): the password
    # alone, on this host's console terminal, recorded like any sign-in.
    password = os.environ.get(PASSWORD_ENV)
    if password is None:
        password = read_secret(f"{username} のパスワード / password", confirm=False)
    terminal = console_terminal(node, terminal_id())
    operator_id = verify_password(
        node, username=username, password=password, terminal_id=terminal.name
    )
    with node.uow() as uow:
        row = uow.operators.by_id(operator_id)
        if row is None:  # deleted between the two reads: refuse like a wrong password
            raise typer.Exit(EXIT_REFUSED)
        return Actor(
            operator_id=row.id,
            username=row.username,
            role=Role(row.role),
            terminal_id=terminal.name,
            display_name=row.display_name,
        )


def sign_in(node: ServiceContext, username: str | None) -> Actor:
    """Authenticate the operator with the password and their card (a PKCS#11 token).

    The password and the card's PIN come from the environment or hidden prompts; the card is
    the token labelled with its serial (``JUKINET_OPERATOR_CARD``). The session is a command
    line session on this host's console terminal, logged like any other.
    """
    if not username:
        raise typer.BadParameter(
            f"--operator (or {OPERATOR_ENV}) is required", param_hint="--operator"
        )
    serial = os.environ.get(OPERATOR_CARD_VARIABLE)
    if not serial and node.settings.environment in DEVELOPMENT_ENVIRONMENTS:
        return _password_only(node, username)
    if not serial:
        raise AuthenticationFailed(
            "JUKI-AUTH-036",
            ja=f"操作者カードが必要です。{OPERATOR_CARD_VARIABLE} に貸与されたカードの番号を"
            f"設定してください（PIN は {OPERATOR_CARD_PIN_VARIABLE} または入力）。"
            "パスワードだけで使えるのは開発・試験環境だけです。",
            en=f"Your operator card is required: set {OPERATOR_CARD_VARIABLE} to the serial of "
            f"the card lent to you (its PIN in {OPERATOR_CARD_PIN_VARIABLE}, or typed when "
            "asked). The password alone is for dev and test environments only.",
            field=OPERATOR_CARD_VARIABLE,
        )
    password = os.environ.get(PASSWORD_ENV)
    if password is None:
        password = read_secret(f"{username} のパスワード / password", confirm=False)
    pin = os.environ.get(OPERATOR_CARD_PIN_VARIABLE)
    if pin is None:
        pin = read_secret(f"カード {serial} のPIN / card PIN", confirm=False)
    terminal = console_terminal(node, terminal_id())
    challenge_id, challenge = token_challenge(node)
    module = os.environ.get(PKCS11_MODULE_VARIABLE, DEFAULT_MODULE)
    try:
        card = TokenOperatorCard(serial=serial, pin=pin, module=module)
    except AuthenticationFailed as error:
        if error.code == WRONG_PIN:
            # Ours to count: the token itself may never lock (SoftHSM does not).
            refuse_card_pin(
                node, username=username, password=password, card_serial=serial, terminal=terminal
            )
        raise
    with card:
        signature = card.sign(signin_message(str(node.node_id), challenge))
    return finish_card_signin(
        node,
        username=username,
        password=password,
        card_serial=serial,
        challenge_id=challenge_id,
        signature=signature,
        terminal=terminal,
        channel="cli",
    ).actor


def act_as(node: ServiceContext, username: str | None, *, command: str) -> Actor:
    """Sign the operator in for ``command`` and check what its rule requires.

    The rule comes from :data:`jukinet.cli.permissions.COMMAND_RULES`, the one table of what
    each command needs: a permission is required here; a command its service checks signs in
    only. Both the command and a refusal are written to the access log under the operator's
    name and this terminal (the command's name only, never its arguments).
    """
    rule = rule_for(command)
    if isinstance(rule, CommandRule) and rule.check is not SERVICE_CHECKED:
        raise TypeError(f"{command!r} is an open command: nobody signs in for it")
    actor = sign_in(node, username)
    if isinstance(rule, Permission):
        try:
            actor.require(rule)
        except PermissionDenied:
            record_command(node, actor=actor, command=command, refused=True)
            raise
    record_command(node, actor=actor, command=command)
    return actor
