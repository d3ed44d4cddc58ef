"""The JSON API (/api/v1): counter operations and lookups."""

from fastapi import APIRouter

from jukinet.web.api import alerts, auth, disclosure, events, lookups, network, transparency

router = APIRouter()
router.include_router(auth.router)
router.include_router(lookups.router)
router.include_router(events.router)
router.include_router(network.router)
router.include_router(transparency.router)
router.include_router(alerts.router)
router.include_router(disclosure.router)
