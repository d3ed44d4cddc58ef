"""``jukinet register card-move-out|card-move-in|card-continue``: the card move (転入転出の特例).

The same input models and services as the counter pages and the API. The PIN is typed on the
card reader's pad (a hidden prompt) or read from standard input (``--pin-from-stdin``).
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from jukinet.cli.common import (
    act_as,
    cli_command,
    console,
    node_of,
    parse_date_option,
    read_secret,
    read_stdin_secret,
)
from jukinet.cli.register import FiledOnOption, OperatorOption, report_change
from jukinet.domain.card_move import FilingChannel
from jukinet.services.card_move.inputs import CardContinuation, CardMoveIn, CardMoveOut
from jukinet.services.card_move.move_in import continue_card, file_card_move_in
from jukinet.services.card_move.move_out import file_card_move_out
from jukinet.services.card_move.pull import pull_move_out

PinFromStdin = Annotated[
    bool, typer.Option("--pin-from-stdin", help="Read the PIN from standard input (first line).")
]


def _pin(from_stdin: bool) -> str:
    if from_stdin:
        return read_stdin_secret()
    return read_secret("暗証番号（数字4桁） / PIN (4 digits)", confirm=False)


@cli_command
def card_move_out_command(
    ctx: typer.Context,
    holder_code: Annotated[str, typer.Argument(help="Resident code of the card holder.")],
    destination: Annotated[str, typer.Option("--destination", help="転出先（住所）.")],
    destination_municipality_code: Annotated[
        str, typer.Option("--destination-municipality-code", help="転出先の市区町村コード.")
    ],
    planned_on: Annotated[str, typer.Option("--planned-on", help="転出予定日.")],
    member_codes: Annotated[
        list[str] | None,
        typer.Option("--member-code", help="A household member without a card (repeatable)."),
    ] = None,
    channel: Annotated[
        FilingChannel, typer.Option("--channel", help="counter or post (online: the portal).")
    ] = FilingChannel.COUNTER,
    insurance_note: Annotated[
        str | None, typer.Option("--insurance-note", help="保険等の記載事項.")
    ] = None,
    filed_on: FiledOnOption = None,
    operator: OperatorOption = None,
) -> None:
    """転出届（特例）: the card holder files the move-out in advance; the move is marked."""
    node = node_of(ctx)
    actor = act_as(node, operator, command="register card-move-out")
    result = file_card_move_out(
        node,
        actor=actor,
        request=CardMoveOut(
            holder_code=holder_code,
            destination=destination,
            destination_municipality_code=destination_municipality_code,
            planned_on=parse_date_option(planned_on, field="planned_on"),
            filed_on=parse_date_option(filed_on, field="filed_on", default=node.today()),
            member_codes=tuple(member_codes or ()),
            channel=channel,
            insurance_note=insurance_note,
        ),
    )
    report_change(result, title="転出予定（特例） / card move-out filed")


@cli_command
def card_move_in_command(
    ctx: typer.Context,
    serial: Annotated[str, typer.Argument(help="The card's serial (presented by the resident).")],
    address: Annotated[str, typer.Option("--address", help="転入先の住所.")],
    moved_in_on: Annotated[str, typer.Option("--moved-in-on", help="転入日（実際に住んだ日）.")],
    household_number: Annotated[
        str | None, typer.Option("--household-number", help="Join this household here.")
    ] = None,
    continue_card: Annotated[
        bool, typer.Option("--continue-card/--no-continue-card", help="継続利用 now.")
    ] = True,
    pin_from_stdin: PinFromStdin = False,
    filed_on: FiledOnOption = None,
    operator: OperatorOption = None,
) -> None:
    """転入届（特例）: the move-out information is pulled from the old municipality."""
    node = node_of(ctx)
    actor = act_as(node, operator, command="register card-move-in")
    pin = _pin(pin_from_stdin)
    result = file_card_move_in(
        node,
        actor=actor,
        request=CardMoveIn(
            serial=serial,
            pin=pin,
            address=address,
            moved_in_on=parse_date_option(moved_in_on, field="moved_in_on"),
            filed_on=parse_date_option(filed_on, field="filed_on", default=node.today()),
            household_number=household_number,
            continue_card=continue_card,
        ),
        pull=pull_move_out,
    )
    report_change(result, title="転入（特例） / card move-in")


@cli_command
def card_continue_command(
    ctx: typer.Context,
    serial: Annotated[str, typer.Argument(help="The card's serial.")],
    pin_from_stdin: PinFromStdin = False,
    operator: OperatorOption = None,
) -> None:
    """継続利用: the card of a resident who moved in is continued here (within 90 days)."""
    node = node_of(ctx)
    actor = act_as(node, operator, command="register card-continue")
    pin = _pin(pin_from_stdin)
    continued = continue_card(node, actor=actor, request=CardContinuation(serial=serial, pin=pin))
    console.print(f"[green]継続利用しました / card continued[/] {escape(continued)}")


def add_commands(app: typer.Typer) -> None:
    """Add the card move's commands to ``jukinet register`` (called by the composition root)."""
    app.command("card-move-out")(card_move_out_command)
    app.command("card-move-in")(card_move_in_command)
    app.command("card-continue")(card_continue_command)
