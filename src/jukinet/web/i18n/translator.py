"""The one Translator: texts of the catalogue, dates and enum names in one language.

Templates receive it as ``t`` and call ``t("key")``; a missing key shows the key itself, so a
gap is visible on screen rather than silently blank. A page with helpers of its own (numbers and
months on the transparency report) subclasses it instead of keeping a dictionary of its own.
Domain errors carry their own bilingual messages.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import date
from typing import Final

from jukinet.domain.errors import DomainError
from jukinet.domain.identity import ChangeReason
from jukinet.domain.register import Insurance, Relationship, Sex
from jukinet.domain.wareki import format_wareki
from jukinet.web.i18n.catalogue import TEXTS

#: The languages, Japanese first: the index of each text in a catalogue pair.
LANGUAGES: Final = ("ja", "en")
DEFAULT_LANG: Final = "ja"

#: The insurance and benefit items of a 住民票, in the order the record keeps them.
INSURANCE_FIELDS: Final = tuple(item.name for item in fields(Insurance))


class Translator:
    """The catalogue's texts, dates and enum names in one language."""

    def __init__(self, lang: str) -> None:
        self.lang = lang if lang in LANGUAGES else DEFAULT_LANG
        self._index = LANGUAGES.index(self.lang)

    def __call__(self, key: str, **values: object) -> str:
        """The text for ``key``, with ``{name}`` placeholders filled from ``values``."""
        pair = TEXTS.get(key)
        text = key if pair is None else pair[self._index]
        return text.format(**values) if values else text

    def has(self, key: str) -> bool:
        """Whether the catalogue has a text for ``key``."""
        return key in TEXTS

    def join(self, items: list[str]) -> str:
        """Items listed in one line: ``、`` between them in Japanese, ``, `` in English."""
        return ("、" if self.lang == "ja" else ", ").join(items)

    def date(self, value: date | None) -> str:
        """A date in 和暦 (Japanese) or with the era in brackets (English); ``—`` for none."""
        if value is None:
            return "—"
        try:
            return format_wareki(value, lang=self.lang)
        except DomainError:  # before 明治: no era to show
            return value.isoformat()

    def sex(self, value: Sex) -> str:
        """男/女 or male/female."""
        return self(f"sex.{value.value}")

    def relationship(self, value: Relationship) -> str:
        """The 続柄 as printed on a 住民票, or its English name."""
        return self(f"relationship.{value.value}")

    def reason(self, value: ChangeReason | None) -> str:
        """A change reason (e.g. why a record was removed)."""
        if value is None:
            return "—"
        return value.label_ja if self.lang == "ja" else value.label_en

    def event(self, kind: str) -> str:
        """An event kind of the history (``move_in`` → 転入)."""
        return self(f"event.{kind}")

    def insurance(self, insurance: Insurance) -> list[str]:
        """The names of the insurance and benefit items a resident has, in record order."""
        return [self(f"insurance.{name}") for name in INSURANCE_FIELDS if getattr(insurance, name)]

    def error(self, error: DomainError) -> str:
        """A domain error's message in this language."""
        return error.message(self.lang)
