"""Operator accounts, sign-in and short-lived API tokens."""

from __future__ import annotations

import re
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import update
from sqlalchemy.orm import Session

from jukinet.domain.errors import AuthenticationFailed, Conflict, NotFound, ValidationError
from jukinet.domain.names import validate_name
from jukinet.domain.operator_events import OperatorEvent
from jukinet.domain.operators import (
    Actor,
    Permission,
    Role,
    validate_password,
    validate_username,
)
from jukinet.services.context import ServiceContext
from jukinet.services.operator_security.events import log_event
from jukinet.storage.tables import OperatorRow, OperatorSessionRow
from jukinet.storage.unit_of_work import UnitOfWork

_USERNAME = re.compile(r"^[a-z][a-z0-9_.-]{2,31}$")


@dataclass(frozen=True, slots=True)
class OperatorView:
    """An account as shown to security staff (never the hash)."""

    id: int
    username: str
    display_name: str
    role: Role
    active: bool
    #: Locked after too many failed sign-ins (only security staff unlock it).
    locked: bool = False
    #: Failed sign-ins in a row since the last good one.
    failed_signins: int = 0


def password_hasher(node: ServiceContext) -> PasswordHasher:
    """argon2id with the node's configured cost."""
    return PasswordHasher(
        time_cost=node.settings.argon2_time_cost, memory_cost=node.settings.argon2_memory_cost
    )


_DUMMY_HASHES: dict[tuple[int, int], str] = {}


def _dummy_hash(hasher: PasswordHasher) -> str:
    key = (hasher.time_cost, hasher.memory_cost)
    if key not in _DUMMY_HASHES:
        _DUMMY_HASHES[key] = hasher.hash("jukinet-dummy-password")
    return _DUMMY_HASHES[key]


def add_operator(
    node: ServiceContext,
    *,
    actor: Actor | None,
    username: str,
    display_name: str,
    role: Role,
    password: str,
) -> OperatorView:
    """Create an account. ``actor`` is ``None`` only for the command line run on the server."""
    if actor is not None:
        actor.require(Permission.MANAGE_OPERATORS)
    name = validate_username(username)
    display = validate_name(display_name, field="display_name", max_length=60)
    secret = validate_password(password)
    hasher = password_hasher(node)
    with node.uow() as uow:
        if uow.operators.by_username(name) is not None:
            raise Conflict(
                "JUKI-AUTH-012",
                ja="このユーザー名は既に使われています。",
                en="This username is already taken.",
                field="username",
            )
        row = uow.operators.add(
            OperatorRow(
                username=name,
                display_name=display,
                role=role.value,
                password_hash=hasher.hash(secret),
                active=True,
                created_at=node.now(),
            )
        )
        view = operator_view(row)
        if actor is not None:
            # The command line's own set-up (no actor) is the server console's, not an event.
            log_event(
                node,
                uow.session,
                OperatorEvent.ADDED,
                actor=actor.username,
                text=f"{name} ({role.value})",
                terminal=actor.terminal_id,
            )
        uow.commit()
        return view


#: The password hash of the inactive accounts server-side jobs write as (no password matches).
NO_PASSWORD = "!"  # noqa: S105 - not a password: the mark of an account nobody signs in as


_SIGNIN_REFUSED_JA = (
    "ユーザー名またはパスワードが正しくないか、アカウントがロックされています。"
    "ロックの解除はセキュリティ責任者に依頼してください。"
)
_SIGNIN_REFUSED_EN = (
    "The username or password is wrong, or the account is locked; "
    "a security officer unlocks a locked account."
)


def verify_password(
    node: ServiceContext, *, username: str, password: str, terminal_id: str | None = None
) -> int:
    """The first step of sign-in: the operator's id if the password is right and the account
    usable; the same error (and similar time) whatever was wrong.

    Failures in a row (a wrong password here, a refused card in the second step) are counted;
    at ``signin_lockout_after`` the account locks and only a security officer unlocks it
    (:func:`unlock_operator`). A locked or disabled account is refused with the same answer as
    a wrong password — so guessing on cannot tell a right guess — and every failure and lock is
    recorded in the access log under the account's name (an unknown name is never written
    down: it may be a password typed in the wrong field).
    """
    hasher = password_hasher(node)
    with node.uow() as uow:
        # A name that cannot be a username is treated as unknown (it never reaches the query).
        row = uow.operators.by_username(username) if _USERNAME.match(username) else None
        ok = False
        try:
            # Verify against a dummy hash for unknown users so timing does not tell who exists.
            ok = hasher.verify(row.password_hash if row else _dummy_hash(hasher), password)
        except (VerificationError, InvalidHashError):
            ok = False
        if row is not None and row.active and ok and row.locked_at is None:
            return row.id
        if row is not None:
            count_failure(node, uow.session, row, terminal_id=terminal_id, password_ok=ok)
            uow.commit()
        raise AuthenticationFailed("JUKI-AUTH-001", ja=_SIGNIN_REFUSED_JA, en=_SIGNIN_REFUSED_EN)


