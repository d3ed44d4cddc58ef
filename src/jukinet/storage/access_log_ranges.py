"""One aligned range of the access log, checked in a worker process for ``audit verify``.

A whole-log verify re-hashes every entry; on a log of tens of millions that is minutes of
Python per row. :func:`scan_ranges` splits positions ``0 .. n - 1`` into ranges of
``2**level`` entries (aligned, so each full range is one complete subtree of the log's tree),
and worker processes — each with its own connection from the database URL — read a range with
the bare driver, recompute every leaf, hash the range's subtrees and check the stored ones
inside it. What a worker returns is small: the problems it found (with the position after whose
leaf the one-process check would have found them), purged leaves and deletion receipts, and for
each signed head that ends inside the range the range's part of that head's frontier. The
parent (:mod:`jukinet.storage.access_log_check`) folds the ranges in order and does the rest
exactly as the one-process check does, so both give the same report.

A row is first hashed on a fast path (the driver's values, the stored timestamp text turned
into the canonical one without building a ``datetime``); only when that does not give the
stored leaf is the row read again through SQLAlchemy and judged by the one-process code
(:func:`row_leaf`), so the fast path can never accept what the slow one would refuse.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import re
import time
from collections.abc import Generator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

import orjson
from sqlalchemy import Connection, Engine, bindparam, select
from sqlalchemy.engine import make_url

from jukinet.domain.access_log import ENTRY_FORMAT, Action, canonical_bytes, timestamp_text
from jukinet.domain.audit_math import leaf_hash, subtree_levels
from jukinet.storage.access_log import STORED_LEVEL, STORED_VALUE_COLUMNS
from jukinet.storage.database import READ_ONLY, make_engine
from jukinet.storage.tables import AccessLogRow, AccessLogSubtreeRow, table_of

_LOG: Final = table_of(AccessLogRow)
_SUBTREES: Final = table_of(AccessLogSubtreeRow)
_ITEMS: Final = STORED_VALUE_COLUMNS.index("items")

# What verify reads, as plain tuples: position, leaf hash, purged at, recorded at, then the
# stored values in the canonical order. Index access on a tuple, not attribute access on a
# SQLAlchemy row (≈ 1 µs each): verify reads every entry of the log.
VERIFY_COLUMNS: Final = (
    _LOG.c.position,
    _LOG.c.leaf_hash,
    _LOG.c.purged_at,
    _LOG.c.recorded_at,
    *(_LOG.c[name] for name in STORED_VALUE_COLUMNS),
)
_ACTION: Final = 4 + STORED_VALUE_COLUMNS.index("action")
_RETENTION: Final = Action.RETENTION.value
#: One range, compiled per dialect and run on the bare driver's cursor.
_RANGE: Final = (
    select(*VERIFY_COLUMNS)
    .where(_LOG.c.position >= bindparam("low"), _LOG.c.position < bindparam("high"))
    .order_by(_LOG.c.position)
)
#: How SQLAlchemy stores a ``DateTime`` in SQLite; anything else takes the slow path.
_SQLITE_MOMENT: Final = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}")
_FETCH: Final = 10_000

#: (position after whose leaf it shows, order among that position's findings, message,
#: position to flag, exact?)
Finding = tuple[int, int, str, int, bool]


def altered_message(position: int) -> str:
    """The problem of an entry whose content no longer gives its leaf hash."""
    return f"entry {position}: its content does not match its leaf hash (altered)"


def subtree_message(level: int, start: int, end: int) -> str:
    """The problem of a stored subtree hash that its entries no longer give."""
    return (
        f"stored subtree (level {level}) over entries {start}–{end - 1} does not match the entries"
    )


def recomputed_leaf(row: Sequence[Any]) -> bytes | None:
    """The leaf hash of a stored row's content (a :data:`VERIFY_COLUMNS` tuple) as it stands;
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


