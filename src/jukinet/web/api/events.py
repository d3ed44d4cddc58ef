"""Counter operations (異動届) and ex-officio acts (職権).

Every write accepts an ``Idempotency-Key`` header: a retry with the same key (after an answer
was lost) gets the first answer again, marked ``Idempotent-Replayed: true``, and changes
nothing; the same key with a different request is refused (JUKI-IDEM-002).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel

from jukinet.domain.operators import Actor
from jukinet.services import register
from jukinet.services.context import ServiceContext
from jukinet.services.register import ChangeResult, HouseholdChange
from jukinet.web.api.idempotent import IdempotencyKey, answer_once
from jukinet.web.api.schemas import (
    BirthRequest,
    ChangeOut,
    CodeChangeRequest,
    CorrectionRequest,
    DeathRequest,
    DeletionRequest,
    HouseholdChangeRequest,
    MoveInRequest,
    MoveOutRequest,
    MoveWithinRequest,
    NameChangeRequest,
    ResidentOut,
)
from jukinet.web.auth import ApiActor, NodeDep
from jukinet.web.errors import ERROR_RESPONSES

router = APIRouter(tags=["counter"], responses=ERROR_RESPONSES)

LATE_NOTICE_JA = "届出期間（14日）を過ぎた届出です。受理しましたが、届出遅延として記録しました。"


def _out(result: ChangeResult) -> ChangeOut:
    return ChangeOut(
        event_id=result.event_id,
        late=result.late,
        late_notice_ja=LATE_NOTICE_JA if result.late else None,
        residents=[ResidentOut.of(v) for v in result.records],
    )


def answer_change(
    node: ServiceContext,
    actor: Actor,
    key: str | None,
    operation: str,
    body: BaseModel,
    status_code: int,
    file: Callable[[], ChangeResult],
) -> BaseModel | Response:
    """File the change once per idempotency key; a repeated key gets the first answer."""
    return answer_once(node, actor, key, operation, body, status_code, file, _out)


@router.post("/events/birth", status_code=201, response_model=ChangeOut)
def birth(body: BirthRequest, node: NodeDep, actor: ApiActor, key: IdempotencyKey = None) -> Any:
    """出生届: a newborn joins a household and gets a code from the pool."""
    return answer_change(
        node,
        actor,
        key,
        "/events/birth",
        body,
        201,
        lambda: register.file_birth(
            node,
            actor=actor,
            household_number=body.household_number,
            person=body.person.to_input(),
            filed_on=body.filed_on,
        ),
    )


@router.post("/events/move-in", status_code=201, response_model=ChangeOut)
def move_in(body: MoveInRequest, node: NodeDep, actor: ApiActor, key: IdempotencyKey = None) -> Any:
    """転入届: people arrive from another municipality or from abroad."""
    return answer_change(
        node,
        actor,
        key,
        "/events/move-in",
        body,
        201,
        lambda: register.file_move_in(
            node,
            actor=actor,
            move_in=body.to_move_in(),
        ),
    )


@router.post("/events/move-within", response_model=ChangeOut)
def move_within(
    body: MoveWithinRequest, node: NodeDep, actor: ApiActor, key: IdempotencyKey = None
) -> Any:
    """転居届: a household moves inside the municipality."""
    return answer_change(
        node,
        actor,
        key,
        "/events/move-within",
        body,
        200,
        lambda: register.file_move_within(
            node,
            actor=actor,
            household_number=body.household_number,
            address=body.address,
            moved_on=body.moved_on,
            filed_on=body.filed_on,
        ),
    )


@router.post("/events/move-out", response_model=ChangeOut)
def move_out(
    body: MoveOutRequest, node: NodeDep, actor: ApiActor, key: IdempotencyKey = None
) -> Any:
    """転出届: people leave; their records become 除票."""
    return answer_change(
        node,
        actor,
        key,
        "/events/move-out",
        body,
        200,
        lambda: register.file_move_out(
            node,
            actor=actor,
            resident_codes=body.resident_codes,
            destination=body.destination,
            planned_on=body.planned_on,
            filed_on=body.filed_on,
        ),
    )


@router.post("/events/death", response_model=ChangeOut)
def death(body: DeathRequest, node: NodeDep, actor: ApiActor, key: IdempotencyKey = None) -> Any:
    """死亡届."""
    return answer_change(
        node,
        actor,
        key,
        "/events/death",
        body,
        200,
        lambda: register.file_death(
            node,
            actor=actor,
            resident_code=body.resident_code,
            died_on=body.died_on,
            filed_on=body.filed_on,
            new_head_code=body.new_head_code,
            expected_version=body.expected_version,
        ),
    )


@router.post("/events/name-change", response_model=ChangeOut)
def name_change(
    body: NameChangeRequest, node: NodeDep, actor: ApiActor, key: IdempotencyKey = None
) -> Any:
    """氏名変更."""
    return answer_change(
        node,
        actor,
        key,
        "/events/name-change",
        body,
        200,
        lambda: register.file_name_change(
            node,
            actor=actor,
            resident_code=body.resident_code,
            family_name=body.family_name,
            given_name=body.given_name,
            family_name_kana=body.family_name_kana,
            given_name_kana=body.given_name_kana,
            changed_on=body.changed_on,
            filed_on=body.filed_on,
            expected_version=body.expected_version,
        ),
    )


@router.post("/events/household-change", response_model=ChangeOut)
def household_change(
    body: HouseholdChangeRequest, node: NodeDep, actor: ApiActor, key: IdempotencyKey = None
) -> Any:
    """世帯変更: new head, joining another household at the same address, or a split."""
    changes = [HouseholdChange(**c.model_dump()) for c in body.changes]
    return answer_change(
        node,
        actor,
        key,
        "/events/household-change",
        body,
        200,
        lambda: register.file_household_change(
            node, actor=actor, changes=changes, changed_on=body.changed_on, filed_on=body.filed_on
        ),
    )


@router.post("/events/code-change", response_model=ChangeOut)
def code_change(
    body: CodeChangeRequest, node: NodeDep, actor: ApiActor, key: IdempotencyKey = None
) -> Any:
    """住民票コード変更 on the resident's request."""
    return answer_change(
        node,
        actor,
        key,
        "/events/code-change",
        body,
        200,
        lambda: register.change_resident_code(
            node,
            actor=actor,
            resident_code=body.resident_code,
            filed_on=body.filed_on,
            expected_version=body.expected_version,
        ),
    )


