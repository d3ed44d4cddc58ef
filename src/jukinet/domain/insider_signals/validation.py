"""Checks on the values handed to the signal rules, and the conversion to Japan time."""

from __future__ import annotations

from datetime import date, datetime

from jukinet.domain.clock import JST
from jukinet.domain.insider_signals.errors import InvalidSignalInput, NaiveTimestamp

__all__ = ["JST"]

#: Japan Standard Time: a fixed UTC+9 offset (Japan has no daylight saving time).


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_date(value: object) -> bool:
    """A calendar date, not a date-time (``datetime`` is a subclass of ``date``)."""
    return isinstance(value, date) and not isinstance(value, datetime)


def _require_aware(value: object, field_name: str) -> datetime:
    if not isinstance(value, datetime):
        raise InvalidSignalInput(
            field_name,
            ja="日時（datetime）でなければなりません。",
            en="must be a datetime.",
        )
    if value.tzinfo is None or value.utcoffset() is None:
        raise NaiveTimestamp(field_name)
    return value


def _require_date(value: object, field_name: str) -> None:
    if not _is_date(value):
        raise InvalidSignalInput(
            field_name,
            ja="日付（date、日時ではない）でなければなりません。",
            en="must be a date (not a datetime).",
        )


def _require_id(value: object, field_name: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise InvalidSignalInput(
            field_name,
            ja="空でない文字列でなければなりません。",
            en="must be a non-empty string.",
        )


def _to_jst(moment: datetime, field_name: str = "moment") -> datetime:
    return _require_aware(moment, field_name).astimezone(JST)
