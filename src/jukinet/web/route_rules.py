"""Which role may call which route: one rule per route, checked before the route runs.

Permissions come from the domain's one table (:data:`jukinet.domain.operators.ROLE_PERMISSIONS`);
this module says which permission each route needs. A route without a rule is refused (fail
closed), and a test generated from this table walks every route with every role, so a new
route without a rule fails the suite.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from enum import Enum
from typing import Any, Final

from fastapi import FastAPI, Request

from jukinet.domain.errors import PermissionDenied
from jukinet.domain.operators import Actor, Permission


class Access(Enum):
    """Routes that need no particular permission."""

    #: Anyone (monitoring, the sign-in steps, the public transparency report, the docs).
    PUBLIC = "public"
    #: Any signed-in operator (the route or its service checks what it shows to whom).
    SIGNED_IN = "signed_in"


Rule = Permission | Access
P = Permission
PUBLIC = Access.PUBLIC
SIGNED_IN = Access.SIGNED_IN

ROUTE_RULES: Final[Mapping[tuple[str, str], Rule]] = {
    # Framework and monitoring
    ("GET", "/openapi.json"): PUBLIC,
    ("GET", "/docs"): PUBLIC,
    ("GET", "/docs/oauth2-redirect"): PUBLIC,
    ("GET", "/redoc"): PUBLIC,
    ("GET", "/healthz"): PUBLIC,
    # Sign-in (the terminal is checked before any of these)
    ("POST", "/api/v1/auth/challenge"): PUBLIC,
    ("POST", "/api/v1/auth/token"): PUBLIC,
    ("GET", "/login"): PUBLIC,
    ("POST", "/login"): PUBLIC,
    ("GET", "/login/card"): PUBLIC,
    ("POST", "/login/card"): PUBLIC,
    ("POST", "/logout"): PUBLIC,
    ("GET", "/lang/{lang}"): PUBLIC,
    # Residents: lookups
    ("POST", "/api/v1/residents/search"): P.READ_RESIDENTS,
    ("GET", "/api/v1/residents"): P.READ_RESIDENTS,
    ("GET", "/api/v1/residents/{resident_code}"): P.READ_RESIDENTS,
    ("GET", "/api/v1/residents/{resident_code}/history"): P.READ_RESIDENTS,
    ("GET", "/api/v1/households/{household_number}"): P.READ_RESIDENTS,
    ("GET", "/api/v1/records/{record_ref}"): P.READ_RESIDENTS,
    ("POST", "/api/v1/records/{record_ref}/reveal"): P.REVEAL_CODES,
    ("GET", "/api/v1/code-pool"): P.EX_OFFICIO,
    ("GET", "/api/v1/municipalities/{code}"): SIGNED_IN,
    ("GET", "/"): SIGNED_IN,
    ("POST", "/search"): P.READ_RESIDENTS,
    ("GET", "/records/{ref}"): P.READ_RESIDENTS,
    ("POST", "/records/{ref}/reveal"): P.REVEAL_CODES,
    ("GET", "/disclosure"): P.READ_RESIDENTS,
    ("POST", "/disclosure"): P.READ_RESIDENTS,
    ("POST", "/disclosure.json"): P.READ_RESIDENTS,
    ("GET", "/api/v1/residents/{resident_code}/disclosure"): P.READ_RESIDENTS,
    # Requests residents sent from the portal (web/ui/portal_tasks.py)
    ("GET", "/portal-requests"): P.FILE_EVENTS,
    ("POST", "/portal-requests/decide"): P.FILE_EVENTS,
    # Residents: counter events (届出) and the municipality's own acts (職権)
    ("POST", "/api/v1/events/birth"): P.FILE_EVENTS,
    ("POST", "/api/v1/events/move-in"): P.FILE_EVENTS,
    ("POST", "/api/v1/events/move-within"): P.FILE_EVENTS,
    ("POST", "/api/v1/events/move-out"): P.FILE_EVENTS,
    ("POST", "/api/v1/events/death"): P.FILE_EVENTS,
    ("POST", "/api/v1/events/name-change"): P.FILE_EVENTS,
    ("POST", "/api/v1/events/household-change"): P.FILE_EVENTS,
    ("POST", "/api/v1/events/code-change"): P.FILE_EVENTS,
    # The card move (転入転出の特例): counter work on both ends.
    ("POST", "/api/v1/card-moves/move-out"): P.FILE_EVENTS,
    ("POST", "/api/v1/card-moves/move-in"): P.FILE_EVENTS,
    ("POST", "/api/v1/card-moves/continue"): P.FILE_EVENTS,
    **{
        (method, f"/card-moves/{page}"): P.FILE_EVENTS
        for page in ("move-out", "move-in", "continue")
        for method in ("GET", "POST")
    },
    ("POST", "/api/v1/ex-officio/entries"): P.EX_OFFICIO,
    ("POST", "/api/v1/ex-officio/corrections"): P.EX_OFFICIO,
    ("POST", "/api/v1/ex-officio/deletions"): P.EX_OFFICIO,
    **{
        (method, f"/events/{event}"): P.FILE_EVENTS
        for event in (
            "move-in",
            "birth",
            "move-out",
            "death",
            "move-within",
            "name-change",
            "household-change",
            "code-change",
        )
        for method in ("GET", "POST")
    },
    ("GET", "/corrections"): P.EX_OFFICIO,
    ("POST", "/corrections"): P.EX_OFFICIO,
    # Card services by ordinance (条例利用): the registry, enrolment at the counter, and the
    # service terminals' API (a registered terminal; the card and its PIN are the credential).
    ("GET", "/card-services"): P.ENROL_CARD_SERVICES,
    ("POST", "/card-services/add"): P.MANAGE_CARD_SERVICES,
    ("POST", "/card-services/deactivate"): P.MANAGE_CARD_SERVICES,
    ("GET", "/card-services/enrolments"): P.ENROL_CARD_SERVICES,
    ("POST", "/card-services/enrolments"): P.ENROL_CARD_SERVICES,
    ("POST", "/card-services/enrolments/enrol"): P.ENROL_CARD_SERVICES,
    ("POST", "/card-services/enrolments/withdraw"): P.ENROL_CARD_SERVICES,
    ("POST", "/api/v1/card-services/{code}/challenge"): PUBLIC,
    ("POST", "/api/v1/card-services/{code}/authenticate"): PUBLIC,
    # Resident cards (住基カード): card issuers do the counter's card work; any operator who
    # may take a loss report (by phone) suspends a card; reading needs READ_RESIDENTS.
    ("GET", "/records/{ref}/cards"): P.READ_RESIDENTS,
    ("GET", "/api/v1/residents/{resident_code}/cards"): P.READ_RESIDENTS,
    ("GET", "/api/v1/cards/{serial}/history"): P.READ_RESIDENTS,
    **{
        ("POST", f"/api/v1/cards/{action}"): P.ISSUE_RESIDENT_CARDS
        for action in ("applications", "issue", "pin-reset", "pin-change", "resumptions", "returns")
    },
    ("POST", "/api/v1/cards/loss-reports"): P.REPORT_CARD_LOSS,
    **{
        (method, f"/records/{{ref}}/cards/{procedure}"): P.ISSUE_RESIDENT_CARDS
        for procedure in ("apply", "issue", "pin-reset", "resume", "return")
        for method in ("GET", "POST")
    },
    ("GET", "/records/{ref}/cards/loss"): P.REPORT_CARD_LOSS,
    ("POST", "/records/{ref}/cards/loss"): P.REPORT_CARD_LOSS,
    # Certificates: issued at the counter; checked by anyone holding one (public by design:
    # the page shows only what the certificate itself prints).
    ("GET", "/records/{ref}/certificates"): P.ISSUE_CERTIFICATES,
    ("POST", "/records/{ref}/certificates"): P.ISSUE_CERTIFICATES,
    ("GET", "/certificates/wide-area"): P.ISSUE_CERTIFICATES,
    ("POST", "/certificates/wide-area"): P.ISSUE_CERTIFICATES,
    ("POST", "/api/v1/certificates/wide-area"): P.ISSUE_CERTIFICATES,
    ("GET", "/certificates/verify"): PUBLIC,
    ("POST", "/certificates/verify"): PUBLIC,
    # The network's delivery ledger
    ("GET", "/api/v1/network/links"): P.READ_OUTBOX,
    ("GET", "/api/v1/network/quarantine"): P.READ_OUTBOX,
    ("GET", "/api/v1/network/witnessed-heads"): P.READ_OUTBOX,
    ("GET", "/network"): P.READ_OUTBOX,
    # Participation (system administrators) and residents' opt-out (the counter)
    ("GET", "/api/v1/network/participation"): P.ADMINISTER_SYSTEM,
    ("POST", "/api/v1/network/participation"): P.ADMINISTER_SYSTEM,
    ("GET", "/network/participation"): P.ADMINISTER_SYSTEM,
    ("POST", "/network/participation"): P.ADMINISTER_SYSTEM,
    ("POST", "/api/v1/events/opt-out"): P.FILE_EVENTS,
    ("GET", "/events/opt-out"): P.FILE_EVENTS,
    ("POST", "/events/opt-out"): P.FILE_EVENTS,
    # Transparency (public by law) and the access log's alerts
    # Emergencies: the lists for those who watch (AUDIT: security officers, supervisors,
    # auditors); decisions are checked by the service (a security officer or a supervisor,
    # with their own card; two cards for a disconnect).
    ("GET", "/api/v1/emergency"): P.AUDIT,
    ("GET", "/api/v1/emergency/incidents"): P.AUDIT,
    ("POST", "/api/v1/emergency/level"): SIGNED_IN,
    ("POST", "/api/v1/emergency/proposals"): SIGNED_IN,
    ("POST", "/api/v1/emergency/proposals/{proposal_id}/countersign"): SIGNED_IN,
    ("POST", "/api/v1/emergency/urgent-affairs"): SIGNED_IN,
    ("GET", "/security/emergency"): P.AUDIT,
    ("POST", "/security/emergency/level"): SIGNED_IN,
    ("POST", "/security/emergency/proposals"): SIGNED_IN,
    ("POST", "/security/emergency/proposals/{proposal_id}/countersign"): SIGNED_IN,
    ("POST", "/security/emergency/urgent-affairs"): SIGNED_IN,
    ("GET", "/api/v1/transparency/stats"): PUBLIC,
    ("GET", "/transparency"): PUBLIC,
    ("GET", "/transparency/stats.json"): PUBLIC,
    ("GET", "/transparency/stats.csv"): PUBLIC,
    ("GET", "/transparency/figures/{figure}.csv"): PUBLIC,
    # The log-signing public key: published, so that anyone can check a disclosure
    ("GET", "/log-public-key.pem"): PUBLIC,
    ("GET", "/api/v1/log-public-key"): PUBLIC,
    ("GET", "/api/v1/security/alerts"): P.AUDIT,
    ("GET", "/security/alerts"): P.AUDIT,
    ("GET", "/security/alerts.csv"): P.AUDIT,
    # The security console (every node) and the network map (the centre): security officers.
    ("GET", "/security/console"): P.WATCH_SECURITY,
    ("GET", "/api/v1/security/console"): P.WATCH_SECURITY,
    ("GET", "/security/network-map"): P.WATCH_SECURITY,
    ("GET", "/api/v1/network/map"): P.WATCH_SECURITY,
    ("GET", "/api/v1/network/overdue"): P.READ_OUTBOX,
    # Out-of-hours permits: anyone may ask for their own; approving is checked per action
    ("GET", "/permits"): SIGNED_IN,
    ("POST", "/permits"): P.REQUEST_PERMITS,
    ("POST", "/permits/{permit_id}/approve"): P.APPROVE_PERMITS,
    # Ending one's own permit is allowed to its holder; the service checks anyone else.
    ("POST", "/permits/{permit_id}/end"): SIGNED_IN,
    # One's own password (reachable out of hours too)
    ("GET", "/account/password"): SIGNED_IN,
    ("POST", "/account/password"): SIGNED_IN,
    # Operator security
    **{
        ("POST", f"/security/accounts/{action}"): P.MANAGE_OPERATORS
        for action in ("unlock", "enabled", "role", "password", "add")
    },
    ("GET", "/security/accounts"): P.MANAGE_OPERATORS,
    ("GET", "/security/cards"): P.MANAGE_OPERATOR_CARDS,
    **{
        ("POST", f"/security/cards/{action}"): P.MANAGE_OPERATOR_CARDS
        for action in ("lend", "return", "replace", "register", "register/finish")
    },
    # The holder may report their own card lost; the service checks anyone else.
    ("POST", "/security/cards/lost"): SIGNED_IN,
    # Agency officers' cards (the centre's and prefectures' consoles): the card administrator.
    ("GET", "/security/officer-cards"): P.MANAGE_OPERATOR_CARDS,
    **{
        ("POST", f"/security/officer-cards/{action}"): P.MANAGE_OPERATOR_CARDS
        for action in ("lend", "lend/finish", "lost")
    },
    ("GET", "/security/terminals"): P.MANAGE_TERMINALS,
    ("POST", "/security/terminals/revoke"): P.MANAGE_TERMINALS,
    ("POST", "/security/terminals/register"): P.MANAGE_TERMINALS,
    ("GET", "/security/hours"): P.MANAGE_HOURS,
    ("POST", "/security/hours"): P.MANAGE_HOURS,
    ("POST", "/security/hours/calendar"): P.MANAGE_HOURS,
}


def app_routes(app: FastAPI) -> Iterator[tuple[str, str, Any]]:
    """Every (method, full path, endpoint) the app serves, included routers walked."""

    def walk(routes: list[Any], prefix: str) -> Iterator[tuple[str, str, Any]]:
        for route in routes:
            original = getattr(route, "original_router", None)
            if original is not None:
                yield from walk(original.routes, prefix + route.include_context.prefix)
            elif getattr(route, "methods", None):
                for method in sorted(route.methods - {"HEAD"}):
                    yield method, prefix + route.path, getattr(route, "endpoint", None)

    return walk(app.router.routes, "")


def index_rules(app: FastAPI) -> dict[tuple[Any, str], Rule | None]:
    """Each endpoint's rule by (endpoint, method): what the check looks up per request."""
    return {
        (endpoint, method): ROUTE_RULES.get((method, path))
        for method, path, endpoint in app_routes(app)
    }


def rule_for(request: Request) -> Rule | None:
    """The rule of the route ``request`` matched (``None``: a route without a rule)."""
    rules: dict[tuple[Any, str], Rule | None] = request.app.state.route_rules
    method = "GET" if request.method == "HEAD" else request.method
    return rules.get((request.scope.get("endpoint"), method))


def check_rule(request: Request, actor: Actor | None) -> None:
    """Refuse before the route runs when the actor's role lacks the route's permission.

    ``actor`` is ``None`` for a caller not signed in: the route itself then asks for sign-in.
    """
    rule = rule_for(request)
    if rule is None:
        raise PermissionDenied(
            "JUKI-AUTH-021",
            ja="この画面・APIには権限の定めがないため、利用できません。",
            en="This route has no permission rule, so it is refused.",
        )
    if isinstance(rule, Permission) and actor is not None:
        actor.require(rule)