def authenticate(
    node: ServiceContext, *, username: str, password: str, terminal_id: str | None = None
) -> Actor:
    """The actor for an in-process caller holding the password (the demo's own setup, tests).

    Opens no session and reaches no route: operators sign in through
    :mod:`jukinet.services.operator_security.signin`, with their card.
    """
    operator_id = verify_password(
        node, username=username, password=password, terminal_id=terminal_id
    )
    with node.uow() as uow:
        row = uow.operators.by_id(operator_id)
        if row is None:
            raise AuthenticationFailed(
                "JUKI-AUTH-001", ja=_SIGNIN_REFUSED_JA, en=_SIGNIN_REFUSED_EN
            )
        return Actor(
            operator_id=row.id,
            username=row.username,
            role=Role(row.role),
            terminal_id=terminal_id,
            display_name=row.display_name,
        )


def count_failure(
    node: ServiceContext,
    session: Session,
    row: OperatorRow,
    *,
    terminal_id: str | None,
    password_ok: bool,
) -> None:
    """Record a refused sign-in; a wrong password or card counts towards the lockout."""
    now = node.now()
    if row.locked_at is not None:
        events = [(OperatorEvent.SIGNIN_LOCKED_ACCOUNT, "")]
    elif not row.active:
        events = [(OperatorEvent.SIGNIN_FAILED, "disabled account")]
    else:
        events = [(OperatorEvent.SIGNIN_FAILED, "")]
    if not password_ok and row.locked_at is None and row.active:
        row.failed_signins += 1
        if row.failed_signins >= node.settings.signin_lockout_after:
            row.locked_at = now
            events.append((OperatorEvent.LOCKED, f"after {row.failed_signins} failed sign-ins"))
            end_sessions(node, session, row, reason="account locked")
    for event, text in events:
        log_event(
            node, session, event, actor=row.username, text=text, terminal=terminal_id, refused=True
        )


def end_sessions(node: ServiceContext, session: Session, row: OperatorRow, *, reason: str) -> int:
    """End every live session of the operator at once (sign-out everywhere)."""
    now = node.now()
    result = session.execute(
        update(OperatorSessionRow)
        .where(OperatorSessionRow.operator_id == row.id, OperatorSessionRow.ended_at.is_(None))
        .values(ended_at=now, end_reason=reason[:80])
    )
    ended = int(getattr(result, "rowcount", 0) or 0)
    if ended:
        log_event(
            node,
            session,
            OperatorEvent.SESSIONS_ENDED,
            actor=row.username,
            text=f"{ended} session(s): {reason}",
        )
    return ended


def _reason(reason: str, *, code: str, what_ja: str, what_en: str) -> str:
    note = reason.strip()
    if not note or len(note) > 200:
        raise ValidationError(
            code,
            ja=f"{what_ja}の理由を200文字以内で入力してください。",
            en=f"Give the reason for {what_en} (at most 200 characters).",
            field="reason",
        )
    return note


def _account(uow: UnitOfWork, username: str) -> OperatorRow:
    row = uow.operators.by_username(username) if _USERNAME.match(username) else None
    if row is None:
        raise NotFound(
            "JUKI-AUTH-013",
            ja="その操作者アカウントはありません。",
            en="No such operator account.",
            field="username",
        )
    return row


def _someone_elses_account(uow: UnitOfWork, username: str, actor: Actor) -> OperatorRow:
    # Nobody disables their own account or gives themselves another role.
    row = _account(uow, username)
    if row.id == actor.operator_id:
        raise Conflict(
            "JUKI-AUTH-015",
            ja="自分自身のアカウントは変更できません。",
            en="You cannot change your own account.",
            field="username",
        )
    return row


def unlock_operator(node: ServiceContext, *, actor: Actor, username: str, reason: str) -> None:
    """Unlock a locked account (security staff only), with the reason recorded."""
    actor.require(Permission.MANAGE_OPERATORS)
    note = _reason(reason, code="JUKI-AUTH-006", what_ja="解除", what_en="unlocking")
    with node.uow() as uow:
        row = _account(uow, username)
        if row.locked_at is None:
            raise Conflict(
                "JUKI-AUTH-007",
                ja="このアカウントはロックされていません。",
                en="This account is not locked.",
                field="username",
            )
        row.locked_at = None
        row.failed_signins = 0
        log_event(
            node,
            uow.session,
            OperatorEvent.UNLOCKED,
            actor=actor.username,
            text=f"{username}: {note}",
            terminal=actor.terminal_id,
        )
        uow.commit()


