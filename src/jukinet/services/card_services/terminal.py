"""A service's terminal: the card proves itself with its PIN, the service gets its identifier.

The terminal asks for a one-time challenge, the resident enters the PIN on the card, the card
signs the challenge, and the node checks it (:mod:`jukinet.services.resident_card.terminal`:
status, PIN lock, expiry, signature). The card is then mapped to the resident's enrolment in
this service, and the terminal is answered with the service's code and its identifier for
the resident — nothing else: not the resident code, not the serial's holder, not a name.

Every refusal (unknown or inactive service, a card refused, a card not enrolled) is a
JUKI-ORD error and an access-log entry; each accepted use adds one to the service's count of
the day (no personal data) that the transparency page publishes.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from jukinet.domain import card_services as rules
from jukinet.domain.access_log import Action, ActorKind
from jukinet.domain.card_services import EnrolmentState
from jukinet.domain.errors import DomainError
from jukinet.domain.resident_card import validate_pin
from jukinet.services.card_services.work import ServiceLog, load_service, to_service
from jukinet.services.context import ServiceContext
from jukinet.services.resident_card.terminal import (
    CardChallenge,
    authenticate_card,
    new_challenge,
    open_chip,
)
from jukinet.storage.card_service_tables import CardServiceEnrolmentRow, count_use


@dataclass(frozen=True, slots=True)
class ServiceUse:
    """What a service terminal is told about an accepted card: its service and its identifier."""

    service_code: str
    service_identifier: str


def _log(node: ServiceContext, place: str) -> ServiceLog:
    return ServiceLog(
        node=node, now=node.now(), actor=place, actor_kind=ActorKind.SYSTEM, terminal=place
    )


def _refused(
    node: ServiceContext, *, code: str, place: str, error: DomainError, subject: str | None = None
) -> DomainError:
    """Record the refusal (its own transaction) and return the error to raise."""
    with node.uow() as uow:
        _log(node, place).record(
            uow.session,
            action=Action.REFUSED,
            reason=f"card-service:refused {error.code}: {code[:40]}",
            subject=subject,
        )
        uow.commit()
    return error


def _usable_service_id(node: ServiceContext, *, code: str, place: str) -> int:
    """The id of the active service ``code``; an unknown or inactive one is refused (logged)."""
    try:
        with node.uow() as uow:
            row = load_service(uow.session, code)
            rules.require_active(to_service(row))
            return row.id
    except DomainError as error:
        raise _refused(node, code=code, place=place, error=error) from None


def service_challenge(node: ServiceContext, *, code: str, place: str) -> CardChallenge:
    """A one-time challenge for a card at a terminal of service ``code`` (active only)."""
    _usable_service_id(node, code=code, place=place)
    return new_challenge(node)


def use_service(
    node: ServiceContext,
    *,
    code: str,
    serial: str,
    challenge_id: str,
    signature: bytes,
    place: str,
) -> ServiceUse:
    """Authenticate the card that signed the challenge; answer the service's identifier.

    Refuses (JUKI-ORD-…, logged) an unknown or inactive service, a suspended, invalid,
    expired or PIN-locked card, a bad signature or challenge, and a card not enrolled.
    """
    service_id = _usable_service_id(node, code=code, place=place)
    try:
        card = authenticate_card(
            node, serial=serial, challenge_id=challenge_id, signature=signature, place=place
        )
    except DomainError as error:
        raise _refused(node, code=code, place=place, error=rules.terminal_refusal(error)) from None
    with node.uow() as uow:
        enrolment = None
        if card.resident_id is not None:
            enrolment = uow.session.scalars(
                select(CardServiceEnrolmentRow).where(
                    CardServiceEnrolmentRow.service_id == service_id,
                    CardServiceEnrolmentRow.resident_id == card.resident_id,
                    CardServiceEnrolmentRow.state == EnrolmentState.ENROLLED.value,
                )
            ).one_or_none()
        if enrolment is None:
            uow.rollback()
            # Another town's card is never enrolled here (enrolment is at the home counter).
            raise _refused(
                node,
                code=code,
                place=place,
                error=rules.not_enrolled_at_terminal(),
                subject=card.resident_code,
            )
        count_use(uow.session, service_id, node.today())
        _log(node, place).record(
            uow.session,
            action=Action.READ,
            reason=f"card-service:used: {code}",
            subject=card.resident_code,
        )
        use = ServiceUse(service_code=code, service_identifier=enrolment.service_identifier)
        uow.commit()
    return use


def use_service_with_pin(
    node: ServiceContext, *, code: str, serial: str, pin: str, place: str
) -> ServiceUse:
    """The whole exchange on this node's own card reader (the command line's ``use``).

    The PIN is entered on the card (the register counts wrong ones, three lock the card).
    """
    validate_pin(pin)
    challenge = service_challenge(node, code=code, place=place)
    try:
        with open_chip(node, serial=serial, pin=pin, place=place) as card:
            signature = card.authenticate(challenge.message)
    except DomainError as error:
        raise _refused(node, code=code, place=place, error=rules.terminal_refusal(error)) from None
    return use_service(
        node,
        code=code,
        serial=serial,
        challenge_id=challenge.challenge_id,
        signature=signature,
        place=place,
    )
