"""The node's operating hours and calendar, and out-of-hours permits in force."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Integer, bindparam, cast, literal, null, select, union_all
from sqlalchemy.orm import Session

from jukinet.domain.business_hours import Calendar, DayHours, day_hours
from jukinet.domain.clock import JST
from jukinet.domain.errors import ValidationError
from jukinet.domain.operator_events import OperatorEvent
from jukinet.domain.operators import Actor, Permission
from jukinet.services.context import ServiceContext
from jukinet.services.operator_security.events import log_event
from jukinet.storage.tables import CalendarDayRow, OperatingHoursRow, OutOfHoursPermitRow

#: A town hall's usual hours (8:30–17:15, Monday to Friday) until a security officer sets the
#: node's own.
DEFAULT_HOURS: dict[int, DayHours] = {
    weekday: day_hours("08:30", "17:15", field="hours") for weekday in range(5)
}


def load_calendar(session: Session) -> Calendar:
    """The hours and local days as stored (two small reads); the defaults until set.

    Once set, all seven weekdays are stored, a closed day with empty times.
    """
    rows = list(session.scalars(select(OperatingHoursRow)))
    hours = (
        {
            row.weekday: day_hours(row.opens, row.closes, field=f"hours.{row.weekday}")
            for row in rows
            if row.opens
        }
        if rows
        else DEFAULT_HOURS
    )
    days = {row.day: row.open for row in session.scalars(select(CalendarDayRow))}
    return Calendar(hours=hours, exceptions=days)


def permit_in_force(
    session: Session, operator_id: int, now: datetime
) -> OutOfHoursPermitRow | None:
    """The operator's approved permit covering ``now``, if any."""
    return session.scalars(_PERMIT_IN_FORCE, {"operator_id": operator_id, "now": now}).first()


_PERMIT_IN_FORCE = (
    select(OutOfHoursPermitRow)
    .where(
        OutOfHoursPermitRow.operator_id == bindparam("operator_id"),
        OutOfHoursPermitRow.approved_at.is_not(None),
        OutOfHoursPermitRow.ended_at.is_(None),
        OutOfHoursPermitRow.ends_at > bindparam("now", type_=OutOfHoursPermitRow.ends_at.type),
    )
    .limit(1)
)


#: The stored hours (at most seven rows) and one day's local exception, in one statement built
#: once (it runs on every request).
_HOURS_AND_DAY = union_all(
    select(
        OperatingHoursRow.weekday,
        OperatingHoursRow.opens,
        OperatingHoursRow.closes,
        cast(null(), Boolean).label("open"),
    ),
    select(cast(null(), Integer), literal(""), literal(""), CalendarDayRow.open).where(
        CalendarDayRow.day == bindparam("day")
    ),
)


def calendar_for_day(session: Session, day: date) -> Calendar:
    """What :func:`load_calendar` gives, with only ``day``'s local exception: enough to tell
    whether a moment of ``day`` is open, in one small read (it runs on every request)."""
    rows = session.execute(_HOURS_AND_DAY, {"day": day}).all()
    stored = [row for row in rows if row.weekday is not None]
    hours = (
        {
            row.weekday: day_hours(row.opens, row.closes, field=f"hours.{row.weekday}")
            for row in stored
            if row.opens
        }
        if stored
        else DEFAULT_HOURS
    )
    exception = [bool(row.open) for row in rows if row.weekday is None]
    return Calendar(hours=hours, exceptions={day: exception[0]} if exception else {})


def within_hours(session: Session, operator_id: int, now: datetime) -> bool:
    """Whether the operator may work now: open hours, or a permit in force (read only when
    the counter is closed)."""
    return calendar_for_day(session, now.astimezone(JST).date()).is_open(now) or (
        permit_in_force(session, operator_id, now) is not None
    )


def set_hours(
    node: ServiceContext, *, actor: Actor, hours: dict[int, tuple[str, str] | None]
) -> Calendar:
    """Replace the opening hours (weekday → (opens, closes) or ``None`` for closed)."""
    actor.require(Permission.MANAGE_HOURS)
    checked: dict[int, DayHours] = {}
    for weekday, span in sorted(hours.items()):
        if weekday not in range(7):
            raise ValidationError(
                "JUKI-HRS-003",
                ja="曜日が正しくありません。",
                en="No such weekday.",
                field="weekday",
            )
        if span is not None:
            checked[weekday] = day_hours(span[0], span[1], field=f"hours.{weekday}")
    with node.uow() as uow:
        for row in uow.session.scalars(select(OperatingHoursRow)):
            uow.session.delete(row)
        uow.session.flush()
        for weekday in range(7):
            span_hours = checked.get(weekday)
            uow.session.add(
                OperatingHoursRow(
                    weekday=weekday,
                    opens=span_hours.opens.strftime("%H:%M") if span_hours else "",
                    closes=span_hours.closes.strftime("%H:%M") if span_hours else "",
                )
            )
        summary = ", ".join(f"{d}={h.opens:%H:%M}-{h.closes:%H:%M}" for d, h in checked.items())
        log_event(
            node,
            uow.session,
            OperatorEvent.HOURS_CHANGED,
            actor=actor.username,
            text=summary or "closed every day",
            terminal=actor.terminal_id,
        )
        uow.commit()
        return load_calendar(uow.session)


def set_calendar_day(
    node: ServiceContext, *, actor: Actor, day: date, is_open: bool | None, note: str
) -> None:
    """Mark ``day`` as a local closure (``False``), an extra opening (``True``), or clear it."""
    actor.require(Permission.MANAGE_HOURS)
    text = note.strip()
    if is_open is not None and (not text or len(text) > 80):
        raise ValidationError(
            "JUKI-HRS-004",
            ja="理由を80文字以内で入力してください。",
            en="Give the reason (at most 80 characters).",
            field="note",
        )
    with node.uow() as uow:
        row = uow.session.get(CalendarDayRow, day)
        if row is not None:
            uow.session.delete(row)
            uow.session.flush()
        if is_open is not None:
            uow.session.add(CalendarDayRow(day=day, open=is_open, note=text))
        state = "cleared" if is_open is None else ("open" if is_open else "closed")
        log_event(
            node,
            uow.session,
            OperatorEvent.HOURS_CHANGED,
            actor=actor.username,
            text=f"{day.isoformat()} {state}",
            terminal=actor.terminal_id,
        )
        uow.commit()


def calendar_days(node: ServiceContext, *, actor: Actor) -> list[tuple[date, bool, str]]:
    """The local openings and closures with their notes, by date (security officer)."""
    actor.require(Permission.MANAGE_HOURS)
    with node.uow() as uow:
        rows = uow.session.scalars(select(CalendarDayRow).order_by(CalendarDayRow.day))
        return [(row.day, row.open, row.note) for row in rows]


def calendar(node: ServiceContext) -> Calendar:
    """The calendar as stored (anyone signed in may see when the counter is open)."""
    with node.uow() as uow:
        return load_calendar(uow.session)
