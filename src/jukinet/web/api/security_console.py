"""The security console and the network map over the operator API (security officers)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel

from jukinet.services import deadlines, network_map, security_console
from jukinet.web.api.network import LinkOut
from jukinet.web.auth import ApiActor, NodeDep
from jukinet.web.errors import ERROR_RESPONSES

router = APIRouter(tags=["security"], responses={k: ERROR_RESPONSES[k] for k in (401, 403)})


class OverdueOut(BaseModel):
    """Deliveries of one kind on one link past their deadline (open: not yet acknowledged)."""

    direction: str
    peer: str
    kind: str
    count: int
    deadline_seconds: int
    oldest_at: datetime
    detected_at: datetime
    resolved_at: datetime | None
    open: bool


class AlertOut(BaseModel):
    """A security alert: what was seen, about which node, when (no resident in it)."""

    kind: str
    about: str
    reason: str
    raised_at: datetime


class IncidentOut(BaseModel):
    """An incident notice from a node below (filled in by the threat-level work)."""

    node: str
    level: int
    reported_at: datetime
    summary: str
    decided_by: str | None


class ConsoleOut(BaseModel):
    """The security console of this node."""

    node: str
    role: str
    now: datetime
    threat_level: int | None
    incidents: list[IncidentOut]
    alerts: list[AlertOut]
    overdue: list[OverdueOut]
    links: list[LinkOut]


class MapNodeOut(BaseModel):
    """One node on the network map."""

    name: str
    role: str
    parent: str | None
    state: str
    health: str
    last_delivery_at: datetime | None
    backlog: int | None
    overdue: int | None
    last_witnessed_size: int | None
    last_witnessed_at: datetime | None


class NetworkMapOut(BaseModel):
    """Every node the centre knows and its link's health."""

    centre: str
    generated_at: datetime
    nodes: list[MapNodeOut]


def _overdue(episode: deadlines.OverdueDelivery) -> OverdueOut:
    return OverdueOut.model_validate(
        {
            "direction": episode.direction,
            "peer": episode.peer,
            "kind": episode.kind,
            "count": episode.count,
            "deadline_seconds": episode.deadline_seconds,
            "oldest_at": episode.oldest_at,
            "detected_at": episode.detected_at,
            "resolved_at": episode.resolved_at,
            "open": episode.open,
        }
    )


@router.get("/network/overdue")
def overdue(node: NodeDep, actor: ApiActor) -> list[OverdueOut]:
    """Deliveries past their deadline on this node's links (open, and closed this week)."""
    return [_overdue(e) for e in deadlines.overdue_deliveries(node, actor=actor)]


@router.get("/security/console")
def console(node: NodeDep, actor: ApiActor) -> ConsoleOut:
    """The security console: alerts, overdue deliveries, links, threat level, incidents."""
    view = security_console.console(node, actor=actor)
    return ConsoleOut(
        node=view.node,
        role=view.role,
        now=view.now,
        threat_level=view.threat_level,
        incidents=[IncidentOut.model_validate(i, from_attributes=True) for i in view.incidents],
        alerts=[AlertOut.model_validate(a, from_attributes=True) for a in view.alerts],
        overdue=[_overdue(e) for e in view.overdue],
        links=[LinkOut.model_validate(s, from_attributes=True) for s in view.links],
    )


@router.get("/network/map", responses={409: ERROR_RESPONSES[409]})
def map_(node: NodeDep, actor: ApiActor) -> NetworkMapOut:
    """The network map (the national centre only): every node, its state and link health."""
    view = network_map.network_map(node, actor=actor)
    return NetworkMapOut(
        centre=view.centre,
        generated_at=view.generated_at,
        nodes=[MapNodeOut.model_validate(n, from_attributes=True) for n in view.nodes],
    )
