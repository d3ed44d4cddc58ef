"""What the transparency report publishes: counts per month, and the folds the page shows.

Every figure is a count over a calendar month in Japan time; none of them names a resident, an
operator or an officer (a recipient is a public body, so it is named).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Final

from jukinet.domain.access_log import Channel

__all__ = [
    "BATCH_SIZE_BUCKETS",
    "OPERATOR_USAGE_FIGURES",
    "BatchJobCount",
    "BatchSizeBucket",
    "BatchSizeCount",
    "CounterReadCount",
    "OperatorUsageCount",
    "ProvisionCount",
    "RefusalCount",
    "TransparencyStats",
]

# Section names inside the aggregate query (and of the CSV).
_PROVISIONS: Final = "provisions"
_REFUSALS: Final = "refusals"
_COUNTER_READS: Final = "counter_reads"


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
class OperatorUsageCount:
    """How this node's operators used it in a month (design/domain.md §9, question 8): counts
    of access-log entries by their event tag, nobody named.

    ``signins`` — sessions opened with password and card (``operator:session:signin``);
    ``failed_signins`` — refused sign-ins of a known account (``operator:session:signin-failed``:
    wrong password or card, disabled account); ``lockouts`` — accounts locked after repeated
    failures (``operator:account:locked``); ``permits_approved`` — out-of-hours permits approved
    (``operator:permit:approved``); ``lookups`` — records read at the counter by operators (one
    per resident shown, search candidates included: the same entries as the counter reads).
    """

    month: str
    signins: int = 0
    failed_signins: int = 0
    lockouts: int = 0
    permits_approved: int = 0
    lookups: int = 0


#: The figures of :class:`OperatorUsageCount`, in the order the page and the CSV show them.
OPERATOR_USAGE_FIGURES: Final = (
    "signins",
    "failed_signins",
    "lockouts",
    "permits_approved",
    "lookups",
)


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
    #: Operators' use of the node per month (months with any count only).
    operator_usage: tuple[OperatorUsageCount, ...] = ()

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

    def operator_usage_by_month(self) -> list[OperatorUsageCount]:
        """Every month of the period with its operator usage (zeros for a quiet month)."""
        found = {row.month: row for row in self.operator_usage}
        return [found.get(month, OperatorUsageCount(month=month)) for month in self.month_labels]

    def operator_usage_totals(self) -> OperatorUsageCount:
        """The operator usage over the whole period (``month`` is empty)."""
        return OperatorUsageCount(
            month="",
            **{f: sum(getattr(r, f) for r in self.operator_usage) for f in OPERATOR_USAGE_FIGURES},
        )

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
