"""Writing operator events to the tamper-evident access log (in the caller's transaction)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from jukinet.domain.access_log import AccessEntry, Action, ActorKind, Channel
from jukinet.domain.operator_events import OperatorEvent
from jukinet.domain.operators import Actor
from jukinet.services.context import ServiceContext
from jukinet.storage import access_log


def log_event(
    node: ServiceContext,
    session: Session,
    event: OperatorEvent,
    *,
    actor: str,
    text: str = "",
    terminal: str | None = None,
    refused: bool = False,
) -> None:
    """Queue one operator event; it is appended when ``session`` commits."""
    access_log.record(
        session,
        [
            AccessEntry(
                recorded_at=node.now(),
                node=str(node.node_id),
                action=Action.REFUSED if refused else Action.WRITE,
                channel=Channel.COUNTER,
                actor_kind=ActorKind.OPERATOR,
                actor=actor[:80],
                reason=event.reason(text)[:200],
                terminal=terminal[:40] if terminal else None,
            )
        ],
    )


def record_command(
    node: ServiceContext, *, actor: Actor, command: str, refused: bool = False
) -> None:
    """Log that ``actor`` ran (or was refused) an administrative command on the command line.

    ``command`` is the command's name only (``codes allot``), never its arguments: those may
    hold resident codes or names.
    """
    with node.uow() as uow:
        log_event(
            node,
            uow.session,
            OperatorEvent.COMMAND,
            actor=actor.username,
            text=command[:120],
            terminal=actor.terminal_id,
            refused=refused,
        )
        uow.commit()
