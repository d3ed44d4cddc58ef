"""Operating hours and the calendar of a node (pure): when may an operator work?

A day is open when it is a weekday with hours, not a Japanese public holiday (``jpholiday``),
not in the year-end closure (年末年始, 29 December – 3 January), and not a local closure — unless
a local entry opens it. Outside the hours, sign-in and any read of personal data need an
out-of-hours permit (see :mod:`jukinet.domain.permits`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time

import jpholiday

from jukinet.domain.clock import JST
from jukinet.domain.errors import ValidationError

_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True, slots=True)
class DayHours:
    """Opening and closing time of one weekday (JST)."""

    opens: time
    closes: time


@dataclass(frozen=True, slots=True)
class Calendar:
    """Hours per weekday (0 = Monday; missing = closed) and local exceptions by date."""

    hours: Mapping[int, DayHours]
    #: date → True (opened by the town, e.g. a Sunday opening) or False (a local closure).
    exceptions: Mapping[date, bool] = field(default_factory=dict)

    def closed_because(self, day: date) -> str | None:
        """Why ``day`` is closed (a catalogue key suffix), or ``None`` when it is open."""
        local = self.exceptions.get(day)
        if local is True:
            return None
        if local is False:
            return "local_closure"
        if jpholiday.is_holiday(day):
            return "public_holiday"
        if is_year_end_closure(day):
            return "year_end"
        if day.weekday() not in self.hours:
            return "weekend" if day.weekday() >= 5 else "no_hours"
        return None

    def is_open(self, moment: datetime) -> bool:
        """Whether ``moment`` falls within the hours of an open day (JST)."""
        local = moment.astimezone(JST)
        if self.closed_because(local.date()) is not None:
            return False
        hours = self.hours.get(local.weekday())
        if hours is None:
            # A locally opened day on a weekday without hours: the Monday hours, or none.
            hours = self.hours.get(0)
            if hours is None:
                return False
        return hours.opens <= local.time().replace(tzinfo=None) < hours.closes


def is_year_end_closure(day: date) -> bool:
    """年末年始: town halls close from 29 December to 3 January."""
    return (day.month == 12 and day.day >= 29) or (day.month == 1 and day.day <= 3)


def holiday_name(day: date) -> str | None:
    """The Japanese name of the public holiday on ``day``, if it is one."""
    name = jpholiday.is_holiday_name(day)
    return str(name) if name else None


def parse_hhmm(value: str, *, field: str) -> time:
    """``08:30`` as a time; a clear error for anything else."""
    match = _HHMM.match(value.strip())
    if not match:
        raise ValidationError(
            "JUKI-HRS-001",
            ja="時刻は HH:MM（24時間制）で入力してください。",
            en="Give the time as HH:MM (24-hour clock).",
            field=field,
        )
    return time(int(match.group(1)), int(match.group(2)))


def day_hours(opens: str, closes: str, *, field: str) -> DayHours:
    """Validated hours of one day: opening strictly before closing."""
    start = parse_hhmm(opens, field=f"{field}.opens")
    end = parse_hhmm(closes, field=f"{field}.closes")
    if start >= end:
        raise ValidationError(
            "JUKI-HRS-002",
            ja="開庁時刻は閉庁時刻より前にしてください。",
            en="The opening time must come before the closing time.",
            field=field,
        )
    return DayHours(start, end)
