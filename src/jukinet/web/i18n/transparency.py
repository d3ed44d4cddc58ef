"""Texts of the public transparency report (提供状況の公表), read without signing in."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

#: key -> (Japanese, English)
TEXTS: Final[Mapping[str, tuple[str, str]]] = {
    "transparency.title": (
        "本人確認情報の提供状況",
        "Transparency report: identity information provided",
    ),
    "transparency.lead": (
        "この団体の住民基本台帳ネットワークのノードが、どの機関に、どの法定事務のために、"
        "何件の本人確認情報を提供したかを公表します。件数だけを集計しており、個人を識別できる"
        "情報（住民票コード、氏名、職員名、照会した職員名、事案番号など）は含みません。",
        "What this node of the resident registry network provided: how many identity records "
        "went to which body, for which statutory affair. Only counts are published; nothing "
        "here identifies a person (no resident codes, names, staff, officers or case numbers).",
    ),
    "transparency.period": ("集計期間", "Period"),
    "transparency.period_value": ("{start}〜{end}", "{start} to {end}"),
    "transparency.japan_time": ("（日本時間）", " (Japan time)"),
    "transparency.generated": ("集計日時", "Compiled at"),
    "transparency.node": ("ノード", "Node"),
    "transparency.months_label": ("集計する月数", "Months to show"),
    "transparency.months_option": ("直近{n}か月", "Last {n} months"),
    "transparency.show": ("表示", "Show"),
    "transparency.summary": ("概要", "Summary"),
    "transparency.total_provisions": ("提供件数", "Records provided"),
    "transparency.total_refusals": ("拒否した照会", "Queries refused"),
    "transparency.total_batch_jobs": ("一括照会の件数", "Batch jobs"),
    "transparency.total_batch_rows": ("一括照会の照会行数", "Rows in batch jobs"),
    "transparency.total_counter_reads": ("窓口での閲覧件数", "Counter reads"),
    "transparency.count_unit": ("{n}件", "{n}"),
    "transparency.rows_unit": ("{n}行", "{n} rows"),
    "transparency.provisions_by_month": ("月別の提供件数", "Records provided per month"),
    "transparency.provisions_help": (
        "住民1人分の本人確認情報を1回提供する（または検索結果の候補として示す）ごとに1件と"
        "数えます。",
        "Each time one resident's identity information is provided (or shown as a search "
        "candidate) counts as one.",
    ),
    "transparency.provisions_by_recipient": (
        "提供先別の提供件数",
        "Records provided per recipient",
    ),
    "transparency.provisions_by_affair": ("事務別の提供件数", "Records provided per affair"),
    "transparency.provisions_by_channel": ("提供方法別の提供件数", "Records provided per channel"),
    "transparency.refusals_by_month": ("月別の拒否件数", "Queries refused per month"),
    "transparency.refusals_help": (
        "法律で認められていない事務による照会など、本人確認情報を読み出す前に拒否した照会の"
        "件数です。",
        "Queries refused before any personal data was read, e.g. for an affair the law does "
        "not allow the body.",
    ),
    "transparency.refusals_detail": ("拒否の内訳", "Refusals in detail"),
    "transparency.batch_title": ("一括照会", "Batch jobs"),
    "transparency.batch_by_size": ("規模別の一括照会件数", "Batch jobs by size"),
    "transparency.batch_by_month": (
        "月別・提供先別の一括照会",
        "Batch jobs per month and recipient",
    ),
    "transparency.counter_by_month": ("月別の窓口での閲覧件数", "Counter reads per month"),
    "transparency.counter_help": (
        "この団体の職員が窓口端末で住民票を閲覧した件数です（職員名は公表しません）。",
        "Reads of the register by this municipality's own staff at the counter (staff are not "
        "named).",
    ),
    "transparency.usage_title": ("職員の利用状況", "Operators' use of the system"),
    "transparency.usage_help": (
        "この団体の職員によるログイン、ログインの失敗、アカウントのロック、時間外利用許可の承認、"
        "窓口での閲覧の月別件数です（日本時間。職員名などの個人情報は公表しません）。",
        "Per month (Japan time): operators' sign-ins, failed sign-ins, accounts locked, "
        "out-of-hours permits approved and records read at the counter (no names or other "
        "personal data are published).",
    ),
    "transparency.usage.signins": ("ログイン", "Sign-ins"),
    "transparency.usage.failed_signins": ("ログイン失敗", "Failed sign-ins"),
    "transparency.usage.lockouts": ("アカウントロック", "Lockouts"),
    "transparency.usage.permits_approved": ("時間外利用許可", "Out-of-hours permits"),
    "transparency.usage.lookups": ("窓口での閲覧", "Lookups"),
    "transparency.usage.total": ("期間合計", "Period total"),
    "transparency.detail_title": ("提供件数の明細", "All provisions in detail"),
    "transparency.detail_rows": ("明細を表示する（{n}行）", "Show the detail ({n} rows)"),
    "transparency.detail_limited": (
        "最初の{n}行を表示しています。すべての行はCSVファイルにあります。",
        "The first {n} rows are shown; the CSV file has every row.",
    ),
    "transparency.downloads": ("データのダウンロード", "Download the figures"),
    "transparency.download_csv": ("CSV形式", "CSV"),
    "transparency.download_json": ("JSON形式", "JSON"),
    "transparency.downloads_help": (
        "同じ数値を機械で読める形式で提供しています。APIは {api} です。",
        "The same figures in machine-readable form. The API is {api}.",
    ),
    "transparency.chart_desc": (
        "棒グラフ。同じ数値を下の表に示します。最大は{label}の{value}件です。",
        "Bar chart. The table below gives the same figures. The largest is {label}: {value}.",
    ),
    "transparency.caption": ("{title}（{period}）", "{title} ({period})"),
    "transparency.show_table": ("表で見る", "Show as a table"),
    "transparency.log_key": (
        "アクセスログの署名公開鍵（開示の検証用）",
        "Access-log signing key (to check a disclosure)",
    ),
    "transparency.chart_empty": (
        "この期間の件数はありません。",
        "Nothing to show for this period.",
    ),
    "transparency.chart_more": (
        "グラフは上位{n}件です。表にはすべてを示します。",
        "The chart shows the top {n}; the table lists all.",
    ),
    "transparency.col.month": ("月", "Month"),
    "transparency.col.recipient": ("提供先", "Recipient"),
    "transparency.col.recipient_id": ("提供先ID", "Recipient id"),
    "transparency.col.affair": ("事務", "Affair"),
    "transparency.col.affair_code": ("事務コード", "Affair code"),
    "transparency.col.channel": ("提供方法", "Channel"),
    "transparency.col.count": ("件数", "Count"),
    "transparency.col.kind": ("照会者の種別", "Who asked"),
    "transparency.col.size": ("照会行数", "Rows per job"),
    "transparency.col.jobs": ("件数", "Jobs"),
    "transparency.col.rows": ("照会行数", "Rows"),
    "transparency.col.found": ("該当", "Found"),
    "transparency.col.errors": ("エラー", "Errors"),
    "transparency.none": ("該当なし", "None"),
    "transparency.unnamed": ("（名称未登録）", "(no registered name)"),
    "transparency.kind.recipient": ("提供先機関", "Recipient body"),
    "transparency.kind.operator": ("この団体の職員", "This municipality's staff"),
    "transparency.kind.node": ("他のノード", "Another node"),
    "transparency.kind.system": ("システム", "System"),
    "transparency.bucket.1-99": ("1〜99行", "1–99 rows"),
    "transparency.bucket.100-9999": ("100〜9,999行", "100–9,999 rows"),
    "transparency.bucket.10000-999999": ("10,000〜999,999行", "10,000–999,999 rows"),
    "transparency.bucket.1000000+": ("1,000,000行以上", "1,000,000 rows or more"),
    "transparency.figure_csv": ("この図表の数値（CSV）", "This chart's numbers (CSV)"),
    "transparency.disconnects_title": ("月別の切断", "Disconnects by month"),
    "transparency.disconnects_help": (
        "住基ネットから切断した回数（接続状態の変更）。",
        "Times a node was disconnected from the network (participation changes).",
    ),
    "transparency.opt_outs_title": ("月別の不参加の申出", "Opt-outs by month"),
    "transparency.opt_outs_help": (
        "上位のサーバへの通知を望まない住民の申出と、その取り下げの件数。",
        "Residents' requests not to be notified upstream, and their withdrawals.",
    ),
    "transparency.col.opt_outs": ("不参加の申出", "Opt-outs"),
    "transparency.col.opt_ins": ("取り下げ", "Opted back in"),
    "transparency.card_uses_title": ("月別のカード利用（条例利用）", "Card services' use by month"),
    "transparency.card_uses_help": (
        "条例で定めたサービスの端末が住民カードを受け付けた回数（全サービスの合計）。",
        "Times the terminals of the card services by ordinance accepted a card (all services).",
    ),
    "transparency.heads_title": ("公表した署名付きツリーヘッド", "Published signed tree heads"),
    "transparency.heads_help": (
        "このノードのアクセス記録の最新のツリーヘッドと、その証人（副署したノード）、"
        "およびこのノードが証人として副署した各ノードの最新のツリーヘッド。",
        "This node's latest access-log tree head with its witnesses (who countersigned it), "
        "and the latest head of every node this node countersigned as a witness.",
    ),
    "transparency.col.node": ("ノード", "Node"),
    "transparency.col.tree_size": ("記録数", "Tree size"),
    "transparency.col.root_hash": ("ルートハッシュ", "Root hash"),
    "transparency.col.signed_at": ("署名日時", "Signed at"),
    "transparency.col.witnesses": ("証人", "Witnesses"),
}
