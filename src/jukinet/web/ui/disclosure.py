"""The disclosure page (本人確認情報の提供状況の開示) for a resident's request at the counter.

A clerk or supervisor, having checked the resident's identity document, types the resident's
code; the page shows every retained access-log entry about that resident — date and time (Japan
time, 和暦 too), method, reason, affair, source, recipient, the items provided and the entry's
position — and the signed tree head they were proved against. The proof document itself (the
JSON that ``jukinet audit check-proof`` verifies) is a download posted from the page.

The resident code travels only in form bodies: never in a URL, a query string or a link, so it
cannot end up in access logs, browser history or a Referer header. Every disclosure (the page
and each download) is itself recorded in the log by :func:`jukinet.services.audit.disclose`.
Security officers have no business reading residents and get the refusal page.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from jukinet.data.affairs import get_affair
from jukinet.domain.access_log import AccessEntry, Action, ActorKind, Channel, entry_from_dict
from jukinet.domain.affairs import IdentityItem
from jukinet.domain.clock import JST
from jukinet.domain.codes import mask_resident_code
from jukinet.domain.errors import DomainError
from jukinet.domain.operators import Actor, Permission
from jukinet.domain.wareki import format_wareki
from jukinet.domain.wide_area import AFFAIR as WIDE_AREA_AFFAIR
from jukinet.domain.wide_area import STATUTE as WIDE_AREA_STATUTE
from jukinet.domain.wide_area import refusal as wide_area_refusal
from jukinet.domain.wide_area import refusal_codes as wide_area_refusal_codes
from jukinet.services import audit, head_publication
from jukinet.services.context import ServiceContext
from jukinet.web.auth import NodeDep
from jukinet.web.ui.common import (
    PAGE_HEADERS,
    FormState,
    PageActor,
    PostedForm,
    csrf_ok,
    error_page,
    forbidden,
    node_label,
    render,
)
from jukinet.web.ui.i18n import Translator, request_lang

router = APIRouter(include_in_schema=False)

#: The form's one input.
CODE_FIELD: Final = "resident_code"
#: Affair wording shown when the statute names no law (the full text is in the JSON).
AFFAIR_TEXT_LIMIT: Final = 40


@dataclass(frozen=True, slots=True)
class Moment:
    """A log timestamp as the page shows it: Japan time, 和暦 date and ISO form."""

    iso: str
    date_wareki: str
    date_iso: str
    time: str


@dataclass(frozen=True, slots=True)
class DisclosureRow:
    """One access-log entry as the table shows it, in one language."""

    position: int
    when: Moment
    action: str
    action_label: str
    method: str
    reason: str
    affair_code: str | None
    affair_name: str | None
    source: str
    #: The source node as people call it (全国センター, 東京都).
    source_name: str
    recipient_kind: str
    recipient: str
    case_number: str | None
    items: str


def moment(text: str, lang: str) -> Moment:
    """A log timestamp (UTC ISO text) in Japan time, with its 和暦 date."""
    local = datetime.fromisoformat(text).astimezone(JST)
    try:
        wareki = format_wareki(local.date(), lang=lang)
    except DomainError:  # before 明治: no era (never for a log entry, but never fail either)
        wareki = local.date().isoformat()
    return Moment(
        iso=local.isoformat(timespec="seconds"),
        date_wareki=wareki,
        date_iso=local.date().isoformat(),
        time=local.strftime("%H:%M:%S"),
    )


def _affair(code: str | None) -> tuple[str | None, str | None]:
    """``(code, law name or shortened wording)``; an affair the tables lack shows its code only."""
    if not code:
        return None, None
    if code == WIDE_AREA_AFFAIR:  # a counter's affair, not in the provision tables
        return code, WIDE_AREA_STATUTE
    try:
        affair = get_affair(code)
    except DomainError:
        return code, None
    if affair.law_name:
        return affair.code, affair.law_name
    text = affair.affair
    short = text if len(text) <= AFFAIR_TEXT_LIMIT else text[:AFFAIR_TEXT_LIMIT] + "…"
    return affair.code, short


def _item_label(item: str, text: Translator) -> str:
    try:
        identity = IdentityItem(item)
    except ValueError:
        key = f"disclosure.item.{item}"
        return text(key) if text.has(key) else item
    return identity.label_en if text.lang == "en" else identity.label_ja


def _wide_area_detail(outcome: str, detail: str, text: Translator) -> str:
    """The variable part of a wide-area copy's reason, as people read it."""
    if outcome == "wide-area:answered":
        return node_label(detail.removeprefix("for "), text.lang)
    if outcome == "wide-area:refused" and detail in wide_area_refusal_codes():
        return f"{detail} {wide_area_refusal(detail).message(text.lang)}"
    return detail


