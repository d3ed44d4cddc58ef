"""Who is who on the network, and who may talk to whom (pure rules, no I/O).

Nodes are named ``<role>:<code>``: ``municipality:132292``, ``prefecture:13``,
``national:jlis``. Changes travel municipality → prefecture → national centre; messages between
municipalities are routed through the tiers without being stored there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from jukinet.domain.errors import ValidationError
from jukinet.domain.municipality import validate_municipality_code

NATIONAL_CODE = "jlis"


class NodeRole(StrEnum):
    """The three tiers of the network."""

    MUNICIPALITY = "municipality"
    PREFECTURE = "prefecture"
    NATIONAL = "national"


_PATTERNS = {
    NodeRole.MUNICIPALITY: re.compile(r"^\d{6}$"),
    NodeRole.PREFECTURE: re.compile(r"^(0[1-9]|[1-3]\d|4[0-7])$"),
    NodeRole.NATIONAL: re.compile(rf"^{NATIONAL_CODE}$"),
}


@dataclass(frozen=True, slots=True, order=True)
class NodeId:
    """A node's name on the network."""

    role: NodeRole
    code: str

    def __str__(self) -> str:
        return f"{self.role.value}:{self.code}"

    @classmethod
    def parse(cls, text: str) -> NodeId:
        """Parse ``role:code``; a clear error for anything else."""
        role_text, _, code = text.partition(":")
        try:
            role = NodeRole(role_text)
        except ValueError:
            role = None
        if role is None or not _PATTERNS[role].match(code):
            raise ValidationError(
                "JUKI-NET-001",
                ja="ノード名は「役割:コード」の形式で指定してください。",
                en="A node is named 'role:code' (municipality:132292, prefecture:13, "
                "national:jlis).",
                field="node",
            )
        if role is NodeRole.MUNICIPALITY:
            validate_municipality_code(code, field="node")  # the check digit too
        return cls(role, code)

    @property
    def prefecture_code(self) -> str | None:
        """The prefecture a municipality or prefecture belongs to."""
        if self.role is NodeRole.MUNICIPALITY:
            return self.code[:2]
        if self.role is NodeRole.PREFECTURE:
            return self.code
        return None


NATIONAL = NodeId(NodeRole.NATIONAL, NATIONAL_CODE)


def municipality(code: str) -> NodeId:
    """The node of a municipality code."""
    return NodeId(NodeRole.MUNICIPALITY, code)


def prefecture(code: str) -> NodeId:
    """The node of a prefecture code (2 digits)."""
    return NodeId(NodeRole.PREFECTURE, code)


def parent_of(node: NodeId) -> NodeId | None:
    """The node a node reports to: municipality → prefecture → national centre."""
    if node.role is NodeRole.MUNICIPALITY:
        return prefecture(node.code[:2])
    if node.role is NodeRole.PREFECTURE:
        return NATIONAL
    return None


def are_neighbours(a: NodeId, b: NodeId) -> bool:
    """Whether two nodes share a link (one is the other's parent)."""
    return parent_of(a) == b or parent_of(b) == a


def next_hop(here: NodeId, destination: NodeId) -> NodeId:
    """The neighbour a message for ``destination`` goes to next (down if below us, else up)."""
    if destination == here:
        raise ValueError("a node does not route to itself")
    if here.role is NodeRole.NATIONAL:
        if destination.role is NodeRole.PREFECTURE:
            return destination
        return prefecture(destination.code[:2])
    if here.role is NodeRole.PREFECTURE:
        if destination.role is NodeRole.MUNICIPALITY and destination.code[:2] == here.code:
            return destination
        return NATIONAL
    parent = parent_of(here)
    assert parent is not None
    return parent
