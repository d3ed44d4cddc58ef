"""Operators, their roles and what each role may do.

Every service call carries an :class:`Actor`: the operator, the role, the registered terminal
and the operator card the session was opened with. :data:`ROLE_PERMISSIONS` is the one table of
who may do what.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from jukinet.domain.errors import PermissionDenied, ValidationError


class Role(StrEnum):
    """Roles seen in municipal operating rules (domain.md §6), one per duty."""

    #: 業務端末操作者 — counter work: reads and files events, never card issuance.
    CLERK = "clerk"
    #: 管理職 — everything a clerk does plus the municipality's own acts (職権) and recipients.
    SUPERVISOR = "supervisor"
    #: カード管理者 — the register of operator cards: issue, lend, take back, revoke.
    CARD_ADMINISTRATOR = "card_administrator"
    #: カード発行者 — issues residents' cards (住基カード) at the counter.
    CARD_ISSUER = "card_issuer"
    #: セキュリティ責任者 — accounts, terminals, hours, permits; never residents.
    SECURITY_OFFICER = "security_officer"
    #: 監査担当 — reads the access log and statistics; never residents.
    AUDITOR = "auditor"
    #: システム管理者 — nodes, PKI, schema, code pools; never residents.
    SYSTEM_ADMINISTRATOR = "system_administrator"

    @property
    def label_ja(self) -> str:
        """The role's Japanese name."""
        return _ROLE_LABELS_JA[self.value]


_ROLE_LABELS_JA = {
    "clerk": "窓口担当",
    "supervisor": "管理職",
    "card_administrator": "カード管理者",
    "card_issuer": "カード発行者",
    "security_officer": "セキュリティ責任者",
    "auditor": "監査担当",
    "system_administrator": "システム管理者",
}


class Permission(StrEnum):
    """Things an operator may be allowed to do."""

    READ_RESIDENTS = "read_residents"
    FILE_EVENTS = "file_events"
    EX_OFFICIO = "ex_officio"
    #: Show a resident code in full (an explicit, logged act; screens mask codes otherwise).
    REVEAL_CODES = "reveal_codes"
    #: Accounts: add, disable, enable, unlock, change roles, reset passwords.
    MANAGE_OPERATORS = "manage_operators"
    #: Register, name and revoke terminals.
    MANAGE_TERMINALS = "manage_terminals"
    #: Operating hours and the calendar of closures.
    MANAGE_HOURS = "manage_hours"
    #: The register of operator cards: issue, lend, take back, revoke, replace.
    MANAGE_OPERATOR_CARDS = "manage_operator_cards"
    #: Issue residents' cards (住基カード).
    ISSUE_RESIDENT_CARDS = "issue_resident_cards"
    #: Take a loss report for a resident's card (suspends it at once; a phone call is enough).
    REPORT_CARD_LOSS = "report_card_loss"
    #: Issue certificates from the register (住民票の写し …) at the counter.
    ISSUE_CERTIFICATES = "issue_certificates"
    #: The registry of card services by ordinance (条例利用): add and deactivate services.
    MANAGE_CARD_SERVICES = "manage_card_services"
    #: Enrol a resident in a card service, or withdraw them, at the counter.
    ENROL_CARD_SERVICES = "enrol_card_services"
    #: Ask for an out-of-hours permit (for oneself).
    REQUEST_PERMITS = "request_permits"
    #: Approve or end somebody else's out-of-hours permit.
    APPROVE_PERMITS = "approve_permits"
    READ_OUTBOX = "read_outbox"
    #: Read the access log, its alerts and statistics; verify it.
    AUDIT = "audit"
    #: Register recipients and grant or revoke statutory affairs.
    MANAGE_RECIPIENTS = "manage_recipients"
    #: Nodes, PKI, schema, code pools, synthetic data: the machine, never a resident.
    ADMINISTER_SYSTEM = "administer_system"
    #: The security console (alerts, overdue deliveries, links, incidents) and, at the
    #: centre, the network map: the security officer's watch, never a resident.
    WATCH_SECURITY = "watch_security"


