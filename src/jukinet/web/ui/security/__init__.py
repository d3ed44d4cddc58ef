"""The security console's pages (Japanese first, English by the switch).

``/permits`` for every operator (reachable out of hours); ``/security/accounts``,
``/security/cards``, ``/security/officer-cards``, ``/security/terminals`` and
``/security/hours`` for the roles whose permission each needs — anyone else gets the 403 page,
for every GET and POST.
"""

from fastapi import APIRouter

from jukinet.web.ui.security import (
    accounts,
    cards,
    hours,
    officer_cards,
    own_password,
    permits,
    terminals,
)

router = APIRouter(include_in_schema=False)
for module in (permits, own_password, accounts, cards, officer_cards, terminals, hours):
    router.include_router(module.router)

__all__ = ["router"]
