"""Texts of the agency console (機関照会画面): sign-in, affairs, look-ups, batches, history."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

#: key -> (Japanese, English)
TEXTS: Final[Mapping[str, tuple[str, str]]] = {
    "agency.app": ("機関照会画面", "Agency console"),
    "agency.title": ("本人確認情報の照会", "Identity information queries"),
    "agency.nav": ("機関照会メニュー", "Agency console menu"),
    "agency.nav.affairs": ("事務を選ぶ", "Choose an affair"),
    "agency.nav.history": ("照会履歴・月別統計", "History and monthly statistics"),
    "agency.organisation": ("機関（端末の証明書）", "Organisation (terminal certificate)"),
    "agency.officer": ("職員", "Officer"),
    "agency.logout": ("サインアウト", "Sign out"),
    "agency.back": ("事務の選択に戻る", "Back to the affairs"),
    "agency.none": ("ありません。", "None."),
    "agency.case_number": ("事案番号（任意）", "Case number (optional)"),
    "agency.login.title": ("職員のサインイン", "Officer sign-in"),
    "agency.login.lead": (
        "この端末には機関のクライアント証明書が入っています。職員ご本人のIDとパスワードで"
        "サインインし、続けて職員カードで確認してください。",
        "This terminal holds the organisation's client certificate. Sign in with your own "
        "officer ID and password, then confirm with your officer card.",
    ),
    "agency.login.login": ("職員ID", "Officer ID"),
    "agency.login.password": ("パスワード", "Password"),
    "agency.login.submit": ("サインイン", "Sign in"),
    "agency.login.help": (
        "照会はすべて、機関名・職員・事務・事案番号とともにアクセス記録に残り、住民本人に開示されます。",
        "Every query is recorded with the organisation, officer, affair and case number, and "
        "disclosed to the resident concerned.",
    ),
    "agency.card.title": ("職員カードの確認", "Officer card"),
    "agency.card.lead": (
        "パスワードを確認しました。貸与された職員カード（セキュリティキー）を端末に挿し、"
        "ボタンを押してカードのPINを入力してください。",
        "Your password is checked. Insert the officer card (security key) lent to you, press "
        "the button and enter the card's PIN.",
    ),
    "agency.card.demo_enrol": (
        "デモ：この職員にはまだカードがありません。このブラウザのパスキーまたはセキュリティキーを"
        "職員カードとして登録します（本番では管理者が貸与します）。",
        "Demo: this officer has no card yet. The browser's passkey or security key is enrolled "
        "as the officer card (in production the administrator lends one).",
    ),
    "agency.card.submit": ("職員カードで確認する", "Verify with my card"),
    "agency.card.waiting": ("カードの応答を待っています…", "Waiting for the card…"),
    "agency.card.failed": (
        "カードが応答しませんでした。カードを挿し直してもう一度押してください。",
        "The card did not answer; insert it again and press the button once more.",
    ),
    "agency.card.cancel": ("やめてサインインに戻る", "Cancel and go back to sign-in"),
    "agency.home.title": ("事務を選ぶ", "Choose the affair"),
    "agency.home.lead": (
        "照会は事務ごとに行います。この機関に認められている事務だけが表示されます。",
        "Every query is made for one affair. Only the affairs granted to this organisation "
        "are listed.",
    ),
    "agency.home.granted": ("認められている事務", "Granted affairs"),
    "agency.home.choose": ("事務", "Affair"),
    "agency.home.open": ("この事務で照会する", "Query for this affair"),
    "agency.home.none": (
        "この機関に現在認められている事務はありません。",
        "No affair is granted to this organisation today.",
    ),
    "agency.col.affair_code": ("事務コード", "Affair code"),
    "agency.col.affair": ("事務", "Affair"),
    "agency.col.law": ("根拠法令", "Statute"),
    "agency.col.items": ("提供される情報", "Items provided"),
    "agency.col.code": ("住民票コード", "Resident code"),
    "agency.col.outcome": ("結果", "Outcome"),
    "agency.col.name": ("氏名", "Name"),
    "agency.col.birth_date": ("生年月日", "Date of birth"),
    "agency.col.address": ("住所", "Address"),
    "agency.col.match": ("一致の仕方", "How it matched"),
    "agency.col.score": ("得点", "Score"),
    "agency.col.job": ("一括照会", "Batch job"),
    "agency.col.status": ("状態", "Status"),
    "agency.col.rows": ("処理済み／行数", "Processed / rows"),
    "agency.col.created": ("受付日時", "Received"),
    "agency.col.month": ("月", "Month"),
    "agency.col.action": ("記録の種類", "Entry"),
    "agency.col.count": ("件数", "Count"),
    "agency.col.when": ("日時", "When"),
    "agency.col.channel": ("経路", "Channel"),
    "agency.col.reason": ("理由・根拠", "Reason or basis"),
    "agency.outcome.found": ("提供", "Provided"),
    "agency.outcome.not_found": ("該当なし", "Not found"),
    "agency.outcome.invalid": ("コード誤り", "Invalid code"),
    "agency.affair.title": ("照会", "Queries"),
    "agency.affair.items": ("この事務で提供される情報", "Items this affair is given"),
    "agency.results.title": ("照会結果", "Results"),
    "agency.results.logged": (
        "表示した住民ごとにアクセス記録を残しました。",
        "An access entry was recorded for every resident shown.",
    ),
    "agency.candidates.title": ("候補 {n} 件", "{n} candidates"),
    "agency.candidates.help": (
        "候補は統合しません。どの項目がどのように一致したかを確認して本人を特定してください。",
        "Candidates are never merged: check how each item matched before deciding who is meant.",
    ),
    "agency.candidates.none": ("候補はありません。", "No candidates."),
    "agency.lookup.title": ("住民票コードで照会", "Look up by resident code"),
    "agency.lookup.codes": (
        "住民票コード（1行に1件、100件まで）",
        "Resident codes (one a line, up to 100)",
    ),
    "agency.lookup.codes_help": (
        "それより多い場合は一括照会を使ってください。",
        "For more, upload a batch.",
    ),
    "agency.lookup.submit": ("照会する", "Look up"),
    "agency.search.title": ("基本4情報で照会", "Search by the four basic items"),
    "agency.search.name": ("氏名", "Name"),
    "agency.search.kana": ("氏名（カナ）", "Name (kana)"),
    "agency.search.birth_date": ("生年月日", "Date of birth"),
    "agency.search.sex": ("性別", "Sex"),
    "agency.search.address": ("住所（一部でも可）", "Address (partial allowed)"),
    "agency.search.submit": ("候補を探す", "Find candidates"),
    "agency.sex.male": ("男", "Male"),
    "agency.sex.female": ("女", "Female"),
    "agency.batch.title": ("一括照会", "Batch query"),
    "agency.batch.help": (
        "CSV（1行目は見出し: resident_code,ref など）または JSON Lines、UTF-8。"
        "壊れた行は行ごとのエラーになり、"
        "文字コードが UTF-8 でないファイルは受け付けません。",
        "CSV (first line the header: resident_code,ref …) or JSON lines, UTF-8. A broken line "
        "becomes that row's error; a file not in UTF-8 is refused.",
    ),
    "agency.batch.file": ("照会ファイル", "Batch file"),
    "agency.batch.kind": ("照会の種類", "Kind of query"),
    "agency.batch.kind.code": ("住民票コード", "By resident code"),
    "agency.batch.kind.four_items": ("基本4情報", "By the four basic items"),
    "agency.batch.format": ("形式", "Format"),
    "agency.batch.submit": ("送信する", "Upload"),
    "agency.batch.recent": ("この事務の最近の一括照会", "Recent batches for this affair"),
    "agency.batch.job_title": ("一括照会の状況", "Batch job"),
    "agency.batch.progress_title": ("進み具合", "Progress"),
    "agency.batch.progress": ("{done} / {total} 行を処理", "{done} of {total} rows answered"),
    "agency.batch.found": ("提供した行", "Rows provided"),
    "agency.batch.errors": ("エラーの行", "Rows in error"),
    "agency.batch.refresh": ("最新の状況を表示", "Show the latest progress"),
    "agency.batch.download_csv": ("結果をダウンロード（CSV）", "Download the results (CSV)"),
    "agency.batch.download_jsonl": (
        "結果をダウンロード（JSON Lines）",
        "Download the results (JSON lines)",
    ),
    "agency.batch.download_errors": (
        "エラーの行をダウンロード（CSV）",
        "Download the rows in error (CSV)",
    ),
    "agency.batch.download_logged": (
        "結果のダウンロードは、提供する住民ごとにアクセス記録に残ります。",
        "Downloading the results records an access entry for every resident provided.",
    ),
    "agency.status.queued": ("待機中", "Queued"),
    "agency.status.running": ("処理中", "Running"),
    "agency.status.done": ("完了", "Done"),
    "agency.status.failed": ("失敗", "Failed"),
    "agency.history.title": ("照会履歴・月別統計", "Query history and monthly statistics"),
    "agency.history.lead": (
        "このノードが記録した、この機関の照会です（住民票コードは表示しません）。",
        "This organisation's queries as this node recorded them (residents' codes are not shown).",
    ),
    "agency.history.monthly": ("月別統計", "Monthly statistics"),
    "agency.history.entries": (
        "最近の記録（新しい順、200件まで）",
        "Recent entries (newest first, up to 200)",
    ),
    "agency.action.read": ("提供", "Provided"),
    "agency.action.candidate": ("候補として提示", "Shown as a candidate"),
    "agency.action.refused": ("拒否", "Refused"),
    "agency.action.not_found": ("該当なし", "Not found"),
    "agency.error.title": ("照会できません", "The query was refused"),
    "agency.error.statute": ("この事務の法的根拠", "The affair's legal basis"),
    "agency.error.basis": ("根拠", "Basis"),
    "agency.error.recipient": ("提供を受けられる者", "Who may receive it"),
    "agency.error.recorded": (
        "この拒否はアクセス記録に残り、透明性レポートで公表されます。",
        "This refusal is recorded in the access log and published in the transparency report.",
    ),
}
