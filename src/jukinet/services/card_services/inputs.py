"""What the counter enters for card services: one input model per use case (page and CLI)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, slots=True)
class NewCardService:
    """A service the council enacted by ordinance, entered into the registry."""

    code: str
    name_ja: str
    name_en: str
    #: 条例名 — e.g. 西東京市住民基本台帳カードの利用に関する条例.
    ordinance_name: str
    #: The day the ordinance was enacted (制定日); ``None`` when the form left it empty.
    enacted_on: date | None


@dataclass(frozen=True, slots=True)
class Enrolment:
    """利用登録: a resident, at the counter with their card, enrols in one service."""

    resident_code: str
    service_code: str


@dataclass(frozen=True, slots=True)
class Withdrawal:
    """利用廃止: a resident withdraws from one service (no card needed)."""

    resident_code: str
    service_code: str
