"""Rich renderings of records and their history, shared by the resident and register commands."""

from __future__ import annotations

from datetime import date

from rich.console import Group
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from jukinet.cli.common import wareki
from jukinet.domain.codes import mask_resident_code
from jukinet.domain.register import Insurance, ResidentRecord
from jukinet.services.views import HistoryEntry, RecordView

#: Register events as a clerk names them.
EVENT_LABELS = {
    "birth": "出生 / birth",
    "move_in": "転入 / move-in",
    "move_within": "転居 / move within",
    "move_out": "転出 / move-out",
    "death": "死亡 / death",
    "name_change": "氏名変更 / name change",
    "code_change": "住民票コード変更 / code change",
    "household_change": "世帯変更 / household change",
    "ex_officio_entry": "職権記載 / ex-officio entry",
    "ex_officio_correction": "職権修正 / ex-officio correction",
    "ex_officio_deletion": "職権消除 / ex-officio deletion",
}

_INSURANCE_LABELS = (
    ("national_health_insurance", "国民健康保険"),
    ("late_elderly_insurance", "後期高齢者医療"),
    ("long_term_care_insurance", "介護保険"),
    ("national_pension", "国民年金"),
    ("child_allowance", "児童手当"),
)


def _insurance(insurance: Insurance) -> str:
    held = [label for attribute, label in _INSURANCE_LABELS if getattr(insurance, attribute)]
    return "、".join(held) or "—"


def _status(record: ResidentRecord) -> str:
    if record.is_active:
        return "[green]記載中 / on the register[/]"
    reason = record.removal_reason
    label = f"{reason.label_ja} / {reason.label_en}" if reason else ""
    return f"[red]除票 / removed[/] {escape(label)} {wareki(record.removed_on)}"


def record_panel(view: RecordView, *, show_code: bool = True) -> Panel:
    """One 住民票 as a panel: every item, dates in 和暦 with the ISO date beside them."""
    record = view.record
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold cyan", no_wrap=True)
    grid.add_column()
    code = record.resident_code if show_code else mask_resident_code(record.resident_code)
    rows: list[tuple[str, str]] = [
        ("氏名 / name", f"{escape(record.name.full)}（{escape(record.name.full_kana)}）"),
        ("生年月日 / born", wareki(record.birth_date)),
        ("性別 / sex", f"{record.sex.label_ja} / {record.sex.value}"),
        ("住所 / address", escape(record.address)),
        ("世帯番号 / household", escape(record.household_number)),
        ("続柄 / relationship", f"{record.relationship.label_ja} / {record.relationship.value}"),
        ("本籍 / domicile", escape(record.domicile or "—")),
        ("筆頭者 / register head", escape(record.domicile_head or "—")),
        ("住民となった日 / resident since", wareki(record.became_resident_on)),
        ("住所を定めた日 / at this address since", wareki(record.address_since)),
        ("前住所 / previous address", escape(record.previous_address or "—")),
        ("保険等 / insurance", _insurance(record.insurance)),
        ("住民票コード / resident code", code),
        ("状態 / status", _status(record)),
    ]
    if record.destination:
        rows.append(("転出先 / destination", escape(record.destination)))
    for label, value in rows:
        grid.add_row(label, value)
    title = f"住民票 / resident record — 第{view.version}版 / version {view.version}"
    return Panel(grid, title=title, expand=False)


def history_table(entries: list[HistoryEntry]) -> Table:
    """Every version of a record with the event that made it."""
    table = Table(title="履歴 / history")
    table.add_column("版", justify="right")
    table.add_column("異動 / event")
    table.add_column("異動日 / date")
    table.add_column("届出日 / filed")
    table.add_column("操作者 / operator", justify="right")
    table.add_column("記録 / recorded")
    table.add_column("住所 / address")
    for entry in entries:
        event = EVENT_LABELS.get(entry.event_kind, entry.event_kind)
        if entry.late:
            event += " [yellow](期間経過 / late)[/]"
        table.add_row(
            str(entry.version),
            event,
            _wareki_iso(entry.event_date),
            _wareki_iso(entry.filed_on),
            str(entry.operator_id),
            entry.recorded_at.strftime("%Y-%m-%d %H:%M"),
            escape(entry.record.address),
        )
    return table


def _wareki_iso(iso: str) -> str:
    return wareki(date.fromisoformat(iso))


def records_table(views: list[RecordView], *, title: str, show_codes: bool = True) -> Table:
    """Several records, one line each."""
    table = Table(title=title)
    table.add_column("住民票コード / code", no_wrap=True, min_width=11)
    table.add_column("氏名 / name")
    table.add_column("フリガナ / reading")
    table.add_column("生年月日 / born")
    table.add_column("性別")
    table.add_column("続柄")
    table.add_column("住所 / address")
    table.add_column("版", justify="right")
    for view in views:
        record = view.record
        code = record.resident_code if show_codes else mask_resident_code(record.resident_code)
        name = escape(record.name.full)
        if not record.is_active:
            name += " [red](除票)[/]"
        table.add_row(
            code,
            name,
            escape(record.name.full_kana),
            wareki(record.birth_date),
            record.sex.label_ja,
            record.relationship.label_ja,
            escape(record.address),
            str(view.version),
        )
    return table


def record_with_history(view: RecordView, history: list[HistoryEntry]) -> Group:
    """The record's panel above its history table."""
    return Group(record_panel(view), history_table(history))
