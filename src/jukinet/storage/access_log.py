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
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import bindparam, event, insert, select, update
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
    CompleteSubtree,
    MerkleFrontier,
    SignedTreeHead,
    consistency_proof_from_subtrees,
    inclusion_proof_from_subtrees,
    leaf_hash,
    merkle_root,
    merkle_root_from_subtrees,
    tree_head_bytes,
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
_LOG = table_of(AccessLogRow)
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
_STORED_VALUES: Final = _CONTENT_COLUMNS[1:]
_ITEMS: Final = _STORED_VALUES.index("items")
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


def entries_about(session: Session, subject: str) -> list[tuple[int, AccessEntry]]:
    """Every retained entry about resident ``subject``, oldest first."""
    rows = session.execute(
        select(_LOG).where(_LOG.c.subject == subject).order_by(_LOG.c.position)
    ).all()
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
    return merkle_root_from_subtrees(tree_size, subtree_source(session))


def inclusion_proof(session: Session, position: int, tree_size: int) -> list[bytes]:
    """The audit path of entry ``position`` in the tree of ``tree_size`` entries."""
    return inclusion_proof_from_subtrees(position, tree_size, subtree_source(session))


def consistency_proof(session: Session, old_size: int, new_size: int) -> list[bytes]:
    """The proof that the tree of ``new_size`` entries extends the one of ``old_size``."""
    return consistency_proof_from_subtrees(old_size, new_size, subtree_source(session))


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


def sign_tree_head(
    session: Session, *, signer: str, key: Ed25519PrivateKey, now: datetime
) -> SignedTreeHead:
    """Sign and store a head over the whole log as it stands; reuse the last one if unchanged.

    The root comes from the locked state's frontier, which must agree with the stored subtrees
    (checked: a tampered frontier is refused rather than signed).
    """
    frontier = _locked_frontier(session, now)
    size = frontier.size
    latest = latest_tree_head(session)
    if latest is not None and latest.tree_size == size:
        return latest
    root = frontier.root()
    if size and root != root_at(session, size):
        msg = "the access log's frontier does not match its stored tree; run `jukinet audit verify`"
        raise RuntimeError(msg)
    timestamp = timestamp_text(now)
    signature = key.sign(
        tree_head_bytes(signer=signer, tree_size=size, root_hash=root, timestamp=timestamp)
    )
    head = SignedTreeHead(
        tree_size=size,
        root_hash=root,
        timestamp=timestamp,
        signature=signature,
        signer=signer,
    )
    session.add(
        TreeHeadRow(
            tree_size=head.tree_size,
            root_hash=head.root_hash,
            timestamp=head.timestamp,
            signer=head.signer,
            signature=head.signature,
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


# --------------------------------------------------------------------------------------------
# Verification of a whole log
# --------------------------------------------------------------------------------------------


@dataclass
class VerifyReport:
    """What ``jukinet audit verify`` found; ``ok`` only when nothing is wrong."""

    entries: int = 0
    purged: int = 0
    heads_checked: int = 0
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
    *(_LOG.c[name] for name in _STORED_VALUES),
)
_ACTION: Final = 4 + _STORED_VALUES.index("action")


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
    chunk: int = 20_000,
    progress: Callable[[int], None] | None = None,
) -> VerifyReport:
    """Recompute every leaf from its entry, rebuild the tree and check it against the stored
    subtrees, the state row and every signed head; name the first bad entry.

    An entry whose content no longer gives its leaf hash was altered. An entry altered together
    with its leaf hash shows up as a stored subtree or a signed head that no longer matches; the
    report then names the first entry of the smallest range that could hold the change.
    """
    report = VerifyReport()
    heads = {head.tree_size: head for head in tree_heads(session)}
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
    return report


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
