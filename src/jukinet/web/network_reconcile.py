"""Reconciliation endpoints of the mutual-TLS network app (see :mod:`jukinet.services.reconcile`).

Served by prefectures (to their own municipalities) and by the national centre (to
prefectures). The caller is the node its TLS client certificate names, checked exactly as the
inbox checks it; refusals are JSON ``{"error": ...}`` with 400, 401, 403, 404 or 413.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from jukinet.network.reconcile_client import BUCKETS_PATH, RECORDS_PATH
from jukinet.services.reconcile import answer_buckets, answer_records
from jukinet.web.network_answers import signed_answer

router = APIRouter()


@router.post(BUCKETS_PATH)
async def buckets(request: Request) -> JSONResponse:
    """Signed bucket digests of what this node holds for the caller's municipality."""
    return await signed_answer(request, answer_buckets)


@router.post(RECORDS_PATH)
async def records(request: Request) -> JSONResponse:
    """Signed resident code → record hash for the buckets asked for."""
    return await signed_answer(request, answer_records)
