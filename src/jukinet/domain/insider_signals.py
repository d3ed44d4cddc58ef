"""Insider-misuse signals from the access log: who read too much, whom too many read, and when.

Curiosity lookups — staff reading a celebrity's, a patient's or an ex-partner's record — are the
main insider threat to the register (design/domain.md §6). Every read of personal data is in the
access log; this module turns aggregates of that log into an alert list for security staff.

It is pure: the service layer aggregates the log in SQL and hands over plain values, and this
module only applies the rules. Three kinds of :class:`Signal` come out:

* :attr:`SignalKind.VOLUME` (:func:`volume_signals`) — an actor (an operator, or an agency /
  recipient) read far more on one day than its own norm: the day's count is greater than
  ``max(volume_multiplier × median, volume_floor)``, where the median is over the actor's previous
  ``history_days`` days, a day without reads counting as zero. An actor with no reads in that
  history therefore alerts only above the floor. The median of peers of the same actor kind on
  the same day is attached as evidence, never as a separate signal.
* :attr:`SignalKind.MANY_READERS` (:func:`many_reader_signals`) — one subject (a resident code)
  read by at least ``many_readers`` distinct actors within ``many_readers_window_days`` days: the
  "celebrity lookup" pattern. The caller passes operator reads only, so that agencies answering
  through a batch do not count.
* :attr:`SignalKind.OFF_HOURS` (:func:`off_hours_signals`) — reads outside
  :class:`BusinessHours` in Japan time: one signal per actor per JST day.

Severity (:class:`Severity`) follows fixed rules, documented on each function:

========================  ======================  ======================  ==================
kind                      NOTICE                  WARNING                 ALERT
========================  ======================  ======================  ==================
VOLUME (``ratio``)        fires, ratio < 5        5 ≤ ratio < 10          ratio ≥ 10
MANY_READERS (readers)    threshold ≤ n < 1.5×    1.5× ≤ n < 2×           n ≥ 2× (default 10)
OFF_HOURS (reads a day)   1 – 9                   10 – 49                 ≥ 50
========================  ======================  ======================  ==================

For VOLUME, ``ratio`` is the count divided by the *effective baseline*
``max(median, volume_floor / volume_multiplier)`` — the median, or for a quiet or new actor the
level at which the floor takes over — so a volume signal always has ``ratio > volume_multiplier``
and a new actor reading just over the floor is a NOTICE, not an ALERT.

Privacy: summaries name actors by id and carry counts, dates and times only — never a name or
address. A MANY_READERS signal must name its subject so that staff can investigate: the full
resident code is in :attr:`Signal.subject` and the evidence, while the summaries show it masked
as staff screens do (:func:`~jukinet.domain.codes.mask_resident_code`). Error messages name the
field and the rule, never the value.

All dates are Japan (JST, UTC+9, no daylight saving) calendar days. Every error is an
:class:`InsiderSignalError`, which is both a :class:`~jukinet.domain.errors.ValidationError` and
a :class:`ValueError`.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from enum import Enum, StrEnum
from types import MappingProxyType
from typing import ClassVar, Final

from jukinet.domain.codes import mask_resident_code
from jukinet.domain.errors import ValidationError

__all__ = [
    "JST",
    "MANY_READERS_ALERT_FACTOR",
    "MANY_READERS_WARNING_FACTOR",
    "OFF_HOURS_ALERT_COUNT",
    "OFF_HOURS_WARNING_COUNT",
    "VOLUME_ALERT_RATIO",
    "VOLUME_WARNING_RATIO",
    "BusinessHours",
    "DailyCount",
    "InsiderSignalError",
    "InvalidBusinessHours",
    "InvalidSignalInput",
    "InvalidThreshold",
    "NaiveTimestamp",
    "OffHoursRead",
    "ReadsOutsideWindow",
    "Severity",
    "Signal",
    "SignalKind",
    "SignalThresholds",
    "SubjectReaders",
    "all_signals",
    "many_reader_signals",
    "off_hours_signals",
    "signal_sort_key",
    "volume_signals",
]

#: Japan Standard Time: a fixed UTC+9 offset (Japan has no daylight saving time).
JST: Final = timezone(timedelta(hours=9), "JST")

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

_ACTOR_KIND_LABELS: Final[Mapping[str, tuple[str, str]]] = {
    "operator": ("操作者", "operator"),
    "recipient": ("受領者", "recipient"),
    "agency": ("機関", "agency"),
}


# --- errors ---------------------------------------------------------------------------------


class InsiderSignalError(ValidationError, ValueError):
    """Bad input to the signal rules; also a ``ValueError``. Codes are ``JUKI-SIG-0NN``."""

    CODE: ClassVar[str] = "JUKI-SIG-000"

    def __init__(self, *, ja: str, en: str, field: str | None = None) -> None:
        super().__init__(self.CODE, ja=ja, en=en, field=field)


class InvalidThreshold(InsiderSignalError):
    """``JUKI-SIG-001``: a threshold is not a positive number (or not a whole number)."""

    CODE = "JUKI-SIG-001"

    def __init__(self, field: str, *, integer: bool) -> None:
        if integer:
            ja = f"{field}: しきい値は 1 以上の整数でなければなりません。"
            en = f"{field}: the threshold must be a whole number of at least 1."
        else:
            ja = f"{field}: しきい値は正の有限の数でなければなりません。"
            en = f"{field}: the threshold must be a positive finite number."
        super().__init__(ja=ja, en=en, field=field)


class NaiveTimestamp(InsiderSignalError):
    """``JUKI-SIG-002``: a date-time has no time zone, so its Japan time is unknown."""

    CODE = "JUKI-SIG-002"

    def __init__(self, field: str) -> None:
        super().__init__(
            ja=f"{field}: 日時にはタイムゾーンが必要です（日本時間に変換できません）。",
            en=f"{field}: the date-time must carry a time zone (it cannot be converted to JST).",
            field=field,
        )


class InvalidBusinessHours(InsiderSignalError):
    """``JUKI-SIG-003``: business hours that cannot describe a working day."""

    CODE = "JUKI-SIG-003"

    def __init__(self, field: str, *, ja: str, en: str) -> None:
        super().__init__(ja=f"{field}: {ja}", en=f"{field}: {en}", field=field)


class InvalidSignalInput(InsiderSignalError):
    """``JUKI-SIG-004``: an aggregate handed in by the caller is malformed."""

    CODE = "JUKI-SIG-004"

    def __init__(self, field: str, *, ja: str, en: str) -> None:
        super().__init__(ja=f"{field}: {ja}", en=f"{field}: {en}", field=field)


class ReadsOutsideWindow(InsiderSignalError):
    """``JUKI-SIG-005``: a subject's reads do not lie within the window being judged."""

    CODE = "JUKI-SIG-005"

    def __init__(self, window_days: int) -> None:
        super().__init__(
            ja=(
                f"first_read/last_read: 参照者の集計は判定日までの {window_days} 日間"
                "（日本時間）の参照に限らなければなりません。"
            ),
            en=(
                f"first_read/last_read: the readers must be aggregated over the {window_days} "
                "days (JST) ending on the day judged."
            ),
            field="first_read",
        )


