"""Rich renderings of records and their history, shared by the resident and register commands.

Labels come from the one text catalogue (:mod:`jukinet.web.i18n`), Japanese and English side by
side, so the CLI names an item or an event exactly as the counter pages do.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Final

from rich.console import Group
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from jukinet.cli.common import wareki
from jukinet.domain.clock import JST
from jukinet.domain.codes import mask_resident_code
from jukinet.domain.register import Insurance, ResidentRecord
from jukinet.services.views import HistoryEntry, RecordView
from jukinet.web.i18n import TEXTS, Translator, bilingual, texts_under

#: Japanese only, for narrow columns and for lists in one cell.
_JA: Final = Translator("ja")

#: Register events as a clerk names them: the record page's history names them the same.
EVENT_LABELS: Final[Mapping[str, str]] = {
    kind: bilingual(f"event.{kind}") for kind in texts_under("event")
}


def _ja(key: str) -> str:
    return TEXTS[key][0]


def _insurance(insurance: Insurance) -> str:
    return _JA.join(_JA.insurance(insurance)) or "—"


def _status(record: ResidentRecord) -> str:
    if record.is_active:
        return f"[green]{bilingual('record.status_active')}[/]"
    reason = record.removal_reason
    label = f"{reason.label_ja} / {reason.label_en}" if reason else ""
    removed = bilingual("record.title_removed")
    return f"[red]{removed}[/] {escape(label)} {wareki(record.removed_on)}"


def record_panel(view: RecordView, *, show_code: bool = True) -> Panel:
    """One 住民票 as a panel: every item, dates in 和暦 with the ISO date beside them."""
    record = view.record
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold cyan", no_wrap=True)
    grid.add_column()
    code = record.resident_code if show_code else mask_resident_code(record.resident_code)
    rows: list[tuple[str, str]] = [
        (
            bilingual("record.name"),
            f"{escape(record.name.full)}（{escape(record.name.full_kana)}）",
        ),
        (bilingual("record.birth_date"), wareki(record.birth_date)),
        (bilingual("record.sex"), bilingual(f"sex.{record.sex.value}")),
        (bilingual("record.address"), escape(record.address)),
        (bilingual("record.household_number"), escape(record.household_number)),
        (
            bilingual("record.relationship"),
            bilingual(f"relationship.{record.relationship.value}"),
        ),
        (bilingual("record.domicile"), escape(record.domicile or "—")),
        (bilingual("record.domicile_head"), escape(record.domicile_head or "—")),
        (bilingual("record.became_resident_on"), wareki(record.became_resident_on)),
        (bilingual("record.address_since"), wareki(record.address_since)),
        (bilingual("record.previous_address"), escape(record.previous_address or "—")),
        (bilingual("record.insurance"), _insurance(record.insurance)),
        (bilingual("record.resident_code"), code),
        (bilingual("record.status"), _status(record)),
    ]
    if record.destination:
        rows.append((bilingual("record.destination"), escape(record.destination)))
    for label, value in rows:
        grid.add_row(label, value)
    title = f"{bilingual('record.title')} — 第{view.version}版 / version {view.version}"
    return Panel(grid, title=title, expand=False)


def history_table(entries: list[HistoryEntry]) -> Table:
    """Every version of a record with the event that made it."""
    table = Table(title=bilingual("history.title"))
    table.add_column(_ja("history.version"), justify="right")
    table.add_column(bilingual("history.event"))
    table.add_column(bilingual("history.event_date"))
    table.add_column(bilingual("history.filed_on"))
    table.add_column(bilingual("history.operator"))
    table.add_column("記録 / recorded (JST)")
    table.add_column(bilingual("record.address"))
    for entry in entries:
        event = EVENT_LABELS.get(entry.event_kind, entry.event_kind)
        if entry.late:
            event += f" [yellow]({bilingual('history.late')})[/]"
        table.add_row(
            str(entry.version),
            event,
            _wareki_iso(entry.event_date),
            _wareki_iso(entry.filed_on),
            escape(entry.operator_name) or bilingual("history.system"),
            _in_jst(entry.recorded_at),
            escape(entry.record.address),
        )
    return table


def _in_jst(moment: datetime) -> str:
    # Stored in UTC (SQLite hands it back without a zone); shown in Japan time, as every date.
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(JST).strftime("%Y-%m-%d %H:%M")


def _wareki_iso(iso: str) -> str:
    return wareki(date.fromisoformat(iso))


def records_table(views: list[RecordView], *, title: str, show_codes: bool = True) -> Table:
    """Several records, one line each."""
    table = Table(title=title)
    table.add_column(bilingual("record.resident_code"), no_wrap=True, min_width=11)
    table.add_column(bilingual("record.name"))
    table.add_column(bilingual("record.kana"))
    table.add_column(bilingual("record.birth_date"))
    table.add_column(_ja("record.sex"))
    table.add_column(_ja("record.relationship"))
    table.add_column(bilingual("record.address"))
    table.add_column(_ja("record.version"), justify="right")
    for view in views:
        record = view.record
        code = record.resident_code if show_codes else mask_resident_code(record.resident_code)
        name = escape(record.name.full)
        if not record.is_active:
            name += f" [red]({_ja('record.title_removed')})[/]"
        table.add_row(
            code,
            name,
            escape(record.name.full_kana),
            wareki(record.birth_date),
            _JA.sex(record.sex),
            _JA.relationship(record.relationship),
            escape(record.address),
            str(view.version),
        )
    return table


def record_with_history(view: RecordView, history: list[HistoryEntry]) -> Group:
    """The record's panel above its history table."""
    return Group(record_panel(view), history_table(history))
