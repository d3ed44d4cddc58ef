"""MANY_READERS: one resident's record read by many distinct actors (the celebrity lookup)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

from jukinet.domain.codes import mask_resident_code
from jukinet.domain.insider_signals.errors import ReadsOutsideWindow
from jukinet.domain.insider_signals.inputs import SubjectReaders
from jukinet.domain.insider_signals.model import Severity, Signal, SignalKind, signal_sort_key
from jukinet.domain.insider_signals.thresholds import (
    MANY_READERS_ALERT_FACTOR,
    MANY_READERS_WARNING_FACTOR,
    SignalThresholds,
)
from jukinet.domain.insider_signals.validation import JST, _require_date

__all__ = ["many_reader_signals"]


def _many_readers_severity(readers: int, threshold: int) -> Severity:
    if readers >= math.ceil(MANY_READERS_ALERT_FACTOR * threshold):
        return Severity.ALERT
    if readers >= math.ceil(MANY_READERS_WARNING_FACTOR * threshold):
        return Severity.WARNING
    return Severity.NOTICE


def many_reader_signals(
    subjects: Iterable[SubjectReaders],
    *,
    day: date,
    thresholds: SignalThresholds = SignalThresholds(),
) -> list[Signal]:
    """MANY_READERS signals: subjects read by many distinct actors in the window ending ``day``.

    The window is the ``many_readers_window_days`` JST days ending on ``day`` (inclusive). Each
    :class:`SubjectReaders` must describe reads within that window — a ``first_read`` or
    ``last_read`` outside it raises :class:`ReadsOutsideWindow`, because readers counted over
    another span would be judged wrongly. Pass operator reads only: agencies answering through
    a batch are not curiosity lookups. Rows repeating a subject are merged.

    A subject fires at ``≥ many_readers`` distinct readers. Severity: ALERT at
    ``≥ ceil(2 × many_readers)`` (default 10), WARNING at ``≥ ceil(1.5 × many_readers)``
    (default 8), NOTICE otherwise. The signal's ``subject`` is the full resident code; the
    summaries show it masked.

    Returns the signals sorted by :func:`signal_sort_key`.
    """
    _require_date(day, "day")
    window_days = thresholds.many_readers_window_days
    window_first_day = day - timedelta(days=window_days - 1)
    window_start = datetime.combine(window_first_day, time(0), JST)
    window_end = datetime.combine(day + timedelta(days=1), time(0), JST)

    merged: dict[str, tuple[set[str], datetime, datetime]] = {}
    for row in subjects:
        if not (window_start <= row.first_read and row.last_read < window_end):
            raise ReadsOutsideWindow(window_days)
        if row.subject in merged:
            readers, first, last = merged[row.subject]
            readers.update(row.readers)
            merged[row.subject] = (
                readers,
                min(first, row.first_read),
                max(last, row.last_read),
            )
        else:
            merged[row.subject] = (set(row.readers), row.first_read, row.last_read)

    signals: list[Signal] = []
    for subject, (readers, first, last) in merged.items():
        n = len(readers)
        if n < thresholds.many_readers:
            continue
        masked = mask_resident_code(subject)
        period = f"{window_first_day.isoformat()}〜{day.isoformat()}"
        period_en = f"{window_first_day.isoformat()} to {day.isoformat()}"
        signals.append(
            Signal(
                kind=SignalKind.MANY_READERS,
                severity=_many_readers_severity(n, thresholds.many_readers),
                actor=None,
                subject=subject,
                day=day,
                count=n,
                baseline=None,
                summary_ja=(
                    f"住民票コード {masked} の記録を {period} の {window_days} 日間に "
                    f"{n} 人が参照しました（基準 {thresholds.many_readers} 人）。"
                ),
                summary_en=(
                    f"The record with resident code {masked} was read by {n} distinct actors "
                    f"in the {window_days} days {period_en} (threshold "
                    f"{thresholds.many_readers})."
                ),
                evidence={
                    "subject": subject,
                    "readers": tuple(sorted(readers)),
                    "distinct_readers": n,
                    "threshold": thresholds.many_readers,
                    "window_days": window_days,
                    "window_start": window_first_day,
                    "window_end": day,
                    "first_read": first.astimezone(JST),
                    "last_read": last.astimezone(JST),
                },
            )
        )
    signals.sort(key=signal_sort_key)
    return signals
