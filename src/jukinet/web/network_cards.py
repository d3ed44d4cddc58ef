"""Card status checks on the mutual-TLS network app (see :mod:`jukinet.services.resident_card.
status`): prefectures answer their municipalities, the centre answers prefectures."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from jukinet.services.resident_card.status import STATUS_PATH, answer_card_status
from jukinet.web.network_answers import signed_answer

router = APIRouter()


@router.post(STATUS_PATH)
async def card_status(request: Request) -> JSONResponse:
    """A signed status of one card by serial (valid, suspended, invalid, or not known)."""
    return await signed_answer(request, answer_card_status)
