"""Placeholder: filled in by the disclosure work (JSON API)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
