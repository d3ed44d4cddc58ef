"""The one bilingual text catalogue: every area's texts merged into :data:`TEXTS`.

Each area module (counter frame, register, notification forms, delivery ledger, access log,
transparency report, disclosure, insider alerts) defines its own ``TEXTS``: namespaced keys →
``(Japanese, English)``. They are merged here, and a key defined by two areas stops the import:
every text has exactly one home, so a label cannot differ between two pages, or between a page
and the CLI.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Final

from jukinet.web.i18n import (
    access_log,
    agency,
    alerts,
    card_move,
    card_services,
    certificates,
    console,
    counter,
    disclosure,
    emergency,
    filings,
    network,
    participation,
    portal,
    register,
    resident_cards,
    security,
    transparency,
)

#: A text in both languages: ``(Japanese, English)``.
Pair = tuple[str, str]

#: The areas, by name (the name only appears in the error for a key defined twice).
AREAS: Final[Mapping[str, Mapping[str, Pair]]] = {
    "counter": counter.TEXTS,
    "register": register.TEXTS,
    "filings": filings.TEXTS,
    "network": network.TEXTS,
    "participation": participation.TEXTS,
    "emergency": emergency.TEXTS,
    "access_log": access_log.TEXTS,
    "transparency": transparency.TEXTS,
    "disclosure": disclosure.TEXTS,
    "alerts": alerts.TEXTS,
    "security": security.TEXTS,
    "card_services": card_services.TEXTS,
    "certificates": certificates.TEXTS,
    "resident_cards": resident_cards.TEXTS,
    "agency": agency.TEXTS,
    "card_move": card_move.TEXTS,
    "console": console.TEXTS,
    "portal": portal.TEXTS,
}


class DuplicateTextError(ValueError):
    """Two areas define the same key: the catalogue would have two homes for one text."""


def merge(areas: Iterable[tuple[str, Mapping[str, Pair]]]) -> dict[str, Pair]:
    """The areas' texts as one mapping; raises :class:`DuplicateTextError` on a repeated key."""
    merged: dict[str, Pair] = {}
    owner: dict[str, str] = {}
    for area, texts in areas:
        for key, pair in texts.items():
            if key in owner:
                raise DuplicateTextError(
                    f"text {key!r} is defined in both {owner[key]!r} and {area!r}"
                )
            owner[key] = area
            merged[key] = pair
    return merged


#: Every text of the pages and the CLI: key -> (Japanese, English). Read-only.
TEXTS: Final[Mapping[str, Pair]] = MappingProxyType(merge(AREAS.items()))


def texts_under(prefix: str) -> dict[str, Pair]:
    """The texts whose key is ``prefix.<name>``, by ``name``, in catalogue order.

    ``texts_under("event")`` gives ``{"birth": ("出生", "Birth"), ...}``.
    """
    start = f"{prefix}."
    return {key[len(start) :]: pair for key, pair in TEXTS.items() if key.startswith(start)}


def bilingual(key: str, separator: str = " / ") -> str:
    """Both languages side by side, Japanese first (``出生 / Birth``): how the CLI labels."""
    japanese, english = TEXTS[key]
    return f"{japanese}{separator}{english}"
