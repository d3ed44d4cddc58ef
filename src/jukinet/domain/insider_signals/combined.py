"""The whole alert list: every rule's signals in one sorted list."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from jukinet.domain.insider_signals.inputs import DailyCount, OffHoursRead, SubjectReaders
from jukinet.domain.insider_signals.many_readers import many_reader_signals
from jukinet.domain.insider_signals.model import Signal, signal_sort_key
from jukinet.domain.insider_signals.off_hours import off_hours_signals
from jukinet.domain.insider_signals.operator_events import OperatorIncident, operator_signals
from jukinet.domain.insider_signals.thresholds import BusinessHours, SignalThresholds
from jukinet.domain.insider_signals.volume import volume_signals

__all__ = ["all_signals"]


def all_signals(
    *,
    day: date,
    daily_counts: Iterable[DailyCount] = (),
    subjects: Iterable[SubjectReaders] = (),
    off_hours_reads: Iterable[OffHoursRead] = (),
    incidents: Iterable[OperatorIncident] = (),
    thresholds: SignalThresholds = SignalThresholds(),
    hours: BusinessHours = BusinessHours(),
    compare_peers: bool = True,
) -> list[Signal]:
    """The whole alert list: VOLUME and MANY_READERS for ``day`` plus OFF_HOURS for the reads.

    OFF_HOURS signals keep the JST day of their reads, which may differ from ``day``. The list
    is sorted by severity (ALERT first), then day (latest first), then kind (VOLUME,
    MANY_READERS, OFF_HOURS), then actor and subject — see :func:`signal_sort_key`.
    """
    signals = [
        *volume_signals(daily_counts, day=day, thresholds=thresholds, compare_peers=compare_peers),
        *many_reader_signals(subjects, day=day, thresholds=thresholds),
        *off_hours_signals(off_hours_reads, hours=hours),
        *operator_signals(incidents),
    ]
    signals.sort(key=signal_sort_key)
    return signals