def row_leaf(row: Sequence[Any]) -> tuple[bytes, bool, tuple[int, int, bytes] | None]:
    """The one-process judgement of a row read through SQLAlchemy: the leaf to build the tree
    with, whether the entry was altered, and the deletion receipt it holds, if any.
    (A purged row's stored leaf is taken as it is; the caller tells purged rows apart.)"""
    stored = bytes(row[1])
    recomputed = recomputed_leaf(row)
    if recomputed != stored:
        return (stored if recomputed is None else recomputed), True, None
    if row[_ACTION] == _RETENTION:
        detail = row[-1]
        return (
            stored,
            False,
            (int(detail["first"]), int(detail["end"]), bytes.fromhex(detail["digest"])),
        )
    return stored, False, None


@dataclass
class RangeResult:
    """What a worker found in positions ``start .. start + 2**level - 1``."""

    start: int
    #: Entries stored at ``start, start + 1, …`` with no gap (where the one-process check stops).
    rows: int = 0
    #: Whether the range holds a row past that run (so an entry in between is missing).
    more: bool = False
    purged: int = 0
    findings: list[Finding] = field(default_factory=list)
    purged_leaves: list[tuple[int, bytes]] = field(default_factory=list)
    receipts: list[tuple[int, int, bytes]] = field(default_factory=list)
    #: For each requested local size ``k`` (and for :attr:`rows`): the range's part of the
    #: frontier at ``start + k`` — complete subtrees as (level, hash), largest first.
    pieces: dict[int, list[tuple[int, bytes]]] = field(default_factory=dict)
    #: CPU seconds the worker spent on this range (for benchmarks: the work, whatever the load).
    cpu_seconds: float = 0.0


def verifiable_url(url: str) -> bool:
    """Whether other processes can open this database (not an in-memory SQLite)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return True
    return bool(parsed.database) and parsed.database != ":memory:" and "mode=memory" not in url


def scan_ranges(
    url: str, last_position: int, level: int, head_sizes: Sequence[int], workers: int
) -> Generator[RangeResult]:
    """Check positions ``0 .. last_position`` in ranges of ``2**level`` over ``workers``
    processes; yield each range's result in position order."""
    width = 1 << level
    starts = range(0, last_position + 1, width)
    tasks = [
        (url, start, level, tuple(s - start for s in head_sizes if start < s <= start + width))
        for start in starts
    ]
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    pool = ProcessPoolExecutor(max_workers=max(1, min(workers, len(tasks))), mp_context=context)
    try:
        yield from pool.map(_scan_task, tasks)
    finally:  # a caller that stops early (a missing entry) does not wait for the rest
        pool.shutdown(wait=True, cancel_futures=True)


def _scan_task(task: tuple[str, int, int, tuple[int, ...]]) -> RangeResult:
    url, start, level, sizes = task
    began = time.process_time()
    engine = _ENGINES.get(url)
    if engine is None:
        engine = _ENGINES[url] = make_engine(url)
    result = _scan(engine, start, level, sizes)
    result.cpu_seconds = time.process_time() - began
    return result


#: One engine per database URL in each worker process (ranges of one verify reuse it).
_ENGINES: dict[str, Engine] = {}


def _scan(engine: Engine, start: int, level: int, sizes: tuple[int, ...]) -> RangeResult:
    result = RangeResult(start)
    leaves: list[bytes] = []
    sqlite = engine.dialect.name == "sqlite"
    compiled = _RANGE.compile(dialect=engine.dialect)
    bounds = compiled.construct_params({"low": start, "high": start + (1 << level)})
    parameters: Any = (
        tuple(bounds[name] for name in compiled.positiontup or ())
        if compiled.positional
        else bounds
    )
    raw = engine.raw_connection()
    try:
        # psycopg's binary format: no hex to decode for the leaf, no text to parse for times.
        cursor = raw.cursor() if sqlite else raw.cursor(binary=True)
        cursor.execute(str(compiled), parameters)
        with engine.connect().execution_options(**{READ_ONLY: True}) as slow:
            _hash_rows(cursor, slow, sqlite, result, leaves)
        cursor.close()
        levels = subtree_levels(leaves)
        _check_stored(engine, result, levels, level)
    finally:
        raw.rollback()
        raw.close()
    for size in {*sizes, result.rows}:
        if 0 < size <= result.rows:
            result.pieces[size] = _pieces(levels, size)
    return result


