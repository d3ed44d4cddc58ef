"""Resident-code blocks on the mutual-TLS network app (see :mod:`jukinet.services.code_blocks`):
prefectures relay their municipalities' signed requests, the centre allots."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from jukinet.network.context import NetworkContext, Rejected
from jukinet.network.reconcile_client import MAX_REQUEST_BYTES
from jukinet.network.transport import peer_certificate
from jukinet.services.code_blocks import CODE_BLOCK_PATH, answer_code_block
from jukinet.services.context import ServiceContext
from jukinet.web.bodies import BodyTooLarge, read_limited

router = APIRouter()


@router.post(CODE_BLOCK_PATH)
async def code_block(request: Request) -> JSONResponse:
    """A block of resident codes, signed by the centre, for the municipality that asked."""
    node: ServiceContext = request.app.state.node
    net: NetworkContext = request.app.state.net
    try:
        raw = await read_limited(request, MAX_REQUEST_BYTES)
    except BodyTooLarge:
        return JSONResponse({"error": "request too large"}, status_code=413)
    try:
        payload: Any = json.loads(raw)
    except ValueError:
        payload = None  # refused as malformed once the caller is known
    der = peer_certificate(request.scope)
    try:
        document = await run_in_threadpool(
            answer_code_block, node, net, tls_peer_der=der, payload=payload
        )
    except Rejected as rejection:
        return JSONResponse({"error": rejection.reason}, status_code=rejection.status)
    return JSONResponse(document)
