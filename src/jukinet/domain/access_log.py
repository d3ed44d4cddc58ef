"""What one access-log entry (アクセスログ) says, and the exact bytes its Merkle leaf hashes.

Every read of personal data — a counter lookup, an agency query, one row of a batch job, a
node-to-node request, an export — and every refusal becomes one :class:`AccessEntry`. The
entry is what a resident is shown when they ask who looked at their data (本人確認情報の提供状況
の開示): date, method (``channel``), reason, affair, source (``node``), recipient (``actor``)
and the items provided.

:func:`entry_bytes` is the canonical encoding: a JSON array in a fixed field order, so the same
entry always hashes to the same leaf (:func:`jukinet.domain.audit_math.leaf_hash`) on every node
and in a resident's own checker. Changing the encoding means a new :data:`ENTRY_FORMAT`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Final

import orjson

from jukinet.domain.audit_math import leaf_hash
from jukinet.domain.errors import ValidationError

#: First element of every encoded entry; bump when the field list changes.
ENTRY_FORMAT: Final = "jukinet-access-v1"

#: How long entries are kept (design/domain.md §6: operation logs and provision records, 7 years).
RETENTION_YEARS: Final = 7


class Action(StrEnum):
    """What happened."""

    #: Personal data was read and shown or sent.
    READ = "read"
    #: Personal data was written (a counter event, a change received from another node).
    WRITE = "write"
    #: A search returned this resident among its candidates.
    CANDIDATE = "candidate"
    #: The request was refused before any personal data was read.
    REFUSED = "refused"
    #: The requested resident does not exist here (nothing was provided).
    NOT_FOUND = "not_found"
    #: Entries older than the retention period were deleted; the entry is the signed receipt.
    RETENTION = "retention"


class Channel(StrEnum):
    """How the data went (the disclosure's 提供方法 / method)."""

    COUNTER = "counter"
    AGENCY_API = "agency_api"
    BATCH = "batch"
    NETWORK = "network"
    EXPORT = "export"
    SYSTEM = "system"

    @property
    def label_ja(self) -> str:
        """Japanese name of the channel."""
        return _CHANNEL_LABELS[self]


_CHANNEL_LABELS: Final[Mapping[Channel, str]] = {
    Channel.COUNTER: "窓口端末",
    Channel.AGENCY_API: "機関照会（オンライン）",
    Channel.BATCH: "一括照会",
    Channel.NETWORK: "ネットワーク（ノード間）",
    Channel.EXPORT: "書出し",
    Channel.SYSTEM: "システム",
}


class ActorKind(StrEnum):
    """Who read: a node's own operator, a registered recipient, another node, or the system."""

    OPERATOR = "operator"
    RECIPIENT = "recipient"
    NODE = "node"
    SYSTEM = "system"


class InvalidAccessEntry(ValidationError):
    """An entry that cannot be recorded as given (a programming error, never user input)."""

    def __init__(self, field_name: str, *, ja: str, en: str) -> None:
        super().__init__("JUKI-LOG-001", ja=ja, en=en, field=field_name)


_TEXT_LIMITS: Final[Mapping[str, int]] = {
    "node": 40,
    "actor": 80,
    "officer": 80,
    "terminal": 40,
    "case_number": 80,
    "subject": 11,
    "affair_code": 20,
    "reason": 200,
    "job_id": 40,
}


@dataclass(frozen=True, slots=True)
class AccessEntry:
    """One entry of a node's access log. ``recorded_at`` is aware and stored in UTC.

    ``subject`` is the resident code the entry is about (``None`` for a refusal that named no
    resident, or a receipt); ``items`` the identity items or record parts provided;
    ``detail`` small structured facts (a batch's row number, a receipt's signature), never
    names or addresses.
    """

    recorded_at: datetime
    node: str
    action: Action
    channel: Channel
    actor_kind: ActorKind
    actor: str
    subject: str | None = None
    affair_code: str | None = None
    reason: str | None = None
    items: tuple[str, ...] = ()
    officer: str | None = None
    terminal: str | None = None
    case_number: str | None = None
    job_id: str | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.recorded_at, datetime) or self.recorded_at.utcoffset() is None:
            raise InvalidAccessEntry(
                "recorded_at",
                ja="記録日時はタイムゾーン付きでなければなりません。",
                en="recorded_at must carry a time zone.",
            )
        object.__setattr__(self, "recorded_at", self.recorded_at.astimezone(UTC))
        object.__setattr__(self, "action", Action(self.action))
        object.__setattr__(self, "channel", Channel(self.channel))
        object.__setattr__(self, "actor_kind", ActorKind(self.actor_kind))
        object.__setattr__(self, "items", tuple(self.items))
        for name, limit in _TEXT_LIMITS.items():
            _check_text(name, getattr(self, name), limit)

    def variant(
        self,
        *,
        action: Action,
        subject: str | None,
        items: tuple[str, ...],
        detail: Mapping[str, Any],
    ) -> AccessEntry:
        """This entry with another action, subject, items and detail — checking only those.

        A batch chunk records thousands of entries that differ only in these; validating the
        shared fields once (in this entry) keeps the per-row cost to the subject's check.
        """
        _check_text("subject", subject, _TEXT_LIMITS["subject"])
        clone: AccessEntry = object.__new__(AccessEntry)
        for name in _SHARED_FIELDS:
            object.__setattr__(clone, name, getattr(self, name))
        object.__setattr__(clone, "action", action if type(action) is Action else Action(action))
        object.__setattr__(clone, "subject", subject)
        object.__setattr__(clone, "items", tuple(items))
        object.__setattr__(clone, "detail", detail)
        return clone

    @property
    def items_text(self) -> str:
        """The items as stored: comma-separated, in the order given."""
        return ",".join(self.items)


