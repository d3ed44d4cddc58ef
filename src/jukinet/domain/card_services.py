"""Card services by ordinance (条例利用): the rules of the registry, enrolment and terminal use.

A municipality may put services of its own on the resident card, each enacted by its council
in an ordinance (domain.md §5, §9 question 9): a certificate kiosk, seal registration, the
library, facility booking, health checks. The registry names each service, its ordinance and
the day it was enacted; a resident with a valid card enrols at the counter and receives, for
that service only, a random identifier. A service terminal that authenticates the card receives
that identifier and the service's code — never the resident code, from which the identifier
is not derived in any way (it is drawn at random and kept in the enrolment).

Pure rules, no I/O: the service layer draws the randomness and stores the rows.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Final

from jukinet.domain.errors import (
    AuthenticationFailed,
    Conflict,
    DomainError,
    FieldErrors,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from jukinet.domain.resident_card import NetworkStatus, ResidentCard

#: A service code: 3–32 characters of a-z, 0-9 and '-', starting with a letter.
_CODE: Final = re.compile(r"^[a-z][a-z0-9-]{1,30}[a-z0-9]$")
MAX_NAME: Final = 60
MAX_ORDINANCE: Final = 120
#: Random bytes behind a service identifier (120 bits: not guessable, never collides in practice).
IDENTIFIER_BYTES: Final = 15
_IDENTIFIER: Final = re.compile(r"^[A-Z2-7]{4}(-[A-Z2-7]{4}){5}$")


@dataclass(frozen=True, slots=True)
class StandardService:
    """A kind of service many municipalities enacted (offered as a suggestion, not a rule)."""

    code: str
    name_ja: str
    name_en: str


#: The services the Ministry's model ordinances named (a town may enact others).
STANDARD_SERVICES: Final[tuple[StandardService, ...]] = (
    StandardService("certificate-kiosk", "証明書自動交付機", "Certificate kiosk"),
    StandardService("seal-registration", "印鑑登録", "Seal registration"),
    StandardService("library", "図書館", "Library"),
    StandardService("facility-booking", "施設予約", "Facility booking"),
    StandardService("health-check", "健診", "Health checks"),
)


class EnrolmentState(StrEnum):
    """Where a resident stands with one service."""

    #: 利用登録中 — the card may be used at the service's terminals.
    ENROLLED = "enrolled"
    #: 利用廃止 — withdrawn at the counter; enrolling again restores the same identifier.
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True, slots=True)
class CardService:
    """One service of the registry, as its ordinance enacted it."""

    code: str
    name_ja: str
    name_en: str
    ordinance_name: str
    enacted_on: date
    active: bool


def validate_service_code(value: str, *, field: str = "code") -> str:
    """A service code is 3–32 characters of a-z, 0-9 and '-', starting with a letter."""
    if not _CODE.match(value):
        raise ValidationError(
            "JUKI-ORD-001",
            ja="サービスコードは英小文字で始まる3〜32文字の英小文字・数字・-で入力してください。",
            en="A service code is 3–32 characters of a-z, 0-9 and '-', starting with a letter.",
            field=field,
        )
    return value


def _text_error(field: str, limit: int, code: str, ja_label: str, en_label: str) -> DomainError:
    return ValidationError(
        code,
        ja=f"{ja_label}を{limit}文字以内で入力してください。",
        en=f"Enter the {en_label} (at most {limit} characters).",
        field=field,
    )


def check_new_service(
    *,
    code: str,
    name_ja: str,
    name_en: str,
    ordinance_name: str,
    enacted_on: date | None,
    today: date,
) -> CardService:
    """The service as the registry will hold it; every broken rule at once (FieldErrors).

    Names are stripped; an ordinance must have been enacted by today.
    """
    errors: list[DomainError] = []
    try:
        validate_service_code(code)
    except ValidationError as error:
        errors.append(error)
    texts = (
        ("name_ja", name_ja, MAX_NAME, "JUKI-ORD-002", "サービス名（日本語）", "Japanese name"),
        ("name_en", name_en, MAX_NAME, "JUKI-ORD-003", "サービス名（英語）", "English name"),
        (
            "ordinance_name",
            ordinance_name,
            MAX_ORDINANCE,
            "JUKI-ORD-004",
            "条例名",
            "ordinance's name",
        ),
    )
    for field, value, limit, error_code, ja_label, en_label in texts:
        if not value.strip() or len(value.strip()) > limit:
            errors.append(_text_error(field, limit, error_code, ja_label, en_label))
    if enacted_on is None or enacted_on > today:
        errors.append(
            ValidationError(
                "JUKI-ORD-005",
                ja="条例の制定日（本日以前）を入力してください。",
                en="Enter the day the ordinance was enacted (today or earlier).",
                field="enacted_on",
            )
        )
    if errors:
        raise FieldErrors(errors)
    assert enacted_on is not None  # checked above
    return CardService(
        code=code,
        name_ja=name_ja.strip(),
        name_en=name_en.strip(),
        ordinance_name=ordinance_name.strip(),
        enacted_on=enacted_on,
        active=True,
    )


def service_identifier_from(entropy: bytes) -> str:
    """A service identifier from random bytes: 24 base32 characters in groups of four.

    The caller draws ``entropy`` at random (:data:`IDENTIFIER_BYTES` of it); nothing about the
    resident goes in, so the identifier reveals nothing and cannot be traced back to them.
    """
    if len(entropy) != IDENTIFIER_BYTES:
        msg = f"a service identifier needs {IDENTIFIER_BYTES} random bytes"
        raise ValueError(msg)
    text = base64.b32encode(entropy).decode("ascii")
    return "-".join(text[i : i + 4] for i in range(0, len(text), 4))


def is_service_identifier(value: str) -> bool:
    """Whether ``value`` has the form of a service identifier."""
    return bool(_IDENTIFIER.match(value))


def already_registered() -> Conflict:
    """A service code the registry already holds (active or not: codes are never reused)."""
    return Conflict(
        "JUKI-ORD-010",
        ja="このサービスコードは既に登録されています。",
        en="A service with this code is already registered.",
        field="code",
    )


def unknown_service(field: str = "code") -> NotFound:
    """No service with this code in this municipality's registry."""
    return NotFound(
        "JUKI-ORD-011",
        ja="このサービスコードの条例利用サービスはありません。",
        en="There is no card service with this code.",
        field=field,
    )


