"""``jukinet seed``: fill the register with a synthetic population."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from jukinet.cli.common import OperatorOption, act_as, cli_command, console, node_of
from jukinet.data.catalog import get_municipality
from jukinet.seed import SyntheticHousehold, generate_households
from jukinet.services.context import ServiceContext
from jukinet.services.population import load_population


def seed_population(
    node: ServiceContext, *, residents: int, seed: int | None, batch_size: int
) -> None:
    """Generate ``residents`` people and enter them, with a progress bar and a summary.

    With ``seed`` the people, their households and addresses, and the codes they get from a
    pool in the same state are all the same on every run (birth dates count back from today).
    """
    municipality = get_municipality(node.municipality_code)
    households = 0

    def counted(stream: Iterator[SyntheticHousehold]) -> Iterator[SyntheticHousehold]:
        nonlocal households
        for household in stream:
            households += 1
            yield household

    stream = generate_households(municipality.code, residents, today=node.today(), seed=seed)
    # Codes must be unpredictable in real use; a demo seed makes the whole run repeatable.
    rng = random.Random(seed) if seed is not None else None  # noqa: S311 - explicit demo seed
    started = time.perf_counter()
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("人 / residents"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
    ) as progress:
        task = progress.add_task(f"{municipality.full_name} に記載中 / entering", total=residents)
        loaded = load_population(
            node,
            actor=None,
            households=counted(stream),
            total=residents,
            batch_size=batch_size,
            rng=rng,
            progress=lambda done, _total: progress.update(task, completed=done),
        )
    elapsed = time.perf_counter() - started
    rate = loaded / elapsed if elapsed > 0 else 0.0
    console.print(
        f"[green]{escape(municipality.full_name)}（{municipality.code}）に "
        f"{loaded:,} 人・{households:,} 世帯を記載しました[/] / "
        f"entered {loaded:,} residents in {households:,} households "
        f"({elapsed:.1f} s, {rate:,.0f} residents/s)"
    )


@cli_command
def seed_command(
    ctx: typer.Context,
    municipality: Annotated[
        str | None,
        typer.Option(
            "--municipality",
            help="6-digit municipality code (default: JUKINET_MUNICIPALITY_CODE).",
        ),
    ] = None,
    residents: Annotated[
        int, typer.Option("--residents", min=1, help="How many residents to create.")
    ] = 10_000,
    seed: Annotated[
        int | None, typer.Option("--seed", help="Same seed, same population (repeatable).")
    ] = None,
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, help="Residents per transaction.")
    ] = 2_000,
    operator: OperatorOption = None,
) -> None:
    """Create a synthetic population (職権記載): realistic names, households and addresses
    (system administrators: synthetic data for tests and demos)."""
    overrides: dict[str, object] = {}
    if municipality is not None:
        overrides["municipality_code"] = get_municipality(municipality).code
    node = node_of(ctx, **overrides)
    act_as(node, operator, command="seed")
    seed_population(node, residents=residents, seed=seed, batch_size=batch_size)
