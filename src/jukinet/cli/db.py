"""``jukinet db``: the database schema."""

from __future__ import annotations

import typer
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from rich.markup import escape

from jukinet.cli.common import cli_command, console, settings_of
from jukinet.storage.database import make_engine
from jukinet.storage.migrate import alembic_config, upgrade

app = typer.Typer(help="データベース / The database schema.", no_args_is_help=True)


def _revisions(database_url: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(the database's current revisions, the newest revisions the package ships)."""
    heads = tuple(ScriptDirectory.from_config(alembic_config(database_url)).get_heads())
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            current = tuple(MigrationContext.configure(connection).get_current_heads())
    finally:
        engine.dispose()
    return current, heads


def _describe(database_url: str) -> None:
    current, heads = _revisions(database_url)
    shown = ", ".join(current) or "（なし / none）"
    if set(current) == set(heads):
        console.print(f"現在のリビジョン / current revision: [bold]{escape(shown)}[/] (head) ✓")
    else:
        console.print(
            f"現在のリビジョン / current revision: [bold yellow]{escape(shown)}[/]; "
            f"最新 / head: {escape(', '.join(heads))} — [bold]jukinet db upgrade[/]"
        )


@app.command("upgrade")
@cli_command
def upgrade_command(ctx: typer.Context) -> None:
    """Bring the database up to the newest schema (creates it if it does not exist)."""
    settings = settings_of(ctx)
    upgrade(settings.database_url)
    console.print("[green]データベースを更新しました / database upgraded[/]")
    _describe(settings.database_url)


@app.command("current")
@cli_command
def current_command(ctx: typer.Context) -> None:
    """Show the database's schema revision and whether it is up to date."""
    _describe(settings_of(ctx).database_url)
