"""Certificate pages: issuing a copy at the counter, and the public check of a copy.

The counter page addresses the resident by the record's opaque reference; the certificate comes
back as a PDF download. The check is public (anyone holding a certificate may check it) and shows
only what the certificate prints, never more.
"""

from __future__ import annotations

from typing import Annotated, Any, Final

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData, UploadFile

from jukinet.domain.certificates import CertificateKind, OptionalItems
from jukinet.domain.errors import DomainError
from jukinet.domain.operators import Actor
from jukinet.services import reading
from jukinet.services.certificates.issue import CertificateRequest, issue_certificate
from jukinet.services.certificates.verify import CertificateCheck, verify_code, verify_pdf
from jukinet.services.context import ServiceContext
from jukinet.web.auth import NodeDep
from jukinet.web.ui.common import (
    PAGE_HEADERS,
    FormState,
    OptionalActor,
    PageActor,
    PostedForm,
    csrf_ok,
    error_page,
    forbidden,
    render,
)
from jukinet.web.ui.i18n import Translator, request_lang

router = APIRouter(include_in_schema=False)
RefPath = Annotated[str, Path(max_length=64)]
_MAX_UPLOAD: Final = 5 * 1024 * 1024 + 1
_OPTIONS = ("with_relationship", "with_code", "with_domicile")


def _kinds(t: Translator) -> list[tuple[str, str]]:
    return [(k.value, t(f"certificate.kind.{k.value}")) for k in CertificateKind]


def _page(
    request: Request,
    node: ServiceContext,
    actor: Actor,
    ref: str,
    form: FormState,
    *,
    status: int = 200,
) -> HTMLResponse:
    try:
        view = reading.read_resident_by_ref(node, actor=actor, record_ref=ref)
    except DomainError as error:
        return error_page(request, actor, error)
    t = Translator(request_lang(request))
    return render(
        request,
        "certificates/request.html",
        {"form": form, "view": view, "kinds": _kinds(t), "options": _OPTIONS},
        status=status,
        actor=actor,
    )


@router.get("/records/{ref}/certificates")
def certificate_form(
    request: Request, ref: RefPath, node: NodeDep, actor: PageActor
) -> HTMLResponse:
    """The request form for one resident (a logged read of the record)."""
    form = FormState(request_lang(request), values={"kind": CertificateKind.RESIDENT_COPY.value})
    return _page(request, node, actor, ref, form)


@router.post("/records/{ref}/certificates", response_model=None)
def certificate_issue(
    request: Request, ref: RefPath, node: NodeDep, actor: PageActor, posted: PostedForm
) -> Response:
    """Issue the certificate and hand over its PDF; a refusal shows the form again (4xx)."""
    if not csrf_ok(request, posted):
        return forbidden(request, actor, "error.csrf")
    form = FormState.from_form(request_lang(request), posted)
    try:
        kind = CertificateKind(form.get("kind"))
    except ValueError:
        form.missing("kind")
        return _page(request, node, actor, ref, form, status=422)
    try:
        view = reading.read_resident_by_ref(node, actor=actor, record_ref=ref)
        issued = issue_certificate(
            node,
            actor=actor,
            request=CertificateRequest(
                view.record.resident_code,
                kind=kind,
                household=form.checked("household"),
                items=OptionalItems(
                    relationship=form.checked("with_relationship"),
                    resident_code=form.checked("with_code"),
                    domicile=form.checked("with_domicile"),
                ),
            ),
        )
    except DomainError as error:
        form.add(error)
        return _page(request, node, actor, ref, form, status=error.status)
    headers = {
        **PAGE_HEADERS,
        "Content-Disposition": f'attachment; filename="certificate-{issued.serial}.pdf"',
    }
    return Response(issued.pdf, media_type="application/pdf", headers=headers)


def _verify_page(
    request: Request,
    actor: Actor | None,
    form: FormState,
    check: CertificateCheck | None = None,
    *,
    status: int = 200,
) -> HTMLResponse:
    context: dict[str, Any] = {"form": form, "check": check}
    return render(request, "certificates/verify.html", context, status=status, actor=actor)


@router.get("/certificates/verify")
def verify_form(request: Request, actor: OptionalActor) -> HTMLResponse:
    """The public check: upload the PDF or type the QR code's text."""
    return _verify_page(request, actor, FormState(request_lang(request)))


def _upload(posted: FormData) -> bytes | None:
    upload = posted.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return None
    # One byte past the limit is enough to refuse it; the body limit bounds the rest.
    return upload.file.read(_MAX_UPLOAD) or None


@router.post("/certificates/verify")
def verify_result(
    request: Request, node: NodeDep, actor: OptionalActor, posted: PostedForm
) -> HTMLResponse:
    """The answer: genuine or not, current or superseded, and what the certificate prints."""
    form = FormState.from_form(request_lang(request), posted)
    if not csrf_ok(request, posted):
        return forbidden(request, actor, "error.csrf")
    pdf = _upload(posted)
    code = form.text("code")
    asked_by = f"public:{request.client.host if request.client else 'unknown'}"
    try:
        if pdf is not None:
            check = verify_pdf(node, pdf, asked_by=asked_by)
        elif code:
            check = verify_code(node, code, asked_by=asked_by)
        else:
            form.general.append(Translator(form.lang)("certificate.verify.missing"))
            return _verify_page(request, actor, form, status=422)
    except DomainError as error:
        form.add(error)
        return _verify_page(request, actor, form, status=error.status)
    return _verify_page(request, actor, form, check)
