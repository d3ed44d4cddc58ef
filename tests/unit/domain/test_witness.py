"""Who witnesses whom, and when a witness refuses a head (pure rules of witnessed logs)."""

from __future__ import annotations

from jukinet.domain.audit_math import (
    GENESIS_HEAD_HASH,
    SignedTreeHead,
    consistency_proof,
    leaf_hash,
    merkle_root,
)
from jukinet.domain.network import NATIONAL, NodeId
from jukinet.domain.witness import (
    WITNESS_FORMAT,
    countersigned_statement,
    judge_extension,
    may_witness,
    witnesses_of,
)

TOWN = NodeId.parse("municipality:132292")
TOKYO = NodeId.parse("prefecture:13")
KANAGAWA = NodeId.parse("prefecture:14")
LEAVES = [leaf_hash(f"entry {i}".encode()) for i in range(20)]


def _head(leaves: list[bytes], *, sequence: int) -> SignedTreeHead:
    return SignedTreeHead(
        tree_size=len(leaves),
        root_hash=merkle_root(leaves),
        timestamp="2026-12-03T01:00:00+00:00",
        signature=b"\x01" * 64,
        signer=str(TOWN),
        sequence=sequence,
        previous_hash=GENESIS_HEAD_HASH,
    )


def test_witnesses_follow_the_topology() -> None:
    assert witnesses_of(TOWN) == (TOKYO, NATIONAL)
    assert witnesses_of(TOKYO) == (NATIONAL,)
    assert witnesses_of(NATIONAL) == ()
    assert may_witness(TOKYO, TOWN)
    assert not may_witness(KANAGAWA, TOWN)
    assert not may_witness(TOWN, TOKYO)


def test_a_head_that_extends_the_held_one_is_accepted() -> None:
    held = _head(LEAVES[:7], sequence=0)
    new = _head(LEAVES, sequence=1)
    assert judge_extension(None, new, []) is None
    assert judge_extension(held, new, consistency_proof(LEAVES, 7)) is None
    assert judge_extension(new, new, []) is None


def test_a_rewritten_shrunk_or_rewound_log_is_refused() -> None:
    held = _head(LEAVES[:7], sequence=0)
    rewritten = [*LEAVES[:3], leaf_hash(b"nothing happened"), *LEAVES[4:]]
    new = _head(rewritten, sequence=1)
    problem = judge_extension(held, new, consistency_proof(rewritten, 7))
    assert problem is not None
    assert problem.startswith("the log of 20 entries does not extend the witnessed head of 7")
    assert judge_extension(_head(LEAVES, sequence=1), held, []) == (
        "the log shrank: head of 7 entries after a witnessed head of 20"
    )
    same_size = _head(rewritten[:7], sequence=1)
    assert judge_extension(held, same_size, []) is not None
    back = _head(LEAVES, sequence=0)
    assert judge_extension(_head(LEAVES[:7], sequence=3), back, consistency_proof(LEAVES, 7)) == (
        "head #0 comes after witnessed head #3"
    )


def test_the_statement_carries_the_head_exactly() -> None:
    head = _head(LEAVES, sequence=1)
    statement = countersigned_statement(
        witness=str(TOKYO), head=head, witnessed_at="2026-12-03T01:00:01+00:00"
    )
    assert statement == {
        "format": WITNESS_FORMAT,
        "witness": str(TOKYO),
        "head": head.to_dict(),
        "witnessed_at": "2026-12-03T01:00:01+00:00",
    }
