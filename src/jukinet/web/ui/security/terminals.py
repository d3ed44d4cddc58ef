"""Registered terminals (登録端末) for the security officer: list, revoke, register.

Registering takes the terminal's client certificate as PEM (issuing and installing it is the
enrolment's job); the register keeps its SHA-256, matched on every request.
"""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from fastapi import APIRouter, Request
from fastapi.responses import Response

from jukinet.domain.operators import Actor, Permission
from jukinet.services.context import ServiceContext
from jukinet.services.operator_security.terminals import (
    list_terminals,
    register_terminal,
    revoke_terminal,
)
from jukinet.web.auth import NodeDep
from jukinet.web.ui.common import FormState, PageActor, PostedForm, render
from jukinet.web.ui.i18n import Translator, request_lang
from jukinet.web.ui.security.common import confirmation, jst, refusal, required, run_form

router = APIRouter()

PATH = "/security/terminals"
_REGISTER_INPUTS = ("name", "place", "purpose", "certificate")


def _page(
    request: Request, node: ServiceContext, actor: Actor, form: FormState, status: int = 200
) -> Response:
    terminals = list_terminals(node, actor=actor)
    return render(
        request,
        "security/terminals.html",
        {
            "form": form,
            "terminals": terminals,
            "active_options": [(t.name, t.name) for t in terminals if t.status == "active"],
            "done": confirmation(request, "terminals"),
            "jst": jst,
        },
        status=status,
        actor=actor,
    )


@router.get(PATH)
def terminals_page(request: Request, node: NodeDep, actor: PageActor) -> Response:
    """Every terminal ever registered, and the forms to revoke or register one."""
    if refused := refusal(request, actor, Permission.MANAGE_TERMINALS):
        return refused
    return _page(request, node, actor, FormState(request_lang(request)))


@router.post(PATH + "/revoke")
def revoke(request: Request, node: NodeDep, actor: PageActor, form_data: PostedForm) -> Response:
    """Revoke a terminal: its next request is refused."""

    def act(form: FormState) -> str | None:
        if not required(form, "revoke_name", "revoke_reason"):
            return None
        revoke_terminal(
            node, actor=actor, name=form.text("revoke_name"), reason=form.get("revoke_reason")
        )
        return "revoked"

    return run_form(
        request,
        actor,
        form_data,
        permission=Permission.MANAGE_TERMINALS,
        path=PATH,
        inputs=("revoke_name", "revoke_reason"),
        field_map={"name": "revoke_name", "reason": "revoke_reason"},
        action=act,
        page=lambda form, status: _page(request, node, actor, form, status),
    )


def _certificate_der(form: FormState, name: str) -> bytes | None:
    """The pasted PEM certificate as DER; an error next to the input when it is not one."""
    try:
        return x509.load_pem_x509_certificate(form.get(name).strip().encode()).public_bytes(
            Encoding.DER
        )
    except ValueError:
        form.errors[name] = Translator(form.lang)("terminals.certificate_bad")
        return None


@router.post(PATH + "/register")
def register(request: Request, node: NodeDep, actor: PageActor, form_data: PostedForm) -> Response:
    """Register a terminal by its client certificate."""

    def act(form: FormState) -> str | None:
        if not required(form, *(f"reg_{name}" for name in _REGISTER_INPUTS)):
            return None
        certificate = _certificate_der(form, "reg_certificate")
        if certificate is None:
            return None
        register_terminal(
            node,
            actor=actor,
            name=form.get("reg_name"),
            place=form.get("reg_place"),
            purpose=form.get("reg_purpose"),
            certificate_der=certificate,
        )
        return "registered"

    return run_form(
        request,
        actor,
        form_data,
        permission=Permission.MANAGE_TERMINALS,
        path=PATH,
        inputs=tuple(f"reg_{name}" for name in _REGISTER_INPUTS),
        field_map={name: f"reg_{name}" for name in _REGISTER_INPUTS},
        action=act,
        page=lambda form, status: _page(request, node, actor, form, status),
    )
