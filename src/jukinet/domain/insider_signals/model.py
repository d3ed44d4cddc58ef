"""The alert model: a :class:`Signal`, its kind and severity, and the order of the list."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from enum import Enum, StrEnum
from types import MappingProxyType
from typing import Final

__all__ = ["Severity", "Signal", "SignalKind", "signal_sort_key"]


class SignalKind(StrEnum):
    """What pattern a signal reports."""

    VOLUME = "volume"
    MANY_READERS = "many_readers"
    OFF_HOURS = "off_hours"
    #: An operator's own incident: a cloned card, a locked account.
    OPERATOR_CARD = "operator_card"

    @property
    def order(self) -> int:
        """Position in declaration order, used to sort signals of equal severity and day."""
        return _KIND_ORDER[self]


_KIND_ORDER: Final[Mapping[SignalKind, int]] = {kind: i for i, kind in enumerate(SignalKind)}


class Severity(StrEnum):
    """How urgently security staff should look; the rules per kind are in the package docstring.

    * VOLUME: ``ratio ≥ 10`` → ALERT, ``ratio ≥ 5`` → WARNING, otherwise NOTICE (ratio to the
      effective baseline, see :func:`volume_signals`).
    * MANY_READERS: ``≥ 2 × many_readers`` distinct readers (default 10) → ALERT,
      ``≥ 1.5 × many_readers`` (default 8) → WARNING, otherwise NOTICE.
    * OFF_HOURS: ``≥ 50`` reads on the day → ALERT, ``≥ 10`` → WARNING, otherwise NOTICE.
    """

    NOTICE = "notice"
    WARNING = "warning"
    ALERT = "alert"

    @property
    def rank(self) -> int:
        """0 for NOTICE, 1 for WARNING, 2 for ALERT: higher is more urgent."""
        return _SEVERITY_RANK[self]


_SEVERITY_RANK: Final[Mapping[Severity, int]] = {
    Severity.NOTICE: 0,
    Severity.WARNING: 1,
    Severity.ALERT: 2,
}


def _json_value(value: object) -> object:
    """``value`` as plain JSON types (dates as ISO strings, collections as lists)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Enum):
        return _json_value(value.value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, frozenset | set):
        return sorted((_json_value(v) for v in value), key=str)
    if isinstance(value, tuple | list):
        return [_json_value(v) for v in value]
    return str(value)


@dataclass(frozen=True, slots=True)
class Signal:
    """One entry of the alert list for security staff.

    ``actor`` is set for VOLUME and OFF_HOURS, ``subject`` (a full resident code) for
    MANY_READERS. ``day`` is the JST day judged, ``count`` the reads (VOLUME, OFF_HOURS) or
    distinct readers (MANY_READERS), ``baseline`` the actor's median for VOLUME and ``None``
    otherwise. ``evidence`` holds the numbers behind the decision as JSON-able values.
    """

    kind: SignalKind
    severity: Severity
    actor: str | None
    subject: str | None
    day: date
    count: int
    baseline: float | None
    summary_ja: str
    summary_en: str
    evidence: Mapping[str, object] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "evidence", MappingProxyType(dict(self.evidence)))

    def as_dict(self) -> dict[str, object]:
        """The signal as plain JSON types (enums as values, dates as ISO strings)."""
        return {
            "kind": self.kind.value,
            "severity": self.severity.value,
            "actor": self.actor,
            "subject": self.subject,
            "day": self.day.isoformat(),
            "count": self.count,
            "baseline": _json_value(self.baseline),
            "summary_ja": self.summary_ja,
            "summary_en": self.summary_en,
            "evidence": _json_value(self.evidence),
        }


def signal_sort_key(signal: Signal) -> tuple[int, int, int, str, str]:
    """Sort key: severity descending, day descending, kind (declaration order), actor, subject."""
    return (
        -signal.severity.rank,
        -signal.day.toordinal(),
        signal.kind.order,
        signal.actor or "",
        signal.subject or "",
    )
