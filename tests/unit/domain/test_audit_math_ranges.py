"""Appending whole subtrees to a frontier, and hashing a run of leaves level by level, agree
with appending the same leaves one by one (what ``audit verify``'s workers rely on)."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jukinet.domain.audit_math import (
    InvalidHash,
    InvalidTreeSize,
    MerkleFrontier,
    merkle_root,
    subtree_levels,
)


def _leaves(count: int, seed: int = 0) -> list[bytes]:
    return [hashlib.sha256(f"{seed}:{i}".encode()).digest() for i in range(count)]


@given(count=st.integers(0, 300))
def test_subtree_levels_hold_every_complete_subtree_append_finishes(count: int) -> None:
    leaves = _leaves(count)
    levels = subtree_levels(leaves)
    frontier = MerkleFrontier()
    finished = [subtree for leaf in leaves for subtree in frontier.append(leaf)]
    assert {(s.level, s.index): s.hash for s in finished} == {
        (level, index): value
        for level, hashes in enumerate(levels)
        for index, value in enumerate(hashes)
    }


@given(
    base_blocks=st.integers(0, 9),
    level=st.integers(0, 5),
    tail=st.integers(0, 63),
)
def test_appending_a_subtree_equals_appending_its_leaves(
    base_blocks: int, level: int, tail: int
) -> None:
    """A frontier at an aligned size, extended by a whole subtree and then by the pieces of a
    partial one, is the frontier of the same leaves appended one at a time."""
    width = 1 << level
    tail %= width
    leaves = _leaves(base_blocks * width + width + tail, seed=level)
    one_by_one = MerkleFrontier()
    expected = []
    for leaf in leaves:
        expected.extend(one_by_one.append(leaf))

    whole = MerkleFrontier()
    got = []
    for block in range(base_blocks + 1):
        run = leaves[block * width : (block + 1) * width]
        got.extend(whole.append_subtree(level, subtree_levels(run)[level][0]))
    rest = leaves[(base_blocks + 1) * width :]
    levels = subtree_levels(rest)
    offset = 0
    for depth in reversed(range(tail.bit_length())):
        if tail >> depth & 1:
            got.extend(whole.append_subtree(depth, levels[depth][offset >> depth]))
            offset += 1 << depth
    assert whole.size == one_by_one.size == len(leaves)
    assert whole.hashes == one_by_one.hashes
    assert whole.root() == one_by_one.root() == merkle_root(leaves)
    # Every subtree the whole-subtree appends report is one the leaf appends finished too.
    assert set(got) <= set(expected)
    assert {s.level for s in got if s.level > level} == {
        s.level for s in expected if s.level > level
    }


def test_a_subtree_that_would_not_be_aligned_is_refused() -> None:
    frontier = MerkleFrontier()
    frontier.append(_leaves(1)[0])
    with pytest.raises(InvalidTreeSize):
        frontier.append_subtree(1, _leaves(1)[0])
    with pytest.raises(InvalidTreeSize):
        frontier.append_subtree(-1, _leaves(1)[0])
    with pytest.raises(InvalidHash):
        frontier.append_subtree(0, b"short")
    assert frontier.size == 1  # nothing half-done


def test_subtree_levels_refuse_a_value_that_is_not_a_hash() -> None:
    with pytest.raises(InvalidHash):
        subtree_levels([*_leaves(3), b"x"])
