"""Texts of card services by ordinance (条例利用): the registry and enrolment pages, and the
section of the public transparency report."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

#: key -> (Japanese, English)
TEXTS: Final[Mapping[str, tuple[str, str]]] = {
    "nav.card_services": ("条例利用", "Card services"),
    # The registry
    "ordinance.title": ("カードの条例利用サービス", "Card services by ordinance"),
    "ordinance.lead": (
        "議会が条例で定めた住基カードの独自利用サービスの一覧です。"
        "サービスの追加・廃止は管理職が行います。",
        "The services the council enacted by ordinance for the resident card. "
        "Supervisors add and deactivate them.",
    ),
    "ordinance.list": ("登録済みサービス", "Registered services"),
    "ordinance.code": ("サービスコード", "Service code"),
    "ordinance.code_hint": (
        "英小文字・数字・-（例: library, certificate-kiosk）",
        "a-z, 0-9 and '-' (e.g. library, certificate-kiosk)",
    ),
    "ordinance.name_ja": ("サービス名（日本語）", "Name (Japanese)"),
    "ordinance.name_en": ("サービス名（英語）", "Name (English)"),
    "ordinance.ordinance_name": ("条例名", "Ordinance"),
    "ordinance.enacted_on": ("制定日", "Enacted on"),
    "ordinance.status": ("状態", "Status"),
    "ordinance.active": ("利用中", "Active"),
    "ordinance.inactive": ("廃止", "Inactive"),
    "ordinance.add": ("サービスの追加", "Add a service"),
    "ordinance.add_submit": ("追加する", "Add"),
    "ordinance.deactivate": ("サービスの廃止", "Deactivate a service"),
    "ordinance.deactivate_hint": (
        "廃止したサービスの端末ではカードを利用できなくなります。利用登録と利用回数は残ります。",
        "Its terminals stop accepting cards; enrolments and use counts are kept.",
    ),
    "ordinance.deactivate_submit": ("廃止する", "Deactivate"),
    "ordinance.suggestions": (
        "よくあるサービス: 証明書自動交付機、印鑑登録、図書館、施設予約、健診",
        "Common services: certificate kiosk, seal registration, library, facility booking, "
        "health checks",
    ),
    "ordinance.done.added": ("サービスを追加しました。", "The service was added."),
    "ordinance.done.deactivated": ("サービスを廃止しました。", "The service was deactivated."),
    "ordinance.none": ("登録されたサービスはありません。", "No services are registered."),
    "ordinance.logged": (
        "操作はすべてアクセスログに記録されます。",
        "Every action here is recorded in the access log.",
    ),
    # Enrolment
    "enrolment.title": ("条例利用の利用登録", "Card service enrolment"),
    "enrolment.lead": (
        "住基カードを持参した住民の利用登録・利用廃止を行います。"
        "サービスの端末には、サービスごとの利用者番号だけが通知され、住民票コードは通知されません。",
        "Enrol a resident who brought their card, or withdraw them. A service's terminals "
        "receive only that service's identifier for the resident, never the resident code.",
    ),
    "enrolment.resident_code": ("住民票コード", "Resident code"),
    "enrolment.lookup": ("登録状況を表示", "Show enrolments"),
    "enrolment.service": ("サービス", "Service"),
    "enrolment.identifier": ("利用者番号", "Service identifier"),
    "enrolment.state": ("登録状況", "State"),
    "enrolment.state.enrolled": ("登録中", "Enrolled"),
    "enrolment.state.withdrawn": ("利用廃止", "Withdrawn"),
    "enrolment.enrolled_at": ("登録日時", "Enrolled at"),
    "enrolment.none": ("利用登録はありません。", "No enrolments."),
    "enrolment.enrol": ("利用登録", "Enrol"),
    "enrolment.enrol_hint": (
        "有効な住基カード（交付済み・一時停止でないもの）が必要です。",
        "The resident needs a valid card (issued, not suspended).",
    ),
    "enrolment.enrol_submit": ("登録する", "Enrol"),
    "enrolment.withdraw": ("利用廃止", "Withdraw"),
    "enrolment.withdraw_submit": ("利用を廃止する", "Withdraw"),
    "enrolment.done.enrolled": ("利用登録しました。", "The resident was enrolled."),
    "enrolment.done.withdrawn": ("利用を廃止しました。", "The resident was withdrawn."),
    # The transparency report's section
    "transparency.ordinance_title": (
        "カードの条例利用",
        "Card services by ordinance",
    ),
    "transparency.ordinance_help": (
        "条例で定めた住基カードの独自利用サービスと、その端末でカードが利用された回数です。"
        "利用者は特定されません（サービス・日・回数のみを集計しています）。",
        "The services the council enacted for the resident card, and how often their "
        "terminals accepted a card. Nobody is identified: only service, day and count are kept.",
    ),
    "transparency.ordinance_service": ("サービス", "Service"),
    "transparency.ordinance_name": ("条例名（制定日）", "Ordinance (enacted)"),
    "transparency.ordinance_status": ("状態", "Status"),
    "transparency.ordinance_period_uses": ("期間中の利用回数", "Uses in the period"),
    "transparency.ordinance_latest_uses": ("今月の利用回数", "Uses this month"),
    "transparency.ordinance_none": (
        "条例利用サービスは登録されていません。",
        "No card services are registered.",
    ),
}