# --- enums ----------------------------------------------------------------------------------


class SignalKind(StrEnum):
    """What pattern a signal reports."""

    VOLUME = "volume"
    MANY_READERS = "many_readers"
    OFF_HOURS = "off_hours"

    @property
    def order(self) -> int:
        """Position in declaration order, used to sort signals of equal severity and day."""
        return _KIND_ORDER[self]


_KIND_ORDER: Final[Mapping[SignalKind, int]] = {kind: i for i, kind in enumerate(SignalKind)}


class Severity(StrEnum):
    """How urgently security staff should look; the rules per kind are in the module docstring.

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


# --- validation helpers ---------------------------------------------------------------------


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


# --- configuration --------------------------------------------------------------------------


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


# --- inputs ---------------------------------------------------------------------------------


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


# --- output ---------------------------------------------------------------------------------


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


# --- formatting helpers ---------------------------------------------------------------------


def _num(value: float) -> str:
    """A number for a summary: whole numbers without decimals, others with up to two."""
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _kind_labels(actor_kind: str) -> tuple[str, str]:
    return _ACTOR_KIND_LABELS.get(actor_kind, (actor_kind, actor_kind))


# --- VOLUME ---------------------------------------------------------------------------------


def _volume_severity(ratio: float) -> Severity:
    if ratio >= VOLUME_ALERT_RATIO:
        return Severity.ALERT
    if ratio >= VOLUME_WARNING_RATIO:
        return Severity.WARNING
    return Severity.NOTICE


def volume_signals(
    counts: Iterable[DailyCount],
    *,
    day: date,
    thresholds: SignalThresholds = SignalThresholds(),
    compare_peers: bool = True,
) -> list[Signal]:
    """VOLUME signals for ``day``: actors whose count is far above their own recent norm.

    ``counts`` holds per-actor, per-JST-day read counts covering ``day`` and the
    ``history_days`` days before it; rows for other days are ignored, rows repeating an actor
    and day are added up, and a missing day counts as zero. An actor (keyed by ``actor_kind``
    and ``actor``) with a count ``c`` on ``day`` fires when::

        c > limit = max(volume_multiplier × median(previous history_days days), volume_floor)

    so an actor without reads in its history (``new_actor`` in the evidence) fires only above
    the floor. Severity uses ``ratio = c / max(median, volume_floor / volume_multiplier)``:
    ALERT at ``ratio ≥ 10``, WARNING at ``ratio ≥ 5``, NOTICE otherwise.

    With ``compare_peers`` the evidence also carries the median count on ``day`` of all actors
    of the same kind that have a row for ``day`` (the actor itself included).

    Returns the signals sorted by :func:`signal_sort_key`.
    """
    _require_date(day, "day")
    history_start = day - timedelta(days=thresholds.history_days)
    per_actor: dict[tuple[str, str], dict[date, int]] = defaultdict(lambda: defaultdict(int))
    for row in counts:
        if history_start <= row.day <= day:
            per_actor[(row.actor_kind, row.actor)][row.day] += row.count

    today_by_kind: dict[str, list[int]] = defaultdict(list)
    for (actor_kind, _actor), days in per_actor.items():
        if day in days:
            today_by_kind[actor_kind].append(days[day])

    multiplier = float(thresholds.volume_multiplier)
    floor = thresholds.volume_floor
    signals: list[Signal] = []
    for (actor_kind, actor), days in per_actor.items():
        count = days.get(day, 0)
        history = [
            days.get(day - timedelta(days=offset), 0)
            for offset in range(1, thresholds.history_days + 1)
        ]
        median = float(statistics.median(history))
        limit = max(multiplier * median, float(floor))
        if not count > limit:
            continue
        effective_baseline = max(median, floor / multiplier)
        ratio = count / effective_baseline
        active_days = sum(1 for n in history if n > 0)
        new_actor = active_days == 0
        evidence: dict[str, object] = {
            "actor_kind": actor_kind,
            "history_days": thresholds.history_days,
            "history_active_days": active_days,
            "new_actor": new_actor,
            "median": median,
            "multiplier": multiplier,
            "floor": floor,
            "limit": limit,
            "effective_baseline": round(effective_baseline, 4),
            "ratio": round(ratio, 2),
            "ratio_to_median": round(count / median, 2) if median > 0 else None,
        }
        label_ja, label_en = _kind_labels(actor_kind)
        summary_ja = (
            f"{label_ja} {actor}：{day.isoformat()} の参照 {count} 件が基準 {_num(limit)} 件"
            f"（過去{thresholds.history_days}日の中央値 {_num(median)} 件の {_num(multiplier)} 倍"
            f"と下限 {floor} 件の大きい方）を超えました。"
        )
        summary_en = (
            f"{label_en.capitalize()} {actor}: {count} reads on {day.isoformat()} exceed the "
            f"limit of {_num(limit)} (the greater of {_num(multiplier)}× the "
            f"{thresholds.history_days}-day median of {_num(median)} and the floor of {floor})."
        )
        if new_actor:
            summary_ja += f"過去{thresholds.history_days}日に参照はありません（新規）。"
            summary_en += f" No reads in the previous {thresholds.history_days} days (new actor)."
        if compare_peers:
            peers = today_by_kind[actor_kind]
            peer_median = float(statistics.median(peers))
            evidence["peer_actors"] = len(peers)
            evidence["peer_median"] = peer_median
            evidence["peer_ratio"] = round(count / peer_median, 2) if peer_median > 0 else None
            summary_ja += f"同日の同種 {len(peers)} 者の中央値は {_num(peer_median)} 件です。"
            summary_en += (
                f" Median of the {len(peers)} {label_en}(s) active that day: {_num(peer_median)}."
            )
        signals.append(
            Signal(
                kind=SignalKind.VOLUME,
                severity=_volume_severity(ratio),
                actor=actor,
                subject=None,
                day=day,
                count=count,
                baseline=median,
                summary_ja=summary_ja,
                summary_en=summary_en,
                evidence=evidence,
            )
        )
    signals.sort(key=signal_sort_key)
    return signals


# --- MANY_READERS ---------------------------------------------------------------------------


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


# --- OFF_HOURS ------------------------------------------------------------------------------


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


# --- combined -------------------------------------------------------------------------------


def all_signals(
    *,
    day: date,
    daily_counts: Iterable[DailyCount] = (),
    subjects: Iterable[SubjectReaders] = (),
    off_hours_reads: Iterable[OffHoursRead] = (),
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
    ]
    signals.sort(key=signal_sort_key)
    return signals
