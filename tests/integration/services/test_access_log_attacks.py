"""Cutting or rewriting the access log behind ``audit verify``'s back (issue 11, finding 4).

Each test is an insider with write access to the database — but not to the node's signing key,
which lives apart from it — who deletes or rewrites entries and signed heads, as carefully as
the schema allows (the state row's frontier recomputed, no stored subtree left to contradict).
``audit.verify`` must fail every time. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import delete, func, select, update

from jukinet.config import SettingsError
from jukinet.domain.access_log import entry_leaf_hash
from jukinet.domain.audit_math import MerkleFrontier
from jukinet.services import audit, reading
from jukinet.services.context import ServiceContext
from jukinet.storage import access_log as store
from jukinet.storage.tables import AccessLogRow, AccessLogStateRow, TreeHeadRow
from tests.support.clock import FixedClock
from tests.support.factories import make_actor, move_in_household, person

NO_HEAD_AT_END = "no signed head covers the log's end"
FEWER_HEADS = "fewer heads than published"


def _grow(node: ServiceContext, reads: int) -> str:
    """A resident moved in and ``reads`` counter reads of them (1 + reads entries)."""
    clerk = make_actor(node, username="clerk1")
    code = move_in_household(node, clerk, person()).records[0].record.resident_code
    _read(node, code, reads)
    return code


def _read(node: ServiceContext, code: str, times: int) -> None:
    clerk = make_actor(node, username=f"clerk-{_size(node)}")
    for _ in range(times):
        reading.read_resident(node, actor=clerk, resident_code=code)


def _size(node: ServiceContext) -> int:
    with node.uow() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(AccessLogRow)) or 0)


def _head_count(node: ServiceContext) -> int:
    with node.uow() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(TreeHeadRow)) or 0)


def _cut_log(node: ServiceContext, keep: int) -> None:
    """Delete every entry from ``keep`` on and make the state row agree (a careful forger)."""
    with node.uow() as uow:
        uow.session.execute(delete(AccessLogRow).where(AccessLogRow.position >= keep))
        leaves = uow.session.scalars(
            select(AccessLogRow.leaf_hash).order_by(AccessLogRow.position)
        ).all()
        frontier = MerkleFrontier()
        for leaf in leaves:
            frontier.append(bytes(leaf))
        uow.session.execute(
            update(AccessLogStateRow).values(size=frontier.size, frontier=frontier.to_dict())
        )
        uow.commit()


def _rewrite_entry(node: ServiceContext, position: int, actor: str) -> None:
    """Rewrite one entry together with its leaf hash and the state row's frontier."""
    with node.uow() as uow:
        row = uow.session.get(AccessLogRow, position)
        assert row is not None
        forged = dataclasses.replace(store.entry_of_row(row), actor=actor)
        row.actor = actor
        row.leaf_hash = entry_leaf_hash(position, forged)
        uow.session.flush()
        leaves = uow.session.scalars(
            select(AccessLogRow.leaf_hash).order_by(AccessLogRow.position)
        ).all()
        frontier = MerkleFrontier()
        for leaf in leaves:
            frontier.append(bytes(leaf))
        uow.session.execute(update(AccessLogStateRow).values(frontier=frontier.to_dict()))
        uow.commit()


def _problems(node: ServiceContext) -> str:
    report = audit.verify(node)
    assert not report.ok
    return " | ".join(report.problems)


@pytest.mark.usefixtures("verify_path")
def test_entries_no_signed_head_covers_fail_verify(node: ServiceContext) -> None:
    code = _grow(node, 5)
    audit.publish_tree_head(node)
    assert audit.verify(node).ok
    _read(node, code, 3)  # recorded after the last head, and no head signed since
    report = audit.verify(node)
    assert not report.ok
    assert NO_HEAD_AT_END in " ".join(report.problems)
    assert report.first_bad_entry == 6  # the first entry no head covers


@pytest.mark.usefixtures("verify_path")
def test_an_unsigned_log_fails_verify(node: ServiceContext) -> None:
    _grow(node, 3)  # a node that never signed a head
    report = audit.verify(node)
    assert not report.ok
    assert NO_HEAD_AT_END in " ".join(report.problems)
    assert report.heads_checked == 0


@pytest.mark.usefixtures("verify_path")
def test_deleting_the_tail_a_head_covers_is_caught(node: ServiceContext) -> None:
    code = _grow(node, 5)
    _read(node, code, 3)
    audit.publish_tree_head(node)  # what the schedule does within its interval
    _cut_log(node, 6)
    assert "beyond the stored log" in _problems(node)


@pytest.mark.usefixtures("verify_path")
def test_deleting_the_tail_with_its_heads_is_caught(
    node: ServiceContext, clock: FixedClock
) -> None:
    code = _grow(node, 5)
    audit.publish_tree_head(node)  # size 6
    _read(node, code, 3)
    clock.advance(minutes=1)
    audit.publish_tree_head(node)  # size 9
    with node.uow() as uow:  # the insider deletes the later head and the entries it covers
        uow.session.execute(delete(TreeHeadRow).where(TreeHeadRow.tree_size > 6))
        uow.commit()
    _cut_log(node, 6)
    assert FEWER_HEADS in _problems(node)


@pytest.mark.usefixtures("verify_path")
def test_deleting_every_head_then_rewriting_an_entry_is_caught(
    node: ServiceContext, clock: FixedClock
) -> None:
    _grow(node, 10)
    audit.publish_tree_head(node)
    clock.advance(minutes=1)
    with node.uow() as uow:
        uow.session.execute(delete(TreeHeadRow))
        uow.commit()
    _rewrite_entry(node, 4, "nobody")  # leaf hash and frontier rewritten too
    report = audit.verify(node)
    assert not report.ok
    assert report.heads_checked == 0
    assert FEWER_HEADS in " ".join(report.problems)


@pytest.mark.usefixtures("verify_path")
def test_deleting_a_head_in_the_middle_breaks_the_chain(
    node: ServiceContext, clock: FixedClock
) -> None:
    code = _grow(node, 2)
    for _ in range(3):
        audit.publish_tree_head(node)
        _read(node, code, 2)
        clock.advance(minutes=1)
    last = audit.publish_tree_head(node)
    assert audit.verify(node).ok
    assert _head_count(node) == 4
    with node.uow() as uow:
        uow.session.execute(delete(TreeHeadRow).where(TreeHeadRow.tree_size == 5))
        uow.commit()
    problems = _problems(node)
    assert "signed head #1" in problems
    assert last.tree_size == _size(node)


def test_a_missing_key_is_refused_not_regenerated(node: ServiceContext) -> None:
    _grow(node, 1)
    path = node.settings.audit_key_path
    assert path is not None
    path.unlink(missing_ok=True)
    with pytest.raises(SettingsError, match="audit init-key"):
        audit.publish_tree_head(node)
    with pytest.raises(SettingsError):
        audit.verify(node)
    assert not path.exists()  # nothing silently generated
