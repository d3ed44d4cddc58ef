"""``audit verify`` over worker processes gives the report the one-process check gives — on
an intact log and on each kind of tampering, with heads ending inside ranges, a log size that
is no multiple of the range, purged entries with their receipt — on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import delete, update

from jukinet.domain.access_log import AccessEntry, Action, ActorKind, Channel, entry_leaf_hash
from jukinet.services import audit
from jukinet.services.context import ServiceContext
from jukinet.storage import access_log as store
from jukinet.storage import access_log_check
from jukinet.storage.tables import AccessLogRow, AccessLogSubtreeRow
from tests.support.clock import FixedClock


def _append(node: ServiceContext, clock: FixedClock, count: int) -> None:
    entries = [
        AccessEntry(
            recorded_at=clock(),
            node="test:node",
            action=Action.READ,
            channel=Channel.BATCH,
            actor_kind=ActorKind.RECIPIENT,
            actor="agency-1",
            subject=f"{n:011d}",
            affair_code="A-1",
            reason="test",
            items=("name", "address"),
            job_id="job-1",
            detail={"row": n},
        )
        for n in range(count)
    ]
    with node.uow() as uow:
        store.append_entries(uow.session, entries)
        uow.commit()
    clock.advance(seconds=1)


def _log(node: ServiceContext, clock: FixedClock) -> None:
    """163 entries: heads at 70, 120, 122 (after retention) and 158; entries 0–69 purged with
    their receipt at 120; 159–162 past the last head."""
    _append(node, clock, 70)
    audit.publish_tree_head(node)
    clock.advance(days=365 * 7 + 3)
    _append(node, clock, 50)
    audit.publish_tree_head(node)
    clock.advance(minutes=1)
    assert audit.apply_retention(node).count == 70
    _append(node, clock, 36)
    clock.advance(minutes=1)
    audit.publish_tree_head(node)
    _append(node, clock, 5)


def _edit(node: ServiceContext, statement: Any) -> None:
    with node.uow() as uow:
        uow.session.execute(statement)
        uow.commit()


def _rehash(node: ServiceContext, position: int) -> None:
    """Rewrite an entry together with its leaf hash (what an insider with the code can do)."""
    with node.uow() as uow:
        row = uow.session.get(AccessLogRow, position)
        assert row is not None
        row.actor = "nobody"
        row.leaf_hash = entry_leaf_hash(position, store.entry_of_row(row))
        uow.commit()


TAMPERING: dict[str, Callable[[ServiceContext, FixedClock], None]] = {
    "none": lambda node, clock: audit.publish_tree_head(node) and None,
    "content altered": lambda node, _: _edit(
        node, update(AccessLogRow).where(AccessLogRow.position == 75).values(actor="x")
    ),
    "altered with its hash": lambda node, _: _rehash(node, 100),
    "entry deleted": lambda node, _: _edit(
        node, delete(AccessLogRow).where(AccessLogRow.position == 90)
    ),
    "stored subtree rewritten": lambda node, _: _edit(
        node,
        update(AccessLogSubtreeRow)
        .where(AccessLogSubtreeRow.level == 6, AccessLogSubtreeRow.position == 0)
        .values(hash=bytes(32)),
    ),
    "purged without receipt": lambda node, clock: _edit(
        node,
        update(AccessLogRow)
        .where(AccessLogRow.position == 140)
        .values(subject=None, purged_at=clock()),
    ),
    "tail deleted": lambda node, _: _edit(
        node, delete(AccessLogRow).where(AccessLogRow.position >= 150)
    ),
}


def _summary(report: access_log_check.VerifyReport) -> dict[str, Any]:
    return {
        "problems": report.problems,
        "first_bad_entry": report.first_bad_entry,
        "entries": report.entries,
        "purged": report.purged,
        "heads_checked": report.heads_checked,
        "published_sequence": report.published_sequence,
    }


@pytest.mark.parametrize("tampering", list(TAMPERING))
def test_workers_report_what_one_process_reports(
    node: ServiceContext, clock: FixedClock, monkeypatch: pytest.MonkeyPatch, tampering: str
) -> None:
    _log(node, clock)
    TAMPERING[tampering](node, clock)
    monkeypatch.setattr(access_log_check, "PARALLEL_MIN_ENTRIES", 10**12)
    expected = _summary(audit.verify(node))
    assert (expected["problems"] == []) == (tampering == "none"), expected["problems"]
    used: list[int] = []
    scan = access_log_check.scan_ranges

    def counted(*args: Any, **kwargs: Any) -> Any:
        used.append(args[2])
        return scan(*args, **kwargs)

    monkeypatch.setattr(access_log_check, "PARALLEL_MIN_ENTRIES", 1)
    monkeypatch.setattr(access_log_check, "scan_ranges", counted)
    # Ranges of 4 (stored level-6 subtrees checked by the parent) and of 64 (by the workers).
    for level in (2, 6):
        monkeypatch.setattr(access_log_check, "RANGE_LEVEL", level)
        assert _summary(audit.verify(node)) == expected, level
    assert used == [2, 6]
