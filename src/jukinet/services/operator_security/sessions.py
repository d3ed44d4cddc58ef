"""Server-side sessions: opened after password and card, checked on every request.

The browser's cookie and the API's bearer token hold only a random secret; the server keeps its
SHA-256 with the operator, the card and the terminal. Every request re-checks the whole chain —
session not ended, idle and absolute limits, account enabled and unlocked, card still lent to
this operator, terminal still registered, hours or a permit — so that a lost card, a disabled
account or a revoked terminal stops work on the next request, not at the next sign-in.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from jukinet.domain.clock import aware_utc
from jukinet.domain.errors import AuthenticationFailed
from jukinet.domain.operator_events import OperatorEvent
from jukinet.domain.operators import Actor, Role
from jukinet.services.context import ServiceContext
from jukinet.services.operator_security.events import log_event
from jukinet.services.operator_security.hours import within_hours
from jukinet.storage.tables import (
    OperatorCardRow,
    OperatorRow,
    OperatorSessionRow,
    TerminalRow,
)

#: Activity is written back at most this often (a write per page view would queue every
#: request behind SQLite's single writer).
TOUCH_EVERY = timedelta(seconds=60)

CHANNELS = ("page", "api", "cli")

# Why a session ended, as the codes of the refusal the next request gets.
IDLE = "JUKI-AUTH-040"
LIFETIME = "JUKI-AUTH-041"
ACCOUNT = "JUKI-AUTH-042"
CARD = "JUKI-AUTH-043"
TERMINAL = "JUKI-AUTH-044"
NOT_VALID = "JUKI-AUTH-005"


def session_key(secret: str) -> str:
    """What the server stores for a session secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


def open_session(
    node: ServiceContext,
    session: Session,
    *,
    operator: OperatorRow,
    card: OperatorCardRow,
    terminal: TerminalRow,
    channel: str,
) -> str:
    """Start a session in the caller's transaction; returns the secret for the cookie/token."""
    secret = secrets.token_urlsafe(32)
    now = node.now()
    session.add(
        OperatorSessionRow(
            id=session_key(secret),
            operator_id=operator.id,
            card_id=card.id,
            terminal=terminal.name,
            channel=channel,
            started_at=now,
            last_seen_at=now,
            end_reason="",
        )
    )
    log_event(
        node,
        session,
        OperatorEvent.SIGNIN,
        actor=operator.username,
        text=f"{channel} card {card.serial}",
        terminal=terminal.name,
    )
    return secret


def ending_error(code: str) -> AuthenticationFailed:
    """The refusal for a session that ended, by its code (shown again on the sign-in page)."""
    ja, en = _ENDINGS.get(code, _ENDINGS["JUKI-AUTH-002"])
    return AuthenticationFailed(code if code in _ENDINGS else "JUKI-AUTH-002", ja=ja, en=en)


def resolve_session(
    node: ServiceContext, secret: str, *, terminal: TerminalRow, channel: str | None = None
) -> Actor:
    """The actor of a live session, after every check; :class:`AuthenticationFailed` if not.

    Runs on every request, so it reads in a read-only transaction (on SQLite: no turn in the
    writer queue) with one joined query for the session, its operator and its card, then the
    hours; only ending the session or recording its activity writes, in a short transaction
    of its own.
    """
    now = node.now()
    key = session_key(secret)
    touch = False
    with node.read_session() as session:
        found = session.execute(_LIVE_SESSION, {"key": key}).first()
        if found is None:
            raise ending_error(NOT_VALID)
        row, operator, card = found
        if row.ended_at is not None:
            # Ended by another's act (a lost or returned card, a disabled or locked account):
            # say which while it still holds, so the sign-in page can tell the operator why.
            raise ending_error(_why_it_ends(row, operator, card, terminal=terminal) or NOT_VALID)
        if channel is not None and row.channel != channel:
            raise ending_error(NOT_VALID)
        ending = check_limits(node, row, now) or _why_it_ends(
            row, operator, card, terminal=terminal
        )
        if ending is None:
            in_hours = node.settings.always_open or within_hours(session, operator.id, now)
            touch = now - aware_utc(row.last_seen_at) >= TOUCH_EVERY
            actor = Actor(
                operator_id=operator.id,
                username=operator.username,
                role=Role(operator.role),
                terminal_id=terminal.name,
                display_name=operator.display_name,
                card_serial=card.serial,
                session_id=row.id,
                out_of_hours=not in_hours,
            )
    if ending is not None:
        _end_live(node, key, ending, now)
        raise ending_error(ending)
    if touch:
        _touch(node, key, now)
    return actor


