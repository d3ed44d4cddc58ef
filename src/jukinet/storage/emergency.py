"""Reading what is in force at a node: its threat levels, its cuts and its urgent affairs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from jukinet.domain.clock import aware_utc
from jukinet.domain.emergency import Cut, EmergencyState, Scope
from jukinet.storage.database import READ_ONLY
from jukinet.storage.emergency_tables import (
    EmergencyDisconnectRow,
    ThreatLevelRow,
    UrgentAffairRow,
)


def current_level(session: Session, scope: str = "node") -> int:
    """The level the newest decision of ``scope`` set (0 before any)."""
    level = session.scalar(
        select(ThreatLevelRow.level)
        .where(ThreatLevelRow.scope == scope)
        .order_by(ThreatLevelRow.id.desc())
        .limit(1)
    )
    return int(level or 0)


def live_cuts(session: Session, now: datetime) -> list[EmergencyDisconnectRow]:
    """Cuts not ended and not yet expired at ``now``, oldest first."""
    return list(
        session.scalars(
            select(EmergencyDisconnectRow)
            .where(
                EmergencyDisconnectRow.ended_at.is_(None),
                EmergencyDisconnectRow.expires_at > now,
            )
            .order_by(EmergencyDisconnectRow.id)
        )
    )


def cut_of(row: EmergencyDisconnectRow) -> Cut:
    """The domain's view of a stored cut."""
    return Cut(
        id=row.id,
        scope=Scope(row.scope),
        target=row.target,
        reason=row.reason,
        expires_at=aware_utc(row.expires_at),
        ended=row.ended_at is not None,
        source=row.source,
    )


def state_in(session: Session, *, here: str, now: datetime) -> EmergencyState:
    """Everything in force at ``now`` (a cut that expires later is kept: it judges itself)."""
    return EmergencyState(
        here=here,
        level=current_level(session, "node"),
        network_level=current_level(session, "network"),
        cuts=tuple(cut_of(row) for row in live_cuts(session, now)),
        urgent_affairs=frozenset(session.scalars(select(UrgentAffairRow.affair_code))),
    )


def read_state(engine: Engine, *, here: str, now: datetime) -> EmergencyState:
    """:func:`state_in` in a read-only transaction of its own (nothing in force before the
    tables exist: a database not upgraded yet)."""
    try:
        with Session(bind=engine.execution_options(**{READ_ONLY: True})) as session:
            return state_in(session, here=here, now=now)
    except DBAPIError:
        return EmergencyState(here=here)
