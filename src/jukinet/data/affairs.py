"""The statutory affairs shipped with the package, and a few example recipients.

An adapter: it reads ``statutory_affairs_2012.csv`` (appended tables 1–5 of the Basic Resident
Registers Act as amended to 2012, 228 rows) through :mod:`importlib.resources` and hands out the
pure objects of :mod:`jukinet.domain.affairs`. The statutory wording is served exactly as shipped;
rows the 2012 text marks 削除 (deleted) are absent on purpose (docs/affairs.md).
"""

from __future__ import annotations

import csv
import functools
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from importlib import resources
from types import MappingProxyType
from typing import Final

from jukinet.domain.affairs import (
    AffairRegistry,
    IdentityItem,
    ItemPolicy,
    Recipient,
    RecipientType,
    StatutoryAffair,
    UnknownAffair,
    index_affairs,
    parse_affair_code,
)

__all__ = [
    "AFFAIR_ITEM_OVERRIDES",
    "SEED_RECIPIENTS",
    "SeedRecipient",
    "affairs_in_table",
    "find_affairs",
    "get_affair",
    "item_policy",
    "seed_registry",
    "statutory_affairs",
]

_CSV_NAME: Final = "statutory_affairs_2012.csv"
_CSV_COLUMNS: Final = ("table", "row", "recipient", "affair")

#: Per-affair item lists, overriding :data:`~jukinet.domain.affairs.DEFAULT_AFFAIR_ITEMS`.
#: Empty on purpose: the real lists are in a ministerial ordinance (総務省令) that is not in our
#: data, so every affair gets the default (four basic items, resident code, change information).
AFFAIR_ITEM_OVERRIDES: Final[Mapping[str, frozenset[IdentityItem]]] = MappingProxyType({})


@functools.cache
def statutory_affairs() -> Mapping[str, StatutoryAffair]:
    """Every affair of appended tables 1–5, keyed by code, in statutory order (read-only).

    Raises ``RuntimeError`` if the shipped file is malformed and
    :class:`~jukinet.domain.affairs.DuplicateAffairCode` if two rows share a code.
    """
    text = resources.files("jukinet.data").joinpath(_CSV_NAME).read_text(encoding="utf-8")
    reader = csv.DictReader(io.StringIO(text))
    if tuple(reader.fieldnames or ()) != _CSV_COLUMNS:
        raise RuntimeError(f"{_CSV_NAME} has unexpected columns: {reader.fieldnames}")
    affairs: list[StatutoryAffair] = []
    for line, row in enumerate(reader, start=2):
        try:
            table = int(row["table"])
        except (TypeError, ValueError):
            raise RuntimeError(f"{_CSV_NAME} line {line}: bad table {row['table']!r}") from None
        affairs.append(
            StatutoryAffair.from_statute(
                table=table, row=row["row"], recipient=row["recipient"], affair=row["affair"]
            )
        )
    affairs.sort(key=lambda affair: affair.sort_key)
    return MappingProxyType(index_affairs(affairs))


def get_affair(code: str) -> StatutoryAffair:
    """The affair ``code`` (``T1-16``; full-width and lower-case forms are accepted).

    Raises :class:`~jukinet.domain.affairs.InvalidAffairCode` (``JUKI-AFF-003``) for a
    malformed code and :class:`~jukinet.domain.affairs.UnknownAffair` (``JUKI-AFF-002``,
    404) for a well-formed code that names no row.
    """
    canonical = parse_affair_code(code)
    found = statutory_affairs().get(canonical)
    if found is None:
        raise UnknownAffair(canonical)
    return found


def affairs_in_table(table: int) -> tuple[StatutoryAffair, ...]:
    """The affairs of appended table ``table``, in statutory order (empty for another number)."""
    return tuple(affair for affair in statutory_affairs().values() if affair.table == table)


def find_affairs(text: str) -> tuple[StatutoryAffair, ...]:
    """The affairs whose statutory wording or law name contains ``text``, in statutory order."""
    return tuple(
        affair
        for affair in statutory_affairs().values()
        if text in affair.affair or (affair.law_name is not None and text in affair.law_name)
    )


