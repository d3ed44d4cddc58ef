"""Japan's time zone and the register's notion of "today" (pure; the clock itself is injected)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Final

#: Japan has no daylight saving; a fixed offset avoids depending on the tz database.
JST: Final = timezone(timedelta(hours=9), "JST")


def japan_date(moment: datetime) -> date:
    """The calendar date in Japan at ``moment`` (what the register's dates mean)."""
    return moment.astimezone(JST).date()


def aware_utc(moment: datetime) -> datetime:
    """``moment`` with its zone; SQLite hands back naive datetimes, which are stored in UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
