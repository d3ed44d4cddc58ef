"""``jukinet emergency``: threat levels and two-card emergency disconnects.

Every step signs the operator in with their own card (``JUKINET_OPERATOR_CARD`` and its PIN):
``disconnect``, ``renew`` and ``end`` are the first card's proposal, ``countersign`` the second
operator's, run with their own card. The running node follows within seconds.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from jukinet.cli.common import OperatorOption, act_as, cli_command, console
from jukinet.cli.provision import target_node
from jukinet.domain.emergency import DisconnectProposal, LevelDecision
from jukinet.services.emergency import disconnects, levels
from jukinet.services.emergency.disconnects import DisconnectView, ProposalView
from jukinet.services.emergency.messages import incident_notices

app = typer.Typer(help="Threat levels and emergency disconnects (two cards).", no_args_is_help=True)

DirOption = Annotated[
    Path | None,
    typer.Option("--dir", help="The node's folder (holds node.json); default: the settings."),
]
ReasonOption = Annotated[str, typer.Option("--reason", help="Why (shown and logged).")]
MinutesOption = Annotated[
    float, typer.Option("--minutes", help="How long the cut lasts unless renewed (minutes).")
]


def _proposed(view: ProposalView) -> None:
    console.print(
        f"[yellow]提案 #{view.id} / proposal #{view.id}[/]: {view.action} {view.scope} "
        f"{escape(view.target)} — 2枚目のカードで副署してください / countersign with a second "
        f"card: jukinet emergency countersign {view.id}"
    )


def _cut(view: DisconnectView) -> None:
    state = "in force" if view.in_force else "ended"
    console.print(
        f"#{view.id} {view.scope} {escape(view.target)} — {state}, expires "
        f"{view.expires_at.isoformat(timespec='seconds')} ({view.seconds_left} s left) — "
        f"{escape(view.reason)}"
    )


@app.command("level")
@cli_command
def level_command(
    ctx: typer.Context,
    level: Annotated[int, typer.Argument(help="0 (normal) to 4.")],
    reason: ReasonOption,
    decided_by: Annotated[str, typer.Option("--decided-by", help="The council's chair.")],
    minutes_ref: Annotated[str, typer.Option("--minutes-ref", help="The minutes' reference.")],
    decided_at: Annotated[
        str | None,
        typer.Option("--decided-at", help="When the council decided (ISO 8601; default: now)."),
    ] = None,
    scope: Annotated[
        str, typer.Option("--scope", help="node, or network (at the national centre).")
    ] = "node",
    folder: DirOption = None,
    operator: OperatorOption = None,
) -> None:
    """Record the security council's decision on the threat level (and run its runbook)."""
    node = target_node(ctx, folder)
    actor = act_as(node, operator, command="emergency level")
    try:
        when = dt.datetime.fromisoformat(decided_at) if decided_at else node.now()
    except ValueError:
        raise typer.BadParameter("ISO 8601 with a zone", param_hint="--decided-at") from None
    view = levels.change_level(
        node,
        actor=actor,
        decision=LevelDecision(
            level=level,
            reason=reason,
            decided_by=decided_by,
            decided_at=when,
            minutes_ref=minutes_ref,
            scope=scope,
        ),
    )
    console.print(f"[green]{view.scope}: {view.previous_level} → {view.level}[/] {view.label_ja}")
    if view.notice_queued:
        console.print("インシデント通報を送信待ちにしました / incident notice queued")


@app.command("disconnect")
@cli_command
def disconnect_command(
    ctx: typer.Context,
    scope: Annotated[str, typer.Argument(help="link, node, agency, affair or all.")],
    target: Annotated[
        str, typer.Argument(help="The node (role:code), agency or affair; omit for all.")
    ] = "",
    reason: ReasonOption = "",
    minutes: MinutesOption = 60,
    folder: DirOption = None,
    operator: OperatorOption = None,
) -> None:
    """Propose a cut (first card); it takes effect when a second operator countersigns."""
    node = target_node(ctx, folder)
    actor = act_as(node, operator, command="emergency disconnect")
    proposal = DisconnectProposal(
        action="activate", reason=reason, scope=scope, target=target, duration_minutes=minutes
    )
    _proposed(disconnects.propose(node, actor=actor, proposal=proposal))


