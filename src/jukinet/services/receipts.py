"""Receipts of identity messages at a prefecture or the centre are personal-data writes.

Each applied notice, snapshot or withdrawal becomes one access-log entry at the receiving
node — actor the sending node, reason the change reason — so a resident's disclosure
(開示) covers every tier that holds (or held) their identity information, not only their
municipality. The entries are queued on the inbox's session and appended together when it
commits (:func:`jukinet.storage.access_log.record`): one lock and one bulk insert per batch
of envelopes, whatever its size.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from sqlalchemy.orm import Session

from jukinet.domain.access_log import AccessEntry, Action, ActorKind, Channel
from jukinet.domain.messages import MessageKind
from jukinet.network.handlers import subject_of
from jukinet.storage import access_log
from jukinet.storage.identity_records import SNAPSHOT_REASON

#: The reason recorded for a withdrawal (the resident opted out, or a reconciliation repair).
WITHDRAWAL_REASON: Final = "withdrawal"
#: What a received identity message writes (the six items, or their deletion).
RECEIPT_ITEMS: Final = ("identity",)

_TEMPLATES: Final = "jukinet.receipt_templates"
_MOMENT: Final = "jukinet.receipt_moment"


def _reason(kind: MessageKind, body: dict[str, Any]) -> str:
    if kind is MessageKind.IDENTITY_NOTICE:
        change = body.get("change")
        return str(change.get("reason", ""))[:20] if isinstance(change, dict) else ""
    if kind is MessageKind.IDENTITY_SNAPSHOT:
        return SNAPSHOT_REASON
    return WITHDRAWAL_REASON


def log_receipt(
    session: Session,
    *,
    here: str,
    sender: str,
    kind: MessageKind,
    body: dict[str, Any],
    now: datetime,
) -> None:
    """Queue the access-log entry of one applied identity message (same transaction)."""
    subject = subject_of(body)
    if subject is None:
        return
    reason = _reason(kind, body)
    # The inbox applies a batch in one transaction (one session): its entries share the
    # batch's moment and one validated template per (sender, reason); each entry then checks
    # only its subject (AccessEntry.variant), as the batch jobs do, and the log converts one
    # timestamp for the whole batch.
    templates: dict[tuple[str, str], AccessEntry] = session.info.setdefault(_TEMPLATES, {})
    moment: datetime = session.info.setdefault(_MOMENT, now)
    key = (sender, reason)
    template = templates.get(key)
    if template is None:
        template = templates[key] = AccessEntry(
            recorded_at=moment,
            node=here,
            action=Action.WRITE,
            channel=Channel.NETWORK,
            actor_kind=ActorKind.NODE,
            actor=sender,
            reason=reason or None,
            items=RECEIPT_ITEMS,
        )
    entry = template.variant(
        action=Action.WRITE, subject=subject, items=RECEIPT_ITEMS, detail={"kind": kind.value}
    )
    access_log.record(session, [entry])
