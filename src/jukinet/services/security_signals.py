"""The insider-alert list for security staff: the access log aggregated in SQL, judged by rules.

Curiosity lookups are the main insider threat (design/domain.md §6). The rules live in
:mod:`jukinet.domain.insider_signals`; this service only gathers their inputs from the
``access_log`` table, with queries that run unchanged on SQLite and PostgreSQL:

* **VOLUME** — per (actor kind, actor, JST day) read counts over the judged day and the
  ``history_days`` days before it, for operators and recipients (agencies). The day of each row
  is a ``CASE`` over the UTC instants of the JST midnights, so the database groups ~100k rows a
  day into a few rows per actor without any dialect-specific date arithmetic or time-zone
  support (SQLite has none).
* **MANY_READERS** — subjects read by at least ``many_readers`` distinct *operators* within
  ``many_readers_window_days`` days (``GROUP BY subject HAVING COUNT(DISTINCT actor) ≥ n``),
  then the readers of those subjects only. Recipients and batch rows are left out: an agency
  answering through a batch reads many residents legitimately and is not a curiosity lookup.
* **OFF_HOURS** — the judged day's reads outside business hours. On a working day only the rows
  before opening or after closing are fetched; :meth:`BusinessHours.contains` still decides.

A "read" here is an entry with action ``read`` or ``candidate``: a search result list shows a
resident's identity items too, so it discloses as much as opening the record does.

Looking at the log for alerts is not a read of anyone's register data, so it writes no log
entry. A MANY_READERS signal carries the full resident code (``Signal.subject``) so that staff
can investigate; only holders of :attr:`Permission.AUDIT` get signals at all, and screens and
the CSV show the code masked.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final

from sqlalchemy import ColumnElement, case, distinct, func, or_, select
from sqlalchemy.orm import Session

from jukinet.domain.access_log import RETENTION_YEARS, Action, ActorKind, Channel
from jukinet.domain.codes import mask_resident_code
from jukinet.domain.emergency import TIGHTENING_FACTOR, tightens_signals
from jukinet.domain.errors import ValidationError
from jukinet.domain.insider_signals import (
    JST,
    BusinessHours,
    DailyCount,
    OffHoursRead,
    Signal,
    SignalKind,
    SignalThresholds,
    SubjectReaders,
    all_signals,
)
from jukinet.domain.insider_signals.operator_events import OperatorIncident
from jukinet.domain.operator_events import OperatorEvent
from jukinet.domain.operators import Actor, Permission
from jukinet.services.context import ServiceContext
from jukinet.storage.tables import AccessLogRow, table_of

__all__ = [
    "CSV_COLUMNS",
    "READ_ACTIONS",
    "VOLUME_ACTOR_KINDS",
    "AlertDayOutOfRange",
    "alerts",
    "alerts_csv",
    "earliest_alert_day",
    "masked_evidence",
]

#: Log actions that disclosed a resident's data to the actor (a search hit lists identity items).
READ_ACTIONS: Final = (Action.READ.value, Action.CANDIDATE.value)
#: Who is judged for VOLUME and OFF_HOURS: people and agencies, not other nodes or the system.
VOLUME_ACTOR_KINDS: Final = (ActorKind.OPERATOR.value, ActorKind.RECIPIENT.value)
#: Columns of :func:`alerts_csv`, in order.
CSV_COLUMNS: Final = (
    "severity",
    "kind",
    "day",
    "actor",
    "subject",
    "count",
    "baseline",
    "summary_ja",
    "summary_en",
    "evidence",
)

_LOG: Final = table_of(AccessLogRow)
# Spreadsheet programs run a cell starting with one of these as a formula (CSV injection).
_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")


class AlertDayOutOfRange(ValidationError):
    """``JUKI-SIG-010``: the day asked for lies in the future or beyond the log's retention."""

    def __init__(self, earliest: date, latest: date) -> None:
        super().__init__(
            "JUKI-SIG-010",
            ja=(
                f"day: 対象日は {earliest.isoformat()} から {latest.isoformat()} までの日付"
                "（日本時間、ログの保存期間内）を指定してください。"
            ),
            en=(
                f"day: the day must lie between {earliest.isoformat()} and "
                f"{latest.isoformat()} (JST, within the log's retention period)."
            ),
            field="day",
        )


