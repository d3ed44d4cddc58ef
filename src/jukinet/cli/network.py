"""``jukinet pki …``, ``jukinet node …`` and ``jukinet network …``: running the network."""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
from pathlib import Path
from typing import Annotated

import typer
from cryptography import x509
from rich.markup import escape
from rich.table import Table

from jukinet.cli.common import OperatorOption, act_as, cli_command, console
from jukinet.cli.provision import target_node
from jukinet.config import CA_PIN_VARIABLE
from jukinet.domain.network import NodeId
from jukinet.domain.participation import ParticipationChange
from jukinet.network.ca import CA_KEY_FILE, TOKEN_FILE, CaSignerUnavailable, ca_signer_of
from jukinet.network.hsm import DEFAULT_MODULE, Pkcs11CaSigner
from jukinet.network.pki import CaSigner, FileCaSigner, NetworkPki
from jukinet.runtime.bootstrap import build_node
from jukinet.runtime.runner import CONFIG_FILE, NodeConfig, run_node
from jukinet.services import ledger
from jukinet.services.context import ServiceContext
from jukinet.services.participation import change_participation, participation_status
from jukinet.services.reconcile import reconcile
from jukinet.services.register.notices import initial_load
from jukinet.storage.migrate import upgrade
from jukinet.storage.private_files import private_folder, write_private

pki_app = typer.Typer(
    help="The network's PKI: CA, node certificates, revocation.", no_args_is_help=True
)
node_app = typer.Typer(help="Configure and run one node.", no_args_is_help=True)
network_app = typer.Typer(help="The delivery ledger and participation.", no_args_is_help=True)

DirOption = Annotated[Path, typer.Option("--dir", help="The node's folder (holds node.json).")]
PkiOption = Annotated[Path, typer.Option("--pki", help="The network PKI folder.")]
SignInNodeOption = Annotated[
    Path | None,
    typer.Option(
        "--node-dir",
        help="The node whose operators you sign in at (its folder, with node.json); "
        "default: --database-url / JUKINET_DATABASE_URL.",
    ),
]


def _administrator(
    ctx: typer.Context, folder: Path | None, operator: str | None, command: str
) -> None:
    # PKI work is the system administrator's, signed in at the node whose server holds the CA.
    act_as(target_node(ctx, folder), operator, command=command)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


PIN_ENV = CA_PIN_VARIABLE


def _token_signer(settings: dict[str, str], *, create: bool = False) -> CaSigner:
    pin = os.environ.get(PIN_ENV)
    if not pin:
        raise _no_pin()
    signer = Pkcs11CaSigner(
        token_label=settings["token_label"],
        pin=pin,
        key_label=settings["key_label"],
        module=settings["module"],
    )
    if create:
        signer.generate()
    return signer


def _no_pin() -> typer.BadParameter:
    return typer.BadParameter(
        f"the CA key is in a PKCS#11 token: set {PIN_ENV} to the token's user PIN and retry"
    )


def _ca_signer(pki: NetworkPki) -> CaSigner:
    try:
        signer = ca_signer_of(pki, pin=os.environ.get(PIN_ENV))
    except CaSignerUnavailable:
        raise _no_pin() from None
    if signer is None:
        raise typer.BadParameter(
            f"{pki.folder} has neither {CA_KEY_FILE} nor {TOKEN_FILE}: give the folder made by "
            "'jukinet pki init' with --pki",
            param_hint="--pki",
        )
    return signer


