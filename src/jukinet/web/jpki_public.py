"""A prefecture's public JPKI endpoints, over plain HTTP: relying parties are the public.

``GET /jpki/v1/{prefecture}/ca`` (the CA certificate, DER), ``GET …/crl`` (the CRL, DER) and
``POST …/ocsp`` (``application/ocsp-request`` → ``application/ocsp-response``, RFC 6960 §A.1).
Nothing here is personal (statuses by serial, revoked serials) and nothing is written; every
answer is signed by the prefectural CA or its delegated OCSP responder. :func:`create_public_app`
is the app a node serves on its public port; :data:`router` can be mounted anywhere else.
"""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import APIRouter, FastAPI, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from jukinet import __version__
from jukinet.domain.jpki import malformed
from jukinet.network.jpki_client import OCSP_REQUEST_TYPE, OCSP_RESPONSE_TYPE
from jukinet.services.context import ServiceContext
from jukinet.services.jpki import responder
from jukinet.web.bodies import BodyTooLarge, read_limited
from jukinet.web.errors import install_error_handlers

#: An OCSP request for one certificate is about a hundred bytes.
MAX_OCSP_REQUEST_BYTES: Final = 16 * 1024
PKIX_CERT: Final = "application/pkix-cert"
PKIX_CRL: Final = "application/pkix-crl"

router = APIRouter(prefix="/jpki/v1", tags=["jpki"])

Prefecture = Annotated[str, Path(pattern=r"^[0-9]{2}$", description="The prefecture's code.")]


def _node(request: Request) -> ServiceContext:
    node: ServiceContext = request.app.state.node
    return node


@router.get("/{prefecture}/ca", response_class=Response, responses={404: {}})
async def ca_certificate(request: Request, prefecture: Prefecture) -> Response:
    """The prefectural CA's certificate (DER): the trust anchor relying parties pin."""
    der = await run_in_threadpool(responder.ca_certificate_der, _node(request), prefecture)
    return Response(der, media_type=PKIX_CERT)


@router.get("/{prefecture}/crl", response_class=Response, responses={404: {}})
async def crl(request: Request, prefecture: Prefecture) -> Response:
    """The current certificate revocation list (DER), signed by the prefectural CA."""
    der = await run_in_threadpool(responder.crl_der, _node(request), prefecture)
    return Response(der, media_type=PKIX_CRL, headers={"cache-control": "max-age=60"})


@router.post(
    "/{prefecture}/ocsp", response_class=Response, responses={404: {}, 413: {}, 415: {}, 422: {}}
)
async def ocsp(request: Request, prefecture: Prefecture) -> Response:
    """The status of one certificate (RFC 6960): good, revoked (when, why) or unknown."""
    if request.headers.get("content-type", "").split(";")[0].strip() != OCSP_REQUEST_TYPE:
        return Response(status_code=415)
    try:
        body = await read_limited(request, MAX_OCSP_REQUEST_BYTES)
    except BodyTooLarge:
        return Response(status_code=413)
    if not body:
        raise malformed("ocsp_request")
    der = await run_in_threadpool(responder.ocsp_response, _node(request), prefecture, body)
    return Response(der, media_type=OCSP_RESPONSE_TYPE)


def create_public_app(node: ServiceContext) -> FastAPI:
    """The public app of a prefecture node: the JPKI endpoints only, no operator pages."""
    app = FastAPI(
        title=f"jukinet JPKI {node.node_id}",
        version=__version__,
        docs_url=None,
        redoc_url=None,
    )
    app.state.node = node
    install_error_handlers(app)
    app.include_router(router)
    return app
