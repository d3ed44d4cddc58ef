"""``jukinet terminal``: the node's terminal CA and the register of terminals (登録端末).

``terminal init`` creates the node's terminal CA and the operator port's server certificate (a
system administrator, once); ``terminal enroll`` issues a terminal its client certificate as a
PKCS#12 file and registers it; ``list`` and ``revoke`` keep the register (security officers).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Annotated

import typer
from cryptography.hazmat.primitives.serialization import Encoding, pkcs12
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
from jukinet.network.terminal_ca import TerminalAuthority
from jukinet.services.operator_security.terminals import (
    enroll_terminal,
    list_terminals,
    revoke_terminal,
)
from jukinet.storage.private_files import write_private

app = typer.Typer(
    help="登録端末 / Terminals: the terminal CA (system administrators) and the register "
    "(security officers).",
    no_args_is_help=True,
)

#: The operator port always answers on the server itself.
LOCAL_HOSTS = ("localhost", "127.0.0.1")


@app.command("init")
@cli_command
def init_command(
    ctx: typer.Context,
    hosts: Annotated[
        list[str],
        typer.Option(
            "--host",
            help="A name or address the operator pages are reached by (repeatable); "
            "localhost and 127.0.0.1 are always included.",
        ),
    ] = [],  # noqa: B006 - Typer reads the default, never mutates it
    replace: Annotated[
        bool,
        typer.Option(
            "--replace",
            help="Replace an existing terminal CA: every terminal must then be enrolled again.",
        ),
    ] = False,
    operator: OperatorOption = None,
) -> None:
    """Create the node's terminal CA and the operator port's server certificate
    (in JUKINET_TERMINAL_DIR; system administrators)."""
    node = node_of(ctx)
    act_as(node, operator, command="terminal init")
    authority = TerminalAuthority(node.settings.terminal_folder)
    if authority.exists and not replace:
        raise typer.BadParameter(
            f"{authority.folder} already holds a terminal CA; --replace makes a new one "
            "(and every terminal's certificate stops working)",
            param_hint="--replace",
        )
    names = list(dict.fromkeys([*LOCAL_HOSTS, *(host.strip() for host in hosts if host.strip())]))
    authority.create(node=str(node.node_id), hosts=names, now=node.now())
    console.print(
        f"[green]端末用の認証局を作成しました / terminal CA created:[/] "
        f"{escape(str(authority.folder))} (hosts: {escape(', '.join(names))})"
    )
    console.print(
        f"各端末のブラウザに信頼させる証明書 / the certificate every terminal's browser trusts: "
        f"{escape(str(authority.ca_cert_path))}"
    )


@app.command("enroll")
@cli_command
def enroll_command(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The terminal's name, e.g. madoguchi-01.")],
    place: Annotated[str, typer.Option("--place", help="Where it stands (recorded).")],
    purpose: Annotated[str, typer.Option("--purpose", help="What it is for (recorded).")],
    out: Annotated[
        Path, typer.Option("--out", help="The PKCS#12 file to write (FILE.p12, mode 0600).")
    ],
    password_stdin: Annotated[
        bool,
        typer.Option(
            "--password-stdin",
            help="Read the PKCS#12 password from the first line of standard input "
            "(otherwise it is asked for twice).",
        ),
    ] = False,
    operator: OperatorOption = None,
) -> None:
    """Issue a terminal its client certificate (a PKCS#12 file) and register it
    (security officers)."""
    node = node_of(ctx)
    actor = act_as(node, operator, command="terminal enroll")
    if out.exists():
        raise typer.BadParameter(f"{out} already exists", param_hint="--out")
    password = (
        read_stdin_secret()
        if password_stdin
        else read_secret("PKCS#12 ファイルのパスワード / PKCS#12 password", confirm=True)
    )
    authority = TerminalAuthority(node.settings.terminal_folder)
    bundle = enroll_terminal(
        node,
        actor=actor,
        authority=authority,
        name=name,
        place=place,
        purpose=purpose,
        password=password,
    )
    write_private(out, bundle)
    _key, certificate, _chain = pkcs12.load_key_and_certificates(bundle, password.encode())
    if certificate is None:  # pragma: no cover - enroll_terminal always bundles one
        raise typer.Exit(1)
    fingerprint = hashlib.sha256(certificate.public_bytes(Encoding.DER)).hexdigest()
    console.print(
        f"[green]端末を登録しました / terminal enrolled:[/] [bold]{escape(name)}[/] → "
        f"{escape(str(out))}"
    )
    console.print(f"SHA-256: {fingerprint}")
    console.print(
        "\n".join(
            (
                "この端末のブラウザで / On the terminal's browser:",
                f"  1. {escape(out.name)} を個人の証明書として読み込む (パスワードは別経路で伝える)"
                " / import it as your own certificate (give the password by another channel):"
                " Firefox: Settings → Privacy & Security → View Certificates → Your"
                " Certificates → Import; Chrome/Edge: the system's certificate store"
                " (Windows: double-click the file; macOS: Keychain Access → login).",
                f"  2. {escape(str(authority.ca_cert_path))} を認証局として信頼する"
                " / trust it as a certificate authority for websites"
                " (Firefox: Authorities → Import; Chrome/Edge: the system's trusted roots).",
                "  3. 操作画面を https:// で開く / open the operator pages over https://.",
            )
        )
    )


@app.command("list")
@cli_command
def list_command(ctx: typer.Context, operator: OperatorOption = None) -> None:
    """Every terminal ever registered, the server's console included."""
    node = node_of(ctx)
    actor = act_as(node, operator, command="terminal list")
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
    actor = act_as(node, operator, command="terminal revoke")
    revoke_terminal(node, actor=actor, name=name, reason=reason)
    console.print(f"[yellow]端末の登録を取り消しました / terminal revoked:[/] {escape(name)}")
