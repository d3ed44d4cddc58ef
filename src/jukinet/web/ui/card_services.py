"""Counter pages for card services by ordinance (条例利用): the registry and enrolment.

The registry page lists the services the council enacted; supervisors add and deactivate
them there. The enrolment page takes a resident code in a posted form (never in an address:
addresses end up in histories and logs) and shows that resident's enrolments with the forms to
enrol and withdraw; after each change the same page is shown again for the same resident.
"""

from __future__ import annotations

from typing import Final

from fastapi import APIRouter, Request
from fastapi.responses import Response

from jukinet.domain.card_services import STANDARD_SERVICES
from jukinet.domain.errors import DomainError
from jukinet.domain.operators import Actor, Permission
from jukinet.services.card_services.enrolment import enrol, enrolments_of, withdraw
from jukinet.services.card_services.inputs import Enrolment, NewCardService, Withdrawal
from jukinet.services.card_services.registry import (
    add_service,
    deactivate_service,
    list_services,
)
from jukinet.services.context import ServiceContext
from jukinet.web.auth import NodeDep
from jukinet.web.ui.common import (
    FormState,
    PageActor,
    PostedForm,
    csrf_ok,
    forbidden,
    render,
)
from jukinet.web.ui.i18n import Translator, request_lang
from jukinet.web.ui.security.common import confirmation, jst, refusal, required, run_form

router = APIRouter()

PATH: Final = "/card-services"
ENROLMENT_PATH: Final = "/card-services/enrolments"
_ADD_INPUTS: Final = ("code", "name_ja", "name_en", "ordinance_name", "enacted_on")


def _registry_page(
    request: Request, node: ServiceContext, actor: Actor, form: FormState, status: int = 200
) -> Response:
    services = list_services(node)
    return render(
        request,
        "card_services.html",
        {
            "form": form,
            "services": services,
            "active_options": [(s.code, f"{s.code} {s.name_ja}") for s in services if s.active],
            "standard_services": STANDARD_SERVICES,
            "can_manage": actor.can(Permission.MANAGE_CARD_SERVICES),
            "done": confirmation(request, "ordinance"),
            "jst": jst,
        },
        status=status,
        actor=actor,
    )


@router.get(PATH)
def registry_page(request: Request, node: NodeDep, actor: PageActor) -> Response:
    """The registry: every service with its ordinance; the forms for supervisors."""
    if refused := refusal(request, actor, Permission.ENROL_CARD_SERVICES):
        return refused
    return _registry_page(request, node, actor, FormState(request_lang(request)))


@router.post(PATH + "/add")
def add(request: Request, node: NodeDep, actor: PageActor, form_data: PostedForm) -> Response:
    """Enter a service the council enacted."""

    def act(form: FormState) -> str | None:
        names = tuple(f"add_{name}" for name in _ADD_INPUTS if name != "enacted_on")
        if not required(form, *names):
            return None
        enacted_on = form.date("add_enacted_on")
        if enacted_on is None:
            return None
        add_service(
            node,
            actor=actor,
            service=NewCardService(
                code=form.text("add_code"),
                name_ja=form.get("add_name_ja"),
                name_en=form.get("add_name_en"),
                ordinance_name=form.get("add_ordinance_name"),
                enacted_on=enacted_on,
            ),
        )
        return "added"

    return run_form(
        request,
        actor,
        form_data,
        permission=Permission.MANAGE_CARD_SERVICES,
        path=PATH,
        inputs=tuple(f"add_{name}" for name in _ADD_INPUTS),
        field_map={name: f"add_{name}" for name in _ADD_INPUTS},
        action=act,
        page=lambda form, status: _registry_page(request, node, actor, form, status),
    )


@router.post(PATH + "/deactivate")
def deactivate(
    request: Request, node: NodeDep, actor: PageActor, form_data: PostedForm
) -> Response:
    """End a service whose ordinance was repealed."""

    def act(form: FormState) -> str | None:
        if not required(form, "deactivate_code"):
            return None
        deactivate_service(node, actor=actor, code=form.text("deactivate_code"))
        return "deactivated"

    return run_form(
        request,
        actor,
        form_data,
        permission=Permission.MANAGE_CARD_SERVICES,
        path=PATH,
        inputs=("deactivate_code",),
        field_map={"code": "deactivate_code"},
        action=act,
        page=lambda form, status: _registry_page(request, node, actor, form, status),
    )


