"""The ``jukinet`` command: database, operators, codes, seeding, lookups, counter work, server.

Settings come from the environment (``JUKINET_*``); ``--database-url`` overrides the database
for one invocation. Errors the register refuses exit with status 2 and a bilingual message; so
do refused settings — an unknown ``JUKINET_*`` variable (checked before any command runs), or a
missing secret key outside an explicit ``JUKINET_ENVIRONMENT=dev`` or ``test``.
"""

from __future__ import annotations

from typing import Annotated

import typer
import typer.rich_utils

from jukinet import __version__
from jukinet.cli import (
    audit,
    card_move,
    card_services,
    cards,
    certificates,
    codes,
    db,
    emergency,
    jpki,
    network,
    operators,
    provision,
    register,
    resident_cards,
    residents,
    terminals,
)
from jukinet.cli.common import EXIT_REFUSED, output_width, print_settings_error, state_of
from jukinet.cli.deadlines import deadlines_command
from jukinet.cli.demo import demo_command as single_node_demo_command
from jukinet.cli.demo_network import demo_command
from jukinet.cli.portal import sign_in_command as card_sign_in_command
from jukinet.cli.seed import seed_command
from jukinet.cli.serve import serve_command
from jukinet.config import SettingsError, check_environment

# --help into a pipe or a file: Typer's Rich help would assume 80 columns and cut long option
# names ("--previous-municipali…"); the same width as every other output instead.
typer.rich_utils.MAX_WIDTH = typer.rich_utils.MAX_WIDTH or output_width()

app = typer.Typer(
    name="jukinet",
    help="jukinet — 住民基本台帳ネットワーク (resident registry network) node tools.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_show_locals=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"jukinet {__version__}")
        raise typer.Exit


@app.callback()
def main(
    ctx: typer.Context,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            help="Database URL for this invocation (overrides JUKINET_DATABASE_URL).",
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """jukinet node tools."""
    try:
        check_environment()
    except SettingsError as error:
        print_settings_error(error)
        raise typer.Exit(EXIT_REFUSED) from None
    state_of(ctx).database_url = database_url


app.add_typer(db.app, name="db")
app.add_typer(operators.app, name="operator")
app.add_typer(cards.app, name="operator-card")
resident_cards.app.command("sign-in")(card_sign_in_command)
app.add_typer(resident_cards.app, name="card")
app.add_typer(certificates.app, name="certificate")
app.add_typer(jpki.app, name="jpki")
app.add_typer(terminals.app, name="terminal")
app.add_typer(card_services.app, name="card-service")
app.add_typer(codes.app, name="codes")
app.add_typer(residents.app, name="resident")
card_move.add_commands(register.app)
app.add_typer(register.app, name="register")
app.add_typer(network.pki_app, name="pki")
app.add_typer(network.node_app, name="node")
network.network_app.command("deadlines")(deadlines_command)
app.add_typer(network.network_app, name="network")
app.add_typer(provision.recipient_app, name="recipient")
app.add_typer(provision.agency_app, name="agency")
app.add_typer(audit.audit_app, name="audit")
app.add_typer(emergency.app, name="emergency")
app.command("bootstrap")(operators.bootstrap_command)
app.command("affairs")(provision.affairs_command)
app.command("reconcile")(network.reconcile_command)
app.command("seed")(seed_command)
app.command("serve")(serve_command)
app.command("demo")(demo_command)
app.command("demo-node")(single_node_demo_command)

if __name__ == "__main__":  # pragma: no cover
    app()
