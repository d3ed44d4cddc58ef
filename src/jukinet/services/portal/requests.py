"""Residents' requests from the portal, queued for the counter (窓口の処理待ち).

A resident-code change and an opt-out / opt-back-in (where the municipality allows it) need a
clerk: the portal queues a task and shows its outcome once the counter has decided. A loss
report needs no clerk: the card is suspended at once (the network is told through the outbox
in the same transaction) and every portal session opened with it ends; the task is recorded
as done. One input model (:class:`PortalRequest`) serves the page and the API.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from jukinet.domain import resident_card as rules
from jukinet.domain.access_log import Action, ActorKind, Channel
from jukinet.domain.codes import mask_resident_code
from jukinet.domain.errors import Conflict, NotFound, ValidationError
from jukinet.domain.operators import Actor, Permission
from jukinet.services.context import ServiceContext
from jukinet.services.portal.signin import PORTAL_PLACE, PortalResident, end_sessions_of_card
from jukinet.services.resident_card import records
from jukinet.services.resident_card.records import CardWork
from jukinet.storage.card_tables import ResidentCardRow
from jukinet.storage.portal_tables import PortalTaskRow

NOTE_LIMIT: Final = 200


class TaskKind(StrEnum):
    """What a resident asked for."""

    CODE_CHANGE = "code_change"
    CARD_LOSS = "card_loss"
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"


class TaskStatus(StrEnum):
    """Where a request stands."""

    QUEUED = "queued"
    DONE = "done"
    REFUSED = "refused"


@dataclass(frozen=True, slots=True)
class PortalRequest:
    """A request from the portal: its kind and the resident's note."""

    kind: str
    note: str = ""


@dataclass(frozen=True, slots=True)
class TaskDecision:
    """The counter's decision on one task."""

    task_id: int
    status: str
    outcome: str = ""


@dataclass(frozen=True, slots=True)
class TaskView:
    """A task as the resident (own tasks) or the counter (masked code) sees it."""

    task_id: int
    kind: str
    status: str
    note: str
    outcome: str | None
    created_at: str
    decided_at: str | None
    masked_code: str


def _view(row: PortalTaskRow) -> TaskView:
    return TaskView(
        task_id=row.id,
        kind=row.kind,
        status=row.status,
        note=str(row.details.get("note", "")),
        outcome=row.outcome,
        created_at=row.created_at.isoformat(),
        decided_at=row.decided_at.isoformat() if row.decided_at else None,
        masked_code=mask_resident_code(str(row.details.get("resident_code", ""))),
    )


def _check(node: ServiceContext, request: PortalRequest) -> TaskKind:
    try:
        kind = TaskKind(request.kind)
    except ValueError as error:
        raise ValidationError(
            "JUKI-PORTAL-010",
            ja="申請の種類が正しくありません。",
            en="Unknown kind of request.",
            field="kind",
        ) from error
    if len(request.note) > NOTE_LIMIT:
        raise ValidationError(
            "JUKI-PORTAL-013",
            ja=f"備考は{NOTE_LIMIT}文字以内で入力してください。",
            en=f"The note is at most {NOTE_LIMIT} characters.",
            field="note",
        )
    if kind in (TaskKind.OPT_OUT, TaskKind.OPT_IN) and not node.settings.allow_opt_out:
        raise Conflict(
            "JUKI-PORTAL-011",
            ja="この市区町村では通知の選択制を採用していません。",
            en="This municipality does not let residents opt out.",
            field="kind",
        )
    return kind


