"""``jukinet recipient …`` (the affair registry at a node) and ``jukinet agency …`` (a recipient's
client: queries over mutual TLS with its certificate), plus ``jukinet affairs``."""

from __future__ import annotations

import json
import ssl
import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from cryptography.hazmat.primitives import serialization
from rich.markup import escape
from rich.table import Table
from webauthn import base64url_to_bytes

from jukinet.cli.common import (
    EXIT_FAILED,
    EXIT_REFUSED,
    OPERATOR_ENV,
    act_as,
    cli_command,
    console,
    err_console,
    node_of,
    parse_date_option,
    read_secret,
    read_stdin_secret,
)
from jukinet.data.affairs import affairs_in_table, find_affairs, statutory_affairs
from jukinet.domain.affairs import Recipient, RecipientType
from jukinet.domain.errors import ValidationError
from jukinet.runtime.bootstrap import build_node
from jukinet.runtime.runner import NodeConfig
from jukinet.services import agency_console, agency_officer_cards, recipients
from jukinet.services.context import ServiceContext
from jukinet.storage.registry import RegistryCache

recipient_app = typer.Typer(
    help="Recipients and the affairs they may use (the versioned affair registry).",
    no_args_is_help=True,
)
agency_app = typer.Typer(
    help="A recipient's client: query a node over mutual TLS with its client certificate.",
    no_args_is_help=True,
)

NodeDirOption = Annotated[
    Path | None,
    typer.Option("--dir", help="The node's folder (holds node.json); default: --database-url."),
]
OperatorOption = Annotated[
    str | None,
    typer.Option(
        "--operator",
        envvar=OPERATOR_ENV,
        help="You, the deciding official: your operator account (signs in; recorded).",
    ),
]
DecisionOption = Annotated[
    str,
    typer.Option(
        "--decision", help="The document that decided, e.g. 総行住第42号 (recorded with the grant)."
    ),
]


def target_node(ctx: typer.Context, folder: Path | None) -> ServiceContext:
    """The node named by ``--dir`` (its node.json) or else by the global settings."""
    if folder is None:
        return node_of(ctx)
    node = build_node(NodeConfig.load(folder).settings())
    ctx.call_on_close(node.engine.dispose)
    return node


# --------------------------------------------------------------------------------------------
# jukinet affairs
# --------------------------------------------------------------------------------------------


@cli_command
def affairs_command(
    table: Annotated[int | None, typer.Option(help="Only this appended table (1–5).")] = None,
    find: Annotated[str | None, typer.Option(help="Text to look for (law or wording).")] = None,
) -> None:
    """The statutory affairs (別表第一〜第五) and their codes."""
    if find:
        found = find_affairs(find)
    elif table is not None:
        found = affairs_in_table(table)
    else:
        found = tuple(statutory_affairs().values())
    out = Table("code", "law", "recipient", "affair")
    for affair in found:
        out.add_row(
            affair.code,
            escape(affair.law_name or ""),
            escape(affair.recipient),
            escape(affair.affair),
        )
    console.print(out)


# --------------------------------------------------------------------------------------------
# jukinet recipient …
# --------------------------------------------------------------------------------------------


@recipient_app.command("add")
@cli_command
def recipient_add(
    ctx: typer.Context,
    recipient_id: Annotated[str, typer.Argument(help="e.g. agency:soumu-onkyu, pref:13")],
    name: Annotated[str, typer.Option(help="Official name, e.g. 総務省（恩給）.")],
    kind: Annotated[RecipientType, typer.Option(help="national_body, prefecture, …")],
    prefecture: Annotated[str | None, typer.Option(help="2-digit prefecture code.")] = None,
    municipality: Annotated[str | None, typer.Option(help="6-digit municipality code.")] = None,
    body: Annotated[
        str | None,
        typer.Option(help="The body as the Act names it, e.g. 総務省 (needed for table 1)."),
    ] = None,
    folder: NodeDirOption = None,
    operator: OperatorOption = None,
) -> None:
    """Register a recipient (a body named in an appended table; supervisors)."""
    node = target_node(ctx, folder)
    actor = act_as(node, operator, command="recipient add")
    recipient = Recipient(
        id=recipient_id,
        name=name,
        kind=kind,
        prefecture_code=prefecture,
        municipality_code=municipality,
        body=body,
    )
    added = recipients.register_recipient(node, actor=actor, recipient=recipient)
    console.print(f"[green]registered {escape(recipient_id)}[/]" if added else "already registered")


