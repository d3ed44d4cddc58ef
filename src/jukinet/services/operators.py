"""Operator accounts, sign-in and short-lived API tokens."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from jukinet.domain.access_log import AccessEntry, Action, ActorKind, Channel
from jukinet.domain.errors import AuthenticationFailed, Conflict, ValidationError
from jukinet.domain.names import validate_name
from jukinet.domain.operators import (
    Actor,
    Permission,
    Role,
    validate_password,
    validate_username,
)
from jukinet.services.context import ServiceContext
from jukinet.storage import access_log
from jukinet.storage.tables import OperatorRow
from jukinet.storage.unit_of_work import UnitOfWork

_USERNAME = re.compile(r"^[a-z][a-z0-9_.-]{2,31}$")

TOKEN_SALT = "jukinet.api-token"  # noqa: S105 - a namespace, not a secret


@dataclass(frozen=True, slots=True)
class OperatorView:
    """An account as shown to security staff (never the hash)."""

    id: int
    username: str
    display_name: str
    role: Role
    active: bool


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
        view = _view(row)
        uow.commit()
        return view


_SIGNIN_REFUSED_JA = (
    "ユーザー名またはパスワードが正しくないか、アカウントがロックされています。"
    "ロックの解除はセキュリティ責任者に依頼してください。"
)
_SIGNIN_REFUSED_EN = (
    "The username or password is wrong, or the account is locked; "
    "a security officer unlocks a locked account."
)


def authenticate(
    node: ServiceContext, *, username: str, password: str, terminal_id: str | None = None
) -> Actor:
    """Check a username and password; the same error (and similar time) whatever was wrong.

    Wrong passwords in a row are counted; at ``signin_lockout_after`` the account locks and
    only a security officer unlocks it (:func:`unlock_operator`). A locked account is refused
    with the same answer as a wrong password — so guessing on cannot tell a right guess — and
    every failure and lock is recorded in the access log under the account's name (an unknown
    name is never written down: it may be a password typed in the wrong field).
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
            row.failed_signins = 0
            actor = Actor(
                operator_id=row.id,
                username=row.username,
                role=Role(row.role),
                terminal_id=terminal_id,
                display_name=row.display_name,
            )
            uow.commit()
            return actor
        if row is not None:
            _count_failure(node, uow, row, terminal_id=terminal_id, password_ok=ok)
            uow.commit()
        raise AuthenticationFailed("JUKI-AUTH-001", ja=_SIGNIN_REFUSED_JA, en=_SIGNIN_REFUSED_EN)


def _count_failure(
    node: ServiceContext,
    uow: UnitOfWork,
    row: OperatorRow,
    *,
    terminal_id: str | None,
    password_ok: bool,
) -> None:
    now = node.now()
    events = ["sign-in refused: locked account" if row.locked_at else "sign-in failed"]
    if not password_ok and row.locked_at is None:
        row.failed_signins += 1
        if row.failed_signins >= node.settings.signin_lockout_after:
            row.locked_at = now
            events.append(f"account locked after {row.failed_signins} failed sign-ins")
    access_log.record(
        uow.session,
        [_operator_event(node, row.username, reason, terminal_id, now) for reason in events],
    )


def _operator_event(
    node: ServiceContext, username: str, reason: str, terminal_id: str | None, now: datetime
) -> AccessEntry:
    return AccessEntry(
        recorded_at=now,
        node=str(node.node_id),
        action=Action.REFUSED,
        channel=Channel.COUNTER,
        actor_kind=ActorKind.OPERATOR,
        actor=username,
        reason=reason,
        terminal=terminal_id,
    )


def unlock_operator(node: ServiceContext, *, actor: Actor, username: str, reason: str) -> None:
    """Unlock a locked account (security staff only), with the reason recorded."""
    actor.require(Permission.MANAGE_OPERATORS)
    note = reason.strip()
    if not note or len(note) > 200:
        raise ValidationError(
            "JUKI-AUTH-006",
            ja="解除の理由を200文字以内で入力してください。",
            en="Give the reason for unlocking (at most 200 characters).",
            field="reason",
        )
    with node.uow() as uow:
        row = uow.operators.by_username(username)
        if row is None or row.locked_at is None:
            raise Conflict(
                "JUKI-AUTH-007",
                ja="このアカウントはロックされていません。",
                en="This account is not locked.",
                field="username",
            )
        row.locked_at = None
        row.failed_signins = 0
        now = node.now()
        entry = _operator_event(node, username, f"account unlocked: {note}", actor.terminal_id, now)
        access_log.record(
            uow.session,
            [dataclasses.replace(entry, action=Action.WRITE, actor=actor.username, subject=None)],
        )
        uow.commit()


def actor_by_id(node: ServiceContext, operator_id: int, *, terminal_id: str | None = None) -> Actor:
    """The actor for a signed-in session; refuses accounts disabled since sign-in."""
    with node.uow() as uow:
        row = uow.operators.by_id(operator_id)
        if row is None or not row.active:
            raise AuthenticationFailed(
                "JUKI-AUTH-002", ja="ログインしてください。", en="Please sign in."
            )
        return Actor(
            operator_id=row.id,
            username=row.username,
            role=Role(row.role),
            terminal_id=terminal_id,
            display_name=row.display_name,
        )


def issue_token(node: ServiceContext, actor: Actor) -> str:
    """A signed bearer token naming the operator; valid for ``token_ttl_seconds``."""
    serializer = URLSafeTimedSerializer(node.settings.secret_key, salt=TOKEN_SALT)
    return serializer.dumps({"op": actor.operator_id})


def actor_from_token(node: ServiceContext, token: str) -> Actor:
    """The actor a bearer token names, if the token is genuine and fresh."""
    serializer = URLSafeTimedSerializer(node.settings.secret_key, salt=TOKEN_SALT)
    try:
        data = serializer.loads(token, max_age=node.settings.token_ttl_seconds)
    except SignatureExpired as error:
        raise AuthenticationFailed(
            "JUKI-AUTH-004",
            ja="トークンの有効期限が切れています。",
            en="The token has expired; sign in again.",
        ) from error
    except BadSignature as error:
        raise AuthenticationFailed(
            "JUKI-AUTH-005", ja="トークンが正しくありません。", en="The token is not valid."
        ) from error
    return actor_by_id(node, int(data["op"]))


def list_operators(node: ServiceContext, *, actor: Actor) -> list[OperatorView]:
    """Every account (security staff)."""
    actor.require(Permission.MANAGE_OPERATORS)
    with node.uow() as uow:
        return [_view(r) for r in uow.operators.all()]


def _view(row: OperatorRow) -> OperatorView:
    return OperatorView(
        id=row.id,
        username=row.username,
        display_name=row.display_name,
        role=Role(row.role),
        active=row.active,
    )
