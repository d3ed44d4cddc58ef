"""Transparency statistics (提供状況の公表): what this node provided, to whom, for which affair.

Residents judge the network by what it does (design/domain.md §9, items 4 and 10): how many
identity records went to each recipient, for which statutory affair, by which channel and in
which month; how many queries were refused; how large the agencies' batch jobs were; and how
often the counter read the register. These figures are published, so they carry **no personal
data**: no resident code, name, operator username, officer name, case number or free-text
reason ever leaves the database. The queries select only the columns the figures need, and a
reader's name is kept only for registered recipients (public bodies), never for operators.

Everything is aggregated in SQL (``GROUP BY``), on SQLite and PostgreSQL alike, so the cost is
one scan of the period's entries whatever the log's size. Months are calendar months in Japan
time (UTC+9): the database computes the month of each timestamp with a small dialect-specific
expression (:class:`jst_month`), so the rows leave the database already folded per month.
"""

from __future__ import annotations

import csv
import io
import threading
import unicodedata
import weakref
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from time import monotonic
from typing import Any, Final

from sqlalchemy import Engine, String, and_, case, func, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from jukinet.data.affairs import statutory_affairs
from jukinet.domain.access_log import Action, ActorKind, Channel
from jukinet.domain.affairs import parse_affair_code
from jukinet.domain.clock import JST
from jukinet.domain.errors import DomainError, ValidationError
from jukinet.services.context import ServiceContext
from jukinet.storage.tables import AccessLogRow, BatchJobRow, RecipientRow

__all__ = [
    "BATCH_SIZE_BUCKETS",
    "CSV_COLUMNS",
    "DEFAULT_MONTHS",
    "INVALID_AFFAIR",
    "MAX_MONTHS",
    "BatchJobCount",
    "BatchSizeBucket",
    "BatchSizeCount",
    "CounterReadCount",
    "InvalidMonths",
    "ProvisionCount",
    "RefusalCount",
    "TransparencyStats",
    "affair_title",
    "jst_month",
    "to_csv",
    "to_json",
    "transparency_stats",
]

#: Months shown unless asked otherwise, and the most one report covers (ten years, which is
#: more than the access log keeps: entries are purged after seven).
DEFAULT_MONTHS: Final = 12
MAX_MONTHS: Final = 120

#: What a malformed affair code is published as. A refused query's affair code is whatever the
#: client sent (printable, at most 20 characters): it is published only once it parses as a
#: statutory code, so no arbitrary text a caller typed ends up on a public page.
INVALID_AFFAIR: Final = "invalid"

#: The columns of :func:`to_csv`, in order.
CSV_COLUMNS: Final = (
    "section",
    "month",
    "recipient_id",
    "recipient_name",
    "affair_code",
    "channel",
    "count",
    "rows",
)

_PROVIDED: Final = (Action.READ.value, Action.CANDIDATE.value)
# Section names inside the aggregate query (and of the CSV).
_PROVISIONS: Final = "provisions"
_REFUSALS: Final = "refusals"
_COUNTER_READS: Final = "counter_reads"


class InvalidMonths(ValidationError):
    """The report period is outside 1 to :data:`MAX_MONTHS` months."""

    def __init__(self) -> None:
        super().__init__(
            "JUKI-TRN-001",
            ja=f"集計期間は1か月から{MAX_MONTHS}か月までです。",
            en=f"The period is 1 to {MAX_MONTHS} months.",
            field="months",
        )


@dataclass(frozen=True, slots=True)
class BatchSizeBucket:
    """A class of batch-job sizes: ``minimum`` to ``maximum`` rows (``None``: no upper bound)."""

    key: str
    minimum: int
    maximum: int | None


#: Batch jobs by number of uploaded rows. A job whose rows are not counted yet (0) falls in the
#: first bucket: it is a small job as far as anyone can tell.
BATCH_SIZE_BUCKETS: Final[tuple[BatchSizeBucket, ...]] = (
    BatchSizeBucket("1-99", 1, 99),
    BatchSizeBucket("100-9999", 100, 9_999),
    BatchSizeBucket("10000-999999", 10_000, 999_999),
    BatchSizeBucket("1000000+", 1_000_000, None),
)


@dataclass(frozen=True, slots=True)
class ProvisionCount:
    """Identity records provided to one recipient for one affair by one channel in a month.

    Each entry counts once: a record read, or a resident returned among a search's candidates.
    """

    month: str
    recipient_id: str
    recipient_name: str | None
    affair_code: str | None
    affair_title: str
    channel: str
    count: int