@recipient_app.command("grant")
@cli_command
def recipient_grant(
    ctx: typer.Context,
    recipient_id: Annotated[str, typer.Argument()],
    affair_code: Annotated[str, typer.Argument(help="e.g. T1-16")],
    decision: DecisionOption,
    valid_from: Annotated[str | None, typer.Option("--from", help="Default: today.")] = None,
    until: Annotated[str | None, typer.Option(help="Last day + 1; default: open.")] = None,
    reason: Annotated[str | None, typer.Option()] = None,
    operator: OperatorOption = None,
    folder: NodeDirOption = None,
) -> None:
    """Let a recipient use an affair (recorded with who decided, the deciding document, the
    Act's row and when)."""
    node = target_node(ctx, folder)
    entry = recipients.grant(
        node,
        actor=act_as(node, operator, command="recipient grant"),
        recipient_id=recipient_id,
        affair_code=affair_code,
        decision=decision,
        valid_from=parse_date_option(valid_from, field="from", default=node.today()),
        valid_until=None if until is None else parse_date_option(until, field="until"),
        reason=reason,
    )
    console.print(
        f"[green]#{entry.sequence} granted {escape(entry.affair_code)} to "
        f"{escape(entry.recipient_id)} from {entry.valid_from} "
        f"({escape(entry.legal_basis or '')})[/]"
    )


@recipient_app.command("revoke")
@cli_command
def recipient_revoke(
    ctx: typer.Context,
    recipient_id: Annotated[str, typer.Argument()],
    affair_code: Annotated[str, typer.Argument()],
    decision: DecisionOption,
    effective: Annotated[str | None, typer.Option(help="Default: today.")] = None,
    reason: Annotated[str | None, typer.Option()] = None,
    operator: OperatorOption = None,
    folder: NodeDirOption = None,
) -> None:
    """End a recipient's use of an affair (never retroactive)."""
    node = target_node(ctx, folder)
    entry = recipients.revoke(
        node,
        actor=act_as(node, operator, command="recipient revoke"),
        recipient_id=recipient_id,
        affair_code=affair_code,
        decision=decision,
        effective_from=parse_date_option(effective, field="effective", default=node.today()),
        reason=reason,
    )
    console.print(
        f"[yellow]#{entry.sequence} revoked {escape(entry.affair_code)} for "
        f"{escape(entry.recipient_id)} from {entry.valid_from}[/]"
    )


@recipient_app.command("list")
@cli_command
def recipient_list(
    ctx: typer.Context, folder: NodeDirOption = None, operator: OperatorOption = None
) -> None:
    """Registered recipients and the affairs each may use today."""
    node = target_node(ctx, folder)
    act_as(node, operator, command="recipient list")
    out = Table("id", "name", "kind", "affairs today")
    for recipient, codes in recipients.recipients(node):
        out.add_row(
            escape(recipient.id), escape(recipient.name), recipient.kind.value, ", ".join(codes)
        )
    console.print(out)


@recipient_app.command("history")
@cli_command
def recipient_history(
    ctx: typer.Context,
    recipient_id: Annotated[str, typer.Argument()],
    folder: NodeDirOption = None,
    operator: OperatorOption = None,
) -> None:
    """Every grant and revocation of one recipient: what, from when, who decided, when."""
    node = target_node(ctx, folder)
    act_as(node, operator, command="recipient history")
    # One block per entry, never a table cut short: every word of an entry is part of the record.
    for entry in recipients.history(node, recipient_id):
        until = entry.valid_until.isoformat() if entry.valid_until else "—"
        console.print(
            f"[bold]#{entry.sequence} {entry.kind.value} {escape(entry.affair_code)}[/] "
            f"{entry.valid_from.isoformat()} → {until}"
        )
        console.print(f"  decided by  {escape(entry.decided_by)}", soft_wrap=True)
        console.print(f"  decision    {escape(entry.decision or '—')}", soft_wrap=True)
        console.print(f"  legal basis {escape(entry.legal_basis or '—')}", soft_wrap=True)
        console.print(f"  recorded at {entry.recorded_at.isoformat(timespec='seconds')}")
        if entry.reason:
            console.print(f"  reason      {escape(entry.reason)}", soft_wrap=True)


