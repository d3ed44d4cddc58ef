"""Texts of the counter's frame: layout, sign-in, search, errors and the forms' common parts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

#: key -> (Japanese, English)
TEXTS: Final[Mapping[str, tuple[str, str]]] = {
    # Layout
    "app.title": ("住民基本台帳 窓口", "Resident register counter"),
    "app.skip": ("本文へ移動", "Skip to content"),
    "nav.search": ("住民検索", "Search residents"),
    "nav.move_in": ("転入届", "Move-in"),
    "nav.network": ("送受信台帳", "Delivery ledger"),
    "nav.alerts": ("不正利用の兆候", "Insider alerts"),
    "nav.disclosure": ("提供状況の開示", "Disclosure"),
    "nav.transparency": ("提供状況の公表", "Transparency"),
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
        "職員のユーザー名とパスワードを入力してください。次に操作者カードで確認します。",
        "Enter your staff username and password; your operator card is checked next.",
    ),
    "login.card_title": ("操作者カードの確認", "Operator card"),
    "login.card_intro": (
        "貸与された操作者カード（セキュリティキー）を端末に接続し、ボタンを押してPINを入力してください。",
        "Connect the operator card (security key) lent to you, press the button and enter its PIN.",
    ),
    "login.card_submit": ("カードで確認する", "Verify with my card"),
    "login.card_waiting": ("カードの操作を待っています…", "Waiting for your card…"),
    "login.card_failed": (
        "カードを確認できませんでした。もう一度お試しください。",
        "The card could not be read; try again.",
    ),
    "login.card_cancel": ("中止する", "Cancel"),
    "login.demo_enrol": (
        "デモ環境のみ：この操作者にはカードがありません。このブラウザのパスキーまたはセキュリティキーを"
        "操作者カードとして登録します。",
        "Demo only: this operator has no card yet. Your browser's passkey or any security key "
        "is enrolled as the operator's card.",
    ),
    "login.ended.JUKI-AUTH-002": ("ログインしてください。", "Please sign in."),
    "login.loopback_terminal": (
        "デモ・試験用ループバック端末（登録端末ではありません）",
        "Loopback terminal for demo and tests (not a registered terminal)",
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
}
