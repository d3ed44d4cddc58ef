"""Texts of the security console (セキュリティ監視) and the network map (ネットワーク構成図),
and of the delivery deadlines on the delivery ledger."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

#: key -> (Japanese, English)
TEXTS: Final[Mapping[str, tuple[str, str]]] = {
    "nav.console": ("セキュリティ監視", "Security console"),
    "console.title": ("セキュリティ監視", "Security console"),
    "console.lead": (
        "この拠点の警報、配達期限の超過、回線の状態、下位拠点からのインシデント通知です。"
        "住民の情報は表示しません。閲覧はアクセスログに記録されます。",
        "This node's alerts, overdue deliveries, link states and incident notices from below. "
        "No resident is shown. Each view is written to the access log.",
    ),
    "console.threat": ("脅威レベル", "Threat level"),
    "console.threat_unknown": (
        "脅威レベルはまだ設定されていません。",
        "No threat level is set yet.",
    ),
    "console.incidents": ("下位拠点からのインシデント通知", "Incident notices from below"),
    "console.no_incidents": ("インシデント通知はありません。", "No incident notices."),
    "console.level": ("レベル", "Level"),
    "console.reported_at": ("報告日時", "Reported"),
    "console.summary": ("概要", "Summary"),
    "console.decided_by": ("決定者", "Decided by"),
    "console.node": ("拠点", "Node"),
    "console.alerts": ("セキュリティ警報", "Security alerts"),
    "console.no_alerts": ("警報はありません。", "No alerts."),
    "console.insider_link": (
        "職員による不正利用の兆候は別のページにあります。",
        "Signs of insider misuse have their own page.",
    ),
    "console.kind": ("種類", "Kind"),
    "console.about": ("対象拠点", "About"),
    "console.reason": ("内容", "What was seen"),
    "console.raised_at": ("発生日時", "Raised"),
    "console.alert.origin_signature": ("発信元署名の不一致", "Origin signature refused"),
    "console.alert.origin_replay": ("署名済み通知の再送（リプレイ）", "Replayed origin seal"),
    "console.alert.log_rewritten": ("ログの改ざん", "Log rewritten"),
    "console.alert.delivery_overdue": ("配達期限の超過", "Delivery overdue"),
    "console.overdue": ("配達期限の超過", "Overdue deliveries"),
    "console.no_overdue": ("期限を過ぎた配達はありません。", "Nothing is overdue."),
    "console.open_overdue": ("現在期限超過中の通知: {n} 件", "Messages overdue now: {n}"),
    "console.direction": ("方向", "Direction"),
    "console.direction.outbound": ("送信（未確認）", "Outbound (unacknowledged)"),
    "console.direction.inbound": ("受信（遅着）", "Inbound (arrived late)"),
    "console.notice_kind": ("通知の種類", "Notice kind"),
    "console.count": ("件数", "Count"),
    "console.deadline": ("期限", "Deadline"),
    "console.oldest": ("最古", "Oldest"),
    "console.state": ("状態", "State"),
    "console.state.open": ("超過中", "Overdue now"),
    "console.state.closed": ("解消", "Resolved"),
    "console.links": ("回線の状態", "Link states"),
    "console.ledger_link": ("送受信台帳を開く", "Open the delivery ledger"),
    "console.map_link": ("ネットワーク構成図を開く", "Open the network map"),
    "console.seconds": ("{n} 秒", "{n} s"),
    "map.title": ("ネットワーク構成図", "Network map"),
    "map.lead": (
        "全国センターから見た全拠点の状態と回線の健全性です。市区町村の送信待ちは"
        "その都道府県の監視画面に表示されます。",
        "Every node and the health of its link as the national centre sees them. A "
        "municipality's own backlog shows on its prefecture's console.",
    ),
    "map.picture": ("構成図", "Picture"),
    "map.legend": ("凡例", "Legend"),
    "map.table": ("拠点一覧", "Nodes"),
    "map.role": ("種別", "Role"),
    "map.role.national": ("全国センター", "National centre"),
    "map.role.prefecture": ("都道府県", "Prefecture"),
    "map.role.municipality": ("市区町村", "Municipality"),
    "map.state": ("参加状態", "Participation"),
    "map.state.this_node": ("この拠点", "This node"),
    "map.state.active": ("稼働中", "Active"),
    "map.state.silent": ("受信実績なし", "Nothing received"),
    "map.state.revoked": ("証明書失効", "Certificate revoked"),
    "map.health": ("回線", "Link"),
    "map.health.ok": ("正常", "Healthy"),
    "map.health.overdue": ("期限超過", "Overdue"),
    "map.health.trouble": ("異常", "Trouble"),
    "map.health.unknown": ("不明", "Unknown"),
    "map.last_delivery": ("最終受信", "Last delivery"),
    "map.backlog": ("送信待ち", "Backlog"),
    "map.overdue": ("期限超過", "Overdue"),
    "map.witnessed": ("最終立会いヘッド", "Last witnessed head"),
    "map.not_visible": ("（センターからは見えません）", "(not visible at the centre)"),
    "network.overdue": ("期限超過（送信/遅着）", "Overdue (out/late in)"),
    "network.overdue_list": ("配達期限の超過", "Overdue deliveries"),
}