def file_request(
    node: ServiceContext, *, resident: PortalResident, request: PortalRequest
) -> TaskView:
    """Queue the request for the counter; a loss report suspends the card at once.

    Refuses an unknown kind, a long note, an opt-out where not allowed, and a second queued
    request of the same kind (nothing is written then).
    """
    kind = _check(node, request)
    now = node.now()
    with node.uow() as uow:
        session = uow.session
        pending = session.scalar(
            select(PortalTaskRow.id).where(
                PortalTaskRow.resident_id == resident.resident_id,
                PortalTaskRow.kind == kind.value,
                PortalTaskRow.status == TaskStatus.QUEUED.value,
            )
        )
        if pending is not None:
            raise Conflict(
                "JUKI-PORTAL-012",
                ja="同じ申請が既に受付待ちです。",
                en="The same request is already waiting at the counter.",
                field="kind",
            )
        row = PortalTaskRow(
            resident_id=resident.resident_id,
            kind=kind.value,
            status=TaskStatus.QUEUED.value,
            details={"note": request.note.strip(), "resident_code": resident.resident_code},
            created_at=now,
        )
        if kind is TaskKind.CARD_LOSS:
            _suspend(node, uow.session, resident)
            row.status = TaskStatus.DONE.value
            row.outcome = "card_suspended"
            row.decided_at = now
            row.decided_by = PORTAL_PLACE
        session.add(row)
        session.flush()
        view = _view(row)
        uow.commit()
    return view


def _suspend(node: ServiceContext, session: Session, resident: PortalResident) -> None:
    card = session.scalars(
        select(ResidentCardRow).where(ResidentCardRow.serial == resident.card_serial)
    ).one()
    work = CardWork(
        node=node,
        session=session,
        now=node.now(),
        actor=PORTAL_PLACE,
        actor_kind=ActorKind.SYSTEM,
        place=PORTAL_PLACE,
        channel=Channel.SYSTEM,
    )
    before = records.to_card(card)
    after = rules.suspend(before, today=work.today)
    records.copy_onto(after, card, now=work.now, by=card.updated_by)
    work.event(card, "suspended", {"caller_relation": "self", "via": PORTAL_PLACE})
    work.logged(card, action=Action.WRITE, reason="card:suspended")
    if after.network_status(work.today) is not before.network_status(work.today):
        work.notify(card, after)
    end_sessions_of_card(session, card.serial, reason="card_lost", node=node)


def tasks_of(node: ServiceContext, *, resident: PortalResident) -> list[TaskView]:
    """The signed-in resident's own requests, newest first (nobody else's)."""
    with node.read_session() as session:
        rows = session.scalars(
            select(PortalTaskRow)
            .where(PortalTaskRow.resident_id == resident.resident_id)
            .order_by(PortalTaskRow.id.desc())
        ).all()
        return [_view(row) for row in rows]


def counter_queue(node: ServiceContext, *, actor: Actor, limit: int = 200) -> list[TaskView]:
    """The counter's queue: waiting tasks first, then the latest decided (codes masked)."""
    actor.require(Permission.FILE_EVENTS)
    with node.read_session() as session:
        rows = session.scalars(
            select(PortalTaskRow)
            .order_by(
                (PortalTaskRow.status == TaskStatus.QUEUED.value).desc(), PortalTaskRow.id.desc()
            )
            .limit(limit)
        ).all()
        return [_view(row) for row in rows]


def decide_task(node: ServiceContext, *, actor: Actor, decision: TaskDecision) -> TaskView:
    """Record the counter's outcome of a waiting task (done or refused, with a note)."""
    actor.require(Permission.FILE_EVENTS)
    if decision.status not in (TaskStatus.DONE.value, TaskStatus.REFUSED.value):
        raise ValidationError(
            "JUKI-PORTAL-014",
            ja="処理結果は「完了」か「不可」を選んでください。",
            en="Choose done or refused.",
            field="status",
        )
    if len(decision.outcome) > NOTE_LIMIT:
        raise ValidationError(
            "JUKI-PORTAL-013",
            ja=f"備考は{NOTE_LIMIT}文字以内で入力してください。",
            en=f"The note is at most {NOTE_LIMIT} characters.",
            field="outcome",
        )
    with node.uow() as uow:
        row = uow.session.get(PortalTaskRow, decision.task_id)
        if row is None:
            raise NotFound(
                "JUKI-PORTAL-015", ja="この申請はありません。", en="No such request.", field="task"
            )
        if row.status != TaskStatus.QUEUED.value:
            raise Conflict(
                "JUKI-PORTAL-016",
                ja="この申請は既に処理済みです。",
                en="This request has already been decided.",
                field="task",
            )
        row.status = decision.status
        row.outcome = decision.outcome.strip() or decision.status
        row.decided_at = node.now()
        row.decided_by = actor.username
        view = _view(row)
        uow.commit()
    return view