# --------------------------------------------------------------------------------------------
# Time helpers
# --------------------------------------------------------------------------------------------


def _utc_midnight(day: date) -> datetime:
    """The UTC instant at which JST ``day`` begins.

    Bounds are bound in UTC because SQLite stores the log's UTC wall time without an offset:
    binding a JST-aware value there would be compared as if it were UTC.
    """
    return datetime.combine(day, time(0), JST).astimezone(UTC)


def _utc_at(day: date, moment: time) -> datetime:
    return datetime.combine(day, moment, JST).astimezone(UTC)


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; the log stores UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def earliest_alert_day(today: date) -> date:
    """The first JST day that may still have log entries: ``RETENTION_YEARS`` before ``today``."""
    try:
        return today.replace(year=today.year - RETENTION_YEARS)
    except ValueError:  # 29 February in a year that has none
        return today.replace(year=today.year - RETENTION_YEARS, day=28)


# --------------------------------------------------------------------------------------------
# Aggregation in SQL
# --------------------------------------------------------------------------------------------


def _reads_between(start: datetime, end: datetime) -> list[ColumnElement[bool]]:
    """Filters common to every query: reads recorded in ``[start, end)`` (UTC instants).

    Purged entries have no ``recorded_at`` and so drop out of the range by themselves.
    """
    return [
        _LOG.c.recorded_at >= start,
        _LOG.c.recorded_at < end,
        _LOG.c.action.in_(READ_ACTIONS),
    ]


def _daily_counts(session: Session, day: date, history_days: int) -> list[DailyCount]:
    """Per (actor kind, actor, JST day) read counts for ``day`` and ``history_days`` before."""
    first_day = day - timedelta(days=history_days)
    days = [first_day + timedelta(days=offset) for offset in range(history_days + 1)]
    bounds = [_utc_midnight(d) for d in (*days, day + timedelta(days=1))]
    # bucket i is JST day days[i]: the first upper bound a row lies below. The WHERE clause
    # already keeps rows within [bounds[0], bounds[-1]), so the last branch is an ELSE.
    bucket = case(
        *((_LOG.c.recorded_at < upper, index) for index, upper in enumerate(bounds[1:-1])),
        else_=len(days) - 1,
    )
    counts = session.execute(
        select(_LOG.c.actor_kind, _LOG.c.actor, bucket, func.count())
        .where(
            *_reads_between(bounds[0], bounds[-1]),
            _LOG.c.actor_kind.in_(VOLUME_ACTOR_KINDS),
        )
        .group_by(_LOG.c.actor_kind, _LOG.c.actor, bucket)
    ).all()
    return [
        DailyCount(actor=actor, actor_kind=actor_kind, day=days[int(index)], count=int(count))
        for actor_kind, actor, index, count in counts
        if actor and actor_kind
    ]


def _subject_readers(
    session: Session, day: date, window_days: int, threshold: int
) -> list[SubjectReaders]:
    """Subjects read by at least ``threshold`` distinct operators in the window ending ``day``,
    with those operators and the first and last read (UTC)."""
    start = _utc_midnight(day - timedelta(days=window_days - 1))
    end = _utc_midnight(day + timedelta(days=1))
    operator_reads = [
        *_reads_between(start, end),
        _LOG.c.actor_kind == ActorKind.OPERATOR.value,
        _LOG.c.channel != Channel.BATCH.value,
        _LOG.c.subject.is_not(None),
    ]
    many = (
        select(_LOG.c.subject)
        .where(*operator_reads)
        .group_by(_LOG.c.subject)
        .having(func.count(distinct(_LOG.c.actor)) >= threshold)
    )
    # Only the flagged subjects' readers are fetched: a handful of rows, not the whole window.
    rows = session.execute(
        select(
            _LOG.c.subject,
            _LOG.c.actor,
            func.min(_LOG.c.recorded_at),
            func.max(_LOG.c.recorded_at),
        )
        .where(*operator_reads, _LOG.c.subject.in_(many.scalar_subquery()))
        .group_by(_LOG.c.subject, _LOG.c.actor)
    ).all()
    grouped: dict[str, tuple[set[str], datetime, datetime]] = {}
    for subject, reader, first, last in rows:
        first, last = _aware(first), _aware(last)
        if subject in grouped:
            readers, earliest, latest = grouped[subject]
            readers.add(reader)
            grouped[subject] = (readers, min(earliest, first), max(latest, last))
        else:
            grouped[subject] = ({reader}, first, last)
    return [
        SubjectReaders(
            subject=subject,
            readers=tuple(sorted(readers)),
            first_read=first,
            last_read=last,
        )
        for subject, (readers, first, last) in sorted(grouped.items())
    ]


