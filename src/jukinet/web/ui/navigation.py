"""Where an operator may go: the header's links and the page each role lands on.

Both follow from the route rules (:data:`jukinet.web.route_rules.ROUTE_RULES`), so a link is
shown exactly when its page would open for the operator, and nobody lands on a refusal — a
clerk at the centre or a prefecture (which keep no register) lands on the disclosure page, not
on a ledger their role may not read.
"""

from __future__ import annotations

from typing import Final

from jukinet.domain.operators import Actor, Permission
from jukinet.web.route_rules import ROUTE_RULES, Access

#: Pages that exist only where a register is kept (a municipality).
MUNICIPAL_PAGES: Final = frozenset(
    {"/", "/events/move-in", "/corrections", "/card-services", "/certificates/wide-area"}
)
#: Pages whose route is open to every signed-in operator but whose use needs more: the
#: search page is the landing route for all, yet only those who read residents may search.
NEEDS: Final[dict[str, Permission]] = {"/": Permission.READ_RESIDENTS}
#: Where an operator lands after signing in: the first of these their role may open.
LANDING_ORDER: Final = (
    "/",
    "/network",
    "/security/console",
    "/security/alerts",
    "/disclosure",
    "/security/accounts",
    "/security/cards",
    "/security/terminals",
    "/security/hours",
    "/permits",
)


def may_open(actor: Actor | None, node_role: str, path: str) -> bool:
    """Whether ``path`` (a page, GET) opens for ``actor`` on a node of ``node_role``."""
    if path in MUNICIPAL_PAGES and node_role != "municipality":
        return False
    rule = NEEDS.get(path) or ROUTE_RULES.get(("GET", path))
    if rule is None:
        return False
    if rule is Access.PUBLIC:
        return True
    if actor is None:
        return False
    return rule is Access.SIGNED_IN or actor.can(rule)


def landing_page(actor: Actor, node_role: str) -> str:
    """The first page of :data:`LANDING_ORDER` the operator may open (``/permits`` is open to
    everyone signed in, so there always is one)."""
    return next(
        (path for path in LANDING_ORDER if may_open(actor, node_role, path)), "/account/password"
    )
