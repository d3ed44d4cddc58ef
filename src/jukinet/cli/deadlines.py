"""``jukinet network deadlines``: check the delivery deadlines now and list what is overdue."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from jukinet.cli.common import OperatorOption, act_as, cli_command, console
from jukinet.domain.deadlines import deadlines as deadline_table
from jukinet.runtime.bootstrap import build_node
from jukinet.runtime.runner import NodeConfig
from jukinet.services import deadlines

DirOption = Annotated[Path, typer.Option("--dir", help="The node's folder (holds node.json).")]


@cli_command
def deadlines_command(
    ctx: typer.Context, folder: DirOption, operator: OperatorOption = None
) -> None:
    """Check every link's delivery deadlines now (as the node's job does each minute), then
    list overdue deliveries: unacknowledged here, or received late (supervisors, security)."""
    node = build_node(NodeConfig.load(folder).settings())
    ctx.call_on_close(node.engine.dispose)
    actor = act_as(node, operator, command="network deadlines")
    deadlines.check_deadlines(node)
    limits = deadline_table(node.settings.delivery_deadlines)
    console.print(
        "配達期限 / deadlines: "
        + ", ".join(f"{kind.value} {int(d.total_seconds())} s" for kind, d in limits.items())
    )
    episodes = deadlines.overdue_deliveries(node, actor=actor)
    if not episodes:
        console.print("[green]期限超過なし / nothing overdue[/]")
        return
    # One line per episode, not a table: a pipe's narrow width must never cut the peer or kind.
    console.print(f"期限超過 / overdue deliveries — {node.node_id}")
    for episode in episodes:
        state = "open" if episode.open else f"closed {episode.resolved_at:%Y-%m-%d %H:%M}"
        console.print(
            f"{episode.direction} {episode.peer} {episode.kind} count={episode.count} "
            f"deadline={episode.deadline_seconds}s "
            f"oldest={episode.oldest_at.isoformat(timespec='seconds')} {state}",
            soft_wrap=True,
        )
    if any(e.open for e in episodes):
        raise typer.Exit(code=3)
