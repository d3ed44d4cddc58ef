"""``jukinet card``: residents' cards (住基カード) at the counter, one command per step.

The card writer is this node's PKCS#11 module (SoftHSM2 in tests and the demo: one token per
card, ``SOFTHSM2_CONF`` names the token folder). PINs are typed by the resident without echo, or
read from standard input (``--pin-from-stdin``: the first line, and the second as its
confirmation or the new PIN), never from an argument, so they stay out of shell history.
"""

from __future__ import annotations

from typing import Annotated

import typer
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
    terminal_id,
)
from jukinet.domain.resident_card import CardForm, NetworkStatus
from jukinet.services.resident_card import counter
from jukinet.services.resident_card.counter import CardView
from jukinet.services.resident_card.inputs import (
    LOSS_QUESTIONS,
    CallerRelation,
    CardApplication,
    CardIssue,
    IdDocument,
    LossReport,
    PinReset,
    Resumption,
)
from jukinet.services.resident_card.status import check_card_status

app = typer.Typer(
    help="住基カード / Residents' cards: apply, issue, PIN, loss, resumption, return.",
    no_args_is_help=True,
)

SerialArgument = Annotated[str, typer.Argument(help="The card's serial (132292-00000001).")]
CodeArgument = Annotated[str, typer.Argument(help="The resident code (住民票コード).")]
IdDocumentOption = Annotated[
    IdDocument,
    typer.Option("--id-document", help="The identity document the resident showed in person."),
]
PinFromStdin = Annotated[
    bool,
    typer.Option(
        "--pin-from-stdin",
        help="Read the PIN from standard input (first line; the second is its confirmation "
        "or the new PIN).",
    ),
]

_STATUS_JA = {
    NetworkStatus.VALID: "有効",
    NetworkStatus.SUSPENDED: "一時停止",
    NetworkStatus.INVALID: "無効",
}


def _show(view: CardView, what: str) -> None:
    lock = " [red]暗証番号ロック / PIN locked[/]" if view.pin_locked else ""
    expiry = f" 有効期限 / expires {view.expires_on.isoformat()}" if view.expires_on else ""
    console.print(
        f"[green]{what}:[/] [bold]{escape(view.serial)}[/] "
        f"{_STATUS_JA[view.network_status]} / {view.network_status.value}{expiry}{lock}"
    )


def _new_pin(pin_from_stdin: bool, prompt: str) -> tuple[str, str]:
    if pin_from_stdin:
        return read_stdin_secret(), read_stdin_secret()
    pin = read_secret(prompt, confirm=False)
    return pin, read_secret("もう一度 / again", confirm=False)


@app.command("apply")
@cli_command
def apply_command(
    ctx: typer.Context,
    resident_code: CodeArgument,
    photo: Annotated[
        str | None,
        typer.Option("--photo", help="A photo ID card: the photo's reference in private storage."),
    ] = None,
    operator: OperatorOption = None,
) -> None:
    """交付申請: apply for a card (name only, or a photo ID card with --photo)."""
    node = node_of(ctx)
    actor = act_as(node, operator, command="card apply")
    form = CardForm.PHOTO_ID if photo else CardForm.NAME_ONLY
    view = counter.apply_for_card(
        node, actor=actor, application=CardApplication(resident_code, form, photo_ref=photo)
    )
    console.print(
        f"[green]申請を受け付けました / applied:[/] [bold]{escape(view.serial)}[/] "
        f"({view.form.label_ja} / {view.form.value})"
    )


@app.command("issue")
@cli_command
def issue_command(
    ctx: typer.Context,
    serial: SerialArgument,
    id_document: IdDocumentOption,
    pin_from_stdin: PinFromStdin = False,
    operator: OperatorOption = None,
) -> None:
    """交付: write the chip and hand the card over; the resident chooses a 4-digit PIN."""
    node = node_of(ctx)
    actor = act_as(node, operator, command="card issue")
    pin, confirmation = _new_pin(pin_from_stdin, "暗証番号（数字4桁） / PIN (4 digits)")
    view = counter.issue_card(
        node, actor=actor, issue=CardIssue(serial, pin, confirmation, id_document)
    )
    _show(view, "交付しました / issued")


@app.command("pin-reset")
@cli_command
def pin_reset_command(
    ctx: typer.Context,
    serial: SerialArgument,
    id_document: IdDocumentOption,
    pin_from_stdin: PinFromStdin = False,
    operator: OperatorOption = None,
) -> None:
    """暗証番号の再設定 (in person with ID): a new PIN; unlocks a locked card."""
    node = node_of(ctx)
    actor = act_as(node, operator, command="card pin-reset")
    pin, confirmation = _new_pin(pin_from_stdin, "新しい暗証番号 / new PIN")
    view = counter.reset_pin(
        node, actor=actor, reset=PinReset(serial, pin, confirmation, id_document)
    )
    _show(view, "暗証番号を再設定しました / PIN reset")


