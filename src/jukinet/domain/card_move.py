"""The card move (転入転出の特例, domain.md §4.2): pure rules, no I/O.

A card holder files the move-out in advance (at the counter, by post, or online with the card's
signature); at the new municipality they present the card with its PIN and the new municipality
pulls the move-out information (転出証明書情報) from the old one. The move-in must come by the
earlier of 30 days after the declared move date and 14 days after actually moving in; household
members without a card move with the holder; the card is continued at the new municipality
within 90 days or it lapses; moves abroad are not card moves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Final

from jukinet.domain.errors import Conflict, ValidationError
from jukinet.domain.resident_card import InvalidReason, end_reason_for_move_out
from jukinet.domain.wareki import format_wareki

#: The move-in comes at the latest this long after the declared move date …
AFTER_DECLARED_MOVE: Final = timedelta(days=30)
#: … and at the latest this long after actually moving in (the earlier of the two).
AFTER_MOVING_IN: Final = timedelta(days=14)
#: The card is continued at the new municipality within this long after the move-in, or lapses.
CONTINUATION_WINDOW: Final = timedelta(days=90)


class FilingChannel(StrEnum):
    """How the move-out in advance reached the old municipality."""

    #: 窓口 — at the counter.
    COUNTER = "counter"
    #: 郵送 — by post.
    POST = "post"
    #: オンライン — online, signed with the card's signature key.
    ONLINE = "online"

    @property
    def label_ja(self) -> str:
        """The channel's Japanese name."""
        return {"counter": "窓口", "post": "郵送", "online": "オンライン"}[self.value]


class PlannedMoveState(StrEnum):
    """A move-out in advance with the card, as the old municipality holds it."""

    #: 転出予定 — filed; the record stays on the register until the move-in notice.
    PLANNED = "planned"
    #: 転入済 — the new municipality registered the move-in; the record is a 除票.
    COMPLETED = "completed"


class ArrivalCardState(StrEnum):
    """The card of a card move, as the new municipality holds it."""

    #: 継続利用待ち — moved in; the card is not yet continued here.
    AWAITING = "awaiting"
    #: 継続利用 — continued here: same serial, same chip, held by this municipality.
    CONTINUED = "continued"
    #: 失効 — not continued within 90 days.
    LAPSED = "lapsed"


def move_in_deadline(*, declared_move_on: date, moved_in_on: date) -> date:
    """The last day the move-in may be registered: the earlier of 30 days after the declared
    move date and 14 days after actually moving in."""
    return min(declared_move_on + AFTER_DECLARED_MOVE, moved_in_on + AFTER_MOVING_IN)


def check_move_in_deadline(*, declared_move_on: date, moved_in_on: date, today: date) -> date:
    """Refuse a move-in after its deadline, naming the deadline; the deadline otherwise."""
    if moved_in_on > today:
        raise ValidationError(
            "JUKI-MOVE-001",
            ja="転入日に未来の日付は指定できません。",
            en="The move-in date cannot be in the future.",
            field="moved_in_on",
        )
    deadline = move_in_deadline(declared_move_on=declared_move_on, moved_in_on=moved_in_on)
    if today > deadline:
        raise Conflict(
            "JUKI-MOVE-002",
            ja=(
                f"転入届の期限（{format_wareki(deadline)}）を過ぎているため、"
                "カードによる転入はできません。転出証明書による転入届をしてください。"
            ),
            en=(
                f"The deadline for a move-in with the card ({deadline.isoformat()}) has passed; "
                "file the move-in with a paper move-out certificate instead."
            ),
            field="moved_in_on",
        )
    return deadline


def continuation_deadline(moved_in_on: date) -> date:
    """The last day the card can be continued at the new municipality."""
    return moved_in_on + CONTINUATION_WINDOW


def check_continuation(*, moved_in_on: date, today: date) -> None:
    """Refuse a continuation after the 90 days (the card has lapsed)."""
    deadline = continuation_deadline(moved_in_on)
    if today > deadline:
        raise Conflict(
            "JUKI-MOVE-003",
            ja=(
                f"継続利用の期限（{format_wareki(deadline)}）を過ぎたため、カードは失効しています。"
            ),
            en=f"The card lapsed: it was not continued by {deadline.isoformat()}.",
            field="serial",
        )


def check_not_abroad(destination: str) -> None:
    """A move abroad (国外転出) is not a card move."""
    if end_reason_for_move_out(destination) is InvalidReason.EMIGRATED:
        raise ValidationError(
            "JUKI-MOVE-004",
            ja="国外への転出は転入転出の特例の対象外です。通常の転出届をしてください。",
            en="A move abroad is not a card move: file an ordinary move-out.",
            field="destination",
        )


def not_in_household(index: int) -> ValidationError:
    """A member named who is not in the holder's household (or not on the register)."""
    return ValidationError(
        "JUKI-MOVE-005",
        ja="カード所持者と同じ世帯の方だけが一緒に転出できます。",
        en="Only members of the card holder's household can move with the holder.",
        field=f"member_codes[{index}]",
    )


def member_has_own_card(index: int) -> ValidationError:
    """A member with a card of their own files their own card move."""
    return ValidationError(
        "JUKI-MOVE-006",
        ja="カードをお持ちの世帯員は、ご自身のカードで転出の届出をしてください。",
        en="A member with a card of their own files their own card move.",
        field=f"member_codes[{index}]",
    )


@dataclass(frozen=True, slots=True)
class MoveOutFacts:
    """What the new municipality checks of the pulled move-out information."""

    destination_municipality_code: str
    planned_on: date


def check_destination(facts: MoveOutFacts, *, here: str) -> None:
    """The planned move must be to this municipality."""
    if facts.destination_municipality_code != here:
        raise Conflict(
            "JUKI-MOVE-007",
            ja="転出届の転出先がこの市区町村ではありません。",
            en="The move-out was filed for another destination municipality.",
            field="serial",
        )
