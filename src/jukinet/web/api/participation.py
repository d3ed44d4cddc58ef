"""Participation (system administrators) and residents' opt-out (counter) over the JSON API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from jukinet.domain.participation import REASON_MAX, OptOutRequest, ParticipationChange
from jukinet.services import participation, register
from jukinet.web.api.events import answer_change
from jukinet.web.api.idempotent import IdempotencyKey
from jukinet.web.api.schemas import ChangeOut, InputDate, ResidentCode, Strict
from jukinet.web.auth import ApiActor, NodeDep
from jukinet.web.errors import ERROR_RESPONSES

router = APIRouter(
    tags=["participation"], responses={k: ERROR_RESPONSES[k] for k in (401, 403, 409, 422)}
)


class OptOutBody(Strict):
    """A resident's request about upstream notification (true: stop; false: resume)."""

    resident_code: ResidentCode
    opt_out: bool
    requested_on: InputDate
    request_number: Annotated[str, Field(min_length=1, max_length=20)]
    expected_version: Annotated[int | None, Field(default=None, ge=1)] = None


class ParticipationBody(Strict):
    """The new state (``connected`` or ``disconnected``) and the decision's reason."""

    state: Annotated[str, Field(min_length=1, max_length=20)]
    reason: Annotated[str, Field(min_length=1, max_length=REASON_MAX)]


class ParticipationChangeOut(BaseModel):
    """One change of the municipality's participation."""

    state: str
    previous_state: str
    changed_at: datetime
    operator: str
    reason: str
    snapshots_queued: int | None


class ParticipationOut(BaseModel):
    """The state in force, the configured one, and the changes (newest first)."""

    node: str
    state: str
    configured: str
    changes: list[ParticipationChangeOut]


@router.post("/events/opt-out", response_model=ChangeOut)
def opt_out(body: OptOutBody, node: NodeDep, actor: ApiActor, key: IdempotencyKey = None) -> Any:
    """通知の選択 (Yokohama): stop or resume upstream notification for one resident."""
    request = OptOutRequest(**body.model_dump())
    return answer_change(
        node,
        actor,
        key,
        "/events/opt-out",
        body,
        200,
        lambda: register.set_upstream_opt_out(node, actor=actor, request=request),
    )


@router.get("/network/participation")
def participation_state(node: NodeDep, actor: ApiActor) -> ParticipationOut:
    """This municipality's participation state and its history."""
    status = participation.participation_status(node, actor=actor)
    return ParticipationOut.model_validate(status, from_attributes=True)


@router.post("/network/participation")
def change_participation(
    body: ParticipationBody, node: NodeDep, actor: ApiActor
) -> ParticipationChangeOut:
    """Connect or disconnect this municipality; joining queues the initial load."""
    view = participation.change_participation(
        node, actor=actor, change=ParticipationChange(state=body.state, reason=body.reason)
    )
    return ParticipationChangeOut.model_validate(view, from_attributes=True)
