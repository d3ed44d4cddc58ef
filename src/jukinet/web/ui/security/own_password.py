"""An operator changes their own password (``/account/password``); every session of theirs
ends, this one included, and they sign in again with the new one and their card."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from jukinet.services.operators import change_own_password
from jukinet.web.auth import NodeDep
from jukinet.web.ui.common import FormState, PageActor, PostedForm, redirect, render
from jukinet.web.ui.i18n import Translator, request_lang
from jukinet.web.ui.security.common import run_form

router = APIRouter()
PATH = "/account/password"


@router.get(PATH)
def password_form(request: Request, actor: PageActor) -> Response:
    """The form: the current password, the new one twice."""
    return render(
        request,
        "security/own_password.html",
        {"form": FormState(request_lang(request))},
        actor=actor,
    )


@router.post(PATH)
def change_password(
    request: Request, node: NodeDep, actor: PageActor, form_data: PostedForm
) -> Response:
    """Change the password; then the sign-in page (all sessions have ended)."""

    def action(form: FormState) -> str | None:
        current, new, again = form.get("current"), form.get("new"), form.get("new2")
        for name, value in (("current", current), ("new", new)):
            if not value:
                form.missing(name)
        if new and new != again:
            form.errors["new2"] = Translator(form.lang)("accounts.password_mismatch")
        if not form.ok:
            return None
        change_own_password(node, actor=actor, current_password=current, new_password=new)
        return "changed"

    def page(form: FormState, status: int) -> Response:
        for name in ("current", "new", "new2"):
            form.values.pop(name, None)
        return render(
            request, "security/own_password.html", {"form": form}, status=status, actor=actor
        )

    answer = run_form(
        request,
        actor,
        form_data,
        permission=None,
        path=PATH,
        inputs=("current", "new", "new2"),
        field_map={"current_password": "current", "password": "new"},
        action=action,
        page=page,
    )
    if answer.status_code == 303:
        # Every session ended with the change: start again at the sign-in page.
        request.session.clear()
        return redirect("/login", request)
    return answer
