"""Texts of the card move (転入転出の特例): the move-out in advance, the move-in with the card."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

#: key -> (Japanese, English)
TEXTS: Final[Mapping[str, tuple[str, str]]] = {
    "actions.card_move_out": ("転出届（カードによる特例）", "Move-out with the card (card move)"),
    "card_move.out_title": ("転出届（転入転出の特例）", "Move-out in advance with the card"),
    "card_move.out_hint": (
        "住基カードをお持ちの方の転出届です。転出証明書は交付しません。転入先の市区町村で"
        "カードと暗証番号により転入届をしてください（転出予定日から30日以内、転入した日から"
        "14日以内のいずれか早い日まで）。国外への転出は対象外です。",
        "For a card holder: no paper move-out certificate is issued. The resident files the "
        "move-in at the new municipality with the card and its PIN (by the earlier of 30 days "
        "after the planned date and 14 days after moving in). Not for moves abroad.",
    ),
    "card_move.holder": ("カード所持者", "Card holder"),
    "card_move.members": (
        "一緒に転出する世帯員（カードをお持ちでない方）",
        "Household members moving with the holder (without a card)",
    ),
    "card_move.no_members": ("他に世帯員はいません。", "No other household members."),
    "card_move.destination_code": ("転出先の市区町村コード", "Destination municipality code"),
    "card_move.channel": ("届出の方法", "How it was filed"),
    "card_move.channel.counter": ("窓口", "At the counter"),
    "card_move.channel.post": ("郵送", "By post"),
    "card_move.insurance_note": ("国保・年金等の記載事項", "Insurance and pension items"),
    "card_move.out_submit": ("転出予定として受け付ける", "Accept the planned move-out"),
    "card_move.in_title": ("転入届（カードによる特例）", "Move-in with the card"),
    "card_move.in_hint": (
        "住民の方にカードを読み取り機に置いていただき、暗証番号を入力していただきます。"
        "転出元の市区町村から転出証明書情報を取得して転入を記載します。",
        "The resident places the card on the reader and enters the PIN; the move-out "
        "information is pulled from the old municipality and the move-in registered.",
    ),
    "card_move.serial": ("カード番号", "Card serial"),
    "card_move.pin": ("暗証番号（読み取り機で入力）", "PIN (entered on the PIN pad)"),
    "card_move.moved_in_on": ("転入日（実際に住み始めた日）", "Moved in on"),
    "card_move.household_number": (
        "既存の世帯に入る場合の世帯番号",
        "Household number (to join an existing household)",
    ),
    "card_move.continue_card": (
        "住基カードを継続利用する（90日以内）",
        "Continue the card here (within 90 days)",
    ),
    "card_move.in_link": (
        "住基カードをお持ちの方の転入（転入転出の特例）はこちら",
        "A card holder moving in with the card (card move)",
    ),
    "card_move.continue_link": (
        "転入済みの方のカードの継続利用はこちら",
        "Continue the card of a resident who has moved in",
    ),
    "card_move.in_submit": ("転入届を受け付ける", "Accept the move-in"),
    "card_move.continue_title": ("住基カードの継続利用", "Continue a card that moved in"),
    "card_move.continue_submit": ("継続利用の手続きをする", "Continue the card"),
    "card_move.continued": (
        "カードの継続利用の手続きが完了しました。",
        "The card is continued here.",
    ),
    "done.card_move_out": (
        "転出届（特例）を受け付けました。転入通知が届くまで記載は残ります。",
        "The move-out with the card is filed; the record stays until the move-in notice.",
    ),
    "done.card_move_in": (
        "転入届（特例）を受け付けました。",
        "The move-in with the card has been registered.",
    ),
    "event.card_move_out_planned": ("転出予定（特例）", "Planned move-out (card move)"),
    "event.card_move_in": ("転入（特例）", "Move-in (card move)"),
}
