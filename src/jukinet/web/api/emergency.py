"""Threat levels and emergency disconnects over the JSON API (security officers, supervisors).

The same input models as the pages and the command line: :class:`LevelDecision` and
:class:`DisconnectProposal`; a countersignature names only the proposal (the second operator's
own card is the bearer token's session, opened with their card within ten minutes).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter
from pydantic import AwareDatetime, BaseModel, Field

from jukinet.domain.emergency import TEXT_MAX, DisconnectProposal, LevelDecision
from jukinet.services.emergency import disconnects, levels
from jukinet.services.emergency.messages import incident_notices
from jukinet.web.api.schemas import Strict
from jukinet.web.auth import ApiActor, NodeDep
from jukinet.web.errors import ERROR_RESPONSES

router = APIRouter(
    tags=["emergency"], responses={k: ERROR_RESPONSES[k] for k in (401, 403, 404, 409, 422)}
)
_Text = Annotated[str, Field(min_length=1, max_length=TEXT_MAX)]


class LevelBody(Strict):
    """The security council's decision (:class:`LevelDecision`)."""

    level: Annotated[int, Field(ge=0, le=4)]
    reason: _Text
    decided_by: _Text
    decided_at: AwareDatetime
    minutes_ref: _Text
    scope: Annotated[str, Field(pattern="^(node|network)$")] = "node"


class ProposalBody(Strict):
    """A first card's proposal (:class:`DisconnectProposal`)."""

    action: Annotated[str, Field(pattern="^(activate|renew|end)$")]
    reason: _Text
    scope: Annotated[str, Field(max_length=10)] = ""
    target: Annotated[str, Field(max_length=80)] = ""
    duration_minutes: Annotated[float, Field(gt=0, le=72 * 60)] = 60
    disconnect_id: Annotated[int | None, Field(ge=1)] = None


class UrgentBody(Strict):
    """Mark an affair urgent (provided at threat level 3) or take the mark away."""

    affair_code: Annotated[str, Field(min_length=1, max_length=20)]
    urgent: bool


class LevelOut(BaseModel):
    """One decision on the level."""

    id: int
    scope: str
    level: int
    previous_level: int
    reason: str
    decided_by: str
    decided_at: datetime
    minutes_ref: str
    recorded_by: str
    recorded_at: datetime
    notice_queued: bool


class ProposalOut(BaseModel):
    """A proposal and its state."""

    id: int
    action: str
    scope: str
    target: str
    reason: str
    duration_seconds: int
    disconnect_id: int | None
    proposed_by: str
    proposed_role: str
    proposed_at: datetime
    status: str


class DisconnectOut(BaseModel):
    """A cut and its countdown."""

    id: int
    scope: str
    target: str
    reason: str
    source: str
    activated_at: datetime
    expires_at: datetime
    ended_at: datetime | None
    end_reason: str
    decided_by: str
    in_force: bool
    seconds_left: int


class IncidentOut(BaseModel):
    """An incident notice received from a node below."""

    id: int
    origin: str
    sender: str
    level: int
    previous_level: int
    reason: str
    decided_by: str
    decided_at: datetime
    minutes_ref: str
    sealed_at: datetime
    received_at: datetime


class EmergencyOut(BaseModel):
    """What is in force here."""

    node: str
    level: int
    network_level: int
    effective_level: int
    read_only: bool
    urgent_affairs: list[str]
    disconnects: list[DisconnectOut]
    proposals: list[ProposalOut]
    levels: list[LevelOut]


@router.get("/emergency")
def emergency_state(node: NodeDep, actor: ApiActor) -> EmergencyOut:
    """The threat level, the cuts with their countdown, and the proposals waiting."""
    state = node.refresh_emergency()
    return EmergencyOut(
        node=str(node.node_id),
        level=state.level,
        network_level=state.network_level,
        effective_level=state.effective_level,
        read_only=state.read_only,
        urgent_affairs=sorted(state.urgent_affairs),
        disconnects=[
            DisconnectOut.model_validate(d, from_attributes=True)
            for d in disconnects.disconnects(node, actor=actor)
        ],
        proposals=[
            ProposalOut.model_validate(p, from_attributes=True)
            for p in disconnects.open_proposals(node)
        ],
        levels=[
            LevelOut.model_validate(v, from_attributes=True) for v in levels.level_history(node)
        ],
    )


@router.post("/emergency/level")
def change_level(body: LevelBody, node: NodeDep, actor: ApiActor) -> LevelOut:
    """Record the security council's decision on the threat level (and run its runbook)."""
    view = levels.change_level(node, actor=actor, decision=LevelDecision(**body.model_dump()))
    return LevelOut.model_validate(view, from_attributes=True)


@router.post("/emergency/proposals")
def propose(body: ProposalBody, node: NodeDep, actor: ApiActor) -> ProposalOut:
    """The first card: propose a cut, its renewal or its end."""
    view = disconnects.propose(node, actor=actor, proposal=DisconnectProposal(**body.model_dump()))
    return ProposalOut.model_validate(view, from_attributes=True)


@router.post("/emergency/proposals/{proposal_id}/countersign")
def countersign(proposal_id: int, node: NodeDep, actor: ApiActor) -> DisconnectOut:
    """The second card: the proposal takes effect now."""
    view = disconnects.countersign(node, actor=actor, proposal_id=proposal_id)
    return DisconnectOut.model_validate(view, from_attributes=True)


@router.post("/emergency/urgent-affairs")
def mark_urgent(body: UrgentBody, node: NodeDep, actor: ApiActor) -> dict[str, object]:
    """Mark an affair urgent (still provided at threat level 3), or take the mark away."""
    urgent = levels.mark_urgent(node, actor=actor, affair_code=body.affair_code, urgent=body.urgent)
    return {"affair_code": body.affair_code, "urgent": urgent}


@router.get("/emergency/incidents")
def incidents(node: NodeDep, actor: ApiActor, origin: str | None = None) -> list[IncidentOut]:
    """Incident notices received from nodes below, newest first."""
    del actor  # the route's rule (AUDIT) decides
    with node.read_session() as session:
        found = incident_notices(session, origin=origin)
    return [IncidentOut.model_validate(n, from_attributes=True) for n in found]
