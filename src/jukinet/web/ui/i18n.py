"""Labels of the counter pages in Japanese (first) and English: one small dictionary.

Templates call ``t("key")``; a missing key shows the key itself, so a gap is visible on screen
rather than silently blank. Domain errors carry their own bilingual messages.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Final

from fastapi import Request

from jukinet.domain.errors import DomainError
from jukinet.domain.identity import ChangeReason
from jukinet.domain.register import Relationship, Sex
from jukinet.domain.wareki import format_wareki

LANG_COOKIE: Final = "lang"
LANGUAGES: Final = ("ja", "en")
DEFAULT_LANG: Final = "ja"

#: key -> (Japanese, English)
LABELS: Final[Mapping[str, tuple[str, str]]] = {
    # Layout
    "app.title": ("住民基本台帳 窓口", "Resident register counter"),
    "app.skip": ("本文へ移動", "Skip to content"),
    "nav.search": ("住民検索", "Search residents"),
    "nav.move_in": ("転入届", "Move-in"),
    "nav.network": ("送受信台帳", "Delivery ledger"),
    "nav.alerts": ("不正利用の兆候", "Insider alerts"),
    "nav.disclosure": ("提供状況の開示", "Disclosure"),
    "nav.transparency": ("提供状況の公表", "Transparency"),
    "network.title": ("送受信台帳", "Delivery ledger"),
    "network.disconnected": (
        "この団体は住基ネットに接続していません。通知は送信されません。",
        "This municipality is not connected to the network; nothing is sent.",
    ),
    "network.links": ("回線ごとの状況", "Links"),
    "network.peer": ("接続先", "Peer"),
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
    "nav.logout": ("ログアウト", "Sign out"),
    "nav.lang_switch": ("English", "日本語"),
    "nav.lang_switch_label": ("Switch to English", "日本語に切り替え"),
    "header.operator": ("操作者", "Operator"),
    "form.required": ("必須", "required"),
    "form.errors_title": (
        "入力内容を確認してください。",
        "Please check the entries below.",
    ),
    "form.date_hint": (
        "例：令和8年11月26日・R8.11.26",
        "e.g. 令和8年11月26日, R8.11.26, 2026-11-26",
    ),
    "form.missing": ("入力してください。", "This item is required."),
    "form.cancel": ("戻る", "Back"),
    "form.submit": ("届出を受け付ける", "Accept the notification"),
    "error.title": ("エラー", "Error"),
    "error.csrf": (
        "フォームの有効期限が切れました。画面を開き直してからやり直してください。",
        "The form has expired. Reload the page and try again.",
    ),
    "error.back": ("検索画面へ戻る", "Back to search"),
    "error.forbidden": ("この操作を行う権限がありません。", "You are not allowed to do this."),
    # Login
    "login.title": ("ログイン", "Sign in"),
    "login.username": ("ユーザー名", "Username"),
    "login.password": ("パスワード", "Password"),
    "login.submit": ("ログイン", "Sign in"),
    "login.intro": (
        "職員のユーザー名とパスワードを入力してください。",
        "Enter your staff username and password.",
    ),
    # Search
    "search.title": ("住民検索", "Search residents"),
    "search.name": ("氏名（漢字・カナ）", "Name (kanji or kana)"),
    "search.name_hint": (
        "異体字（渡邊・渡辺など）やひらがなでも検索できます。",
        "Variant kanji (渡邊/渡辺) and hiragana are matched too.",
    ),
    "search.birth_date": ("生年月日", "Date of birth"),
    "search.include_removed": ("除票も含める", "Include removed records (除票)"),
    "search.submit": ("検索", "Search"),
    "search.results": ("検索結果", "Results"),
    "search.count": ("{n}件", "{n} found"),
    "search.none": ("該当する住民はいません。", "No resident matches."),
    "search.open": ("開く", "Open"),
    "search.candidates_note": (
        "候補の一覧です。本人確認のうえ住民票を開いてください。",
        "These are candidates: confirm the person before opening a record.",
    ),
    # Record items (art. 7)
    "record.title": ("住民票", "Resident record"),
    "record.title_removed": ("除票", "Removed record"),
    "record.resident_code": ("住民票コード", "Resident code"),
    "record.masked_code": ("住民票コード（一部）", "Resident code (masked)"),
    "record.name": ("氏名", "Name"),
    "record.kana": ("フリガナ", "Reading (kana)"),
    "record.birth_date": ("生年月日", "Date of birth"),
    "record.sex": ("性別", "Sex"),
    "record.head": ("世帯主", "Head of household"),
    "record.relationship": ("続柄", "Relationship to head"),
    "record.household_number": ("世帯番号", "Household number"),
    "record.address": ("住所", "Address"),
    "record.address_since": ("住所を定めた年月日", "Address since"),
    "record.became_resident_on": ("住民となった年月日", "Resident since"),
    "record.previous_address": ("前住所", "Previous address"),
    "record.domicile": ("本籍", "Family-register domicile"),
    "record.domicile_head": ("筆頭者", "Head of family register"),
    "record.insurance": ("保険・年金・手当", "Insurance, pension, allowances"),
    "record.municipality": ("市区町村", "Municipality"),
    "record.status": ("状態", "Status"),
    "record.status_active": ("記載中", "On the register"),
    "record.status_removed": ("除票", "Removed (除票)"),
    "record.removal_reason": ("消除事由", "Reason for removal"),
    "record.removed_on": ("消除日", "Removed on"),
    "record.destination": ("転出先", "Destination"),
    "record.version": ("版", "Version"),
    "record.removed_banner": (
        "この住民票は消除されています（除票）。",
        "This record has been removed (除票).",
    ),
    "record.none": ("なし", "none"),
    "insurance.national_health_insurance": ("国民健康保険", "National health insurance"),
    "insurance.late_elderly_insurance": ("後期高齢者医療", "Late-stage elderly insurance"),
    "insurance.long_term_care_insurance": ("介護保険", "Long-term care insurance"),
    "insurance.national_pension": ("国民年金", "National pension"),
    "insurance.child_allowance": ("児童手当", "Child allowance"),
    # Household
    "household.title": ("世帯", "Household"),
    "household.members": ("世帯員", "Members"),
    "household.select": ("選択", "Select"),
    # History
    "history.title": ("履歴", "History"),
    "history.version": ("版", "Version"),
    "history.event": ("異動事由", "Event"),
    "history.event_date": ("異動日", "Event date"),
    "history.filed_on": ("届出日", "Filed on"),
    "history.late": ("遅延", "Late"),
    "history.changes": ("変更内容", "What changed"),
    "history.operator": ("操作者", "Operator"),
    "history.note": ("備考", "Note"),
    "history.initial": ("新規記載", "Entered"),
    "history.no_change": ("（記載事項の変更なし）", "(no recorded item changed)"),
    # Actions
    "actions.title": ("届出・処理", "Notifications and actions"),
    "actions.birth": ("出生届", "Birth"),
    "actions.move_in_join": ("この世帯への転入届", "Move-in to this household"),
    "actions.move_within": ("転居届", "Move within"),
    "actions.move_out": ("転出届", "Move-out"),
    "actions.death": ("死亡届", "Death"),
    "actions.name_change": ("氏名変更", "Name change"),
    "actions.household_change": ("世帯変更", "Household change"),
    "actions.code_change": ("住民票コード変更", "Resident-code change"),
    "actions.correction": ("職権修正", "Ex-officio correction"),
    "actions.supervisor_only": ("管理職のみ", "supervisors only"),
    # Notices after a change
    "done.title": ("受け付けました", "Accepted"),
    "done.birth": ("出生届を受け付けました。", "The birth has been registered."),
    "done.move_in": ("転入届を受け付けました。", "The move-in has been registered."),
    "done.move_within": ("転居届を受け付けました。", "The move has been registered."),
    "done.move_out": ("転出届を受け付けました。", "The move-out has been registered."),
    "done.death": ("死亡届を受け付けました。", "The death has been registered."),
    "done.name_change": ("氏名変更を受け付けました。", "The name change has been registered."),
    "done.household_change": (
        "世帯変更を受け付けました。",
        "The household change has been registered.",
    ),
    "done.code_change": (
        "住民票コードを変更しました。新しいコードを本人に通知してください。",
        "The resident code was changed. Tell the resident the new code.",
    ),
    "done.correction": ("職権修正を記録しました。", "The correction has been recorded."),
    "late.title": ("届出期間超過（遅延）", "Filed after the deadline (late)"),
    "late.body": (
        "届出期間（14日）を過ぎた届出です。受理しましたが、届出遅延として記録しました。",
        "This notification was filed after the 14-day period. It was accepted and recorded "
        "as late.",
    ),
    # Common event fields
    "field.household_number": ("世帯番号", "Household number"),
    "field.family_name": ("氏", "Family name"),
    "field.given_name": ("名", "Given name"),
    "field.family_name_kana": ("氏（フリガナ）", "Family name (katakana)"),
    "field.given_name_kana": ("名（フリガナ）", "Given name (katakana)"),
    "field.kana_hint": ("全角カタカナ", "Full-width katakana"),
    "field.birth_date": ("生年月日", "Date of birth"),
    "field.sex": ("性別", "Sex"),
    "field.relationship": ("続柄", "Relationship to head"),
    "field.resident_code": ("住民票コード", "Resident code"),
    "field.resident_code_hint": (
        "11桁。国外からの転入で初めての方は空欄（新しいコードを割り当てます）",
        "11 digits. Leave empty for a first arrival from abroad (a new code is assigned)",
    ),
    "field.domicile": ("本籍", "Family-register domicile"),
    "field.domicile_head": ("筆頭者", "Head of family register"),
    "field.address": ("住所", "Address"),
    "field.new_address": ("新住所", "New address"),
    "field.previous_address": ("前住所", "Previous address"),
    "field.previous_municipality_code": (
        "前住所地の市区町村コード",
        "Previous municipality code",
    ),
    "move_in.previous_municipality_hint": (
        "6桁（例 132292）。前住所地に転入通知を送ります。国外からは空欄。",
        "6 digits (e.g. 132292). The old municipality is sent a move-in notice. "
        "Leave empty for arrivals from abroad.",
    ),
    "field.moved_on": ("異動日（転入・転居した日）", "Date of the move"),
    "field.filed_on": ("届出日", "Filing date"),
    "field.destination": ("転出先", "Destination"),
    "field.planned_on": ("転出予定日", "Planned date of the move"),
    "field.died_on": ("死亡日", "Date of death"),
    "field.changed_on": ("変更日", "Date of the change"),
    "field.new_head_code": ("新しい世帯主", "New head of household"),
    "field.reason_note": ("修正の理由", "Reason for the correction"),
    "field.from_abroad": ("国外からの転入", "Arriving from abroad"),
    "field.choose": ("選択してください", "Choose"),
    "field.resident_codes": ("転出する人", "People moving out"),
    "field.version": ("版", "Version"),
    # Move-in
    "move_in.title": ("転入届", "Move-in notification"),
    "move_in.household": ("世帯", "Household"),
    "move_in.new_household": ("新しい世帯をつくる", "Form a new household"),
    "move_in.join_household": ("既存の世帯に入る", "Join an existing household"),
    "move_in.join_hint": (
        "既存の世帯に入る場合、住所は世帯の住所になります。",
        "When joining a household, its address is used.",
    ),
    "move_in.persons": ("転入する人", "People moving in"),
    "move_in.person_n": ("{n}人目", "Person {n}"),
    "move_in.no_person": ("転入する人を1人以上入力してください。", "Enter at least one person."),
    "move_in.more_rows": ("{n}人目を入力する", "Enter person {n}"),
    "move_in.rows_hint": (
        "空欄の行は無視されます。新しい世帯では1人を世帯主にしてください。",
        "Empty rows are skipped. A new household needs exactly one head.",
    ),
    # Birth
    "birth.title": ("出生届", "Birth notification"),
    "birth.hint": (
        "新しい住民票コードを割り当てます。住所は世帯の住所になります。",
        "A new resident code is assigned. The household's address is used.",
    ),
    # Move within
    "move_within.title": ("転居届", "Move within the municipality"),
    "move_within.hint": (
        "世帯全員の住所を変更します。",
        "The whole household moves to the new address.",
    ),
    # Move out
    "move_out.title": ("転出届", "Move-out notification"),
    "move_out.hint": (
        "転出する世帯員を選んでください。世帯主は世帯全員でのみ転出できます。",
        "Choose who moves out. The head leaves only with the whole household.",
    ),
    "move_out.inline": ("選択した世帯員の転出届", "Move-out of the selected members"),
    "move_out.submit": ("選択した人の転出届を受け付ける", "Accept the move-out of those selected"),
    # Death
    "death.title": ("死亡届", "Death notification"),
    "death.new_head_hint": (
        "世帯主が死亡した場合、残る世帯員から新しい世帯主を選んでください。",
        "If the head died, choose the new head among the remaining members.",
    ),
    "death.no_new_head": ("（指定しない）", "(none)"),
    # Name change
    "name_change.title": ("氏名変更", "Name change"),
    # Household change
    "household_change.title": ("世帯変更", "Household change"),
    "household_change.mode": ("変更の内容", "Kind of change"),
    "household_change.mode_new_household": (
        "この人を世帯主として新しい世帯をつくる（世帯分離）",
        "Make this person head of a new household (split)",
    ),
    "household_change.mode_become_head": (
        "この人を今の世帯の世帯主にする（世帯主変更）",
        "Make this person head of the current household",
    ),
    "household_change.mode_relationship": (
        "続柄を変更する",
        "Change the relationship to the head",
    ),
    "household_change.mode_join": (
        "同じ住所の別の世帯に入る（世帯合併）",
        "Join another household at the same address",
    ),
    "household_change.old_head_relationship": (
        "元の世帯主の新しい続柄",
        "New relationship of the former head",
    ),
    "household_change.target_household": ("入る世帯の世帯番号", "Household number to join"),
    # Code change
    "code_change.title": ("住民票コード変更", "Resident-code change"),
    "code_change.hint": (
        "本人の請求により、割当て済みのコードから新しいコードを付番します。"
        "旧コードは廃止され、住基カードは使えなくなります。",
        "On the resident's request a new code is drawn from the pool. The old code is retired "
        "and the resident card stops working.",
    ),
    "code_change.submit": ("コードを変更する", "Change the code"),
    # Correction
    "correction.title": ("職権修正", "Ex-officio correction"),
    "correction.hint": (
        "誤っている項目だけを修正してください。修正の理由は必ず記録されます。",
        "Change only the items that are wrong. The reason is always recorded.",
    ),
    "correction.submit": ("修正を記録する", "Record the correction"),
    # Sex and relationship labels in English (Japanese ones come from the domain)
    "sex.male": ("男", "male"),
    "sex.female": ("女", "female"),
    "relationship.head": ("世帯主", "head"),
    "relationship.wife": ("妻", "wife"),
    "relationship.husband": ("夫", "husband"),
    "relationship.child": ("子", "child"),
    "relationship.father": ("父", "father"),
    "relationship.mother": ("母", "mother"),
    "relationship.grandchild": ("孫", "grandchild"),
    "relationship.sibling": ("兄弟姉妹", "sibling"),
    "relationship.other_relative": ("その他の親族", "other relative"),
    "relationship.cohabitant": ("同居人", "cohabitant"),
    "role.clerk": ("窓口担当", "Counter clerk"),
    "role.supervisor": ("管理職", "Supervisor"),
    "role.security_officer": ("セキュリティ責任者", "Security officer"),
    # Event kinds in the history
    "event.birth": ("出生", "Birth"),
    "event.move_in": ("転入", "Move-in"),
    "event.move_within": ("転居", "Move within"),
    "event.move_out": ("転出", "Move-out"),
    "event.death": ("死亡", "Death"),
    "event.name_change": ("氏名変更", "Name change"),
    "event.household_change": ("世帯変更", "Household change"),
    "event.code_change": ("住民票コード変更", "Resident-code change"),
    "event.ex_officio_entry": ("職権記載", "Ex-officio entry"),
    "event.ex_officio_correction": ("職権修正", "Ex-officio correction"),
    "event.ex_officio_deletion": ("職権消除", "Ex-officio deletion"),
    "yes": ("あり", "yes"),
    "no": ("なし", "no"),
}


def request_lang(request: Request) -> str:
    """The language chosen with the switch (a cookie); Japanese unless English was chosen."""
    lang = request.cookies.get(LANG_COOKIE, DEFAULT_LANG)
    return lang if lang in LANGUAGES else DEFAULT_LANG


class Translator:
    """Labels, dates and enum names in one language; templates receive it as ``t``."""

    def __init__(self, lang: str) -> None:
        self.lang = lang if lang in LANGUAGES else DEFAULT_LANG
        self._index = 1 if self.lang == "en" else 0

    def __call__(self, key: str, **values: object) -> str:
        """The label for ``key``, with ``{name}`` placeholders filled from ``values``."""
        pair = LABELS.get(key)
        text = key if pair is None else pair[self._index]
        return text.format(**values) if values else text

    def date(self, value: date | None) -> str:
        """A date in 和暦 (Japanese) or with the era in brackets (English); ``—`` for none."""
        if value is None:
            return "—"
        try:
            return format_wareki(value, lang=self.lang)
        except DomainError:  # before 明治: no era to show
            return value.isoformat()

    def sex(self, value: Sex) -> str:
        """男/女 or male/female."""
        return value.label_ja if self.lang == "ja" else self(f"sex.{value.value}")

    def relationship(self, value: Relationship) -> str:
        """The 続柄 as printed on a 住民票, or its English name."""
        return value.label_ja if self.lang == "ja" else self(f"relationship.{value.value}")

    def reason(self, value: ChangeReason | None) -> str:
        """A change reason (e.g. why a record was removed)."""
        if value is None:
            return "—"
        return value.label_ja if self.lang == "ja" else value.label_en

    def event(self, kind: str) -> str:
        """An event kind of the history (``move_in`` → 転入)."""
        return self(f"event.{kind}")

    def error(self, error: DomainError) -> str:
        """A domain error's message in this language."""
        return error.message(self.lang)
