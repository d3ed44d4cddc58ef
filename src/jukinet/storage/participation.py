"""Reading and writing a municipality's participation changes (``participation_changes``)."""

from __future__ import annotations

from sqlalchemy import Engine, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from jukinet.storage.database import READ_ONLY
from jukinet.storage.participation_tables import ParticipationChangeRow


def current_state(session: Session) -> str | None:
    """The state the newest change set, ``None`` before any change (configuration rules)."""
    return session.scalar(
        select(ParticipationChangeRow.state).order_by(ParticipationChangeRow.id.desc()).limit(1)
    )


def read_state(engine: Engine) -> str | None:
    """:func:`current_state` in a read-only transaction of its own.

    ``None`` also when the table does not exist yet (a database not upgraded): the node then
    runs as configured, and ``jukinet db upgrade`` is what it needs anyway.
    """
    try:
        with Session(bind=engine.execution_options(**{READ_ONLY: True})) as session:
            return current_state(session)
    except DBAPIError:
        return None


def changes(session: Session, *, limit: int = 50) -> list[ParticipationChangeRow]:
    """The newest changes first."""
    return list(
        session.scalars(
            select(ParticipationChangeRow).order_by(ParticipationChangeRow.id.desc()).limit(limit)
        )
    )
