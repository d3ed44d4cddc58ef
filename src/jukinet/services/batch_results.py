"""A batch job's results: downloaded under the affair, each download logged, then expired.

The results of a batch query are copies of personal data. They are handed over only while the
affair that produced them is still granted (a revoked grant stops downloads as it stops the
job), every download records an access-log entry for each resident it hands over — so a
resident sees each time an agency took their data, not only the first — and they are deleted
:data:`RESULTS_KEPT` after the job finished, with the uploaded rows. An expired job keeps its
counts and says when it expired; its results are gone (410).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any, Final

import orjson
from sqlalchemy import delete, select

from jukinet.domain.access_log import AccessEntry, Action, Channel
from jukinet.domain.errors import DomainError
from jukinet.services.batch import JobNotFinished, JobNotFound, fail_job
from jukinet.services.context import ServiceContext
from jukinet.services.provision import Granted, QueryContext, _entry, authorise
from jukinet.storage import access_log
from jukinet.storage.registry import RegistryCache
from jukinet.storage.tables import BatchChunkRow, BatchJobRow

#: How long results stay downloadable after the job finished.
RESULTS_KEPT: Final = timedelta(days=7)
#: A job whose results were deleted.
EXPIRED: Final = "expired"

__all__ = [
    "CSV_COLUMNS",
    "EXPIRED",
    "RESULTS_KEPT",
    "ResultsExpired",
    "expire_results",
    "results_csv",
    "results_jsonl",
]


class ResultsExpired(DomainError):
    """The job's results were deleted :data:`RESULTS_KEPT` after it finished."""

    status = 410

    def __init__(self) -> None:
        super().__init__(
            "JUKI-BAT-103",
            ja="一括照会の結果は保存期間を過ぎたため削除されました。もう一度照会してください。",
            en="The batch results were deleted when their keeping period ended; query again.",
            field="job_id",
        )


def _download_context(
    node: ServiceContext, *, recipient_id: str, job_id: str
) -> tuple[QueryContext, int]:
    """The job's query context and chunk count, once it is this recipient's and finished."""
    with node.uow() as uow:
        job = uow.session.get(BatchJobRow, job_id[:40])
        if job is None or job.recipient_id != recipient_id:
            raise JobNotFound()
        if job.status == EXPIRED or _past_keeping(node, job.finished_at):
            raise ResultsExpired()
        if job.status not in ("done", "failed"):
            raise JobNotFinished()
        context = QueryContext(
            recipient_id=job.recipient_id,
            affair_code=job.affair_code,
            officer=job.officer,
            case_number=job.case_number,
            channel=Channel.BATCH,
        )
        return context, job.chunks


def _past_keeping(node: ServiceContext, finished_at: datetime | None) -> bool:
    if finished_at is None:
        return False
    if finished_at.tzinfo is None:  # SQLite hands back naive UTC
        finished_at = finished_at.replace(tzinfo=node.now().tzinfo)
    return node.now() - finished_at >= RESULTS_KEPT


def results_jsonl(
    node: ServiceContext, cache: RegistryCache, *, recipient_id: str, job_id: str
) -> Iterator[bytes]:
    """The job's result lines in row order (JSON lines), chunk by chunk.

    Refused before anything is read when the job is not this recipient's (404), not finished
    (409), expired (410) or its affair is no longer granted (403, recorded as a refusal). Each
    chunk's access-log entries are committed before the chunk is handed over.
    """
    context, chunks = _download_context(node, recipient_id=recipient_id, job_id=job_id)
    granted = authorise(node, cache, context, batch_job=job_id, download=True)
    for chunk in range(chunks):
        with node.uow() as uow:
            stored = uow.session.get(BatchChunkRow, (job_id, chunk))
            if stored is None or stored.results is None:
                return
            block = stored.results
            access_log.record(uow.session, _download_entries(node, context, granted, job_id, block))
            uow.commit()
        yield block


