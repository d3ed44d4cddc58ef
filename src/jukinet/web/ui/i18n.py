"""The counter pages' language: the switch's cookie, and the one catalogue's Translator.

The texts themselves live in :mod:`jukinet.web.i18n`, one bilingual catalogue for every page and
the CLI; this module keeps the names the pages import (``LABELS`` is that catalogue).
"""

from __future__ import annotations

from typing import Final

from fastapi import Request

from jukinet.web.i18n import DEFAULT_LANG, LANGUAGES, TEXTS, Translator

LANG_COOKIE: Final = "lang"
#: Every label: key -> (Japanese, English), the catalogue itself.
LABELS: Final = TEXTS

__all__ = ["DEFAULT_LANG", "LABELS", "LANGUAGES", "LANG_COOKIE", "Translator", "request_lang"]


def request_lang(request: Request) -> str:
    """The language chosen with the switch (a cookie); Japanese unless English was chosen."""
    lang = request.cookies.get(LANG_COOKIE, DEFAULT_LANG)
    return lang if lang in LANGUAGES else DEFAULT_LANG
