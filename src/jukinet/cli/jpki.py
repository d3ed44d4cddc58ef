"""``jukinet jpki``: the signature certificate on the resident card (公的個人認証).

``jpki issue`` is counter work at the municipality (a card issuer, the resident entering the
PIN); ``jpki sign`` is the resident's own tool (the card and its PIN, no operator, no node);
``jpki verify`` is a relying party's (public certificates and OCSP only). ``verify`` exits 0
only for a signature that may be relied on now, 1 for a revoked, unknown or bad one.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from cryptography import x509
from rich.markup import escape

from jukinet.cli.common import (
    EXIT_FAILED,
    OperatorOption,
    act_as,
    cli_command,
    console,
    err_console,
    node_of,
    read_secret,
    read_stdin_secret,
)
from jukinet.domain.clock import JST
from jukinet.network.jpki_client import get_der, post_ocsp
from jukinet.services.jpki.issue import request_signature_certificate
from jukinet.services.jpki.signature import Verdict, Verification, sign_file, verify_file

app = typer.Typer(
    help="公的個人認証 / Signature certificates on the resident card.", no_args_is_help=True
)

PinFromStdin = Annotated[
    bool, typer.Option("--pin-from-stdin", help="Read the card's PIN from standard input.")
]


def _pin(from_stdin: bool, serial: str) -> str:
    """The card's PIN from a hidden prompt or stdin, never from the command line (where it would
    stay in the shell's history and the process list)."""
    if from_stdin:
        return read_stdin_secret()
    return read_secret(f"カード {serial} の暗証番号 / card PIN", confirm=False)


def _jst(moment: datetime) -> str:
    return moment.astimezone(JST).strftime("%Y-%m-%d %H:%M:%S JST")


@app.command("issue")
@cli_command
def issue_command(
    ctx: typer.Context,
    serial: Annotated[str, typer.Argument(help="The resident card's serial.")],
    pin_from_stdin: PinFromStdin = False,
    operator: OperatorOption = None,
) -> None:
    """Obtain the signature certificate for a card from the prefecture and write it in the chip."""
    node = node_of(ctx)
    actor = act_as(node, operator, command="jpki issue")
    pin = _pin(pin_from_stdin, serial)
    issued = request_signature_certificate(node, actor=actor, serial=serial, pin=pin)
    console.print(
        f"[green]署名用電子証明書を発行しました / signature certificate issued:[/] "
        f"[bold]{escape(issued.certificate_serial)}[/] ({escape(issued.issuer)})"
    )
    console.print(f"有効期間 / valid: {_jst(issued.not_before)} – {_jst(issued.not_after)}")


@app.command("sign")
@cli_command
def sign_command(
    file: Annotated[Path, typer.Argument(help="The file to sign.", exists=True, dir_okay=False)],
    serial: Annotated[str, typer.Option("--serial", help="The resident card's serial.")],
    pin_from_stdin: PinFromStdin = False,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Where the signature goes (default: FILE.sig.json)."),
    ] = None,
) -> None:
    """Sign FILE with the card's signature key: a detached signature bundle (JSON)."""
    bundle = sign_file(
        serial, _pin(pin_from_stdin, serial), file.read_bytes(), now=datetime.now(UTC)
    )
    target = output or file.with_name(file.name + ".sig.json")
    target.write_text(json.dumps(bundle, indent=2) + "\n", encoding="utf-8")
    console.print(f"[green]署名しました / signed:[/] {escape(str(target))}")


def _ca_url(ocsp_url: str) -> str:
    base = ocsp_url.rstrip("/")
    return base.removesuffix("/ocsp") + "/ca"


def _load_certificate(data: bytes) -> x509.Certificate:
    if data.lstrip().startswith(b"-----BEGIN"):
        return x509.load_pem_x509_certificate(data)
    return x509.load_der_x509_certificate(data)


@app.command("verify")
@cli_command
def verify_command(
    file: Annotated[Path, typer.Argument(help="The signed file.", exists=True, dir_okay=False)],
    signature: Annotated[
        Path, typer.Argument(help="Its signature bundle.", exists=True, dir_okay=False)
    ],
    ocsp: Annotated[str, typer.Option("--ocsp", help="The prefecture's OCSP responder URL.")],
    ca: Annotated[
        Path | None,
        typer.Option(
            "--ca",
            help="The prefectural CA certificate to trust (PEM or DER); default: fetched from "
            "the responder's /ca, with its fingerprint shown to compare.",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
) -> None:
    """Check the signature, the chain to the prefectural CA, and the status by OCSP."""
    try:
        bundle = json.loads(signature.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        bundle = None  # refused by the verifier as a malformed bundle
    if ca is not None:
        trust = _load_certificate(ca.read_bytes())
    else:
        der = get_der(_ca_url(ocsp))
        trust = _load_certificate(der)
        err_console.print(
            "[yellow]応答者から取得した認証局を信頼します / trusting the CA fetched from the "
            f"responder:[/] SHA-256 {hashlib.sha256(der).hexdigest()}"
        )
    result = verify_file(
        file.read_bytes(),
        bundle,
        trust=trust,
        ask_ocsp=lambda request: post_ocsp(ocsp, request),
        now=datetime.now(UTC),
    )
    _report(result)
    if not result.ok:
        raise typer.Exit(EXIT_FAILED)


def _report(result: Verification) -> None:
    when = _jst(result.signing_time) if result.signing_time else "?"
    console.print(f"証明書 / certificate: {escape(result.certificate_serial or '?')}")
    console.print(f"署名日時 / signed at: {when}")
    if result.verdict is Verdict.VALID:
        console.print("[bold green]有効 / valid[/]")
        return
    if result.verdict is Verdict.REVOKED and result.revoked_at is not None:
        moment = (
            "署名の前に失効 / revoked before the signature was made"
            if result.revoked_before_signing
            else "署名の後に失効 / revoked after the signature was made"
        )
        console.print(
            f"[bold red]失効 / revoked at {_jst(result.revoked_at)}[/] "
            f"({escape(result.revocation_reason or 'unspecified')}; {moment})"
        )
        return
    if result.verdict is Verdict.UNKNOWN:
        console.print("[bold red]不明 / unknown:[/] " + escape(result.detail))
        return
    console.print("[bold red]無効 / bad:[/] " + escape(result.detail))
