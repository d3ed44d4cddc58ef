"""What the generator produces: plain values, ready to become register records."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from jukinet.domain.register import Insurance, Relationship, Sex

__all__ = ["SyntheticHousehold", "SyntheticPerson"]


@dataclass(frozen=True, slots=True)
class SyntheticPerson:
    """One synthetic resident: every item of a 住民票 except the codes the register assigns."""

    family_name: str
    given_name: str
    family_name_kana: str
    given_name_kana: str
    birth_date: date
    sex: Sex
    relationship: Relationship
    became_resident_on: date
    address_since: date
    previous_address: str | None = None
    domicile: str | None = None
    domicile_head: str | None = None
    insurance: Insurance = field(default_factory=Insurance)


@dataclass(frozen=True, slots=True)
class SyntheticHousehold:
    """A household: one address, exactly one head among its members."""

    address: str
    members: tuple[SyntheticPerson, ...]
    #: A household of foreign residents: nobody has a family-register domicile.
    foreign: bool = False
