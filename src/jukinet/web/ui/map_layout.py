"""Where each node sits on the network map's picture (server-rendered SVG, no script).

The centre in the middle; the prefectures on a ring around it, in code order (北海道 at the
top, 沖縄 just before it again); each prefecture's municipalities on an outer ring, in the
prefecture's own slice. Every node and every link to its parent is coloured by its health.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

from jukinet.services.network_map import MapNode

SIZE: Final = 640
_CENTRE: Final = SIZE / 2
_PREFECTURE_RING: Final = 170.0
_MUNICIPALITY_RING: Final = 280.0


@dataclass(frozen=True, slots=True)
class Placed:
    """A node with its point on the picture and its parent's point (the link's other end)."""

    node: MapNode
    x: float
    y: float
    radius: float
    parent_x: float | None
    parent_y: float | None


def _point(ring: float, angle: float) -> tuple[float, float]:
    return (
        round(_CENTRE + ring * math.sin(angle), 1),
        round(_CENTRE - ring * math.cos(angle), 1),
    )


def layout(nodes: list[MapNode]) -> list[Placed]:
    """Every node placed; links are drawn from a node to its parent's point."""
    prefectures = sorted(
        {n.name for n in nodes if n.role == "prefecture"}
        | {n.parent for n in nodes if n.role == "municipality" and n.parent}
    )
    slice_ = 2 * math.pi / max(len(prefectures), 1)
    angles = {name: i * slice_ for i, name in enumerate(prefectures)}
    points: dict[str, tuple[float, float]] = {}
    for node in nodes:
        if node.role == "national":
            points[node.name] = (_CENTRE, _CENTRE)
    for name, angle in angles.items():
        points[name] = _point(_PREFECTURE_RING, angle)
    by_parent: dict[str, list[MapNode]] = {}
    for node in nodes:
        if node.role == "municipality" and node.parent:
            by_parent.setdefault(node.parent, []).append(node)
    for parent, children in by_parent.items():
        width = slice_ * 0.8
        for i, child in enumerate(children):
            offset = (i + 0.5) / len(children) - 0.5 if len(children) > 1 else 0.0
            points[child.name] = _point(_MUNICIPALITY_RING, angles[parent] + offset * width)
    placed = []
    for node in nodes:
        x, y = points.get(node.name, (_CENTRE, _CENTRE))
        end = points.get(node.parent) if node.parent else None
        radius = {"national": 16.0, "prefecture": 10.0}.get(node.role, 6.0)
        placed.append(Placed(node, x, y, radius, end[0] if end else None, end[1] if end else None))
    return placed
