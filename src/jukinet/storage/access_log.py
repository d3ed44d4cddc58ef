"""The access log in the database: appends under one lock, proofs, tree heads, and a full check.

Appends happen inside the caller's transaction — the read being recorded and its entry commit
together or not at all (architecture.md property 1). The log's state row is locked for the rest
of that transaction (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite transactions are already
serialised by ``BEGIN IMMEDIATE``), so positions are dense and the frontier always matches the
entries. Callers append last, just before commit, to keep the lock short.

Complete subtrees at level :data:`STORED_LEVEL` and above are stored; smaller ones are recomputed
from at most ``2**STORED_LEVEL`` leaf hashes, so proofs cost a few dozen small reads whatever
the log's size, and storage overhead is about 1/32 of a row per entry.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Final, TypeVar

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import and_, bindparam, event, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from jukinet.domain.access_log import (
    AccessEntry,
    Action,
    ActorKind,
    Channel,
    canonical_bytes,
    stored_values,
    timestamp_text,
)
from jukinet.domain.audit_math import (
    GENESIS_HEAD_HASH,
    MerkleFrontier,
    SignedTreeHead,
    SubtreeHashSource,
    complete_pieces,
    consistency_proof_from_subtrees,
    fold_pieces,
    inclusion_path_nodes,
    inclusion_proof_from_subtrees,
    leaf_hash,
    merkle_root,
    merkle_root_from_subtrees,
    tree_head_bytes,
    tree_head_hash,
)
from jukinet.storage import bulk
from jukinet.storage.tables import (
    AccessLogRow,
    AccessLogStateRow,
    AccessLogSubtreeRow,
    TreeHeadRow,
    table_of,
)

#: Lowest subtree level kept in ``access_log_subtrees`` (64 leaves).
STORED_LEVEL: Final = 6
_STATE_ID: Final = 1
_T = TypeVar("_T")
_LOG = table_of(AccessLogRow)
#: What the first, listing run of :func:`_prefetched` is given for every subtree's hash.
_STAND_IN: Final = bytes(32)
_SUBTREES = table_of(AccessLogSubtreeRow)
_STATE = table_of(AccessLogStateRow)


# --------------------------------------------------------------------------------------------
# Appending
# --------------------------------------------------------------------------------------------


# Core statements built once, not ORM objects: these run in every logged transaction.
_LOCK_STATE: Final = select(_STATE.c.frontier).where(_STATE.c.id == _STATE_ID).with_for_update()
_SAVE_STATE: Final = (
    update(_STATE)
    .where(_STATE.c.id == _STATE_ID)
    .values(
        size=bindparam("new_size"),
        frontier=bindparam("new_frontier", type_=_STATE.c.frontier.type),
        updated_at=bindparam("new_updated_at", type_=_STATE.c.updated_at.type),
    )
)


def _locked_frontier(session: Session, now: datetime) -> MerkleFrontier:
    statement = _LOCK_STATE
    frontier = session.connection().execute(statement).scalar_one_or_none()
    if frontier is not None:
        return MerkleFrontier.from_dict(frontier)
    # First entry of a new log: create the state row; a concurrent creator wins the race and
    # we lock the row it made.
    empty = MerkleFrontier()
    try:
        with session.begin_nested():
            session.execute(
                insert(_STATE).values(
                    id=_STATE_ID, size=0, frontier=empty.to_dict(), updated_at=now
                )
            )
    except IntegrityError:
        pass
    return MerkleFrontier.from_dict(session.execute(statement).scalar_one())


_CONTENT_COLUMNS: Final = (
    "recorded_at",
    "node",
    "action",
    "channel",
    "actor_kind",
    "actor",
    "subject",
    "affair_code",
    "reason",
    "items",
    "officer",
    "terminal",
    "case_number",
    "job_id",
    "detail",
)

#: The columns holding :func:`~jukinet.domain.access_log.stored_values`, in its order.
STORED_VALUE_COLUMNS: Final = _CONTENT_COLUMNS[1:]
_ITEMS: Final = STORED_VALUE_COLUMNS.index("items")
#: Columns an append writes, in the order of the tuples it builds.
_APPEND_COLUMNS: Final = ("position", *_CONTENT_COLUMNS, "leaf_hash")


def _detail_json(detail: Any) -> str | None:
    return orjson.dumps(detail).decode() if detail else None


def _write_rows(session: Session, rows: list[tuple[Any, ...]]) -> None:
    """Insert log rows through the one bulk writer, in the session's transaction.

    The rows already hold the stored values (the leaf hash covers exactly those bytes); only
    SQLite needs its text form of the timestamp, converted once per distinct moment.
    """
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        dialect = connection.dialect
        to_text = _LOG.c.recorded_at.type.dialect_impl(dialect).bind_processor(dialect)
        converted: dict[datetime, Any] = {}
        prepared = []
        for row in rows:
            moment = row[1]
            stored = converted.get(moment)
            if stored is None:
                stored = converted[moment] = to_text(moment) if to_text else moment
            prepared.append((row[0], stored, *row[2:]))
        rows = prepared
    bulk.insert_prepared(session, _LOG, _APPEND_COLUMNS, rows)


def append_entries(session: Session, entries: Sequence[AccessEntry]) -> list[int]:
    """Append ``entries`` in the caller's transaction; returns their positions.

    Nothing is committed here: the caller commits the read and its entries together.
    """
    if not entries:
        return []
    now = entries[-1].recorded_at
    frontier = _locked_frontier(session, now)
    rows: list[tuple[Any, ...]] = []
    subtrees: list[dict[str, Any]] = []
    first = frontier.size
    stamps: dict[datetime, str] = {}
    for entry in entries:
        position = frontier.size
        moment = entry.recorded_at
        stamp = stamps.get(moment)
        if stamp is None:
            stamp = stamps[moment] = timestamp_text(moment)
        values = stored_values(entry)
        leaf = leaf_hash(canonical_bytes(position, stamp, values))
        for finished in frontier.append(leaf):
            if finished.level >= STORED_LEVEL:
                subtrees.append(
                    {"level": finished.level, "position": finished.index, "hash": finished.hash}
                )
        rows.append((position, moment, *values[:-1], _detail_json(values[-1]), leaf))
    _write_rows(session, rows)
    if subtrees:
        session.execute(insert(_SUBTREES), subtrees)
    session.connection().execute(
        _SAVE_STATE,
        {"new_size": frontier.size, "new_frontier": frontier.to_dict(), "new_updated_at": now},
    )
    return list(range(first, frontier.size))


_PENDING: Final = "jukinet.pending_access"


def record(session: Session, entries: Sequence[AccessEntry]) -> None:
    """Queue entries to be appended when ``session`` commits (in that same transaction).

    The read gateways call this as they read; the append itself waits for the commit so the
    log's lock is held only for the transaction's last moments. A rolled-back transaction
    appends nothing — and provided nothing either.
    """
    session.info.setdefault(_PENDING, []).extend(entries)


def flush_pending(session: Session) -> list[int]:
    """Append the entries queued by :func:`record` now; returns their positions."""
    entries: list[AccessEntry] = session.info.pop(_PENDING, [])
    return append_entries(session, entries)


@event.listens_for(Session, "before_commit")
def _append_on_commit(session: Session) -> None:
    if session.info.get(_PENDING):
        flush_pending(session)


@event.listens_for(Session, "after_rollback")
def _forget_on_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)


def log_size(session: Session) -> int:
    """Number of entries appended so far (purged ones included)."""
    size = session.scalar(select(AccessLogStateRow.size).where(AccessLogStateRow.id == _STATE_ID))
    return int(size or 0)


# --------------------------------------------------------------------------------------------
# Reading entries back
# --------------------------------------------------------------------------------------------


def entry_of_row(row: Any) -> AccessEntry:
    """The :class:`AccessEntry` an un-purged ``access_log`` row holds."""
    recorded_at: datetime = row.recorded_at
    if recorded_at.tzinfo is None:  # SQLite hands back naive datetimes; the log stores UTC
        recorded_at = recorded_at.replace(tzinfo=UTC)
    return AccessEntry(
        recorded_at=recorded_at,
        node=row.node,
        action=Action(row.action),
        channel=Channel(row.channel),
        actor_kind=ActorKind(row.actor_kind),
        actor=row.actor,
        subject=row.subject,
        affair_code=row.affair_code,
        reason=row.reason,
        items=tuple(row.items.split(",")) if row.items else (),
        officer=row.officer,
        terminal=row.terminal,
        case_number=row.case_number,
        job_id=row.job_id,
        detail=row.detail or {},
    )


def entries_about(
    session: Session, subject: str, *, below: int | None = None
) -> list[tuple[int, AccessEntry]]:
    """Every retained entry about resident ``subject``, oldest first (only those at positions
    ``< below`` when given: the entries a head of that size covers)."""
    query = select(_LOG).where(_LOG.c.subject == subject)
    if below is not None:
        query = query.where(_LOG.c.position < below)
    rows = session.execute(query.order_by(_LOG.c.position)).all()
    return [(row.position, entry_of_row(row)) for row in rows if row.purged_at is None]


# --------------------------------------------------------------------------------------------
# Subtrees, roots and proofs
# --------------------------------------------------------------------------------------------


def subtree_source(session: Session) -> Callable[[int, int], bytes]:
    """A :data:`~jukinet.domain.audit_math.SubtreeHashSource` over the stored log."""

    def get(start: int, end: int) -> bytes:
        width = end - start
        level = width.bit_length() - 1
        if level >= STORED_LEVEL:
            found = session.scalar(
                select(_SUBTREES.c.hash).where(
                    _SUBTREES.c.level == level, _SUBTREES.c.position == start >> level
                )
            )
            if found is None:
                msg = f"subtree [{start}, {end}) is missing from access_log_subtrees"
                raise LookupError(msg)
            return bytes(found)
        leaves = session.scalars(
            select(_LOG.c.leaf_hash)
            .where(_LOG.c.position >= start, _LOG.c.position < end)
            .order_by(_LOG.c.position)
        ).all()
        if len(leaves) != width:
            msg = f"leaves [{start}, {end}) are missing from access_log"
            raise LookupError(msg)
        return merkle_root([bytes(leaf) for leaf in leaves])

    return get


def root_at(session: Session, tree_size: int) -> bytes:
    """The Merkle root of the first ``tree_size`` entries, from stored hashes."""
    return _prefetched(session, lambda source: merkle_root_from_subtrees(tree_size, source))


def inclusion_proof(session: Session, position: int, tree_size: int) -> list[bytes]:
    """The audit path of entry ``position`` in the tree of ``tree_size`` entries."""
    return inclusion_proof_from_subtrees(position, tree_size, subtree_source(session))


def _ranges(blocks: Sequence[int]) -> list[tuple[int, int]]:
    """Sorted block numbers as runs ``[first, end)`` of consecutive blocks."""
    runs: list[tuple[int, int]] = []
    for block in blocks:
        if runs and runs[-1][1] == block:
            runs[-1] = (runs[-1][0], block + 1)
        else:
            runs.append((block, block + 1))
    return runs


def _block_leaves(
    session: Session, blocks: Sequence[int], tree_size: int
) -> dict[int, list[bytes]]:
    """The leaf hashes of each of ``blocks`` (sorted), read as runs of consecutive blocks."""
    block_size = 1 << STORED_LEVEL
    found: dict[int, list[bytes]] = {}
    runs = _ranges(blocks)
    for first in range(0, len(runs), 50):
        result = session.connection().execute(
            select(_LOG.c.position, _LOG.c.leaf_hash)
            .where(
                or_(
                    *(
                        and_(
                            _LOG.c.position >= start * block_size,
                            _LOG.c.position < end * block_size,
                        )
                        for start, end in runs[first : first + 50]
                    )
                ),
                _LOG.c.position < tree_size,
            )
            .order_by(_LOG.c.position)
        )
        try:
            # The driver's own tuples: tens of thousands of rows, no Row object made for each.
            rows = result.cursor.fetchall()
        finally:
            result.close()
        for position, leaf in rows:
            found.setdefault(int(position) >> STORED_LEVEL, []).append(bytes(leaf))
    return found


def _stored_subtrees(
    session: Session, wanted: set[tuple[int, int]]
) -> dict[tuple[int, int], bytes]:
    """Stored complete subtrees ``(start, end)`` (level ≥ STORED_LEVEL), a few reads for all."""
    by_level: dict[int, list[int]] = {}
    for start, end in wanted:
        level = (end - start).bit_length() - 1
        by_level.setdefault(level, []).append(start >> level)
    found: dict[tuple[int, int], bytes] = {}
    for level, numbers in sorted(by_level.items()):
        numbers.sort()
        for first in range(0, len(numbers), 500):
            rows = session.execute(
                select(_SUBTREES.c.position, _SUBTREES.c.hash).where(
                    _SUBTREES.c.level == level,
                    _SUBTREES.c.position.in_(numbers[first : first + 500]),
                )
            ).all()
            for number, value in rows:
                start = int(number) << level
                found[(start, start + (1 << level))] = bytes(value)
    missing = wanted - found.keys()
    if missing:
        start, end = min(missing)
        msg = f"subtree [{start}, {end}) is missing from access_log_subtrees"
        raise LookupError(msg)
    return found


def _inner(children: bytes) -> bytes:
    # node_hash without its checks, for the blocks' inner loop: the leaves read are 32 bytes.
    return hashlib.sha256(b"\x01" + children).digest()


def inclusion_proofs(session: Session, positions: list[int], tree_size: int) -> list[list[bytes]]:
    """The audit paths of many entries in one tree (a disclosure's), sharing their reads.

    A proof's shape depends only on its position and the size: the nodes every proof needs are
    listed first, and the complete subtrees they fold from are read together — those at
    :data:`STORED_LEVEL` and above in one query per level, the leaf blocks below it as runs of
    consecutive blocks — so a thousand proofs cost a handful of reads, and each node shared by
    many proofs is computed once.
    """
    paths = [inclusion_path_nodes(position, tree_size) for position in positions]
    pieces = {node: complete_pieces(*node) for path in paths for node in path}
    cache = _subtrees(session, {piece for found in pieces.values() for piece in found})
    hashes = {node: fold_pieces([cache[p] for p in found]) for node, found in pieces.items()}
    return [[hashes[node] for node in path] for path in paths]


def consistency_proof(session: Session, old_size: int, new_size: int) -> list[bytes]:
    """The proof that the tree of ``new_size`` entries extends the one of ``old_size``."""
    return _prefetched(
        session, lambda source: consistency_proof_from_subtrees(old_size, new_size, source)
    )


def _prefetched(session: Session, compute: Callable[[SubtreeHashSource], _T]) -> _T:
    """``compute`` over the stored log, its subtrees read together rather than one query each.

    Which subtrees a root or proof needs depends only on the sizes and positions, never on
    the hashes: a first run with a stand-in for every hash lists them, they are read in a few
    queries, and the second run gets them from memory.
    """
    wanted: set[tuple[int, int]] = set()

    def listed(start: int, end: int) -> bytes:
        wanted.add((start, end))
        return _STAND_IN

    compute(listed)
    found = _subtrees(session, wanted)
    return compute(lambda start, end: found[(start, end)])


def _subtrees(session: Session, wanted: set[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    """The hashes of the complete subtrees ``wanted``: stored ones read per level, smaller
    ones computed from their leaf blocks."""
    stored = {piece for piece in wanted if piece[1] - piece[0] >= 1 << STORED_LEVEL}
    cache = _stored_subtrees(session, stored)
    small = sorted({piece[0] >> STORED_LEVEL for piece in wanted - stored})
    tree_size = max((end for _start, end in wanted), default=0)
    for block, leaves in _block_leaves(session, small, tree_size).items():
        level = leaves
        width, base = 1, block << STORED_LEVEL
        while level:
            for offset, value in enumerate(level):
                cache[(base + offset * width, base + (offset + 1) * width)] = value
            level = [_inner(level[i] + level[i + 1]) for i in range(0, len(level) - 1, 2)]
            width *= 2
    missing = wanted - cache.keys()
    if missing:
        start, end = min(missing)
        msg = f"leaves [{start}, {end}) are missing from access_log"
        raise LookupError(msg)
    return cache


# --------------------------------------------------------------------------------------------
# Signed tree heads
# --------------------------------------------------------------------------------------------


def _head_of(row: TreeHeadRow) -> SignedTreeHead:
    return SignedTreeHead(
        tree_size=row.tree_size,
        root_hash=bytes(row.root_hash),
        timestamp=row.timestamp,
        signature=bytes(row.signature),
        signer=row.signer,
        sequence=row.sequence,
        previous_hash=None if row.previous_hash is None else bytes(row.previous_hash),
    )


def latest_tree_head(session: Session) -> SignedTreeHead | None:
    """The most recent signed tree head, if any was published."""
    row = session.scalars(select(TreeHeadRow).order_by(TreeHeadRow.tree_size.desc())).first()
    return None if row is None else _head_of(row)


def tree_head(session: Session, tree_size: int) -> SignedTreeHead | None:
    """The signed head published at exactly ``tree_size``, if any."""
    row = session.get(TreeHeadRow, tree_size)
    return None if row is None else _head_of(row)


def tree_heads(session: Session) -> list[SignedTreeHead]:
    """Every published head, smallest first."""
    rows = session.scalars(select(TreeHeadRow).order_by(TreeHeadRow.tree_size)).all()
    return [_head_of(row) for row in rows]


class HeadsBehindRecord(RuntimeError):
    """The stored tree heads lack the latest head the node published: heads were deleted (or
    the database was put back to an older state). The node signs nothing over such a log."""


def sign_tree_head(
    session: Session,
    *,
    signer: str,
    key: Ed25519PrivateKey,
    now: datetime,
    published: SignedTreeHead | None = None,
) -> SignedTreeHead:
    """Sign and store a head over the whole log as it stands; reuse the last one if unchanged.

    The new head is chained: it carries the next sequence number and the hash of the head
    before it. ``published`` is the latest head the node recorded outside the database; if the
    stored heads no longer include it, :class:`HeadsBehindRecord` is raised instead of signing
    (a node never vouches for a log whose published heads were cut). The root comes from the
    locked state's frontier, which must agree with the stored subtrees (checked: a tampered
    frontier is refused rather than signed).
    """
    frontier = _locked_frontier(session, now)
    if published is not None and published.sequence is not None:
        stored = session.scalars(
            select(TreeHeadRow).where(TreeHeadRow.sequence == published.sequence)
        ).first()
        if stored is None or _head_of(stored) != published:
            msg = (
                f"the stored tree heads lack published head #{published.sequence}; "
                "run `jukinet audit verify`"
            )
            raise HeadsBehindRecord(msg)
    size = frontier.size
    latest = latest_tree_head(session)
    if latest is not None and latest.tree_size == size:
        return latest
    root = frontier.root()
    if size and root != root_at(session, size):
        msg = "the access log's frontier does not match its stored tree; run `jukinet audit verify`"
        raise RuntimeError(msg)
    sequence = 0 if latest is None or latest.sequence is None else latest.sequence + 1
    previous = GENESIS_HEAD_HASH if latest is None else tree_head_hash(latest)
    timestamp = timestamp_text(now)
    signed = tree_head_bytes(
        signer=signer,
        tree_size=size,
        root_hash=root,
        timestamp=timestamp,
        sequence=sequence,
        previous_hash=previous,
    )
    head = SignedTreeHead(
        tree_size=size,
        root_hash=root,
        timestamp=timestamp,
        signature=key.sign(signed),
        signer=signer,
        sequence=sequence,
        previous_hash=previous,
    )
    session.add(
        TreeHeadRow(
            tree_size=head.tree_size,
            root_hash=head.root_hash,
            timestamp=head.timestamp,
            signer=head.signer,
            signature=head.signature,
            sequence=head.sequence,
            previous_hash=head.previous_hash,
        )
    )
    session.flush()
    return head


def head_signature_valid(head: SignedTreeHead, public_key: Ed25519PublicKey) -> bool:
    """Whether ``head`` is signed by ``public_key``."""
    try:
        public_key.verify(head.signature, head.signed_bytes())
    except InvalidSignature:
        return False
    return True


# --------------------------------------------------------------------------------------------
# Retention
# --------------------------------------------------------------------------------------------


def purge_range_digest(leaf_hashes: Sequence[bytes]) -> bytes:
    """SHA-256 over the concatenated leaf hashes of a purged range (kept in its receipt)."""
    digest = hashlib.sha256()
    for leaf in leaf_hashes:
        digest.update(leaf)
    return digest.digest()


def receipt_bytes(*, node: str, first: int, end: int, before: str, digest: bytes) -> bytes:
    """The bytes a deletion receipt's signature covers."""
    return f"jukinet-retention-v1\n{node}\n{first}\n{end}\n{before}\n{digest.hex()}\n".encode()