#: The one permission table: a test generated from it walks every route and command.
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.CLERK: frozenset(
        {
            Permission.READ_RESIDENTS,
            Permission.FILE_EVENTS,
            Permission.REVEAL_CODES,
            Permission.REPORT_CARD_LOSS,
            Permission.ISSUE_CERTIFICATES,
            Permission.ENROL_CARD_SERVICES,
            Permission.REQUEST_PERMITS,
        }
    ),
    # Ex-officio entries and corrections are the municipality's own acts: a supervisor decides them.
    Role.SUPERVISOR: frozenset(
        {
            Permission.READ_RESIDENTS,
            Permission.FILE_EVENTS,
            Permission.EX_OFFICIO,
            Permission.REVEAL_CODES,
            Permission.REPORT_CARD_LOSS,
            Permission.ISSUE_CERTIFICATES,
            Permission.REQUEST_PERMITS,
            Permission.APPROVE_PERMITS,
            Permission.READ_OUTBOX,
            Permission.AUDIT,
            Permission.MANAGE_RECIPIENTS,
            # The services the council enacted are the municipality's own decision.
            Permission.MANAGE_CARD_SERVICES,
            Permission.ENROL_CARD_SERVICES,
        }
    ),
    Role.CARD_ADMINISTRATOR: frozenset({Permission.MANAGE_OPERATOR_CARDS}),
    # Card issuers see the resident in front of them; they file no register events.
    Role.CARD_ISSUER: frozenset(
        {
            Permission.READ_RESIDENTS,
            Permission.ISSUE_RESIDENT_CARDS,
            Permission.REPORT_CARD_LOSS,
            Permission.ENROL_CARD_SERVICES,
            Permission.REQUEST_PERMITS,
        }
    ),
    # Security staff manage accounts and watch the flow; they have no business reading residents.
    Role.SECURITY_OFFICER: frozenset(
        {
            Permission.MANAGE_OPERATORS,
            Permission.MANAGE_TERMINALS,
            Permission.MANAGE_HOURS,
            Permission.APPROVE_PERMITS,
            Permission.REQUEST_PERMITS,
            Permission.READ_OUTBOX,
            Permission.AUDIT,
            Permission.WATCH_SECURITY,
        }
    ),
    Role.AUDITOR: frozenset({Permission.AUDIT, Permission.REQUEST_PERMITS}),
    Role.SYSTEM_ADMINISTRATOR: frozenset(
        {Permission.ADMINISTER_SYSTEM, Permission.READ_OUTBOX, Permission.REQUEST_PERMITS}
    ),
}


#: What an operator may still do outside the hours without a permit: the permit work itself.
OUT_OF_HOURS_PERMISSIONS: frozenset[Permission] = frozenset(
    {Permission.REQUEST_PERMITS, Permission.APPROVE_PERMITS}
)


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is acting: the operator, their role, the terminal and the card they sign in with."""

    operator_id: int
    username: str
    role: Role
    terminal_id: str | None = None
    display_name: str = ""
    #: The serial of the operator card this session was opened with.
    card_serial: str | None = None
    #: The server-side session (pages and API tokens both hang off one), ended at once on
    #: sign-out, card loss, or a role or account change.
    session_id: str | None = None
    #: Signed in outside the node's operating hours without a permit in force: only permit
    #: work (asking for one, approving another's) is allowed.
    out_of_hours: bool = False

    def can(self, permission: Permission) -> bool:
        """Whether this actor's role grants ``permission`` now (hours included)."""
        if self.out_of_hours and permission not in OUT_OF_HOURS_PERMISSIONS:
            return False
        return permission in ROLE_PERMISSIONS[self.role]

    def require(self, permission: Permission) -> None:
        """Raise :class:`PermissionDenied` unless the role grants ``permission`` now."""
        if self.out_of_hours and permission not in OUT_OF_HOURS_PERMISSIONS:
            raise PermissionDenied(
                "JUKI-AUTH-020",
                ja="業務時間外です。時間外利用許可を申請し、承認を受けてください。",
                en="This is outside operating hours: ask for an out-of-hours permit and have "
                "it approved.",
            )
        if not self.can(permission):
            raise PermissionDenied(
                "JUKI-AUTH-003",
                ja="この操作を行う権限がありません。",
                en=f"Your role does not permit this operation ({permission.value}).",
            )


_USERNAME = re.compile(r"^[a-z][a-z0-9_.-]{2,31}$")
MIN_PASSWORD_LENGTH = 12


def validate_username(value: str) -> str:
    """Usernames are lower-case ASCII, 3–32 characters, starting with a letter."""
    if not _USERNAME.match(value):
        raise ValidationError(
            "JUKI-AUTH-010",
            ja="ユーザー名は英小文字で始まる3〜32文字の英小文字・数字・._-で入力してください。",
            en="A username is 3–32 characters of a-z, 0-9, '.', '_' or '-', "
            "starting with a letter.",
            field="username",
        )
    return value


def validate_password(value: str) -> str:
    """Passwords are at least 12 characters (operators also hold a card in a later issue)."""
    if len(value) < MIN_PASSWORD_LENGTH or len(value) > 256:
        raise ValidationError(
            "JUKI-AUTH-011",
            ja=f"パスワードは{MIN_PASSWORD_LENGTH}文字以上256文字以下にしてください。",
            en=f"A password must be {MIN_PASSWORD_LENGTH} to 256 characters long.",
            field="password",
        )
    return value
