"""職権修正 (ex-officio correction): supervisors correct recorded items, giving the reason."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from jukinet.domain.errors import DomainError
from jukinet.domain.operators import Permission
from jukinet.domain.register import Sex
from jukinet.domain.wareki import format_wareki
from jukinet.services import register
from jukinet.services.views import RecordView
from jukinet.web.auth import NodeDep
from jukinet.web.ui.common import (
    FormState,
    PageActor,
    PostedForm,
    csrf_ok,
    error_page,
    forbidden,
)
from jukinet.web.ui.events.common import (
    NAME_FIELDS,
    RefQuery,
    VersionQuery,
    done,
    form_version,
    person_form,
    person_page,
    read_record,
    require_name,
)
from jukinet.web.ui.i18n import request_lang

router = APIRouter()

_CORRECTION_INPUTS = (*NAME_FIELDS, "birth_date", "sex", "address", "reason_note")


@router.get("/corrections")
def correction_form(
    request: Request, node: NodeDep, actor: PageActor, ref: RefQuery, v: VersionQuery = None
) -> HTMLResponse:
    """職権修正: the current items to edit, and the reason (supervisors only)."""
    if not actor.can(Permission.EX_OFFICIO):
        return forbidden(request, actor, "error.forbidden")
    form = person_form(request, node, ref, v)
    try:
        record = read_record(node, actor, ref).record
    except DomainError as error:
        return error_page(request, actor, error)
    form.values.update(
        family_name=record.name.family,
        given_name=record.name.given,
        family_name_kana=record.name.family_kana,
        given_name_kana=record.name.given_kana,
        birth_date=format_wareki(record.birth_date),
        sex=record.sex.value,
        address=record.address,
    )
    return person_page(request, node, actor, "correction.html", form)


def _correction_items(form: FormState, view: RecordView) -> dict[str, object]:
    """The items that differ from the record as it stands (only those are corrected; the
    service validates them, a name part merged with the rest of the current name)."""
    record = view.record
    current = {
        "family_name": record.name.family,
        "given_name": record.name.given,
        "family_name_kana": record.name.family_kana,
        "given_name_kana": record.name.given_kana,
    }
    items: dict[str, object] = {}
    require_name(form)
    for part in NAME_FIELDS:
        value = form.get(part).strip(" \u3000")
        if value != current[part]:
            items[part] = value
    birth_date = form.date("birth_date")
    if birth_date is not None and birth_date != record.birth_date:
        items["birth_date"] = birth_date
    sex = form.choice("sex", Sex)
    if sex is not None and sex is not record.sex:
        items["sex"] = sex
    address = form.text("address", required=True)
    if address and address != record.address:
        items["address"] = address
    form.text("reason_note", required=True)
    return items


@router.post("/corrections")
def correction(request: Request, node: NodeDep, actor: PageActor, posted: PostedForm) -> Response:
    """Record a correction; a clerk who posts anyway is refused (403)."""
    if not actor.can(Permission.EX_OFFICIO):
        return forbidden(request, actor, "error.forbidden")
    if not csrf_ok(request, posted):
        return forbidden(request, actor, "error.csrf")
    form = FormState.from_form(request_lang(request), posted).expect(*_CORRECTION_INPUTS)
    try:
        view = read_record(node, actor, form.get("record_ref"))
    except DomainError as error:
        return error_page(request, actor, error)
    items = _correction_items(form, view)
    if not form.ok:
        return person_page(request, node, actor, "correction.html", form, status=422)
    try:
        result = register.correct_record(
            node,
            actor=actor,
            resident_code=view.record.resident_code,
            items=items,
            reason_note=form.get("reason_note"),
            expected_version=form_version(form),
        )
    except DomainError as error:
        form.add(error)
        return person_page(request, node, actor, "correction.html", form, status=form.status)
    return done(result, "correction")
