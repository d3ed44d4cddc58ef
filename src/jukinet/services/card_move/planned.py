"""The old municipality's planned card moves as the move-in notice finds them.

Kept apart from the use cases so the register's notice handler can use it without importing them.
"""

from __future__ import annotations

from sqlalchemy import select

from jukinet.storage.card_move_tables import PlannedCardMoveRow
from jukinet.storage.unit_of_work import UnitOfWork


def take_card_move(
    uow: UnitOfWork, *, serial: object, resident_code: str, new_municipality_code: str
) -> PlannedCardMoveRow | None:
    """The planned card move a move-in notice completes for ``resident_code``, if any."""
    if not isinstance(serial, str):
        return None
    planned = uow.session.scalars(
        select(PlannedCardMoveRow).where(PlannedCardMoveRow.serial == serial)
    ).first()
    if (
        planned is None
        or planned.destination_municipality_code != new_municipality_code
        or resident_code not in planned.resident_codes
    ):
        return None
    return planned
