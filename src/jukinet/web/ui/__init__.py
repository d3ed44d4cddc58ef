"""Counter pages (窓口画面): server-rendered Jinja2 + htmx, calling the service layer directly.

Japanese first, English by the language switch (a ``lang`` cookie). Every page needs a signed-in
operator (others are sent to ``/login``) and is sent with ``Cache-Control: no-store``.
"""

from fastapi import APIRouter, Depends

from jukinet.web.auth import page_rule
from jukinet.web.ui import (
    alerts,
    card_move,
    card_services,
    certificates,
    disclosure,
    emergency,
    events,
    network,
    pages,
    participation,
    portal_tasks,
    resident_cards,
    security,
    security_console,
    signin,
    transparency,
    transparency_figures,
    wide_area,
)

# Every page's permission rule (web/route_rules.py) is checked before the page runs.
router = APIRouter(include_in_schema=False, dependencies=[Depends(page_rule)])
router.include_router(signin.router)
router.include_router(pages.router)
router.include_router(events.router)
router.include_router(network.router)
router.include_router(participation.router)
router.include_router(transparency.router)
router.include_router(transparency_figures.router)
router.include_router(alerts.router)
router.include_router(disclosure.router)
router.include_router(security.router)
router.include_router(card_services.router)
router.include_router(certificates.router)
router.include_router(wide_area.router)
router.include_router(resident_cards.router)
router.include_router(card_move.router)
router.include_router(security_console.router)
router.include_router(emergency.router)
router.include_router(portal_tasks.router)

__all__ = ["router"]