def _enrolment_page(
    request: Request,
    node: ServiceContext,
    actor: Actor,
    form: FormState,
    *,
    resident_code: str | None = None,
    show_list: bool = True,
    done: str | None = None,
    status: int = 200,
) -> Response:
    """The page; with ``resident_code``, the forms for that resident and (``show_list``) their
    enrolments — a logged read, so a refused change shows the forms again without it."""
    enrolments = None
    if resident_code and show_list:
        try:
            enrolments = enrolments_of(node, actor=actor, resident_code=resident_code)
        except DomainError as error:
            form.add(error, field_map={"resident_code": "resident_code"})
            resident_code = None
            status = error.status
    services = list_services(node)
    text = Translator(request_lang(request))
    return render(
        request,
        "card_service_enrolments.html",
        {
            "form": form,
            "enrolments": enrolments,
            "resident_code": resident_code or None,
            "enrol_options": [(s.code, f"{s.code} {s.name_ja}") for s in services if s.active],
            "withdraw_options": [(s.code, f"{s.code} {s.name_ja}") for s in services],
            "done": text(f"enrolment.done.{done}") if done else None,
            "jst": jst,
        },
        status=status,
        actor=actor,
    )


@router.get(ENROLMENT_PATH)
def enrolment_page(request: Request, node: NodeDep, actor: PageActor) -> Response:
    """The form that asks for the resident (by resident code, posted)."""
    if refused := refusal(request, actor, Permission.ENROL_CARD_SERVICES):
        return refused
    return _enrolment_page(request, node, actor, FormState(request_lang(request)))


def _posted(
    request: Request, actor: Actor, form_data: PostedForm, *inputs: str
) -> FormState | Response:
    """The gate, the token, and the posted form (or the refusal to answer)."""
    if refused := refusal(request, actor, Permission.ENROL_CARD_SERVICES):
        return refused
    if not csrf_ok(request, form_data):
        return forbidden(request, actor, "error.csrf")
    return FormState.from_form(request_lang(request), form_data).expect("resident_code", *inputs)


@router.post(ENROLMENT_PATH)
def lookup(request: Request, node: NodeDep, actor: PageActor, form_data: PostedForm) -> Response:
    """Show one resident's enrolments (a logged read)."""
    form = _posted(request, actor, form_data)
    if not isinstance(form, FormState):
        return form
    code = form.text("resident_code", required=True)
    if not form.ok:
        return _enrolment_page(request, node, actor, form, status=422)
    return _enrolment_page(request, node, actor, form, resident_code=code)


def _change(
    request: Request,
    node: ServiceContext,
    actor: Actor,
    form_data: PostedForm,
    *,
    field: str,
    done: str,
    apply: type[Enrolment] | type[Withdrawal],
) -> Response:
    form = _posted(request, actor, form_data, field)
    if not isinstance(form, FormState):
        return form
    code = form.text("resident_code", required=True)
    service_code = form.text(field, required=True)
    if not form.ok:
        return _enrolment_page(
            request, node, actor, form, resident_code=code, show_list=False, status=422
        )
    try:
        if apply is Enrolment:
            enrol(node, actor=actor, enrolment=Enrolment(code, service_code))
        else:
            withdraw(node, actor=actor, withdrawal=Withdrawal(code, service_code))
    except DomainError as error:
        form.add(error, field_map={"service_code": field})
        return _enrolment_page(
            request, node, actor, form, resident_code=code, show_list=False, status=form.status
        )
    return _enrolment_page(request, node, actor, form, resident_code=code, done=done)


@router.post(ENROLMENT_PATH + "/enrol")
def enrol_resident(
    request: Request, node: NodeDep, actor: PageActor, form_data: PostedForm
) -> Response:
    """利用登録: the resident (with their valid card) enrols in a service."""
    return _change(
        request, node, actor, form_data, field="enrol_service", done="enrolled", apply=Enrolment
    )


@router.post(ENROLMENT_PATH + "/withdraw")
def withdraw_resident(
    request: Request, node: NodeDep, actor: PageActor, form_data: PostedForm
) -> Response:
    """利用廃止: the resident leaves a service."""
    return _change(
        request,
        node,
        actor,
        form_data,
        field="withdraw_service",
        done="withdrawn",
        apply=Withdrawal,
    )
