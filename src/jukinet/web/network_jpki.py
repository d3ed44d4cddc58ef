"""Signature-certificate requests on the mutual-TLS network app (see :mod:`jukinet.services.
jpki.authority`): a prefecture answers its own municipalities."""

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
from jukinet.services.jpki.authority import ISSUE_PATH, answer_issuance
from jukinet.web.bodies import BodyTooLarge, read_limited

router = APIRouter()


@router.post(ISSUE_PATH)
async def issue(request: Request) -> JSONResponse:
    """A signed signature certificate for a card, or a signed refusal."""
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
            answer_issuance, node, net, tls_peer_der=der, payload=payload
        )
    except Rejected as rejection:
        return _refusal(rejection)
    return JSONResponse(document)


def _refusal(rejection: Rejected) -> JSONResponse:
    return JSONResponse({"error": rejection.reason}, status_code=rejection.status)