@app.command("renew")
@cli_command
def renew_command(
    ctx: typer.Context,
    disconnect_id: Annotated[int, typer.Argument(help="The cut's number.")],
    reason: ReasonOption = "",
    minutes: MinutesOption = 60,
    folder: DirOption = None,
    operator: OperatorOption = None,
) -> None:
    """Propose to renew a cut from now (first card)."""
    node = target_node(ctx, folder)
    actor = act_as(node, operator, command="emergency renew")
    proposal = DisconnectProposal(
        action="renew", reason=reason, duration_minutes=minutes, disconnect_id=disconnect_id
    )
    _proposed(disconnects.propose(node, actor=actor, proposal=proposal))


@app.command("end")
@cli_command
def end_command(
    ctx: typer.Context,
    disconnect_id: Annotated[int, typer.Argument(help="The cut's number.")],
    reason: ReasonOption = "",
    folder: DirOption = None,
    operator: OperatorOption = None,
) -> None:
    """Propose to end a cut now (first card)."""
    node = target_node(ctx, folder)
    actor = act_as(node, operator, command="emergency end")
    proposal = DisconnectProposal(action="end", reason=reason, disconnect_id=disconnect_id)
    _proposed(disconnects.propose(node, actor=actor, proposal=proposal))


@app.command("countersign")
@cli_command
def countersign_command(
    ctx: typer.Context,
    proposal_id: Annotated[int, typer.Argument(help="The proposal's number.")],
    folder: DirOption = None,
    operator: OperatorOption = None,
) -> None:
    """The second card: the proposal takes effect now."""
    node = target_node(ctx, folder)
    actor = act_as(node, operator, command="emergency countersign")
    _cut(disconnects.countersign(node, actor=actor, proposal_id=proposal_id))


@app.command("status")
@cli_command
def status_command(
    ctx: typer.Context, folder: DirOption = None, operator: OperatorOption = None
) -> None:
    """The threat level, the cuts with their countdown, and the proposals waiting."""
    node = target_node(ctx, folder)
    actor = act_as(node, operator, command="emergency status")
    state = node.refresh_emergency()
    console.print(
        f"{node.node_id}: level {state.level} (network {state.network_level})"
        + (" — read-only" if state.read_only else "")
    )
    for view in disconnects.disconnects(node, actor=actor):
        _cut(view)
    for proposal in disconnects.open_proposals(node):
        _proposed(proposal)


@app.command("incidents")
@cli_command
def incidents_command(
    ctx: typer.Context, folder: DirOption = None, operator: OperatorOption = None
) -> None:
    """Incident notices received from nodes below, newest first."""
    node = target_node(ctx, folder)
    act_as(node, operator, command="emergency incidents")
    with node.read_session() as session:
        found = incident_notices(session)
    for notice in found:
        console.print(
            f"{notice.received_at.isoformat(timespec='seconds')} {notice.origin} level "
            f"{notice.previous_level} → {notice.level}: {escape(notice.reason)} "
            f"(minutes {escape(notice.minutes_ref)})"
        )


@app.command("urgent")
@cli_command
def urgent_command(
    ctx: typer.Context,
    affair_code: Annotated[str, typer.Argument(help="The affair (T1-16 …).")],
    off: Annotated[bool, typer.Option("--off", help="Take the mark away.")] = False,
    folder: DirOption = None,
    operator: OperatorOption = None,
) -> None:
    """Mark an affair urgent: still provided at threat level 3."""
    node = target_node(ctx, folder)
    actor = act_as(node, operator, command="emergency urgent")
    urgent = levels.mark_urgent(node, actor=actor, affair_code=affair_code, urgent=not off)
    console.print(f"{affair_code}: {'urgent' if urgent else 'not urgent'}")
