"""``jukinet resident``: read the register (as a signed-in operator)."""

from __future__ import annotations

from typing import Annotated

import typer

from jukinet.cli.common import (
    OPERATOR_ENV,
    act_as,
    cli_command,
    console,
    node_of,
    parse_date_option,
)
from jukinet.cli.views import record_with_history, records_table
from jukinet.services import reading
from jukinet.services.reading import SearchQuery

app = typer.Typer(help="住民票の照会 / Look up residents.", no_args_is_help=True)

OperatorOption = Annotated[
    str | None,
    typer.Option(
        "--operator",
        "-u",
        envvar=OPERATOR_ENV,
        help="Operator username; the password comes from JUKINET_OPERATOR_PASSWORD or a prompt.",
    ),
]


@app.command("show")
@cli_command
def show_command(
    ctx: typer.Context,
    code: Annotated[str, typer.Argument(help="The 11-digit resident code.")],
    operator: OperatorOption = None,
) -> None:
    """One record (住民票 or 除票) with its history; dates in 和暦."""
    node = node_of(ctx)
    actor = act_as(node, operator, command="resident show")
    view = reading.read_resident(node, actor=actor, resident_code=code)
    history = reading.read_history(node, actor=actor, resident_code=code)
    console.print(record_with_history(view, history))


@app.command("search")
@cli_command
def search_command(
    ctx: typer.Context,
    name: Annotated[
        str | None, typer.Argument(help="Name in kanji (variants fold: 髙/高) or kana.")
    ] = None,
    birth_date: Annotated[
        str | None,
        typer.Option("--birth-date", help="和暦 (昭和55年4月1日, S55.4.1) or ISO (1980-04-01)."),
    ] = None,
    include_removed: Annotated[
        bool, typer.Option("--include-removed", help="Also list 除票 (removed records).")
    ] = False,
    limit: Annotated[int, typer.Option("--limit", min=1, max=200)] = 50,
    show_codes: Annotated[
        bool,
        typer.Option("--show-codes", help="Show resident codes in full (masked by default)."),
    ] = False,
    operator: OperatorOption = None,
) -> None:
    """Candidates by name and/or birth date. Never merges records: it lists them."""
    node = node_of(ctx)
    actor = act_as(node, operator, command="resident search")
    born = parse_date_option(birth_date, field="birth_date") if birth_date else None
    found = reading.search_residents(
        node,
        actor=actor,
        query=SearchQuery(name=name, birth_date=born, include_removed=include_removed, limit=limit),
    )
    if not found:
        console.print("該当する住民はいません / no matching residents")
        return
    console.print(records_table(found, title=f"検索結果 / {len(found)} 件", show_codes=show_codes))
