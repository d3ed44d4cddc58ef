"""The operator card register (操作者カード台帳) for the card administrator.

Lend, take back, report lost (revoked at once: the holder's next request goes to the sign-in
page with the card message), replace, and register a new FIDO2 security key: the serial first,
then a WebAuthn registration ceremony run by ``static/card.js`` (no inline script).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from jukinet.domain.errors import DomainError
from jukinet.domain.operators import Actor, Permission
from jukinet.services.context import ServiceContext
from jukinet.services.operator_security.cards import (
    lend_card,
    list_cards,
    register_security_key,
    replace_card,
    report_lost,
    return_card,
    security_key_options,
)
from jukinet.web.auth import NodeDep
from jukinet.web.ui.common import (
    FormState,
    PageActor,
    PostedForm,
    csrf_ok,
    forbidden,
    render,
    script_data,
)
from jukinet.web.ui.i18n import request_lang
from jukinet.web.ui.security.common import (
    FormAction,
    confirmation,
    refusal,
    required,
    run_form,
)
from jukinet.web.ui.signin import page_origin

router = APIRouter()

PATH = "/security/cards"


def _page(
    request: Request, node: ServiceContext, actor: Actor, form: FormState, status: int = 200
) -> Response:
    return render(
        request,
        "security/cards.html",
        {
            "form": form,
            "cards": list_cards(node, actor=actor),
            "done": confirmation(request, "cards"),
        },
        status=status,
        actor=actor,
    )


def _post(
    request: Request,
    node: ServiceContext,
    actor: Actor,
    form_data: PostedForm,
    prefix: str,
    inputs: tuple[str, ...],
    action: FormAction,
) -> Response:
    """Run one of the page's forms, its inputs named ``{prefix}_{field}``."""
    names = tuple(f"{prefix}_{name}" for name in inputs)
    return run_form(
        request,
        actor,
        form_data,
        permission=Permission.MANAGE_OPERATOR_CARDS,
        path=PATH,
        inputs=names,
        field_map={name: f"{prefix}_{name}" for name in inputs},
        action=action,
        page=lambda form, status: _page(request, node, actor, form, status),
    )


@router.get(PATH)
def cards_page(request: Request, node: NodeDep, actor: PageActor) -> Response:
    """The register and the forms that change it."""
    if refused := refusal(request, actor, Permission.MANAGE_OPERATOR_CARDS):
        return refused
    return _page(request, node, actor, FormState(request_lang(request)))


@router.post(PATH + "/lend")
def lend(request: Request, node: NodeDep, actor: PageActor, form_data: PostedForm) -> Response:
    """Lend a card in stock to an operator."""

    def act(form: FormState) -> str | None:
        if not required(form, "lend_serial", "lend_username"):
            return None
        lend_card(
            node, actor=actor, serial=form.text("lend_serial"), username=form.text("lend_username")
        )
        return "lent"

    return _post(request, node, actor, form_data, "lend", ("serial", "username"), act)


@router.post(PATH + "/return")
def take_back(request: Request, node: NodeDep, actor: PageActor, form_data: PostedForm) -> Response:
    """Take a lent card back; its holder's sessions end."""

    def act(form: FormState) -> str | None:
        if not required(form, "return_serial"):
            return None
        return_card(node, actor=actor, serial=form.text("return_serial"))
        return "returned"

    return _post(request, node, actor, form_data, "return", ("serial",), act)


@router.post(PATH + "/lost")
def lost(request: Request, node: NodeDep, actor: PageActor, form_data: PostedForm) -> Response:
    """Report a card lost: revoked at once, every session opened with it ends."""

    def act(form: FormState) -> str | None:
        if not required(form, "lost_serial"):
            return None
        report_lost(node, actor=actor, serial=form.text("lost_serial"), note=form.get("lost_note"))
        return "lost"

    return _post(request, node, actor, form_data, "lost", ("serial", "note"), act)


@router.post(PATH + "/replace")
def replace(request: Request, node: NodeDep, actor: PageActor, form_data: PostedForm) -> Response:
    """Lend a card in stock to the holder of a lost card, in its place.

    The service names both cards ``serial``: its errors are shown above the form.
    """

    def act(form: FormState) -> str | None:
        if not required(form, "replace_lost", "replace_new"):
            return None
        replace_card(
            node,
            actor=actor,
            lost_serial=form.text("replace_lost"),
            new_serial=form.text("replace_new"),
        )
        return "replaced"

    return run_form(
        request,
        actor,
        form_data,
        permission=Permission.MANAGE_OPERATOR_CARDS,
        path=PATH,
        inputs=("replace_lost", "replace_new"),
        field_map={},
        action=act,
        page=lambda form, status: _page(request, node, actor, form, status),
    )


@router.post(PATH + "/register")
def start_registration(
    request: Request, node: NodeDep, actor: PageActor, form_data: PostedForm
) -> Response:
    """The serial is valid: show the ceremony page with the key's registration options."""
    if refused := refusal(request, actor, Permission.MANAGE_OPERATOR_CARDS):
        return refused
    if not csrf_ok(request, form_data):
        return forbidden(request, actor, "error.csrf")
    form = FormState.from_form(request_lang(request), form_data).expect("register_serial")
    if not required(form, "register_serial"):
        return _page(request, node, actor, form, form.status)
    try:
        challenge_id, options = security_key_options(
            node, actor=actor, serial=form.text("register_serial")
        )
    except DomainError as error:
        form.add(error, field_map={"serial": "register_serial"})
        return _page(request, node, actor, form, form.status)
    return render(
        request,
        "security/card_register.html",
        {
            "form": form,
            "serial": form.text("register_serial").upper(),
            "challenge_id": challenge_id,
            "options": script_data(options),
        },
        actor=actor,
    )


@router.post(PATH + "/register/finish")
def finish_registration(
    request: Request, node: NodeDep, actor: PageActor, form_data: PostedForm
) -> Response:
    """Verify the key's attestation (its PIN verified) and register it as a card in stock."""

    def act(form: FormState) -> str:
        register_security_key(
            node,
            actor=actor,
            serial=form.get("register_serial"),
            challenge_id=form.get("challenge_id"),
            credential=form.get("credential"),
            page_origin=page_origin(request),
        )
        return "registered"

    return run_form(
        request,
        actor,
        form_data,
        permission=Permission.MANAGE_OPERATOR_CARDS,
        path=PATH,
        inputs=("register_serial",),
        field_map={"serial": "register_serial"},
        action=act,
        page=lambda form, status: _page(request, node, actor, form, status),
    )
