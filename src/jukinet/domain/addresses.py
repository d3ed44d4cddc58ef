"""A registered address (住所): the one rule the counter and every tier above it apply.

Bounded, non-empty, and free of what never belongs in an address and could do harm where it is
shown or exported: control characters (NUL, line breaks, DEL, the Unicode line and paragraph
separators) and markup brackets. An address a municipality registers for its own residents must
also lie in that municipality (:func:`check_in_municipality`).
"""

from __future__ import annotations

import unicodedata
from typing import Final

from jukinet.domain.errors import ValidationError
from jukinet.domain.municipality import Municipality

MAX_ADDRESS_LENGTH: Final = 200
#: Markup brackets: an address is plain text, and ``<``/``>`` in one is an injection attempt.
_MARKUP: Final = frozenset("<>")


def _forbidden(character: str) -> bool:
    # Cc: C0/C1 controls and DEL; Zl/Zp: U+2028/U+2029, line breaks in disguise.
    return unicodedata.category(character) in {"Cc", "Zl", "Zp"} or character in _MARKUP


def validate_address(value: str, *, field: str = "address") -> str:
    """The address stripped of surrounding blanks, or a ``ValidationError`` naming ``field``."""
    text = value.strip()
    if not text:
        raise ValidationError(
            "JUKI-REG-001",
            ja="住所を入力してください。",
            en="The address is required.",
            field=field,
        )
    if len(text) > MAX_ADDRESS_LENGTH or any(_forbidden(c) for c in text):
        raise ValidationError(
            "JUKI-REG-002",
            ja=f"住所は{MAX_ADDRESS_LENGTH}文字以内で、制御文字や記号 < > を含めないでください。",
            en=f"The address must be at most {MAX_ADDRESS_LENGTH} characters, without control "
            "characters or < >.",
            field=field,
        )
    return text


def check_in_municipality(
    address: str, municipality: Municipality, *, field: str = "address"
) -> str:
    """``address`` when it lies in ``municipality``: it starts with the municipality's name,
    with or without the prefecture (東京都西東京市泉町… or 西東京市泉町…)."""
    if address.startswith((municipality.full_name, municipality.name)):
        return address
    raise ValidationError(
        "JUKI-REG-043",
        ja=f"住所は{municipality.full_name}内の住所を"
        f"「{municipality.full_name}」から入力してください。",
        en=f"The address must lie in {municipality.full_name} and start with its name.",
        field=field,
    )
