"""A municipality's participation in the network (domain.md §6), and a resident's opt-out.

- **connected**: identity notices go upstream as changes happen.
- **disconnected** (Kunitachi, 2002–2012): the counter works, nothing leaves the municipality;
  what upstream holds goes stale until the municipality reconnects.
- **never connected** (Yamatsuri until 2015): upstream has never held anything.

Joining (never connected or disconnected → connected) sends an initial load of every record;
a municipality that has once been connected cannot become never connected again.

A resident may opt out of upstream notification where the municipality allows it (Yokohama
2002–2006); the request carries its date and the municipality's request number (申出番号).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Final

from jukinet.domain.errors import Conflict, FieldErrors, ValidationError


class Participation(StrEnum):
    """The states of a municipality on the network; the value is the stored and typed name."""

    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
    NEVER_CONNECTED = "never_connected"

    @property
    def label_ja(self) -> str:
        """The state as the pages name it in Japanese."""
        return _LABELS_JA[self]


_LABELS_JA: Final = {
    Participation.CONNECTED: "接続",
    Participation.DISCONNECTED: "切断",
    Participation.NEVER_CONNECTED: "未接続（参加せず）",
}

#: The changes allowed, from → to.
_ALLOWED: Final = {
    (Participation.NEVER_CONNECTED, Participation.CONNECTED),
    (Participation.CONNECTED, Participation.DISCONNECTED),
    (Participation.DISCONNECTED, Participation.CONNECTED),
}

REASON_MAX: Final = 400
_REQUEST_NUMBER: Final = re.compile(r"^[0-9A-Za-z][0-9A-Za-z-]{0,19}$")


def parse_participation(value: str, *, field: str = "state") -> Participation:
    """A typed state name as a :class:`Participation`; :class:`ValidationError` otherwise."""
    try:
        return Participation(value.strip())
    except ValueError:
        raise ValidationError(
            "JUKI-NET-040",
            ja="接続状態は connected（接続）・disconnected（切断）のいずれかです。",
            en="The state is connected or disconnected (never_connected only as configured).",
            field=field,
        ) from None


def check_change(current: Participation, new: Participation) -> None:
    """Refuse a change that is no change or not allowed (:class:`Conflict`)."""
    if current is new:
        raise Conflict(
            "JUKI-NET-041",
            ja="既にその接続状態です。",
            en=f"The municipality is already {new.value}.",
            field="state",
        )
    if (current, new) not in _ALLOWED:
        raise Conflict(
            "JUKI-NET-042",
            ja=f"{current.label_ja}から{new.label_ja}へは変更できません。",
            en=f"A municipality cannot go from {current.value} to {new.value}"
            + (
                " (once connected, it can only be disconnected)"
                if new is Participation.NEVER_CONNECTED
                else " (connect it first)"
            ),
            field="state",
        )


def validate_reason(value: str, *, field: str = "reason") -> str:
    """The decision's reason: 1–400 printable characters (it is shown and logged)."""
    text = value.strip()
    if not text or len(text) > REASON_MAX or not text.isprintable():
        raise ValidationError(
            "JUKI-NET-043",
            ja=f"理由を{REASON_MAX}文字以内で入力してください。",
            en=f"Give the reason in 1 to {REASON_MAX} characters.",
            field=field,
        )
    return text


@dataclass(frozen=True, slots=True)
class ParticipationChange:
    """The input of a participation change, shared by the page, the API and the CLI."""

    state: str
    reason: str


@dataclass(frozen=True, slots=True)
class OptOutRequest:
    """A resident's request about upstream notification (page, API and CLI alike).

    ``opt_out`` true asks to stop notification (and withdraw what upstream holds), false to
    resume it; ``requested_on`` is the date of the resident's request, ``request_number`` the
    municipality's number for it (申出番号).
    """

    resident_code: str
    opt_out: bool
    requested_on: date
    request_number: str
    expected_version: int | None = None


def check_opt_out_request(request: OptOutRequest, *, today: date) -> str:
    """The request number, checked with the date; one :class:`FieldErrors` for both."""
    errors: list[ValidationError] = []
    number = request.request_number.strip()
    if not _REQUEST_NUMBER.match(number):
        errors.append(
            ValidationError(
                "JUKI-NET-044",
                ja="申出番号は英数字とハイフンで20文字以内です（英数字で始まる）。",
                en="The request number is up to 20 letters, digits or '-', starting with a "
                "letter or digit.",
                field="request_number",
            )
        )
    if request.requested_on > today:
        errors.append(
            ValidationError(
                "JUKI-NET-045",
                ja="申出日が未来の日付です。",
                en="The request date is in the future.",
                field="requested_on",
            )
        )
    if errors:
        raise FieldErrors(errors)
    return number