def require_active(service: CardService, *, field: str = "code") -> None:
    """Refuse a service whose use has ended (deactivated in the registry)."""
    if not service.active:
        raise Conflict(
            "JUKI-ORD-012",
            ja="この条例利用サービスは廃止されています。",
            en="This card service is no longer active.",
            field=field,
        )


def deactivate(service: CardService) -> CardService:
    """End a service's use (its enrolments stay, unusable; its use counts stay published)."""
    if not service.active:
        raise Conflict(
            "JUKI-ORD-013",
            ja="この条例利用サービスは既に廃止されています。",
            en="This card service is already inactive.",
            field="code",
        )
    return CardService(
        code=service.code,
        name_ja=service.name_ja,
        name_en=service.name_en,
        ordinance_name=service.ordinance_name,
        enacted_on=service.enacted_on,
        active=False,
    )


def require_card_for_enrolment(card: ResidentCard | None, *, today: date) -> None:
    """Enrolment needs the resident's issued card in force: not applied, suspended or expired."""
    if card is None or card.network_status(today) is not NetworkStatus.VALID:
        raise Conflict(
            "JUKI-ORD-020",
            ja="条例利用の登録には、有効な住基カード（交付済み・一時停止でないもの）が必要です。",
            en="Enrolment needs the resident's issued card, valid and not suspended.",
            field="resident_code",
        )


def require_not_enrolled(state: EnrolmentState | None) -> None:
    """Refuse a second enrolment in one service."""
    if state is EnrolmentState.ENROLLED:
        raise Conflict(
            "JUKI-ORD-021",
            ja="この方は既にこのサービスに登録されています。",
            en="This resident is already enrolled in this service.",
            field="service_code",
        )


def require_enrolled(state: EnrolmentState | None) -> None:
    """Refuse to withdraw a resident who is not enrolled."""
    if state is not EnrolmentState.ENROLLED:
        raise Conflict(
            "JUKI-ORD-022",
            ja="この方はこのサービスに登録されていません。",
            en="This resident is not enrolled in this service.",
            field="service_code",
        )


def not_enrolled_at_terminal() -> PermissionDenied:
    """A card that authenticated but is not enrolled in the terminal's service."""
    return PermissionDenied(
        "JUKI-ORD-030",
        ja="このカードはこのサービスに利用登録されていません。窓口で登録してください。",
        en="This card is not enrolled in this service: enrol at the counter.",
        field="serial",
    )


_WRONG_PIN: Final = "JUKI-ORD-035"
#: A card's refusal at a terminal (JUKI-CARD-…) as the service terminal is told it (JUKI-ORD-…).
_TERMINAL_REFUSALS: Final[dict[str, tuple[str, str, str]]] = {
    "JUKI-CARD-011": (
        "JUKI-ORD-031",
        "このカードは一時停止中です（紛失届）。窓口で本人確認のうえ再開してください。",
        "This card is suspended after a loss report; it is resumed in person at the counter.",
    ),
    "JUKI-CARD-012": ("JUKI-ORD-032", "このカードは使用できません。", "This card cannot be used."),
    "JUKI-CARD-013": (
        "JUKI-ORD-032",
        "このカードは無効です（有効期限切れを含む）。",
        "This card is no longer valid (expired, or ended).",
    ),
    "JUKI-CARD-022": ("JUKI-ORD-032", "このカードは使用できません。", "This card cannot be used."),
    "JUKI-CARD-014": (
        "JUKI-ORD-033",
        "暗証番号の誤りが3回続いたため、カードはロックされています。"
        "窓口で本人確認のうえ暗証番号を再設定してください。",
        "The card is locked after three wrong PINs; the PIN is reset in person at the counter.",
    ),
    "JUKI-CARD-030": (
        _WRONG_PIN,
        "暗証番号が違います。",
        "The PIN is wrong.",
    ),
}


def terminal_refusal(card_error: DomainError) -> DomainError:
    """The service terminal's refusal for a card refusal: a JUKI-ORD code, same kind of error.

    State refusals (suspended, invalid, locked) are conflicts; a card that could not prove
    itself (signature, challenge) is an authentication failure (JUKI-ORD-034).
    """
    known = _TERMINAL_REFUSALS.get(card_error.code)
    if known is not None:
        code, ja, en = known
        if code == _WRONG_PIN:
            return AuthenticationFailed(code, ja=ja, en=en, field="pin")
        return Conflict(code, ja=ja, en=en, field="serial")
    if isinstance(card_error, AuthenticationFailed):
        return AuthenticationFailed(
            "JUKI-ORD-034",
            ja="カードを確認できませんでした。最初からやり直してください。",
            en="The card could not be verified: start again.",
            field="signature",
        )
    return card_error
