"""Texts of the certificate pages: issuing a copy at the counter, and the public check."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

#: key -> (Japanese, English)
TEXTS: Final[Mapping[str, tuple[str, str]]] = {
    "certificate.title": ("証明書の交付", "Issue a certificate"),
    "certificate.lead": (
        "本人確認のうえ、交付する証明書と記載事項を選んでください。PDFをダウンロードして印刷します。",
        "After checking the applicant's identity, choose the certificate and its items. "
        "The PDF downloads for printing.",
    ),
    "certificate.kind": ("証明書の種類", "Certificate"),
    "certificate.kind.resident_copy": ("住民票の写し", "Copy of the resident record"),
    "certificate.kind.removed_copy": ("除票の写し", "Copy of a removed record"),
    "certificate.kind.items_statement": (
        "住民票記載事項証明書",
        "Statement of registered items",
    ),
    "certificate.household": ("世帯全員", "Whole household"),
    "certificate.with_relationship": ("続柄を記載する", "Print the relationship"),
    "certificate.with_code": ("住民票コードを記載する", "Print the resident code"),
    "certificate.with_domicile": ("本籍・筆頭者を記載する", "Print the domicile"),
    "certificate.optional_note": (
        "続柄・住民票コード・本籍は、請求者が求めた場合に限り記載します。",
        "The relationship, resident code and domicile are printed only when asked for.",
    ),
    "certificate.submit": ("交付してPDFを作成", "Issue and download the PDF"),
    "certificate.link": ("証明書の交付", "Issue a certificate"),
    "certificate.verify.title": ("証明書の真正性の確認", "Check a certificate"),
    "certificate.verify.lead": (
        "お手元の証明書のPDF、または証明書の二次元コードの内容で、真正なもので改ざんされて"
        "いないか、発行後に変更がないかを確認できます。表示されるのは証明書に印字された事項のみです。",
        "Check a certificate's PDF, or the text of its QR code: whether it is genuine and "
        "unaltered, and whether the record has changed since. Only what the certificate prints "
        "is shown.",
    ),
    "certificate.verify.file": ("証明書のPDF", "The certificate's PDF"),
    "certificate.verify.code": ("二次元コードの内容", "The QR code's text"),
    "certificate.verify.code_hint": (
        "JUKINET-CERT: で始まる文字列",
        "The text starting with JUKINET-CERT:",
    ),
    "certificate.verify.submit": ("確認する", "Check"),
    "certificate.verify.genuine": ("真正", "Genuine"),
    "certificate.verify.not_genuine": ("確認できません", "Cannot be confirmed"),
    "certificate.verify.superseded": ("発行後に変更あり", "Superseded by a later change"),
    "certificate.verify.ask_home": (
        "広域交付の写し：発行後の変更の有無は住所地の市区町村へ",
        "Wide-area copy: ask the home municipality whether it changed since",
    ),
    "certificate.verify.printed": ("印字されている事項", "What the certificate prints"),
    "certificate.verify.missing": (
        "PDFを選ぶか、二次元コードの内容を入力してください。",
        "Choose a PDF or enter the QR code's text.",
    ),
    "wide_area.title": ("住民票の写しの広域交付", "Wide-area copy of a resident record"),
    "wide_area.lead": (
        "他の市区町村に住所のある方の住民票の写しを、住所地の市区町村に照会して交付します。"
        "住民基本台帳カード（暗証番号をカードに入力）または写真付き本人確認書類で本人を確認して"
        "ください。本籍は記載できません。",
        "Issue a copy of the record of someone registered in another municipality, asked of the "
        "home municipality over the network. Identify the resident by their resident card (PIN "
        "entered on the card) or a photo ID. The domicile is never printed.",
    ),
    "wide_area.identification": ("本人確認の方法", "Identified by"),
    "wide_area.identification.card": (
        "住民基本台帳カード（暗証番号）",
        "Resident card (PIN)",
    ),
    "wide_area.identification.photo_id": ("写真付き本人確認書類", "Photo ID"),
    "wide_area.card_serial": ("カード番号", "Card serial"),
    "wide_area.pin": ("暗証番号（本人がPINパッドで入力）", "PIN (entered by the resident)"),
    "wide_area.home_municipality_code": (
        "住所地の市区町村コード（6桁）",
        "Home municipality code (6 digits)",
    ),
    "wide_area.id_document": ("本人確認書類", "Photo ID shown"),
    "wide_area.name": ("書類の氏名", "Name on the ID"),
    "wide_area.birth_date": ("書類の生年月日", "Birth date on the ID"),
    "wide_area.address": ("書類の住所", "Address on the ID"),
    "wide_area.submit": ("住所地に照会して交付", "Ask the home municipality and issue"),
    "wide_area.link": ("広域交付", "Wide-area copy"),
}