@dataclass(frozen=True, slots=True)
class RefusalCount:
    """Queries refused before any personal data was read.

    ``recipient_id`` is set for registered recipients only; refusals of other readers (an
    operator, another node) are counted under their kind alone, never under a person's name.
    """

    month: str
    actor_kind: str
    recipient_id: str | None
    recipient_name: str | None
    affair_code: str | None
    affair_title: str
    channel: str
    count: int


@dataclass(frozen=True, slots=True)
class BatchJobCount:
    """One recipient's batch jobs created in a month, with their row totals."""

    month: str
    recipient_id: str
    recipient_name: str | None
    jobs: int
    total_rows: int
    found_rows: int
    error_rows: int


@dataclass(frozen=True, slots=True)
class BatchSizeCount:
    """Batch jobs of one size class created in a month (``bucket`` is a :data:`BATCH_SIZE_BUCKETS`
    key)."""

    month: str
    bucket: str
    jobs: int
    total_rows: int


@dataclass(frozen=True, slots=True)
class CounterReadCount:
    """Reads of the register by this node's own operators in a month (a count, nothing more)."""

    month: str
    count: int


@dataclass(frozen=True, slots=True)
class TransparencyStats:
    """Everything the transparency report publishes, for ``months`` calendar months (JST).

    ``month_labels`` lists every month of the period, oldest first, so charts show empty months
    too; ``period_start`` is the first day of the first month and ``period_end`` the first day
    after the last (both Japan dates). Row lists hold non-zero counts only.
    """

    node: str
    generated_at: datetime
    months: int
    month_labels: tuple[str, ...]
    period_start: date
    period_end: date
    provisions: tuple[ProvisionCount, ...]
    refusals: tuple[RefusalCount, ...]
    batch_jobs: tuple[BatchJobCount, ...]
    batch_sizes: tuple[BatchSizeCount, ...]
    counter_reads: tuple[CounterReadCount, ...]

    # -- Folds the page and the JSON use (plain Python over the already-aggregated rows) --------

    @property
    def total_provisions(self) -> int:
        """Records provided over the whole period."""
        return sum(row.count for row in self.provisions)

    @property
    def total_refusals(self) -> int:
        """Queries refused over the whole period."""
        return sum(row.count for row in self.refusals)

    @property
    def total_batch_jobs(self) -> int:
        """Batch jobs created over the whole period."""
        return sum(row.jobs for row in self.batch_jobs)

    @property
    def total_batch_rows(self) -> int:
        """Rows uploaded in those batch jobs."""
        return sum(row.total_rows for row in self.batch_jobs)

    @property
    def total_counter_reads(self) -> int:
        """Counter reads over the whole period."""
        return sum(row.count for row in self.counter_reads)

    def provisions_by_month(self) -> list[tuple[str, int]]:
        """Every month of the period with its number of records provided."""
        return _per_month(self.month_labels, ((r.month, r.count) for r in self.provisions))

    def refusals_by_month(self) -> list[tuple[str, int]]:
        """Every month of the period with its number of refusals."""
        return _per_month(self.month_labels, ((r.month, r.count) for r in self.refusals))

    def counter_reads_by_month(self) -> list[tuple[str, int]]:
        """Every month of the period with its number of counter reads."""
        return _per_month(self.month_labels, ((r.month, r.count) for r in self.counter_reads))

    def batch_jobs_by_month(self) -> list[tuple[str, int]]:
        """Every month of the period with its number of batch jobs."""
        return _per_month(self.month_labels, ((r.month, r.jobs) for r in self.batch_jobs))

    def provisions_by_recipient(self) -> list[tuple[str, str | None, int]]:
        """``(recipient_id, recipient_name, count)`` over the period, largest first."""
        totals: dict[str, int] = defaultdict(int)
        names: dict[str, str | None] = {}
        for row in self.provisions:
            totals[row.recipient_id] += row.count
            names[row.recipient_id] = row.recipient_name
        order = sorted(totals.items(), key=lambda item: (-item[1], item[0]))
        return [(rid, names[rid], count) for rid, count in order]

    def provisions_by_affair(self) -> list[tuple[str | None, str, int]]:
        """``(affair_code, affair_title, count)`` over the period, largest first."""
        totals: dict[str | None, int] = defaultdict(int)
        titles: dict[str | None, str] = {}
        for row in self.provisions:
            totals[row.affair_code] += row.count
            titles[row.affair_code] = row.affair_title
        order = sorted(totals.items(), key=lambda item: (-item[1], item[0] or ""))
        return [(code, titles[code], count) for code, count in order]

    def provisions_by_channel(self) -> list[tuple[str, int]]:
        """``(channel, count)`` over the period, in the order of :class:`Channel`."""
        totals: dict[str, int] = defaultdict(int)
        for row in self.provisions:
            totals[row.channel] += row.count
        known = [c.value for c in Channel]
        return sorted(totals.items(), key=lambda i: (_index(known, i[0]), i[0]))

    def batch_size_totals(self) -> list[tuple[BatchSizeBucket, int, int]]:
        """Every size class with ``(jobs, total_rows)`` over the period (zeros included)."""
        jobs: dict[str, int] = defaultdict(int)
        rows: dict[str, int] = defaultdict(int)
        for row in self.batch_sizes:
            jobs[row.bucket] += row.jobs
            rows[row.bucket] += row.total_rows
        return [(b, jobs[b.key], rows[b.key]) for b in BATCH_SIZE_BUCKETS]


