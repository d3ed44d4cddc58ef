"""Resident-code blocks on the mutual-TLS network app (see :mod:`jukinet.services.code_blocks`):
prefectures relay their municipalities' signed requests, the centre allots."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from jukinet.services.code_blocks import CODE_BLOCK_PATH, answer_code_block
from jukinet.web.network_answers import signed_answer

router = APIRouter()


@router.post(CODE_BLOCK_PATH)
async def code_block(request: Request) -> JSONResponse:
    """A block of resident codes, signed by the centre, for the municipality that asked."""
    return await signed_answer(request, answer_code_block)
