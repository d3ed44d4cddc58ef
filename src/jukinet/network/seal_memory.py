"""Refusing a replayed origin seal: each sealed message is accepted once at each node.

A relay holds genuine sealed notices it passed on before. Handing an older one over again
(in a new envelope, with a new sequence number, signed with the relay's real key) passes
every signature check — the seal is the municipality's own — and would put a resident back to
an older state. So each node that opens a seal remembers it by (origin, message id) and
refuses a second one; and since it remembers only :data:`SEAL_MEMORY`, it refuses a seal
older than that too (it could no longer tell a replay from a late first delivery; the
reconciliation repairs anything refused that way).

The same memory covers incident notices and the centre's orders: a prefecture that passed on a
quarantine (or its lifting) holds the centre's genuine seal, and handing it over again must not
cut a town off, or let it back on, a second time.

The refusal is an alert for the security console (:data:`ORIGIN_REPLAY`), about the node that
handed the envelope over.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from jukinet.domain.messages import ORIGIN_SEALED_KINDS
from jukinet.domain.network import NodeId
from jukinet.network.envelope import Envelope
from jukinet.network.origin import MESSAGE_ID, ORIGIN, SEALED_AT, SEALED_KINDS
from jukinet.storage import bulk
from jukinet.storage.delivery_tables import SealReceiptRow

#: How long a node remembers the seals it accepted (and so the oldest seal it accepts).
SEAL_MEMORY: Final = timedelta(days=30)
#: Every kind whose seal is remembered: identity and card status notices (sealed by their
#: municipality), incident notices and the centre's orders (sealed by the node that made them).
REMEMBERED_KINDS: Final[frozenset[str]] = frozenset(
    k.value for k in SEALED_KINDS | ORIGIN_SEALED_KINDS
)
#: How a refusal of a replayed seal begins.
REPLAY_REFUSED: Final = "origin seal replayed"
_SEEN: Final = "jukinet.seal_memory.seen"


def _key(body: dict[str, Any]) -> str | None:
    value = body.get(MESSAGE_ID)
    return value[:64] if isinstance(value, str) else None


def prefetch(session: Session, envelopes: Iterable[Envelope]) -> None:
    """Load, in one query, which of these envelopes' seals this node has seen already."""
    keys = {
        (str(e.body.get(ORIGIN))[:40], k)
        for e in envelopes
        if e.kind in REMEMBERED_KINDS and (k := _key(e.body)) is not None
    }
    seen: set[tuple[str, str]] = set()
    if keys:
        # Both columns of the key, so the primary key's index answers (not a scan).
        rows = session.execute(
            select(SealReceiptRow.origin, SealReceiptRow.message_id).where(
                SealReceiptRow.origin.in_({origin for origin, _ in keys}),
                SealReceiptRow.message_id.in_({message_id for _, message_id in keys}),
            )
        )
        seen = {(origin, message_id) for origin, message_id in rows}
    session.info[_SEEN] = seen


def check_and_note(
    session: Session, *, origin: NodeId, sealed: dict[str, Any], kind: str, now: datetime
) -> str | None:
    """Why a verified seal must be refused as a replay (``None``: first time, now noted).

    ``sealed`` is the message body whose seal the caller verified, so its message id and
    sealing time are the origin's own. Call :func:`prefetch` for the request first.
    """
    message_id = _key(sealed) or ""
    try:
        sealed_at = datetime.fromisoformat(str(sealed[SEALED_AT]))
    except (KeyError, ValueError):
        return f"{REPLAY_REFUSED}: the seal has no time"
    if sealed_at.tzinfo is None:
        return f"{REPLAY_REFUSED}: the seal's time has no time zone"
    seen: set[tuple[str, str]] | None = session.info.get(_SEEN)
    key = (str(origin), message_id)
    if seen is None:
        seen = set()
        session.info[_SEEN] = seen
        if session.get(SealReceiptRow, key) is not None:
            seen.add(key)
    if key in seen:
        return f"{REPLAY_REFUSED}: {origin}'s seal {message_id} was received here before"
    if sealed_at < now - SEAL_MEMORY:
        return (
            f"{REPLAY_REFUSED}: sealed {(now - sealed_at).days} days ago, before this node's "
            f"memory of seals ({SEAL_MEMORY.days} days) begins"
        )
    seen.add(key)
    bulk.add_row(
        session,
        SealReceiptRow,
        {
            "origin": str(origin),
            "message_id": message_id,
            "kind": kind,
            "sealed_at": sealed_at,
            "received_at": now,
        },
    )
    return None


def forget_old(session: Session, *, now: datetime) -> int:
    """Delete seals both received and dated before the memory begins (a replay of one is
    refused as old; a seal from a municipality whose clock runs ahead is kept until its own
    date leaves the memory, so it cannot come back as new)."""
    horizon = now - SEAL_MEMORY
    result = session.execute(
        delete(SealReceiptRow).where(
            SealReceiptRow.received_at < horizon, SealReceiptRow.sealed_at < horizon
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)
