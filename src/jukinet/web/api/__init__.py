"""The JSON API (/api/v1): counter operations and lookups."""

from fastapi import APIRouter, Depends

from jukinet.web.api import (
    alerts,
    auth,
    card_move,
    card_services,
    disclosure,
    emergency,
    events,
    lookups,
    network,
    participation,
    resident_cards,
    security_console,
    transparency,
    wide_area,
)
from jukinet.web.auth import api_rule

# Every route's permission rule (web/route_rules.py) is checked before the route runs.
router = APIRouter(dependencies=[Depends(api_rule)])
router.include_router(auth.router)
router.include_router(lookups.router)
router.include_router(events.router)
router.include_router(network.router)
router.include_router(participation.router)
router.include_router(transparency.router)
router.include_router(alerts.router)
router.include_router(disclosure.router)
router.include_router(card_services.router)
router.include_router(resident_cards.router)
router.include_router(card_move.router)
router.include_router(wide_area.router)
router.include_router(security_console.router)
router.include_router(emergency.router)
