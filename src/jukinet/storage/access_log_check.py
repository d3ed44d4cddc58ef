"""The whole-log check behind ``jukinet audit verify``: entries, tree, heads, chain and end.

Every entry is re-hashed from its stored values, the tree is rebuilt against the stored
subtrees and the state row, and every signed head is checked — its signature, its root, and
(for chained heads) its place in the chain of heads. Two checks look at what is *not* there:
no signed head may be missing from the chain or behind the latest head the node recorded outside
the database (``published``), and a signed head must cover the log's last entry.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from typing import Any, Final

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jukinet.domain.audit_math import (
    GENESIS_HEAD_HASH,
    CompleteSubtree,
    MerkleFrontier,
    SignedTreeHead,
    tree_head_hash,
)
from jukinet.storage.access_log import (
    STORED_LEVEL,
    head_signature_valid,
    log_size,
    purge_range_digest,
    tree_heads,
)
from jukinet.storage.access_log_ranges import (
    VERIFY_COLUMNS,
    RangeResult,
    altered_message,
    row_leaf,
    scan_ranges,
    subtree_message,
    verifiable_url,
)
from jukinet.storage.tables import AccessLogRow, AccessLogSubtreeRow, table_of

_LOG: Final = table_of(AccessLogRow)
_SUBTREES: Final = table_of(AccessLogSubtreeRow)
#: Logs of at least this many entries are checked by worker processes (when the database is
#: one other processes can open); smaller ones in this process, where starting workers would
#: cost more than it saves.
PARALLEL_MIN_ENTRIES = 200_000
#: Each worker task checks ``2**RANGE_LEVEL`` entries (one complete subtree of the tree).
RANGE_LEVEL = 16


@dataclass
class VerifyReport:
    """What ``jukinet audit verify`` found; ``ok`` only when nothing is wrong."""

    entries: int = 0
    purged: int = 0
    heads_checked: int = 0
    #: Sequence number of the latest head the node recorded outside the database, if any.
    published_sequence: int | None = None
    #: CPU seconds spent in worker processes (0 when the log was checked in this process).
    worker_cpu_seconds: float = 0.0
    problems: list[str] = field(default_factory=list)
    _exact: int | None = None
    _range_start: int | None = None

    @property
    def ok(self) -> bool:
        """Whether the log verified completely."""
        return not self.problems

    @property
    def first_bad_entry(self) -> int | None:
        """The first entry known to be bad; else the start of the first range that must hold
        a bad entry (an entry rewritten together with its hash); ``None`` when all is well."""
        return self._exact if self._exact is not None else self._range_start

    def flag(self, problem: str, position: int | None = None, *, exact: bool = True) -> None:
        """Record a problem about entry ``position`` (or a range starting there)."""
        self.problems.append(problem)
        if position is None:
            return
        if exact:
            self._exact = position if self._exact is None else min(self._exact, position)
        else:
            start = self._range_start
            self._range_start = position if start is None else min(start, position)


def _stream(session: Session, chunk: int) -> Iterator[tuple[Any, ...]]:
    connection = session.connection()
    last = -1
    while True:
        rows = connection.execute(
            select(*VERIFY_COLUMNS)
            .where(_LOG.c.position > last)
            .order_by(_LOG.c.position)
            .limit(chunk)
        ).all()
        if not rows:
            return
        for row in rows:
            yield tuple(row)
        last = rows[-1][0]


def verify_log(
    session: Session,
    *,
    public_key: Ed25519PublicKey | None,
    published: SignedTreeHead | None = None,
    chunk: int = 20_000,
    progress: Callable[[int], None] | None = None,
    workers: int | None = None,
) -> VerifyReport:
    """Recompute every leaf from its entry, rebuild the tree and check it against the stored
    subtrees, the state row and every signed head; name the first bad entry.

    An entry whose content no longer gives its leaf hash was altered. An entry altered together
    with its leaf hash shows up as a stored subtree or a signed head that no longer matches; the
    report then names the first entry of the smallest range that could hold the change.

    Deletions show too: a chained head missing from the sequence, fewer heads stored than the
    ``published`` record (the latest head the node keeps outside the database) says were signed,
    and entries at the log's end that no valid signed head covers.

    A log of :data:`PARALLEL_MIN_ENTRIES` or more in a database other processes can open is
    checked by ``workers`` processes (default: one per CPU), range by range
    (:mod:`jukinet.storage.access_log_ranges`); the report is the same either way.
    """
    report = VerifyReport()
    all_heads = tree_heads(session)
    heads = {head.tree_size: head for head in all_heads}
    url = session.connection().engine.url.render_as_string(hide_password=False)
    last = session.scalar(select(func.max(_LOG.c.position)))
    if last is not None and last + 1 >= PARALLEL_MIN_ENTRIES and verifiable_url(url):
        level = RANGE_LEVEL
        stored_subtrees = _stored_subtrees(session, above=level)
        parts = scan_ranges(url, last, level, sorted(heads), workers or os.cpu_count() or 1)
        with closing(parts):
            frontier, last_good_head, receipts, purged_leaves = _fold(
                report, parts, level, heads, stored_subtrees, public_key, progress
            )
    else:
        frontier, last_good_head, receipts, purged_leaves = _one_process(
            report, session, heads, public_key, chunk, progress
        )
    _check_receipts(report, receipts, purged_leaves)
    state_size = log_size(session)
    if state_size != frontier.size:
        report.flag(f"the log's state says {state_size} entries but {frontier.size} are stored")
    for size in heads:
        if size > frontier.size:
            report.flag(f"signed head at size {size} is beyond the stored log ({frontier.size})")
    _check_chain(report, all_heads)
    _check_published(report, all_heads, published, public_key)
    if frontier.size > last_good_head:
        report.flag(
            f"no signed head covers the log's end: entries {last_good_head}–{frontier.size - 1} "
            "are covered by no valid signed head (a running node signs within its interval; "
            "entries recorded since then, or after heads were cut, are unprotected)",
            last_good_head,
            exact=False,
        )
    return report


_Walk = tuple[MerkleFrontier, int, list[tuple[int, int, bytes]], dict[int, bytes]]


def _stored_subtrees(session: Session, *, above: int = -1) -> dict[tuple[int, int], bytes]:
    return {
        (row.level, row.position): bytes(row.hash)
        for row in session.execute(select(_SUBTREES).where(_SUBTREES.c.level > above)).all()
    }


def _one_process(
    report: VerifyReport,
    session: Session,
    heads: dict[int, SignedTreeHead],
    public_key: Ed25519PublicKey | None,
    chunk: int,
    progress: Callable[[int], None] | None,
) -> _Walk:
    """Every entry in this process, in position order (small logs, in-memory databases)."""
    stored_subtrees = _stored_subtrees(session)
    receipts: list[tuple[int, int, bytes]] = []
    purged_leaves: dict[int, bytes] = {}
    frontier = MerkleFrontier()
    last_good_head = 0
    for row in _stream(session, chunk):
        position = row[0]
        if position != frontier.size:
            report.flag(f"entry {frontier.size} is missing", frontier.size)
            break
        if row[2] is not None:
            report.purged += 1
            leaf = bytes(row[1])
            purged_leaves[position] = leaf
        else:
            leaf, altered, receipt = row_leaf(row)
            if altered:
                report.flag(altered_message(position), position)
            elif receipt is not None:
                receipts.append(receipt)
        for finished in frontier.append(leaf):
            _check_subtree(report, finished, stored_subtrees)
        report.entries += 1
        head = heads.get(frontier.size)
        if head is not None:
            last_good_head = _check_head(report, head, frontier, public_key, last_good_head)
        if progress is not None and report.entries % chunk == 0:
            progress(report.entries)
    return frontier, last_good_head, receipts, purged_leaves


def _fold(
    report: VerifyReport,
    parts: Iterable[RangeResult],
    level: int,
    heads: dict[int, SignedTreeHead],
    stored_subtrees: dict[tuple[int, int], bytes],
    public_key: Ed25519PublicKey | None,
    progress: Callable[[int], None] | None,
) -> _Walk:
    """The workers' ranges, in order, into the same report :func:`_one_process` gives: their
    findings and the heads ending in them in position order, the subtrees above a range's level
    here, and the walk stopped at the first missing entry."""
    receipts: list[tuple[int, int, bytes]] = []
    purged_leaves: dict[int, bytes] = {}
    frontier = MerkleFrontier()
    last_good = 0
    stopped: int | None = None
    for part in parts:
        if stopped is not None:
            if part.rows or part.more:  # an entry after the run that ended: one is missing
                report.flag(f"entry {stopped} is missing", stopped)
                break
            continue
        end = part.start + part.rows
        findings = iter(part.findings)
        finding = next(findings, None)
        for size in sorted(s for s in heads if part.start < s <= end):
            while finding is not None and finding[0] < size:
                report.flag(finding[2], finding[3], exact=finding[4])
                finding = next(findings, None)
            if size == end:
                break
            at_head = frontier.copy()
            for depth, value in part.pieces[size - part.start]:
                at_head.append_subtree(depth, value)
            last_good = _check_head(report, heads[size], at_head, public_key, last_good)
        while finding is not None:
            report.flag(finding[2], finding[3], exact=finding[4])
            finding = next(findings, None)
        for depth, value in part.pieces.get(part.rows, ()):
            for finished in frontier.append_subtree(depth, value):
                if finished.level > level:
                    _check_subtree(report, finished, stored_subtrees)
        if part.rows and end in heads:
            last_good = _check_head(report, heads[end], frontier, public_key, last_good)
        report.entries += part.rows
        report.purged += part.purged
        report.worker_cpu_seconds += part.cpu_seconds
        receipts.extend(part.receipts)
        purged_leaves.update(part.purged_leaves)
        if progress is not None:
            progress(report.entries)
        if part.more:
            report.flag(f"entry {end} is missing", end)
            break
        if part.rows < 1 << level:
            stopped = end
    return frontier, last_good, receipts, purged_leaves


def _check_chain(report: VerifyReport, heads: list[SignedTreeHead]) -> None:
    """Chained heads must be numbered 0, 1, 2 … with no gap, each naming the one before it
    (the first names the last head signed before the chain, or :data:`GENESIS_HEAD_HASH`)."""
    unchained = [head for head in heads if head.sequence is None]
    chained = sorted(
        (head for head in heads if head.sequence is not None), key=lambda h: h.sequence or 0
    )
    before = tree_head_hash(unchained[-1]) if unchained else GENESIS_HEAD_HASH
    previous: SignedTreeHead | None = None
    for expected, head in enumerate(chained):
        covered = 0 if previous is None else previous.tree_size
        if head.sequence != expected:
            report.flag(
                f"signed head #{expected} is missing: the stored heads jump from "
                f"#{expected - 1} to #{head.sequence} (published heads were deleted)",
                covered,
                exact=False,
            )
            return
        link = before if previous is None else tree_head_hash(previous)
        if head.previous_hash != link or (previous and head.tree_size <= previous.tree_size):
            report.flag(
                f"signed head #{expected} (size {head.tree_size}) does not follow the head "
                "before it",
                covered,
                exact=False,
            )
            return
        previous = head


def _check_published(
    report: VerifyReport,
    heads: list[SignedTreeHead],
    published: SignedTreeHead | None,
    public_key: Ed25519PublicKey | None,
) -> None:
    """The latest head the node recorded outside the database must still be stored, unchanged."""
    if published is None or published.sequence is None:
        return
    report.published_sequence = published.sequence
    if public_key is not None and not head_signature_valid(published, public_key):
        report.flag("the record of the latest published head has a bad signature")
        return
    stored = next((head for head in heads if head.sequence == published.sequence), None)
    if stored == published:
        return
    chained = [head for head in heads if head.sequence is not None]
    covered = max((head.tree_size for head in chained), default=0)
    if stored is None:
        report.flag(
            f"fewer heads than published: head #{published.sequence} (size "
            f"{published.tree_size}) was published, but the database holds {len(chained)} "
            "chained heads without it (heads were deleted, or the database was restored)",
            min(covered, published.tree_size),
            exact=False,
        )
        return
    report.flag(
        f"signed head #{published.sequence} in the database differs from the one published",
        min(covered, published.tree_size),
        exact=False,
    )


def _check_subtree(
    report: VerifyReport, finished: CompleteSubtree, stored: dict[tuple[int, int], bytes]
) -> None:
    if finished.level < STORED_LEVEL:
        return
    kept = stored.get((finished.level, finished.index))
    if kept != finished.hash:
        report.flag(
            subtree_message(finished.level, finished.start, finished.end),
            finished.start,
            exact=False,
        )


def _check_head(
    report: VerifyReport,
    head: SignedTreeHead,
    frontier: MerkleFrontier,
    public_key: Ed25519PublicKey | None,
    last_good: int,
) -> int:
    report.heads_checked += 1
    if public_key is not None and not head_signature_valid(head, public_key):
        report.flag(f"signed head at size {head.tree_size}: bad signature")
        return last_good
    if head.root_hash != frontier.root():
        report.flag(
            f"signed head at size {head.tree_size} does not match the entries: an entry "
            f"between {last_good} and {head.tree_size - 1} was altered",
            last_good,
            exact=False,
        )
        return last_good
    return head.tree_size


def _check_receipts(
    report: VerifyReport,
    receipts: list[tuple[int, int, bytes]],
    purged_leaves: dict[int, bytes],
) -> None:
    covered: set[int] = set()
    for first, end, digest in receipts:
        leaves = [purged_leaves.get(position) for position in range(first, end)]
        if (
            any(leaf is None for leaf in leaves)
            or purge_range_digest([leaf for leaf in leaves if leaf is not None]) != digest
        ):
            report.flag(f"deletion receipt for entries {first}–{end - 1} does not match", first)
        covered.update(range(first, end))
    for position in sorted(set(purged_leaves) - covered)[:1]:
        report.flag(f"entry {position} was deleted without a deletion receipt", position)
