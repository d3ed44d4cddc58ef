"""Sign-in pages: the password, then the operator card (WebAuthn), then a session."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from jukinet.domain.errors import DomainError
from jukinet.domain.operators import Actor
from jukinet.services.operator_security import signin
from jukinet.services.operator_security.sessions import end_session, ending_error
from jukinet.web.auth import (
    SESSION_ENDED,
    SESSION_PENDING,
    SESSION_PENDING_AT,
    SESSION_SECRET,
    NodeDep,
    TerminalDep,
    session_actor,
)
from jukinet.web.ui.common import (
    FormState,
    PostedForm,
    csrf_ok,
    forbidden,
    redirect,
    render,
    script_data,
)
from jukinet.web.ui.i18n import request_lang

router = APIRouter()

#: The card must be shown within this many seconds of the password.
CARD_STEP_SECONDS = 120


@router.get("/login")
def login_form(
    request: Request, actor: Annotated[Actor | None, Depends(session_actor)]
) -> Response:
    """The sign-in form (signed-in operators go straight to the search page)."""
    if actor is not None:
        return redirect("/")
    form = FormState(request_lang(request))
    ended = request.session.pop(SESSION_ENDED, None)
    if ended:
        form.add(ending_error(ended))
    return render(request, "login.html", {"form": form})


@router.post("/login")
def login(
    request: Request, node: NodeDep, terminal: TerminalDep, form_data: PostedForm
) -> Response:
    """Check the password; then ask for the operator's card."""
    form = FormState.from_form(request_lang(request), form_data).expect("username", "password")
    if not csrf_ok(request, form_data):
        return forbidden(request, None, "error.csrf")
    username = form.text("username", required=True)
    password = form.get("password")
    if not password:
        form.missing("password")
    if not form.ok:
        return render(request, "login.html", {"form": form}, status=422)
    try:
        operator_id = signin.check_password(
            node, username=username, password=password, terminal=terminal
        )
    except DomainError as error:
        form.add(error)
        form.values.pop("password", None)
        return render(request, "login.html", {"form": form}, status=error.status)
    # A new session on sign-in: nothing from before (a planted cookie) survives.
    request.session.clear()
    request.session[SESSION_PENDING] = operator_id
    request.session[SESSION_PENDING_AT] = node.now().timestamp()
    return redirect("/login/card")


def _pending(request: Request, node: NodeDep) -> int | None:
    operator_id = request.session.get(SESSION_PENDING)
    started = float(request.session.get(SESSION_PENDING_AT, 0))
    if not isinstance(operator_id, int) or node.now().timestamp() - started > CARD_STEP_SECONDS:
        return None
    return operator_id


@router.get("/login/card")
def card_form(request: Request, node: NodeDep) -> Response:
    """The card step: a WebAuthn challenge for the operator's lent security keys."""
    operator_id = _pending(request, node)
    if operator_id is None:
        return redirect("/login")
    return _card_page(request, node, operator_id, FormState(request_lang(request)))


def _card_page(
    request: Request, node: NodeDep, operator_id: int, form: FormState, status: int = 200
) -> Response:
    with node.uow() as uow:
        has_card = bool(signin.lent_cards(uow.session, operator_id, signin.WEBAUTHN))
    if not has_card and node.settings.demo_card_enrolment:
        mode = "enrol"
        challenge_id, options = signin.demo_enrolment_options(node, operator_id=operator_id)
    else:
        mode = "signin"
        challenge_id, options = signin.webauthn_signin_options(node, operator_id=operator_id)
    return render(
        request,
        "login_card.html",
        {
            "form": form,
            "mode": mode,
            "challenge_id": challenge_id,
            "options": script_data(options),
        },
        status=status,
    )


def page_origin(request: Request) -> str:
    """The origin the browser saw (what its WebAuthn client data names)."""
    return f"{request.url.scheme}://{request.url.netloc}"


@router.post("/login/card")
def card_answer(
    request: Request, node: NodeDep, terminal: TerminalDep, form_data: PostedForm
) -> Response:
    """Verify the card's answer; on success start the session and go to the search page."""
    if not csrf_ok(request, form_data):
        return forbidden(request, None, "error.csrf")
    operator_id = _pending(request, node)
    if operator_id is None:
        return redirect("/login")
    form = FormState.from_form(request_lang(request), form_data).expect(
        "challenge_id", "credential", "mode"
    )
    finish = (
        signin.finish_demo_enrolment
        if form.get("mode") == "enrol"
        else signin.finish_webauthn_signin
    )
    try:
        signed_in = finish(
            node,
            operator_id=operator_id,
            challenge_id=form.get("challenge_id"),
            credential=form.get("credential"),
            page_origin=page_origin(request),
            terminal=terminal,
        )
    except DomainError as error:
        form.add(error)
        if error.code == "JUKI-AUTH-001":  # the account locked meanwhile
            request.session.clear()
            return render(request, "login.html", {"form": form}, status=error.status)
        return _card_page(request, node, operator_id, form, status=error.status)
    request.session.clear()
    request.session[SESSION_SECRET] = signed_in.secret
    return redirect("/")


@router.post("/logout")
def logout(request: Request, node: NodeDep, form_data: PostedForm) -> Response:
    """End the session (on the server: the cookie alone could not be trusted to go)."""
    if not csrf_ok(request, form_data):
        return forbidden(request, None, "error.csrf")
    secret = request.session.get(SESSION_SECRET)
    if isinstance(secret, str):
        end_session(node, secret)
    request.session.clear()
    return redirect("/login")
