"""The affair registry in the database: recipients and append-only grants/revocations.

The rules live in :class:`jukinet.domain.affairs.AffairRegistry`; this module stores its
recipients and entries and rebuilds it. A node keeps the rebuilt registry cached and checks one
number per query (the highest entry sequence and recipient count) to see whether it is stale,
so a grant or revocation made by another process takes effect on the next query.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jukinet.data.affairs import item_policy, statutory_affairs
from jukinet.domain.affairs import (
    AffairRegistry,
    EntryKind,
    Recipient,
    RecipientType,
    RegistryEntry,
)
from jukinet.storage.tables import AffairRegistryRow, RecipientRow


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything is stored in UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _recipient(row: RecipientRow) -> Recipient:
    return Recipient(
        id=row.id,
        name=row.name,
        kind=RecipientType(row.kind),
        prefecture_code=row.prefecture_code,
        municipality_code=row.municipality_code,
        body=row.body,
    )


def _entry(row: AffairRegistryRow) -> RegistryEntry:
    return RegistryEntry(
        sequence=row.sequence,
        kind=EntryKind(row.kind),
        recipient_id=row.recipient_id,
        affair_code=row.affair_code,
        valid_from=row.valid_from,
        valid_until=row.valid_until,
        decided_by=row.decided_by,
        recorded_at=_aware(row.recorded_at),
        reason=row.reason,
        decision=row.decision,
        legal_basis=row.legal_basis,
    )


# One round trip: both numbers only grow, so together they change whenever the registry does.
# Built once: this runs before every query a recipient makes.
_VERSION: Final = select(
    select(func.max(AffairRegistryRow.sequence)).scalar_subquery(),
    select(func.count()).select_from(RecipientRow).scalar_subquery(),
)


def _version(session: Session) -> tuple[int, int]:
    row = session.connection().execute(_VERSION).one()
    return int(row[0] or 0), int(row[1] or 0)


def build_registry(session: Session) -> AffairRegistry:
    """The registry as stored, replayed (and so re-checked) entry by entry."""
    recipients = [
        _recipient(r) for r in session.scalars(select(RecipientRow).order_by(RecipientRow.id))
    ]
    entries = [
        _entry(r)
        for r in session.scalars(select(AffairRegistryRow).order_by(AffairRegistryRow.sequence))
    ]
    return AffairRegistry(
        statutory_affairs(), recipients=recipients, entries=entries, items=item_policy()
    )


class RegistryCache:
    """One node's rebuilt registry, refreshed when the stored one has grown."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._version: tuple[int, int] | None = None
        self._registry: AffairRegistry | None = None

    def get(self, session: Session) -> AffairRegistry:
        """The current registry (one cheap query to check it is up to date)."""
        version = _version(session)
        with self._lock:
            if self._registry is None or version != self._version:
                self._registry = build_registry(session)
                self._version = version
            return self._registry


def save_recipient(session: Session, recipient: Recipient, *, now: datetime) -> bool:
    """Store a recipient; ``False`` if the very same one is already stored.

    The domain refuses a different body under a known id (``RecipientConflict``).
    """
    registry = build_registry(session)
    known = registry.recipients.get(recipient.id)
    registry.register_recipient(recipient)
    if known is not None:
        if known.body is None and recipient.body is not None:  # the body named at last
            row = session.get(RecipientRow, recipient.id)
            if row is not None:
                row.body = recipient.body
                session.flush()
                return True
        return False
    session.add(
        RecipientRow(
            id=recipient.id,
            name=recipient.name,
            kind=recipient.kind.value,
            prefecture_code=recipient.prefecture_code,
            municipality_code=recipient.municipality_code,
            body=recipient.body,
            registered_at=now,
        )
    )
    session.flush()
    return True


def save_entry(session: Session, entry: RegistryEntry) -> None:
    """Store one checked registry entry (its sequence comes from the registry)."""
    session.add(
        AffairRegistryRow(
            sequence=entry.sequence,
            kind=entry.kind.value,
            recipient_id=entry.recipient_id,
            affair_code=entry.affair_code,
            valid_from=entry.valid_from,
            valid_until=entry.valid_until,
            decided_by=entry.decided_by,
            recorded_at=entry.recorded_at,
            reason=entry.reason,
            decision=entry.decision,
            legal_basis=entry.legal_basis,
        )
    )
    session.flush()
