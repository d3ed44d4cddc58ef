"""What the counter enters for card work: one input model per use case (page, API and CLI)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from jukinet.domain.resident_card import CardForm


class IdDocument(StrEnum):
    """The identity document a resident showed in person (what the clerk checked)."""

    DRIVERS_LICENCE = "drivers_licence"
    PASSPORT = "passport"
    PHOTO_RESIDENT_CARD = "photo_resident_card"
    OTHER_PHOTO_ID = "other_photo_id"

    @property
    def label_ja(self) -> str:
        """The document's Japanese name."""
        return _ID_LABELS_JA[self.value]


_ID_LABELS_JA = {
    "drivers_licence": "運転免許証",
    "passport": "旅券",
    "photo_resident_card": "写真付き住基カード",
    "other_photo_id": "その他の写真付き身分証明書",
}


class CallerRelation(StrEnum):
    """Who phoned in a loss report."""

    SELF = "self"
    FAMILY = "family"
    OTHER = "other"


#: What a caller may be asked to confirm the card is theirs (the answers are recorded).
LOSS_QUESTIONS: tuple[str, ...] = ("name", "birth_date", "address", "phone")


@dataclass(frozen=True, slots=True)
class CardApplication:
    """交付申請: a resident asks for a card of one form (a photo ID card needs its photo)."""

    resident_code: str
    form: CardForm
    #: The photo file in private storage (photo ID cards only).
    photo_ref: str | None = None


@dataclass(frozen=True, slots=True)
class CardIssue:
    """交付: the card is written and handed over; the resident chose the PIN on the PIN pad."""

    serial: str
    pin: str
    pin_confirmation: str
    id_document: IdDocument


@dataclass(frozen=True, slots=True)
class PinReset:
    """暗証番号の再設定: in person with ID; unlocks a locked card."""

    serial: str
    new_pin: str
    pin_confirmation: str
    id_document: IdDocument


@dataclass(frozen=True, slots=True)
class LossReport:
    """紛失届 (a phone call is enough): the card is suspended at once; the answers are kept."""

    serial: str
    caller_name: str
    caller_relation: CallerRelation
    #: Which questions (of :data:`LOSS_QUESTIONS`) the caller answered correctly.
    answered: tuple[str, ...]
    note: str = ""


@dataclass(frozen=True, slots=True)
class Resumption:
    """一時停止の解除: in person with ID, the card was found."""

    serial: str
    id_document: IdDocument
