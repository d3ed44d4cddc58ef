"""The public transparency report (提供状況の公表): a page with charts, and the figures as files.

Residents read these pages without signing in (design/domain.md §9, item 10), so they show
only the counts of :mod:`jukinet.services.transparency` — never a resident, operator or
officer. The charts are inline SVG drawn on the server: no script, nothing fetched from
elsewhere (the pages' Content-Security-Policy forbids both, and inline ``style`` too, so the
SVG uses presentation attributes only). Every chart is a ``<figure>`` with a caption and the
same figures as a ``<table>``, so screen readers and text browsers get everything the bars
show.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated, Final, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from jukinet.domain.clock import JST
from jukinet.domain.wareki import format_wareki
from jukinet.services import audit
from jukinet.services.card_services.figures import CardServiceFigures, card_service_figures
from jukinet.services.context import ServiceContext
from jukinet.services.emergency.disconnects import public_events
from jukinet.services.participation import participation_figures
from jukinet.services.transparency import (
    DEFAULT_MONTHS,
    MAX_MONTHS,
    BatchSizeBucket,
    TransparencyStats,
    affair_title,
    cached_transparency_stats,
    to_csv,
    to_json,
)
from jukinet.services.transparency.published import (
    OptOutCount,
    card_uses_by_month,
    disconnects_by_month,
    opt_outs_by_month,
    published_heads,
)
from jukinet.web.auth import NodeDep
from jukinet.web.ui.common import OptionalActor, render
from jukinet.web.ui.i18n import Translator, request_lang

router = APIRouter(include_in_schema=False)

#: The report period in months, validated before anything is read (422 outside the range).
Months = Annotated[
    int, Query(ge=1, le=MAX_MONTHS, description=f"Calendar months to cover (1 to {MAX_MONTHS})")
]
#: The operator signed in, if any: the page is public but keeps the header of a signed-in clerk.

#: Periods offered by the page's selector.
MONTH_CHOICES: Final = (3, 6, 12, 24, 36, 60, 84, 120)
#: Rows of the detailed table on the page; the CSV has them all.
DETAIL_LIMIT: Final = 300
#: Bars of a ranking chart (recipients, affairs); the table below it lists every one.
RANKING_LIMIT: Final = 15

_MONTH_NAMES_EN: Final = (
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
)  # fmt: skip


class TransparencyText(Translator):
    """The one Translator with this page's helpers: counts, months, channels, affairs.

    The page passes it to the template as ``t`` (the layout's texts work through it too);
    its texts are the catalogue's ``transparency.*`` keys.
    """

    def number(self, value: int) -> str:
        """A count with thousands separators."""
        return f"{value:,}"

    def month(self, label: str) -> str:
        """``2026-11`` as 令和8年11月 (和暦, as every date in Japanese) or Nov 2026."""
        year, month = (int(part) for part in label.split("-"))
        if self.lang == "ja":
            first = format_wareki(date(year, month, 1))
            return first[: first.index("月") + 1]
        return f"{_MONTH_NAMES_EN[month - 1]} {year}"

    def day(self, value: date) -> str:
        """A date as 令和8年11月26日 (和暦) or 2026-11-26."""
        return format_wareki(value) if self.lang == "ja" else value.isoformat()

    def channel(self, value: str) -> str:
        """A channel's name (the code itself for a channel the catalogue does not name)."""
        return self(f"channel.{value}") if self.has(f"channel.{value}") else value

    def kind(self, value: str) -> str:
        """Who asked, for a refusal."""
        key = f"transparency.kind.{value}"
        return self(key) if self.has(key) else value

    def bucket(self, bucket: BatchSizeBucket | str) -> str:
        """A batch-size class."""
        key = bucket if isinstance(bucket, str) else bucket.key
        return self(f"transparency.bucket.{key}")

    def recipient(self, recipient_id: str | None, name: str | None) -> str:
        """A recipient's registered name, or its id when none is registered."""
        if recipient_id is None:
            return "—"
        return name or recipient_id

    def affair(self, code: str | None) -> str:
        """An affair's statutory wording (the code for one no table lists)."""
        return affair_title(code, lang=self.lang)

    def affair_label(self, code: str | None, *, short: bool = False) -> str:
        """Code and wording together (the code alone when no table lists it)."""
        if code is None:
            return "—"
        title = self.affair_short(code) if short else self.affair(code)
        return title if code == title else f"{code} {title}"

    def affair_short(self, code: str | None) -> str:
        """The wording without its parenthesised law numbers, cut to a readable length."""
        return short_text(self.affair(code), 60)


_PARENTHESES: Final = re.compile(r"（[^（）]*）")


def short_text(text: str, limit: int) -> str:
    """``text`` without full-width parentheses (nested ones too), cut to ``limit`` characters."""
    previous = None
    while previous != text:
        previous, text = text, _PARENTHESES.sub("", text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def fit_text(text: str, width: float, *, font_size: float) -> str:
    """``text`` cut (with …) to about ``width`` pixels: SVG text does not wrap or clip itself.

    Wide (CJK) characters count a full em, others about 0.6 em: an estimate that errs on the
    short side for the fonts of the counter's style sheet.
    """
    used = 0.0
    for index, char in enumerate(text):
        used += font_size * (1.0 if unicodedata.east_asian_width(char) in "WF" else 0.6)
        if used > width:
            return text[: max(index - 1, 0)] + "…"
    return text


# --------------------------------------------------------------------------------------------
# Charts: geometry computed here, drawn by the template
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Bar:
    """One bar: its box, its axis label (maybe shortened), its full label and value."""

    label: str
    full_label: str
    value: int
    value_text: str
    x: float
    y: float
    width: float
    height: float
    label_x: float
    label_y: float
    value_x: float
    value_y: float
    show_label: bool
    show_value: bool


@dataclass(frozen=True, slots=True)
class Tick:
    """A grid line of the value axis: where, and the value it marks."""

    position: float
    text: str


@dataclass(frozen=True, slots=True)
class Chart:
    """A bar chart ready to draw: ``column`` (vertical, for months) or ``bar`` (horizontal)."""

    key: str
    kind: Literal["column", "bar"]
    title: str
    description: str
    colour: str
    width: int
    height: int
    plot_left: float
    plot_top: float
    plot_right: float
    plot_bottom: float
    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]

    @property
    def empty(self) -> bool:
        """No bar has a value: the page says so instead of drawing an empty frame."""
        return all(bar.value == 0 for bar in self.bars)


_WIDTH: Final = 720


def nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 5 × 10ⁿ that is at least ``value`` (at least 1): the axis maximum."""
    if value <= 1:
        return 1
    power = 1
    while power * 10 <= value:  # whole numbers only: no float rounding at the edges
        power *= 10
    return next(step * power for step in (1, 2, 5, 10) if step * power >= value)


def _ticks(scale: int) -> list[int]:
    # Quarters of the axis where they are whole numbers; otherwise just both ends.
    if scale % 4 == 0:
        return [scale * i // 4 for i in range(5)]
    if scale % 2 == 0:
        return [0, scale // 2, scale]
    return [0, scale]


def _r(value: float) -> float:
    return round(value, 1)


def column_chart(
    key: str,
    title: str,
    items: Sequence[tuple[str, str, int]],
    *,
    colour: str,
    tx: TransparencyText,
) -> Chart:
    """Vertical bars, one per ``(short label, full label, value)``: months along the axis."""
    left, right, top, bottom, height = 64.0, 12.0, 22.0, 40.0, 260
    plot_width, plot_height = _WIDTH - left - right, height - top - bottom
    scale = nice_ceiling(max((value for _, _, value in items), default=0))
    slot = plot_width / max(len(items), 1)
    # Label every month while they fit, else every k-th one (always the latest).
    every = max(1, math.ceil(len(items) / 12))
    bars = []
    for i, (label, full, value) in enumerate(items):
        bar_height = plot_height * value / scale
        x = left + slot * i + slot * 0.15
        y = top + plot_height - bar_height
        bars.append(
            Bar(
                label=label,
                full_label=full,
                value=value,
                value_text=tx.number(value),
                x=_r(x),
                y=_r(y),
                width=_r(slot * 0.7),
                height=_r(bar_height),
                label_x=_r(left + slot * i + slot / 2),
                label_y=_r(top + plot_height + 18),
                value_x=_r(left + slot * i + slot / 2),
                value_y=_r(y - 5),
                show_label=(len(items) - 1 - i) % every == 0,
                show_value=value > 0 and slot >= 30,
            )
        )
    ticks = tuple(
        Tick(position=_r(top + plot_height - plot_height * v / scale), text=tx.number(v))
        for v in _ticks(scale)
    )
    return Chart(
        key=key,
        kind="column",
        title=title,
        description=_description(items, tx),
        colour=colour,
        width=_WIDTH,
        height=height,
        plot_left=left,
        plot_top=top,
        plot_right=_WIDTH - right,
        plot_bottom=top + plot_height,
        bars=tuple(bars),
        ticks=ticks,
    )


def bar_chart(
    key: str,
    title: str,
    items: Sequence[tuple[str, str, int]],
    *,
    colour: str,
    tx: TransparencyText,
) -> Chart:
    """Horizontal bars, one per ``(short label, full label, value)``: rankings and classes."""
    label_width, gap, right, top, row = 250.0, 8.0, 80.0, 8.0, 30.0
    height = int(top * 2 + row * max(len(items), 1))
    left = label_width + gap
    plot_width = _WIDTH - left - right
    scale = nice_ceiling(max((value for _, _, value in items), default=0))
    bars = []
    for i, (label, full, value) in enumerate(items):
        width = plot_width * value / scale
        y = top + row * i + 6
        bars.append(
            Bar(
                label=fit_text(label, label_width - 8, font_size=12),
                full_label=full,
                value=value,
                value_text=tx.number(value),
                x=_r(left),
                y=_r(y),
                width=_r(width),
                height=_r(row - 12),
                label_x=_r(label_width),
                label_y=_r(y + (row - 12) / 2 + 4),
                value_x=_r(left + width + 6),
                value_y=_r(y + (row - 12) / 2 + 4),
                show_label=True,
                show_value=True,
            )
        )
    ticks = tuple(
        Tick(position=_r(left + plot_width * v / scale), text=tx.number(v)) for v in _ticks(scale)
    )
    return Chart(
        key=key,
        kind="bar",
        title=title,
        description=_description(items, tx),
        colour=colour,
        width=_WIDTH,
        height=height,
        plot_left=left,
        plot_top=top,
        plot_right=left + plot_width,
        plot_bottom=height - top,
        bars=tuple(bars),
        ticks=ticks,
    )


def _description(items: Sequence[tuple[str, str, int]], tx: TransparencyText) -> str:
    if not items or all(value == 0 for _, _, value in items):
        return tx("transparency.chart_empty")
    _, full, value = max(items, key=lambda item: item[2])
    return tx("transparency.chart_desc", label=full, value=tx.number(value))


# --------------------------------------------------------------------------------------------
# The page and the files
# --------------------------------------------------------------------------------------------

_BLUE: Final = "#0b4f8a"
_RED: Final = "#b3261e"
_GREEN: Final = "#1e6b34"
_GREY: Final = "#57606a"


def _monthly(
    key: str, title: str, series: Sequence[tuple[str, int]], colour: str, tx: TransparencyText
) -> Chart:
    items = [(label, tx.month(label), value) for label, value in series]
    return column_chart(key, title, items, colour=colour, tx=tx)


def _charts(stats: TransparencyStats, tx: TransparencyText) -> dict[str, Chart]:
    recipients = [
        (tx.recipient(rid, name), f"{tx.recipient(rid, name)} ({rid})", count)
        for rid, name, count in stats.provisions_by_recipient()[:RANKING_LIMIT]
    ]
    affairs = [
        (tx.affair_label(code, short=True), tx.affair_label(code), count)
        for code, _title, count in stats.provisions_by_affair()[:RANKING_LIMIT]
    ]
    sizes = [
        (tx.bucket(bucket), tx.bucket(bucket), jobs)
        for bucket, jobs, _rows in stats.batch_size_totals()
    ]
    return {
        "provisions": _monthly(
            "provisions",
            tx("transparency.provisions_by_month"),
            stats.provisions_by_month(),
            _BLUE,
            tx,
        ),
        "recipients": bar_chart(
            "recipients",
            tx("transparency.provisions_by_recipient"),
            recipients,
            colour=_BLUE,
            tx=tx,
        ),
        "affairs": bar_chart(
            "affairs", tx("transparency.provisions_by_affair"), affairs, colour=_BLUE, tx=tx
        ),
        "refusals": _monthly(
            "refusals", tx("transparency.refusals_by_month"), stats.refusals_by_month(), _RED, tx
        ),
        "batch_sizes": bar_chart(
            "batch-sizes", tx("transparency.batch_by_size"), sizes, colour=_GREEN, tx=tx
        ),
        "counter": _monthly(
            "counter",
            tx("transparency.counter_by_month"),
            stats.counter_reads_by_month(),
            _GREY,
            tx,
        ),
    }


# The figures added to the report (services/transparency/published.py).
_AMBER: Final = "#8a5a00"
_PURPLE: Final = "#5b3f8c"
_TEAL: Final = "#00676b"


@dataclass(frozen=True, slots=True)
class Extras:
    """The report's further figures for one period."""

    disconnects: list[tuple[str, int]]
    opt_outs: list[OptOutCount]
    card_services: list[CardServiceFigures]
    card_uses: list[tuple[str, int]]


def extras(node: ServiceContext, stats: TransparencyStats) -> Extras:
    """Disconnects, opt-outs and card services' use over the report's period."""
    services = card_service_figures(
        node, month_labels=stats.month_labels, start=stats.period_start, end=stats.period_end
    )
    return Extras(
        disconnects=disconnects_by_month(node, stats),
        opt_outs=opt_outs_by_month(node, stats),
        card_services=services,
        card_uses=card_uses_by_month(services, stats.month_labels),
    )


def extra_charts(figures: Extras, tx: TransparencyText) -> dict[str, Chart]:
    """The added charts, drawn like the others (server-side SVG)."""
    return {
        "disconnects": _monthly(
            "disconnects", tx("transparency.disconnects_title"), figures.disconnects, _AMBER, tx
        ),
        "opt_outs": _monthly(
            "opt-outs",
            tx("transparency.opt_outs_title"),
            [(c.month, c.opt_outs) for c in figures.opt_outs],
            _PURPLE,
            tx,
        ),
        "card_uses": _monthly(
            "card-services", tx("transparency.card_uses_title"), figures.card_uses, _TEAL, tx
        ),
    }


@router.get("/transparency")
def transparency_page(
    request: Request, node: NodeDep, actor: OptionalActor, months: Months = DEFAULT_MONTHS
) -> HTMLResponse:
    """The public report: summary, charts with their tables, and links to the files."""
    stats = cached_transparency_stats(node, months=months)
    tx = TransparencyText(request_lang(request))
    # Not cached with the report: a handful of rows, and a use should show at once.
    figures = extras(node, stats)
    last_day = stats.period_end - timedelta(days=1)
    return render(
        request,
        "transparency.html",
        {
            "t": tx,
            "stats": stats,
            "months": months,
            "month_choices": sorted({*MONTH_CHOICES, months}),
            "charts": _charts(stats, tx) | extra_charts(figures, tx),
            "card_services": figures.card_services,
            "extras": figures,
            "heads": published_heads(node),
            "ranking_limit": RANKING_LIMIT,
            "detail_limit": DETAIL_LIMIT,
            "period_text": tx(
                "transparency.period_value", start=tx.day(stats.period_start), end=tx.day(last_day)
            ),
            "generated_text": _moment(stats.generated_at, tx),
            "log_key": audit.published_key(node),
            # Participation and opt-out counts (a block of their own on the page).
            "participation": participation_figures(node),
            # Emergency disconnects: every activation, renewal and end (no operator names).
            "emergency_events": public_events(node),
        },
        actor=actor,
    )


def _moment(moment: datetime, tx: TransparencyText) -> str:
    local = moment.astimezone(JST)
    return f"{tx.day(local.date())} {local:%H:%M} JST"


#: The file name the disclosure page's check command names (``--public-key``).
PUBLIC_KEY_FILE: Final = "log-public-key.pem"


@router.get("/log-public-key.pem")
def log_public_key(node: NodeDep) -> Response:
    """This node's log-signing public key (PEM), as ``audit check-proof --public-key`` takes it."""
    key = audit.require_published_key(node)
    return Response(
        key.public_key_pem,
        media_type="application/x-pem-file",
        headers={
            **_FILE_HEADERS,
            "Content-Disposition": f'attachment; filename="{PUBLIC_KEY_FILE}"',
        },
    )


#: The files are public figures, but a browser must not guess another type for them.
_FILE_HEADERS: Final[Mapping[str, str]] = {
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}


def _file_name(stats: TransparencyStats, suffix: str) -> str:
    node = re.sub(r"[^A-Za-z0-9]+", "-", stats.node).strip("-") or "node"
    return f"transparency-{node}-{stats.month_labels[0]}-{stats.month_labels[-1]}.{suffix}"


@router.get("/transparency/stats.json")
def transparency_json(node: NodeDep, months: Months = DEFAULT_MONTHS) -> JSONResponse:
    """The report's figures as JSON (the same as ``GET /api/v1/transparency/stats``)."""
    stats = cached_transparency_stats(node, months=months)
    return JSONResponse(to_json(stats), headers=dict(_FILE_HEADERS))


@router.get("/transparency/stats.csv")
def transparency_csv(node: NodeDep, months: Months = DEFAULT_MONTHS) -> Response:
    """The report's figures as one CSV table, offered as a download.

    The file starts with a byte-order mark: spreadsheet programs used in Japanese offices
    read UTF-8 as Shift_JIS without one, and the recipients' names would turn to garbage.
    """
    stats = cached_transparency_stats(node, months=months)
    headers = {
        **_FILE_HEADERS,
        "Content-Disposition": f'attachment; filename="{_file_name(stats, "csv")}"',
    }
    return Response(
        ("\ufeff" + to_csv(stats)).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers=headers,
    )
