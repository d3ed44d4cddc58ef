"""``jukinet demo``: a complete node with a realistic register, in one command."""

from __future__ import annotations

import random
import secrets
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from jukinet.cli.common import cli_command, console
from jukinet.cli.seed import seed_population
from jukinet.cli.serve import run_server
from jukinet.config import load_settings
from jukinet.data.catalog import get_municipality
from jukinet.domain.operators import Role
from jukinet.runtime.bootstrap import build_node
from jukinet.runtime.demo_cards import DemoCard, issue_demo_cards, softhsm_available
from jukinet.services import audit
from jukinet.services.context import ServiceContext
from jukinet.services.operators import add_operator
from jukinet.services.population import allot_codes_in_bulk
from jukinet.storage.migrate import upgrade

DEMO_DB = "demo.sqlite3"
#: Operators every demo has: (username, role, display name).
DEMO_OPERATORS = (
    ("madoguchi", Role.CLERK, "デモ 窓口担当"),
    ("kanri", Role.SUPERVISOR, "デモ 管理職"),
    ("anzen", Role.SECURITY_OFFICER, "デモ セキュリティ責任者"),
    ("kado", Role.CARD_ADMINISTRATOR, "デモ カード管理者"),
    ("unyou", Role.SYSTEM_ADMINISTRATOR, "デモ システム管理者"),
)
#: Codes beyond the population, for births and code changes during the demo.
SPARE_CODES = 1_000
HOST = "127.0.0.1"


def _fresh_database(data_dir: Path) -> Path:
    """The demo database's path, after removing any previous demo database."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / DEMO_DB
    removed = False
    for leftover in (path, path.with_name(DEMO_DB + "-wal"), path.with_name(DEMO_DB + "-shm")):
        if leftover.exists():
            leftover.unlink()
            removed = True
    if removed:
        console.print(
            f"[yellow]以前のデモデータベースを削除しました / removed the old demo database:[/] "
            f"{escape(str(path))}"
        )
    return path


@cli_command
def demo_command(
    residents: Annotated[
        int, typer.Option("--residents", min=1, help="Synthetic residents to create.")
    ] = 10_000,
    port: Annotated[int, typer.Option("--port", min=1, max=65535)] = 8000,
    data_dir: Annotated[
        Path, typer.Option("--data-dir", help="Where the demo database lives (recreated).")
    ] = Path("var/demo"),
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same population.")] = 42,
    municipality: Annotated[
        str, typer.Option("--municipality", help="6-digit municipality code.")
    ] = "132292",
    no_serve: Annotated[
        bool, typer.Option("--no-serve", help="Stop after seeding (do not start the server).")
    ] = False,
) -> None:
    """A fresh demo: new SQLite database, demo operators, a synthetic population, the server.

    Ignores --database-url and JUKINET_DATABASE_URL: the demo always has its own database. The
    operators' passwords are random and printed once.
    """
    place = get_municipality(municipality)
    path = _fresh_database(data_dir)
    settings = load_settings(
        environment="dev",
        database_url=f"sqlite:///{path}",
        municipality_code=place.code,
        # A fresh secret per run: sessions of an earlier demo are void.
        secret_key=secrets.token_urlsafe(48),
        # The log's signing key, in a folder of its own beside the demo's.
        audit_key_path=data_dir.parent / f"{data_dir.name}-keys" / "audit-signing-key.pem",
        # A newcomer's browser has no operator card and the demo runs at any hour: the first
        # sign-in enrols the browser's passkey or security key (labelled on every page).
        demo_card_enrolment=True,
        always_open=True,
    )
    console.print(f"データベースを作成しています / creating the database: {escape(str(path))}")
    upgrade(settings.database_url)
    node = build_node(settings)
    try:
        # A fresh log, so a fresh key (created here explicitly; a node never makes one itself).
        key = audit.create_log_key(node, replace=True)
        console.print(f"署名鍵 / access-log signing key: {escape(str(key))}")
        passwords = []
        for username, role, display_name in DEMO_OPERATORS:
            password = secrets.token_urlsafe(12)
            add_operator(
                node,
                actor=None,
                username=username,
                display_name=display_name,
                role=role,
                password=password,
            )
            passwords.append((username, role, display_name, password))
        allot_codes_in_bulk(
            node,
            count=residents + SPARE_CODES,
            rng=random.Random(seed),  # noqa: S311 - demo data, repeatable on purpose
        )
        seed_population(node, residents=residents, seed=seed, batch_size=2_000)

        cards = _demo_cards(node, data_dir, [username for username, *_ in passwords])

        # localhost, not 127.0.0.1: WebAuthn accepts the relying-party id "localhost" only.
        url = f"http://localhost:{port}/"
        table = Table(
            title="デモ用の操作者 / demo operators (パスワードはこの一度だけ表示されます)"
        )
        table.add_column("役割 / role")
        table.add_column("ユーザー名 / username", style="bold")
        table.add_column("パスワード / password", style="bold magenta")
        table.add_column("CLIカード / CLI card", style="bold")
        table.add_column("PIN", style="bold magenta")
        for username, role, display_name, password in passwords:
            card = cards.get(username)
            table.add_row(
                f"{role.label_ja} / {role.value}",
                username,
                password,
                card.serial if card else "—",
                card.pin if card else "—",
            )
            del display_name
        console.print(table)
        _print_card_usage(settings.database_url, data_dir, cards)
        console.print(
            Panel(
                f"[bold]{escape(url)}[/]\n{escape(place.full_name)}（{place.code}）"
                f" — {residents:,} 人 / residents",
                title="jukinet demo",
                expand=False,
            )
        )
        if no_serve:
            return
        console.print("Ctrl-C で終了します / press Ctrl-C to stop")
        run_server(node, host=HOST, port=port)
    finally:
        node.engine.dispose()


def _demo_cards(node: ServiceContext, data_dir: Path, usernames: list[str]) -> dict[str, DemoCard]:
    """A SoftHSM2 token per demo operator for the command line (none without SoftHSM2)."""
    if not softhsm_available():
        return {}
    _env, cards = issue_demo_cards(node, data_dir / "softhsm", usernames)
    return {card.username: card for card in cards}


def _print_card_usage(database_url: str, data_dir: Path, cards: dict[str, DemoCard]) -> None:
    if not cards:
        console.print(
            "[yellow]softhsm2 がないため、CLI 用の操作者カードは作成していません。"
            "/ SoftHSM2 is not installed: the command line's operator cards need it "
            "(apt-get install softhsm2).[/]"
        )
        return
    conf = (data_dir / "softhsm" / "softhsm2.conf").resolve()
    example = cards.get("anzen") or next(iter(cards.values()))
    console.print(
        "コマンドラインでは、パスワードとカード（SoftHSM2 のトークン）で"
        "操作者としてサインインします"
        " / on the command line, operators sign in with their password and card (a SoftHSM2 "
        "token), e.g.:"
    )
    console.print(
        escape(
            f"  export SOFTHSM2_CONF={conf} JUKINET_DATABASE_URL={database_url} "
            f"JUKINET_ENVIRONMENT=dev JUKINET_OPERATOR={example.username} "
            f"JUKINET_OPERATOR_CARD={example.serial} JUKINET_OPERATOR_CARD_PIN={example.pin}\n"
            "  jukinet operator list   # the password is asked for (or JUKINET_OPERATOR_PASSWORD)"
        ),
        soft_wrap=True,
    )
