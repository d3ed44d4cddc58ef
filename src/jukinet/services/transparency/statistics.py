"""The report's figures, queried from the access log and the batch jobs for a period of months.

Everything is aggregated in SQL; only the columns the figures need leave the database, and an
operator's username never does. A published report is cached briefly per node and period.
"""

from __future__ import annotations

import threading
import weakref
from collections import defaultdict
from datetime import UTC, date, datetime, time
from time import monotonic
from typing import Any, Final

from sqlalchemy import ColumnElement, Engine, Select, and_, case, func, not_, or_, select

from jukinet.domain.access_log import Action, ActorKind, Channel
from jukinet.domain.clock import JST
from jukinet.domain.errors import ValidationError
from jukinet.domain.operator_events import OperatorEvent
from jukinet.services.context import ServiceContext
from jukinet.services.transparency.affairs import _public_affair_code, affair_title
from jukinet.services.transparency.dialect import jst_month
from jukinet.services.transparency.figures import (
    _COUNTER_READS,
    _PROVISIONS,
    _REFUSALS,
    BATCH_SIZE_BUCKETS,
    BatchJobCount,
    BatchSizeCount,
    CounterReadCount,
    OperatorUsageCount,
    ProvisionCount,
    RefusalCount,
    TransparencyStats,
)
from jukinet.storage.tables import AccessLogRow, BatchJobRow, RecipientRow

__all__ = [
    "CACHE_SECONDS",
    "DEFAULT_MONTHS",
    "MAX_MONTHS",
    "InvalidMonths",
    "cached_transparency_stats",
    "transparency_stats",
]

#: Months shown unless asked otherwise, and the most one report covers (ten years, which is
#: more than the access log keeps: entries are purged after seven).
DEFAULT_MONTHS: Final = 12
MAX_MONTHS: Final = 120

_PROVIDED: Final = (Action.READ.value, Action.CANDIDATE.value)


class InvalidMonths(ValidationError):
    """The report period is outside 1 to :data:`MAX_MONTHS` months."""

    def __init__(self) -> None:
        super().__init__(
            "JUKI-TRN-001",
            ja=f"集計期間は1か月から{MAX_MONTHS}か月までです。",
            en=f"The period is 1 to {MAX_MONTHS} months.",
            field="months",
        )


def _month_starts(today: date, months: int) -> list[date]:
    """The first day of each of the ``months`` months ending with ``today``'s, oldest first."""
    year, month = today.year, today.month
    starts: list[date] = []
    for _ in range(months):
        starts.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return starts[::-1]


def _next_month(day: date) -> date:
    return date(day.year + 1, 1, 1) if day.month == 12 else date(day.year, day.month + 1, 1)


def _utc_midnight(day: date) -> datetime:
    """00:00 Japan time on ``day``, as a UTC instant (SQLite compares UTC wall-time text)."""
    return datetime.combine(day, time(0), JST).astimezone(UTC)


def _recipient_names(node: ServiceContext) -> dict[str, str]:
    with node.read_session() as session:
        # The registry of recipients is small (bodies, not people): read it whole.
        return dict(session.execute(select(RecipientRow.id, RecipientRow.name)).all())