def _download_entries(
    node: ServiceContext, ctx: QueryContext, granted: Granted, job_id: str, block: bytes
) -> list[AccessEntry]:
    template = _entry(
        node, ctx, granted, action=Action.READ, subject=None, job_id=job_id, detail=None
    )
    items = granted.item_names
    entries: list[AccessEntry] = []
    for raw in block.splitlines():
        if not raw:
            continue
        line: dict[str, Any] = orjson.loads(raw)
        detail = {"row": line["row"], "download": True}
        if line["status"] == "found":
            code = line["record"]["resident_code"]
            entries.append(
                template.variant(action=Action.READ, subject=code, items=items, detail=detail)
            )
        elif line["status"] == "candidates":
            entries.extend(
                template.variant(
                    action=Action.CANDIDATE,
                    subject=candidate["record"]["resident_code"],
                    items=items,
                    detail=detail,
                )
                for candidate in line["candidates"]
            )
    return entries


def expire_results(node: ServiceContext, *, limit: int = 50) -> int:
    """Delete the rows and results of jobs finished :data:`RESULTS_KEPT` ago; returns how many
    jobs expired. A job left unfinished that long is failed and expired too."""
    cutoff = node.now() - RESULTS_KEPT
    with node.uow() as uow:
        stale = uow.session.scalars(
            select(BatchJobRow.id)
            .where(BatchJobRow.status != EXPIRED, BatchJobRow.created_at <= cutoff)
            .order_by(BatchJobRow.created_at)
            .limit(limit)
        ).all()
    expired = 0
    for job_id in stale:
        unfinished = False
        with node.uow() as uow:
            job = uow.session.get(BatchJobRow, job_id)
            if job is None or job.status == EXPIRED:
                continue
            if job.status in ("queued", "running"):
                unfinished = True
            elif _past_keeping(node, job.finished_at):
                uow.session.execute(delete(BatchChunkRow).where(BatchChunkRow.job_id == job_id))
                job.status = EXPIRED
                uow.commit()
                expired += 1
        if unfinished:  # its own transaction, once this one has ended (one writer at a time)
            fail_job(node, job_id, "not finished within the keeping period")
    return expired


CSV_COLUMNS: Final = (
    "row",
    "ref",
    "status",
    "candidate",
    "score",
    "resident_code",
    "family_name",
    "given_name",
    "family_name_kana",
    "given_name_kana",
    "birth_date",
    "sex",
    "address",
    "municipality_code",
    "record_status",
    "change_reason",
    "changed_on",
    "error_code",
    "error_message_ja",
    "error_message_en",
)


def _csv_rows(line: dict[str, Any]) -> Iterator[list[Any]]:
    base = [line["row"], line.get("ref") or "", line["status"]]
    error = line.get("error") or {}
    if line["status"] == "found":
        yield [*base, "", "", *_record_cells(line["record"]), "", "", ""]
    elif line["status"] == "candidates":
        for number, candidate in enumerate(line["candidates"], start=1):
            cells = _record_cells(candidate["record"])
            yield [*base, number, candidate["score"], *cells, "", "", ""]
    else:
        codes = [error.get("code", ""), error.get("message_ja", ""), error.get("message_en", "")]
        yield [*base, "", "", *([""] * 12), *codes]


def _record_cells(record: dict[str, Any]) -> list[Any]:
    name = record.get("name") or {}
    change = record.get("change") or {}
    return [
        record.get("resident_code", ""),
        name.get("family", ""),
        name.get("given", ""),
        name.get("family_kana", ""),
        name.get("given_kana", ""),
        record.get("birth_date", ""),
        record.get("sex", ""),
        record.get("address", ""),
        record.get("municipality_code", ""),
        record.get("status", ""),
        change.get("reason", ""),
        change.get("changed_on", ""),
    ]


def results_csv(
    node: ServiceContext, cache: RegistryCache, *, recipient_id: str, job_id: str
) -> Iterator[bytes]:
    """The same results as CSV (UTF-8 with BOM, one line per found record or candidate)."""
    blocks = results_jsonl(node, cache, recipient_id=recipient_id, job_id=job_id)
    # Checked and authorised before the header is produced, so a refusal is a clean error.
    first = next(blocks, None)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    yield ("\ufeff" + buffer.getvalue()).encode("utf-8")
    for block in _chain(first, blocks):
        buffer.seek(0)
        buffer.truncate()
        for raw in block.splitlines():
            if raw:
                writer.writerows(_csv_rows(orjson.loads(raw)))
        yield buffer.getvalue().encode("utf-8")


def _chain(first: bytes | None, rest: Iterator[bytes]) -> Iterator[bytes]:
    if first is not None:
        yield first
        yield from rest
