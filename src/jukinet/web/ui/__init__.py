"""Counter pages (窓口画面): server-rendered Jinja2 + htmx, calling the service layer directly.

Japanese first, English by the language switch (a ``lang`` cookie). Every page needs a signed-in
operator (others are sent to ``/login``) and is sent with ``Cache-Control: no-store``.
"""

from fastapi import APIRouter

from jukinet.web.ui import (
    alerts,
    disclosure,
    events,
    network,
    pages,
    security,
    signin,
    transparency,
)

router = APIRouter(include_in_schema=False)
router.include_router(signin.router)
router.include_router(pages.router)
router.include_router(events.router)
router.include_router(network.router)
router.include_router(transparency.router)
router.include_router(alerts.router)
router.include_router(disclosure.router)
router.include_router(security.router)

__all__ = ["router"]
