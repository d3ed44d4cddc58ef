"""The agencies' API (機関照会), served on the node's mutual-TLS port only.

A recipient is identified by its client certificate (issued by the network CA, checked against
the CRL in the TLS handshake and again here); nothing in the request body can claim another
identity. Every query names the affair, the officer and optionally a case number. ServiceContext
certificates (municipalities, prefectures) are not recipients and are refused.

Also here: the log's published tree heads and consistency proofs, for auditors and residents'
tools that reach the node through a recipient.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from typing import IO, Annotated, Any, Literal

from cryptography import x509
from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, Field

from jukinet.domain.access_log import Channel
from jukinet.domain.batch_input import BatchFormat, BatchKind, decode_lines
from jukinet.domain.errors import AuthenticationFailed, DomainError
from jukinet.domain.four_items import FourItemsQuery
from jukinet.network.context import NetworkContext, Rejected
from jukinet.network.inbox import record_rejection
from jukinet.network.pki import node_of_certificate
from jukinet.network.transport import peer_certificate
from jukinet.services import audit, batch, batch_results, idempotency, provision
from jukinet.services.context import ServiceContext
from jukinet.storage.registry import RegistryCache
from jukinet.web.bodies import BodyTooLarge, file_blocks, spool_limited
from jukinet.web.errors import ERROR_RESPONSES, ErrorBody

#: Errors every provision operation may answer (documented for clients and the fuzz test).
PROVISION_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERROR_RESPONSES,
    401: {"model": ErrorBody, "description": "No valid client certificate"},
    403: {"model": ErrorBody, "description": "Not a recipient, or the affair is not authorised"},
    404: {"model": ErrorBody, "description": "Unknown affair or job; no tree head signed yet"},
    409: {"model": ErrorBody, "description": "The batch job has not finished"},
    410: {"model": ErrorBody, "description": "The batch results have expired"},
    413: {"model": ErrorBody, "description": "Upload too large"},
}
router = APIRouter(tags=["provision"], responses=PROVISION_ERRORS)

#: Tree sizes asked about fit a signed 64-bit column.
MAX_TREE_SIZE = 2**63 - 1
#: Largest batch upload accepted in one request (about 10 million code rows).
MAX_UPLOAD_BYTES = 256 * 1024 * 1024


class ClientRefused(AuthenticationFailed):
    """No usable client certificate."""

    def __init__(self, reason: str) -> None:
        super().__init__(
            "JUKI-PRV-011",
            ja="クライアント証明書を確認できません。",
            en=f"The client certificate was refused: {reason}.",
        )


def _node(request: Request) -> ServiceContext:
    node: ServiceContext = request.app.state.node
    return node


def _cache(request: Request) -> RegistryCache:
    cache: RegistryCache = request.app.state.registry_cache
    return cache


def principal(request: Request) -> str:
    """The recipient id named by the TLS client certificate (checked against CA and CRL);
    a refused certificate is recorded with the name it claims."""
    net: NetworkContext = request.app.state.net
    node = _node(request)
    der = peer_certificate(request.scope)
    try:
        return net.peer_of_tls_certificate(der, now=node.now())
    except Rejected as rejection:
        record_rejection(
            node,
            reason=f"provision: client certificate refused: {rejection.reason}",
            claimed_sender=_claimed_name(der),
            tls_peer=None,
            envelope_id=None,
        )
        raise ClientRefused(rejection.reason) from None


def _claimed_name(der: bytes | None) -> str | None:
    if der is None:
        return None
    try:
        return node_of_certificate(x509.load_der_x509_certificate(der))
    except ValueError:
        return None


Principal = Annotated[str, Depends(principal)]


class QueryHeader(BaseModel):
    """What every query names."""

    affair_code: str = Field(min_length=1, max_length=20, examples=["T1-16"])
    officer: str = Field(min_length=1, max_length=80)
    case_number: str | None = Field(default=None, max_length=80)


class CodeLookup(QueryHeader):
    """A query by one or many resident codes."""

    resident_codes: list[str] = Field(min_length=1, max_length=provision.MAX_CODES_PER_QUERY)


class FourItemsSearch(QueryHeader):
    """A query by the four basic items; partial addresses allowed."""

    name: str | None = Field(default=None, max_length=80)
    name_kana: str | None = Field(default=None, max_length=130)
    birth_date: date | None = None
    sex: Literal["male", "female"] | None = None
    address: str | None = Field(default=None, max_length=200)


def _context(principal_id: str, header: QueryHeader, channel: Any = None) -> provision.QueryContext:
    kwargs: dict[str, Any] = {} if channel is None else {"channel": channel}
    return provision.QueryContext(
        recipient_id=principal_id,
        affair_code=header.affair_code,
        officer=header.officer,
        case_number=header.case_number,
        **kwargs,
    )


def _require_recipient(request: Request, principal_id: str) -> None:
    node, cache = _node(request), _cache(request)
    with node.read_session() as session:
        registry = cache.get(session)
    if principal_id not in registry.recipients:
        raise provision.NotARecipient()


@router.get("/provision/v1/affairs")
async def my_affairs(request: Request, who: Principal) -> dict[str, Any]:
    """The affairs this recipient may use today, with the items each is given."""
    await run_in_threadpool(_require_recipient, request, who)
    affairs = await run_in_threadpool(provision.affairs_for, _node(request), _cache(request), who)
    return {"recipient": who, "affairs": affairs}


@router.post("/provision/v1/residents/lookup")
async def lookup(request: Request, body: CodeLookup, who: Principal) -> dict[str, Any]:
    """Identity information for one or many resident codes, in the order asked."""
    ctx = _context(who, body)
    answers = await run_in_threadpool(
        provision.lookup_by_codes, _node(request), _cache(request), ctx, body.resident_codes
    )
    return {
        "affair_code": ctx.affair_code,
        "results": [
            {
                "resident_code": a.resident_code,
                "outcome": a.outcome,
                "record": a.record,
                "error": a.error,
            }
            for a in answers
        ],
    }


@router.post("/provision/v1/residents/search")
async def search(request: Request, body: FourItemsSearch, who: Principal) -> dict[str, Any]:
    """Candidates for the four basic items, each with how it matched; never merged."""
    query = FourItemsQuery(
        name=body.name,
        name_kana=body.name_kana,
        birth_date=body.birth_date,
        sex=body.sex,
        address=body.address,
    )
    ctx = _context(who, body)
    answers = await run_in_threadpool(
        provision.search_four_items, _node(request), _cache(request), ctx, query
    )
    return {
        "affair_code": ctx.affair_code,
        "candidates": [{"match": a.match, "score": a.score, "record": a.record} for a in answers],
    }


def _job_out(job: batch.JobStatus) -> dict[str, Any]:
    return {
        "job_id": job.job_id,
        "affair_code": job.affair_code,
        "kind": job.query_kind,
        "status": job.status,
        "total_rows": job.total_rows,
        "processed_rows": job.processed_rows,
        "found_rows": job.found_rows,
        "error_rows": job.error_rows,
        "progress": round(job.progress, 4),
        "created_at": job.created_at.isoformat(),
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        "failure": job.failure,
    }


class TooLarge(DomainError):
    """An upload over :data:`MAX_UPLOAD_BYTES`."""

    status = 413

    def __init__(self) -> None:
        super().__init__(
            "JUKI-PRV-012",
            ja="アップロードが大きすぎます（256MiBまで）。分けて送ってください。",
            en="The upload is too large (256 MiB at most); split it.",
        )


@router.post("/provision/v1/batches", status_code=202)
async def submit_batch(
    request: Request,
    who: Principal,
    affair_code: Annotated[str, Query(min_length=1, max_length=20)],
    officer: Annotated[str, Query(min_length=1, max_length=80)],
    kind: BatchKind,
    file_format: Annotated[BatchFormat, Query(alias="format")] = BatchFormat.CSV,
    case_number: Annotated[str | None, Query(max_length=80)] = None,
    key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            description="Any unique string per intended upload; a retry with the same key and "
            "the same file returns the first job instead of submitting it again (24 hours).",
        ),
    ] = None,
) -> Response:
    """Upload a batch file (the request body: CSV or JSON lines, UTF-8); answered as a job.

    The body goes to a temporary file as it arrives (413 the moment it passes
    :data:`MAX_UPLOAD_BYTES`), then is parsed line by line and stored in small transactions.
    """
    await run_in_threadpool(_require_recipient, request, who)
    ctx = provision.QueryContext(
        recipient_id=who,
        affair_code=affair_code,
        officer=officer,
        case_number=case_number,
        channel=Channel.BATCH,
    )
    # Refused before a byte of the body is read: an affair the agency may not use costs us no
    # disk. (``batch.submit`` checks again once the file is in: a grant may end meanwhile.)
    await run_in_threadpool(
        provision.authorise, _node(request), _cache(request), ctx, batch=kind.value
    )
    try:
        spool = await spool_limited(request, MAX_UPLOAD_BYTES)
    except BodyTooLarge:
        raise TooLarge() from None
    with spool:
        node, cache = _node(request), _cache(request)
        idempotent = None
        if key is not None:
            asked = await run_in_threadpool(_fingerprint, request, spool)
            scope, checked = f"recipient:{who}", idempotency.check_key(key)
            stored = await run_in_threadpool(
                idempotency.replay, node, scope=scope, key=checked, fingerprint=asked
            )
            if stored is not None:
                return Response(
                    stored.body,
                    status_code=stored.status_code,
                    media_type="application/json",
                    headers={"Idempotent-Replayed": "true"},
                )
            idempotent = idempotency.IdempotentRequest(scope, checked, asked, 202, _job_bytes)

        def submit() -> batch.JobStatus:
            lines = decode_lines(file_blocks(spool))
            if idempotent is None:
                return batch.submit(node, cache, ctx, kind=kind, fmt=file_format, lines=lines)
            with idempotency.requested(idempotent):
                return batch.submit(node, cache, ctx, kind=kind, fmt=file_format, lines=lines)

        job = await run_in_threadpool(submit)
    return JSONResponse(_job_out(job), status_code=202)


def _job_bytes(job: batch.JobStatus) -> bytes:
    return json.dumps(_job_out(job), ensure_ascii=False).encode()


def _fingerprint(request: Request, spool: IO[bytes]) -> str:
    """What the key stands for: the query (affair, officer, kind, format, case) and the file."""
    digest = hashlib.sha256()
    for block in file_blocks(spool):
        digest.update(block)
    spool.seek(0)
    asked = f"{request.url.path}?{request.url.query}#{digest.hexdigest()}".encode()
    return idempotency.fingerprint("POST", request.url.path, asked)


@router.get("/provision/v1/batches/{job_id}")
async def batch_status(
    request: Request, who: Principal, job_id: Annotated[str, Field(max_length=40)]
) -> dict[str, Any]:
    """A job's progress (only for the recipient that submitted it)."""
    job = await run_in_threadpool(batch.status, _node(request), recipient_id=who, job_id=job_id)
    return _job_out(job)


