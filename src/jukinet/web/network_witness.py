"""The witness endpoint of the mutual-TLS network app (see :mod:`jukinet.services.witness`).

Prefectures and the centre countersign the tree heads their municipalities (and, at the
centre, prefectures) publish; a prefecture relays its municipalities' publications to the
centre. Refusals are JSON ``{"error": ...}`` (400, 401, 403, 409, 413, 502); a 409 for a proof
from the wrong size also says ``held_size``. Requests are read as reconciliation's are (the
same 64 KiB limit: a head and a few dozen hashes).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from jukinet.network.witness_client import WITNESS_PATH
from jukinet.services.witness import answer_publication
from jukinet.web.network_answers import signed_answer

router = APIRouter()


@router.post(WITNESS_PATH)
async def witness(request: Request) -> JSONResponse:
    """Check a published tree head against the one held here and countersign it."""
    return await signed_answer(request, answer_publication)
