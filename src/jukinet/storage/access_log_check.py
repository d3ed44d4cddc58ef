"""The whole-log check behind ``jukinet audit verify``: entries, tree, heads, chain and end.

Every entry is re-hashed from its stored values, the tree is rebuilt against the stored
subtrees and the state row, and every signed head is checked — its signature, its root, and
(for chained heads) its place in the chain of heads. Two checks look at what is *not* there:
no signed head may be missing from the chain or behind the latest head the node recorded outside
the database (``published``), and a signed head must cover the log's last entry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any, Final

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from jukinet.domain.access_log import Action, canonical_bytes, timestamp_text
from jukinet.domain.audit_math import (
    GENESIS_HEAD_HASH,
    CompleteSubtree,
    MerkleFrontier,
    SignedTreeHead,
    leaf_hash,
    tree_head_hash,
)
from jukinet.storage.access_log import (
    STORED_LEVEL,
    STORED_VALUE_COLUMNS,
    head_signature_valid,
    log_size,
    purge_range_digest,
    tree_heads,
)
from jukinet.storage.tables import AccessLogRow, AccessLogSubtreeRow, table_of

_LOG: Final = table_of(AccessLogRow)
_SUBTREES: Final = table_of(AccessLogSubtreeRow)
_ITEMS: Final = STORED_VALUE_COLUMNS.index("items")


@dataclass
class VerifyReport:
    """What ``jukinet audit verify`` found; ``ok`` only when nothing is wrong."""

    entries: int = 0
    purged: int = 0
    heads_checked: int = 0
    #: Sequence number of the latest head the node recorded outside the database, if any.
    published_sequence: int | None = None
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


# What verify reads, as plain tuples: position, leaf hash, purged at, recorded at, then the
# stored values in the canonical order. Index access on a tuple, not attribute access on a
# SQLAlchemy row (≈ 1 µs each): verify reads every entry of the log.
_VERIFY_COLUMNS: Final = (
    _LOG.c.position,
    _LOG.c.leaf_hash,
    _LOG.c.purged_at,
    _LOG.c.recorded_at,
    *(_LOG.c[name] for name in STORED_VALUE_COLUMNS),
)
_ACTION: Final = 4 + STORED_VALUE_COLUMNS.index("action")


def _stream(session: Session, chunk: int) -> Iterator[tuple[Any, ...]]:
    connection = session.connection()
    last = -1
    while True:
        rows = connection.execute(
            select(*_VERIFY_COLUMNS)
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
) -> VerifyReport:
    """Recompute every leaf from its entry, rebuild the tree and check it against the stored
    subtrees, the state row and every signed head; name the first bad entry.

    An entry whose content no longer gives its leaf hash was altered. An entry altered together
    with its leaf hash shows up as a stored subtree or a signed head that no longer matches; the
    report then names the first entry of the smallest range that could hold the change.

    Deletions show too: a chained head missing from the sequence, fewer heads stored than the
    ``published`` record (the latest head the node keeps outside the database) says were signed,
    and entries at the log's end that no valid signed head covers.
    """
    report = VerifyReport()
    all_heads = tree_heads(session)
    heads = {head.tree_size: head for head in all_heads}
    stored_subtrees = {
        (row.level, row.position): bytes(row.hash)
        for row in session.execute(select(_SUBTREES)).all()
    }
    receipts: list[tuple[int, int, bytes]] = []
    purged_leaves: dict[int, bytes] = {}
    frontier = MerkleFrontier()
    last_good_head = 0
    for row in _stream(session, chunk):
        position = row[0]
        if position != frontier.size:
            report.flag(f"entry {frontier.size} is missing", frontier.size)
            break
        stored = bytes(row[1])
        if row[2] is not None:
            report.purged += 1
            leaf = stored
            purged_leaves[position] = stored
        else:
            recomputed = _recomputed_leaf(row)
            leaf = stored if recomputed is None else recomputed
            if recomputed != stored:
                report.flag(
                    f"entry {position}: its content does not match its leaf hash (altered)",
                    position,
                )
            elif row[_ACTION] == Action.RETENTION.value:
                detail = row[-1]
                receipts.append(
                    (int(detail["first"]), int(detail["end"]), bytes.fromhex(detail["digest"]))
                )
        for finished in frontier.append(leaf):
            _check_subtree(report, finished, stored_subtrees)
        report.entries += 1
        head = heads.get(frontier.size)
        if head is not None:
            last_good_head = _check_head(report, head, frontier, public_key, last_good_head)
        if progress is not None and report.entries % chunk == 0:
            progress(report.entries)
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


def _recomputed_leaf(row: tuple[Any, ...]) -> bytes | None:
    """The leaf hash of a stored row's content (a :data:`_VERIFY_COLUMNS` tuple) as it stands;
    ``None`` if no entry could have been stored like that (a column nulled or retyped by hand)."""
    position, moment, values = row[0], row[3], list(row[4:])
    values[_ITEMS] = values[_ITEMS] or ""
    values[-1] = values[-1] or {}
    try:
        if moment.tzinfo is None:  # SQLite hands back naive datetimes; the log stores UTC
            moment = moment.replace(tzinfo=UTC)
        content = canonical_bytes(position, timestamp_text(moment), values)
    except (AttributeError, TypeError, ValueError, orjson.JSONEncodeError):
        return None
    return leaf_hash(content)


def _check_subtree(
    report: VerifyReport, finished: CompleteSubtree, stored: dict[tuple[int, int], bytes]
) -> None:
    if finished.level < STORED_LEVEL:
        return
    kept = stored.get((finished.level, finished.index))
    if kept != finished.hash:
        report.flag(
            f"stored subtree (level {finished.level}) over entries {finished.start}–"
            f"{finished.end - 1} does not match the entries",
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
