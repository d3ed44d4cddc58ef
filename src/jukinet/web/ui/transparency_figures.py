"""The transparency page's figures, one by one: the numbers behind each chart as a table and a
CSV file, the charts added to the report (disconnects, opt-outs, card services' use), and the
witnessed tree heads of every node this node knows.

Every chart on the page links ``/transparency/figures/<key>.csv``: the same rows as the table
under the chart (the figures are public; nothing here names a resident or an operator).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Final

from fastapi import APIRouter
from fastapi.responses import Response

from jukinet.domain.errors import NotFound
from jukinet.services.context import ServiceContext
from jukinet.services.transparency import (
    DEFAULT_MONTHS,
    TransparencyStats,
    cached_transparency_stats,
)
from jukinet.web.auth import NodeDep
from jukinet.web.ui.transparency import Extras, Months, extras

router = APIRouter(include_in_schema=False)

Table = tuple[tuple[str, ...], list[tuple[object, ...]]]


def _provisions(stats: TransparencyStats, _extras: Extras) -> Table:
    return ("month", "provisions"), list(stats.provisions_by_month())


def _recipients(stats: TransparencyStats, _extras: Extras) -> Table:
    return ("recipient_id", "recipient_name", "provisions"), [
        (rid, name or "", count) for rid, name, count in stats.provisions_by_recipient()
    ]


def _affairs(stats: TransparencyStats, _extras: Extras) -> Table:
    return ("affair_code", "affair", "provisions"), [
        (code or "", title, count) for code, title, count in stats.provisions_by_affair()
    ]


def _refusals(stats: TransparencyStats, _extras: Extras) -> Table:
    return ("month", "refusals"), list(stats.refusals_by_month())


def _batch_sizes(stats: TransparencyStats, _extras: Extras) -> Table:
    return ("size_class", "jobs", "rows"), [
        (bucket.key, jobs, rows) for bucket, jobs, rows in stats.batch_size_totals()
    ]


def _counter(stats: TransparencyStats, _extras: Extras) -> Table:
    return ("month", "counter_reads"), list(stats.counter_reads_by_month())


def _disconnects(_stats: TransparencyStats, figures: Extras) -> Table:
    return ("month", "disconnects"), list(figures.disconnects)


def _opt_outs(_stats: TransparencyStats, figures: Extras) -> Table:
    return ("month", "opt_outs", "opt_ins"), [
        (c.month, c.opt_outs, c.opt_ins) for c in figures.opt_outs
    ]


def _card_services(_stats: TransparencyStats, figures: Extras) -> Table:
    # The chart's totals (service ``all``), then each service's own months.
    rows: list[tuple[object, ...]] = [(month, "all", count) for month, count in figures.card_uses]
    rows += [
        (month, f.service.code, count)
        for f in figures.card_services
        for month, count in f.uses_by_month
    ]
    return ("month", "service", "uses"), rows


#: Every chart's key (as in its CSV's address) and the rows behind it.
FIGURES: Final[dict[str, Callable[[TransparencyStats, Extras], Table]]] = {
    "provisions": _provisions,
    "recipients": _recipients,
    "affairs": _affairs,
    "refusals": _refusals,
    "batch-sizes": _batch_sizes,
    "counter": _counter,
    "disconnects": _disconnects,
    "opt-outs": _opt_outs,
    "card-services": _card_services,
}


class UnknownFigure(NotFound):
    """A figure the report does not have."""

    def __init__(self) -> None:
        super().__init__(
            "JUKI-TRN-010",
            ja="その図表はありません。",
            en="There is no such figure.",
            field="figure",
        )


def figure_csv(node: ServiceContext, key: str, months: int) -> tuple[str, str]:
    """A chart's numbers as CSV text (with a byte-order mark) and its file name."""
    make = FIGURES.get(key)
    if make is None:
        raise UnknownFigure()
    stats = cached_transparency_stats(node, months=months)
    columns, rows = make(stats, extras(node, stats))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows(rows)
    name = f"transparency-{key}-{stats.month_labels[0]}-{stats.month_labels[-1]}.csv"
    return "\ufeff" + buffer.getvalue(), name


@router.get("/transparency/figures/{figure}.csv")
def figure_file(node: NodeDep, figure: str, months: Months = DEFAULT_MONTHS) -> Response:
    """One chart's numbers as a CSV download (public, like the page)."""
    text, name = figure_csv(node, figure[:40], months)
    return Response(
        text.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-cache",
        },
    )
