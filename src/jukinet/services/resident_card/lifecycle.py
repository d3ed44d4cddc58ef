"""Register changes that end a resident's card (domain.md §5): a resident-code change, death,
emigration, a move-out without continuation, an ex-officio deletion.

Called by the register's use cases inside their own unit of work, so the record's change, the
card's end, its event and the status notice upward commit together.
"""

from __future__ import annotations

from jukinet.domain import resident_card as rules
from jukinet.domain.access_log import Action
from jukinet.domain.operators import Actor
from jukinet.domain.resident_card import InvalidReason
from jukinet.services.context import ServiceContext
from jukinet.services.resident_card import records
from jukinet.services.resident_card.records import CardWork
from jukinet.storage.unit_of_work import UnitOfWork


def end_card(
    node: ServiceContext,
    uow: UnitOfWork,
    actor: Actor,
    *,
    resident_id: int,
    reason: InvalidReason,
    requested_by: str | None = None,
    handed_to: str | None = None,
) -> str | None:
    """End the resident's live card, if any, for ``reason``; the serial ended, or ``None``.

    With ``handed_to`` (a card that moved with its holder) the notice only hands the card over:
    the new municipality reports it from then on.
    """
    row = records.live_card_of(uow.session, resident_id)
    if row is None:
        return None
    work = CardWork(
        node=node,
        session=uow.session,
        now=node.now(),
        actor=requested_by or actor.username,
        operator_id=actor.operator_id,
        place=actor.terminal_id,
    )
    before = records.to_card(row)
    after = rules.invalidate(before, reason)
    records.copy_onto(after, row, now=work.now, by=actor.operator_id)
    work.event(row, "invalidated", {"reason": reason.value})
    work.logged(row, action=Action.WRITE, reason=f"card:invalidated {reason.value}")
    if handed_to is not None:
        # The network keeps the card's status as it was; only its holder changes.
        work.notify(row, before, handed_to=handed_to)
    elif before.state is not rules.CardState.APPLIED:
        work.notify(row, after)
    return row.serial