def purgeable_end(session: Session, before: datetime) -> tuple[int, int]:
    """``(first, end)``: the not-yet-purged entries recorded before ``before``.

    Entries are in time order, so they form one range from the first un-purged position.
    """
    first = session.scalar(
        select(_LOG.c.position).where(_LOG.c.purged_at.is_(None)).order_by(_LOG.c.position).limit(1)
    )
    if first is None:
        return 0, 0
    end = session.scalar(
        select(_LOG.c.position)
        .where(_LOG.c.position >= first, _LOG.c.recorded_at >= before)
        .order_by(_LOG.c.position)
        .limit(1)
    )
    if end is None:
        end = log_size(session)
    return int(first), int(end)


def purge_range(session: Session, first: int, end: int, *, now: datetime) -> bytes:
    """Clear the content of entries ``[first, end)``, keeping their leaf hashes; return the
    digest of those leaf hashes for the receipt."""
    leaves = session.scalars(
        select(_LOG.c.leaf_hash)
        .where(_LOG.c.position >= first, _LOG.c.position < end)
        .order_by(_LOG.c.position)
    ).all()
    cleared = dict.fromkeys(_CONTENT_COLUMNS)
    session.execute(
        update(_LOG)
        .where(_LOG.c.position >= first, _LOG.c.position < end)
        .values(**cleared, purged_at=now)
    )
    return purge_range_digest([bytes(leaf) for leaf in leaves])
