"""Texts of the delivery ledger (送受信台帳): the links to other nodes and held notices."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

#: key -> (Japanese, English)
TEXTS: Final[Mapping[str, tuple[str, str]]] = {
    # Delivery ledger
    "network.title": ("送受信台帳", "Delivery ledger"),
    "network.disconnected": (
        "この団体は住基ネットに接続していません。通知は送信されません。",
        "This municipality is not connected to the network; nothing is sent.",
    ),
    "network.links": ("回線ごとの状況", "Links"),
    "network.peer": ("接続先", "Peer"),
    "network.not_connected": ("未接続", "Not connected"),
    "network.last_sent": ("最終送信番号", "Last sent"),
    "network.last_acked": ("最終受領確認番号", "Last acknowledged"),
    "network.last_received": ("最終受信番号", "Last received"),
    "network.queued": ("未送信件数", "Queued"),
    "network.oldest": ("最古の未送信", "Oldest undelivered"),
    "network.quarantined": ("保留（送信/受信）", "Quarantined (out/in)"),
    "network.quarantined_help": (
        "保留件数には隔離された通知と、その後ろで止められている同一住民の通知を含みます。",
        "Quarantined counts include notices held behind a quarantined one for the same resident.",
    ),
    "network.last_error": ("最後のエラー", "Last error"),
    "network.no_links": ("回線はありません。", "No links."),
    "network.held": ("隔離・保留中の通知", "Quarantined and held notices"),
    "network.direction": ("方向", "Direction"),
    "network.dir.inbound": ("受信", "inbound"),
    "network.dir.outbound": ("送信", "outbound"),
    "network.status": ("状態", "Status"),
    "network.status.quarantined": ("隔離", "quarantined"),
    "network.status.held": ("保留", "held"),
    "network.subject": ("住民票コード（マスク）", "Resident code (masked)"),
    "network.reason": ("理由", "Reason"),
    "network.none_held": ("隔離・保留中の通知はありません。", "Nothing is quarantined."),
}
