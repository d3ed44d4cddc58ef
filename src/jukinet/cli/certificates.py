"""``jukinet certificate``: issue a copy of the register as a PDF, and check one.

``issue`` is counter work (signed in, logged per person printed). ``verify`` is open: anyone
holding a certificate may check it against the node that issued it; the answer shows only what
the certificate prints.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from jukinet.cli.common import (
    EXIT_FAILED,
    OperatorOption,
    act_as,
    cli_command,
    console,
    node_of,
)
from jukinet.domain.certificates import CertificateKind, OptionalItems
from jukinet.domain.errors import ValidationError
from jukinet.services.certificates.issue import CertificateRequest, issue_certificate
from jukinet.services.certificates.verify import verify_code, verify_pdf

app = typer.Typer(
    help="証明書 / Certificates: 住民票の写し, 除票の写し, 記載事項証明書 as signed PDFs.",
    no_args_is_help=True,
)

_ITEMS = ("relationship", "code", "domicile")


def _items(value: str) -> OptionalItems:
    chosen = {item.strip() for item in value.split(",") if item.strip()}
    unknown = chosen - set(_ITEMS)
    if unknown:
        raise ValidationError(
            "JUKI-CERT-006",
            ja=f"記載事項は {', '.join(_ITEMS)} から選んでください。",
            en=f"Optional items are chosen from {', '.join(_ITEMS)}.",
            field="with",
        )
    return OptionalItems(
        relationship="relationship" in chosen,
        resident_code="code" in chosen,
        domicile="domicile" in chosen,
    )


@app.command("issue")
@cli_command
def issue_command(
    ctx: typer.Context,
    resident_code: Annotated[str, typer.Argument(help="The resident code (住民票コード).")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the PDF.")],
    kind: Annotated[
        CertificateKind, typer.Option("--kind", help="Which certificate.")
    ] = CertificateKind.RESIDENT_COPY,
    household: Annotated[
        bool, typer.Option("--household", help="The whole household (copies only).")
    ] = False,
    with_items: Annotated[
        str,
        typer.Option(
            "--with", help="Optional items the resident asked for: relationship,code,domicile."
        ),
    ] = "",
    operator: OperatorOption = None,
) -> None:
    """Issue a certificate and write its PDF."""
    node = node_of(ctx)
    actor = act_as(node, operator, command="certificate issue")
    issued = issue_certificate(
        node,
        actor=actor,
        request=CertificateRequest(
            resident_code, kind=kind, household=household, items=_items(with_items)
        ),
    )
    out.write_bytes(issued.pdf)
    console.print(
        f"[green]交付しました / issued:[/] [bold]{escape(issued.serial)}[/] "
        f"{escape(str(issued.content['title']))} → {escape(str(out))} "
        f"(手数料 / fee {issued.fee_yen}円)"
    )


@app.command("verify")
@cli_command
def verify_command(
    ctx: typer.Context,
    pdf: Annotated[
        Path | None, typer.Argument(help="The certificate's PDF (or give --code).")
    ] = None,
    code: Annotated[
        str | None, typer.Option("--code", help="The QR code's text (JUKINET-CERT:…).")
    ] = None,
) -> None:
    """Check a certificate: genuine, unaltered, still current. Exit 0 only if all three."""
    node = node_of(ctx)
    if pdf is not None:
        check = verify_pdf(node, pdf.read_bytes(), asked_by="cli:certificate verify")
    elif code:
        check = verify_code(node, code, asked_by="cli:certificate verify")
    else:
        raise ValidationError(
            "JUKI-CERT-022",
            ja="PDFファイルか --code を指定してください。",
            en="Give the PDF file or --code.",
            field="pdf",
        )
    colour = "green" if check.genuine and check.current else "red"
    console.print(f"[{colour}]{escape(check.verdict_ja)}[/]")
    console.print(f"[{colour}]{escape(check.verdict_en)}[/]")
    if check.content:
        console.print(f"{escape(str(check.content['title']))} {escape(str(check.serial))}")
    if not (check.genuine and check.current):
        raise typer.Exit(EXIT_FAILED)