@pki_app.command("init")
@cli_command
def pki_init(
    ctx: typer.Context,
    folder: Annotated[Path, typer.Option("--dir", help="Where to create the PKI.")],
    nodes: Annotated[
        list[str], typer.Option("--node", help="A node to issue, e.g. prefecture:13.")
    ] = [],  # noqa: B006 - Typer reads the default, never mutates it
    pkcs11_token: Annotated[
        str | None,
        typer.Option(help=f"Keep the CA key in this PKCS#11 token (PIN from ${PIN_ENV})."),
    ] = None,
    pkcs11_module: Annotated[str, typer.Option(help="The PKCS#11 module.")] = DEFAULT_MODULE,
    node_dir: SignInNodeOption = None,
    operator: OperatorOption = None,
) -> None:
    """Create the network CA (key in a PKCS#11 token, or a file for demos); issue nodes."""
    _administrator(ctx, node_dir, operator, "pki init")
    names = [str(NodeId.parse(name)) for name in nodes]  # every name checked before any write
    if (folder / "ca.crt").exists():
        raise typer.BadParameter(
            f"{folder} already holds a CA; choose an empty folder (a second CA would split "
            "the network's trust)",
            param_hint="--dir",
        )
    private_folder(folder)
    signer: CaSigner
    if pkcs11_token:
        settings = {"token_label": pkcs11_token, "key_label": "jukinet-ca", "module": pkcs11_module}
        signer = _token_signer(settings, create=True)
        write_private(folder / TOKEN_FILE, json.dumps(settings).encode("utf-8"))
    else:
        file_signer = FileCaSigner.generate()
        file_signer.save(folder / CA_KEY_FILE)
        signer = file_signer
    pki = NetworkPki(folder)
    pki.init(signer, now=_now())
    for name in names:
        pki.issue_node(signer, name, now=_now())
    console.print(f"[green]CA created in {folder}[/] ({len(names)} node(s) issued)")


@pki_app.command("issue")
@cli_command
def pki_issue(
    ctx: typer.Context,
    pki_dir: PkiOption,
    node: Annotated[str, typer.Argument()],
    node_dir: SignInNodeOption = None,
    operator: OperatorOption = None,
) -> None:
    """Issue a node its TLS certificate and signing key."""
    _administrator(ctx, node_dir, operator, "pki issue")
    pki = NetworkPki(pki_dir)
    creds = pki.issue_node(_ca_signer(pki), str(NodeId.parse(node)), now=_now())
    console.print(f"[green]issued {node}[/] → {creds.folder}")


@pki_app.command("issue-client")
@cli_command
def pki_issue_client(
    ctx: typer.Context,
    pki_dir: PkiOption,
    principal: Annotated[str, typer.Argument(help="The recipient id, e.g. agency:soumu-onkyu.")],
    node_dir: SignInNodeOption = None,
    operator: OperatorOption = None,
) -> None:
    """Issue a recipient (an agency's system) its TLS client certificate."""
    _administrator(ctx, node_dir, operator, "pki issue-client")
    _check_principal(principal)
    pki = NetworkPki(pki_dir)
    creds = pki.issue_client(_ca_signer(pki), principal, now=_now())
    console.print(f"[green]issued client {escape(principal)}[/] → {creds.folder}")


@pki_app.command("revoke-client")
@cli_command
def pki_revoke_client(
    ctx: typer.Context,
    pki_dir: PkiOption,
    principal: Annotated[str, typer.Argument(help="The recipient id.")],
    node_dir: SignInNodeOption = None,
    operator: OperatorOption = None,
) -> None:
    """Revoke a recipient's client certificate (refused at the next handshake or request)."""
    _administrator(ctx, node_dir, operator, "pki revoke-client")
    _check_principal(principal)
    pki = NetworkPki(pki_dir)
    cert = x509.load_pem_x509_certificate(pki.node(principal).tls_cert.read_bytes())
    pki.revoke(_ca_signer(pki), cert, now=_now())
    console.print(f"[yellow]revoked client {escape(principal)}[/] (serial {cert.serial_number:x})")


def _check_principal(principal: str) -> None:
    # The id becomes a folder name and a certificate URI: the recipient-id rules apply.
    from jukinet.domain.affairs import Recipient, RecipientType

    Recipient(id=principal, name="-", kind=RecipientType.NATIONAL_BODY)


@pki_app.command("revoke")
@cli_command
def pki_revoke(
    ctx: typer.Context,
    pki_dir: PkiOption,
    node: Annotated[str, typer.Argument()],
    node_dir: SignInNodeOption = None,
    operator: OperatorOption = None,
) -> None:
    """Revoke a node's TLS certificate and publish the new CRL (nodes refuse it at once)."""
    _administrator(ctx, node_dir, operator, "pki revoke")
    pki = NetworkPki(pki_dir)
    creds = pki.node(str(NodeId.parse(node)))
    cert = x509.load_pem_x509_certificate(creds.tls_cert.read_bytes())
    pki.revoke(_ca_signer(pki), cert, now=_now())
    console.print(f"[yellow]revoked {node}[/] (serial {cert.serial_number:x})")