def _off_hours_reads(session: Session, day: date, hours: BusinessHours) -> list[OffHoursRead]:
    """The reads of JST ``day`` that may lie outside business hours (operators and recipients,
    scheduled batch jobs excluded: they run at night by design)."""
    start = _utc_midnight(day)
    end = _utc_midnight(day + timedelta(days=1))
    filters = [
        *_reads_between(start, end),
        _LOG.c.actor_kind.in_(VOLUME_ACTOR_KINDS),
        _LOG.c.channel != Channel.BATCH.value,
    ]
    if hours.is_working_day(day):
        # Only rows before opening or from closing on can be off-hours; skipping the working
        # day's bulk keeps this fetch small. BusinessHours.contains still has the last word.
        filters.append(
            (_LOG.c.recorded_at < _utc_at(day, hours.start))
            | (_LOG.c.recorded_at >= _utc_at(day, hours.end))
        )
    rows = session.execute(
        select(_LOG.c.actor_kind, _LOG.c.actor, _LOG.c.recorded_at).where(*filters)
    ).all()
    return [
        OffHoursRead(actor=actor, actor_kind=actor_kind, at=_aware(recorded_at))
        for actor_kind, actor, recorded_at in rows
        if actor and actor_kind
    ]


# --------------------------------------------------------------------------------------------
# The use case
# --------------------------------------------------------------------------------------------


#: Operators' own events that security staff must see on the alert list.
_INCIDENT_EVENTS: Final = (OperatorEvent.CARD_CLONED, OperatorEvent.LOCKED)


def _operator_incidents(session: Session, day: date) -> list[OperatorIncident]:
    start = _utc_midnight(day)
    rows = session.execute(
        select(_LOG.c.actor, _LOG.c.reason, _LOG.c.recorded_at).where(
            _LOG.c.recorded_at >= start,
            _LOG.c.recorded_at < start + timedelta(days=1),
            or_(*(_LOG.c.reason.like(f"{event.value}%") for event in _INCIDENT_EVENTS)),
        )
    )
    incidents = []
    for actor, reason, _recorded in rows:
        event = next(e for e in _INCIDENT_EVENTS if (reason or "").startswith(e.value))
        detail = (reason or "")[len(event.value) :].lstrip(": ")
        incidents.append(OperatorIncident(actor=actor, event=event, day=day, detail=detail))
    return incidents


#: Days of access-log history a node needs before "new actor" volume means anything: on a node
#: younger than this every actor is new, so its first days would be nothing but such alerts.
BASELINE_DAYS: Final = 7


def baseline_start(node: ServiceContext) -> date | None:
    """The JST day from which new actors' volume is judged: ``BASELINE_DAYS`` after the
    node's first log entry (``None`` when the log is empty)."""
    with node.read_session() as session:
        first = session.scalar(select(func.min(AccessLogRow.recorded_at)))
    if first is None:
        return None
    moment: datetime = first if first.tzinfo is not None else first.replace(tzinfo=UTC)
    start: date = moment.astimezone(JST).date() + timedelta(days=BASELINE_DAYS)
    return start


def _held(signal: Signal, judged: date, start: date | None) -> bool:
    """A new actor's volume signal on a node still building its baseline."""
    return (
        signal.kind is SignalKind.VOLUME
        and bool(signal.evidence.get("new_actor"))
        and (start is None or judged < start)
    )


