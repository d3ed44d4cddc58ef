"""What every counter-notification page shares: query types, the name inputs and the helpers
that fill a form, show it again, and go to the record once the service has accepted it.

Every handler re-renders its form with the input kept and the errors next to their fields
(422, or 409 for a stale record, 403 for a role that may not act); success is a 303 to the
record page, which confirms what was done and flags a late filing. Pages name residents by
their opaque record reference (``record_ref``), in links, hidden inputs and choices alike; the
handlers turn references into resident codes only to hand them to a register service. The
pages parse what the clerk typed (dates, choices, required inputs); the services validate
names, dates of birth and domiciles once, and their field errors are placed next to the inputs.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.responses import HTMLResponse, Response

from jukinet.domain.errors import DomainError
from jukinet.domain.operators import Actor
from jukinet.domain.wareki import format_wareki
from jukinet.services import reading
from jukinet.services.context import ServiceContext
from jukinet.services.reading import HouseholdView
from jukinet.services.register import ChangeResult
from jukinet.services.views import RecordView
from jukinet.web.ui.common import FormState, error_page, record_url, redirect, render
from jukinet.web.ui.i18n import request_lang

#: The four inputs of a name, as the services name their fields.
NAME_FIELDS = ("family_name", "given_name", "family_name_kana", "given_name_kana")

RefQuery = Annotated[str, Query(max_length=64)]
OptionalRefQuery = Annotated[str | None, Query(max_length=64)]
HouseholdQuery = Annotated[str | None, Query(max_length=12)]
VersionQuery = Annotated[int | None, Query(ge=1)]


def new_form(request: Request, node: ServiceContext, **values: str) -> FormState:
    """An empty form with the filing date set to today (in 和暦, as clerks type it)."""
    form = FormState(request_lang(request))
    form.values["filed_on"] = format_wareki(node.today())
    form.values.update(values)
    return form


def person_form(request: Request, node: ServiceContext, ref: str, version: int | None) -> FormState:
    """An empty form about one resident, carrying the record version the screen showed."""
    return new_form(request, node, record_ref=ref, expected_version=str(version) if version else "")


def done(result: ChangeResult, kind: str, *, prefer: str | None = None) -> Response:
    """Go to the record (``prefer``, a record reference, if it was among those changed) with
    the confirmation."""
    refs = [v.record_ref for v in result.records]
    ref = prefer if prefer in refs else refs[0]
    return redirect(record_url(ref, done=kind, late=result.late))


def form_version(form: FormState) -> int | None:
    """The record version the screen showed (sent back so a stale screen is refused)."""
    raw = form.get("expected_version").strip()
    return int(raw) if raw.isascii() and raw.isdigit() else None


def require_name(form: FormState) -> None:
    """Mark each empty name input; whether a name is valid is the service's to say."""
    for name in NAME_FIELDS:
        form.text(name, required=True)


def read_record(node: ServiceContext, actor: Actor, ref: str) -> RecordView:
    """The record a page reference names, as the actor may see it."""
    return reading.read_resident_by_ref(node, actor=actor, record_ref=ref)


def codes_of(node: ServiceContext, actor: Actor, refs: list[str]) -> list[str]:
    """The resident codes behind record references, to hand to a register service."""
    return reading.resident_codes_for_refs(node, actor=actor, record_refs=refs)


def code_of(node: ServiceContext, actor: Actor, form: FormState) -> str:
    """The resident code of the record the form is about (its hidden ``record_ref``)."""
    return codes_of(node, actor, [form.get("record_ref")])[0]


def find_household(node: ServiceContext, actor: Actor, number: str | None) -> HouseholdView | None:
    """The household for context on a form, or ``None`` if the number is empty or unknown."""
    if not number or not number.strip():
        return None
    try:
        return reading.read_household(node, actor=actor, household_number=number)
    except DomainError:
        return None


def active_members(household: HouseholdView | None) -> list[RecordView]:
    """The members of ``household`` still on the register (none without a household)."""
    if household is None:
        return []
    return [m for m in household.members if m.record.is_active]


def page(
    request: Request,
    actor: Actor,
    template: str,
    form: FormState,
    *,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    """Render a form page."""
    return render(request, template, {"form": form, **context}, status=status, actor=actor)


def person_page(
    request: Request,
    node: ServiceContext,
    actor: Actor,
    template: str,
    form: FormState,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    """A form about one resident, shown with who it concerns."""
    try:
        view = read_record(node, actor, form.get("record_ref"))
    except DomainError as error:
        return error_page(request, actor, error)
    return page(request, actor, template, form, status=status, view=view, **context)