@recipient_app.command("seed")
@cli_command
def recipient_seed(
    ctx: typer.Context, folder: NodeDirOption = None, operator: OperatorOption = None
) -> None:
    """Register the example recipients of the design (pension, radio, passports, …): demo data,
    recorded as decided by ``seed``, never by an official (system administrators)."""
    node = target_node(ctx, folder)
    act_as(node, operator, command="recipient seed")
    made = recipients.seed(node)
    console.print(f"[green]{made} grant(s) recorded[/]")


@recipient_app.command("officer-add")
@cli_command
def recipient_officer_add(
    ctx: typer.Context,
    recipient_id: Annotated[str, typer.Argument(help="The officer's organisation.")],
    login: Annotated[str, typer.Argument(help="The officer's ID (a-z, 0-9, . _ -).")],
    name: Annotated[str, typer.Option(help="The officer's name as the log records it.")],
    password_stdin: Annotated[
        bool,
        typer.Option(
            "--password-stdin", help="Read the password from the first line of standard input."
        ),
    ] = False,
    folder: NodeDirOption = None,
    operator: OperatorOption = None,
) -> None:
    """Register an officer of a recipient for the agency console (supervisors); the officer
    signs in on a terminal holding the recipient's client certificate (docs/agency-console.md)."""
    node = target_node(ctx, folder)
    act_as(node, operator, command="recipient officer-add")
    password = (
        read_stdin_secret()
        if password_stdin
        else read_secret("パスワード / password", confirm=True)
    )
    agency_console.add_officer(
        node,
        RegistryCache(),
        recipient_id=recipient_id,
        login=login,
        display_name=name,
        password=password,
    )
    console.print(f"[green]officer {escape(login)} of {escape(recipient_id)} registered[/]")


@recipient_app.command("officer-unlock")
@cli_command
def recipient_officer_unlock(
    ctx: typer.Context,
    recipient_id: Annotated[str, typer.Argument(help="The officer's organisation.")],
    login: Annotated[str, typer.Argument(help="The officer's ID.")],
    folder: NodeDirOption = None,
    operator: OperatorOption = None,
) -> None:
    """Unlock an agency console officer locked after wrong passwords (supervisors)."""
    node = target_node(ctx, folder)
    act_as(node, operator, command="recipient officer-unlock")
    if not agency_console.unlock_officer(node, recipient_id=recipient_id, login=login):
        err_console.print(f"[red]no officer {escape(login)} of {escape(recipient_id)}[/]")
        raise typer.Exit(EXIT_FAILED)
    console.print(f"[green]officer {escape(login)} unlocked[/]")


@recipient_app.command("officer-card-lend")
@cli_command
def recipient_officer_card_lend(
    ctx: typer.Context,
    recipient_id: Annotated[str, typer.Argument(help="The officer's organisation.")],
    login: Annotated[str, typer.Argument(help="The officer's ID.")],
    serial: Annotated[str, typer.Option(help="The card's serial (printed on it).")],
    credential_id: Annotated[
        str, typer.Option(help="The security key's credential id (base64url).")
    ],
    public_key: Annotated[
        Path, typer.Option(help="The key's ECDSA P-256 public key (PEM file).", exists=True)
    ],
    folder: NodeDirOption = None,
    operator: OperatorOption = None,
) -> None:
    """Lend an officer their own card (a FIDO2 security key), the console's second factor
    after the password (supervisors; docs/agency-console.md)."""
    node = target_node(ctx, folder)
    actor = act_as(node, operator, command="recipient officer-card-lend")
    try:
        der = serialization.load_pem_public_key(public_key.read_bytes()).public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        raw_id = base64url_to_bytes(credential_id.strip())
    except ValueError as error:
        raise ValidationError(
            "JUKI-AGC-030",
            ja="公開鍵（PEM）またはクレデンシャルID（base64url）を読めません。",
            en="The public key (PEM) or the credential id (base64url) cannot be read.",
            field="public_key",
        ) from error
    card = agency_officer_cards.lend_card(
        node,
        actor=actor,
        recipient_id=recipient_id,
        login=login,
        serial=serial,
        credential_id=raw_id,
        public_key_der=der,
    )
    console.print(f"[green]card {escape(card.serial)} lent to {escape(login)}[/]")


