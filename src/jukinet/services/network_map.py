"""The network map at the national centre (ネットワーク構成図): every node and its link's health.

What the centre knows of each node, without asking anyone:

- the nodes: every node with a certificate in the network's directory (and any node it has
  heard from), its role and its parent;
- its state: ``revoked`` (its certificate is on the CRL), ``active`` (something it sealed or
  sent reached the centre), ``silent`` (nothing from it yet: a municipality not connected, or
  never connected), ``this_node``;
- its link's health: the last delivery that reached the centre from it (for a municipality:
  the last notice it sealed that arrived here, within the centre's memory of seals); for a
  prefecture (the centre's own links) the centre's backlog to it and the deliveries overdue
  either way; and the last tree head of its log the centre witnessed.

A municipality's own backlog to its prefecture is not visible at the centre: its prefecture's
console shows it. Overdue notices from a municipality show at the centre as late arrivals on
its prefecture's link. Only a security officer sees the map; each view is logged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jukinet.domain.errors import Conflict, ValidationError
from jukinet.domain.network import NodeId, NodeRole, parent_of
from jukinet.domain.operators import Actor, Permission
from jukinet.services import deadlines, ledger
from jukinet.services.context import ServiceContext
from jukinet.services.security_console import log_view
from jukinet.storage.delivery_tables import SealReceiptRow
from jukinet.storage.tables import InboxRow, LinkRow
from jukinet.storage.trust_tables import WitnessedHeadRow

#: A node's state on the map.
THIS_NODE: Final = "this_node"
ACTIVE: Final = "active"
SILENT: Final = "silent"
REVOKED: Final = "revoked"
#: A link's health on the map.
HEALTHY: Final = "ok"
OVERDUE: Final = "overdue"
TROUBLE: Final = "trouble"
UNKNOWN: Final = "unknown"


@dataclass(frozen=True, slots=True)
class MapNode:
    """One node on the map."""

    name: str
    role: str
    parent: str | None
    state: str
    health: str
    last_delivery_at: datetime | None
    #: The centre's queue to the node (its own links only; ``None``: not visible here).
    backlog: int | None
    #: Messages overdue on the node's link, both ways (``None``: not visible here).
    overdue: int | None
    last_witnessed_size: int | None
    last_witnessed_at: datetime | None


@dataclass(frozen=True, slots=True)
class NetworkMap:
    """Every node the centre knows, at one moment."""

    centre: str
    generated_at: datetime
    nodes: list[MapNode]


def _not_the_centre() -> Conflict:
    return Conflict(
        "JUKI-MAP-001",
        ja="ネットワーク構成図は全国センターでのみ表示できます。",
        en="the network map is kept at the national centre only",
    )


def _aware(moment: datetime | None, like: datetime) -> datetime | None:
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=like.tzinfo)
    return moment


def _directory(node: ServiceContext) -> tuple[set[str], set[str]]:
    """(every node with a certificate, those whose certificate is revoked)."""
    net = node.network
    if net is None:
        return set(), set()
    anchor = net.anchor()
    names, revoked = set(), set()
    for name, cert in net.pki.directory().items():
        names.add(name)
        if anchor.is_revoked(cert):
            revoked.add(name)
    return names, revoked


def _last_from_links(session: Session) -> dict[str, datetime]:
    """The time the last envelope from each neighbour arrived (one lookup per link)."""
    found = {}
    for link in session.scalars(select(LinkRow).where(LinkRow.last_received > 0)):
        row = session.get(InboxRow, (link.peer, link.last_received))
        if row is not None:
            found[link.peer] = row.received_at
    return found


def network_map(node: ServiceContext, *, actor: Actor) -> NetworkMap:
    """The map, for a security officer at the centre (logged); Conflict anywhere else."""
    actor.require(Permission.WATCH_SECURITY)
    here = node.node_id
    if here.role is not NodeRole.NATIONAL:
        raise _not_the_centre()
    now = node.now()
    names, revoked = _directory(node)
    with node.read_session() as session:
        from_origin = dict(
            session.execute(
                select(SealReceiptRow.origin, func.max(SealReceiptRow.received_at)).group_by(
                    SealReceiptRow.origin
                )
            ).all()
        )
        from_links = _last_from_links(session)
        heads = {
            name: (size, at)
            for name, size, at in session.execute(
                select(
                    WitnessedHeadRow.node,
                    func.max(WitnessedHeadRow.tree_size),
                    func.max(WitnessedHeadRow.witnessed_at),
                ).group_by(WitnessedHeadRow.node)
            ).all()
        }
    links = {link.peer: link for link in ledger.link_statuses(node, actor=actor)}
    late = deadlines.overdue_by_peer(deadlines.overdue_deliveries(node, actor=actor))
    names |= set(from_origin) | set(links) | set(heads) | {str(here)}
    nodes = []
    for name in sorted(names):
        try:
            node_id = NodeId.parse(name)
        except ValidationError:
            continue  # an agency or terminal certificate: not a node of the map
        parent = parent_of(node_id)
        last = _aware(from_links.get(name) or from_origin.get(name), now)
        link = links.get(name)
        out, arrived_late = late.get(name, (0, 0))
        overdue = out + arrived_late if link is not None else None
        if name == str(here):
            state = THIS_NODE
        elif name in revoked:
            state = REVOKED
        elif last is not None or name in heads:
            state = ACTIVE
        else:
            state = SILENT
        if state == REVOKED or (link is not None and link.quarantined_inbound):
            health = TROUBLE
        elif out or arrived_late:
            health = OVERDUE
        elif state in (ACTIVE, THIS_NODE):
            health = HEALTHY
        else:
            health = UNKNOWN
        size, witnessed_at = heads.get(name, (None, None))
        nodes.append(
            MapNode(
                name=name,
                role=node_id.role.value,
                parent=str(parent) if parent is not None else None,
                state=state,
                health=health,
                last_delivery_at=last,
                backlog=link.queued if link is not None else None,
                overdue=overdue,
                last_witnessed_size=size,
                last_witnessed_at=_aware(witnessed_at, now),
            )
        )
    log_view(node, actor=actor, what="network map")
    return NetworkMap(centre=str(here), generated_at=now, nodes=nodes)
