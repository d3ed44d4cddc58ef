"""What services hand back: plain values, no ORM rows leaking past the service layer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from jukinet.domain.register import ResidentRecord
from jukinet.storage.repositories import snapshot_to_record
from jukinet.storage.tables import RegisterEventRow, ResidentRow, ResidentVersionRow
from jukinet.storage.unit_of_work import UnitOfWork


@dataclass(frozen=True, slots=True)
class RecordView:
    """A record as a screen or API shows it, with the version a later change must name."""

    record: ResidentRecord
    version: int
    updated_at: datetime
    #: The opaque reference pages address the record by (never the resident code).
    record_ref: str = ""


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One version of a record and the event that produced it."""

    version: int
    record: ResidentRecord
    event_kind: str
    event_date: str
    filed_on: str
    late: bool
    operator_id: int
    note: str | None
    recorded_at: datetime
    #: Who filed it, as pages and the CLI show it (the operator's display name; empty for the
    #: system's own work, such as a bulk load).
    operator_name: str = ""


def view_of(uow: UnitOfWork, row: ResidentRow) -> RecordView:
    """The view of a stored row."""
    return RecordView(
        record=uow.residents.to_record(row),
        version=row.version,
        updated_at=row.updated_at,
        record_ref=row.record_ref,
    )


def history_entry(
    version: ResidentVersionRow, event: RegisterEventRow, *, operator_name: str = ""
) -> HistoryEntry:
    """A history entry from a stored version and its event."""
    return HistoryEntry(
        version=version.version,
        record=snapshot_to_record(version.snapshot),
        event_kind=event.kind,
        event_date=event.event_date.isoformat(),
        filed_on=event.filed_on.isoformat(),
        late=event.late,
        operator_id=event.operator_id,
        note=event.note,
        recorded_at=version.recorded_at,
        operator_name=operator_name,
    )
