"""How a record is shown: its items as display strings, and what changed between versions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from jukinet.domain.codes import mask_resident_code
from jukinet.domain.register import Insurance, ResidentRecord
from jukinet.services.views import HistoryEntry
from jukinet.web.ui.i18n import Translator

#: Items compared between versions, in the order a 住民票 prints them.
DIFF_ITEMS = (
    "resident_code",
    "name",
    "kana",
    "birth_date",
    "sex",
    "household_number",
    "relationship",
    "address",
    "address_since",
    "became_resident_on",
    "previous_address",
    "domicile",
    "domicile_head",
    "insurance",
    "status",
    "removal_reason",
    "removed_on",
    "destination",
)


def insurance_labels(t: Translator, insurance: Insurance) -> str:
    """The insurance and benefit items a resident has, or ``なし``."""
    return t.join(t.insurance(insurance)) or t("record.none")


def display_items(t: Translator, record: ResidentRecord) -> dict[str, str]:
    """Every compared item of ``record`` as the screen shows it (codes masked)."""
    return {
        "resident_code": mask_resident_code(record.resident_code),
        "name": record.name.full,
        "kana": record.name.full_kana,
        "birth_date": t.date(record.birth_date),
        "sex": t.sex(record.sex),
        "household_number": record.household_number,
        "relationship": t.relationship(record.relationship),
        "address": record.address,
        "address_since": t.date(record.address_since),
        "became_resident_on": t.date(record.became_resident_on),
        "previous_address": record.previous_address or "—",
        "domicile": record.domicile or "—",
        "domicile_head": record.domicile_head or "—",
        "insurance": insurance_labels(t, record.insurance),
        "status": t("record.status_active" if record.is_active else "record.status_removed"),
        "removal_reason": t.reason(record.removal_reason),
        "removed_on": t.date(record.removed_on),
        "destination": record.destination or "—",
    }


def item_label_key(item: str) -> str:
    """The catalogue key naming a compared item: ``record.<item>`` (the code is shown masked)."""
    return "record.masked_code" if item == "resident_code" else f"record.{item}"


@dataclass(frozen=True, slots=True)
class Change:
    """One item that differs from the previous version."""

    label: str
    before: str
    after: str


@dataclass(frozen=True, slots=True)
class HistoryRow:
    """A version as the history table shows it."""

    entry: HistoryEntry
    changes: list[Change]
    initial: bool
    event_date: str
    filed_on: str


def changes_between(t: Translator, before: ResidentRecord, after: ResidentRecord) -> list[Change]:
    """The items that differ between two versions of a record."""
    old, new = display_items(t, before), display_items(t, after)
    return [
        Change(label=t(item_label_key(key)), before=old[key], after=new[key])
        for key in DIFF_ITEMS
        if old[key] != new[key]
    ]


def history_rows(t: Translator, entries: list[HistoryEntry]) -> list[HistoryRow]:
    """The history, newest first, each version compared with the one before it."""
    rows: list[HistoryRow] = []
    previous: ResidentRecord | None = None
    for entry in entries:
        changes = [] if previous is None else changes_between(t, previous, entry.record)
        rows.append(
            HistoryRow(
                entry=entry,
                changes=changes,
                initial=previous is None,
                event_date=t.date(date.fromisoformat(entry.event_date)),
                filed_on=t.date(date.fromisoformat(entry.filed_on)),
            )
        )
        previous = entry.record
    return list(reversed(rows))
