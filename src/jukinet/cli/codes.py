"""``jukinet codes``: the municipality's pool of resident codes."""

from __future__ import annotations

import random
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import func, select

from jukinet.cli.common import OperatorOption, act_as, cli_command, console, node_of
from jukinet.services.code_blocks import MAX_BLOCK, request_code_block
from jukinet.services.codes import refuse_own_allotment_on_the_network
from jukinet.services.population import allot_codes_in_bulk
from jukinet.storage.tables import ResidentCodeRow

app = typer.Typer(help="住民票コード / The resident-code pool.", no_args_is_help=True)


@app.command("allot")
@cli_command
def allot_command(
    ctx: typer.Context,
    count: Annotated[int, typer.Option("--count", help="How many fresh codes to add.")],
    seed: Annotated[
        int | None,
        typer.Option(
            "--seed",
            help="Repeatable codes (demos and tests only: codes must be "
            "unpredictable in real use).",
        ),
    ] = None,
    operator: OperatorOption = None,
) -> None:
    """Add fresh random codes to the pool (standing in for the national centre; system
    administrators)."""
    node = node_of(ctx)
    act_as(node, operator, command="codes allot")
    refuse_own_allotment_on_the_network(node)
    rng = random.Random(seed) if seed is not None else None  # noqa: S311 - explicit demo seed
    size = allot_codes_in_bulk(node, count=count, rng=rng)
    console.print(
        f"[green]{count:,} 件を割り当てました / allotted {count:,} codes[/]; "
        f"未使用 / available: [bold]{size:,}[/]"
    )


@app.command("request")
@cli_command
def request_command(
    ctx: typer.Context,
    count: Annotated[
        int, typer.Option("--count", help=f"Codes to ask for (1 to {MAX_BLOCK:,}).")
    ] = 10_000,
    operator: OperatorOption = None,
) -> None:
    """Ask the national centre, through the prefecture, for a block of codes (system
    administrators of a municipality on the network)."""
    node = node_of(ctx)
    actor = act_as(node, operator, command="codes request")
    block = request_code_block(node, actor=actor, count=count)
    console.print(
        f"[green]ブロック {block.block_id} を受領 / block received: {block.size:,} codes[/]; "
        f"未使用 / available: [bold]{block.pool_size:,}[/]"
    )


@app.command("status")
@cli_command
def status_command(ctx: typer.Context, operator: OperatorOption = None) -> None:
    """How many codes are available, issued and retired (system administrators)."""
    node = node_of(ctx)
    act_as(node, operator, command="codes status")
    with node.uow() as uow:
        rows = uow.session.execute(
            select(ResidentCodeRow.state, func.count())
            .where(ResidentCodeRow.municipality_code == node.municipality_code)
            .group_by(ResidentCodeRow.state)
        ).all()
    counts = {state: int(n) for state, n in rows}
    table = Table(title=f"住民票コード / resident codes — {node.municipality_code}")
    table.add_column("状態 / state")
    table.add_column("件数 / count", justify="right")
    for state, label in (
        ("available", "未使用 / available"),
        ("issued", "使用中 / issued"),
        ("retired", "廃止 / retired"),
    ):
        table.add_row(label, f"{counts.get(state, 0):,}")
    console.print(table)