#: The session with its operator and card, in one round trip (outer joins: a missing operator
#: or card is reported as such by :func:`_why_it_ends`).
_LIVE_SESSION = (
    select(OperatorSessionRow, OperatorRow, OperatorCardRow)
    .outerjoin(OperatorRow, OperatorRow.id == OperatorSessionRow.operator_id)
    .outerjoin(OperatorCardRow, OperatorCardRow.id == OperatorSessionRow.card_id)
    .where(OperatorSessionRow.id == bindparam("key"))
)


def _end_live(node: ServiceContext, key: str, reason: str, now: datetime) -> None:
    """End a session found running out (unless another request ended it first)."""
    with node.uow() as uow:
        uow.session.execute(
            update(OperatorSessionRow)
            .where(OperatorSessionRow.id == key, OperatorSessionRow.ended_at.is_(None))
            .values(ended_at=now, end_reason=reason[:80])
        )
        uow.commit()


def _touch(node: ServiceContext, key: str, now: datetime) -> None:
    """Record the session's activity (at most every :data:`TOUCH_EVERY`)."""
    with node.uow() as uow:
        uow.session.execute(
            update(OperatorSessionRow)
            .where(OperatorSessionRow.id == key, OperatorSessionRow.ended_at.is_(None))
            .values(last_seen_at=now)
        )
        uow.commit()


_ENDINGS: dict[str, tuple[str, str]] = {
    "JUKI-AUTH-002": ("ログインしてください。", "Please sign in."),
    NOT_VALID: (
        "トークンまたはセッションが正しくないか、終了しています。もう一度ログインしてください。",
        "The token or session is not valid, or it has ended; sign in again.",
    ),
    IDLE: (
        "一定時間操作がなかったため、ログアウトしました。もう一度ログインしてください。",
        "You were signed out after a period without activity; sign in again.",
    ),
    LIFETIME: (
        "セッションの最長時間を超えました。もう一度ログインしてください。",
        "The session reached its maximum length; sign in again.",
    ),
    ACCOUNT: (
        "アカウントが無効またはロックされています。セキュリティ責任者に連絡してください。",
        "The account is disabled or locked; contact a security officer.",
    ),
    CARD: (
        "操作者カードが返却・紛失などにより使用できません。カード管理者に連絡してください。",
        "The operator card is no longer lent to you (returned, lost or replaced); contact the "
        "card administrator.",
    ),
    TERMINAL: (
        "この端末は登録されていないか、登録が取り消されています。",
        "This terminal is not registered, or its registration was revoked.",
    ),
}


def _why_it_ends(
    row: OperatorSessionRow,
    operator: OperatorRow | None,
    card: OperatorCardRow | None,
    *,
    terminal: TerminalRow,
) -> str | None:
    if operator is None or not operator.active or operator.locked_at is not None:
        return ACCOUNT
    if card is None or card.status != "lent" or card.operator_id != operator.id:
        return CARD
    if terminal.status != "active" or terminal.name != row.terminal:
        return TERMINAL
    return None


def check_limits(node: ServiceContext, row: OperatorSessionRow, now: datetime) -> str | None:
    """:data:`IDLE` or :data:`LIFETIME` when the session has run out, else ``None``."""
    settings = node.settings
    if row.channel == "api":
        lifetime = timedelta(seconds=settings.token_ttl_seconds)
    else:
        lifetime = timedelta(seconds=settings.session_ttl_seconds)
    if now - aware_utc(row.started_at) > lifetime:
        return LIFETIME
    if row.channel != "api" and now - aware_utc(row.last_seen_at) > timedelta(
        seconds=settings.session_idle_seconds
    ):
        return IDLE
    return None


def _end(session: Session, row: OperatorSessionRow, reason: str, now: datetime) -> None:
    row.ended_at = now
    row.end_reason = reason[:80]


def end_session(node: ServiceContext, secret: str, *, reason: str = "signed out") -> None:
    """End one session (sign-out); a session already ended stays as it was."""
    with node.uow() as uow:
        row = uow.session.get(OperatorSessionRow, session_key(secret))
        if row is None or row.ended_at is not None:
            return
        _end(uow.session, row, reason, node.now())
        operator = uow.session.get(OperatorRow, row.operator_id)
        log_event(
            node,
            uow.session,
            OperatorEvent.SIGNOUT,
            actor=operator.username if operator else "?",
            terminal=row.terminal,
        )
        uow.commit()


def live_sessions(node: ServiceContext) -> list[OperatorSessionRow]:
    """Sessions not ended (for the security console)."""
    with node.uow() as uow:
        return list(
            uow.session.scalars(
                select(OperatorSessionRow)
                .where(OperatorSessionRow.ended_at.is_(None))
                .order_by(OperatorSessionRow.started_at.desc())
            )
        )
