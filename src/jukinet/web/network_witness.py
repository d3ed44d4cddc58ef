"""The witness endpoint of the mutual-TLS network app (see :mod:`jukinet.services.witness`).

Prefectures and the centre countersign the tree heads their municipalities (and, at the
centre, prefectures) publish; a prefecture relays its municipalities' publications to the
centre. Refusals are JSON ``{"error": ...}`` (400, 401, 403, 409, 413, 502); a 409 for a proof
from the wrong size also says ``held_size``.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from jukinet.network.context import NetworkContext, Rejected
from jukinet.network.transport import peer_certificate
from jukinet.network.witness_client import MAX_PUBLICATION_BYTES, WITNESS_PATH, StaleProof
from jukinet.services.context import ServiceContext
from jukinet.services.witness import answer_publication
from jukinet.web.bodies import BodyTooLarge, read_limited

router = APIRouter()


@router.post(WITNESS_PATH)
async def witness(request: Request) -> JSONResponse:
    """Check a published tree head against the one held here and countersign it."""
    node: ServiceContext = request.app.state.node
    net: NetworkContext = request.app.state.net
    try:
        raw = await read_limited(request, MAX_PUBLICATION_BYTES)
    except BodyTooLarge:
        return JSONResponse({"error": "request too large"}, status_code=413)
    try:
        payload: Any = json.loads(raw)
    except ValueError:
        payload = None  # refused as malformed once the caller is known
    der = peer_certificate(request.scope)
    try:
        answer = await run_in_threadpool(
            answer_publication, node, net, tls_peer_der=der, payload=payload
        )
    except StaleProof as stale:
        return JSONResponse(
            {"error": stale.reason, "held_size": stale.held_size}, status_code=stale.status
        )
    except Rejected as rejection:
        return JSONResponse({"error": rejection.reason}, status_code=rejection.status)
    return JSONResponse(answer)
