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
    "certificate.verify.printed": ("印字されている事項", "What the certificate prints"),
    "certificate.verify.missing": (
        "PDFを選ぶか、二次元コードの内容を入力してください。",
        "Choose a PDF or enter the QR code's text.",
    ),
}
