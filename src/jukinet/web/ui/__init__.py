"""Counter pages (Jinja2 + htmx)."""

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