def transparency_stats(node: ServiceContext, *, months: int = DEFAULT_MONTHS) -> TransparencyStats:
    """The figures of the last ``months`` calendar months (Japan time), this month included.

    Raises :class:`InvalidMonths` (422) outside 1 to :data:`MAX_MONTHS`. Read-only, and
    public: nothing in the result identifies a resident, an operator or an officer.
    """
    if isinstance(months, bool) or not isinstance(months, int) or not 1 <= months <= MAX_MONTHS:
        raise InvalidMonths()
    starts = _month_starts(node.today(), months)
    labels = tuple(f"{d.year:04d}-{d.month:02d}" for d in starts)
    period_start, period_end = starts[0], _next_month(starts[-1])
    since, until = _utc_midnight(period_start), _utc_midnight(period_end)
    names = _recipient_names(node)

    log = AccessLogRow
    month = jst_month(log.recorded_at).label("month")
    # Operators' own events (a refused sign-in, a lock) are counted as usage below, not as
    # refused queries: nothing was asked of the register.
    is_refusal = and_(log.action == Action.REFUSED.value, not_(_operator_event()))
    is_recipient = log.actor_kind == ActorKind.RECIPIENT.value
    # Which figure an entry counts towards, decided in SQL so that reads and search candidates
    # fold into one group, and counter reads into one group per month.
    section = case(
        (is_refusal, _REFUSALS), (is_recipient, _PROVISIONS), else_=_COUNTER_READS
    ).label("section")
    # The reader's id leaves the database only for registered recipients (public bodies):
    # operators' usernames are folded away inside the query itself.
    reader = case((is_recipient, log.actor), else_=None).label("reader")
    # Counter reads are published as a count per month: no affair, no channel.
    detailed = or_(is_refusal, is_recipient)
    affair = case((detailed, log.affair_code), else_=None).label("affair")
    channel = case((detailed, log.channel), else_=None).label("channel")
    wanted = or_(
        is_refusal,
        and_(
            log.action.in_(_PROVIDED),
            log.actor_kind.in_((ActorKind.RECIPIENT.value, ActorKind.OPERATOR.value)),
        ),
    )
    log_query = (
        select(month, section, log.actor_kind, reader, affair, channel, func.count().label("n"))
        .where(log.recorded_at >= since, log.recorded_at < until, wanted)
        .group_by(month, section, log.actor_kind, reader, affair, channel)
    )

    job = BatchJobRow
    job_month = jst_month(job.created_at).label("month")
    # The index into BATCH_SIZE_BUCKETS of each job's size class.
    bucket = case(
        *[(job.total_rows <= b.maximum, i) for i, b in enumerate(BATCH_SIZE_BUCKETS) if b.maximum],
        else_=len(BATCH_SIZE_BUCKETS) - 1,
    ).label("bucket")
    job_query = (
        select(
            job_month,
            job.recipient_id,
            bucket,
            func.count().label("jobs"),
            func.sum(job.total_rows).label("total_rows"),
            func.sum(job.found_rows).label("found_rows"),
            func.sum(job.error_rows).label("error_rows"),
        )
        # An upload still being stored (or being undone) is not a job yet.
        .where(job.created_at >= since, job.created_at < until, job.status != "receiving")
        .group_by(job_month, job.recipient_id, bucket)
    )

    with node.read_session() as session:
        log_rows = session.execute(log_query).all()
        job_rows = session.execute(job_query).all()
        usage_rows = session.execute(_operator_usage_query(since, until)).all()

    provided: dict[tuple[str, str, str | None, str], int] = defaultdict(int)
    refused: dict[tuple[str, str, str | None, str | None, str], int] = defaultdict(int)
    counter: dict[str, int] = defaultdict(int)
    # Few distinct codes recur across many groups: check each one once.
    public_codes: dict[str | None, str | None] = {}
    for row in log_rows:
        count = int(row.n)
        if row.section == _COUNTER_READS:
            counter[row.month] += count
            continue
        code = public_codes.get(row.affair)
        if code is None:
            code = public_codes[row.affair] = _public_affair_code(row.affair)
        channel_value = row.channel or Channel.SYSTEM.value
        if row.section == _REFUSALS:
            refused[(row.month, row.actor_kind, row.reader, code, channel_value)] += count
        elif row.reader is not None:
            provided[(row.month, row.reader, code, channel_value)] += count

    jobs: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    sizes: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for row in job_rows:
        totals = jobs[(row.month, row.recipient_id)]
        # PostgreSQL sums bigints as numeric (Decimal): int() makes both backends agree.
        counts = (int(row.jobs), int(row.total_rows or 0))
        totals[0] += counts[0]
        totals[1] += counts[1]
        totals[2] += int(row.found_rows or 0)
        totals[3] += int(row.error_rows or 0)
        size = sizes[(row.month, BATCH_SIZE_BUCKETS[int(row.bucket)].key)]
        size[0] += counts[0]
        size[1] += counts[1]

    return TransparencyStats(
        node=str(node.node_id),
        generated_at=node.now(),
        months=months,
        month_labels=labels,
        period_start=period_start,
        period_end=period_end,
        provisions=tuple(
            ProvisionCount(
                month=m,
                recipient_id=rid,
                recipient_name=names.get(rid),
                affair_code=code,
                affair_title=affair_title(code),
                channel=ch,
                count=n,
            )
            for (m, rid, code, ch), n in sorted(provided.items(), key=_sort_key)
        ),
        refusals=tuple(
            RefusalCount(
                month=m,
                actor_kind=kind,
                recipient_id=rid,
                recipient_name=names.get(rid) if rid is not None else None,
                affair_code=code,
                affair_title=affair_title(code),
                channel=ch,
                count=n,
            )
            for (m, kind, rid, code, ch), n in sorted(refused.items(), key=_sort_key)
        ),
        batch_jobs=tuple(
            BatchJobCount(
                month=m,
                recipient_id=rid,
                recipient_name=names.get(rid),
                jobs=t[0],
                total_rows=t[1],
                found_rows=t[2],
                error_rows=t[3],
            )
            for (m, rid), t in sorted(jobs.items())
        ),
        batch_sizes=tuple(
            BatchSizeCount(month=m, bucket=key, jobs=s[0], total_rows=s[1])
            for (m, key), s in sorted(
                sizes.items(),
                key=lambda i: (i[0][0], [b.key for b in BATCH_SIZE_BUCKETS].index(i[0][1])),
            )
        ),
        counter_reads=tuple(CounterReadCount(month=m, count=n) for m, n in sorted(counter.items())),
        operator_usage=tuple(
            OperatorUsageCount(
                month=row.month,
                # PostgreSQL sums as numeric (Decimal): int() makes both backends agree.
                **{figure: int(getattr(row, figure) or 0) for figure in _USAGE_TAGS},
                lookups=int(row.lookups or 0),
            )
            for row in sorted(usage_rows, key=lambda r: str(r.month))
        ),
    )


