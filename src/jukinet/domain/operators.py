"""Operators, their roles and what each role may do.

Every service call carries an :class:`Actor`; the terminal slot is there for the issue that
brings operator cards and registered terminals.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from jukinet.domain.errors import PermissionDenied, ValidationError


class Role(StrEnum):
    """Roles seen in municipal operating rules."""

    CLERK = "clerk"
    SUPERVISOR = "supervisor"
    SECURITY_OFFICER = "security_officer"

    @property
    def label_ja(self) -> str:
        """The role's Japanese name."""
        return {
            "clerk": "窓口担当",
            "supervisor": "管理職",
            "security_officer": "セキュリティ責任者",
        }[self.value]


class Permission(StrEnum):
    """Things an operator may be allowed to do."""

    READ_RESIDENTS = "read_residents"
    FILE_EVENTS = "file_events"
    EX_OFFICIO = "ex_officio"
    MANAGE_OPERATORS = "manage_operators"
    READ_OUTBOX = "read_outbox"
    #: Read the access log, its alerts and statistics; verify it (security staff, supervisors).
    AUDIT = "audit"
    #: Register recipients and grant or revoke statutory affairs.
    MANAGE_RECIPIENTS = "manage_recipients"


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.CLERK: frozenset({Permission.READ_RESIDENTS, Permission.FILE_EVENTS}),
    # Ex-officio entries and corrections are the municipality's own acts: a supervisor decides them.
    Role.SUPERVISOR: frozenset(
        {
            Permission.READ_RESIDENTS,
            Permission.FILE_EVENTS,
            Permission.EX_OFFICIO,
            Permission.READ_OUTBOX,
            Permission.AUDIT,
            Permission.MANAGE_RECIPIENTS,
        }
    ),
    # Security staff manage accounts and watch the flow; they have no business reading residents.
    Role.SECURITY_OFFICER: frozenset(
        {Permission.MANAGE_OPERATORS, Permission.READ_OUTBOX, Permission.AUDIT}
    ),
}


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is acting: the operator, their role, and (later) the registered terminal."""

    operator_id: int
    username: str
    role: Role
    terminal_id: str | None = None
    display_name: str = ""

    def can(self, permission: Permission) -> bool:
        """Whether this actor's role grants ``permission``."""
        return permission in ROLE_PERMISSIONS[self.role]

    def require(self, permission: Permission) -> None:
        """Raise :class:`PermissionDenied` unless the role grants ``permission``."""
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
