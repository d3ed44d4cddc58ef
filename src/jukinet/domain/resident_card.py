"""The resident card (住基カード): its forms, its states and the rules of its life (domain.md §5).

Pure rules, no I/O. A card is applied for, issued with a 4-digit PIN the resident chooses, and is
valid for ten years. Three wrong PINs in a row lock it (unlocked only in person with ID, by a PIN
reset); a loss report — by phone is enough — suspends it at once, and it is resumed in person.
It becomes invalid for good on expiry, a resident-code change, death, emigration, or a move
without continuation. What the network knows of a card is its *status* (valid, suspended,
invalid) by its serial; the PIN lock is the card's and its municipality's business.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum
from typing import Final

from jukinet.domain.errors import Conflict, ValidationError
from jukinet.domain.prefectures import PREFECTURES

#: Wrong PINs in a row that lock the card (the chip's rule; SoftHSM never locks, so we count).
MAX_PIN_TRIES: Final = 3
VALIDITY_YEARS: Final = 10
_PIN = re.compile(r"^[0-9]{4}$")
#: A card serial: the issuing municipality's code, a dash, eight digits (``132292-00000001``).
_SERIAL = re.compile(r"^([0-9]{6})-([0-9]{8})$")


class CardForm(StrEnum):
    """The two forms of card: the face shows the name only, or is a photo ID."""

    #: 写真なし — the face shows the name only.
    NAME_ONLY = "name_only"
    #: 写真付き — name, address, birth date, sex and a photo on the face (kept in the register).
    PHOTO_ID = "photo_id"

    @property
    def label_ja(self) -> str:
        """The form's Japanese name."""
        return "写真付き" if self is CardForm.PHOTO_ID else "写真なし"


class CardState(StrEnum):
    """Where a card is in its life (the register's view)."""

    #: 交付申請中 — applied for, not yet issued.
    APPLIED = "applied"
    #: 有効 — issued and usable (unless its PIN is locked or it has expired).
    VALID = "valid"
    #: 一時停止 — suspended by a loss report; resumed in person.
    SUSPENDED = "suspended"
    #: 廃止 — invalid for good (see :class:`InvalidReason`).
    INVALID = "invalid"


class NetworkStatus(StrEnum):
    """What any node answers about a card by its serial."""

    VALID = "valid"
    SUSPENDED = "suspended"
    INVALID = "invalid"


class InvalidReason(StrEnum):
    """Why a card stopped being valid for good."""

    EXPIRED = "expired"
    CODE_CHANGED = "code_changed"
    DIED = "died"
    EMIGRATED = "emigrated"
    MOVED_WITHOUT_CONTINUATION = "moved_without_continuation"
    #: Given back by the resident (返納).
    RETURNED = "returned"
    #: A new card was issued in its place (再交付) after a loss.
    REPLACED = "replaced"
    #: Applied for and never issued (withdrawn).
    WITHDRAWN = "withdrawn"
    #: The municipality removed the record (職権消除).
    DELETED_EX_OFFICIO = "deleted_ex_officio"
    #: The holder moved with the card (転入転出の特例): the new municipality holds it now.
    CONTINUED_ELSEWHERE = "continued_elsewhere"

    @property
    def label_ja(self) -> str:
        """The reason's Japanese wording."""
        return _REASON_LABELS_JA[self.value]


_REASON_LABELS_JA = {
    "expired": "有効期限切れ",
    "code_changed": "住民票コード変更",
    "died": "死亡",
    "emigrated": "国外転出",
    "moved_without_continuation": "転出（継続利用なし）",
    "returned": "返納",
    "replaced": "再交付",
    "withdrawn": "申請取下げ",
    "deleted_ex_officio": "職権消除",
    "continued_elsewhere": "転出（転入先で継続利用）",
}


@dataclass(frozen=True, slots=True)
class ResidentCard:
    """A card as the register holds it."""

    serial: str
    resident_code: str
    form: CardForm
    state: CardState
    issued_on: date | None = None
    expires_on: date | None = None
    pin_failures: int = 0
    invalid_reason: InvalidReason | None = None

    @property
    def pin_locked(self) -> bool:
        """Whether the card is locked by wrong PINs (unlocked only by a reset in person)."""
        return self.pin_failures >= MAX_PIN_TRIES

    def network_status(self, today: date) -> NetworkStatus:
        """What the network answers about this card on ``today`` (expiry included)."""
        if self.state is CardState.SUSPENDED:
            return NetworkStatus.SUSPENDED
        if self.state is CardState.VALID and not self.expired(today):
            return NetworkStatus.VALID
        return NetworkStatus.INVALID

    def expired(self, today: date) -> bool:
        """Whether the ten years are over (the card is invalid from the day after expiry)."""
        return self.expires_on is not None and today > self.expires_on


def validate_pin(value: str, *, field: str = "pin") -> str:
    """A PIN is exactly four digits (0–9)."""
    if not _PIN.fullmatch(value):
        raise ValidationError(
            "JUKI-CARD-001",
            ja="暗証番号は数字4桁で入力してください。",
            en="The PIN must be exactly four digits.",
            field=field,
        )
    return value


def validate_serial(value: str, *, field: str = "serial") -> str:
    """A card serial is ``MMMMMM-NNNNNNNN`` (issuing municipality's code, eight digits)."""
    if not _SERIAL.fullmatch(value):
        raise ValidationError(
            "JUKI-CARD-002",
            ja="カード番号は「市区町村コード6桁-数字8桁」の形式で入力してください。",
            en="A card serial is the municipality's six-digit code, a dash and eight digits.",
            field=field,
        )
    return value


