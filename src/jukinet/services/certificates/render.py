"""The certificate as a PDF: the signed content laid out with Jinja2, drawn by WeasyPrint in
the certificate font, with a QR code (segno) carrying the serial and the signature."""

from __future__ import annotations

import base64
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

from jukinet.domain.certificates import refuse_unprintable, unprintable
from jukinet.services.certificates.font import font_coverage

QR_PREFIX = "JUKINET-CERT"


@lru_cache(maxsize=1)
def _template() -> jinja2.Template:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("jukinet.services.certificates", "templates"),
        autoescape=True,
    )
    return environment.get_template("certificate.html")


def qr_payload(serial: str, signature: bytes) -> str:
    """What the QR code says: ``JUKINET-CERT:<serial>:<signature, base64url>``."""
    encoded = base64.urlsafe_b64encode(signature).decode("ascii").rstrip("=")
    return f"{QR_PREFIX}:{serial}:{encoded}"


def printed_text(content: dict[str, Any]) -> str:
    """Every piece of text the certificate prints (for the font check)."""
    parts: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, str):
            parts.append(value)

    walk(content)
    return "".join(parts)


def check_printable(content: dict[str, Any], font: Path) -> None:
    """Refuse (JUKI-CERT-010, naming each character) what the font cannot draw exactly."""
    covered, sequences = font_coverage(font)
    refuse_unprintable(unprintable(printed_text(content), covered, sequences))


def render_pdf(content: dict[str, Any], signature: bytes, *, font: Path) -> bytes:
    """The certificate's PDF."""
    import segno
    from weasyprint import HTML

    qr = segno.make(qr_payload(str(content["serial"]), signature), error="m")
    html = _template().render(
        content=content,
        qr=qr.svg_data_uri(scale=4),
        font_url=font.resolve().as_uri(),
    )
    pdf: bytes = HTML(string=html).write_pdf()
    return pdf
