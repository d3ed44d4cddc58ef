"""The upstream side of reconciliation: what a prefecture or the centre holds for one municipality.

The held set for municipality X is the records held under X, hashed from the stored items (so
a row altered behind the store's back is seen, whatever its stored digest says), plus X's last
word on people who have since moved on to another municipality (their current record belongs
to the new municipality; X's deletion is kept in the history). Tombstones of codes replaced by
a code change (住民票コード変更) are left out: the municipality no longer holds a record under
the retired code.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jukinet.domain.identity import ChangeReason, identity_digest
from jukinet.domain.reconcile import BUCKET_DIGITS, INCONSISTENT, history_hash
from jukinet.storage.identity_records import HELD_ITEMS, info_of
from jukinet.storage.tables import IdentityHistoryRow, IdentityRecordRow


def held_hashes(
    session: Session, municipality_code: str, *, buckets: Sequence[str] | None = None
) -> dict[str, str]:
    """Resident code → record hash of what this node holds for ``municipality_code``.

    Rows held under the municipality are hashed from their stored items; a row whose stored
    digest disagrees gets :data:`INCONSISTENT`. People who moved on to another municipality
    count with the municipality's last history version for them. Code-change tombstones are
    left out. ``buckets`` restricts the answer (``None``: all).
    """
    record = IdentityRecordRow
    rows = select(*HELD_ITEMS, record.deleted, record.last_reason, record.digest).where(
        record.municipality_code == municipality_code
    )
    history = IdentityHistoryRow
    moved_on = (
        select(history.resident_code, history.version, history.identity, history.deleted)
        .join(record, record.resident_code == history.resident_code)
        .where(
            history.municipality_code == municipality_code,
            record.municipality_code != municipality_code,
        )
    )
    if buckets is not None:
        wanted = sorted(set(buckets))
        rows = rows.where(func.substr(record.resident_code, 1, BUCKET_DIGITS).in_(wanted))
        moved_on = moved_on.where(func.substr(history.resident_code, 1, BUCKET_DIGITS).in_(wanted))
    held: dict[str, str] = {}
    if buckets is not None and not buckets:
        return held
    code_change = ChangeReason.CODE_CHANGE.value
    for row in session.execute(rows):
        deleted: bool = row.deleted
        if deleted and row.last_reason == code_change:
            continue  # the retired code of a code change: not a record of the municipality
        computed = identity_digest(info_of(row), deleted=deleted)
        held[row.resident_code] = computed if computed == row.digest else INCONSISTENT
    latest: dict[str, tuple[int, dict[str, Any], bool]] = {}
    for code, version, identity, deleted in session.execute(moved_on):
        if code not in latest or version > latest[code][0]:
            latest[code] = (version, identity, deleted)
    for code, (_version, identity, deleted) in latest.items():
        held[code] = history_hash(identity, deleted=deleted)
    return held