@router.get(
    "/provision/v1/batches/{job_id}/results",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "One JSON line per input row, or CSV",
            "content": {"application/x-ndjson": {}, "text/csv": {}},
        }
    },
)
async def download_batch_results(
    request: Request,
    who: Principal,
    job_id: str,
    file_format: Annotated[Literal["jsonl", "csv"], Query(alias="format")] = "jsonl",
) -> StreamingResponse:
    """The results, one line per input row (JSON lines) or per record (CSV).

    Each download is logged for every resident it hands over; refused once the affair is no
    longer granted (403) or the results have expired (410).
    """
    make = batch_results.results_csv if file_format == "csv" else batch_results.results_jsonl
    first_blocks = make(_node(request), _cache(request), recipient_id=who, job_id=job_id)
    # Pull the first block now so "not finished" is a clean 409, not a broken stream.
    head = await run_in_threadpool(next, first_blocks, b"")

    def rest() -> Any:
        yield head
        yield from first_blocks

    media = "text/csv; charset=utf-8" if file_format == "csv" else "application/x-ndjson"
    name = f"jukinet-batch-{job_id[:40]}.{file_format}"
    return StreamingResponse(
        rest(), media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@router.get("/audit/v1/tree-head")
async def tree_head(request: Request, who: Principal) -> dict[str, Any]:
    """This node's latest signed tree head, as its schedule signed it (404 before the first).

    Reading signs nothing: the node signs on its schedule, never at a reader's request.
    """
    del who  # any holder of a network certificate may read it
    head = await run_in_threadpool(audit.latest_tree_head, _node(request))
    return head.to_dict() | {"signer_certificate": audit.signer_certificate_pem(_node(request))}


@router.get("/audit/v1/consistency")
async def consistency(
    request: Request,
    who: Principal,
    old: Annotated[int, Query(ge=0, le=MAX_TREE_SIZE)],
    new: Annotated[int, Query(ge=0, le=MAX_TREE_SIZE)],
) -> dict[str, Any]:
    """Proof that the head at ``new`` only appended to the head at ``old``."""
    del who
    return await run_in_threadpool(audit.consistency, _node(request), old, new)