@pki_app.command("crl")
@cli_command
def pki_crl(
    ctx: typer.Context,
    pki_dir: PkiOption,
    force: Annotated[
        bool, typer.Option(help="Publish even if the current list has time left.")
    ] = False,
    node_dir: SignInNodeOption = None,
    operator: OperatorOption = None,
) -> None:
    """Republish the CRL (the node holding the CA key does this by itself when half its
    seven days are gone); every node picks it up without a restart."""
    _administrator(ctx, node_dir, operator, "pki crl")
    pki = NetworkPki(pki_dir)
    signer = _ca_signer(pki)
    if force:
        pki.publish_crl(signer, now=_now())
        published = True
    else:
        published = pki.republish_crl_if_due(signer, now=_now())
    next_update = pki.trust_anchor().crl_next_update
    state = "republished" if published else "still current, not republished"
    console.print(f"CRL {state}: valid until {next_update.isoformat()}")


@node_app.command("init")
@cli_command
def node_init(
    ctx: typer.Context,
    folder: DirOption,
    node: Annotated[str, typer.Option("--node", help="municipality:132292, prefecture:13, …")],
    pki_dir: PkiOption,
    network_port: Annotated[int, typer.Option(help="Mutual-TLS port for neighbours.")],
    operator_port: Annotated[int, typer.Option(help="Port of the pages and API.")],
    peer: Annotated[
        list[str],
        typer.Option(
            "--peer", help="A neighbour as NAME=URL, e.g. prefecture:13=https://127.0.0.1:8413"
        ),
    ] = [],  # noqa: B006 - Typer reads the default, never mutates it
    database_url: Annotated[str | None, typer.Option(help="Default: SQLite in the folder.")] = None,
    participation: Annotated[
        str | None, typer.Option(help="connected or disconnected (default: connected).")
    ] = None,
    allow_opt_out: Annotated[
        bool | None, typer.Option(help="Let residents opt out (default: no).")
    ] = None,
    environment: Annotated[
        str | None,
        typer.Option(
            help="dev or test for a development node. Default: none written, so the node is "
            "production unless JUKINET_ENVIRONMENT says otherwise."
        ),
    ] = None,
    operator: OperatorOption = None,
) -> None:
    """Write the node's configuration (node.json) and create its database.

    A new node needs no sign-in (it has no operators yet: ``jukinet bootstrap`` comes next);
    rewriting an existing node's configuration is a system administrator's, signed in there.
    """
    if (folder / CONFIG_FILE).exists():
        _administrator(ctx, folder, operator, "node init")
    name = str(NodeId.parse(node))
    peers = {}
    for item in peer:
        key, _, url = item.partition("=")
        peers[str(NodeId.parse(key))] = url
    url = database_url or f"sqlite:///{folder / 'node.sqlite3'}"
    # Only what this node sets; Settings holds every default.
    per_node: dict[str, object] = {
        "database_url": url,
        "pki_dir": str(pki_dir),
        "peers": peers,
        "secret_key": secrets.token_urlsafe(48),
        "participation": participation,
        "allow_opt_out": allow_opt_out,
        "environment": environment,
    }
    config = NodeConfig(
        node=name, network_port=network_port, operator_port=operator_port, per_node=per_node
    )
    config.settings()  # refuse bad values now rather than when the node is served
    folder.mkdir(parents=True, exist_ok=True)
    upgrade(url)
    path = config.save(folder)
    console.print(f"[green]{name}[/] configured in {path}")


@node_app.command("serve")
@cli_command
def node_serve(folder: DirOption) -> None:
    """Serve the node: operator pages/API, the mutual-TLS endpoint, and delivery workers."""
    config = NodeConfig.load(folder)
    console.print(
        f"{config.node}: network https://{config.host}:{config.network_port} "
        f"(mutual TLS), pages http://{config.host}:{config.operator_port}/"
    )
    run_node(folder)


def _node(ctx: typer.Context, folder: Path) -> ServiceContext:
    node = build_node(NodeConfig.load(folder).settings())
    ctx.call_on_close(node.engine.dispose)
    return node