_SHARED_FIELDS: Final = (
    "recorded_at",
    "node",
    "channel",
    "actor_kind",
    "actor",
    "affair_code",
    "reason",
    "officer",
    "terminal",
    "case_number",
    "job_id",
)


def _check_text(name: str, value: object, limit: int) -> None:
    if value is None:
        return
    if not isinstance(value, str) or len(value) > limit or not value.isprintable():
        raise InvalidAccessEntry(
            name,
            ja=f"{name} は{limit}文字以内の印字可能な文字列です。",
            en=f"{name} must be printable text of at most {limit} characters.",
        )


def timestamp_text(moment: datetime) -> str:
    """The one textual form of a time inside the log: UTC, microseconds, ``+00:00``."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def entry_bytes(index: int, entry: AccessEntry, *, timestamp: str | None = None) -> bytes:
    """The canonical bytes of entry number ``index`` (0-based position in the log).

    The position is part of the bytes so an entry cannot be moved to another place in the log
    and still verify. ``detail`` keys are sorted by orjson's ``OPT_SORT_KEYS``. ``timestamp``
    may pass :func:`timestamp_text` of ``recorded_at`` already made (entries of one batch
    chunk share it).
    """
    stamp = timestamp if timestamp is not None else timestamp_text(entry.recorded_at)
    return canonical_bytes(index, stamp, stored_values(entry))


def stored_values(entry: AccessEntry) -> tuple[Any, ...]:
    """The entry's fields after ``recorded_at`` as the log stores them, in the format's order:
    node, action, channel, actor kind, actor, subject, affair code, reason, items (as text),
    officer, terminal, case number, job id, detail."""
    return (
        entry.node,
        entry.action.value,
        entry.channel.value,
        entry.actor_kind.value,
        entry.actor,
        entry.subject,
        entry.affair_code,
        entry.reason,
        entry.items_text,
        entry.officer,
        entry.terminal,
        entry.case_number,
        entry.job_id,
        entry.detail,
    )


def canonical_bytes(index: int, timestamp: str, values: Sequence[Any]) -> bytes:
    """:func:`entry_bytes` from :func:`stored_values`' form, as read back from storage.

    Verification hashes rows through this without rebuilding an :class:`AccessEntry`, so a row
    altered into something no entry could hold still simply fails to match its leaf hash.
    """
    *fields, detail = values
    return orjson.dumps(
        [ENTRY_FORMAT, index, timestamp, *fields, detail if type(detail) is dict else dict(detail)],
        option=orjson.OPT_SORT_KEYS,
    )


def entry_leaf_hash(index: int, entry: AccessEntry) -> bytes:
    """RFC 6962 leaf hash of :func:`entry_bytes`."""
    return leaf_hash(entry_bytes(index, entry))


def entry_to_dict(index: int, entry: AccessEntry) -> dict[str, Any]:
    """The JSON form a resident or auditor receives (enough to recompute the leaf hash)."""
    return {
        "index": index,
        "recorded_at": timestamp_text(entry.recorded_at),
        "node": entry.node,
        "action": entry.action.value,
        "channel": entry.channel.value,
        "actor_kind": entry.actor_kind.value,
        "actor": entry.actor,
        "subject": entry.subject,
        "affair_code": entry.affair_code,
        "reason": entry.reason,
        "items": list(entry.items),
        "officer": entry.officer,
        "terminal": entry.terminal,
        "case_number": entry.case_number,
        "job_id": entry.job_id,
        "detail": dict(entry.detail),
    }


def entry_from_dict(data: Mapping[str, Any]) -> tuple[int, AccessEntry]:
    """Read :func:`entry_to_dict`'s form back; :class:`InvalidAccessEntry` if it is malformed."""
    try:
        index = data["index"]
        if not isinstance(index, int) or index < 0:
            raise TypeError
        entry = AccessEntry(
            recorded_at=datetime.fromisoformat(data["recorded_at"]),
            node=data["node"],
            action=Action(data["action"]),
            channel=Channel(data["channel"]),
            actor_kind=ActorKind(data["actor_kind"]),
            actor=data["actor"],
            subject=data.get("subject"),
            affair_code=data.get("affair_code"),
            reason=data.get("reason"),
            items=tuple(data.get("items") or ()),
            officer=data.get("officer"),
            terminal=data.get("terminal"),
            case_number=data.get("case_number"),
            job_id=data.get("job_id"),
            detail=dict(data.get("detail") or {}),
        )
    except (KeyError, TypeError, ValueError):
        raise InvalidAccessEntry(
            "entry",
            ja="ログ記録の形式が正しくありません。",
            en="the log entry is malformed.",
        ) from None
    return index, entry
