"""What the security console's pages share: the permission gate and one way to run a form.

Each page shows its lists and several small forms, each form's inputs named with its own prefix
(``lend_serial``, ``lost_serial``), so one :class:`FormState` carries whichever form was posted
and puts the service's errors next to that form's inputs. A successful post redirects back
(303) with ``?done=`` naming the confirmation to show.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Final

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from jukinet.domain.clock import JST, aware_utc
from jukinet.domain.errors import DomainError
from jukinet.domain.operators import Actor, Permission
from jukinet.web.ui.common import FormState, csrf_ok, error_page, forbidden, redirect
from jukinet.web.ui.i18n import Translator, request_lang

#: The confirmation keys a page accepts in ``?done=`` (anything else shows nothing).
DONE_KEY: Final = "done"


def refusal(request: Request, actor: Actor, permission: Permission) -> HTMLResponse | None:
    """The 403 page for an operator whose role lacks ``permission``, else ``None``."""
    try:
        actor.require(permission)
    except DomainError as error:
        return error_page(request, actor, error)
    return None


def confirmation(request: Request, prefix: str) -> str | None:
    """The confirmation named by ``?done=`` (``{prefix}.done.{name}``), if there is one."""
    name = request.query_params.get(DONE_KEY, "")
    text = Translator(request_lang(request))
    key = f"{prefix}.done.{name}"
    return text(key) if name and text.has(key) else None


def jst(moment: datetime | None) -> str:
    """A moment as the console shows it: ``2026-11-26 12:00`` in Japan time, ``—`` for none."""
    if moment is None:
        return "—"
    # SQLite hands stored moments back naive (they are UTC).
    return f"{aware_utc(moment).astimezone(JST):%Y-%m-%d %H:%M}"


#: Renders the page again with the posted form and its errors, at the given status.
PageRenderer = Callable[[FormState, int], Response]
#: Does the work with the posted form; returns the confirmation name, or ``None`` when it put
#: errors on the form itself (then nothing was done).
FormAction = Callable[[FormState], str | None]


def run_form(
    request: Request,
    actor: Actor,
    form_data: FormData,
    *,
    permission: Permission | None,
    path: str,
    inputs: tuple[str, ...],
    field_map: Mapping[str, str],
    action: FormAction,
    page: PageRenderer,
) -> Response:
    """Gate, check the CSRF token, run ``action`` and redirect; or show the page with errors.

    The role is checked first (a clerk gets the same 403 with or without a token), then the
    token; a domain error is placed next to its input (``field_map`` maps the service's field
    names to this form's) or above the form, never a 500.
    """
    if permission is not None and (refused := refusal(request, actor, permission)):
        return refused
    if not csrf_ok(request, form_data):
        return forbidden(request, actor, "error.csrf")
    form = FormState.from_form(request_lang(request), form_data).expect(*inputs)
    try:
        done = action(form)
    except DomainError as error:
        form.add(error, field_map=field_map)
        return page(form, form.status)
    if done is None or not form.ok:
        return page(form, form.status)
    return redirect(f"{path}?{DONE_KEY}={done}", request)


def required(form: FormState, *names: str) -> bool:
    """Mark each empty input of ``names``; whether all were filled in."""
    for name in names:
        form.text(name, required=True)
    return form.ok
