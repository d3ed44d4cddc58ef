"""Card status checks on the mutual-TLS network app (see :mod:`jukinet.services.resident_card.
status`): prefectures answer their municipalities, the centre answers prefectures."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from jukinet.network.context import NetworkContext, Rejected
from jukinet.network.reconcile_client import MAX_REQUEST_BYTES
from jukinet.network.transport import peer_certificate
from jukinet.services.context import ServiceContext
from jukinet.services.resident_card.status import STATUS_PATH, answer_card_status
from jukinet.web.bodies import BodyTooLarge, read_limited

router = APIRouter()


@router.post(STATUS_PATH)
async def card_status(request: Request) -> JSONResponse:
    """A signed status of one card by serial (valid, suspended, invalid, or not known)."""
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
        document = await run_in_threadpool(
            answer_card_status, node, net, tls_peer_der=der, payload=payload
        )
    except Rejected as rejection:
        return _refusal(rejection)
    return JSONResponse(document)


def _refusal(rejection: Rejected) -> JSONResponse:
    return JSONResponse({"error": rejection.reason}, status_code=rejection.status)