#: The operator events counted per month as usage, by the figure they count towards.
_USAGE_TAGS: Final = {
    "signins": OperatorEvent.SIGNIN,
    "failed_signins": OperatorEvent.SIGNIN_FAILED,
    "lockouts": OperatorEvent.LOCKED,
    "permits_approved": OperatorEvent.PERMIT_APPROVED,
}


def _operator_event() -> ColumnElement[bool]:
    """An entry of an operator's own event (its reason starts with an ``operator:`` tag)."""
    log = AccessLogRow
    return and_(
        log.actor_kind == ActorKind.OPERATOR.value,
        log.reason.is_not(None),
        log.reason.like("operator:%"),
    )


def _tagged(event: OperatorEvent) -> ColumnElement[bool]:
    """An entry whose reason is exactly ``event``'s tag, alone or followed by ``": text"``
    (``operator:session:signin`` must not count ``operator:session:signin-failed``)."""
    reason = AccessLogRow.reason
    return or_(reason == event.value, reason.like(f"{event.value}: %"))


def _operator_usage_query(since: datetime, until: datetime) -> Select[*tuple[Any, ...]]:
    """Per JST month: each usage tag's entries and the operators' counter reads, counted in
    SQL; no column naming anyone leaves the database."""
    log = AccessLogRow
    lookup = and_(log.action.in_(_PROVIDED), log.channel == Channel.COUNTER.value)
    tags = {figure: _tagged(event) for figure, event in _USAGE_TAGS.items()}
    month = jst_month(log.recorded_at).label("month")
    return (
        select(
            month,
            *[
                func.sum(case((condition, 1), else_=0)).label(figure)
                for figure, condition in tags.items()
            ],
            func.sum(case((lookup, 1), else_=0)).label("lookups"),
        )
        .where(
            log.recorded_at >= since,
            log.recorded_at < until,
            log.actor_kind == ActorKind.OPERATOR.value,
            or_(lookup, *tags.values()),
        )
        .group_by(month)
    )


def _sort_key(item: tuple[tuple[str | None, ...], int]) -> tuple[str, ...]:
    # None sorts first and never compares with text.
    return tuple(part or "" for part in item[0])


#: Seconds a published report is reused: the page is public, and each computation aggregates
#: the whole period's log, so a burst of visitors must not mean a burst of aggregations.
CACHE_SECONDS: Final = 30.0
_CACHE: weakref.WeakKeyDictionary[Engine, dict[int, tuple[float, TransparencyStats]]] = (
    weakref.WeakKeyDictionary()
)
_CACHE_LOCK = threading.Lock()


def cached_transparency_stats(
    node: ServiceContext, *, months: int = DEFAULT_MONTHS, max_age: float = CACHE_SECONDS
) -> TransparencyStats:
    """:func:`transparency_stats`, reused for up to ``max_age`` seconds per node and period."""
    now = monotonic()
    with _CACHE_LOCK:
        found = _CACHE.get(node.engine, {}).get(months)
    if found is not None and now - found[0] < max_age:
        return found[1]
    stats = transparency_stats(node, months=months)
    with _CACHE_LOCK:
        _CACHE.setdefault(node.engine, {})[months] = (now, stats)
    return stats
