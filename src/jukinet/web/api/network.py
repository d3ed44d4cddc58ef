"""The delivery ledger over the operator API (supervisors and security staff)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from jukinet.services import ledger, witness
from jukinet.web.auth import ApiActor, NodeDep
from jukinet.web.errors import ERROR_RESPONSES

router = APIRouter(tags=["network"], responses={k: ERROR_RESPONSES[k] for k in (401, 403)})


class LinkOut(BaseModel):
    """One link: sequence numbers, queue, age of the oldest undelivered message, trouble."""

    peer: str
    last_sent: int
    last_acked: int
    last_received: int
    queued: int
    oldest_undelivered_at: datetime | None
    oldest_undelivered_seconds: float | None
    quarantined_outbound: int
    quarantined_inbound: int
    last_error: str | None
    last_attempt_at: datetime | None
    last_success_at: datetime | None
    overdue: int = 0
    arrived_late: int = 0


class QuarantinedOut(BaseModel):
    """A message held back, with its reason; resident codes are masked."""

    direction: str
    peer: str
    sequence: int
    status: str
    reason: str | None
    subject: str | None


@router.get("/network/links")
def links(node: NodeDep, actor: ApiActor) -> list[LinkOut]:
    """The delivery ledger of this node."""
    return [
        LinkOut.model_validate(s, from_attributes=True)
        for s in ledger.link_statuses(node, actor=actor)
    ]


@router.get("/network/quarantine")
def quarantine(node: NodeDep, actor: ApiActor) -> list[QuarantinedOut]:
    """Messages quarantined or held on this node's links (both directions)."""
    return [
        QuarantinedOut.model_validate(m, from_attributes=True)
        for m in ledger.quarantined_messages(node, actor=actor)
    ]


class WitnessedHeadOut(BaseModel):
    """A tree head of another node that this node, its witness, checked and countersigned."""

    node: str
    tree_size: int
    root_hash: str
    sequence: int | None
    signed_at: str
    witnessed_at: datetime


@router.get("/network/witnessed-heads")
def witnessed_heads(
    node: NodeDep,
    actor: ApiActor,
    of: Annotated[str | None, Query(max_length=60, description="Only this node's heads")] = None,
) -> list[WitnessedHeadOut]:
    """The heads this node countersigned as a witness, newest first (``of``: one node's)."""
    return [
        WitnessedHeadOut.model_validate(h, from_attributes=True)
        for h in witness.witnessed_heads(node, actor=actor, of=of)
    ]
