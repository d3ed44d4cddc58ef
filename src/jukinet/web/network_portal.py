"""The resident portal's question on the mutual-TLS network app (see
:mod:`jukinet.services.portal.tiers`): a prefecture answers its municipalities (passing on the
centre's answer), the centre answers prefectures."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from jukinet.services.portal.tiers import PORTAL_PATH, answer_portal_resident
from jukinet.web.network_answers import signed_answer

router = APIRouter()


@router.post(PORTAL_PATH)
async def portal_resident(request: Request) -> JSONResponse:
    """This tier's identity record and signed, witnessed disclosure about one resident."""
    return await signed_answer(request, answer_portal_resident)
