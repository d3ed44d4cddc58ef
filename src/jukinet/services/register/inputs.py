"""What the counter enters for a filing: one input model per use case, shared by page, API and CLI.

A field exists here or nowhere: the adapters build these objects and the service validates
them once, so a field cannot be offered by one adapter and forgotten by another (the first
build lost the move-in notice to the old town that way).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date

from jukinet.data.mj_table import identified
from jukinet.domain.names import PersonName
from jukinet.domain.register import Insurance, Relationship, Sex


@dataclass(frozen=True, slots=True)
class PersonInput:
    """A person as entered at the counter (before validation)."""

    family_name: str
    given_name: str
    family_name_kana: str
    given_name_kana: str
    birth_date: date
    sex: Sex
    relationship: Relationship
    resident_code: str | None = None
    domicile: str | None = None
    domicile_head: str | None = None
    insurance: Insurance = dataclasses.field(default_factory=Insurance)

    def name(self) -> PersonName:
        """The validated name, with the MJ identifiers of its characters outside JIS X 0213."""
        return identified(
            PersonName.create(
                family=self.family_name,
                given=self.given_name,
                family_kana=self.family_name_kana,
                given_kana=self.given_name_kana,
            )
        )


@dataclass(frozen=True, slots=True)
class HouseholdChange:
    """One member's new place: another household, a new one (as head), or a new relationship."""

    resident_code: str
    relationship: Relationship
    household_number: str | None = None
    new_household: bool = False


@dataclass(frozen=True, slots=True)
class MoveIn:
    """転入届 (or 職権記載 with ``ex_officio``): people arriving, as filed at the counter.

    Without ``household_number`` they form a new household, and exactly one of them must be its
    head. ``previous_municipality_code`` names the old municipality in Japan: a move-in notice
    (転入通知) then goes to it over the network, and it closes its record.
    """

    persons: tuple[PersonInput, ...]
    address: str
    previous_address: str
    moved_on: date
    filed_on: date
    household_number: str | None = None
    from_abroad: bool = False
    ex_officio: bool = False
    previous_municipality_code: str | None = None
