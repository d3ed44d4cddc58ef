"""Signature-certificate requests on the mutual-TLS network app (see :mod:`jukinet.services.
jpki.authority`): a prefecture answers its own municipalities.

The request is handled exactly as a reconciliation question is (body limit, caller from the TLS
client certificate, refusals as ``{"error": …}``), so it uses the network app's one answer helper.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from jukinet.services.jpki.authority import ISSUE_PATH, answer_issuance
from jukinet.web.network_answers import signed_answer

router = APIRouter()


@router.post(ISSUE_PATH)
async def issue(request: Request) -> JSONResponse:
    """A signed signature certificate for a card, or a signed refusal."""
    return await signed_answer(request, answer_issuance)