def alerts(
    node: ServiceContext,
    *,
    actor: Actor,
    day: date | None = None,
    thresholds: SignalThresholds = SignalThresholds(),
    hours: BusinessHours = BusinessHours(),
) -> list[Signal]:
    """The insider alert list for JST ``day`` (today in Japan by default), most urgent first.

    Requires :attr:`Permission.AUDIT` (``PermissionDenied`` otherwise, checked before anything
    is read). ``day`` must lie between :func:`earliest_alert_day` and today
    (:class:`AlertDayOutOfRange` otherwise). VOLUME and MANY_READERS judge ``day``; OFF_HOURS
    reports ``day``'s reads outside ``hours``. Until the node's log is :data:`BASELINE_DAYS`
    old (:func:`baseline_start`), VOLUME signals about actors without history are held: every
    actor is new then, and the list would say nothing. Signals are sorted by
    :func:`~jukinet.domain.insider_signals.signal_sort_key`; MANY_READERS signals carry the full
    resident code, so callers must mask it wherever it is shown.
    """
    actor.require(Permission.AUDIT)
    if tightens_signals(node.emergency.effective_level):
        # Threat level 1 and above (domain.md §6): watch harder.
        thresholds = thresholds.tightened(TIGHTENING_FACTOR)
    today = node.today()
    judged = today if day is None else day
    if isinstance(judged, datetime) or not isinstance(judged, date):
        raise AlertDayOutOfRange(earliest_alert_day(today), today)
    if not earliest_alert_day(today) <= judged <= today:
        raise AlertDayOutOfRange(earliest_alert_day(today), today)
    with node.read_session() as session:
        daily_counts = _daily_counts(session, judged, thresholds.history_days)
        subjects = _subject_readers(
            session, judged, thresholds.many_readers_window_days, thresholds.many_readers
        )
        off_hours = _off_hours_reads(session, judged, hours)
        incidents = _operator_incidents(session, judged)
    signals = all_signals(
        day=judged,
        daily_counts=daily_counts,
        subjects=subjects,
        off_hours_reads=off_hours,
        incidents=incidents,
        thresholds=thresholds,
        hours=hours,
    )
    start = baseline_start(node)
    return [signal for signal in signals if not _held(signal, judged, start)]


# --------------------------------------------------------------------------------------------
# Presentation helpers shared by the pages, the API and the CSV
# --------------------------------------------------------------------------------------------


def masked_evidence(signal: Signal) -> dict[str, Any]:
    """The signal's evidence as JSON types, with the resident code masked (for screens, files)."""
    raw = signal.as_dict()["evidence"]
    evidence: dict[str, Any] = dict(raw) if isinstance(raw, Mapping) else {}
    if isinstance(evidence.get("subject"), str):
        evidence["subject"] = mask_resident_code(evidence["subject"])
    return evidence


def _cell(value: object) -> str:
    """One CSV cell; text that a spreadsheet would run as a formula is quoted with ``'``."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


def _rows(signals: Iterable[Signal], *, mask_codes: bool) -> Iterable[Sequence[str]]:
    for signal in signals:
        data: Mapping[str, Any] = signal.as_dict()
        subject = signal.subject
        evidence = masked_evidence(signal) if mask_codes else data["evidence"]
        if subject is not None and mask_codes:
            subject = mask_resident_code(subject)
        yield [
            _cell(data["severity"]),
            _cell(data["kind"]),
            _cell(data["day"]),
            _cell(signal.actor),
            _cell(subject),
            _cell(signal.count),
            _cell(data["baseline"]),
            _cell(signal.summary_ja),
            _cell(signal.summary_en),
            _cell(json.dumps(evidence, ensure_ascii=False, sort_keys=True)),
        ]


def alerts_csv(signals: Iterable[Signal], *, mask_codes: bool = True) -> str:
    """The signals as CSV text (header row first, ``\\r\\n`` line ends, columns
    :data:`CSV_COLUMNS`).

    Resident codes are masked by default — a downloaded file travels further than a screen;
    pass ``mask_codes=False`` only for an investigation that needs the full code. Cells that a
    spreadsheet would run as formulas are prefixed with ``'``.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(_rows(signals, mask_codes=mask_codes))
    return buffer.getvalue()
