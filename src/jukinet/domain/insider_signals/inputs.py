"""What the service layer hands in: per-day counts, readers per subject, off-hours reads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from jukinet.domain.insider_signals.errors import InvalidSignalInput
from jukinet.domain.insider_signals.validation import (
    _is_int,
    _require_aware,
    _require_date,
    _require_id,
)

__all__ = ["DailyCount", "OffHoursRead", "SubjectReaders"]


@dataclass(frozen=True, slots=True)
class DailyCount:
    """Reads of personal data by one actor on one JST calendar day (from the access log)."""

    actor: str
    actor_kind: str
    day: date
    count: int

    def __post_init__(self) -> None:
        _require_id(self.actor, "actor")
        _require_id(self.actor_kind, "actor_kind")
        _require_date(self.day, "day")
        if not _is_int(self.count) or self.count < 0:
            raise InvalidSignalInput(
                "count",
                ja="件数は 0 以上の整数でなければなりません。",
                en="the count must be a whole number of at least 0.",
            )


@dataclass(frozen=True, slots=True)
class SubjectReaders:
    """The distinct actors who read one subject's record within the window being judged."""

    subject: str
    readers: tuple[str, ...]
    first_read: datetime
    last_read: datetime

    def __post_init__(self) -> None:
        _require_id(self.subject, "subject")
        readers = tuple(self.readers)
        if not readers:
            raise InvalidSignalInput(
                "readers",
                ja="参照者が 1 人以上必要です。",
                en="at least one reader is required.",
            )
        for reader in readers:
            _require_id(reader, "readers")
        object.__setattr__(self, "readers", readers)
        first = _require_aware(self.first_read, "first_read")
        last = _require_aware(self.last_read, "last_read")
        if first > last:
            raise InvalidSignalInput(
                "first_read",
                ja="最初の参照日時は最後の参照日時より後にできません。",
                en="the first read cannot be after the last read.",
            )


@dataclass(frozen=True, slots=True)
class OffHoursRead:
    """One read by an actor at a time-zone-aware moment; inside business hours it is ignored."""

    actor: str
    actor_kind: str
    at: datetime

    def __post_init__(self) -> None:
        _require_id(self.actor, "actor")
        _require_id(self.actor_kind, "actor_kind")
        _require_aware(self.at, "at")
