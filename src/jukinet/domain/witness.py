"""Witnessed logs: who countersigns whose tree heads, what is signed, and when a head is refused.

A node publishes each signed tree head of its access log to its witnesses — a municipality to
its prefecture and the centre, a prefecture to the centre — and each witness countersigns a
head only if it extends the last head it countersigned for that node (a Merkle consistency
proof, RFC 9162 §2.1.4). A node that rewrote an entry of its own log therefore cannot get its
next head countersigned: the rewrite is caught at that publication, by someone else.

Pure: the countersigned statement and the judgement; keys, storage and the wire are elsewhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from jukinet.domain.audit_math import SignedTreeHead, check_consistency
from jukinet.domain.errors import ValidationError
from jukinet.domain.network import NATIONAL, NodeId, NodeRole, parent_of

#: Version tag of the statement a witness signs.
WITNESS_FORMAT: Final = "jukinet-witnessed-head-v1"


def witnesses_of(node: NodeId) -> tuple[NodeId, ...]:
    """Who witnesses ``node``'s log: its prefecture and the centre, or the centre, or nobody."""
    if node.role is NodeRole.MUNICIPALITY:
        parent = parent_of(node)
        assert parent is not None  # a municipality always has its prefecture
        return (parent, NATIONAL)
    if node.role is NodeRole.PREFECTURE:
        return (NATIONAL,)
    return ()


def may_witness(witness: NodeId, publisher: NodeId) -> bool:
    """Whether ``witness`` countersigns ``publisher``'s heads."""
    return witness in witnesses_of(publisher)


def countersigned_statement(
    *, witness: str, head: SignedTreeHead, witnessed_at: str
) -> dict[str, Any]:
    """What a witness signs: the node's head exactly as the node signed it, and who and when."""
    return {
        "format": WITNESS_FORMAT,
        "witness": witness,
        "head": head.to_dict(),
        "witnessed_at": witnessed_at,
    }


def judge_extension(
    held: SignedTreeHead | None, new: SignedTreeHead, proof: Sequence[bytes]
) -> str | None:
    """Why ``new`` must not be countersigned after ``held`` (``None``: it extends it).

    Both heads' signatures must already be verified. A smaller tree, the same size with another
    root, a sequence number going back, or a proof that does not lead from the held root to the
    new one all mean the log was rewritten (or cut) since the held head.
    """
    if held is None:
        return None
    if new.tree_size < held.tree_size:
        return (
            f"the log shrank: head of {new.tree_size} entries after a witnessed head of "
            f"{held.tree_size}"
        )
    if new.sequence is not None and held.sequence is not None and new.sequence < held.sequence:
        return f"head #{new.sequence} comes after witnessed head #{held.sequence}"
    try:
        check_consistency(held.tree_size, new.tree_size, held.root_hash, new.root_hash, proof)
    except ValidationError as error:
        return (
            f"the log of {new.tree_size} entries does not extend the witnessed head of "
            f"{held.tree_size} entries: {error.message_en}"
        )
    return None
