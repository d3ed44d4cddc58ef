"""Reconciliation endpoints of the mutual-TLS network app (see :mod:`jukinet.services.reconcile`).

Served by prefectures (to their own municipalities) and by the national centre (to
prefectures). The caller is the node its TLS client certificate names, checked exactly as the
inbox checks it; refusals are JSON ``{"error": ...}`` with 400, 401, 403, 404 or 413.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from jukinet.network.context import NetworkContext, Rejected
from jukinet.network.reconcile_client import BUCKETS_PATH, MAX_REQUEST_BYTES, RECORDS_PATH
from jukinet.network.transport import peer_certificate
from jukinet.services.context import ServiceContext
from jukinet.services.reconcile import answer_buckets, answer_records
from jukinet.web.bodies import BodyTooLarge, read_limited

router = APIRouter()

Answer = Callable[..., dict[str, Any]]


@router.post(BUCKETS_PATH)
async def buckets(request: Request) -> JSONResponse:
    """Signed bucket digests of what this node holds for the caller's municipality."""
    return await answer_signed(request, answer_buckets)


@router.post(RECORDS_PATH)
async def records(request: Request) -> JSONResponse:
    """Signed resident code → record hash for the buckets asked for."""
    return await answer_signed(request, answer_records)


async def answer_signed(request: Request, answer: Answer) -> JSONResponse:
    """Read a small JSON request from a TLS peer and ``answer`` it (in a worker thread); a
    :class:`Rejected` becomes ``{"error": …}`` (and its details) with its status."""
    node: ServiceContext = request.app.state.node
    net: NetworkContext = request.app.state.net
    try:
        raw = await read_limited(request, MAX_REQUEST_BYTES)
    except BodyTooLarge:
        return _refusal(Rejected("request too large", status=413))
    try:
        payload: Any = json.loads(raw)
    except ValueError:
        payload = None  # refused as malformed once the caller is known
    der = peer_certificate(request.scope)
    try:
        document = await run_in_threadpool(answer, node, net, tls_peer_der=der, payload=payload)
    except Rejected as rejection:
        return _refusal(rejection)
    return JSONResponse(document)


def _refusal(rejection: Rejected) -> JSONResponse:
    return JSONResponse(
        {"error": rejection.reason, **rejection.details}, status_code=rejection.status
    )
