"""The municipality's side of reconciliation: what upstream should hold, and the repairs.

The expected set is every record on the register, current or 除票, except residents who opted
out of upstream notification (those must be *absent* upstream). Repairs are ordinary outbox
messages — a snapshot for a record missing or different upstream, a withdrawal for one held
there but not expected — which leave with the normal delivery.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Final, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from jukinet.domain.identity import identity_digest, snapshot_body
from jukinet.domain.messages import IDENTITY_KINDS, MessageKind
from jukinet.services.context import ServiceContext
from jukinet.storage.identity_records import reported_records
from jukinet.storage.tables import HouseholdRow, OutboxRow, ResidentRow

#: Codes per ``IN (…)`` when the repaired records are read again.
_IN_CHUNK: Final = 500


def expected_hashes(session: Session) -> dict[str, str]:
    """Resident code → record hash of every record this municipality reports upstream.

    Reads only the identity columns (no household join, no domain objects), so 100,000 records
    take about a second. Built exactly as :meth:`ResidentRecord.identity` builds the items that
    notices and snapshots carry; residents who opted out are left out (they must be absent).
    """
    return {
        info.resident_code: identity_digest(info, deleted=removed)
        for info, removed in reported_records(session)
    }


def in_flight_codes(session: Session, *, upstream: str) -> set[str]:
    """Residents with identity messages still waiting to reach the prefecture."""
    return {
        code
        for code in session.scalars(
            select(OutboxRow.subject)
            .where(
                OutboxRow.recipient == upstream,
                OutboxRow.delivered_at.is_(None),
                OutboxRow.kind.in_(IDENTITY_KINDS),
            )
            .distinct()
        )
        if code is not None
    }


_T = TypeVar("_T")


def _chunks(items: Sequence[_T]) -> Iterator[Sequence[_T]]:
    for start in range(0, len(items), _IN_CHUNK):
        yield items[start : start + _IN_CHUNK]


def queue_repairs(
    node: ServiceContext, snapshots: list[str], withdrawals: list[str]
) -> tuple[list[str], list[str]]:
    """Queue the repairs in one transaction; returns the codes actually queued.

    Each record is read again inside the transaction, so a change filed since the comparison
    is what gets sent, and a resident who opted back in is not withdrawn.
    """
    queued_snapshots: list[str] = []
    queued_withdrawals: list[str] = []
    # No autoflush: the queued messages are written once, at commit, not one by one as each
    # record is read; the households are loaded in bulk (and kept referenced) for to_record.
    with node.uow() as uow, uow.session.no_autoflush:
        now = node.now()
        rows: dict[str, ResidentRow] = {}
        for chunk in _chunks(sorted(set(snapshots) | set(withdrawals))):
            for found in uow.session.scalars(
                select(ResidentRow).where(ResidentRow.resident_code.in_(chunk))
            ):
                rows[found.resident_code] = found
        households: list[HouseholdRow] = []
        for ids in _chunks(sorted({row.household_id for row in rows.values()})):
            households.extend(
                uow.session.scalars(select(HouseholdRow).where(HouseholdRow.id.in_(ids)))
            )
        for code in snapshots:
            row = rows.get(code)
            if row is None or row.upstream_opt_out:
                continue
            record = uow.residents.to_record(row)
            uow.outbox.add(
                kind=MessageKind.IDENTITY_SNAPSHOT.value,
                recipient=node.upstream,
                subject=code,
                body=snapshot_body(
                    node.municipality_code, record.identity(), deleted=not record.is_active
                ),
                now=now,
            )
            queued_snapshots.append(code)
        for code in withdrawals:
            row = rows.get(code)
            if row is not None and not row.upstream_opt_out:
                continue
            uow.outbox.add(
                kind=MessageKind.IDENTITY_WITHDRAWAL.value,
                recipient=node.upstream,
                subject=code,
                body={"resident_code": code, "municipality_code": node.municipality_code},
                now=now,
            )
            queued_withdrawals.append(code)
        uow.commit()
    return queued_snapshots, queued_withdrawals
