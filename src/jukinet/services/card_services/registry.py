"""The registry of card services by ordinance (条例利用): add, list, deactivate.

A supervisor enters each service the council enacted, with its ordinance's name and the day
it was enacted; a service whose ordinance was repealed is deactivated (its code is never
reused, its enrolments stay but no terminal accepts them, its use counts stay published).
Every change is written to the access log in its own transaction; the registry names no
resident, so the entries name none.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime

from sqlalchemy import select

from jukinet.domain import card_services as rules
from jukinet.domain.access_log import Action
from jukinet.domain.card_services import CardService
from jukinet.domain.operators import Actor, Permission
from jukinet.services.card_services.inputs import NewCardService
from jukinet.services.card_services.work import ServiceLog, find_service, load_service, to_service
from jukinet.services.context import ServiceContext
from jukinet.storage.card_service_tables import CardServiceRow


@dataclass(frozen=True, slots=True)
class CardServiceView(CardService):
    """A service as the counter and the transparency page show it: the ordinance's facts and
    when the registry took it in (and ended it)."""

    created_at: datetime
    deactivated_at: datetime | None


def view_of(row: CardServiceRow) -> CardServiceView:
    """What is shown of a registry row."""
    service = to_service(row)
    facts = {field.name: getattr(service, field.name) for field in fields(CardService)}
    return CardServiceView(**facts, created_at=row.created_at, deactivated_at=row.deactivated_at)


def _log(node: ServiceContext, actor: Actor) -> ServiceLog:
    return ServiceLog(node=node, now=node.now(), actor=actor.username, terminal=actor.terminal_id)


def add_service(node: ServiceContext, *, actor: Actor, service: NewCardService) -> CardServiceView:
    """Enter a service the council enacted; refuses a code the registry already holds."""
    actor.require(Permission.MANAGE_CARD_SERVICES)
    checked = rules.check_new_service(
        code=service.code,
        name_ja=service.name_ja,
        name_en=service.name_en,
        ordinance_name=service.ordinance_name,
        enacted_on=service.enacted_on,
        today=node.today(),
    )
    with node.uow() as uow:
        if find_service(uow.session, checked.code) is not None:
            raise rules.already_registered()
        log = _log(node, actor)
        row = CardServiceRow(
            code=checked.code,
            name_ja=checked.name_ja,
            name_en=checked.name_en,
            ordinance_name=checked.ordinance_name,
            enacted_on=checked.enacted_on,
            active=True,
            created_at=log.now,
            created_by=actor.operator_id,
        )
        uow.session.add(row)
        uow.flush()
        log.record(
            uow.session, action=Action.WRITE, reason=f"card-service:registry:added: {row.code}"
        )
        view = view_of(row)
        uow.commit()
    return view


def deactivate_service(node: ServiceContext, *, actor: Actor, code: str) -> CardServiceView:
    """End a service (its ordinance repealed): no terminal accepts its cards from now on."""
    actor.require(Permission.MANAGE_CARD_SERVICES)
    with node.uow() as uow:
        row = load_service(uow.session, code)
        ended = rules.deactivate(to_service(row))
        log = _log(node, actor)
        row.active = ended.active
        row.deactivated_at = log.now
        row.deactivated_by = actor.operator_id
        log.record(
            uow.session, action=Action.WRITE, reason=f"card-service:registry:deactivated: {code}"
        )
        view = view_of(row)
        uow.commit()
    return view


def list_services(node: ServiceContext) -> list[CardServiceView]:
    """Every service the registry holds, active ones first, then by code.

    Public facts (the council's ordinances): no permission, no log entry.
    """
    with node.read_session() as session:
        rows = session.scalars(
            select(CardServiceRow).order_by(CardServiceRow.active.desc(), CardServiceRow.code)
        ).all()
        return [view_of(row) for row in rows]
