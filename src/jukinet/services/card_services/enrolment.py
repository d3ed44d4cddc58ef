"""Enrolment in card services at the counter (利用登録・利用廃止).

A resident with a valid card enrols in a service the registry holds and is active; the
enrolment gets the service's own identifier for them, drawn at random (never the resident code,
nor anything computed from it). Withdrawing needs no card; enrolling again later restores the
same identifier, so the identifier is stable per (service, resident). Every enrolment,
withdrawal and listing is a logged act about the resident, in the same transaction.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from jukinet.domain import card_services as rules
from jukinet.domain.access_log import Action
from jukinet.domain.card_services import EnrolmentState
from jukinet.domain.operators import Actor, Permission
from jukinet.services.card_services.inputs import Enrolment, Withdrawal
from jukinet.services.card_services.work import ServiceLog, load_service, to_service
from jukinet.services.context import ServiceContext
from jukinet.services.resident_card.records import live_card_of, to_card
from jukinet.storage.card_service_tables import CardServiceEnrolmentRow, CardServiceRow


@dataclass(frozen=True, slots=True)
class EnrolmentView:
    """One of a resident's enrolments, as the counter shows it to the resident."""

    service_code: str
    service_name_ja: str
    service_name_en: str
    service_active: bool
    state: EnrolmentState
    #: The service's identifier for this resident (what its terminals receive).
    service_identifier: str
    enrolled_at: datetime
    withdrawn_at: datetime | None


def _view(row: CardServiceEnrolmentRow, service: CardServiceRow) -> EnrolmentView:
    return EnrolmentView(
        service_code=service.code,
        service_name_ja=service.name_ja,
        service_name_en=service.name_en,
        service_active=service.active,
        state=EnrolmentState(row.state),
        service_identifier=row.service_identifier,
        enrolled_at=row.enrolled_at,
        withdrawn_at=row.withdrawn_at,
    )


def _log(node: ServiceContext, actor: Actor) -> ServiceLog:
    return ServiceLog(node=node, now=node.now(), actor=actor.username, terminal=actor.terminal_id)


def _enrolment(
    session: Session, service_id: int, resident_id: int
) -> CardServiceEnrolmentRow | None:
    return session.scalars(
        select(CardServiceEnrolmentRow).where(
            CardServiceEnrolmentRow.service_id == service_id,
            CardServiceEnrolmentRow.resident_id == resident_id,
        )
    ).one_or_none()


def _state(row: CardServiceEnrolmentRow | None) -> EnrolmentState | None:
    return EnrolmentState(row.state) if row is not None else None


def new_service_identifier() -> str:
    """A fresh random service identifier (120 bits from the system's CSPRNG)."""
    return rules.service_identifier_from(secrets.token_bytes(rules.IDENTIFIER_BYTES))


def enrol(node: ServiceContext, *, actor: Actor, enrolment: Enrolment) -> EnrolmentView:
    """利用登録: the resident, with their valid card, enrols in an active service."""
    actor.require(Permission.ENROL_CARD_SERVICES)
    with node.uow() as uow:
        service = load_service(uow.session, enrolment.service_code, field="service_code")
        rules.require_active(to_service(service), field="service_code")
        resident = uow.residents.get_row(enrolment.resident_code)
        card = live_card_of(uow.session, resident.id)
        rules.require_card_for_enrolment(
            to_card(card) if card is not None else None, today=node.today()
        )
        row = _enrolment(uow.session, service.id, resident.id)
        rules.require_not_enrolled(_state(row))
        log = _log(node, actor)
        if row is None:
            row = CardServiceEnrolmentRow(
                service_id=service.id,
                resident_id=resident.id,
                service_identifier=new_service_identifier(),
            )
            uow.session.add(row)
        # Enrolling again after a withdrawal restores the same identifier.
        row.state = EnrolmentState.ENROLLED.value
        row.enrolled_at = log.now
        row.enrolled_by = actor.operator_id
        row.withdrawn_at = None
        row.withdrawn_by = None
        uow.flush()
        log.record(
            uow.session,
            action=Action.WRITE,
            reason=f"card-service:enrolled: {service.code}",
            subject=resident.resident_code,
        )
        view = _view(row, service)
        uow.commit()
    return view


def withdraw(node: ServiceContext, *, actor: Actor, withdrawal: Withdrawal) -> EnrolmentView:
    """利用廃止: the resident leaves a service (no card needed; the identifier is kept)."""
    actor.require(Permission.ENROL_CARD_SERVICES)
    with node.uow() as uow:
        service = load_service(uow.session, withdrawal.service_code, field="service_code")
        resident = uow.residents.get_row(withdrawal.resident_code)
        row = _enrolment(uow.session, service.id, resident.id)
        rules.require_enrolled(_state(row))
        assert row is not None  # require_enrolled refused otherwise
        log = _log(node, actor)
        row.state = EnrolmentState.WITHDRAWN.value
        row.withdrawn_at = log.now
        row.withdrawn_by = actor.operator_id
        log.record(
            uow.session,
            action=Action.WRITE,
            reason=f"card-service:withdrawn: {service.code}",
            subject=resident.resident_code,
        )
        view = _view(row, service)
        uow.commit()
    return view


def enrolments_of(node: ServiceContext, *, actor: Actor, resident_code: str) -> list[EnrolmentView]:
    """A resident's enrolments, current and withdrawn, by service code (a logged read)."""
    actor.require(Permission.ENROL_CARD_SERVICES)
    with node.uow() as uow:
        resident = uow.residents.get_row(resident_code)
        pairs = uow.session.execute(
            select(CardServiceEnrolmentRow, CardServiceRow)
            .join(CardServiceRow, CardServiceRow.id == CardServiceEnrolmentRow.service_id)
            .where(CardServiceEnrolmentRow.resident_id == resident.id)
            .order_by(CardServiceRow.code)
        ).all()
        _log(node, actor).record(
            uow.session,
            action=Action.READ,
            reason="card-service:enrolments",
            subject=resident.resident_code,
        )
        views = [_view(row, service) for row, service in pairs]
        uow.commit()
    return views