def item_policy() -> ItemPolicy:
    """The item policy: the documented default plus :data:`AFFAIR_ITEM_OVERRIDES`."""
    return ItemPolicy(overrides=AFFAIR_ITEM_OVERRIDES)


@dataclass(frozen=True, slots=True)
class SeedRecipient:
    """An example recipient and the affairs it is granted in the demo (design/domain.md §4.4)."""

    recipient: Recipient
    affair_codes: tuple[str, ...]
    topic: str


def _national(identifier: str, name: str, body: str) -> Recipient:
    return Recipient(id=identifier, name=name, kind=RecipientType.NATIONAL_BODY, body=body)


#: The seed names of domain.md §4.4, found in the tables by their statutes:
#: 恩給法 T1-16, 国家公務員共済組合法 T1-42 (共済年金), 電波法 T1-26, 不動産の鑑定評価に関する
#: 法律 T1-107, 建設業法 T1-97, 宅地建物取引業法 T1-101, 旅券法 T1-41 (its 記載事項の訂正 is the
#: passport correction), and the same subjects as a prefecture's own affairs in table 5
#: (旅券法 T5-6, 建設業法 T5-21, 宅地建物取引業法 T5-24, 不動産鑑定 T5-27). Plus one municipal
#: organ (公営住宅法 T2-8) so that every recipient type appears.
SEED_RECIPIENTS: Final[tuple[SeedRecipient, ...]] = (
    SeedRecipient(
        _national("agency:soumu-onkyu", "総務省（恩給）", "総務省"),
        ("T1-16",),
        "pension (恩給) status",
    ),
    SeedRecipient(
        _national("agency:kkr", "国家公務員共済組合連合会", "国家公務員共済組合連合会"),
        ("T1-42",),
        "mutual-aid pension (共済年金) status",
    ),
    SeedRecipient(
        _national("agency:soumu-denpa", "総務省（電波）", "総務省"),
        ("T1-26",),
        "radio-station licences",
    ),
    SeedRecipient(
        _national("agency:mlit-kantei", "国土交通省（不動産鑑定士）", "国土交通省"),
        ("T1-107",),
        "real-estate appraiser registration",
    ),
    SeedRecipient(
        _national("agency:mlit-kensetsu", "国土交通省（建設業）", "国土交通省"),
        ("T1-97",),
        "construction-business permits",
    ),
    SeedRecipient(
        _national("agency:mlit-takken", "国土交通省（宅地建物取引業）", "国土交通省"),
        ("T1-101",),
        "real-estate business licences",
    ),
    SeedRecipient(
        _national("agency:mofa-ryoken", "外務省（旅券）", "外務省"),
        ("T1-41",),
        "passport issuance and corrections",
    ),
    SeedRecipient(
        Recipient(
            id="pref:13", name="東京都知事", kind=RecipientType.PREFECTURE, prefecture_code="13"
        ),
        ("T5-6", "T5-21", "T5-24", "T5-27"),
        "a prefecture's own use: passports, construction, real estate, appraisers",
    ),
    SeedRecipient(
        Recipient(
            id="muni:132292",
            name="西東京市長",
            kind=RecipientType.MUNICIPAL_ORGAN,
            prefecture_code="13",
            municipality_code="132292",
        ),
        ("T2-8",),
        "public housing rent and eligibility (公営住宅法)",
    ),
)


def seed_registry(
    *,
    valid_from: date,
    granted_by: str,
    recorded_at: datetime,
    seeds: Iterable[SeedRecipient] = SEED_RECIPIENTS,
) -> AffairRegistry:
    """A registry over the shipped affairs with the seed recipients and their grants."""
    registry = AffairRegistry(statutory_affairs(), items=item_policy())
    for seed in seeds:
        registry.register_recipient(seed.recipient)
        for code in seed.affair_codes:
            registry.grant(
                seed.recipient.id,
                code,
                valid_from=valid_from,
                granted_by=granted_by,
                recorded_at=recorded_at,
                reason=f"seed: {seed.topic}",
            )
    return registry
