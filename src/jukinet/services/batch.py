"""Batch queries (一括照会): an agency uploads millions of rows; the node answers them as a job.

The upload is authorised first (nothing is stored for an affair the recipient may not use),
parsed as a stream, and stored in chunks of :data:`CHUNK_ROWS`. The node's batch worker then
answers one chunk per transaction: the chunk's records are read with one query, every row gets
its result line, and every resident provided gets its access-log entry — committed together,
so a crash mid-job loses no entry and repeats no provision. The affair is re-authorised for
every chunk: a grant revoked during a job stops the job.

Results are JSON lines (or CSV) in row order, one per input row, with the row's own reference;
malformed rows get an error line and the rest are processed.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Final

import orjson
from sqlalchemy import delete, select

from jukinet.domain.access_log import AccessEntry, Action, Channel
from jukinet.domain.batch_input import (
    BatchFormat,
    BatchKind,
    CodeRow,
    FourItemsRow,
    RowError,
    parse_batch,
)
from jukinet.domain.errors import DomainError, NotFound, ValidationError
from jukinet.domain.four_items import FourItemsQuery, rank
from jukinet.services import idempotency
from jukinet.services.context import ServiceContext
from jukinet.services.provision import (
    MAX_CANDIDATES,
    Granted,
    QueryContext,
    _entry,
    authorise,
    candidate_of_row,
    fetch_candidates_many,
    fetch_identity_records,
    provided_record,
)
from jukinet.storage import access_log
from jukinet.storage.registry import RegistryCache
from jukinet.storage.tables import BatchChunkRow, BatchJobRow

#: Rows stored, and later answered, per transaction.
CHUNK_ROWS: Final = 5000
#: Chunks removed per transaction when a refused upload is undone.
DISCARD_CHUNKS: Final = 20
#: The status of a job whose upload is still being stored (invisible to everyone).
RECEIVING: Final = "receiving"
#: An upload still ``receiving`` after this long was abandoned by a stopped node.
ABANDONED_AFTER: Final = timedelta(hours=6)


class JobNotFound(NotFound):
    """No such job for this recipient (another recipient's job is not even acknowledged)."""

    def __init__(self) -> None:
        super().__init__(
            "JUKI-BAT-101",
            ja="指定の一括照会はありません。",
            en="There is no such batch job.",
            field="job_id",
        )


class JobNotFinished(ValidationError):
    """Results asked for before the job is done."""

    status = 409

    def __init__(self) -> None:
        super().__init__(
            "JUKI-BAT-102",
            ja="一括照会はまだ終わっていません。",
            en="The batch job has not finished yet.",
            field="job_id",
        )


@dataclass(frozen=True, slots=True)
class JobStatus:
    """A job's progress as its recipient sees it."""

    job_id: str
    affair_code: str
    query_kind: str
    status: str
    total_rows: int
    processed_rows: int
    found_rows: int
    error_rows: int
    created_at: datetime
    finished_at: datetime | None
    failure: str | None

    @property
    def progress(self) -> float:
        """Share of rows answered, 0.0 to 1.0."""
        return 1.0 if not self.total_rows else self.processed_rows / self.total_rows


def _status(job: BatchJobRow) -> JobStatus:
    return JobStatus(
        job_id=job.id,
        affair_code=job.affair_code,
        query_kind=job.query_kind,
        status=job.status,
        total_rows=job.total_rows,
        processed_rows=job.processed_rows,
        found_rows=job.found_rows,
        error_rows=job.error_rows,
        created_at=job.created_at,
        finished_at=job.finished_at,
        failure=job.failure,
    )


def _encode_row(row: CodeRow | FourItemsRow | RowError) -> list[Any]:
    if isinstance(row, CodeRow):
        return ["c", row.row_number, row.reference, row.resident_code]
    if isinstance(row, FourItemsRow):
        return [
            "f",
            row.row_number,
            row.reference,
            row.name,
            row.name_kana,
            row.birth_date.isoformat() if row.birth_date else None,
            row.sex,
            row.address,
        ]
    return ["e", row.row_number, row.reference, row.code, row.message_ja, row.message_en, row.field]


def submit(
    node: ServiceContext,
    cache: RegistryCache,
    ctx: QueryContext,
    *,
    kind: BatchKind,
    fmt: BatchFormat,
    lines: Iterable[str],
) -> JobStatus:
    """Authorise, parse and store an upload as a queued job; malformed rows become error rows.

    Rows are stored :data:`CHUNK_ROWS` at a time, each chunk in a transaction of its own, so a
    large upload never holds the write lock for long (on SQLite there is one lock for everyone).
    Until its last chunk is stored the job is ``receiving``: the worker, the status and the
    statistics ignore it. A file-level problem (no header, unknown column, too many rows), or
    any other failure while reading, removes what was stored: a refused upload leaves nothing.
    """
    authorise(node, cache, ctx, batch=kind.value)
    job_id = uuid.uuid4().hex
    _open_job(node, ctx, job_id, kind)
    try:
        chunks, total = _store_rows(node, job_id, parse_batch(lines, kind=kind, fmt=fmt))
    except BaseException:
        discard_job(node, job_id)
        raise
    try:
        with node.uow() as uow:
            job = uow.session.get(BatchJobRow, job_id)
            if job is None or job.status != RECEIVING:  # discarded as abandoned (hours later)
                raise JobNotFound()
            job.chunks, job.total_rows = chunks, total
            job.status = "queued" if total else "done"
            job.finished_at = None if total else node.now()
            answer = _status(job)
            # Under an idempotency key, the answer is kept in the transaction that queues the job.
            idempotency.remember(node, uow.session, answer)
            uow.commit()
            return answer
    except idempotency.KeyInUse:
        discard_job(node, job_id)
        raise


def _open_job(node: ServiceContext, ctx: QueryContext, job_id: str, kind: BatchKind) -> None:
    with node.uow() as uow:
        uow.session.add(
            BatchJobRow(
                id=job_id,
                recipient_id=ctx.recipient_id,
                affair_code=ctx.affair_code,
                officer=ctx.officer,
                case_number=ctx.case_number,
                query_kind=kind.value,
                status=RECEIVING,
                total_rows=0,
                processed_rows=0,
                found_rows=0,
                error_rows=0,
                chunks=0,
                done_chunks=0,
                created_at=node.now(),
            )
        )
        uow.commit()


def _store_rows(
    node: ServiceContext, job_id: str, rows: Iterable[CodeRow | FourItemsRow | RowError]
) -> tuple[int, int]:
    """Store parsed rows chunk by chunk (parsing happens between the transactions, outside the
    write lock); returns the number of chunks and of rows."""
    chunks = total = 0
    chunk: list[list[Any]] = []
    for row in rows:
        chunk.append(_encode_row(row))
        if len(chunk) == CHUNK_ROWS:
            _store_chunk(node, job_id, chunks, chunk)
            chunks, total, chunk = chunks + 1, total + len(chunk), []
    if chunk:
        _store_chunk(node, job_id, chunks, chunk)
        chunks, total = chunks + 1, total + len(chunk)
    return chunks, total


def _store_chunk(node: ServiceContext, job_id: str, number: int, rows: list[list[Any]]) -> None:
    encoded = orjson.dumps(rows)  # before the transaction: the lock is held only to write
    with node.uow() as uow:
        uow.session.add(BatchChunkRow(job_id=job_id, chunk=number, rows=encoded))
        uow.commit()


def discard_job(node: ServiceContext, job_id: str) -> None:
    """Remove a job that is still being received, a few chunks per transaction, then the job
    itself (a job already queued is left alone)."""
    while True:
        with node.uow() as uow:
            job = uow.session.get(BatchJobRow, job_id)
            if job is None or job.status != RECEIVING:
                return
            numbers = uow.session.scalars(
                select(BatchChunkRow.chunk)
                .where(BatchChunkRow.job_id == job_id)
                .order_by(BatchChunkRow.chunk)
                .limit(DISCARD_CHUNKS)
            ).all()
            if numbers:
                uow.session.execute(
                    delete(BatchChunkRow).where(
                        BatchChunkRow.job_id == job_id, BatchChunkRow.chunk <= numbers[-1]
                    )
                )
            else:
                uow.session.delete(job)
            uow.commit()
            if not numbers:
                return


def discard_abandoned(node: ServiceContext) -> int:
    """Remove uploads left ``receiving`` for longer than :data:`ABANDONED_AFTER` (the node
    stopped while reading them); returns how many."""
    cutoff = node.now() - ABANDONED_AFTER
    with node.read_session() as session:
        abandoned = session.scalars(
            select(BatchJobRow.id).where(
                BatchJobRow.status == RECEIVING, BatchJobRow.created_at < cutoff
            )
        ).all()
    for job_id in abandoned:
        discard_job(node, job_id)
    return len(abandoned)


def status(node: ServiceContext, *, recipient_id: str, job_id: str) -> JobStatus:
    """A job's progress; only its own recipient may see it."""
    with node.uow() as uow:
        job = uow.session.get(BatchJobRow, job_id[:40])
        if job is None or job.recipient_id != recipient_id or job.status == RECEIVING:
            raise JobNotFound()
        return _status(job)


# --------------------------------------------------------------------------------------------
# The worker's side
# --------------------------------------------------------------------------------------------


def next_chunk(node: ServiceContext) -> tuple[str, int] | None:
    """The oldest job with work left and its next chunk number, if any."""
    with node.uow() as uow:
        job = uow.session.scalars(
            select(BatchJobRow)
            .where(BatchJobRow.status.in_(("queued", "running")))
            .order_by(BatchJobRow.created_at, BatchJobRow.id)
            .limit(1)
        ).first()
        if job is None:
            return None
        return job.id, job.done_chunks


def _chunk_template(
    node: ServiceContext, ctx: QueryContext, granted: Granted, job_id: str
) -> AccessEntry:
    # Every entry of a chunk shares the recipient, affair, officer, job and the moment of the
    # chunk's transaction; per row only the action, subject, items and row number change.
    return _entry(node, ctx, granted, action=Action.READ, subject=None, job_id=job_id)


def _code_results(
    node: ServiceContext,
    session: Any,
    ctx: QueryContext,
    granted: Granted,
    job_id: str,
    rows: list[Any],
) -> tuple[list[dict[str, Any]], list[AccessEntry], int]:
    codes = [row[3] for row in rows if row[0] == "c"]
    found = fetch_identity_records(node, session, codes, granted.scope)
    template = _chunk_template(node, ctx, granted, job_id)
    provided_items, items = granted.items, granted.item_names
    results: list[dict[str, Any]] = []
    entries: list[AccessEntry] = []
    hits = 0
    for row in rows:
        number, reference = row[1], row[2]
        if row[0] == "e":
            results.append(_error_line(row))
            continue
        code = row[3]
        record = found.get(code)
        if record is None:
            results.append({"row": number, "ref": reference, "status": "not_found"})
            entries.append(
                template.variant(
                    action=Action.NOT_FOUND, subject=code, items=(), detail={"row": number}
                )
            )
            continue
        hits += 1
        results.append(
            {
                "row": number,
                "ref": reference,
                "status": "found",
                "record": provided_record(record, provided_items),
            }
        )
        entries.append(
            template.variant(action=Action.READ, subject=code, items=items, detail={"row": number})
        )
    return results, entries, hits


def _four_items_query(row: list[Any]) -> FourItemsQuery:
    return FourItemsQuery(
        name=row[3],
        name_kana=row[4],
        birth_date=None if row[5] is None else date.fromisoformat(row[5]),
        sex=row[6],
        address=row[7],
    )


def _four_items_results(
    node: ServiceContext,
    session: Any,
    ctx: QueryContext,
    granted: Granted,
    job_id: str,
    rows: list[Any],
) -> tuple[list[dict[str, Any]], list[AccessEntry], int]:
    queries: dict[int, FourItemsQuery | DomainError] = {}
    for index, row in enumerate(rows):
        if row[0] != "e":
            try:
                queries[index] = _four_items_query(row)
            except DomainError as error:
                queries[index] = error
    # One read for the whole chunk: every row's candidates (with their provided columns).
    fetched = fetch_candidates_many(
        session,
        (query.lookup for query in queries.values() if isinstance(query, FourItemsQuery)),
        granted.scope,
    )
    template = _chunk_template(node, ctx, granted, job_id)
    provided_items, items = granted.items, granted.item_names
    results: list[dict[str, Any]] = []
    entries: list[AccessEntry] = []
    hits = 0
    for index, row in enumerate(rows):
        number, reference = row[1], row[2]
        query = queries.get(index)
        if query is None:
            results.append(_error_line(row))
            continue
        if isinstance(query, DomainError):
            results.append(
                {"row": number, "ref": reference, "status": "error", "error": query.as_dict()}
            )
            continue
        records = {r.resident_code: r for r in fetched.get(query.lookup, ())}
        ranked = rank(query, map(candidate_of_row, records.values()), limit=MAX_CANDIDATES)
        if not ranked:
            results.append({"row": number, "ref": reference, "status": "not_found"})
            continue
        hits += 1
        results.append(
            {
                "row": number,
                "ref": reference,
                "status": "candidates",
                "candidates": [
                    {
                        "match": report.as_dict(),
                        "score": report.score,
                        "record": provided_record(records[c.resident_code], provided_items),
                    }
                    for c, report in ranked
                ],
            }
        )
        entries.extend(
            template.variant(
                action=Action.CANDIDATE,
                subject=c.resident_code,
                items=items,
                detail={"row": number},
            )
            for c, _ in ranked
        )
    return results, entries, hits


def _error_line(row: list[Any]) -> dict[str, Any]:
    return {
        "row": row[1],
        "ref": row[2],
        "status": "error",
        "error": {"code": row[3], "message_ja": row[4], "message_en": row[5], "field": row[6]},
    }


def _job_context(node: ServiceContext, job_id: str, chunk: int) -> QueryContext | None:
    with node.uow() as uow:
        job = uow.session.get(BatchJobRow, job_id)
        if job is None or job.status not in ("queued", "running") or job.done_chunks != chunk:
            return None
        return QueryContext(
            recipient_id=job.recipient_id,
            affair_code=job.affair_code,
            officer=job.officer,
            case_number=job.case_number,
            channel=Channel.BATCH,
        )


def fail_job(node: ServiceContext, job_id: str, reason: str) -> None:
    """Mark a job failed, with why (shown to its recipient)."""
    with node.uow() as uow:
        job = uow.session.get(BatchJobRow, job_id)
        if job is not None:
            job.status = "failed"
            job.failure = reason[:400]
            job.finished_at = node.now()
            uow.commit()


def process_chunk(node: ServiceContext, cache: RegistryCache, job_id: str, chunk: int) -> bool:
    """Answer one chunk of a job in one transaction; ``False`` if it was already done (another
    worker got there first) or the job stopped."""
    ctx = _job_context(node, job_id, chunk)
    if ctx is None:
        return False
    # Authorised again for every chunk (before the chunk's transaction, which on SQLite holds
    # the write lock): a grant revoked mid-job stops the job.
    try:
        granted = authorise(node, cache, ctx, batch_job=job_id)
    except DomainError as error:
        fail_job(node, job_id, f"{error.code}: {error.message_en}")
        return False
    with node.uow() as uow:
        job = uow.session.scalars(
            select(BatchJobRow).where(BatchJobRow.id == job_id).with_for_update()
        ).one()
        if job.status not in ("queued", "running") or job.done_chunks != chunk:
            return False
        stored = uow.session.get(BatchChunkRow, (job_id, chunk))
        if stored is None or stored.rows is None:
            job.status = "failed"
            job.failure = f"chunk {chunk} is missing"
            uow.commit()
            return False
        rows: list[Any] = orjson.loads(stored.rows)
        answer = _code_results if job.query_kind == BatchKind.BY_CODE.value else _four_items_results
        results, entries, hits = answer(node, uow.session, ctx, granted, job_id, rows)
        stored.results = b"\n".join(orjson.dumps(line) for line in results) + b"\n"
        job.status = "running"
        job.done_chunks += 1
        job.processed_rows += len(rows)
        job.found_rows += hits
        job.error_rows += sum(1 for line in results if line["status"] == "error")
        if job.done_chunks == job.chunks:
            job.status = "done"
            job.finished_at = node.now()
        access_log.record(uow.session, entries)
        uow.commit()
        return True


def run_pending(
    node: ServiceContext, cache: RegistryCache, *, max_chunks: int | None = None
) -> int:
    """Process chunks until none is left (or ``max_chunks``); returns how many were done."""
    done = 0
    while max_chunks is None or done < max_chunks:
        work = next_chunk(node)
        if work is None:
            break
        if process_chunk(node, cache, *work):
            done += 1
    return done