@recipient_app.command("officer-card-lost")
@cli_command
def recipient_officer_card_lost(
    ctx: typer.Context,
    serial: Annotated[str, typer.Argument(help="The lost card's serial.")],
    note: Annotated[str, typer.Option(help="Where and when it was lost.")] = "",
    folder: NodeDirOption = None,
    operator: OperatorOption = None,
) -> None:
    """Revoke a lost officer card at once; its officer's sessions end (supervisors)."""
    node = target_node(ctx, folder)
    actor = act_as(node, operator, command="recipient officer-card-lost")
    card = agency_officer_cards.report_lost(node, actor=actor, serial=serial, note=note)
    console.print(f"[green]card {escape(card.serial)} revoked; {escape(card.login)} signed out[/]")


# --------------------------------------------------------------------------------------------
# jukinet agency … (the client side)
# --------------------------------------------------------------------------------------------

UrlOption = Annotated[str, typer.Option("--url", help="The node's network URL (https://…).")]
CertOption = Annotated[
    Path, typer.Option("--cert-dir", help="Folder with the client's tls.crt and tls.key.")
]
CaOption = Annotated[Path, typer.Option("--ca", help="The network CA certificate (ca.crt).")]
AffairOption = Annotated[str, typer.Option("--affair", help="The statutory affair, e.g. T1-16.")]
#: `agency lookup`: some codes gave no record (not found, or not a valid code).
EXIT_NOT_ALL_FOUND = 3

OfficerOption = Annotated[str, typer.Option("--officer", help="The officer making the query.")]
CaseOption = Annotated[str | None, typer.Option("--case", help="Case number (optional).")]


def _client(cert_dir: Path, ca: Path) -> httpx.Client:
    context = ssl.create_default_context(cafile=str(ca))
    context.load_cert_chain(str(cert_dir / "tls.crt"), str(cert_dir / "tls.key"))
    return httpx.Client(verify=context, timeout=120)


def _answer(response: httpx.Response) -> Any:
    if response.status_code >= 400:
        try:
            errors = response.json().get("errors", [])
        except ValueError:
            errors = [{"code": str(response.status_code), "message_en": response.text[:200]}]
        for error in errors:
            err_console.print(
                f"[bold red]{escape(str(error.get('code')))}[/]: "
                f"{escape(str(error.get('message_ja', '')))} / "
                f"{escape(str(error.get('message_en', '')))}"
            )
        raise typer.Exit(EXIT_REFUSED if response.status_code < 500 else EXIT_FAILED)
    return response.json()


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


@agency_app.command("affairs")
@cli_command
def agency_affairs(url: UrlOption, cert_dir: CertOption, ca: CaOption) -> None:
    """The affairs this client may use today."""
    with _client(cert_dir, ca) as client:
        _print_json(_answer(client.get(f"{url}/provision/v1/affairs")))


