"""Relayed municipality-to-municipality requests on the mutual-TLS network app (see
:mod:`jukinet.services.relay`): every tier passes them on, the addressed town answers."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from jukinet.network.context import NetworkContext
from jukinet.network.relay import RELAY_PATH
from jukinet.services.context import ServiceContext
from jukinet.services.relay import answer_relay
from jukinet.services.relay_purposes import relay_purposes
from jukinet.web.network_answers import signed_answer

router = APIRouter()


def _answer(
    node: ServiceContext, net: NetworkContext, *, tls_peer_der: bytes | None, payload: Any
) -> dict[str, Any]:
    return answer_relay(
        node, net, tls_peer_der=tls_peer_der, payload=payload, purposes=relay_purposes()
    )


@router.post(RELAY_PATH)
async def relay(request: Request) -> JSONResponse:
    """A signed hop of a request from one municipality to another: passed on or answered."""
    return await signed_answer(request, _answer)
