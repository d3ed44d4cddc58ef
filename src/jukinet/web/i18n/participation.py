"""Texts of participation (接続・切断) and residents' choice about upstream notification."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

#: key -> (Japanese, English)
TEXTS: Final[Mapping[str, tuple[str, str]]] = {
    "participation.title": ("住基ネットへの接続", "Participation in the network"),
    "participation.link": ("接続状態の変更", "Change participation"),
    "participation.state": ("現在の状態", "State in force"),
    "participation.configured": ("設定ファイルの初期値", "Configured initial state"),
    "participation.state.connected": ("接続", "Connected"),
    "participation.state.disconnected": ("切断（国立市の例）", "Disconnected (as Kunitachi)"),
    "participation.state.never_connected": (
        "未接続（矢祭町の例）",
        "Never connected (as Yamatsuri)",
    ),
    "participation.change": ("状態を変更する", "Change the state"),
    "participation.new_state": ("新しい状態", "New state"),
    "participation.reason": ("理由（決定者・決裁番号など）", "Reason (who decided, reference)"),
    "participation.hint": (
        "接続すると全住民の本人確認情報を初期送信します。切断中は何も送信されません。",
        "Connecting queues an initial load of every record; while disconnected nothing is sent.",
    ),
    "participation.submit": ("変更する", "Change"),
    "participation.history": ("変更の履歴", "Changes"),
    "participation.when": ("日時", "When"),
    "participation.from_to": ("変更", "Change"),
    "participation.by": ("操作者", "By"),
    "participation.queued": ("初期送信件数", "Snapshots queued"),
    "participation.none": ("変更はまだありません。", "No changes yet."),
    "participation.done": ("接続状態を変更しました。", "The participation state was changed."),
    "participation.public_title": ("住基ネットへの参加と通知の選択", "Participation and opt-out"),
    "participation.public_opt_out": ("住民による通知の選択", "Residents may opt out"),
    "participation.public_allowed": ("採用（横浜市方式）", "Yes (as Yokohama, 2002–2006)"),
    "participation.public_not_allowed": ("採用していません", "No"),
    "participation.public_opted_out": (
        "通知を停止した住民 / 住民総数",
        "Residents who opted out / all residents",
    ),
    "participation.public_help": (
        "通知を停止した住民の本人確認情報は、都道府県と全国センターから削除されています。",
        "The prefecture and the national centre hold nothing about residents who opted out.",
    ),
    "opt_out.title": ("本人確認情報の通知の選択", "Upstream notification (opt-out)"),
    "opt_out.hint": (
        "住民の申出により、都道府県・全国センターへの本人確認情報の通知を停止（既に保有する"
        "情報は削除）または再開します。",
        "At the resident's request, stop notification to the prefecture and the centre (which "
        "delete what they hold) or resume it (a fresh copy is sent).",
    ),
    "opt_out.current_out": ("現在: 通知停止中", "Now: opted out"),
    "opt_out.current_in": ("現在: 通知中", "Now: notified upstream"),
    "opt_out.request_number": ("申出番号", "Request number"),
    "opt_out.requested_on": ("申出日", "Request date"),
    "opt_out.submit_out": ("通知を停止する", "Stop notification"),
    "opt_out.submit_in": ("通知を再開する", "Resume notification"),
    "opt_out.not_allowed": (
        "この市区町村では通知の選択制を採用していません。",
        "This municipality does not let residents opt out.",
    ),
    "actions.opt_out": ("通知の選択（停止・再開）", "Upstream notification (opt out / in)"),
    "record.opted_out": ("本人確認情報の通知: 停止中", "Upstream notification: opted out"),
    "done.opt_out": ("通知を停止しました。", "Upstream notification stopped."),
    "done.opt_in": ("通知を再開しました。", "Upstream notification resumed."),
}
