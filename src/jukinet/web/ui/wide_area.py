"""The counter page of a wide-area copy (広域交付): identify the resident, ask home, print.

One form for both ways of identification (the card with its PIN, or a photo ID the clerk
reads); the certificate comes back as a PDF download. Any refusal — a card or PIN refused, a
home municipality that cannot be asked (and why), or its own refusal — shows the form again
with the reason, and nothing is printed.
"""

from __future__ import annotations

from typing import Final

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from jukinet.domain.certificates import OptionalItems
from jukinet.domain.errors import DomainError
from jukinet.domain.operators import Actor
from jukinet.domain.wide_area import Identification
from jukinet.services.certificates.wide_area import WideAreaRequest, issue_wide_area
from jukinet.services.context import ServiceContext
from jukinet.services.resident_card.inputs import IdDocument
from jukinet.web.auth import NodeDep
from jukinet.web.ui.common import (
    PAGE_HEADERS,
    FormState,
    PageActor,
    PostedForm,
    csrf_ok,
    forbidden,
    render,
)
from jukinet.web.ui.i18n import request_lang

router = APIRouter(include_in_schema=False)
PAGE: Final = "/certificates/wide-area"
#: The page's inputs: each field of :class:`WideAreaRequest` (``items`` as its two boxes).
WIDE_AREA_INPUTS: Final = (
    "identification",
    "household",
    "with_relationship",
    "with_code",
    "card_serial",
    "pin",
    "home_municipality_code",
    "id_document",
    "name",
    "birth_date",
    "address",
)


def _page(request: Request, actor: Actor, form: FormState, *, status: int = 200) -> HTMLResponse:
    documents = [(d.value, d.label_ja) for d in IdDocument]
    return render(
        request,
        "certificates/wide_area.html",
        {"form": form, "documents": documents},
        status=status,
        actor=actor,
    )


@router.get(PAGE)
def wide_area_form(request: Request, actor: PageActor) -> HTMLResponse:
    """The counter form of a wide-area copy."""
    form = FormState(request_lang(request), values={"identification": "card"})
    return _page(request, actor, form)


def _request(form: FormState) -> WideAreaRequest | None:
    try:
        identification = Identification(form.get("identification"))
    except ValueError:
        form.missing("identification")
        return None
    document = form.get("id_document")
    birth_date = form.date("birth_date", required=False)
    if form.errors:
        return None
    return WideAreaRequest(
        identification=identification,
        household=form.checked("household"),
        items=OptionalItems(
            relationship=form.checked("with_relationship"),
            resident_code=form.checked("with_code"),
        ),
        card_serial=form.text("card_serial"),
        pin=form.get("pin").strip(),
        home_municipality_code=form.text("home_municipality_code"),
        id_document=IdDocument(document) if document in set(IdDocument) else None,
        name=form.text("name"),
        birth_date=birth_date,
        address=form.text("address"),
    )


@router.post(PAGE, response_model=None)
def wide_area_issue(
    request: Request, node: NodeDep, actor: PageActor, posted: PostedForm
) -> Response:
    """Ask the home municipality and hand over the PDF; a refusal shows the form again."""
    if not csrf_ok(request, posted):
        return forbidden(request, actor, "error.csrf")
    form = FormState.from_form(request_lang(request), posted)
    form.values.pop("pin", None)  # never echoed back into the page
    wanted = _request(FormState.from_form(request_lang(request), posted))
    if wanted is None:
        return _page(request, actor, form, status=422)
    return _issue(request, node, actor, form, wanted)


def _issue(
    request: Request,
    node: ServiceContext,
    actor: Actor,
    form: FormState,
    wanted: WideAreaRequest,
) -> Response:
    try:
        issued = issue_wide_area(node, actor=actor, request=wanted)
    except DomainError as error:
        form.add(error)
        return _page(request, actor, form, status=error.status)
    headers = {
        **PAGE_HEADERS,
        "Content-Disposition": f'attachment; filename="certificate-{issued.serial}.pdf"',
    }
    return Response(issued.pdf, media_type="application/pdf", headers=headers)
