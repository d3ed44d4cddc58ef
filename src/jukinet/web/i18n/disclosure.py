"""Texts of the disclosure page (提供状況の開示), shown to a resident at the counter."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

#: key -> (Japanese, English)
TEXTS: Final[Mapping[str, tuple[str, str]]] = {
    "disclosure.title": (
        "本人確認情報の提供状況の開示",
        "Disclosure of identity-information provision",
    ),
    "disclosure.lead": (
        "住民本人の請求により、その方の本人確認情報について、いつ、どの方法で、どの理由・事務の"
        "ために、どこから誰に、どの情報が提供されたか（提供状況）を開示します。記録は{years}年間"
        "保存されます。",
        "On a resident's own request, show when, how, why and for which affair their identity "
        "information was provided, from where, to whom, and which items. Records are kept for "
        "{years} years.",
    ),
    "disclosure.id_note_title": ("本人確認をしてください", "Check the resident's identity first"),
    "disclosure.id_note": (
        "請求者に本人確認書類（マイナンバーカード・住民基本台帳カード・運転免許証・旅券など）を"
        "提示してもらい、本人であることを確認してから、その方ご自身の住民票コードを入力して"
        "ください。開示した事実も記録され、一覧に含まれます。",
        "Ask the resident to show an identity document (My Number card, resident card, driving "
        "licence, passport…) and confirm they are who they say before entering their own "
        "resident code. The disclosure itself is recorded and appears in the list.",
    ),
    "disclosure.code": ("住民票コード", "Resident code"),
    "disclosure.code_hint": (
        "請求者本人の11桁の住民票コード（全角数字も可）",
        "The requesting resident's own 11-digit code (full-width digits are accepted)",
    ),
    "disclosure.submit": ("開示する", "Disclose"),
    "disclosure.result": ("提供状況", "Provision record"),
    "disclosure.result_for": (
        "住民票コード {code} の提供状況",
        "Provision record for resident code {code}",
    ),
    "disclosure.count": ("{n}件", "{n} entries"),
    "disclosure.issued": ("開示日時", "Disclosed at"),
    "disclosure.none": ("記録はありません。", "There are no entries."),
    "disclosure.col.position": ("記録番号", "Entry"),
    "disclosure.col.when": ("日時（日本時間）", "Date and time (Japan)"),
    "disclosure.col.action": ("内容", "What happened"),
    "disclosure.col.method": ("提供方法", "Method"),
    "disclosure.col.reason": ("理由", "Reason"),
    "disclosure.col.affair": ("事務", "Affair"),
    "disclosure.col.source": ("提供元", "Source"),
    "disclosure.col.recipient": ("提供先", "Recipient"),
    "disclosure.col.items": ("提供した情報", "Items provided"),
    "disclosure.action.read": ("提供（参照）", "Provided (read)"),
    "disclosure.action.write": ("記載・更新", "Written"),
    "disclosure.action.candidate": ("検索候補として表示", "Shown as a search candidate"),
    "disclosure.action.refused": ("照会を拒否（提供なし）", "Query refused (nothing provided)"),
    "disclosure.action.not_found": ("該当なし（提供なし）", "Not found (nothing provided)"),
    "disclosure.action.retention": ("保存期間経過による削除", "Deleted after the retention period"),
    "disclosure.kind.operator": ("職員 (operator)", "Staff (operator)"),
    "disclosure.kind.recipient": ("提供先機関 (recipient)", "Recipient body"),
    "disclosure.kind.node": ("他のノード", "Another node"),
    "disclosure.kind.system": ("システム", "System"),
    "disclosure.item.record": ("住民票", "resident record"),
    "disclosure.item.history": ("住民票の履歴", "record history"),
    "disclosure.item.household": ("世帯", "household"),
    "disclosure.item.search_result": ("検索結果", "search result"),
    "disclosure.item.access_log": ("提供状況（アクセスログ）", "provision record (access log)"),
    "disclosure.item.none": ("（なし）", "(none)"),
    # A wide-area copy (広域交付): the item and the reasons its services record
    # (services/certificates/wide_area*.py: "wide-area:<outcome> <detail>").
    "disclosure.item.wide_area_copy": (
        "住民票の写しの広域交付",
        "wide-area copy of the resident record",
    ),
    "disclosure.reason.wide-area:issued": (
        "広域交付：住民票の写しを交付（交付番号 {detail}）",
        "Wide-area copy: issued (serial {detail})",
    ),
    "disclosure.reason.wide-area:answered": (
        "広域交付：{detail}からの請求に回答",
        "Wide-area copy: answered the request of {detail}",
    ),
    "disclosure.reason.wide-area:refused": (
        "広域交付：交付せず（{detail}）",
        "Wide-area copy: refused ({detail})",
    ),
    "disclosure.case_number": ("事案番号", "Case number"),
    "disclosure.head": ("署名付きツリーヘッド", "Signed tree head"),
    "disclosure.head_lead": (
        "各記録は、このノードが署名した次のツリーヘッドに含まれることが証明されています。",
        "Each entry is proved to be in the log covered by this head, signed by the node.",
    ),
    "disclosure.head.signer": ("署名したノード", "Signed by"),
    "disclosure.head.size": ("記録の総数（ツリーの大きさ）", "Entries in the log (tree size)"),
    "disclosure.head.root": ("ルートハッシュ", "Root hash"),
    "disclosure.head.timestamp": ("署名日時", "Signed at"),
    "disclosure.head.key": ("署名鍵の指紋（SHA-256）", "Signing key fingerprint (SHA-256)"),
    "disclosure.download": (
        "証明用ファイル（JSON）をダウンロード",
        "Download the proof document (JSON)",
    ),
    "disclosure.download_note": (
        "ダウンロードも開示として記録されるため、ファイルには記録が1件多く含まれます。",
        "The download is recorded as a disclosure too, so the file holds one more entry.",
    ),
    "disclosure.check": ("検証の方法", "How to check it"),
    "disclosure.check_key": (
        "このノードの公開鍵（公表ページにも掲載）:",
        "This node's public key (also on the transparency page):",
    ),
    "disclosure.check_text": (
        "本人は、このノードが公表している公開鍵（またはネットワークCA証明書）を使い、"
        "次のコマンドで各記録の包含証明と署名を検証できます。指紋が公表値と一致することも"
        "確認してください。",
        "The resident can check every entry's inclusion proof and the head's signature with "
        "the node's published public key (or the network CA certificate), and should compare "
        "the fingerprint above with the published one.",
    ),
    "disclosure.reason.窓口業務": ("窓口業務", "Counter business"),
    "disclosure.reason.本人確認情報の提供状況の開示請求": (
        "本人確認情報の提供状況の開示請求",
        "Request for disclosure of the provision record",
    ),
}
