"""OFF_HOURS: reads outside business hours in Japan time, one signal per actor and day."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Final

from jukinet.domain.insider_signals.inputs import OffHoursRead
from jukinet.domain.insider_signals.model import Severity, Signal, SignalKind, signal_sort_key
from jukinet.domain.insider_signals.summaries import _kind_labels
from jukinet.domain.insider_signals.thresholds import (
    OFF_HOURS_ALERT_COUNT,
    OFF_HOURS_WARNING_COUNT,
    BusinessHours,
)
from jukinet.domain.insider_signals.validation import _to_jst

__all__ = ["off_hours_signals"]


def _off_hours_severity(count: int) -> Severity:
    if count >= OFF_HOURS_ALERT_COUNT:
        return Severity.ALERT
    if count >= OFF_HOURS_WARNING_COUNT:
        return Severity.WARNING
    return Severity.NOTICE


_DAY_TYPE_LABELS: Final[Mapping[str, tuple[str, str]]] = {
    "holiday": ("祝日・休庁日", "public holiday"),
    "non_workday": ("閉庁日", "non-working day"),
    "workday": ("平日の業務時間外", "working day, outside hours"),
}


def off_hours_signals(
    reads: Iterable[OffHoursRead],
    *,
    hours: BusinessHours = BusinessHours(),
) -> list[Signal]:
    """OFF_HOURS signals: one per actor per JST day with reads outside ``hours``.

    Every read is converted to Japan time; reads inside business hours are ignored, so the
    caller may pass a pre-filtered or an unfiltered list. The rest are grouped by
    (``actor_kind``, ``actor``, JST day); each group gives one signal with the count and the
    first and last time (evidence, in JST). Severity: ALERT at ``≥ 50`` reads on the day,
    WARNING at ``≥ 10``, NOTICE otherwise.

    Returns the signals sorted by :func:`signal_sort_key`.
    """
    groups: dict[tuple[str, str, date], list[datetime]] = defaultdict(list)
    for read in reads:
        local = _to_jst(read.at, "at")
        if hours.contains(local):
            continue
        groups[(read.actor_kind, read.actor, local.date())].append(local)

    business = f"{hours.start:%H:%M}-{hours.end:%H:%M}"
    signals: list[Signal] = []
    for (actor_kind, actor, local_day), moments in groups.items():
        first, last = min(moments), max(moments)
        count = len(moments)
        day_type = hours.day_type(local_day)
        type_ja, type_en = _DAY_TYPE_LABELS[day_type]
        label_ja, label_en = _kind_labels(actor_kind)
        signals.append(
            Signal(
                kind=SignalKind.OFF_HOURS,
                severity=_off_hours_severity(count),
                actor=actor,
                subject=None,
                day=local_day,
                count=count,
                baseline=None,
                summary_ja=(
                    f"{label_ja} {actor}：{local_day.isoformat()}（{type_ja}）の業務時間外に "
                    f"{count} 件参照しました（最初 {first:%H:%M}、最後 {last:%H:%M}、日本時間）。"
                ),
                summary_en=(
                    f"{label_en.capitalize()} {actor}: {count} reads outside business hours on "
                    f"{local_day.isoformat()} ({type_en}), first at {first:%H:%M}, last at "
                    f"{last:%H:%M} JST."
                ),
                evidence={
                    "actor_kind": actor_kind,
                    "day_type": day_type,
                    "first_read": first,
                    "last_read": last,
                    "business_hours": business,
                    "workdays": tuple(sorted(hours.workdays)),
                },
            )
        )
    signals.sort(key=signal_sort_key)
    return signals
