"""Idempotency keys for API writes: a retry after a lost answer gets the first answer again.

A client sends ``Idempotency-Key`` with a write. The first request with a key runs; its answer
is stored *in the same transaction as the write itself* (:func:`remember`, called by the
register's :class:`~jukinet.services.register.change.Change` when it commits), so either both
the change and its answer exist or neither does. A later request with the same key from the
same operator gets that answer back (:func:`replay`) without touching the register; the same key
with a different request is refused. Keys are kept :data:`KEPT` and then forgotten.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from jukinet.domain.errors import Conflict, ValidationError
from jukinet.services.context import ServiceContext
from jukinet.storage.tables import IdempotencyRow

#: How long an answer is kept for retries.
KEPT: Final = timedelta(hours=24)
_KEY_MAX: Final = 200


@dataclass(frozen=True, slots=True)
class IdempotentRequest:
    """One write under a key: who asked, the key, what was asked, and how to render the answer."""

    scope: str
    key: str
    fingerprint: str
    status_code: int
    render: Callable[[Any], bytes]


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    """The first answer to a key."""

    status_code: int
    body: bytes


class KeyInUse(Conflict):
    """Another request with the same key committed first; this one was undone whole."""

    def __init__(self) -> None:
        super().__init__(
            "JUKI-IDEM-003",
            ja="同じ Idempotency-Key の届出を処理中です。もう一度送ると最初の結果が返ります。",
            en="A request with this Idempotency-Key is being answered; retry to get its answer.",
            field="Idempotency-Key",
        )


_CURRENT: ContextVar[IdempotentRequest | None] = ContextVar("idempotent_request", default=None)


def check_key(key: str) -> str:
    """The key when it is 1 to 200 printable ASCII characters."""
    if not key or len(key) > _KEY_MAX or not all(" " < c <= "~" for c in key):
        raise ValidationError(
            "JUKI-IDEM-001",
            ja="Idempotency-Key は1〜200文字の英数字・記号で指定してください。",
            en="Idempotency-Key must be 1 to 200 printable ASCII characters.",
            field="Idempotency-Key",
        )
    return key


def fingerprint(method: str, path: str, body: bytes) -> str:
    """What identifies a request under its key: method, path and canonical body."""
    return hashlib.sha256(b"\0".join((method.encode(), path.encode(), body))).hexdigest()


def replay(node: ServiceContext, *, scope: str, key: str, fingerprint: str) -> StoredAnswer | None:
    """The stored answer to ``key``, or ``None`` when it is new; a different request reusing
    the key is refused (nothing runs)."""
    with node.read_session() as session:
        row = session.get(IdempotencyRow, (scope, key))
        if row is None:
            return None
        if row.fingerprint != fingerprint:
            raise ValidationError(
                "JUKI-IDEM-002",
                ja="この Idempotency-Key は別の内容の届出に使われています。"
                "新しいキーを使ってください。",
                en="This Idempotency-Key was used for a different request; use a new key.",
                field="Idempotency-Key",
            )
        return StoredAnswer(status_code=row.status_code, body=row.response)


@contextmanager
def requested(request: IdempotentRequest) -> Iterator[None]:
    """Run a write under ``request``: the write's commit stores its answer."""
    token = _CURRENT.set(request)
    try:
        yield
    finally:
        _CURRENT.reset(token)


def remember(node: ServiceContext, session: Session, result: Any) -> None:
    """Store the answer of the write in progress (if it runs under a key) in its transaction."""
    request = _CURRENT.get()
    if request is None:
        return
    session.add(
        IdempotencyRow(
            scope=request.scope,
            key=request.key,
            fingerprint=request.fingerprint,
            status_code=request.status_code,
            response=request.render(result),
            created_at=node.now(),
        )
    )
    try:
        session.flush()
    except IntegrityError:
        raise KeyInUse() from None


def forget_expired(node: ServiceContext) -> int:
    """Delete answers older than :data:`KEPT`; returns how many."""
    with node.uow() as uow:
        result = uow.session.execute(
            delete(IdempotencyRow).where(IdempotencyRow.created_at < node.now() - KEPT)
        )
        uow.commit()
    return int(getattr(result, "rowcount", 0) or 0)
