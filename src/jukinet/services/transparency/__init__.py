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

The package is split by concern, one module each:

* ``figures`` — what the report publishes (:class:`TransparencyStats` and its rows);
* ``statistics`` — the period and the queries that compute the figures, and their cache;
* ``dialect`` — :class:`jst_month`, the SQL of a timestamp's JST month on each database;
* ``affairs`` — affair codes and titles as they are published;
* ``export`` — the JSON and CSV forms of the report.
"""

from jukinet.services.transparency.affairs import INVALID_AFFAIR, affair_title
from jukinet.services.transparency.dialect import jst_month
from jukinet.services.transparency.export import CSV_COLUMNS, to_csv, to_json
from jukinet.services.transparency.figures import (
    BATCH_SIZE_BUCKETS,
    OPERATOR_USAGE_FIGURES,
    BatchJobCount,
    BatchSizeBucket,
    BatchSizeCount,
    CounterReadCount,
    OperatorUsageCount,
    ProvisionCount,
    RefusalCount,
    TransparencyStats,
)
from jukinet.services.transparency.statistics import (
    CACHE_SECONDS,
    DEFAULT_MONTHS,
    MAX_MONTHS,
    InvalidMonths,
    cached_transparency_stats,
    transparency_stats,
)

__all__ = [
    "BATCH_SIZE_BUCKETS",
    "CACHE_SECONDS",
    "CSV_COLUMNS",
    "DEFAULT_MONTHS",
    "INVALID_AFFAIR",
    "MAX_MONTHS",
    "OPERATOR_USAGE_FIGURES",
    "BatchJobCount",
    "BatchSizeBucket",
    "BatchSizeCount",
    "CounterReadCount",
    "InvalidMonths",
    "OperatorUsageCount",
    "ProvisionCount",
    "RefusalCount",
    "TransparencyStats",
    "affair_title",
    "cached_transparency_stats",
    "jst_month",
    "to_csv",
    "to_json",
    "transparency_stats",
]
