"""What every ``jukinet`` command needs: the one table of command rules.

Each command path (``"codes allot"``, ``"operator list"``, ``"db upgrade"`` …) maps to

* a :class:`~jukinet.domain.operators.Permission`: the command signs the operator in and
  :func:`jukinet.cli.common.act_as` requires the permission before anything else happens; the
  command (refused or not) is logged as ``operator:cli:command``;
* a :class:`CommandRule` that says :attr:`Check.OPEN`: the command needs no operator at all, for
  the reason given (the schema, serving, public proofs, a recipient's own client …);
* a :class:`CommandRule` that says :attr:`Check.SERVICE_CHECKED`: the command signs in and is
  logged, and the service it calls decides (who may do it is not one permission, e.g. a card's
  holder may report it lost).

Roles and what each may do are in :data:`jukinet.domain.operators.ROLE_PERMISSIONS`; this table
says which of those permissions each command needs. A test walks the Typer app and fails when a
command has no rule here, or a rule names a command that does not exist, and runs every
permission-guarded command as every role.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from jukinet.domain.operators import Permission


class Check(StrEnum):
    """How a command that needs no permission of its own is guarded."""

    #: No operator: nobody signs in (and nothing about a resident is shown or changed).
    OPEN = "open"
    #: Signs in and is logged; the service it calls checks the role.
    SERVICE_CHECKED = "service_checked"


OPEN = Check.OPEN
SERVICE_CHECKED = Check.SERVICE_CHECKED


@dataclass(frozen=True, slots=True)
class CommandRule:
    """A command that needs no single permission: open, or checked by its service."""

    check: Check
    #: Why (one line, for the reader of this table).
    reason: str
    #: The permission the service checks, when there is one.
    permission: Permission | None = None

    @classmethod
    def open(cls, reason: str) -> CommandRule:
        """A command nobody signs in for."""
        return cls(OPEN, reason)

    @classmethod
    def service(cls, reason: str, permission: Permission | None = None) -> CommandRule:
        """A command that signs in and leaves the check to its service."""
        return cls(SERVICE_CHECKED, reason, permission)


_ADMIN = Permission.ADMINISTER_SYSTEM
_OPERATORS = Permission.MANAGE_OPERATORS
_CARDS = Permission.MANAGE_OPERATOR_CARDS
_TERMINALS = Permission.MANAGE_TERMINALS
_RECIPIENTS = Permission.MANAGE_RECIPIENTS
_AGENCY = CommandRule.open(
    "a recipient's own client: it authenticates to the node with its TLS client certificate"
)

#: Every ``jukinet`` command and what it needs (keys are the command paths as typed).
COMMAND_RULES: dict[str, Permission | CommandRule] = {
    # The machine before (or without) any operator.
    "db upgrade": CommandRule.open("the schema is created before any operator exists"),
    "db current": CommandRule.open("shows the schema revision only"),
    "bootstrap": CommandRule.open(
        "creates the first operators; refused by the service once any operator exists"
    ),
    "serve": CommandRule.open("runs the server: operators sign in to its pages"),
    "node serve": CommandRule.open("runs a node: operators sign in to its pages"),
    "demo": CommandRule.open("builds a throw-away demo network of its own"),
    "demo-node": CommandRule.open("builds a throw-away demo node of its own"),
    "affairs": CommandRule.open("prints the statutory affairs table (public law)"),
    # A new node has no operators yet: rewriting an existing node.json signs in there.
    "node init": _ADMIN,
    # The access log's public proofs: verifying must not itself write to the log.
    "audit verify": CommandRule.open("checks the log's integrity; prints no personal data"),
    "audit consistency": CommandRule.open("proves public tree heads consistent"),
    "audit check-proof": CommandRule.open("checks a disclosure's proofs against public keys"),
    "audit init-key": _ADMIN,
    "audit head": Permission.AUDIT,
    "audit publish": Permission.AUDIT,
    "audit witnessed": Permission.READ_OUTBOX,
    "audit retention": _ADMIN,
    "audit alerts": Permission.AUDIT,
    "audit disclose": Permission.READ_RESIDENTS,
    # Emergencies: the service checks the roles (a security officer or a supervisor, the chief
    # officer's delegate) and, for a disconnect, two different operators' own cards.
    "emergency level": CommandRule.service(
        "the council's decision, recorded by a security officer or a supervisor"
    ),
    "emergency disconnect": CommandRule.service("the first of two cards (see the service)"),
    "emergency renew": CommandRule.service("the first of two cards (see the service)"),
    "emergency end": CommandRule.service("the first of two cards (see the service)"),
    "emergency countersign": CommandRule.service("the second card: another operator's"),
    "emergency urgent": CommandRule.service("a security officer or a supervisor"),
    "emergency status": Permission.AUDIT,
    "emergency incidents": Permission.AUDIT,
    # Accounts (security officers).
    "operator add": _OPERATORS,
    "operator list": _OPERATORS,
    "operator unlock": _OPERATORS,
    "operator disable": _OPERATORS,
    "operator enable": _OPERATORS,
    "operator role": _OPERATORS,
    "operator reset-password": _OPERATORS,
    # Operator cards (card administrators).
    "operator-card issue": _CARDS,
    "operator-card lend": _CARDS,
    "operator-card return": _CARDS,
    "operator-card replace": _CARDS,
    "operator-card list": _CARDS,
    "operator-card lost": CommandRule.service(
        "the card administrator, or the card's own holder, reports it lost", _CARDS
    ),
    # Residents' cards (card issuers; a loss report by any counter operator).
    "card apply": Permission.ISSUE_RESIDENT_CARDS,
    "card issue": Permission.ISSUE_RESIDENT_CARDS,
    "card pin-reset": Permission.ISSUE_RESIDENT_CARDS,
    "card pin-change": Permission.ISSUE_RESIDENT_CARDS,
    "card resume": Permission.ISSUE_RESIDENT_CARDS,
    "card return": Permission.ISSUE_RESIDENT_CARDS,
    "card lost": Permission.REPORT_CARD_LOSS,
    "card list": Permission.READ_RESIDENTS,
    "card history": Permission.READ_RESIDENTS,
    "card status": Permission.READ_RESIDENTS,
    "card sign-in": CommandRule.open(
        "the resident's own card answers the portal's challenge (no operator involved)"
    ),
    # Certificates: issued at the counter; checked by anyone holding one.
    "certificate issue": Permission.ISSUE_CERTIFICATES,
    "certificate wide-area": Permission.ISSUE_CERTIFICATES,
    "certificate verify": CommandRule.open(
        "anyone holding a certificate may check it; the answer shows only what it prints"
    ),
    # Signature certificates on resident cards (公的個人認証).
    "jpki issue": Permission.ISSUE_RESIDENT_CARDS,
    "jpki sign": CommandRule.open(
        "the resident's own tool: the card and its PIN sign; no operator, no node"
    ),
    "jpki verify": CommandRule.open(
        "a relying party's tool: public certificates and OCSP; no personal data is read"
    ),
    # Terminals: the terminal CA (system administrators), the register (security officers).
    "terminal init": _ADMIN,
    "terminal enroll": _TERMINALS,
    "terminal list": _TERMINALS,
    "terminal revoke": _TERMINALS,
    # The machine (system administrators).
    "codes allot": _ADMIN,
    "codes status": _ADMIN,
    "seed": _ADMIN,
    "reconcile": _ADMIN,
    "pki init": _ADMIN,
    "pki issue": _ADMIN,
    "pki issue-client": _ADMIN,
    "pki revoke-client": _ADMIN,
    "pki revoke": _ADMIN,
    "pki crl": _ADMIN,
    "network status": Permission.READ_OUTBOX,
    "network deadlines": Permission.READ_OUTBOX,
    "network initial-load": _ADMIN,
    "node participation": _ADMIN,
    "codes request": _ADMIN,
    # Recipients and their statutory affairs (supervisors).
    "recipient add": _RECIPIENTS,
    "recipient grant": _RECIPIENTS,
    "recipient revoke": _RECIPIENTS,
    "recipient list": _RECIPIENTS,
    "recipient history": _RECIPIENTS,
    "recipient seed": _ADMIN,
    "recipient officer-add": _RECIPIENTS,
    "recipient officer-unlock": _RECIPIENTS,
    "recipient officer-card-lend": _RECIPIENTS,
    "recipient officer-card-lost": _RECIPIENTS,
    # Card services by ordinance (条例利用): the registry (supervisors), enrolment (counter).
    "card-service add": Permission.MANAGE_CARD_SERVICES,
    "card-service deactivate": Permission.MANAGE_CARD_SERVICES,
    "card-service list": Permission.ENROL_CARD_SERVICES,
    "card-service enrol": Permission.ENROL_CARD_SERVICES,
    "card-service withdraw": Permission.ENROL_CARD_SERVICES,
    "card-service use": CommandRule.open(
        "a service terminal's own step: the resident's card and PIN are the credential, and "
        "only the service's identifier is printed (refusals and uses are logged)"
    ),
    # Residents: counter work.
    "resident show": Permission.READ_RESIDENTS,
    "resident search": Permission.READ_RESIDENTS,
    "register move-in": Permission.FILE_EVENTS,
    "register birth": Permission.FILE_EVENTS,
    "register move-within": Permission.FILE_EVENTS,
    "register move-out": Permission.FILE_EVENTS,
    "register card-move-out": Permission.FILE_EVENTS,
    "register card-move-in": Permission.FILE_EVENTS,
    "register card-continue": Permission.FILE_EVENTS,
    "register death": Permission.FILE_EVENTS,
    "register name-change": Permission.FILE_EVENTS,
    "register code-change": Permission.FILE_EVENTS,
    "register opt-out": Permission.FILE_EVENTS,
    "register household-change": Permission.FILE_EVENTS,
    # A recipient's client (no operator of this node).
    "agency affairs": _AGENCY,
    "agency lookup": _AGENCY,
    "agency search": _AGENCY,
    "agency batch-submit": _AGENCY,
    "agency batch-status": _AGENCY,
    "agency batch-results": _AGENCY,
}


def rule_for(command: str) -> Permission | CommandRule:
    """The rule for ``command``; a :class:`KeyError` names a command the table lacks."""
    try:
        return COMMAND_RULES[command]
    except KeyError:
        raise KeyError(f"no rule for the command {command!r} in jukinet.cli.permissions") from None
