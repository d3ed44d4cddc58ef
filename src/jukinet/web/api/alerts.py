"""Placeholder: filled in by the alerts work (JSON API)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
