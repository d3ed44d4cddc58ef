"""One bilingual text catalogue (Japanese first, English) for the pages and the CLI.

Every label of the counter pages, the public transparency report, the disclosure and alert
pages, and the CLI's renderings of records lives in exactly one area module of this package,
merged into :data:`TEXTS` by :mod:`jukinet.web.i18n.catalogue`. The package imports nothing
of the web framework, so the CLI (above ``web`` in the layers) reads the same texts without
loading it.
"""

from jukinet.web.i18n.catalogue import TEXTS, DuplicateTextError, Pair, bilingual, texts_under
from jukinet.web.i18n.translator import DEFAULT_LANG, INSURANCE_FIELDS, LANGUAGES, Translator

__all__ = [
    "DEFAULT_LANG",
    "INSURANCE_FIELDS",
    "LANGUAGES",
    "TEXTS",
    "DuplicateTextError",
    "Pair",
    "Translator",
    "bilingual",
    "texts_under",
]