def _hash_rows(
    cursor: Any, slow: Connection, sqlite: bool, result: RangeResult, leaves: list[bytes]
) -> None:
    """The per-row loop: fast path first, the one-process judgement when it does not match."""
    sha256, dumps, loads = hashlib.sha256, orjson.dumps, orjson.loads
    sort, entry_format = orjson.OPT_SORT_KEYS, ENTRY_FORMAT
    expected = result.start
    last_moment: Any = None
    last_text = ""
    findings, append = result.findings, leaves.append
    while rows := cursor.fetchmany(_FETCH):
        for row in rows:
            position = row[0]
            if position != expected:
                result.more = True
                result.rows = expected - result.start
                return
            stored = bytes(row[1])
            expected += 1
            if row[2] is not None:
                result.purged += 1
                result.purged_leaves.append((position, stored))
                append(stored)
                continue
            leaf = None
            moment = row[3]
            try:
                if moment == last_moment and type(moment) is type(last_moment):
                    text = last_text
                else:
                    text = _moment_text(moment, sqlite)
                    last_moment, last_text = moment, text
                values = list(row[4:])
                detail = values.pop()
                if sqlite and type(detail) is str:
                    detail = loads(detail)
                if detail is None:
                    detail = {}
                if type(detail) is dict and text:
                    values[_ITEMS] = values[_ITEMS] or ""
                    content = dumps([entry_format, position, text, *values, detail], option=sort)
                    leaf = sha256(b"\x00" + content).digest()
            except (TypeError, ValueError, orjson.JSONEncodeError):
                leaf = None
            if leaf == stored:
                append(leaf)
                if row[_ACTION] == _RETENTION:
                    result.receipts.append(
                        (int(detail["first"]), int(detail["end"]), bytes.fromhex(detail["digest"]))
                    )
                continue
            leaf, altered, receipt = _slow_row(slow, position)
            append(leaf)
            if altered:
                findings.append((position, 0, altered_message(position), position, True))
            elif receipt is not None:
                result.receipts.append(receipt)
        result.rows = expected - result.start


def _moment_text(moment: Any, sqlite: bool) -> str:
    """The canonical timestamp of a raw driver value; ``""`` when only the slow path can tell."""
    if sqlite:
        if type(moment) is str and _SQLITE_MOMENT.fullmatch(moment):
            return f"{moment[:10]}T{moment[11:]}+00:00"
        return ""
    if type(moment) is datetime and moment.tzinfo is not None:
        return timestamp_text(moment)
    return ""


def _slow_row(slow: Connection, position: int) -> tuple[bytes, bool, tuple[int, int, bytes] | None]:
    row = slow.execute(select(*VERIFY_COLUMNS).where(_LOG.c.position == position)).one()
    return row_leaf(tuple(row))


def _check_stored(
    engine: Engine, result: RangeResult, levels: list[list[bytes]], level: int
) -> None:
    """Compare the range's complete subtrees at stored levels with the stored hashes."""
    top = min(level, len(levels) - 1)
    if top < STORED_LEVEL:
        return
    start = result.start
    with engine.connect().execution_options(**{READ_ONLY: True}) as connection:
        for depth in range(STORED_LEVEL, top + 1):
            first = start >> depth
            computed = levels[depth]
            stored = dict(
                connection.execute(
                    select(_SUBTREES.c.position, _SUBTREES.c.hash).where(
                        _SUBTREES.c.level == depth,
                        _SUBTREES.c.position >= first,
                        _SUBTREES.c.position < first + len(computed),
                    )
                ).all()
            )
            for offset, value in enumerate(computed):
                index = first + offset
                kept = stored.get(index)
                if kept is None or bytes(kept) != value:
                    begin, end = index << depth, (index + 1) << depth
                    result.findings.append(
                        (end - 1, 1 + depth, subtree_message(depth, begin, end), begin, False)
                    )
    result.findings.sort(key=lambda finding: (finding[0], finding[1]))


def _pieces(levels: list[list[bytes]], size: int) -> list[tuple[int, bytes]]:
    pieces: list[tuple[int, bytes]] = []
    offset = 0
    for depth in reversed(range(size.bit_length())):
        if size >> depth & 1:
            pieces.append((depth, levels[depth][offset >> depth]))
            offset += 1 << depth
    return pieces
