"""``jukinet certificate``: issue a copy of the register as a PDF, and check one.

``issue`` is counter work (signed in, logged per person printed). ``verify`` is open: anyone
holding a certificate may check it against the node that issued it; the answer shows only what
the certificate prints.
"""

from __future__ import annotations

from datetime import date
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
from jukinet.domain.wide_area import Identification
from jukinet.services.certificates.issue import CertificateRequest, issue_certificate
from jukinet.services.certificates.verify import verify_code, verify_pdf
from jukinet.services.certificates.wide_area import WideAreaRequest, issue_wide_area
from jukinet.services.resident_card.inputs import IdDocument

#: A genuine wide-area copy: whether it is still current is for its home municipality to say.
EXIT_CURRENCY_UNKNOWN = 3

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


@app.command("wide-area")
@cli_command
def wide_area_command(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", help="Where to write the PDF.")],
    identification: Annotated[
        Identification,
        typer.Option("--identification", help="card (resident card + PIN) or photo_id."),
    ],
    household: Annotated[
        bool, typer.Option("--household", help="The whole household (its current members).")
    ] = False,
    with_items: Annotated[
        str,
        typer.Option("--with", help="Optional items asked for: relationship,code (no domicile)."),
    ] = "",
    card_serial: Annotated[str, typer.Option("--card-serial", help="The card's serial.")] = "",
    pin: Annotated[
        str,
        typer.Option("--pin", help="The PIN the resident enters on the card (asked if omitted)."),
    ] = "",
    home_municipality_code: Annotated[
        str,
        typer.Option("--home-municipality-code", help="Photo ID: the home municipality's code."),
    ] = "",
    id_document: Annotated[
        IdDocument | None, typer.Option("--id-document", help="Photo ID: which document.")
    ] = None,
    name: Annotated[str, typer.Option("--name", help="Photo ID: the name on it.")] = "",
    birth_date: Annotated[
        str, typer.Option("--birth-date", help="Photo ID: the birth date on it (YYYY-MM-DD).")
    ] = "",
    address: Annotated[str, typer.Option("--address", help="Photo ID: the address on it.")] = "",
    operator: OperatorOption = None,
) -> None:
    """住民票の写しの広域交付: ask the home municipality through the network, print here."""
    node = node_of(ctx)
    actor = act_as(node, operator, command="certificate wide-area")
    if identification is Identification.CARD and not pin:
        pin = typer.prompt("暗証番号 / PIN", hide_input=True)
    try:
        born = date.fromisoformat(birth_date) if birth_date else None
    except ValueError:
        raise ValidationError(
            "JUKI-WIDE-005",
            ja="生年月日は YYYY-MM-DD で指定してください。",
            en="Give the birth date as YYYY-MM-DD.",
            field="birth_date",
        ) from None
    items = _items(with_items)
    issued = issue_wide_area(
        node,
        actor=actor,
        request=WideAreaRequest(
            identification=identification,
            household=household,
            items=items,
            card_serial=card_serial,
            pin=pin,
            home_municipality_code=home_municipality_code,
            id_document=id_document,
            name=name,
            birth_date=born,
            address=address,
        ),
    )
    out.write_bytes(issued.pdf)
    console.print(
        f"[green]広域交付しました / issued:[/] [bold]{escape(issued.serial)}[/] "
        f"{escape(str(issued.content['wide_area']))} → {escape(str(out))} "
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
    """Check a certificate: genuine, unaltered, still current. Exit 0 only if all three; 3 for a
    genuine wide-area copy (広域交付), whose currency only its home municipality can tell."""
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
    if check.genuine and check.current is None:
        colour = "yellow"
    console.print(f"[{colour}]{escape(check.verdict_ja)}[/]")
    console.print(f"[{colour}]{escape(check.verdict_en)}[/]")
    if check.content:
        console.print(f"{escape(str(check.content['title']))} {escape(str(check.serial))}")
    if check.genuine and check.current is None:
        raise typer.Exit(EXIT_CURRENCY_UNKNOWN)
    if not (check.genuine and check.current):
        raise typer.Exit(EXIT_FAILED)
