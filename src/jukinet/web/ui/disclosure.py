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

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from cryptography.hazmat.primitives import serialization
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
from jukinet.services import audit
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
    render,
)
from jukinet.web.ui.i18n import LABELS, request_lang

router = APIRouter(include_in_schema=False)

#: The form's one input.
CODE_FIELD: Final = "resident_code"
#: Affair wording shown when the statute names no law (the full text is in the JSON).
AFFAIR_TEXT_LIMIT: Final = 40

#: The page's own labels: key -> (Japanese, English). Kept here so the feature is in one place.
TEXTS: Final[Mapping[str, tuple[str, str]]] = {
    "title": ("本人確認情報の提供状況の開示", "Disclosure of identity-information provision"),
    "lead": (
        "住民本人の請求により、その方の本人確認情報について、いつ、どの方法で、どの理由・事務の"
        "ために、どこから誰に、どの情報が提供されたか（提供状況）を開示します。記録は{years}年間"
        "保存されます。",
        "On a resident's own request, show when, how, why and for which affair their identity "
        "information was provided, from where, to whom, and which items. Records are kept for "
        "{years} years.",
    ),
    "id_note_title": ("本人確認をしてください", "Check the resident's identity first"),
    "id_note": (
        "請求者に本人確認書類（マイナンバーカード・住民基本台帳カード・運転免許証・旅券など）を"
        "提示してもらい、本人であることを確認してから、その方ご自身の住民票コードを入力して"
        "ください。開示した事実も記録され、一覧に含まれます。",
        "Ask the resident to show an identity document (My Number card, resident card, driving "
        "licence, passport…) and confirm they are who they say before entering their own "
        "resident code. The disclosure itself is recorded and appears in the list.",
    ),
    "code": ("住民票コード", "Resident code"),
    "code_hint": (
        "請求者本人の11桁の住民票コード（全角数字も可）",
        "The requesting resident's own 11-digit code (full-width digits are accepted)",
    ),
    "submit": ("開示する", "Disclose"),
    "result": ("提供状況", "Provision record"),
    "result_for": ("住民票コード {code} の提供状況", "Provision record for resident code {code}"),
    "count": ("{n}件", "{n} entries"),
    "issued": ("開示日時", "Disclosed at"),
    "none": ("記録はありません。", "There are no entries."),
    "col.position": ("記録番号", "Entry"),
    "col.when": ("日時（日本時間）", "Date and time (Japan)"),
    "col.action": ("内容", "What happened"),
    "col.method": ("提供方法", "Method"),
    "col.reason": ("理由", "Reason"),
    "col.affair": ("事務", "Affair"),
    "col.source": ("提供元", "Source"),
    "col.recipient": ("提供先", "Recipient"),
    "col.items": ("提供した情報", "Items provided"),
    "action.read": ("提供（参照）", "Provided (read)"),
    "action.write": ("記載・更新", "Written"),
    "action.candidate": ("検索候補として表示", "Shown as a search candidate"),
    "action.refused": ("照会を拒否（提供なし）", "Query refused (nothing provided)"),
    "action.not_found": ("該当なし（提供なし）", "Not found (nothing provided)"),
    "action.retention": ("保存期間経過による削除", "Deleted after the retention period"),
    "channel.counter": ("窓口端末", "Counter terminal"),
    "channel.agency_api": ("機関照会（オンライン）", "Agency query (online)"),
    "channel.batch": ("一括照会", "Batch query"),
    "channel.network": ("ネットワーク（ノード間）", "Network (node to node)"),
    "channel.export": ("書出し", "Export"),
    "channel.system": ("システム", "System"),
    "kind.operator": ("職員 (operator)", "Staff (operator)"),
    "kind.recipient": ("提供先機関 (recipient)", "Recipient body"),
    "kind.node": ("他のノード", "Another node"),
    "kind.system": ("システム", "System"),
    "item.record": ("住民票", "resident record"),
    "item.history": ("住民票の履歴", "record history"),
    "item.household": ("世帯", "household"),
    "item.search_result": ("検索結果", "search result"),
    "item.access_log": ("提供状況（アクセスログ）", "provision record (access log)"),
    "item.none": ("（なし）", "(none)"),
    "case_number": ("事案番号", "Case number"),
    "head": ("署名付きツリーヘッド", "Signed tree head"),
    "head_lead": (
        "各記録は、このノードが署名した次のツリーヘッドに含まれることが証明されています。",
        "Each entry is proved to be in the log covered by this head, signed by the node.",
    ),
    "head.signer": ("署名したノード", "Signed by"),
    "head.size": ("記録の総数（ツリーの大きさ）", "Entries in the log (tree size)"),
    "head.root": ("ルートハッシュ", "Root hash"),
    "head.timestamp": ("署名日時", "Signed at"),
    "head.key": ("署名鍵の指紋（SHA-256）", "Signing key fingerprint (SHA-256)"),
    "download": ("証明用ファイル（JSON）をダウンロード", "Download the proof document (JSON)"),
    "download_note": (
        "ダウンロードも開示として記録されるため、ファイルには記録が1件多く含まれます。",
        "The download is recorded as a disclosure too, so the file holds one more entry.",
    ),
    "check": ("検証の方法", "How to check it"),
    "check_text": (
        "本人は、このノードが公表している公開鍵（またはネットワークCA証明書）を使い、"
        "次のコマンドで各記録の包含証明と署名を検証できます。指紋が公表値と一致することも"
        "確認してください。",
        "The resident can check every entry's inclusion proof and the head's signature with "
        "the node's published public key (or the network CA certificate), and should compare "
        "the fingerprint above with the published one.",
    ),
    "reason.窓口業務": ("窓口業務", "Counter business"),
    "reason.本人確認情報の提供状況の開示請求": (
        "本人確認情報の提供状況の開示請求",
        "Request for disclosure of the provision record",
    ),
}


