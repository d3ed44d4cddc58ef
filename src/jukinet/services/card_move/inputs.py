"""What is entered for a card move: one input model per use case (page, API and CLI)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from jukinet.domain.card_move import FilingChannel


@dataclass(frozen=True, slots=True)
class CardMoveOut:
    """転出届（特例）: the card holder files the move-out in advance at the old municipality.

    ``member_codes`` are household members without a card who move with the holder.
    ``destination_municipality_code`` names the new municipality (in Japan: a move abroad is not
    a card move).
    """

    holder_code: str
    destination: str
    destination_municipality_code: str
    planned_on: date
    filed_on: date
    member_codes: tuple[str, ...] = ()
    channel: FilingChannel = FilingChannel.COUNTER
    insurance_note: str | None = None


@dataclass(frozen=True, slots=True)
class CardMoveIn:
    """転入届（特例）: the holder presents the card with its PIN at the new municipality.

    Without ``household_number`` the people moving form a new household at ``address``.
    With ``continue_card`` the card is continued here (継続利用) in the same transaction.
    """

    serial: str
    pin: str
    address: str
    moved_in_on: date
    filed_on: date
    household_number: str | None = None
    continue_card: bool = True


@dataclass(frozen=True, slots=True)
class CardContinuation:
    """継続利用: the card of a holder who moved in is continued here (within 90 days)."""

    serial: str
    pin: str
