"""When signals fire and how severe they are: severity levels, thresholds, business hours."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Final

from jukinet.domain.insider_signals.errors import InvalidBusinessHours, InvalidThreshold
from jukinet.domain.insider_signals.validation import _is_date, _is_int, _require_date, _to_jst

__all__ = [
    "MANY_READERS_ALERT_FACTOR",
    "MANY_READERS_WARNING_FACTOR",
    "OFF_HOURS_ALERT_COUNT",
    "OFF_HOURS_WARNING_COUNT",
    "VOLUME_ALERT_RATIO",
    "VOLUME_WARNING_RATIO",
    "BusinessHours",
    "SignalThresholds",
]

#: VOLUME: ratio to the effective baseline from which a signal is a WARNING.
VOLUME_WARNING_RATIO: Final = 5.0
#: VOLUME: ratio to the effective baseline from which a signal is an ALERT.
VOLUME_ALERT_RATIO: Final = 10.0
#: MANY_READERS: multiple of the ``many_readers`` threshold from which a signal is a WARNING.
MANY_READERS_WARNING_FACTOR: Final = 1.5
#: MANY_READERS: multiple of the ``many_readers`` threshold from which a signal is an ALERT.
MANY_READERS_ALERT_FACTOR: Final = 2.0
#: OFF_HOURS: reads by one actor on one JST day from which a signal is a WARNING.
OFF_HOURS_WARNING_COUNT: Final = 10
#: OFF_HOURS: reads by one actor on one JST day from which a signal is an ALERT.
OFF_HOURS_ALERT_COUNT: Final = 50


@dataclass(frozen=True, slots=True)
class BusinessHours:
    """Office hours in Japan time: ``start ≤ t < end`` on a workday that is not a holiday.

    ``workdays`` uses :meth:`datetime.weekday` numbers (Monday 0 … Sunday 6); ``holidays`` are
    JST calendar dates (public holidays, year-end closing) that are off-hours all day. Hours
    crossing midnight are not supported: ``start`` must be before ``end``.
    """

    start: time = time(8, 30)
    end: time = time(17, 30)
    workdays: frozenset[int] = frozenset(range(5))
    holidays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        for name in ("start", "end"):
            value = getattr(self, name)
            if not isinstance(value, time) or value.tzinfo is not None:
                raise InvalidBusinessHours(
                    name,
                    ja="タイムゾーンなしの時刻（日本時間）でなければなりません。",
                    en="must be a time of day without a time zone (read as JST).",
                )
        if self.start >= self.end:
            raise InvalidBusinessHours(
                "start",
                ja="開始時刻は終了時刻より前でなければなりません。",
                en="the start must be before the end.",
            )
        workdays = frozenset(self.workdays)
        if not workdays or not all(_is_int(d) and 0 <= d <= 6 for d in workdays):
            raise InvalidBusinessHours(
                "workdays",
                ja="曜日は 0（月）〜6（日）の整数で、1 つ以上必要です。",
                en="weekdays must be integers 0 (Monday) to 6 (Sunday), at least one.",
            )
        holidays = frozenset(self.holidays)
        if not all(_is_date(d) for d in holidays):
            raise InvalidBusinessHours(
                "holidays",
                ja="祝日は日付（date）の集合でなければなりません。",
                en="holidays must be a set of dates.",
            )
        object.__setattr__(self, "workdays", workdays)
        object.__setattr__(self, "holidays", holidays)

    def is_working_day(self, day: date) -> bool:
        """Whether the JST calendar ``day`` is a workday and not a holiday."""
        _require_date(day, "day")
        return day.weekday() in self.workdays and day not in self.holidays

    def contains(self, moment: datetime) -> bool:
        """Whether ``moment`` (time-zone aware) falls within business hours in Japan time.

        Raises :class:`NaiveTimestamp` for a naive ``moment``.
        """
        local = _to_jst(moment)
        if not self.is_working_day(local.date()):
            return False
        return self.start <= local.time().replace(tzinfo=None) < self.end

    def day_type(self, day: date) -> str:
        """``"holiday"``, ``"non_workday"`` (e.g. a weekend) or ``"workday"`` for a JST day."""
        _require_date(day, "day")
        if day in self.holidays:
            return "holiday"
        if day.weekday() not in self.workdays:
            return "non_workday"
        return "workday"


@dataclass(frozen=True, slots=True)
class SignalThresholds:
    """When signals fire; every value must be positive (:class:`InvalidThreshold` otherwise).

    * ``volume_multiplier`` / ``volume_floor`` / ``history_days``: VOLUME fires when the day's
      count ``> max(volume_multiplier × median of the previous history_days days, volume_floor)``.
    * ``many_readers`` / ``many_readers_window_days``: MANY_READERS fires when a subject has
      ``≥ many_readers`` distinct readers in ``many_readers_window_days`` days.
    """

    volume_multiplier: float = 3.0
    volume_floor: int = 50
    history_days: int = 28
    many_readers: int = 5
    many_readers_window_days: int = 7

    def tightened(self, factor: int) -> SignalThresholds:
        """Thresholds ``factor`` times as sensitive (threat level 1 and above: watch harder).

        The volume multiplier and floor and the many-readers count are divided (never below
        the smallest legal value); the windows stay as they are.
        """
        return SignalThresholds(
            volume_multiplier=max(1.0, self.volume_multiplier / factor),
            volume_floor=max(1, self.volume_floor // factor),
            history_days=self.history_days,
            many_readers=max(2, self.many_readers // factor),
            many_readers_window_days=self.many_readers_window_days,
        )

    def __post_init__(self) -> None:
        multiplier: object = self.volume_multiplier
        if (
            not isinstance(multiplier, int | float)
            or isinstance(multiplier, bool)
            or not math.isfinite(multiplier)
            or multiplier <= 0
        ):
            raise InvalidThreshold("volume_multiplier", integer=False)
        for name in ("volume_floor", "history_days", "many_readers", "many_readers_window_days"):
            value = getattr(self, name)
            if not _is_int(value) or value < 1:
                raise InvalidThreshold(name, integer=True)
