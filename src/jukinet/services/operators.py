"""Operator accounts, sign-in and short-lived API tokens."""

from __future__ import annotations

import re
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from jukinet.domain.errors import AuthenticationFailed, Conflict
from jukinet.domain.names import validate_name
from jukinet.domain.operators import (
    Actor,
    Permission,
    Role,
    validate_password,
    validate_username,
)
from jukinet.services.context import ServiceContext
from jukinet.storage.tables import OperatorRow

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


def authenticate(
    node: ServiceContext, *, username: str, password: str, terminal_id: str | None = None
) -> Actor:
    """Check a username and password; the same error (and similar time) whatever was wrong."""
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
        if row is None or not ok or not row.active:
            raise AuthenticationFailed(
                "JUKI-AUTH-001",
                ja="ユーザー名またはパスワードが正しくありません。",
                en="The username or password is wrong.",
            )
        return Actor(
            operator_id=row.id,
            username=row.username,
            role=Role(row.role),
            terminal_id=terminal_id,
            display_name=row.display_name,
        )


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
