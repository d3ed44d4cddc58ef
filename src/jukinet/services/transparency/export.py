"""Publication formats of the report: plain JSON data and one long CSV table."""

from __future__ import annotations

import csv
import io
import unicodedata
from datetime import UTC
from typing import Any, Final

from jukinet.services.transparency.figures import (
    _COUNTER_READS,
    _PROVISIONS,
    _REFUSALS,
    OPERATOR_USAGE_FIGURES,
    TransparencyStats,
)

__all__ = ["CSV_COLUMNS", "to_csv", "to_json"]

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
            "operator_usage": {
                figure: getattr(stats.operator_usage_totals(), figure)
                for figure in OPERATOR_USAGE_FIGURES
            },
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
        "operator_usage": [
            {"month": r.month} | {figure: getattr(r, figure) for figure in OPERATOR_USAGE_FIGURES}
            for r in stats.operator_usage
        ],
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
    class), ``counter_reads`` (``count``), ``operator_<figure>`` (``count``: sign-ins, failed
    sign-ins, lockouts, out-of-hours permits approved, lookups per month; zero months left out).
    Refusals by readers other than recipients have an empty recipient. Lines end with CRLF
    (RFC 4180).
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
    for u in stats.operator_usage:
        for figure in OPERATOR_USAGE_FIGURES:
            if getattr(u, figure):
                line(f"operator_{figure}", u.month, count=getattr(u, figure))
    return out.getvalue()
