"""The agency console's batch pages: upload, progress bar, results and per-row errors.

An upload is the same use case as ``POST /provision/v1/batches`` (:func:`jukinet.services.
batch.submit`, one input model: affair, officer, case, kind, format, lines): a file-level
problem (not UTF-8, no header, too many rows) is a clear 4xx and stores nothing, a broken row
becomes that row's error, and an upload over the limit is refused from its declared length.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response, StreamingResponse
from starlette.datastructures import UploadFile

from jukinet.domain.access_log import Channel
from jukinet.domain.batch_input import BatchFormat, BatchKind, decode_lines
from jukinet.domain.errors import DomainError, ValidationError
from jukinet.services import agency_console, batch, batch_results, provision
from jukinet.services.agency_console import Officer
from jukinet.web.agency.common import (
    PREFIX,
    MaybeOfficer,
    cache_of,
    csrf_ok,
    error_page,
    node_of,
    redirect,
    render,
    to_sign_in,
)
from jukinet.web.agency.pages import CsrfRefused, affair_with, workspace
from jukinet.web.bodies import file_blocks
from jukinet.web.provision_api import MAX_UPLOAD_BYTES, TooLarge

router = APIRouter(prefix=PREFIX, include_in_schema=False)

#: Room for the multipart envelope and the form's other fields around the file.
_FORM_MARGIN: Final = 64 * 1024
#: Columns of the per-row error file.
ERROR_COLUMNS: Final = ("row", "ref", "code", "field", "message_ja", "message_en")


class NoFile(ValidationError):
    """The form came without a file."""

    def __init__(self) -> None:
        super().__init__(
            "JUKI-AGC-020",
            ja="照会ファイル（CSV または JSON Lines）を選んでください。",
            en="Choose a batch file (CSV or JSON lines).",
            field="file",
        )


class BadChoice(ValidationError):
    """A kind or format the console does not offer."""

    def __init__(self, field_name: str) -> None:
        super().__init__(
            "JUKI-AGC-021",
            ja="照会の種類またはファイル形式が正しくありません。",
            en="The kind of query or the file format is not one offered.",
            field=field_name,
        )


def _declared_too_large(request: Request) -> bool:
    declared = request.headers.get("content-length")
    return (
        declared is not None
        and declared.isdigit()
        and int(declared) > MAX_UPLOAD_BYTES + _FORM_MARGIN
    )


def _choice(value: Any, enum: type[BatchKind] | type[BatchFormat], field_name: str) -> Any:
    try:
        return enum(str(value))
    except ValueError:
        raise BadChoice(field_name) from None


@router.post("/affairs/{code}/batches")
async def upload(request: Request, officer: MaybeOfficer, code: str) -> Response:
    """Store an uploaded batch file as a job and show its progress page."""
    if officer is None:
        return to_sign_in()
    if _declared_too_large(request):
        return error_page(request, TooLarge(), officer=officer)
    affair, refused = await run_in_threadpool(workspace, request, officer, code)
    if refused is not None:
        return refused
    form = await request.form(max_files=1, max_fields=10)
    try:
        if not csrf_ok(officer, form):
            return error_page(request, CsrfRefused(), officer=officer)
        upload = form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise NoFile()
        kind = _choice(form.get("kind") or "code", BatchKind, "kind")
        fmt = _choice(form.get("format") or "csv", BatchFormat, "format")
        ctx = provision.QueryContext(
            recipient_id=officer.recipient_id,
            affair_code=code,
            officer=officer.query_name,
            case_number=str(form.get("case_number") or "").strip() or None,
            channel=Channel.BATCH,
        )
        node, cache = node_of(request), cache_of(request)

        def submit() -> batch.JobStatus:
            upload.file.seek(0)
            lines = decode_lines(file_blocks(upload.file))
            return batch.submit(node, cache, ctx, kind=kind, fmt=fmt, lines=lines)

        job = await run_in_threadpool(submit)
    except DomainError as error:
        return affair_with(request, officer, affair, error=error, status=error.status)
    finally:
        await form.close()
    return redirect(f"{PREFIX}/batches/{job.job_id}")


def _job(request: Request, officer: Officer, job_id: str) -> batch.JobStatus:
    return batch.status(node_of(request), recipient_id=officer.recipient_id, job_id=job_id[:40])


@router.get("/batches/{job_id}")
def job_page(request: Request, officer: MaybeOfficer, job_id: str) -> Response:
    """A job's progress bar (refreshed by htmx until it finishes) and its downloads."""
    if officer is None:
        return to_sign_in()
    try:
        job = _job(request, officer, job_id)
    except DomainError as error:
        return error_page(request, error, officer=officer)
    return render(request, "agency/batch.html", {"job": job}, officer=officer)


@router.get("/batches/{job_id}/progress")
def job_progress(request: Request, officer: MaybeOfficer, job_id: str) -> Response:
    """The progress fragment htmx swaps in (the page itself without htmx)."""
    if officer is None:
        return to_sign_in()
    try:
        job = _job(request, officer, job_id)
    except DomainError as error:
        return error_page(request, error, officer=officer)
    return render(request, "agency/_progress.html", {"job": job}, officer=officer)


@router.get("/batches/{job_id}/results.{suffix}")
async def job_results(
    request: Request, officer: MaybeOfficer, job_id: str, suffix: str
) -> Response:
    """The results (CSV or JSON lines); every resident handed over is logged as it goes."""
    if officer is None:
        return to_sign_in()
    if suffix not in ("csv", "jsonl"):
        return error_page(request, BadChoice("format"), officer=officer)
    make = batch_results.results_csv if suffix == "csv" else batch_results.results_jsonl
    blocks = make(
        node_of(request), cache_of(request), recipient_id=officer.recipient_id, job_id=job_id[:40]
    )
    try:
        head = await run_in_threadpool(next, blocks, b"")
    except DomainError as error:
        return error_page(request, error, officer=officer)

    def rest() -> Iterator[bytes]:
        yield head
        yield from blocks

    media = "text/csv; charset=utf-8" if suffix == "csv" else "application/x-ndjson"
    name = f"jukinet-batch-{job_id[:40]}.{suffix}"
    return StreamingResponse(
        rest(),
        media_type=media,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/batches/{job_id}/errors.csv")
async def job_errors(request: Request, officer: MaybeOfficer, job_id: str) -> Response:
    """The rows in error, one a line (UTF-8 with a byte-order mark for spreadsheets)."""
    if officer is None:
        return to_sign_in()

    def build() -> bytes:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(ERROR_COLUMNS)
        for line in agency_console.error_lines(
            node_of(request), recipient_id=officer.recipient_id, job_id=job_id[:40]
        ):
            error = line.get("error") or {}
            writer.writerow(
                [
                    line.get("row"),
                    line.get("ref") or "",
                    error.get("code", ""),
                    error.get("field") or "",
                    error.get("message_ja", ""),
                    error.get("message_en", ""),
                ]
            )
        return ("\ufeff" + buffer.getvalue()).encode("utf-8")

    try:
        body = await run_in_threadpool(build)
    except DomainError as error:
        return error_page(request, error, officer=officer)
    name = f"jukinet-batch-{job_id[:40]}-errors.csv"
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )
