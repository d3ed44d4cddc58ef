"""The node-to-node application, served only on the mutual-TLS port of the closed network."""

from __future__ import annotations

import json
from importlib.resources import files
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from jukinet import __version__
from jukinet.domain.emergency import ServiceSuspended
from jukinet.network import inbox
from jukinet.network.context import NetworkContext, Rejected
from jukinet.network.handlers import HandlerTable
from jukinet.network.transport import peer_certificate
from jukinet.services.context import ServiceContext
from jukinet.services.emergency.enforcement import check_link_open
from jukinet.storage.registry import RegistryCache
from jukinet.web.agency import batches as agency_batches
from jukinet.web.agency import card as agency_card
from jukinet.web.agency import pages as agency_pages
from jukinet.web.agency.common import page_for_error
from jukinet.web.bodies import BodyTooLarge, read_limited
from jukinet.web.errors import install_error_handlers
from jukinet.web.network_cards import router as cards_router
from jukinet.web.network_codes import router as codes_router
from jukinet.web.network_jpki import router as jpki_router
from jukinet.web.network_portal import router as portal_router
from jukinet.web.network_reconcile import router as reconcile_router
from jukinet.web.network_relay import router as relay_router
from jukinet.web.network_witness import router as witness_router
from jukinet.web.provision_api import router as provision_router

MAX_BODY_BYTES = 32 * 1024 * 1024


def create_network_app(
    node: ServiceContext,
    net: NetworkContext,
    handlers: HandlerTable,
    *,
    openapi: bool = False,
) -> FastAPI:
    """Endpoints neighbours and recipients call: the inbox, reconciliation, the agencies' API
    and the access log's tree heads. ``handlers`` (from the composition root) say what each
    message means here; ``openapi`` exposes the schema (tests fuzz it)."""
    app = FastAPI(
        title=f"jukinet network endpoint {net.node}",
        version=__version__,
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json" if openapi else None,
    )
    app.state.node = node
    app.state.net = net
    app.state.registry_cache = RegistryCache()
    install_error_handlers(app, page=page_for_error)
    app.include_router(reconcile_router)
    app.include_router(cards_router)
    app.include_router(portal_router)
    app.include_router(jpki_router)
    app.include_router(codes_router)
    app.include_router(provision_router)
    app.include_router(witness_router)
    # The agency console (pages for the recipients' officers; see docs/agency-console.md).
    app.include_router(agency_pages.router)
    app.include_router(agency_card.router)
    app.include_router(agency_batches.router)
    app.mount("/static", StaticFiles(directory=str(files("jukinet.web") / "static")), name="static")
    app.include_router(relay_router)

    @app.post("/network/v1/inbox")
    async def receive(request: Request) -> JSONResponse:
        try:
            raw = await read_limited(request, MAX_BODY_BYTES)
        except BodyTooLarge:
            return _refusal(Rejected("request too large", status=413))
        try:
            payload: Any = json.loads(raw)
        except ValueError:
            return _refusal(Rejected("malformed JSON", status=400))
        der = peer_certificate(request.scope)
        cut = _link_cut(node, net, der)
        if cut is not None:
            # An emergency disconnect of this link: the neighbour keeps its queue and retries.
            return JSONResponse(
                {"error": cut.message_en, "code": cut.code},
                status_code=cut.status,
                headers={"Retry-After": str(cut.retry_after)},
            )
        try:
            ack = await run_in_threadpool(
                inbox.receive, node, net, handlers, tls_peer_der=der, payload=payload
            )
        except Rejected as rejection:
            return _refusal(rejection)
        return JSONResponse(ack)

    @app.get("/network/v1/health")
    async def health() -> dict[str, str]:
        return {"node": str(net.node), "status": "ok"}

    return app


def _refusal(rejection: Rejected) -> JSONResponse:
    return JSONResponse({"error": rejection.reason}, status_code=rejection.status)


def _link_cut(
    node: ServiceContext, net: NetworkContext, der: bytes | None
) -> ServiceSuspended | None:
    """The refusal for this neighbour while its link is cut (an unknown sender: the inbox's)."""
    try:
        peer = net.peer_of_tls_certificate(der, now=node.now())
    except Rejected:
        return None
    return check_link_open(node, peer)