def _reason(entry: AccessEntry, text: Translator) -> str:
    reason = entry.reason
    if not reason:
        return "—"
    outcome, _, detail = reason.partition(" ")
    if outcome.startswith("wide-area:") and text.has(f"disclosure.reason.{outcome}"):
        return text(f"disclosure.reason.{outcome}", detail=_wide_area_detail(outcome, detail, text))
    # A counter write records its event kind (move_in), named as the record's history names it.
    if entry.action is Action.WRITE and text.has(f"event.{reason}"):
        return text.event(reason)
    if text.has(f"disclosure.reason.{reason}"):
        return text(f"disclosure.reason.{reason}")
    return reason


def _method(channel: Channel, text: Translator) -> str:
    return text(f"channel.{channel.value}")


def disclosure_rows(document: Mapping[str, Any], lang: str) -> list[DisclosureRow]:
    """The document's entries as table rows in ``lang``, in log order."""
    return entry_rows(
        ((item["entry"], *entry_from_dict(item["entry"])) for item in document["entries"]), lang
    )


def entry_rows(
    entries: Iterable[tuple[Mapping[str, Any], int, AccessEntry]], lang: str
) -> list[DisclosureRow]:
    """Entries already read (``(their JSON form, position, entry)``) as table rows in ``lang``.

    Labels repeat across a thousand rows (the same items, nodes, affairs): each is made once.
    """
    text = Translator(lang)
    labels: dict[str, str] = {}
    nodes: dict[str, str] = {}
    affairs: dict[str | None, tuple[str | None, str | None]] = {}

    def label(item: str) -> str:
        found = labels.get(item)
        if found is None:
            found = labels[item] = _item_label(item, text)
        return found

    def node_name(name: str) -> str:
        found = nodes.get(name)
        if found is None:
            found = nodes[name] = node_label(name, lang)
        return found

    rows: list[DisclosureRow] = []
    for data, position, entry in entries:
        if entry.affair_code not in affairs:
            affairs[entry.affair_code] = _affair(entry.affair_code)
        affair_code, affair_name = affairs[entry.affair_code]
        items = [label(i) for i in entry.items]
        rows.append(
            DisclosureRow(
                position=position,
                when=moment(data["recorded_at"], lang),
                action=entry.action.value,
                action_label=text(f"disclosure.action.{entry.action.value}"),
                method=_method(entry.channel, text),
                reason=_reason(entry, text),
                affair_code=affair_code,
                affair_name=affair_name,
                source=entry.node,
                source_name=node_name(entry.node),
                recipient_kind=text(f"disclosure.kind.{entry.actor_kind.value}"),
                # Another node as people call it (神奈川県横浜市), not its network name.
                recipient=(
                    node_name(entry.actor) if entry.actor_kind is ActorKind.NODE else entry.actor
                ),
                case_number=(
                    entry.case_number if entry.actor_kind is ActorKind.RECIPIENT else None
                ),
                items=text.join(items) or text("disclosure.item.none"),
            )
        )
    return rows


def download_name(code: str) -> str:
    """The file name of the proof document: the masked code (``x`` for ``*``, which many file
    systems refuse), never the full code."""
    return f"disclosure-{mask_resident_code(code).replace('*', 'x')}.json"