def _index(order: list[str], value: str) -> int:
    return order.index(value) if value in order else len(order)


def _per_month(labels: Iterable[str], counts: Iterable[tuple[str, int]]) -> list[tuple[str, int]]:
    totals: dict[str, int] = defaultdict(int)
    for month, count in counts:
        totals[month] += count
    return [(month, totals[month]) for month in labels]


# --------------------------------------------------------------------------------------------
# The month of a timestamp in Japan time, computed by the database
# --------------------------------------------------------------------------------------------


class jst_month(FunctionElement[str]):  # noqa: N801 - reads like the SQL function it stands for
    """``YYYY-MM`` of a UTC timestamp column in Japan time (UTC+9, no daylight saving).

    Timestamps are stored in UTC on both backends (SQLite keeps the UTC wall time as text,
    PostgreSQL a ``timestamptz``), so shifting by nine hours and formatting gives the JST
    month without the database's time-zone tables or session time zone.
    """

    type = String()
    name = "jst_month"
    inherit_cache = True


@compiles(jst_month, "sqlite")
def _jst_month_sqlite(element: jst_month, compiler: SQLCompiler, **kw: Any) -> str:
    (column,) = element.clauses
    # SQLite's date functions round fractional seconds to milliseconds, which would move
    # 23:59:59.9995 into the next day (and month): cut the text to whole seconds first.
    return f"strftime('%Y-%m', substr({compiler.process(column, **kw)}, 1, 19), '+9 hours')"


@compiles(jst_month, "postgresql")
def _jst_month_postgresql(element: jst_month, compiler: SQLCompiler, **kw: Any) -> str:
    (column,) = element.clauses
    # AT TIME ZONE 'UTC' turns the timestamptz into UTC wall time whatever the session's zone.
    return (
        f"to_char(({compiler.process(column, **kw)} AT TIME ZONE 'UTC') "
        "+ INTERVAL '9 hours', 'YYYY-MM')"
    )


@compiles(jst_month)
def _jst_month_other(element: jst_month, compiler: SQLCompiler, **kw: Any) -> str:
    raise NotImplementedError(
        f"jst_month is defined for SQLite and PostgreSQL, not {compiler.dialect.name}"
    )


# --------------------------------------------------------------------------------------------
# Affairs as published
# --------------------------------------------------------------------------------------------


def _public_affair_code(code: str | None) -> str | None:
    """The canonical statutory code, :data:`INVALID_AFFAIR` for anything else, ``None`` if none."""
    if code is None:
        return None
    try:
        return parse_affair_code(code)
    except DomainError:
        return INVALID_AFFAIR


def affair_title(code: str | None, *, lang: str = "ja") -> str:
    """The statutory wording of affair ``code``; the code itself for a code no table lists, and
    an empty string for no code.

    Never raises: a report must show an affair that has since left the catalogue.
    """
    if code is None:
        return ""
    if code == INVALID_AFFAIR:
        return "（形式が正しくない事務コード）" if lang == "ja" else "(malformed affair code)"
    affair = statutory_affairs().get(code)
    return affair.affair if affair is not None else code


# --------------------------------------------------------------------------------------------
# The report
# --------------------------------------------------------------------------------------------


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
    is_refusal = log.action == Action.REFUSED.value
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
        .where(job.created_at >= since, job.created_at < until)
        .group_by(job_month, job.recipient_id, bucket)
    )

    with node.read_session() as session:
        log_rows = session.execute(log_query).all()
        job_rows = session.execute(job_query).all()

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
    )


def _sort_key(item: tuple[tuple[str | None, ...], int]) -> tuple[str, ...]:
    # None sorts first and never compares with text.
    return tuple(part or "" for part in item[0])


# --------------------------------------------------------------------------------------------
# Publication formats
# --------------------------------------------------------------------------------------------