@router.post("/ex-officio/entries", status_code=201, response_model=ChangeOut)
def ex_officio_entry(
    body: MoveInRequest, node: NodeDep, actor: ApiActor, key: IdempotencyKey = None
) -> Any:
    """職権記載 (supervisors): the municipality enters people on its own authority."""
    return answer_change(
        node,
        actor,
        key,
        "/ex-officio/entries",
        body,
        201,
        lambda: register.file_move_in(
            node,
            actor=actor,
            move_in=body.to_move_in(ex_officio=True),
        ),
    )


@router.post("/ex-officio/corrections", response_model=ChangeOut)
def correction(
    body: CorrectionRequest, node: NodeDep, actor: ApiActor, key: IdempotencyKey = None
) -> Any:
    """職権修正 (supervisors): correct recorded items, on a 除票 too."""
    items: dict[str, Any] = body.items.model_dump(exclude_unset=True)
    return answer_change(
        node,
        actor,
        key,
        "/ex-officio/corrections",
        body,
        200,
        lambda: register.correct_record(
            node,
            actor=actor,
            resident_code=body.resident_code,
            items=items,
            reason_note=body.reason_note,
            expected_version=body.expected_version,
        ),
    )


@router.post("/ex-officio/deletions", response_model=ChangeOut)
def deletion(
    body: DeletionRequest, node: NodeDep, actor: ApiActor, key: IdempotencyKey = None
) -> Any:
    """職権消除 (supervisors)."""
    return answer_change(
        node,
        actor,
        key,
        "/ex-officio/deletions",
        body,
        200,
        lambda: register.delete_ex_officio(
            node,
            actor=actor,
            resident_code=body.resident_code,
            deleted_on=body.deleted_on,
            reason_note=body.reason_note,
        ),
    )
