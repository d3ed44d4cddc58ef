"""Affairs as published: statutory codes and their wording, never text a caller typed."""

from __future__ import annotations

from typing import Final

from jukinet.data.affairs import statutory_affairs
from jukinet.domain.affairs import parse_affair_code
from jukinet.domain.errors import DomainError

__all__ = ["INVALID_AFFAIR", "affair_title"]

#: What a malformed affair code is published as. A refused query's affair code is whatever the
#: client sent (printable, at most 20 characters): it is published only once it parses as a
#: statutory code, so no arbitrary text a caller typed ends up on a public page.
INVALID_AFFAIR: Final = "invalid"


def _public_affair_code(code: str | None) -> str | None:
    """The canonical statutory code, :data:`INVALID_AFFAIR` for anything else, ``None`` if none."""
    if code is None:
        return None
    try:
        return parse_affair_code(code)
    except DomainError:
        return INVALID_AFFAIR


def affair_title(code: str | None, *, lang: str = "ja") -> str:
    """The statutory wording of affair ``code``; the code itself for a code no table lists, and
    an empty string for no code.

    Never raises: a report must show an affair that has since left the catalogue.
    """
    if code is None:
        return ""
    if code == INVALID_AFFAIR:
        return "（形式が正しくない事務コード）" if lang == "ja" else "(malformed affair code)"
    affair = statutory_affairs().get(code)
    return affair.affair if affair is not None else code
