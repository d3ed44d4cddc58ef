"""Texts of emergencies: threat levels, two-card disconnects, incident notices."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

#: key -> (Japanese, English)
TEXTS: Final[Mapping[str, tuple[str, str]]] = {
    "emergency.banner": ("脅威レベル", "Threat level"),
    "emergency.level.0": ("平常", "Normal"),
    "emergency.level.1": ("レベル1（監視強化）", "Level 1 (watch harder)"),
    "emergency.level.2": ("レベル2（即時対応・通報）", "Level 2 (respond, notify)"),
    "emergency.level.3": ("レベル3（提供停止・閲覧のみ）", "Level 3 (provision suspended)"),
    "emergency.level.4": ("レベル4（全切断）", "Level 4 (everything disconnected)"),
    "emergency.read_only": (
        "個人情報の画面は閲覧のみです",
        "personal-data pages are read-only",
    ),
    "emergency.title": ("緊急時対応", "Emergency measures"),
    "emergency.link": ("緊急時対応", "Emergency"),
    "emergency.levels": ("脅威レベルの決定（セキュリティ委員会）", "Threat level decisions"),
    "emergency.level_form": ("委員会の決定を記録する", "Record the council's decision"),
    "emergency.field.level": ("レベル", "Level"),
    "emergency.field.scope": ("範囲", "Scope"),
    "emergency.field.reason": ("理由", "Reason"),
    "emergency.field.decided_by": ("決定者（委員長）", "Decided by (chair)"),
    "emergency.field.decided_at": ("決定日時", "Decided at"),
    "emergency.field.minutes_ref": ("議事録番号", "Minutes reference"),
    "emergency.field.target": ("対象", "Target"),
    "emergency.field.duration": ("期間（分）", "Duration (minutes)"),
    "emergency.field.action": ("操作", "Action"),
    "emergency.field.expires": ("期限", "Expires"),
    "emergency.field.left": ("残り（秒）", "Seconds left"),
    "emergency.disconnects": ("緊急切断", "Emergency disconnects"),
    "emergency.propose": ("切断を提案する（1枚目のカード）", "Propose (first card)"),
    "emergency.proposals": ("副署待ちの提案", "Proposals waiting for a second card"),
    "emergency.countersign": ("副署する（2枚目のカード）", "Countersign (second card)"),
    "emergency.two_cards": (
        "切断・延長・終了には、セキュリティ責任者と管理職（統括責任者の代理）の2枚のカードが"
        "必要です。",
        "Cutting, renewing and ending take two cards: a security officer's and a "
        "supervisor's (the chief officer's delegate).",
    ),
    "emergency.incidents": ("下位ノードからのインシデント通報", "Incident notices from below"),
    "emergency.none": ("ありません。", "None."),
    "emergency.done": ("記録しました。", "Recorded."),
    "emergency.public": ("緊急切断の記録", "Emergency disconnects"),
    "emergency.public_note": (
        "緊急切断の開始・延長・終了を公開しています（2枚のカードによる決定）。",
        "Every emergency disconnect's start, renewal and end (decided with two cards).",
    ),
}
