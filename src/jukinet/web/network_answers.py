"""One way to answer a signed question on the mutual-TLS network app: the body read within its
limit, the caller's certificate handed over, the use case run off the event loop, and a
refusal answered with its reason and status."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from jukinet.network.context import NetworkContext, Rejected
from jukinet.network.reconcile_client import MAX_REQUEST_BYTES
from jukinet.network.transport import peer_certificate
from jukinet.services.context import ServiceContext
from jukinet.web.bodies import BodyTooLarge, read_limited

#: ``answer(node, net, tls_peer_der=..., payload=...)`` → a signed document, or Rejected.
Answer = Callable[..., dict[str, Any]]


async def signed_answer(request: Request, answer: Answer) -> JSONResponse:
    """Run ``answer`` on the request's JSON body and caller; its signed document or refusal."""
    node: ServiceContext = request.app.state.node
    net: NetworkContext = request.app.state.net
    try:
        raw = await read_limited(request, MAX_REQUEST_BYTES)
    except BodyTooLarge:
        return refusal(Rejected("request too large", status=413))
    try:
        payload: Any = json.loads(raw)
    except ValueError:
        payload = None  # refused as malformed once the caller is known
    der = peer_certificate(request.scope)
    try:
        document = await run_in_threadpool(answer, node, net, tls_peer_der=der, payload=payload)
    except Rejected as rejection:
        return refusal(rejection)
    return JSONResponse(document)


def refusal(rejection: Rejected) -> JSONResponse:
    """A refused question: its reason (and its details), with its status."""
    return JSONResponse(
        {"error": rejection.reason, **rejection.details}, status_code=rejection.status
    )
