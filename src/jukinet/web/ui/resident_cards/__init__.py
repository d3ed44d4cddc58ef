"""Resident card (住基カード) counter pages: a resident's cards and the six procedures on them."""

from fastapi import APIRouter

from jukinet.web.ui.resident_cards import forms, overview

router = APIRouter()
router.include_router(overview.router)
router.include_router(forms.router)

__all__ = ["router"]
