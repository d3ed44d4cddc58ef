"""The one gateway for reading residents' personal data: one function per query type.

Every read of a resident goes through here, so the access log (a later issue) hooks in at one
place: each function checks the actor's permission before any personal data is read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from jukinet.bootstrap import Node
from jukinet.domain.codes import validate_resident_code
from jukinet.domain.errors import ValidationError
from jukinet.domain.names import is_kana_query, kana_search_key, name_search_key
from jukinet.domain.operators import Actor, Permission
from jukinet.services.views import HistoryEntry, RecordView, history_entry, view_of

MAX_SEARCH_RESULTS = 200


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """Search terms: a name (kanji with variants, or kana), a birth date, or both."""

    name: str | None = None
    birth_date: date | None = None
    include_removed: bool = False
    limit: int = 50


@dataclass(frozen=True, slots=True)
class HouseholdView:
    """A household and its members, active and removed."""

    household_number: str
    members: list[RecordView]


def read_resident(node: Node, *, actor: Actor, resident_code: str) -> RecordView:
    """One record (住民票 or 除票) by resident code."""
    actor.require(Permission.READ_RESIDENTS)
    code = validate_resident_code(resident_code)
    with node.uow() as uow:
        return view_of(uow, uow.residents.get_row(code))


def read_history(node: Node, *, actor: Actor, resident_code: str) -> list[HistoryEntry]:
    """Every version of one record, oldest first."""
    actor.require(Permission.READ_RESIDENTS)
    code = validate_resident_code(resident_code)
    with node.uow() as uow:
        row = uow.residents.get_row(code)
        return [history_entry(v, e) for v, e in uow.residents.history(row)]


def read_household(node: Node, *, actor: Actor, household_number: str) -> HouseholdView:
    """A household with all its members."""
    actor.require(Permission.READ_RESIDENTS)
    with node.uow() as uow:
        household = uow.households.get(household_number.strip())
        members = uow.residents.household_members(household.id)
        return HouseholdView(
            household_number=household.household_number, members=[view_of(uow, m) for m in members]
        )


def search_residents(node: Node, *, actor: Actor, query: SearchQuery) -> list[RecordView]:
    """Candidates matching the folded name and/or birth date; never merges records."""
    actor.require(Permission.READ_RESIDENTS)
    name = (query.name or "").strip()
    if not name and query.birth_date is None:
        raise ValidationError(
            "JUKI-REG-040",
            ja="氏名（漢字またはカナ）か生年月日を入力してください。",
            en="Enter a name (kanji or kana) or a date of birth.",
            field="name",
        )
    if any(ord(c) < 0x20 for c in name):
        raise ValidationError(
            "JUKI-REG-042",
            ja="氏名に制御文字は使えません。",
            en="The name must not contain control characters.",
            field="name",
        )
    if len(name) > 60:
        raise ValidationError(
            "JUKI-REG-041",
            ja="検索する氏名は60文字以内にしてください。",
            en="The name to search for must be at most 60 characters.",
            field="name",
        )
    name_key = kana_key = None
    if name:
        if is_kana_query(name):
            kana_key = kana_search_key(name)
        else:
            name_key = name_search_key(name)
    limit = max(1, min(query.limit, MAX_SEARCH_RESULTS))
    with node.uow() as uow:
        rows = uow.residents.search(
            name_key=name_key,
            kana_key=kana_key,
            birth_date=query.birth_date,
            include_removed=query.include_removed,
            limit=limit,
        )
        return [view_of(uow, r) for r in rows]