@agency_app.command("lookup")
@cli_command
def agency_lookup(
    codes: Annotated[list[str], typer.Argument(help="Resident codes.")],
    url: UrlOption,
    cert_dir: CertOption,
    ca: CaOption,
    affair: AffairOption,
    officer: OfficerOption,
    case: CaseOption = None,
) -> None:
    """Identity information by resident code (one or many).

    Exit status: 0 every code found; 3 at least one code not found or invalid (the JSON on
    standard output says which); 2 the query was refused (e.g. the affair is not granted);
    1 the node failed or could not be reached.
    """
    body = {"affair_code": affair, "officer": officer, "case_number": case, "resident_codes": codes}
    with _client(cert_dir, ca) as client:
        answer = _answer(client.post(f"{url}/provision/v1/residents/lookup", json=body))
    _print_json(answer)
    missed = [r for r in answer.get("results", []) if r.get("outcome") != "found"]
    if missed:
        err_console.print(
            f"[yellow]{len(missed)} / {len(answer['results'])} "
            "件は該当なしまたは不正なコードです / not found or invalid[/]"
        )
        raise typer.Exit(EXIT_NOT_ALL_FOUND)


@agency_app.command("search")
@cli_command
def agency_search(
    url: UrlOption,
    cert_dir: CertOption,
    ca: CaOption,
    affair: AffairOption,
    officer: OfficerOption,
    birth: Annotated[str, typer.Option(help="Birth date (ISO or 和暦).")],
    name: Annotated[str | None, typer.Option(help="Name as written (kanji).")] = None,
    kana: Annotated[str | None, typer.Option(help="Name in kana.")] = None,
    sex: Annotated[str | None, typer.Option(help="male or female.")] = None,
    address: Annotated[str | None, typer.Option(help="Full or partial address.")] = None,
    case: CaseOption = None,
) -> None:
    """Candidates by the four basic items, with how each matched."""
    born: date = parse_date_option(birth, field="birth")
    body = {
        "affair_code": affair,
        "officer": officer,
        "case_number": case,
        "name": name,
        "name_kana": kana,
        "birth_date": born.isoformat(),
        "sex": sex,
        "address": address,
    }
    with _client(cert_dir, ca) as client:
        _print_json(_answer(client.post(f"{url}/provision/v1/residents/search", json=body)))


@agency_app.command("batch-submit")
@cli_command
def agency_batch_submit(
    file: Annotated[Path, typer.Argument(help="CSV or JSON lines file.", exists=True)],
    url: UrlOption,
    cert_dir: CertOption,
    ca: CaOption,
    affair: AffairOption,
    officer: OfficerOption,
    kind: Annotated[str, typer.Option(help="code or four_items.")] = "code",
    file_format: Annotated[str, typer.Option("--format", help="csv or jsonl.")] = "csv",
    case: CaseOption = None,
) -> None:
    """Upload a batch file; prints the job (its id, rows, status)."""
    params = {"affair_code": affair, "officer": officer, "kind": kind, "format": file_format}
    if case:
        params["case_number"] = case
    with _client(cert_dir, ca) as client, file.open("rb") as content:
        response = client.post(f"{url}/provision/v1/batches", params=params, content=content)
        _print_json(_answer(response))


@agency_app.command("batch-status")
@cli_command
def agency_batch_status(
    job_id: Annotated[str, typer.Argument()], url: UrlOption, cert_dir: CertOption, ca: CaOption
) -> None:
    """A batch job's progress."""
    with _client(cert_dir, ca) as client:
        _print_json(_answer(client.get(f"{url}/provision/v1/batches/{job_id}")))


@agency_app.command("batch-results")
@cli_command
def agency_batch_results(
    job_id: Annotated[str, typer.Argument()],
    url: UrlOption,
    cert_dir: CertOption,
    ca: CaOption,
    out: Annotated[Path, typer.Option("--out", help="Where to write the results.")],
    file_format: Annotated[str, typer.Option("--format", help="jsonl or csv.")] = "jsonl",
) -> None:
    """Download a finished job's results."""
    with (
        _client(cert_dir, ca) as client,
        client.stream(
            "GET",
            f"{url}/provision/v1/batches/{job_id}/results",
            params={"format": file_format},
        ) as response,
    ):
        if response.status_code >= 400:
            response.read()
            _answer(response)
        with out.open("wb") as sink:
            for block in response.iter_bytes():
                sink.write(block)
    console.print(f"[green]results written to {out}[/]")
