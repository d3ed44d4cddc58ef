"""Operator accounts (security officer): list, live sessions, unlock, disable, roles, passwords.

Every change takes a reason, is written to the access log by the service, and ends the
operator's sessions where the service says so (disable, role change, password reset).
"""

from __future__ import annotations

from collections import Counter

from fastapi import APIRouter, Request
from fastapi.responses import Response

from jukinet.domain.operators import Actor, Permission, Role
from jukinet.services.context import ServiceContext
from jukinet.services.operator_security.sessions import live_sessions
from jukinet.services.operators import (
    add_operator,
    change_role,
    list_operators,
    reset_password,
    set_account_enabled,
    unlock_operator,
)
from jukinet.web.auth import NodeDep
from jukinet.web.ui.common import FormState, PageActor, PostedForm, render
from jukinet.web.ui.i18n import Translator, request_lang
from jukinet.web.ui.security.common import (
    FormAction,
    confirmation,
    jst,
    refusal,
    required,
    run_form,
)

router = APIRouter()

PATH = "/security/accounts"
_ENABLE_CHOICES = ("disable", "enable")


def _page(
    request: Request, node: ServiceContext, actor: Actor, form: FormState, status: int = 200
) -> Response:
    accounts = list_operators(node, actor=actor)
    names = {a.id: a.username for a in accounts}
    sessions = live_sessions(node)
    text = Translator(request_lang(request))
    return render(
        request,
        "security/accounts.html",
        {
            "form": form,
            "accounts": accounts,
            "session_counts": Counter(s.operator_id for s in sessions),
            "sessions": [(names.get(s.operator_id, "?"), s) for s in sessions],
            "account_options": [
                (a.username, f"{a.username}（{a.display_name}）") for a in accounts
            ],
            "role_options": [(r.value, text(f"role.{r.value}")) for r in Role],
            "enable_options": [(c, text(f"accounts.choice.{c}")) for c in _ENABLE_CHOICES],
            "done": confirmation(request, "accounts"),
            "jst": jst,
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
        permission=Permission.MANAGE_OPERATORS,
        path=PATH,
        inputs=names,
        field_map={name: f"{prefix}_{name}" for name in (*inputs, "display_name")},
        action=action,
        page=lambda form, status: _page(request, node, actor, form, status),
    )


@router.get(PATH)
def accounts_page(request: Request, node: NodeDep, actor: PageActor) -> Response:
    """Every account with its state and live sessions, and the forms to change them."""
    if refused := refusal(request, actor, Permission.MANAGE_OPERATORS):
        return refused
    return _page(request, node, actor, FormState(request_lang(request)))


@router.post(PATH + "/unlock")
def unlock(request: Request, node: NodeDep, actor: PageActor, form_data: PostedForm) -> Response:
    """Unlock an account locked after failed sign-ins."""

    def act(form: FormState) -> str | None:
        if not required(form, "unlock_username", "unlock_reason"):
            return None
        unlock_operator(
            node,
            actor=actor,
            username=form.get("unlock_username"),
            reason=form.get("unlock_reason"),
        )
        return "unlocked"

    return _post(request, node, actor, form_data, "unlock", ("username", "reason"), act)


@router.post(PATH + "/enabled")
def enabled(request: Request, node: NodeDep, actor: PageActor, form_data: PostedForm) -> Response:
    """Disable an account (its sessions end at once) or enable it again."""

    def act(form: FormState) -> str | None:
        if not required(form, "enable_username", "enable_choice", "enable_reason"):
            return None
        choice = form.get("enable_choice")
        if choice not in _ENABLE_CHOICES:
            form.missing("enable_choice")
            return None
        set_account_enabled(
            node,
            actor=actor,
            username=form.get("enable_username"),
            enabled=choice == "enable",
            reason=form.get("enable_reason"),
        )
        return "enabled" if choice == "enable" else "disabled"

    inputs = ("username", "choice", "reason")
    return _post(request, node, actor, form_data, "enable", inputs, act)


@router.post(PATH + "/role")
def role(request: Request, node: NodeDep, actor: PageActor, form_data: PostedForm) -> Response:
    """Give an account another role."""

    def act(form: FormState) -> str | None:
        required(form, "role_username", "role_reason")
        new_role = _role(form, "role_role")
        if new_role is None or not form.ok:
            return None
        change_role(
            node,
            actor=actor,
            username=form.get("role_username"),
            role=new_role,
            reason=form.get("role_reason"),
        )
        return "role"

    return _post(request, node, actor, form_data, "role", ("username", "role", "reason"), act)


def _role(form: FormState, name: str) -> Role | None:
    """The chosen role; an empty or unknown choice is marked next to the select."""
    try:
        return Role(form.get(name))
    except ValueError:
        form.missing(name)
        return None


def _passwords_match(form: FormState, first: str, second: str) -> bool:
    if form.get(first) and form.get(first) != form.get(second):
        form.errors[second] = Translator(form.lang)("accounts.password_mismatch")
    return form.ok


@router.post(PATH + "/password")
def password(request: Request, node: NodeDep, actor: PageActor, form_data: PostedForm) -> Response:
    """Set a new password for an operator who forgot theirs."""

    def act(form: FormState) -> str | None:
        required(form, "reset_username", "reset_reason")
        if not form.get("reset_password"):
            form.missing("reset_password")
        if not _passwords_match(form, "reset_password", "reset_password2"):
            return None
        reset_password(
            node,
            actor=actor,
            username=form.get("reset_username"),
            new_password=form.get("reset_password"),
            reason=form.get("reset_reason"),
        )
        return "reset"

    inputs = ("username", "password", "password2", "reason")
    return _post(request, node, actor, form_data, "reset", inputs, act)


@router.post(PATH + "/add")
def add(request: Request, node: NodeDep, actor: PageActor, form_data: PostedForm) -> Response:
    """Create an account (its card is lent on the card register)."""

    def act(form: FormState) -> str | None:
        required(form, "add_username", "add_display_name")
        new_role = _role(form, "add_role")
        if not form.get("add_password"):
            form.missing("add_password")
        if new_role is None or not _passwords_match(form, "add_password", "add_password2"):
            return None
        add_operator(
            node,
            actor=actor,
            username=form.text("add_username"),
            display_name=form.text("add_display_name"),
            role=new_role,
            password=form.get("add_password"),
        )
        return "added"

    inputs = ("username", "display_name", "role", "password", "password2")
    return _post(request, node, actor, form_data, "add", inputs, act)
