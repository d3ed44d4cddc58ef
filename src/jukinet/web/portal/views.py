"""The portal's combined list as rows in one language, and its CSV and PDF downloads."""

from __future__ import annotations

import base64
import csv
import io
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

import jinja2

from jukinet.domain.access_log import entry_bytes, entry_from_dict
from jukinet.domain.register import Sex
from jukinet.services.audit import CheckedEntry
from jukinet.services.portal.overview import COMPARED, CombinedEntry, Overview
from jukinet.web.i18n import Translator
from jukinet.web.ui.common import node_label
from jukinet.web.ui.disclosure import DisclosureRow, entry_rows, moment

CSV_COLUMNS: Final = (
    "tier",
    "recorded_at",
    "action",
    "method",
    "reason",
    "affair_code",
    "affair",
    "source",
    "recipient_kind",
    "recipient",
    "items",
    "log_position",
    "tree_size",
    "root_hash",
    "verified",
)


@dataclass(frozen=True, slots=True)
class PortalRow:
    """One entry of the combined list, with what the browser needs to check its proof."""

    tier: str
    tier_label: str
    row: DisclosureRow
    verified: bool
    #: The entry's canonical bytes (base64): the browser hashes exactly these.
    leaf_data: str
    leaf_hash: str
    proof: str
    tree_size: int
    root_hash: str
    actor: str


def _read(entry: CombinedEntry) -> CheckedEntry:
    """The entry as the server's check read it (read here only if the check could not)."""
    if entry.parsed is not None:
        return entry.parsed
    data = entry.item["entry"]
    position, access = entry_from_dict(data)
    return CheckedEntry(position, access, entry_bytes(position, access))


def rows(seen: Overview, lang: str) -> list[PortalRow]:
    """The combined list, newest first, in ``lang``."""
    text = Translator(lang)
    read = [_read(entry) for entry in seen.entries]
    shown = entry_rows(
        ((e.item["entry"], r.position, r.entry) for e, r in zip(seen.entries, read, strict=True)),
        lang,
    )
    out = []
    for entry, checked, row in zip(seen.entries, read, shown, strict=True):
        access, raw = checked.entry, checked.leaf_data
        out.append(
            PortalRow(
                tier=entry.tier,
                tier_label=text(f"portal.tier.{entry.tier}"),
                row=row,
                verified=entry.verified,
                leaf_data=base64.b64encode(raw).decode("ascii"),
                leaf_hash=str(entry.item["leaf_hash"]),
                proof=",".join(entry.item["proof"]),
                tree_size=entry.tree_size,
                root_hash=entry.root_hash,
                actor=access.actor,
            )
        )
    return out


def _shown(item: str, value: Any, text: Translator) -> str | None:
    if value is None:
        return None
    if item == "sex":
        try:
            return text.sex(Sex(str(value)))
        except ValueError:
            return str(value)
    if item == "birth_date":
        try:
            return text.date(date.fromisoformat(str(value)))
        except ValueError:
            return str(value)
    return str(value)


def identity_table(seen: Overview, lang: str) -> list[dict[str, Any]]:
    """Each compared item with every tier's value and whether it differs."""
    text = Translator(lang)
    table = []
    for item in COMPARED:
        values = [_shown(item, (t.identity or {}).get(item), text) for t in seen.tiers]
        table.append(
            {
                "label": text(f"portal.field.{item}"),
                "values": [v if v is not None else text("portal.me.not_held") for v in values],
                "differs": [t.tier in seen.differences.get(item, []) for t in seen.tiers],
            }
        )
    return table


def heads(seen: Overview, lang: str) -> list[str]:
    """One line per tier: the head its proofs were checked against, and its witnesses."""
    text = Translator(lang)
    lines = []
    for tier in seen.tiers:
        if tier.document is None:
            continue
        head = tier.document["tree_head"]
        lines.append(
            text(
                "portal.log.head_line",
                node=node_label(tier.node, lang),
                size=head["tree_size"],
                root=str(head["root_hash"])[:16],
                witnesses=text.join([node_label(w, lang) for w in tier.witnesses])
                or text("portal.log.no_witness"),
            )
        )
    return lines


def csv_bytes(seen: Overview, lang: str) -> bytes:
    """The combined list as CSV (UTF-8 with BOM, for spreadsheet programs in Japan)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for portal_row in rows(seen, lang):
        r = portal_row.row
        writer.writerow(
            (
                portal_row.tier,
                r.when.iso,
                r.action_label,
                r.method,
                r.reason,
                r.affair_code or "",
                r.affair_name or "",
                r.source_name,
                r.recipient_kind,
                r.recipient,
                r.items,
                r.position,
                portal_row.tree_size,
                portal_row.root_hash,
                "yes" if portal_row.verified else "no",
            )
        )
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def pdf_bytes(environment: jinja2.Environment, seen: Overview, lang: str, issued: str) -> bytes:
    """The combined list as a PDF (WeasyPrint, Japanese fonts from Debian)."""
    from weasyprint import HTML

    html = environment.get_template("portal/report.html").render(
        t=Translator(lang),
        lang=lang,
        rows=rows(seen, lang),
        heads=heads(seen, lang),
        issued=moment(issued, lang),
        count=len(seen.entries),
    )
    pdf: bytes = HTML(string=html).write_pdf()
    return pdf
