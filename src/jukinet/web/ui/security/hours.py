"""Operating hours and the calendar (業務時間・閉庁日) for the security officer.

The weekly hours (seven rows, each a span or closed), the town's own openings and closures,
today's state and the coming public holidays (``jpholiday``) and the year-end closure.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Final

from fastapi import APIRouter, Request
from fastapi.responses import Response

from jukinet.domain.business_hours import Calendar, holiday_name, is_year_end_closure
from jukinet.domain.clock import JST
from jukinet.domain.operators import Actor, Permission
from jukinet.services.context import ServiceContext
from jukinet.services.operator_security.hours import (
    calendar,
    calendar_days,
    set_calendar_day,
    set_hours,
)
from jukinet.web.auth import NodeDep
from jukinet.web.ui.common import FormState, PageActor, PostedForm, render
from jukinet.web.ui.i18n import Translator, request_lang
from jukinet.web.ui.security.common import confirmation, refusal, required, run_form

router = APIRouter()

PATH = "/security/hours"
WEEKDAYS: Final = range(7)
#: How many coming holidays the page lists, looking this far ahead.
_HOLIDAYS_SHOWN: Final = 8
_LOOK_AHEAD: Final = timedelta(days=366)
_CALENDAR_STATES: Final = ("closed", "open", "clear")


def _hours_inputs() -> tuple[str, ...]:
    return tuple(f"h{d}_{part}" for d in WEEKDAYS for part in ("opens", "closes", "closed"))


def _hours_fields() -> dict[str, str]:
    """The service's ``hours.3.opens`` → this form's ``h3_opens`` (a whole day: its closing)."""
    fields: dict[str, str] = {}
    for d in WEEKDAYS:
        fields[f"hours.{d}.opens"] = f"h{d}_opens"
        fields[f"hours.{d}.closes"] = f"h{d}_closes"
        fields[f"hours.{d}"] = f"h{d}_closes"
    return fields


def coming_closures(today: date) -> list[tuple[date, str | None]]:
    """The next public holidays by their (Japanese) names, and the first day of the year-end
    closure (name ``None``: the page labels it in its own language)."""
    found: list[tuple[date, str | None]] = []
    day = today
    while day <= today + _LOOK_AHEAD and len(found) < _HOLIDAYS_SHOWN:
        name = holiday_name(day)
        if name:
            found.append((day, name))
        elif is_year_end_closure(day) and (
            day == today or not is_year_end_closure(day - timedelta(days=1))
        ):
            found.append((day, None))
        day += timedelta(days=1)
    return found


def _weekly_values(form: FormState, hours: Calendar) -> None:
    for d in WEEKDAYS:
        span = hours.hours.get(d)
        if span is None:
            form.values[f"h{d}_closed"] = "1"
        else:
            form.values[f"h{d}_opens"] = span.opens.strftime("%H:%M")
            form.values[f"h{d}_closes"] = span.closes.strftime("%H:%M")


def _page(
    request: Request, node: ServiceContext, actor: Actor, form: FormState, status: int = 200
) -> Response:
    days = calendar_days(node, actor=actor)
    stored = calendar(node)
    now = node.now()
    today = now.astimezone(JST).date()
    text = Translator(request_lang(request))
    return render(
        request,
        "security/hours.html",
        {
            "form": form,
            "weekdays": list(WEEKDAYS),
            "days": days,
            "today": today,
            "open_now": node.settings.always_open or stored.is_open(now),
            "closed_because": stored.closed_because(today),
            "coming": coming_closures(today),
            "state_options": [(s, text(f"hours.state.{s}")) for s in _CALENDAR_STATES],
            "done": confirmation(request, "hours"),
        },
        status=status,
        actor=actor,
    )


@router.get(PATH)
def hours_page(request: Request, node: NodeDep, actor: PageActor) -> Response:
    """Today's state, the weekly hours and the calendar, with the forms to change them."""
    if refused := refusal(request, actor, Permission.MANAGE_HOURS):
        return refused
    form = FormState(request_lang(request))
    _weekly_values(form, calendar(node))
    return _page(request, node, actor, form)


@router.post(PATH)
def save_hours(
    request: Request, node: NodeDep, actor: PageActor, form_data: PostedForm
) -> Response:
    """Replace the weekly hours (a day ticked closed, or its opening and closing)."""

    def act(form: FormState) -> str | None:
        hours: dict[int, tuple[str, str] | None] = {}
        for d in WEEKDAYS:
            if form.checked(f"h{d}_closed"):
                hours[d] = None
            elif required(form, f"h{d}_opens", f"h{d}_closes"):
                hours[d] = (form.text(f"h{d}_opens"), form.text(f"h{d}_closes"))
        if not form.ok:
            return None
        set_hours(node, actor=actor, hours=hours)
        return "hours"

    return run_form(
        request,
        actor,
        form_data,
        permission=Permission.MANAGE_HOURS,
        path=PATH,
        inputs=_hours_inputs(),
        field_map=_hours_fields(),
        action=act,
        page=lambda form, status: _page(request, node, actor, form, status),
    )


@router.post(PATH + "/calendar")
def save_day(request: Request, node: NodeDep, actor: PageActor, form_data: PostedForm) -> Response:
    """Mark a day as a local closure or an extra opening, or clear its entry."""

    def act(form: FormState) -> str | None:
        day = form.date("cal_day")
        state = form.get("cal_state")
        if state not in _CALENDAR_STATES:
            form.missing("cal_state")
        if day is None or not form.ok:
            return None
        is_open = None if state == "clear" else state == "open"
        set_calendar_day(node, actor=actor, day=day, is_open=is_open, note=form.get("cal_note"))
        return "calendar"

    return run_form(
        request,
        actor,
        form_data,
        permission=Permission.MANAGE_HOURS,
        path=PATH,
        inputs=("cal_day", "cal_state", "cal_note"),
        field_map={"note": "cal_note", "date": "cal_day"},
        action=act,
        page=lambda form, status: _page(request, node, actor, form, status),
    )
