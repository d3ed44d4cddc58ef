"""Texts of the resident portal (住民ポータル): sign-in, my information, requests, the
counter's queue of portal requests."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

#: key -> (Japanese, English)
TEXTS: Final[Mapping[str, tuple[str, str]]] = {
    "portal.title": ("住民ポータル", "Resident portal"),
    "portal.skip": ("本文へ移動", "Skip to content"),
    "portal.lang_switch": ("English", "日本語"),
    "portal.sign_in.title": ("住民基本台帳カードでサインイン", "Sign in with your resident card"),
    "portal.sign_in.lead": (
        "カードリーダーにカードを置き、パソコンで次のコマンドを実行して暗証番号（4桁）を"
        "入力してください。表示された10文字のワンタイムコードを下の欄に入力します"
        "（有効期限5分・1回限り）。",
        "Put your card on the card reader, run the command below on your computer and enter "
        "your 4-digit PIN. Type the 10-character one-time code it prints into the field below "
        "(valid five minutes, once).",
    ),
    "portal.sign_in.code": ("ワンタイムコード", "One-time code"),
    "portal.sign_in.code_hint": ("例: ABCDE-FGH23", "e.g. ABCDE-FGH23"),
    "portal.sign_in.submit": ("サインイン", "Sign in"),
    "portal.sign_in.why": (
        "暗証番号はカードの中でだけ照合され、このページには入力しません。",
        "Your PIN is checked inside the card only; you never type it into this page.",
    ),
    "portal.sign_out": ("サインアウト", "Sign out"),
    "portal.ended.card_stopped": (
        "カードが一時停止または無効になったため、サインアウトしました。",
        "Your card was suspended or is no longer valid, so you were signed out.",
    ),
    "portal.ended.signed_out": ("サインアウトしました。", "You have signed out."),
    "portal.ended.card_lost": (
        "紛失届を受け付け、カードを一時停止しました。サインアウトしました。再開は窓口で"
        "本人確認のうえ行います。",
        "Your loss report was received and the card suspended; you were signed out. The card "
        "is resumed in person at the counter.",
    ),
    "portal.nav.me": ("わたしの情報", "My information"),
    "portal.nav.requests": ("申請", "Requests"),
    "portal.me.title": ("わたしの本人確認情報", "My identity information"),
    "portal.me.lead": (
        "市区町村・都道府県・全国センターがそれぞれ保有しているあなたの本人確認情報です。"
        "違いがある項目には印を付けています。",
        "The identity information your municipality, prefecture and the national centre each "
        "hold about you. Items that differ are marked.",
    ),
    "portal.me.item": ("項目", "Item"),
    "portal.tier.municipality": ("市区町村", "Municipality"),
    "portal.tier.prefecture": ("都道府県", "Prefecture"),
    "portal.tier.national": ("全国センター", "National centre"),
    "portal.me.not_held": ("（保有なし）", "(not held)"),
    "portal.me.differs": ("相違あり", "differs"),
    "portal.me.no_difference": ("すべての階層で同じ内容です。", "Every tier holds the same items."),
    "portal.me.unavailable": ("確認できませんでした: {why}", "Could not be checked: {why}"),
    "portal.field.family_name": ("氏", "Family name"),
    "portal.field.given_name": ("名", "Given name"),
    "portal.field.family_name_kana": ("氏（カナ）", "Family name (kana)"),
    "portal.field.given_name_kana": ("名（カナ）", "Given name (kana)"),
    "portal.field.birth_date": ("生年月日", "Date of birth"),
    "portal.field.sex": ("性別", "Sex"),
    "portal.field.address": ("住所", "Address"),
    "portal.log.title": ("わたしの情報を見た記録", "Who looked at my data"),
    "portal.log.lead": (
        "3つの階層の記録（アクセスログ）を1つにまとめ、新しい順に表示しています。各記録は"
        "署名・第三者の副署付きのツリーヘッドに対する包含証明で検証されます（サーバーと、"
        "このブラウザの両方で）。",
        "The records (access logs) of all three tiers in one list, newest first. Each entry is "
        "checked by its inclusion proof against its tier's signed, witnessed tree head — by the "
        "server and again in this browser.",
    ),
    "portal.log.count": ("{count}件", "{count} entries"),
    "portal.log.when": ("日時", "Date"),
    "portal.log.method": ("方法", "Method"),
    "portal.log.reason": ("理由", "Reason"),
    "portal.log.affair": ("事務（根拠法令）", "Affair (statute)"),
    "portal.log.source": ("提供元", "Source"),
    "portal.log.recipient": ("提供先", "Recipient"),
    "portal.log.items": ("項目", "Items"),
    "portal.log.proof": ("検証", "Proof"),
    "portal.log.server_ok": ("サーバー検証済", "verified by server"),
    "portal.log.server_bad": ("検証失敗", "verification failed"),
    "portal.log.browser_pending": ("ブラウザ検証中…", "checking in browser…"),
    "portal.log.browser_ok": ("ブラウザ検証済", "verified in browser"),
    "portal.log.browser_bad": ("ブラウザ検証失敗", "browser check failed"),
    "portal.log.heads": ("検証に用いたツリーヘッド", "Tree heads the proofs were checked against"),
    "portal.log.head_line": (
        "{node}: {size}件、ルート {root}…、副署 {witnesses}",
        "{node}: {size} entries, root {root}…, witnessed by {witnesses}",
    ),
    "portal.log.no_witness": ("なし", "none"),
    "portal.log.download_csv": ("CSVでダウンロード", "Download CSV"),
    "portal.log.download_pdf": ("PDFでダウンロード", "Download PDF"),
    "portal.log.download_json": (
        "証明書類（JSON）をダウンロード",
        "Download the proof documents (JSON)",
    ),
    "portal.log.check_hint": (
        "ダウンロードした証明書類は jukinet audit check-proof でも検証できます。",
        "A downloaded proof document can also be checked with jukinet audit check-proof.",
    ),
    "portal.requests.title": ("申請", "Requests"),
    "portal.requests.lead": (
        "申請は窓口の処理待ちに登録され、結果がここに表示されます。カードの紛失届は"
        "すぐにカードを一時停止し、サインアウトします。",
        "Requests join the counter's queue; their outcome is shown here. A card loss report "
        "suspends the card at once and signs you out.",
    ),
    "portal.requests.kind": ("申請の種類", "Kind of request"),
    "portal.requests.note": ("備考（任意・200文字以内）", "Note (optional, up to 200 characters)"),
    "portal.requests.submit": ("申請する", "Send request"),
    "portal.requests.mine": ("これまでの申請", "Your requests"),
    "portal.requests.none": ("申請はありません。", "No requests yet."),
    "portal.requests.opt_out_closed": (
        "この市区町村では通知の選択（オプトアウト）を受け付けていません。",
        "This municipality does not let residents opt out.",
    ),
    "portal.requests.filed": ("申請を受け付けました。", "Your request was received."),
    "portal.kind.code_change": ("住民票コードの変更", "Resident-code change"),
    "portal.kind.card_loss": (
        "カードの紛失届（すぐに一時停止）",
        "Card loss report (suspends now)",
    ),
    "portal.kind.opt_out": (
        "上位への通知の停止（オプトアウト）",
        "Opt out of upstream notification",
    ),
    "portal.kind.opt_in": ("上位への通知の再開", "Opt back in to upstream notification"),
    "portal.status.queued": ("受付待ち", "Waiting"),
    "portal.status.done": ("完了", "Done"),
    "portal.status.refused": ("不可", "Refused"),
    "portal.outcome.card_suspended": ("カードを一時停止しました", "Card suspended"),
    "portal.task.created": ("申請日時", "Sent"),
    "portal.task.outcome": ("結果", "Outcome"),
    "portal.error.title": ("エラー", "Error"),
    "portal.queue.title": ("住民ポータルからの申請", "Requests from the resident portal"),
    "portal.queue.lead": (
        "住民がポータルから送った申請です。窓口で手続きを行ったうえで結果を記録してください"
        "（結果は住民のポータルに表示されます）。",
        "Requests residents sent from the portal. Carry out the procedure at the counter, then "
        "record the outcome (the resident sees it in the portal).",
    ),
    "portal.queue.number": ("番号", "No."),
    "portal.queue.resident": ("住民票コード（一部）", "Resident code (masked)"),
    "portal.queue.decide": ("結果を記録", "Record outcome"),
    "portal.queue.empty": ("申請はありません。", "No requests."),
    # The item a tier's portal answer names beside the access log (web/ui/disclosure.py).
    "disclosure.item.identity": ("本人確認情報", "identity information"),
}
