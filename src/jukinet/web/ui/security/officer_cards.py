"""The agency officers' cards (職員カード) for the card administrator (issue 15).

The officers of the recipients this node serves (the centre's, a prefecture's) and every card
lent to them; lending a new card with the key present — organisation and officer chosen, the
card's serial typed, then the WebAuthn registration ceremony of the operators' own cards
(``static/card.js``, PIN required) — and reporting a card lost (revoked at once, the officer's
sessions end). The command line's ``jukinet recipient officer-card-lend`` and this page end in
the same service function, :func:`jukinet.services.agency_officer_cards.lend_card`.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from jukinet.domain.errors import DomainError
from jukinet.domain.operators import Actor, Permission
from jukinet.services.agency_officer_cards import (
    OfficerEntry,
    lend_options,
    lend_security_key,
    officer_register,
    report_lost,
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
    script_data,
)
from jukinet.web.ui.i18n import Translator, request_lang
from jukinet.web.ui.security.common import confirmation, jst, refusal, required, run_form
from jukinet.web.ui.signin import page_origin

router = APIRouter()

PATH = "/security/officer-cards"
#: The one select naming organisation and officer: ``recipient_id|login`` (neither has ``|``).
_SEP = "|"
_LEND_FIELDS = {"serial": "lend_serial", "login": "lend_officer", "recipient_id": "lend_officer"}


def _officer_choice(form: FormState) -> tuple[str, str]:
    recipient_id, _, login = form.text("lend_officer").partition(_SEP)
    return recipient_id, login


def _page(
    request: Request, node: ServiceContext, actor: Actor, form: FormState, status: int = 200
) -> Response:
    officers = officer_register(node, actor=actor)
    groups: dict[tuple[str, str], list[OfficerEntry]] = {}
    for officer in officers:
        groups.setdefault((officer.recipient_id, officer.recipient_name), []).append(officer)
    return render(
        request,
        "security/officer_cards.html",
        {
            "form": form,
            "groups": groups,
            "officer_options": [
                (
                    f"{o.recipient_id}{_SEP}{o.login}",
                    f"{o.recipient_name}（{o.recipient_id}）— {o.display_name}（{o.login}）",
                )
                for o in officers
                if o.active
            ],
            "lost_options": [
                (c.serial, f"{c.serial} — {o.display_name}（{o.recipient_name}）")
                for o in officers
                for c in o.cards
                if c.status == "lent"
            ],
            "jst": jst,
            "done": confirmation(request, "ocards"),
        },
        status=status,
        actor=actor,
    )


@router.get(PATH)
def officer_cards_page(request: Request, node: NodeDep, actor: PageActor) -> Response:
    """The officers by organisation, their cards, and the forms to lend and report lost."""
    if refused := refusal(request, actor, Permission.MANAGE_OPERATOR_CARDS):
        return refused
    return _page(request, node, actor, FormState(request_lang(request)))


@router.post(PATH + "/lend")
def start_lending(
    request: Request, node: NodeDep, actor: PageActor, form_data: PostedForm
) -> Response:
    """Officer and serial checked: the ceremony page, with the key's registration options."""
    if refused := refusal(request, actor, Permission.MANAGE_OPERATOR_CARDS):
        return refused
    if not csrf_ok(request, form_data):
        return forbidden(request, actor, "error.csrf")
    form = FormState.from_form(request_lang(request), form_data).expect(
        "lend_officer", "lend_serial"
    )
    if not required(form, "lend_officer", "lend_serial"):
        return _page(request, node, actor, form, form.status)
    recipient_id, login = _officer_choice(form)
    try:
        challenge_id, options = lend_options(
            node,
            actor=actor,
            recipient_id=recipient_id,
            login=login,
            serial=form.text("lend_serial"),
        )
    except DomainError as error:
        form.add(error, field_map=_LEND_FIELDS)
        return _page(request, node, actor, form, form.status)
    return render(
        request,
        "security/officer_card_lend.html",
        {
            "form": form,
            "officer": form.text("lend_officer"),
            "recipient_id": recipient_id,
            "login": login,
            "serial": form.text("lend_serial").upper(),
            "challenge_id": challenge_id,
            "options": script_data(options),
        },
        actor=actor,
    )


@router.post(PATH + "/lend/finish")
def finish_lending(
    request: Request, node: NodeDep, actor: PageActor, form_data: PostedForm
) -> Response:
    """Verify the key's attestation (its PIN verified) and lend it to the officer."""

    def act(form: FormState) -> str:
        recipient_id, login = _officer_choice(form)
        lend_security_key(
            node,
            actor=actor,
            recipient_id=recipient_id,
            login=login,
            serial=form.get("lend_serial"),
            challenge_id=form.get("challenge_id"),
            credential=form.get("credential"),
            page_origin=page_origin(request),
        )
        return "lent"

    return run_form(
        request,
        actor,
        form_data,
        permission=Permission.MANAGE_OPERATOR_CARDS,
        path=PATH,
        inputs=("lend_officer", "lend_serial"),
        field_map=_LEND_FIELDS,
        action=act,
        page=lambda form, status: _page(request, node, actor, form, status),
    )


@router.post(PATH + "/lost")
def lost(request: Request, node: NodeDep, actor: PageActor, form_data: PostedForm) -> Response:
    """Report a card lost (confirmed, with a reason): revoked at once, its officer signed out."""

    def act(form: FormState) -> str | None:
        if not required(form, "lost_serial", "lost_note"):
            return None
        if not form.checked("lost_confirm"):
            form.errors["lost_confirm"] = Translator(form.lang)("ocards.lost_confirm_missing")
            return None
        report_lost(node, actor=actor, serial=form.text("lost_serial"), note=form.text("lost_note"))
        return "lost"

    return run_form(
        request,
        actor,
        form_data,
        permission=Permission.MANAGE_OPERATOR_CARDS,
        path=PATH,
        inputs=("lost_serial", "lost_note", "lost_confirm"),
        field_map={"serial": "lost_serial"},
        action=act,
        page=lambda form, status: _page(request, node, actor, form, status),
    )