def serial_for(municipality_code: str, number: int) -> str:
    """The serial of the ``number``-th card a municipality issues."""
    return f"{municipality_code}-{number:08d}"


def issuer_of(serial: str) -> str:
    """The code of the municipality that issued the card with ``serial``."""
    return validate_serial(serial)[:6]


def expiry_for(issued_on: date) -> date:
    """The last day of validity: ten years from issue, less a day (29 Feb → 28 Feb)."""
    year = issued_on.year + VALIDITY_YEARS
    try:
        anniversary = issued_on.replace(year=year)
    except ValueError:  # 29 February in a year that has none
        anniversary = date(year, 3, 1)
    return date.fromordinal(anniversary.toordinal() - 1)


def _refuse(code: str, ja: str, en: str) -> Conflict:
    return Conflict(code, ja=ja, en=en, field="serial")


def issue(card: ResidentCard, *, today: date) -> ResidentCard:
    """Issue an applied-for card: valid for ten years from today, PIN counter at zero."""
    if card.state is not CardState.APPLIED:
        raise _refuse(
            "JUKI-CARD-010",
            "このカードは交付申請中ではありません。",
            "This card is not waiting to be issued.",
        )
    return replace(
        card,
        state=CardState.VALID,
        issued_on=today,
        expires_on=expiry_for(today),
        pin_failures=0,
    )


def require_usable(card: ResidentCard, *, today: date) -> None:
    """Refuse a card that cannot be used now: suspended, invalid, expired or PIN-locked."""
    if card.state is CardState.SUSPENDED:
        raise _refuse(
            "JUKI-CARD-011",
            "このカードは一時停止中です（紛失届）。窓口で本人確認のうえ再開してください。",
            "This card is suspended after a loss report; it is resumed in person at the counter.",
        )
    if card.state is CardState.APPLIED:
        raise _refuse(
            "JUKI-CARD-012", "このカードはまだ交付されていません。", "This card is not issued yet."
        )
    if card.state is CardState.INVALID or card.expired(today):
        raise _refuse(
            "JUKI-CARD-013",
            "このカードは無効です。",
            "This card is no longer valid.",
        )
    if card.pin_locked:
        raise _refuse(
            "JUKI-CARD-014",
            "暗証番号の誤りが3回続いたため、カードはロックされています。"
            "窓口で本人確認のうえ暗証番号を再設定してください。",
            "The card is locked after three wrong PINs; the PIN is reset in person at the counter.",
        )


def record_pin_failure(card: ResidentCard) -> ResidentCard:
    """One more wrong PIN (the third locks the card)."""
    return replace(card, pin_failures=min(card.pin_failures + 1, MAX_PIN_TRIES))


def record_pin_success(card: ResidentCard) -> ResidentCard:
    """A right PIN on an unlocked card clears the count of wrong ones."""
    if card.pin_locked:
        return card
    return replace(card, pin_failures=0)


def reset_pin(card: ResidentCard, *, today: date) -> ResidentCard:
    """A PIN reset in person: unlocks the card (it must otherwise be usable)."""
    unlocked = replace(card, pin_failures=0)
    require_usable(unlocked, today=today)
    return unlocked


def suspend(card: ResidentCard, *, today: date) -> ResidentCard:
    """A loss report: the card stops at once (a valid card only)."""
    if card.state is CardState.SUSPENDED:
        raise _refuse(
            "JUKI-CARD-015", "このカードは既に一時停止中です。", "This card is already suspended."
        )
    if card.state is not CardState.VALID or card.expired(today):
        raise _refuse(
            "JUKI-CARD-016",
            "有効なカードではないため、一時停止できません。",
            "Only a valid card can be suspended.",
        )
    return replace(card, state=CardState.SUSPENDED)


def resume(card: ResidentCard, *, today: date) -> ResidentCard:
    """Resumption in person after a loss report (the card was found)."""
    if card.state is not CardState.SUSPENDED:
        raise _refuse(
            "JUKI-CARD-017", "このカードは一時停止中ではありません。", "This card is not suspended."
        )
    if card.expired(today):
        raise _refuse(
            "JUKI-CARD-018",
            "有効期限が過ぎているため再開できません。",
            "The card has expired and cannot be resumed.",
        )
    return replace(card, state=CardState.VALID)


def invalidate(card: ResidentCard, reason: InvalidReason) -> ResidentCard:
    """The card ends for good (a card that already ended keeps its first reason)."""
    if card.state is CardState.INVALID:
        return card
    return replace(card, state=CardState.INVALID, invalid_reason=reason)


def is_live(card: ResidentCard) -> bool:
    """Whether the card still counts as the resident's card (one at a time per resident)."""
    return card.state in (CardState.APPLIED, CardState.VALID, CardState.SUSPENDED)


def end_reason_for_move_out(destination: str) -> InvalidReason:
    """Why a move-out ends the card: emigration (国外転出) when the destination names no
    prefecture of Japan, otherwise a move without continuation."""
    place = destination.strip()
    if place.startswith("国外") or not place.startswith(tuple(PREFECTURES.values())):
        return InvalidReason.EMIGRATED
    return InvalidReason.MOVED_WITHOUT_CONTINUATION