def set_account_enabled(
    node: ServiceContext, *, actor: Actor, username: str, enabled: bool, reason: str
) -> None:
    """Disable (every session ends at once) or re-enable an account (security staff)."""
    actor.require(Permission.MANAGE_OPERATORS)
    note = _reason(
        reason,
        code="JUKI-AUTH-014",
        what_ja="有効化" if enabled else "無効化",
        what_en="enabling" if enabled else "disabling",
    )
    with node.uow() as uow:
        row = _someone_elses_account(uow, username, actor)
        if row.active == enabled:
            raise Conflict(
                "JUKI-AUTH-016",
                ja="アカウントは既にその状態です。",
                en=f"The account is already {'enabled' if enabled else 'disabled'}.",
                field="username",
            )
        row.active = enabled
        if not enabled:
            end_sessions(node, uow.session, row, reason="account disabled")
        log_event(
            node,
            uow.session,
            OperatorEvent.ENABLED if enabled else OperatorEvent.DISABLED,
            actor=actor.username,
            text=f"{username}: {note}",
            terminal=actor.terminal_id,
        )
        uow.commit()


def change_role(
    node: ServiceContext, *, actor: Actor, username: str, role: Role, reason: str
) -> None:
    """Give an account another role (security staff); its sessions end at once."""
    actor.require(Permission.MANAGE_OPERATORS)
    note = _reason(reason, code="JUKI-AUTH-017", what_ja="役割変更", what_en="the role change")
    with node.uow() as uow:
        row = _someone_elses_account(uow, username, actor)
        before = row.role
        row.role = role.value
        end_sessions(node, uow.session, row, reason="role changed")
        log_event(
            node,
            uow.session,
            OperatorEvent.ROLE_CHANGED,
            actor=actor.username,
            text=f"{username}: {before} -> {role.value}: {note}",
            terminal=actor.terminal_id,
        )
        uow.commit()


def reset_password(
    node: ServiceContext, *, actor: Actor, username: str, new_password: str, reason: str
) -> None:
    """Set a new password for someone who forgot theirs (security staff); sessions end."""
    actor.require(Permission.MANAGE_OPERATORS)
    note = _reason(reason, code="JUKI-AUTH-018", what_ja="再設定", what_en="the reset")
    secret = validate_password(new_password)
    hashed = password_hasher(node).hash(secret)
    with node.uow() as uow:
        row = _account(uow, username)
        row.password_hash = hashed
        end_sessions(node, uow.session, row, reason="password reset")
        log_event(
            node,
            uow.session,
            OperatorEvent.PASSWORD_RESET,
            actor=actor.username,
            text=f"{username}: {note}",
            terminal=actor.terminal_id,
        )
        uow.commit()


def change_own_password(
    node: ServiceContext, *, actor: Actor, current_password: str, new_password: str
) -> None:
    """An operator changes their own password; every other session of theirs ends."""
    hasher = password_hasher(node)
    secret = validate_password(new_password)
    with node.uow() as uow:
        row = uow.operators.by_id(actor.operator_id)
        try:
            ok = row is not None and hasher.verify(row.password_hash, current_password)
        except (VerificationError, InvalidHashError):
            ok = False
        if row is None or not ok:
            raise AuthenticationFailed(
                "JUKI-AUTH-019",
                ja="現在のパスワードが正しくありません。",
                en="The current password is wrong.",
                field="current_password",
            )
        row.password_hash = hasher.hash(secret)
        end_sessions(node, uow.session, row, reason="password changed")
        log_event(
            node,
            uow.session,
            OperatorEvent.PASSWORD_CHANGED,
            actor=actor.username,
            terminal=actor.terminal_id,
        )
        uow.commit()


def list_operators(node: ServiceContext, *, actor: Actor) -> list[OperatorView]:
    """Every account (security staff)."""
    actor.require(Permission.MANAGE_OPERATORS)
    with node.uow() as uow:
        return [operator_view(r) for r in uow.operators.all()]


def operator_view(row: OperatorRow) -> OperatorView:
    """An account as security staff see it."""
    return OperatorView(
        id=row.id,
        username=row.username,
        display_name=row.display_name,
        role=Role(row.role),
        active=row.active,
        locked=row.locked_at is not None,
        failed_signins=row.failed_signins or 0,
    )
