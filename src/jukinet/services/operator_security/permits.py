"""Out-of-hours permits (時間外利用許可): asked for by one operator, approved by another."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from jukinet.domain.clock import aware_utc
from jukinet.domain.errors import Conflict, NotFound, PermissionDenied, ValidationError
from jukinet.domain.operator_events import OperatorEvent
from jukinet.domain.operators import Actor, Permission
from jukinet.services.context import ServiceContext
from jukinet.services.operator_security.events import log_event
from jukinet.storage.tables import OperatorRow, OutOfHoursPermitRow


@dataclass(frozen=True, slots=True)
class PermitView:
    """A permit as the security console lists it."""

    id: int
    operator: str
    reason: str
    minutes: int
    requested_at: datetime
    approved_by: str | None
    ends_at: datetime | None
    ended_at: datetime | None
    state: str


def request_permit(
    node: ServiceContext, *, actor: Actor, reason: str, minutes: int | None = None
) -> PermitView:
    """Ask for an out-of-hours permit for oneself, with the reason."""
    actor.require(Permission.REQUEST_PERMITS)
    text = reason.strip()
    if not text or len(text) > 200:
        raise ValidationError(
            "JUKI-PRM-001",
            ja="時間外利用の理由を200文字以内で入力してください。",
            en="Give the reason for working out of hours (at most 200 characters).",
            field="reason",
        )
    length = minutes if minutes is not None else node.settings.permit_default_minutes
    if not 5 <= length <= 12 * 60:
        raise ValidationError(
            "JUKI-PRM-002",
            ja="許可の時間は5分から12時間の間で指定してください。",
            en="A permit lasts between 5 minutes and 12 hours.",
            field="minutes",
        )
    with node.uow() as uow:
        row = OutOfHoursPermitRow(
            operator_id=actor.operator_id,
            reason=text,
            minutes=length,
            requested_at=node.now(),
        )
        uow.session.add(row)
        uow.session.flush()
        log_event(
            node,
            uow.session,
            OperatorEvent.PERMIT_REQUESTED,
            actor=actor.username,
            text=f"#{row.id} {length} min: {text}",
            terminal=actor.terminal_id,
        )
        uow.commit()
        return _view(uow.session, row, node.now())


def approve_permit(node: ServiceContext, *, actor: Actor, permit_id: int) -> PermitView:
    """Approve another operator's request (security officer or supervisor, with their card)."""
    actor.require(Permission.APPROVE_PERMITS)
    now = node.now()
    with node.uow() as uow:
        row = _permit(uow.session, permit_id)
        if row.operator_id == actor.operator_id:
            raise PermissionDenied(
                "JUKI-PRM-003",
                ja="自分の時間外利用許可は承認できません。別の責任者が承認します。",
                en="You cannot approve your own permit: a second officer approves it.",
            )
        if row.approved_at is not None or row.ended_at is not None:
            raise Conflict(
                "JUKI-PRM-004",
                ja="この申請は既に承認または終了しています。",
                en="This request was already approved or ended.",
            )
        row.approved_by = actor.operator_id
        row.approved_at = now
        row.ends_at = now + timedelta(minutes=row.minutes)
        log_event(
            node,
            uow.session,
            OperatorEvent.PERMIT_APPROVED,
            actor=actor.username,
            text=f"#{row.id} until {row.ends_at.isoformat(timespec='minutes')}",
            terminal=actor.terminal_id,
        )
        uow.commit()
        return _view(uow.session, row, now)


def end_permit(node: ServiceContext, *, actor: Actor, permit_id: int) -> PermitView:
    """End a permit early (or withdraw a request): its holder or any approver."""
    now = node.now()
    with node.uow() as uow:
        row = _permit(uow.session, permit_id)
        if row.operator_id != actor.operator_id:
            actor.require(Permission.APPROVE_PERMITS)
        if row.ended_at is not None:
            raise Conflict(
                "JUKI-PRM-005", ja="この許可は既に終了しています。", en="This permit has ended."
            )
        row.ended_at = now
        row.ended_by = actor.operator_id
        log_event(
            node,
            uow.session,
            OperatorEvent.PERMIT_ENDED,
            actor=actor.username,
            text=f"#{row.id}",
            terminal=actor.terminal_id,
        )
        uow.commit()
        return _view(uow.session, row, now)


def list_permits(node: ServiceContext, *, actor: Actor) -> list[PermitView]:
    """Approvers see every permit of the last 30 days; others their own."""
    now = node.now()
    query = select(OutOfHoursPermitRow).where(
        OutOfHoursPermitRow.requested_at >= now - timedelta(days=30)
    )
    if not actor.can(Permission.APPROVE_PERMITS):
        query = query.where(OutOfHoursPermitRow.operator_id == actor.operator_id)
    with node.uow() as uow:
        rows = uow.session.scalars(query.order_by(OutOfHoursPermitRow.requested_at.desc()))
        return [_view(uow.session, row, now) for row in rows]


def _permit(session: Session, permit_id: int) -> OutOfHoursPermitRow:
    row = session.get(OutOfHoursPermitRow, permit_id)
    if row is None:
        raise NotFound("JUKI-PRM-006", ja="その申請はありません。", en="No such permit request.")
    return row


def _view(session: Session, row: OutOfHoursPermitRow, now: datetime) -> PermitView:
    operator = session.get(OperatorRow, row.operator_id)
    approver = session.get(OperatorRow, row.approved_by) if row.approved_by else None
    if row.ended_at is not None:
        state = "ended"
    elif row.approved_at is None:
        state = "requested"
    elif row.ends_at is not None and aware_utc(row.ends_at) <= now:
        state = "expired"
    else:
        state = "in_force"
    return PermitView(
        id=row.id,
        operator=operator.username if operator else "?",
        reason=row.reason,
        minutes=row.minutes,
        requested_at=aware_utc(row.requested_at),
        approved_by=approver.username if approver else None,
        ends_at=aware_utc(row.ends_at) if row.ends_at else None,
        ended_at=aware_utc(row.ended_at) if row.ended_at else None,
        state=state,
    )