def _refusal(request: Request, actor: Actor) -> HTMLResponse | None:
    """The refusal page for an operator who may not read residents (security officers)."""
    try:
        actor.require(Permission.READ_RESIDENTS)
    except DomainError as error:
        return error_page(request, actor, error)
    return None


def _page(
    request: Request,
    actor: Actor,
    form: FormState,
    *,
    document: Mapping[str, Any] | None = None,
    status: int = 200,
    retention_years: int = 7,
) -> HTMLResponse:
    context: dict[str, Any] = {
        "form": form,
        "code_field": CODE_FIELD,
        "retention_years": retention_years,
        "result": None,
    }
    if document is not None:
        head = document["tree_head"]
        code = str(document["resident_code"])
        context["retention_years"] = document["retention_years"]
        context["result"] = {
            "masked": mask_resident_code(code),
            "code": code,
            "issued": moment(document["issued_at"], form.lang),
            "rows": disclosure_rows(document, form.lang),
            "head": {
                "signer": head["signer"],
                "size": head["tree_size"],
                "root": head["root_hash"],
                "timestamp": moment(head["timestamp"], form.lang),
            },
            "fingerprint": audit.key_fingerprint(document["signer_public_key"]),
            "file_name": download_name(code),
        }
    return render(request, "disclosure.html", context, status=status, actor=actor)


@router.get("/disclosure")
def disclosure_form(request: Request, actor: PageActor) -> HTMLResponse:
    """The empty form: the resident's code, typed after checking their identity document."""
    refused = _refusal(request, actor)
    if refused is not None:
        return refused
    form = FormState(request_lang(request)).expect(CODE_FIELD)
    return _page(request, actor, form)


def _disclose(
    request: Request, node: ServiceContext, actor: Actor, form_data: FormData
) -> tuple[FormState, dict[str, Any] | None]:
    """Read the posted code and disclose; errors land in the form state (next to the input)."""
    form = FormState.from_form(request_lang(request), form_data).expect(CODE_FIELD)
    code = form.text(CODE_FIELD, required=True)
    if not form.ok:
        return form, None
    try:
        document = head_publication.witnessed_disclosure(
            node, actor=actor, request=audit.DisclosureRequest(resident_code=code)
        )
    except DomainError as error:
        form.add(error)
        form.status = error.status
        return form, None
    return form, document


@router.post("/disclosure")
def disclosure_result(
    request: Request, node: NodeDep, actor: PageActor, form_data: PostedForm
) -> HTMLResponse:
    """Disclose: every retained entry about the resident, and the head they are proved against.

    The disclosure is recorded in the log first, so it appears in its own table.
    """
    refused = _refusal(request, actor)
    if refused is not None:
        return refused
    if not csrf_ok(request, form_data):
        return forbidden(request, actor, "error.csrf")
    form, document = _disclose(request, node, actor, form_data)
    if document is None:
        return _page(request, actor, form, status=form.status)
    # The result names the resident (masked); the input is left empty for the next request.
    form.values.pop(CODE_FIELD, None)
    return _page(request, actor, form, document=document)


@router.post("/disclosure.json", response_model=None)
def disclosure_json(
    request: Request, node: NodeDep, actor: PageActor, form_data: PostedForm
) -> Response:
    """The proof document as a JSON file (``jukinet audit check-proof`` verifies it).

    A new disclosure, recorded like the page's; the file is named after the masked code.
    """
    refused = _refusal(request, actor)
    if refused is not None:
        return refused
    if not csrf_ok(request, form_data):
        return forbidden(request, actor, "error.csrf")
    form, document = _disclose(request, node, actor, form_data)
    if document is None:
        return _page(request, actor, form, status=form.status)
    body = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    headers = {
        **PAGE_HEADERS,
        "Content-Disposition": (
            f'attachment; filename="{download_name(str(document["resident_code"]))}"'
        ),
    }
    return Response(body.encode("utf-8"), media_type="application/json", headers=headers)