@app.command("pin-change")
@cli_command
def pin_change_command(
    ctx: typer.Context,
    serial: SerialArgument,
    pin_from_stdin: PinFromStdin = False,
    operator: OperatorOption = None,
) -> None:
    """暗証番号の変更: the resident enters the old PIN, then the new one."""
    node = node_of(ctx)
    actor = act_as(node, operator, command="card pin-change")
    if pin_from_stdin:
        old, new = read_stdin_secret(), read_stdin_secret()
    else:
        old = read_secret("現在の暗証番号 / current PIN", confirm=False)
        new = read_secret("新しい暗証番号 / new PIN", confirm=True)
    view = counter.change_pin(node, actor=actor, serial=serial, old_pin=old, new_pin=new)
    _show(view, "暗証番号を変更しました / PIN changed")


@app.command("lost")
@cli_command
def lost_command(
    ctx: typer.Context,
    serial: SerialArgument,
    caller: Annotated[str, typer.Option("--caller", help="The caller's name (届出人).")],
    relation: Annotated[
        CallerRelation, typer.Option("--relation", help="Who called.")
    ] = CallerRelation.SELF,
    answered: Annotated[
        str,
        typer.Option(
            "--answered",
            help="Comma-separated items the caller answered correctly: "
            f"{', '.join(LOSS_QUESTIONS)}.",
        ),
    ] = "",
    note: Annotated[str, typer.Option("--note", help="When and where it was lost.")] = "",
    operator: OperatorOption = None,
) -> None:
    """紛失届 (a phone call is enough): the card is suspended at once, network-wide."""
    node = node_of(ctx)
    actor = act_as(node, operator, command="card lost")
    items = tuple(item.strip() for item in answered.split(",") if item.strip())
    view = counter.report_loss(
        node,
        actor=actor,
        report=LossReport(serial, caller, relation, items, note=note),
    )
    _show(view, "一時停止しました / suspended")


@app.command("resume")
@cli_command
def resume_command(
    ctx: typer.Context,
    serial: SerialArgument,
    id_document: IdDocumentOption,
    operator: OperatorOption = None,
) -> None:
    """一時停止の解除 (in person with ID): the card was found."""
    node = node_of(ctx)
    actor = act_as(node, operator, command="card resume")
    view = counter.resume_card(node, actor=actor, resumption=Resumption(serial, id_document))
    _show(view, "再開しました / resumed")


@app.command("return")
@cli_command
def return_command(
    ctx: typer.Context, serial: SerialArgument, operator: OperatorOption = None
) -> None:
    """返納: the card is given back (or an application withdrawn); it ends for good."""
    node = node_of(ctx)
    actor = act_as(node, operator, command="card return")
    _show(counter.return_card(node, actor=actor, serial=serial), "返納されました / returned")


@app.command("list")
@cli_command
def list_command(
    ctx: typer.Context, resident_code: CodeArgument, operator: OperatorOption = None
) -> None:
    """A resident's cards here, newest first."""
    node = node_of(ctx)
    actor = act_as(node, operator, command="card list")
    table = Table(title="住基カード / Resident cards")
    for column in (
        "番号 / serial",
        "種類 / form",
        "状態 / status",
        "有効期限 / expires",
        "ロック / locked",
        "理由 / reason",
    ):
        table.add_column(column)
    for view in counter.cards_of_resident(node, actor=actor, resident_code=resident_code):
        table.add_row(
            escape(view.serial),
            f"{view.form.label_ja} / {view.form.value}",
            f"{_STATUS_JA[view.network_status]} / {view.network_status.value}",
            view.expires_on.isoformat() if view.expires_on else "",
            "はい / yes" if view.pin_locked else "",
            view.invalid_reason.label_ja if view.invalid_reason else "",
        )
    console.print(table)


@app.command("history")
@cli_command
def history_command(
    ctx: typer.Context, serial: SerialArgument, operator: OperatorOption = None
) -> None:
    """A card's events, oldest first."""
    node = node_of(ctx)
    actor = act_as(node, operator, command="card history")
    table = Table(title=f"カード {escape(serial)} の履歴 / history")
    for column in ("日時 / at", "事象 / event", "場所 / place"):
        table.add_column(column)
    for event in counter.card_history(node, actor=actor, serial=serial):
        table.add_row(event.at, event.kind, escape(event.place or ""))
    console.print(table)


@app.command("status")
@cli_command
def status_command(
    ctx: typer.Context, serial: SerialArgument, operator: OperatorOption = None
) -> None:
    """A card's status by serial, from this register or the network (the check is recorded)."""
    node = node_of(ctx)
    actor = act_as(node, operator, command="card status")
    answer = check_card_status(node, serial=serial, asked_by=f"{actor.username}@{terminal_id()}")
    status = answer.effective(node.today())
    if status is None:
        console.print(f"[red]不明 / unknown:[/] {escape(serial)}")
        raise typer.Exit(1)
    console.print(
        f"[bold]{escape(serial)}[/]: {_STATUS_JA[status]} / {status.value} "
        f"(回答 / answered by {escape(answer.answered_by)})"
    )
