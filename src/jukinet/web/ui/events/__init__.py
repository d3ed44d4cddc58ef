"""Counter notifications (届出) and ex-officio corrections: a GET form and a POST handler each,
one module per family of events (arrivals, departures, amendments, corrections) and the helpers
they share in :mod:`~jukinet.web.ui.events.common`.
"""

from fastapi import APIRouter

from jukinet.web.ui.events import amendments, arrivals, corrections, departures

router = APIRouter()
router.include_router(arrivals.router)
router.include_router(departures.router)
router.include_router(amendments.router)
router.include_router(corrections.router)

__all__ = ["router"]