class DisclosureText:
    """This page's labels in one language; templates receive it as ``dt``."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self._index = 1 if lang == "en" else 0

    def __call__(self, key: str, **values: object) -> str:
        """The label for ``key`` (the key itself if missing), placeholders filled in."""
        pair = TEXTS.get(key)
        text = key if pair is None else pair[self._index]
        return text.format(**values) if values else text

    def has(self, key: str) -> bool:
        """Whether ``key`` has a label."""
        return key in TEXTS


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
    try:
        affair = get_affair(code)
    except DomainError:
        return code, None
    if affair.law_name:
        return affair.code, affair.law_name
    text = affair.affair
    short = text if len(text) <= AFFAIR_TEXT_LIMIT else text[:AFFAIR_TEXT_LIMIT] + "…"
    return affair.code, short


def _item_label(item: str, text: DisclosureText) -> str:
    try:
        identity = IdentityItem(item)
    except ValueError:
        return text(f"item.{item}") if text.has(f"item.{item}") else item
    return identity.label_en if text.lang == "en" else identity.label_ja


def _reason(entry: AccessEntry, text: DisclosureText) -> str:
    reason = entry.reason
    if not reason:
        return "—"
    # A counter write records its event kind (move_in); the counter dictionary names it.
    if entry.action is Action.WRITE and f"event.{reason}" in LABELS:
        return LABELS[f"event.{reason}"][1 if text.lang == "en" else 0]
    if text.has(f"reason.{reason}"):
        return text(f"reason.{reason}")
    return reason


def _method(channel: Channel, text: DisclosureText) -> str:
    return channel.label_ja if text.lang == "ja" else text(f"channel.{channel.value}")


def disclosure_rows(document: Mapping[str, Any], lang: str) -> list[DisclosureRow]:
    """The document's entries as table rows in ``lang``, in log order."""
    text = DisclosureText(lang)
    rows: list[DisclosureRow] = []
    for item in document["entries"]:
        position, entry = entry_from_dict(item["entry"])
        affair_code, affair_name = _affair(entry.affair_code)
        items = [_item_label(i, text) for i in entry.items]
        rows.append(
            DisclosureRow(
                position=position,
                when=moment(item["entry"]["recorded_at"], lang),
                action=entry.action.value,
                action_label=text(f"action.{entry.action.value}"),
                method=_method(entry.channel, text),
                reason=_reason(entry, text),
                affair_code=affair_code,
                affair_name=affair_name,
                source=entry.node,
                recipient_kind=text(f"kind.{entry.actor_kind.value}"),
                recipient=entry.actor,
                case_number=(
                    entry.case_number if entry.actor_kind is ActorKind.RECIPIENT else None
                ),
                items=("、" if lang == "ja" else ", ").join(items) or text("item.none"),
            )
        )
    return rows


def key_fingerprint(public_key_pem: str) -> str:
    """SHA-256 over the key's DER SubjectPublicKeyInfo, as colon-separated hex pairs."""
    key = serialization.load_pem_public_key(public_key_pem.encode("ascii"))
    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    digest = hashlib.sha256(der).hexdigest()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


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
    text = DisclosureText(form.lang)
    context: dict[str, Any] = {
        "dt": text,
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
            "fingerprint": key_fingerprint(document["signer_public_key"]),
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
        document = audit.disclose(
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
