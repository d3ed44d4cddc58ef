"""Identity-confirmation information (本人確認情報) in storage: one home for its columns.

Two tables hold it: the municipality's register (``residents``, where it is part of the full
record) and the upper tiers' store (``identity_records`` with ``identity_history``). Every
reader — provision, batch jobs, reconciliation, initial load, the identity store — takes its
column list from here, and every write to the upper tiers' store goes through here.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, datetime
from typing import Any, Final, NamedTuple

from sqlalchemy import Row, delete, func, select
from sqlalchemy.orm import Session

from jukinet.domain.identity import IdentityInfo, identity_digest
from jukinet.domain.names import kana_search_key, name_search_key
from jukinet.domain.register import RecordStatus
from jukinet.storage import bulk
from jukinet.storage.tables import IdentityHistoryRow, IdentityRecordRow, ResidentRow

#: The identity items of a held record, in :class:`IdentityInfo`'s field order.
HELD_ITEMS: Final = (
    IdentityRecordRow.resident_code,
    IdentityRecordRow.family_name,
    IdentityRecordRow.given_name,
    IdentityRecordRow.family_name_kana,
    IdentityRecordRow.given_name_kana,
    IdentityRecordRow.birth_date,
    IdentityRecordRow.sex,
    IdentityRecordRow.address,
    IdentityRecordRow.family_name_mj,
    IdentityRecordRow.given_name_mj,
)
#: What an agency may be given of a held record: the items, where it is held, change info.
HELD_RECORD: Final = (
    *HELD_ITEMS,
    IdentityRecordRow.municipality_code,
    IdentityRecordRow.deleted,
    IdentityRecordRow.last_reason,
    IdentityRecordRow.last_changed_on,
)
#: The identity items of a record on the municipality's register, in the same order.
REGISTER_ITEMS: Final = (
    ResidentRow.resident_code,
    ResidentRow.family_name,
    ResidentRow.given_name,
    ResidentRow.family_name_kana,
    ResidentRow.given_name_kana,
    ResidentRow.birth_date,
    ResidentRow.sex,
    ResidentRow.address,
    ResidentRow.family_name_mj,
    ResidentRow.given_name_mj,
)
_ITEM_COUNT: Final = len(REGISTER_ITEMS)
#: History reason of a snapshot (initial load or reconciliation), not a change.
SNAPSHOT_REASON: Final = "S01"

_RECORD_CACHE: Final = "jukinet.identity_records"


def info_of(row: Row[Any] | tuple[Any, ...]) -> IdentityInfo:
    """The items of a row read with :data:`HELD_ITEMS` or :data:`REGISTER_ITEMS` first."""
    return IdentityInfo(*row[:_ITEM_COUNT])


# --------------------------------------------------------------------------------------------
# The municipality's register, as upstream sees it
# --------------------------------------------------------------------------------------------


def reported_records(session: Session) -> Iterator[tuple[IdentityInfo, bool]]:
    """Every record the municipality reports upstream, with whether it is removed (除票).

    Residents who opted out of upstream notification are left out (they must be absent).
    """
    query = select(*REGISTER_ITEMS, ResidentRow.status).where(
        ResidentRow.upstream_opt_out.is_(False)
    )
    for row in session.execute(query):
        yield info_of(row), row[_ITEM_COUNT] != RecordStatus.ACTIVE.value


def reported_chunk(
    session: Session, *, after_id: int, limit: int
) -> list[tuple[int, IdentityInfo, bool]]:
    """The next ``limit`` reported records after register row ``after_id``: (row id, items,
    removed), in row order — for work done in short transactions (initial load)."""
    rows = session.execute(
        select(ResidentRow.id, *REGISTER_ITEMS, ResidentRow.status)
        .where(ResidentRow.upstream_opt_out.is_(False), ResidentRow.id > after_id)
        .order_by(ResidentRow.id)
        .limit(limit)
    ).all()
    return [
        (row[0], info_of(row[1:]), row[_ITEM_COUNT + 1] != RecordStatus.ACTIVE.value)
        for row in rows
    ]


# --------------------------------------------------------------------------------------------
# The upper tiers' store: reads by code
# --------------------------------------------------------------------------------------------


def prefetch(session: Session, codes: set[str]) -> None:
    """Load a batch's current records in one query; later lookups in this session use them,
    and codes not found are known to be new (no query per message)."""
    found: dict[str, IdentityRecordRow] = {}
    if codes:
        query = select(IdentityRecordRow).where(IdentityRecordRow.resident_code.in_(codes))
        found = {row.resident_code: row for row in session.scalars(query)}
    session.info[_RECORD_CACHE] = found


def find(session: Session, code: str) -> IdentityRecordRow | None:
    """The held record of ``code`` (from the batch's prefetch when there is one)."""
    cache: dict[str, IdentityRecordRow] | None = session.info.get(_RECORD_CACHE)
    if cache is None:
        return session.get(IdentityRecordRow, code)
    return cache.get(code)


def find_uncached(session: Session, code: str) -> IdentityRecordRow | None:
    """The record of ``code`` as stored, past the batch's prefetch (a retired code's row)."""
    return find(session, code) or session.get(IdentityRecordRow, code)


def held_before(session: Session, resident_code: str, municipality_code: str) -> bool:
    """Whether ``municipality_code`` reported the resident here before (history, or this batch)."""
    pending = bulk.buffer_for(session, IdentityHistoryRow) or []
    if any(
        h["resident_code"] == resident_code and h["municipality_code"] == municipality_code
        for h in pending
    ):
        return True
    query = (
        select(IdentityHistoryRow.version)
        .where(
            IdentityHistoryRow.resident_code == resident_code,
            IdentityHistoryRow.municipality_code == municipality_code,
        )
        .limit(1)
    )
    return session.scalars(query).first() is not None


def _remember(session: Session, row: IdentityRecordRow) -> None:
    cache: dict[str, IdentityRecordRow] | None = session.info.get(_RECORD_CACHE)
    if cache is not None:
        cache[row.resident_code] = row


def _forget(session: Session, code: str) -> None:
    cache: dict[str, IdentityRecordRow] | None = session.info.get(_RECORD_CACHE)
    if cache is not None:
        cache.pop(code, None)


# --------------------------------------------------------------------------------------------
# The upper tiers' store: writes
# --------------------------------------------------------------------------------------------


def write(
    session: Session,
    info: IdentityInfo,
    *,
    municipality_code: str,
    deleted: bool,
    reason: str,
    changed_on: date,
    before: dict[str, Any] | None,
    envelope_id: str,
    now: datetime,
) -> None:
    """Make ``info`` the held state of its resident and keep the version in history.

    A deletion from a municipality that no longer holds the person (they have moved in
    elsewhere) is kept as history only: the current record belongs to the new municipality,
    whether it is still active there or has since been deleted there too.
    """
    row = find(session, info.resident_code)
    history = _History(municipality_code, reason, changed_on, before, deleted, envelope_id, now)
    if row is None:
        row = IdentityRecordRow(resident_code=info.resident_code, version=0)
        session.add(row)
        _remember(session, row)
    elif deleted and row.municipality_code != municipality_code:
        row.version += 1
        _add_history(session, info, version=row.version, history=history)
        return
    row.municipality_code = municipality_code
    row.family_name = info.family_name
    row.given_name = info.given_name
    row.family_name_kana = info.family_name_kana
    row.given_name_kana = info.given_name_kana
    row.family_name_mj = info.family_name_mj
    row.given_name_mj = info.given_name_mj
    row.kana_key = kana_search_key(info.family_name_kana + info.given_name_kana)
    row.name_key = name_search_key(info.family_name + info.given_name)
    row.birth_date = info.birth_date
    row.sex = info.sex
    row.address = info.address
    row.deleted = deleted
    row.last_reason = reason
    row.last_changed_on = changed_on
    row.version = (row.version or 0) + 1
    row.digest = identity_digest(info, deleted=deleted)
    row.updated_at = now
    _add_history(session, info, version=row.version, history=history)


def retire_code(
    session: Session,
    old: IdentityInfo,
    *,
    reason: str,
    changed_on: date,
    now: datetime,
) -> None:
    """Mark the record under a retired resident code deleted (住民票コード変更)."""
    # The old code is not among the batch's prefetched subjects, but may have arrived earlier
    # in the same batch (not yet flushed): look in the batch's records first.
    row = find(session, old.resident_code) or session.get(IdentityRecordRow, old.resident_code)
    if row is None or row.deleted:
        return
    row.deleted = True
    row.last_reason = reason
    row.last_changed_on = changed_on
    row.version += 1
    row.digest = identity_digest(old, deleted=True)
    row.updated_at = now


def remove(session: Session, resident_code: str, *, municipality_code: str) -> None:
    """Hold nothing about this resident any more — unless another municipality now holds them."""
    row = find(session, resident_code)
    if row is not None and row.municipality_code != municipality_code:
        return
    _forget(session, resident_code)
    history = bulk.buffer_for(session, IdentityHistoryRow)
    if history:
        history[:] = [h for h in history if h["resident_code"] != resident_code]
    if row is not None:
        session.flush()  # pending changes to this row must not be written after its deletion
    session.execute(
        delete(IdentityHistoryRow).where(IdentityHistoryRow.resident_code == resident_code)
    )
    session.execute(
        delete(IdentityRecordRow).where(IdentityRecordRow.resident_code == resident_code)
    )


class _History(NamedTuple):
    municipality_code: str
    reason: str
    changed_on: date
    before: dict[str, Any] | None
    deleted: bool
    envelope_id: str
    now: datetime


def _add_history(session: Session, info: IdentityInfo, *, version: int, history: _History) -> None:
    bulk.add_row(
        session,
        IdentityHistoryRow,
        {
            "resident_code": info.resident_code,
            "version": version,
            "municipality_code": history.municipality_code,
            "identity": info.as_dict(),
            "reason": history.reason,
            "changed_on": history.changed_on,
            "before": history.before,
            "deleted": history.deleted,
            "source_envelope": history.envelope_id,
            "received_at": history.now,
        },
    )


def opted_out_codes(session: Session) -> list[str]:
    """Resident codes of this municipality's residents who opted out of upstream notification."""
    return list(
        session.scalars(
            select(ResidentRow.resident_code).where(ResidentRow.upstream_opt_out.is_(True))
        )
    )


def opt_out_counts(session: Session) -> tuple[int, int]:
    """``(residents, opted out)``: active records, and those of them that opted out (counts
    only — what the public transparency report shows)."""
    active = ResidentRow.status == RecordStatus.ACTIVE.value
    residents = session.scalar(select(func.count()).select_from(ResidentRow).where(active))
    opted_out = session.scalar(
        select(func.count())
        .select_from(ResidentRow)
        .where(active, ResidentRow.upstream_opt_out.is_(True))
    )
    return int(residents or 0), int(opted_out or 0)


def codes_held(session: Session, codes: Sequence[str]) -> set[str]:
    """Which of ``codes`` the store holds a record under (the centre allots none of them)."""
    if not codes:
        return set()
    return set(
        session.scalars(
            select(IdentityRecordRow.resident_code).where(
                IdentityRecordRow.resident_code.in_(codes)
            )
        )
    )
