"""Texts of the insider-alert page (不正利用の兆候) for security staff and supervisors."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

#: key -> (Japanese, English)
TEXTS: Final[Mapping[str, tuple[str, str]]] = {
    "alerts.title": ("不正利用の兆候", "Insider alerts"),
    "alerts.baseline": (
        "このノードはまだ基準となる利用実績を蓄積中です。{day}までは、過去の参照がない利用者の"
        "参照件数の兆候（新規）を保留します（他の兆候は通常どおり表示します）。",
        "This node is still building its baseline: until {day}, volume signals about actors "
        "without history (new) are held; every other signal is shown as usual.",
    ),
    "alerts.lead": (
        "アクセスログから、通常より多い参照、同じ住民への多数の職員による参照、"
        "業務時間外の参照を抽出します。兆候は不正の証明ではありません。"
        "業務上の理由を確認してください。",
        "Drawn from the access log: reads far above an actor's norm, one resident read by "
        "many operators, and reads outside business hours. A signal is not proof of misuse: "
        "check the business reason.",
    ),
    "alerts.day": ("対象日", "Day"),
    "alerts.day_hint": (
        "例：2026-11-26・令和8年11月26日（空欄は本日）",
        "e.g. 2026-11-26 or 令和8年11月26日 (empty for today)",
    ),
    "alerts.show": ("表示", "Show"),
    "alerts.csv": ("CSV をダウンロード", "Download CSV"),
    "alerts.csv_note": (
        "CSV の住民票コードもマスクされます。",
        "Resident codes are masked in the CSV.",
    ),
    "alerts.for_day": ("{day}の兆候", "Signals for {day}"),
    "alerts.count": ("{n} 件", "{n}"),
    "alerts.none": ("この日の兆候はありません。", "No signals for this day."),
    "alerts.none_at_level": ("ありません。", "None."),
    "alerts.severity.alert": ("警報", "Alert"),
    "alerts.severity.warning": ("警告", "Warning"),
    "alerts.severity.notice": ("注意", "Notice"),
    "alerts.kind": ("種類", "Kind"),
    "alerts.kind.volume": ("参照件数の急増", "Unusual volume"),
    "alerts.kind.many_readers": ("多数の職員による参照", "Many readers"),
    "alerts.kind.operator_card": ("操作者カード・アカウント", "Operator card or account"),
    "alerts.kind.off_hours": ("業務時間外の参照", "Outside business hours"),
    "alerts.who": ("操作者・対象", "Actor or resident"),
    "alerts.resident": ("住民票コード（マスク）", "Resident code (masked)"),
    "alerts.number": ("件数・人数", "Reads / readers"),
    "alerts.summary": ("内容", "Summary"),
    "alerts.evidence": ("根拠", "Evidence"),
    "alerts.rules": ("判定の基準", "Rules"),
    "alerts.rule.volume": (
        "参照件数：過去{history}日の中央値の{multiplier}倍と{floor}件の大きい方を超えた日。",
        "Volume: more reads than the greater of {multiplier}× the {history}-day median "
        "and {floor}.",
    ),
    "alerts.rule.many_readers": (
        "多数の参照者：同じ住民を{window}日間に{readers}人以上の操作者が参照。",
        "Many readers: one resident read by {readers} or more operators within {window} days.",
    ),
    "alerts.rule.off_hours": (
        "業務時間外：平日 {start}〜{end}（日本時間）以外の参照。",
        "Off hours: reads outside {start}–{end} JST on working days.",
    ),
    "alerts.yes": ("はい", "yes"),
    "alerts.no": ("いいえ", "no"),
    "alerts.jst": ("日本時間", "JST"),
    "alerts.actor_kind.operator": ("操作者", "operator"),
    "alerts.actor_kind.recipient": ("受領者（機関）", "recipient (agency)"),
    "alerts.day_type.workday": ("平日", "working day"),
    "alerts.day_type.non_workday": ("閉庁日", "non-working day"),
    "alerts.day_type.holiday": ("祝日・休庁日", "public holiday"),
    # Evidence items; an item without a label shows its key.
    "alerts.ev.actor_kind": ("種別", "Actor kind"),
    "alerts.ev.median": ("過去の中央値", "Median"),
    "alerts.ev.limit": ("基準件数", "Limit"),
    "alerts.ev.ratio": ("基準比", "Ratio to baseline"),
    "alerts.ev.history_days": ("比較期間（日）", "History (days)"),
    "alerts.ev.history_active_days": ("参照のあった日数", "Active days"),
    "alerts.ev.new_actor": ("新規", "New actor"),
    "alerts.ev.peer_actors": ("同種の操作者数", "Peers that day"),
    "alerts.ev.peer_median": ("同種の中央値", "Peer median"),
    "alerts.ev.readers": ("参照者", "Readers"),
    "alerts.ev.window_start": ("期間開始", "Window start"),
    "alerts.ev.window_end": ("期間終了", "Window end"),
    "alerts.ev.first_read": ("最初の参照", "First read"),
    "alerts.ev.last_read": ("最後の参照", "Last read"),
    "alerts.ev.day_type": ("日の種類", "Day type"),
    "alerts.ev.business_hours": ("業務時間", "Business hours"),
}