def to_json(stats: TransparencyStats) -> dict[str, Any]:
    """The report as plain JSON data (what ``/transparency/stats.json`` and the API serve)."""
    return {
        "node": stats.node,
        "generated_at": stats.generated_at.astimezone(UTC).isoformat(),
        "time_zone": "Asia/Tokyo (UTC+9)",
        "months": stats.months,
        "month_labels": list(stats.month_labels),
        "period_start": stats.period_start.isoformat(),
        "period_end": stats.period_end.isoformat(),
        "totals": {
            "provisions": stats.total_provisions,
            "refusals": stats.total_refusals,
            "batch_jobs": stats.total_batch_jobs,
            "batch_rows": stats.total_batch_rows,
            "counter_reads": stats.total_counter_reads,
            "batch_sizes": [
                {
                    "bucket": bucket.key,
                    "min_rows": bucket.minimum,
                    "max_rows": bucket.maximum,
                    "jobs": jobs,
                    "total_rows": rows,
                }
                for bucket, jobs, rows in stats.batch_size_totals()
            ],
        },
        "provisions": [
            {
                "month": r.month,
                "recipient_id": r.recipient_id,
                "recipient_name": r.recipient_name,
                "affair_code": r.affair_code,
                "affair_title": r.affair_title,
                "channel": r.channel,
                "count": r.count,
            }
            for r in stats.provisions
        ],
        "refusals": [
            {
                "month": r.month,
                "actor_kind": r.actor_kind,
                "recipient_id": r.recipient_id,
                "recipient_name": r.recipient_name,
                "affair_code": r.affair_code,
                "affair_title": r.affair_title,
                "channel": r.channel,
                "count": r.count,
            }
            for r in stats.refusals
        ],
        "batch_jobs": [
            {
                "month": r.month,
                "recipient_id": r.recipient_id,
                "recipient_name": r.recipient_name,
                "jobs": r.jobs,
                "total_rows": r.total_rows,
                "found_rows": r.found_rows,
                "error_rows": r.error_rows,
            }
            for r in stats.batch_jobs
        ],
        "batch_sizes": [
            {"month": r.month, "bucket": r.bucket, "jobs": r.jobs, "total_rows": r.total_rows}
            for r in stats.batch_sizes
        ],
        "counter_reads": [{"month": r.month, "count": r.count} for r in stats.counter_reads],
    }


_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: str | None) -> str:
    """Text for a CSV cell; a leading formula character is quoted away so that opening the file
    in a spreadsheet never evaluates a registered name as a formula."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFC", value)
    return f"'{text}" if text.startswith(_FORMULA_START) else text


def _number(value: int | None) -> str:
    return "" if value is None else str(value)


def to_csv(stats: TransparencyStats) -> str:
    """The report as one long CSV table with the header :data:`CSV_COLUMNS`.

    ``section`` says what a line counts: ``provisions`` and ``refusals`` (``count`` entries),
    ``batch_jobs`` (``count`` jobs, ``rows`` uploaded rows), ``batch_found_rows`` and
    ``batch_error_rows`` (``rows`` only), ``batch_size_<bucket>`` (jobs and rows of one size
    class), ``counter_reads`` (``count``). Refusals by readers other than recipients have an
    empty recipient. Lines end with CRLF (RFC 4180).
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)

    def line(
        section: str,
        month: str,
        *,
        recipient: tuple[str | None, str | None] = (None, None),
        affair: str | None = None,
        channel: str | None = None,
        count: int | None = None,
        rows: int | None = None,
    ) -> None:
        writer.writerow(
            [
                section,
                month,
                _cell(recipient[0]),
                _cell(recipient[1]),
                _cell(affair),
                _cell(channel),
                _number(count),
                _number(rows),
            ]
        )

    who: tuple[str | None, str | None]
    for p in stats.provisions:
        who = (p.recipient_id, p.recipient_name)
        line(
            _PROVISIONS,
            p.month,
            recipient=who,
            affair=p.affair_code,
            channel=p.channel,
            count=p.count,
        )
    for r in stats.refusals:
        who = (r.recipient_id, r.recipient_name)
        line(
            _REFUSALS,
            r.month,
            recipient=who,
            affair=r.affair_code,
            channel=r.channel,
            count=r.count,
        )
    for b in stats.batch_jobs:
        who = (b.recipient_id, b.recipient_name)
        line("batch_jobs", b.month, recipient=who, count=b.jobs, rows=b.total_rows)
        line("batch_found_rows", b.month, recipient=who, rows=b.found_rows)
        line("batch_error_rows", b.month, recipient=who, rows=b.error_rows)
    for s in stats.batch_sizes:
        line(f"batch_size_{s.bucket}", s.month, count=s.jobs, rows=s.total_rows)
    for c in stats.counter_reads:
        line(_COUNTER_READS, c.month, count=c.count)
    return out.getvalue()


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
