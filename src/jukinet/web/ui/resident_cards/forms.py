"""The six card procedures at the counter, each a GET form and a POST handler.

交付申請 (application, with the photo for a photo ID card), 交付 (issuance: serial, the PIN the
resident types twice, the ID document checked), 暗証番号の再設定 (PIN reset, unlocking a locked
card), 紛失届 (loss report: suspension, by any operator who may take one), 一時停止の解除
(resumption) and 返納 (return). A refused post shows the form again with each error beside its
input and the input kept (never the PINs), at 4xx, having changed nothing; a done one goes back
to the cards page with its confirmation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData, UploadFile

from jukinet.domain.errors import DomainError
from jukinet.domain.operators import Actor, Permission
from jukinet.domain.resident_card import CardForm
from jukinet.services.context import ServiceContext
from jukinet.services.resident_card import counter
from jukinet.services.resident_card.inputs import (
    CallerRelation,
    CardIssue,
    LossReport,
    PinReset,
    Resumption,
)
from jukinet.services.resident_card.photos import MAX_PHOTO_BYTES, apply_with_photo
from jukinet.web.auth import NodeDep
from jukinet.web.ui.common import FormState, PageActor, PostedForm, error_page
from jukinet.web.ui.i18n import request_lang
from jukinet.web.ui.resident_cards.common import (
    Desk,
    RefPath,
    card_page,
    cards_url,
    desk_of,
    id_document,
    require_own_card,
    serial_of,
)
from jukinet.web.ui.security.common import run_form

router = APIRouter()

#: Runs a procedure with the posted form: the confirmation's name, or ``None`` when the form
#: itself has errors (then nothing was done).
Run = Callable[[ServiceContext, Actor, Desk, FormState, FormData], str | None]


@dataclass(frozen=True, slots=True)
class Procedure:
    """One card procedure: its address, text keys, permission, inputs and what it does."""

    slug: str
    name: str
    permission: Permission
    inputs: tuple[str, ...]
    run: Run


def _photo(posted: FormData) -> bytes | None:
    upload = posted.get("photo")
    if not isinstance(upload, UploadFile):
        return None
    # One byte past the limit is enough to refuse it; the body limit bounds the rest.
    return upload.file.read(MAX_PHOTO_BYTES + 1) or None


def _apply(
    node: ServiceContext, actor: Actor, desk: Desk, form: FormState, posted: FormData
) -> str | None:
    try:
        card_form = CardForm(form.get("card_form"))
    except ValueError:
        form.missing("card_form")
        return None
    apply_with_photo(
        node,
        actor=actor,
        resident_code=desk.resident_code,
        form=card_form,
        photo=_photo(posted),
    )
    return "applied"


def _checked_serial(node: ServiceContext, desk: Desk, form: FormState) -> str:
    serial = serial_of(form)
    if serial:
        require_own_card(node, desk, serial)
    return serial


def _issue(
    node: ServiceContext, actor: Actor, desk: Desk, form: FormState, _posted: FormData
) -> str | None:
    document = id_document(form)
    serial = _checked_serial(node, desk, form)
    if document is None or not form.ok:
        return None
    issue = CardIssue(serial, form.get("pin"), form.get("pin_confirmation"), document)
    counter.issue_card(node, actor=actor, issue=issue)
    return "issued"


def _pin_reset(
    node: ServiceContext, actor: Actor, desk: Desk, form: FormState, _posted: FormData
) -> str | None:
    document = id_document(form)
    serial = _checked_serial(node, desk, form)
    if document is None or not form.ok:
        return None
    reset = PinReset(serial, form.get("new_pin"), form.get("pin_confirmation"), document)
    counter.reset_pin(node, actor=actor, reset=reset)
    return "pin_reset"


def _loss(
    node: ServiceContext, actor: Actor, desk: Desk, form: FormState, posted: FormData
) -> str | None:
    answered = [value for value in posted.getlist("answered") if isinstance(value, str)]
    form.lists["answered"] = answered
    try:
        relation: CallerRelation | None = CallerRelation(form.get("caller_relation"))
    except ValueError:
        form.missing("caller_relation")
        relation = None
    serial = _checked_serial(node, desk, form)
    if relation is None or not form.ok:
        return None
    report = LossReport(
        serial, form.get("caller_name"), relation, tuple(answered), form.get("note")
    )
    counter.report_loss(node, actor=actor, report=report)
    return "suspended"


def _resume(
    node: ServiceContext, actor: Actor, desk: Desk, form: FormState, _posted: FormData
) -> str | None:
    document = id_document(form)
    serial = _checked_serial(node, desk, form)
    if document is None or not form.ok:
        return None
    counter.resume_card(node, actor=actor, resumption=Resumption(serial, document))
    return "resumed"


def _return(
    node: ServiceContext, actor: Actor, desk: Desk, form: FormState, _posted: FormData
) -> str | None:
    serial = _checked_serial(node, desk, form)
    if not form.ok:
        return None
    counter.return_card(node, actor=actor, serial=serial)
    return "returned"


_ISSUER = Permission.ISSUE_RESIDENT_CARDS

#: Every procedure, in the order the cards page offers them.
PROCEDURES: tuple[Procedure, ...] = (
    Procedure("apply", "apply", _ISSUER, ("card_form", "photo"), _apply),
    Procedure(
        "issue", "issue", _ISSUER, ("serial", "pin", "pin_confirmation", "id_document"), _issue
    ),
    Procedure(
        "pin-reset",
        "pin_reset",
        _ISSUER,
        ("serial", "new_pin", "pin_confirmation", "id_document"),
        _pin_reset,
    ),
    Procedure(
        "loss",
        "loss",
        Permission.REPORT_CARD_LOSS,
        ("serial", "caller_name", "caller_relation", "answered", "note"),
        _loss,
    ),
    Procedure("resume", "resume", _ISSUER, ("serial", "id_document"), _resume),
    Procedure("return", "return", _ISSUER, ("serial",), _return),
)


def _show(
    request: Request,
    node: ServiceContext,
    actor: Actor,
    ref: str,
    procedure: Procedure,
    form: FormState,
    status: int = 200,
) -> HTMLResponse:
    try:
        desk = desk_of(node, actor, ref)
    except DomainError as error:
        return error_page(request, actor, error)
    if status == 200 and desk.live is not None and procedure.name != "apply":
        # The card the procedure is about, as the clerk confirms it against the card itself.
        form.values.setdefault("serial", desk.live.serial)
    return card_page(
        request,
        actor,
        "resident_cards/form.html",
        desk,
        form,
        status=status,
        procedure=procedure.name,
        action_url=f"{cards_url(ref)}/{procedure.slug}",
    )


def _add(procedure: Procedure) -> None:
    path = f"/records/{{ref}}/cards/{procedure.slug}"

    @router.get(path, name=f"card_{procedure.name}_form")
    def form_page(request: Request, ref: RefPath, node: NodeDep, actor: PageActor) -> HTMLResponse:
        """The procedure's form about one resident's card."""
        form = FormState(request_lang(request))
        return _show(request, node, actor, ref, procedure, form)

    @router.post(path, name=f"card_{procedure.name}")
    def submit(
        request: Request, ref: RefPath, node: NodeDep, actor: PageActor, posted: PostedForm
    ) -> Response:
        """Do the procedure; or show the form again with its errors, having changed nothing."""

        def action(form: FormState) -> str | None:
            desk = desk_of(node, actor, ref)
            return procedure.run(node, actor, desk, form, posted)

        return run_form(
            request,
            actor,
            posted,
            permission=procedure.permission,
            path=cards_url(ref),
            inputs=procedure.inputs,
            field_map={},
            action=action,
            page=lambda form, status: _show(request, node, actor, ref, procedure, form, status),
        )


for _procedure in PROCEDURES:
    _add(_procedure)