@node_app.command("participation")
@cli_command
def node_participation(
    ctx: typer.Context,
    folder: DirOption,
    state: Annotated[
        str | None,
        typer.Argument(help="connected or disconnected; omit to show the state and its history."),
    ] = None,
    reason: Annotated[
        str | None, typer.Option("--reason", help="The decision (who decided, its reference).")
    ] = None,
    operator: OperatorOption = None,
) -> None:
    """Connect or disconnect this municipality (system administrators); joining queues the
    initial load. The running node follows within seconds."""
    node = _node(ctx, folder)
    actor = act_as(node, operator, command="node participation")
    if state is not None:
        view = change_participation(
            node, actor=actor, change=ParticipationChange(state=state, reason=reason or "")
        )
        console.print(f"[green]{view.previous_state} → {view.state}[/]")
        if view.snapshots_queued is not None:
            console.print(f"初期送信 / initial load: {view.snapshots_queued} snapshot(s) queued")
        return
    status = participation_status(node, actor=actor)
    console.print(f"{status.node}: [bold]{status.state}[/] (configured: {status.configured})")
    for change in status.changes:
        console.print(
            f"  {change.changed_at.isoformat(timespec='seconds')} {change.previous_state} → "
            f"{change.state} by {escape(change.operator)}: {escape(change.reason)}"
        )


@network_app.command("status")
@cli_command
def network_status(ctx: typer.Context, folder: DirOption, operator: OperatorOption = None) -> None:
    """The delivery ledger: per link, sequences, queue, oldest undelivered, quarantine."""
    node = _node(ctx, folder)
    actor = act_as(node, operator, command="network status")
    table = Table(title=f"送受信台帳 / delivery ledger — {node.node_id}")
    table.add_column("peer", no_wrap=True, min_width=19)
    for column in (
        "sent",
        "acked",
        "received",
        "queued",
        "oldest (s)",
        "overdue out/late in",
        "quarantined out/in",
        "last error",
    ):
        table.add_column(column)
    for link in ledger.link_statuses(node, actor=actor):
        oldest = link.oldest_undelivered_seconds
        table.add_row(
            link.peer,
            str(link.last_sent),
            str(link.last_acked),
            str(link.last_received),
            str(link.queued),
            "—" if oldest is None else f"{oldest:.1f}",
            f"{link.overdue}/{link.arrived_late}",
            f"{link.quarantined_outbound}/{link.quarantined_inbound}",
            link.last_error or "—",
        )
    console.print(table)
    held = ledger.quarantined_messages(node, actor=actor, limit=20)
    if held:
        console.print(f"[yellow]{len(held)} message(s) quarantined or held:[/]")
        for message in held:
            console.print(
                f"  {message.direction} {message.peer} #{message.sequence} "
                f"{message.status} {message.subject or ''}: {message.reason or ''}"
            )


@network_app.command("initial-load")
@cli_command
def network_initial_load(
    ctx: typer.Context, folder: DirOption, operator: OperatorOption = None
) -> None:
    """Queue a snapshot of every record for upstream (after connecting a municipality)."""
    node = _node(ctx, folder)
    act_as(node, operator, command="network initial-load")
    count = initial_load(node)
    console.print(f"[green]{count} snapshot(s) queued[/]")


@cli_command
def reconcile_command(
    ctx: typer.Context,
    folder: DirOption,
    dry_run: Annotated[bool, typer.Option(help="Report only; queue no repairs.")] = False,
    show_codes: Annotated[bool, typer.Option(help="List the differing resident codes.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    operator: OperatorOption = None,
) -> None:
    """Compare this municipality with its prefecture and the centre; repair by re-sending.

    Exit status 0 when every tier agrees, 1 when differences were found (and, unless
    --dry-run, repairs queued for the running node to deliver), 2 when refused.
    """
    node = _node(ctx, folder)
    act_as(node, operator, command="reconcile")
    report = reconcile(node, repair=not dry_run)
    if as_json:
        console.print_json(json.dumps(report.as_dict(), ensure_ascii=False))
    else:
        for line in report.lines(show_codes=show_codes):
            console.print(escape(line))
    raise typer.Exit(0 if report.consistent else 1)
