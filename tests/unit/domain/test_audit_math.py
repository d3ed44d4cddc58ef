"""Merkle maths of the access log: RFC 6962 hashing, proofs, the frontier, signed tree heads."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jukinet.domain.audit_math import (
    EMPTY_ROOT,
    GENESIS_HEAD_HASH,
    HASH_SIZE,
    CompleteSubtree,
    InvalidFrontier,
    InvalidHash,
    InvalidProof,
    InvalidTreeHead,
    InvalidTreeSize,
    LeafIndexOutOfRange,
    MerkleError,
    MerkleFrontier,
    SignedTreeHead,
    SubtreeHashSource,
    check_consistency,
    check_inclusion,
    complete_pieces,
    complete_subtree_position,
    consistency_proof,
    consistency_proof_from_subtrees,
    fold_pieces,
    inclusion_path_nodes,
    inclusion_proof,
    inclusion_proof_from_subtrees,
    leaf_hash,
    merkle_root,
    merkle_root_from_subtrees,
    node_hash,
    tree_head_bytes,
    tree_head_hash,
    verify_consistency,
    verify_inclusion,
)
from jukinet.domain.errors import DomainError, ValidationError

# --- an independent, deliberately naive reference (RFC 6962 §2.1 read literally) ---------------


def _sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _k(n: int) -> int:
    """The largest power of two smaller than n (n > 1), found the slow, obvious way."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_root(leaves: Sequence[bytes]) -> bytes:
    if not leaves:
        return _sha(b"")
    if len(leaves) == 1:
        return leaves[0]
    k = _k(len(leaves))
    return _sha(b"\x01" + ref_root(leaves[:k]) + ref_root(leaves[k:]))


def ref_path(m: int, leaves: Sequence[bytes]) -> list[bytes]:
    if len(leaves) == 1:
        return []
    k = _k(len(leaves))
    if m < k:
        return [*ref_path(m, leaves[:k]), ref_root(leaves[k:])]
    return [*ref_path(m - k, leaves[k:]), ref_root(leaves[:k])]


def _ref_subproof(m: int, leaves: Sequence[bytes], whole: bool) -> list[bytes]:
    if m == len(leaves):
        return [] if whole else [ref_root(leaves)]
    k = _k(len(leaves))
    if m <= k:
        return [*_ref_subproof(m, leaves[:k], whole), ref_root(leaves[k:])]
    return [*_ref_subproof(m - k, leaves[k:], False), ref_root(leaves[:k])]


def ref_consistency(m: int, leaves: Sequence[bytes]) -> list[bytes]:
    return _ref_subproof(m, leaves, True) if 0 < m < len(leaves) else []


def path_shape(m: int, n: int) -> list[str]:
    """Which side each sibling of PATH(m, D[n]) is on, leaf first."""
    if n == 1:
        return []
    k = _k(n)
    return [*path_shape(m, k), "R"] if m < k else [*path_shape(m - k, n - k), "L"]


# --- shared data -------------------------------------------------------------------------------

MAX_LEAVES = 200
LEAVES = [leaf_hash(b"entry-%d" % i) for i in range(MAX_LEAVES)]


def _build() -> tuple[dict[tuple[int, int], bytes], list[bytes]]:
    frontier = MerkleFrontier()
    table: dict[tuple[int, int], bytes] = {}
    roots = [frontier.root()]
    for value in LEAVES:
        for node in frontier.append(value):
            table[node.start, node.end] = node.hash
        roots.append(frontier.root())
    return table, roots


#: Every complete subtree hash of LEAVES (what a store would keep), and ROOTS[n] = MTH(D[n]).
TABLE, ROOTS = _build()


class StoreStandIn:
    """A storage adapter stand-in that insists on the SubtreeHashSource contract."""

    def __init__(self, table: dict[tuple[int, int], bytes], tree_size: int) -> None:
        self.table = table
        self.tree_size = tree_size
        self.calls: list[tuple[int, int]] = []

    def __call__(self, start: int, end: int) -> bytes:
        width = end - start
        assert 0 <= start < end <= self.tree_size
        assert width & (width - 1) == 0, "only complete subtrees are asked for"
        assert start % width == 0, "only aligned subtrees are asked for"
        assert (start, end) not in self.calls, "each range is asked for once"
        self.calls.append((start, end))
        return self.lookup(start, end)

    def lookup(self, start: int, end: int) -> bytes:
        return self.table[start, end]


def store(tree_size: int) -> StoreStandIn:
    return StoreStandIn(TABLE, tree_size)


def flip(proof: Sequence[bytes], element: int, byte: int, bit: int) -> list[bytes]:
    changed = bytearray(proof[element])
    changed[byte] ^= 1 << bit
    return [*proof[:element], bytes(changed), *proof[element + 1 :]]


def h(text: str) -> bytes:
    return bytes.fromhex(text)


# --- hashing -----------------------------------------------------------------------------------


def test_empty_root_is_sha256_of_nothing() -> None:
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert merkle_root([]) == EMPTY_ROOT


def test_leaf_and_node_hashes_use_the_rfc_6962_prefixes() -> None:
    a, b = _sha(b"a"), _sha(b"b")
    assert leaf_hash(b"data") == _sha(b"\x00data")
    assert node_hash(a, b) == _sha(b"\x01" + a + b)
    assert merkle_root([a]) == a


@pytest.mark.parametrize(("left", "right"), [(b"", bytes(32)), (bytes(32), bytes(31))])
def test_node_hash_rejects_values_that_are_not_hashes(left: bytes, right: bytes) -> None:
    with pytest.raises(InvalidHash):
        node_hash(left, right)


# --- Certificate Transparency reference vectors (transparency-dev/merkle testonly, proof) -----

CT_INPUTS = [
    h(x)
    for x in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
CT_LEAVES = [leaf_hash(x) for x in CT_INPUTS]
CT_ROOTS = [
    EMPTY_ROOT,
    h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
    h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
    h("aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77"),
    h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
    h("4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4"),
    h("76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef"),
    h("ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c"),
    h("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"),
]
# Complete-subtree hashes of the 8-leaf tree by (level, index).
CT_NODES = {
    (0, 0): h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
    (0, 1): h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
    (0, 2): h("0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7"),
    (0, 3): h("07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7"),
    (0, 4): h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
    (0, 5): h("4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658"),
    (0, 6): h("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
    (0, 7): h("46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1"),
    (1, 0): h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
    (1, 1): h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
    (1, 2): h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
    (1, 3): h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
    (2, 0): h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
    (2, 1): h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
    (3, 0): h("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"),
}
# (leaf index, tree size, PATH) — the Go vectors number leaves from 1; these are 0-based.
CT_INCLUSION = [
    (0, 1, []),
    (0, 8, [CT_NODES[0, 1], CT_NODES[1, 1], CT_NODES[2, 1]]),
    (5, 8, [CT_NODES[0, 4], CT_NODES[1, 3], CT_NODES[2, 0]]),
    (2, 3, [CT_NODES[1, 0]]),
    (1, 5, [CT_NODES[0, 0], CT_NODES[1, 1], CT_NODES[0, 4]]),
]
CT_CONSISTENCY = [
    (1, 1, []),
    (1, 8, [CT_NODES[0, 1], CT_NODES[1, 1], CT_NODES[2, 1]]),
    (6, 8, [CT_NODES[1, 2], CT_NODES[1, 3], CT_NODES[2, 0]]),
    (2, 5, [CT_NODES[1, 1], CT_NODES[0, 4]]),
    (6, 7, [CT_NODES[1, 2], CT_NODES[0, 6], CT_NODES[2, 0]]),
]


def test_reference_roots_for_every_size_up_to_8() -> None:
    frontier = MerkleFrontier()
    assert frontier.root() == CT_ROOTS[0]
    for n in range(1, 9):
        assert merkle_root(CT_LEAVES[:n]) == CT_ROOTS[n] == ref_root(CT_LEAVES[:n])
        frontier.append(CT_LEAVES[n - 1])
        assert frontier.root() == CT_ROOTS[n]


def test_append_reports_the_reference_complete_subtrees() -> None:
    frontier = MerkleFrontier()
    reported = {
        (node.level, node.index): node.hash
        for value in CT_LEAVES
        for node in frontier.append(value)
    }
    assert reported == CT_NODES
    # The frontier of 7 leaves is [0,4), [4,6), [6,7) — testonly.CompactTrees()[7].
    seven = MerkleFrontier()
    for value in CT_LEAVES[:7]:
        seven.append(value)
    assert seven.hashes == (CT_NODES[2, 0], CT_NODES[1, 2], CT_NODES[0, 6])


@pytest.mark.parametrize(("index", "size", "expected"), CT_INCLUSION)
def test_reference_inclusion_proofs(index: int, size: int, expected: list[bytes]) -> None:
    assert inclusion_proof(CT_LEAVES[:size], index) == expected
    assert verify_inclusion(CT_LEAVES[index], index, size, expected, CT_ROOTS[size])


@pytest.mark.parametrize(("old", "new", "expected"), CT_CONSISTENCY)
def test_reference_consistency_proofs(old: int, new: int, expected: list[bytes]) -> None:
    assert consistency_proof(CT_LEAVES[:new], old) == expected
    assert verify_consistency(old, new, CT_ROOTS[old], CT_ROOTS[new], expected)


# --- roots, exhaustively -----------------------------------------------------------------------


def test_every_root_up_to_200_leaves_matches_the_reference() -> None:
    for n in range(MAX_LEAVES + 1):
        expected = ref_root(LEAVES[:n])
        assert ROOTS[n] == expected
        assert merkle_root_from_subtrees(n, store(n)) == expected
    assert merkle_root(LEAVES) == ROOTS[MAX_LEAVES]


def test_append_reports_every_complete_subtree_exactly_once() -> None:
    expected = {
        (start, start + width)
        for width in (1 << level for level in range(8))
        for start in range(0, MAX_LEAVES - width + 1, width)
    }
    assert set(TABLE) == expected
    for (start, end), value in TABLE.items():
        assert value == ref_root(LEAVES[start:end])


# --- inclusion ---------------------------------------------------------------------------------


def _fast_store(tree_size: int, calls: list[tuple[int, int]]) -> SubtreeHashSource:
    # The exhaustive loops use this lighter stand-in; TABLE holds complete, aligned subtrees
    # only (test above), so any other range would raise KeyError.
    def get_subtree_hash(start: int, end: int) -> bytes:
        calls.append((start, end))
        return TABLE[start, end]

    return get_subtree_hash


def _contract_broken(calls: list[tuple[int, int]], tree_size: int) -> bool:
    return len(set(calls)) != len(calls) or any(end > tree_size for _, end in calls)


def test_every_inclusion_proof_up_to_200_leaves_verifies() -> None:
    failures = []
    for n in range(1, MAX_LEAVES + 1):
        for index in range(n):
            calls: list[tuple[int, int]] = []
            proof = inclusion_proof_from_subtrees(index, n, _fast_store(n, calls))
            if (
                not verify_inclusion(LEAVES[index], index, n, proof, ROOTS[n])
                or _contract_broken(calls, n)
                or len(calls) > 2 * n.bit_length()
                or (n <= 32 and proof != ref_path(index, LEAVES[:n]))
            ):
                failures.append((index, n))
    assert failures == []


# Draws are plain integers turned into positions with %, not filtered strategies built per
# example: that keeps Hypothesis's own overhead low enough to run hundreds of examples.
sizes = st.integers(1, MAX_LEAVES)
picks = st.integers(0, 4 * MAX_LEAVES)
hashes = st.binary(min_size=HASH_SIZE, max_size=HASH_SIZE)


@settings(max_examples=150)
@given(n=sizes, pick=picks, flip_at=picks, other=picks, other_root=hashes, bit=st.integers(0, 7))
def test_a_changed_inclusion_proof_or_claim_fails(
    n: int, pick: int, flip_at: int, other: int, other_root: bytes, bit: int
) -> None:
    index = pick % n
    proof = inclusion_proof_from_subtrees(index, n, store(n))
    leaf, root = LEAVES[index], ROOTS[n]
    assert verify_inclusion(leaf, index, n, proof, root)

    if proof:
        element, byte = flip_at % len(proof), flip_at % HASH_SIZE
        assert not verify_inclusion(leaf, index, n, flip(proof, element, byte, bit), root)
        assert not verify_inclusion(leaf, index, n, proof[:-1], root)
        assert not verify_inclusion(leaf, index, n, [proof[0], *proof], root)
    assert not verify_inclusion(leaf, index, n, [*proof, root], root)

    other_index = other % (n + 4) - 2
    if other_index != index:
        assert not verify_inclusion(leaf, other_index, n, proof, root)
    if other % MAX_LEAVES != index:
        assert not verify_inclusion(LEAVES[other % MAX_LEAVES], index, n, proof, root)
    if other_root != root:
        assert not verify_inclusion(leaf, index, n, proof, other_root)

    # A wrong size paired with that size's genuine root fails unless the paths coincide.
    size = other % (MAX_LEAVES + 1)
    if size != n:
        same = index < size and inclusion_proof_from_subtrees(index, size, store(size)) == proof
        assert verify_inclusion(leaf, index, size, proof, ROOTS[size]) == same
    # With the right root, a wrong size passes only where both sizes give the same path shape:
    # the proof does not pin the size, which is why callers take size and root from one STH.
    if other != n:
        same_shape = index < other and path_shape(index, other) == path_shape(index, n)
        assert verify_inclusion(leaf, index, other, proof, root) == same_shape


def test_a_proof_does_not_pin_the_tree_size_on_its_own() -> None:
    # PATH(0, D[4]) has the same shape as PATH(0, D[3]): both siblings on the right.
    proof = inclusion_proof(CT_LEAVES[:4], 0)
    assert verify_inclusion(CT_LEAVES[0], 0, 3, proof, CT_ROOTS[4])
    assert not verify_inclusion(CT_LEAVES[0], 0, 3, proof, CT_ROOTS[3])


@pytest.mark.parametrize(
    ("index", "size", "proof", "reason"),
    [
        (0, 1, [bytes(32)], "too long"),
        (0, 3, [CT_NODES[0, 1]], "too short"),
        (0, 2, [CT_NODES[0, 2]], "root"),
        (0, 2, [b"short"], "32-byte"),
    ],
)
def test_check_inclusion_says_why(index: int, size: int, proof: list[bytes], reason: str) -> None:
    with pytest.raises(InvalidProof, match=reason) as caught:
        check_inclusion(CT_LEAVES[index], index, size, proof, CT_ROOTS[size])
    assert caught.value.code == "JUKI-MRK-004"


def test_a_single_leaf_is_its_own_root_with_an_empty_proof() -> None:
    assert inclusion_proof(CT_LEAVES[:1], 0) == []
    assert verify_inclusion(CT_LEAVES[0], 0, 1, [], CT_LEAVES[0])
    assert not verify_inclusion(CT_LEAVES[0], 0, 1, [], EMPTY_ROOT)


# --- consistency -------------------------------------------------------------------------------


def test_every_consistency_proof_up_to_200_leaves_verifies() -> None:
    failures = []
    for n in range(MAX_LEAVES + 1):
        for old in range(n + 1):
            calls: list[tuple[int, int]] = []
            proof = consistency_proof_from_subtrees(old, n, _fast_store(n, calls))
            if (
                not verify_consistency(old, n, ROOTS[old], ROOTS[n], proof)
                or _contract_broken(calls, n)
                or len(calls) > 2 * n.bit_length()
                or (n <= 32 and proof != ref_consistency(old, LEAVES[:n]))
            ):
                failures.append((old, n))
    assert failures == []


@settings(max_examples=150)
@given(n=sizes, pick=picks, flip_at=picks, other=picks, wrong=hashes, bit=st.integers(0, 7))
def test_a_changed_consistency_proof_or_claim_fails(
    n: int, pick: int, flip_at: int, other: int, wrong: bytes, bit: int
) -> None:
    new = max(n, 2)
    old = 1 + pick % (new - 1)  # 0 < old < new: the cases with a non-empty proof
    proof = consistency_proof_from_subtrees(old, new, store(new))
    old_root, new_root = ROOTS[old], ROOTS[new]
    assert verify_consistency(old, new, old_root, new_root, proof)

    element, byte = flip_at % len(proof), flip_at % HASH_SIZE
    assert not verify_consistency(old, new, old_root, new_root, flip(proof, element, byte, bit))
    assert not verify_consistency(old, new, old_root, new_root, proof[:-1])
    assert not verify_consistency(old, new, old_root, new_root, [*proof, new_root])
    assert not verify_consistency(old, new, old_root, new_root, [proof[0], *proof])
    assert not verify_consistency(old, new, old_root, new_root, [])
    assert not verify_consistency(old, new, new_root, old_root, proof)
    if wrong != old_root:
        assert not verify_consistency(old, new, wrong, new_root, proof)
    if wrong != new_root:
        assert not verify_consistency(old, new, old_root, wrong, proof)

    # Wrong sizes with their genuine roots fail unless the proofs coincide.
    other_size = other % (MAX_LEAVES + 1)
    if other_size != old:
        same = other_size <= new and consistency_proof(LEAVES[:new], other_size) == proof
        assert verify_consistency(other_size, new, ROOTS[other_size], new_root, proof) == same
    if other_size != new:
        same = old <= other_size and consistency_proof(LEAVES[:other_size], old) == proof
        assert verify_consistency(old, other_size, old_root, ROOTS[other_size], proof) == same


def test_trivial_consistency_cases() -> None:
    root = ROOTS[5]
    assert verify_consistency(5, 5, root, root, [])
    assert not verify_consistency(5, 5, root, ROOTS[4], [])
    assert not verify_consistency(5, 5, root, root, [root])
    # Every tree extends the empty one; the old root must be the empty tree's.
    assert verify_consistency(0, 5, EMPTY_ROOT, root, [])
    assert verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    assert not verify_consistency(0, 5, root, root, [])
    assert not verify_consistency(0, 0, root, root, [])
    assert not verify_consistency(0, 5, EMPTY_ROOT, root, [EMPTY_ROOT])


@pytest.mark.parametrize(
    ("old", "new", "proof", "reason"),
    [
        (2, 3, [], "too short"),
        (3, 4, [CT_NODES[0, 2]], "too short"),
        (1, 2, [CT_NODES[0, 1], CT_NODES[0, 2]], "too long"),
        (3, 4, [CT_NODES[0, 2], CT_NODES[0, 3], CT_NODES[0, 0]], "old root"),
        (2, 4, [CT_NODES[1, 0]], "new root"),
        (2, 2, [CT_NODES[1, 0]], "must be empty"),
    ],
)
def test_check_consistency_says_why(old: int, new: int, proof: list[bytes], reason: str) -> None:
    with pytest.raises(InvalidProof, match=reason):
        check_consistency(old, new, CT_ROOTS[old], CT_ROOTS[new], proof)


# --- callbacks and lists agree -----------------------------------------------------------------


leaf_lists = st.lists(st.binary(max_size=6), max_size=64).map(lambda xs: [leaf_hash(x) for x in xs])


def _table_of(leaves: Sequence[bytes]) -> dict[tuple[int, int], bytes]:
    frontier = MerkleFrontier()
    return {
        (node.start, node.end): node.hash for value in leaves for node in frontier.append(value)
    }


@given(leaves=leaf_lists, data=st.data())
def test_callback_proofs_equal_list_proofs(leaves: list[bytes], data: st.DataObject) -> None:
    n = len(leaves)
    table = _table_of(leaves)
    expected_root = ref_root(leaves)
    assert merkle_root(leaves) == expected_root
    assert merkle_root_from_subtrees(n, StoreStandIn(table, n)) == expected_root

    old = data.draw(st.integers(0, n), label="old_size")
    from_list = consistency_proof(leaves, old)
    assert consistency_proof_from_subtrees(old, n, StoreStandIn(table, n)) == from_list
    assert from_list == ref_consistency(old, leaves)
    if n:
        index = data.draw(st.integers(0, n - 1), label="index")
        from_list = inclusion_proof(leaves, index)
        assert inclusion_proof_from_subtrees(index, n, StoreStandIn(table, n)) == from_list
        assert from_list == ref_path(index, leaves)


def _uniform_source(tree_size: int) -> tuple[StoreStandIn, list[bytes]]:
    """A consistent store for a huge log whose leaves are all equal: level l hashes alike."""
    levels = [leaf_hash(b"same")]
    while (1 << (len(levels) - 1)) < tree_size:
        levels.append(node_hash(levels[-1], levels[-1]))
    by_width = {1 << level: value for level, value in enumerate(levels)}

    class Uniform(StoreStandIn):
        def lookup(self, start: int, end: int) -> bytes:
            return by_width[end - start]

    return Uniform({}, tree_size), levels


def test_proofs_over_a_trillion_leaves_need_only_a_few_lookups() -> None:
    old, new = 10**12 - 12_345, 10**12 + 6_789
    source, levels = _uniform_source(new)
    new_root = merkle_root_from_subtrees(new, source)
    old_root = merkle_root_from_subtrees(old, _uniform_source(old)[0])

    source = _uniform_source(new)[0]
    proof = inclusion_proof_from_subtrees(old, new, source)
    assert len(source.calls) <= 2 * new.bit_length()
    assert verify_inclusion(levels[0], old, new, proof, new_root)

    source = _uniform_source(new)[0]
    proof = consistency_proof_from_subtrees(old, new, source)
    assert len(source.calls) <= 2 * new.bit_length()
    assert verify_consistency(old, new, old_root, new_root, proof)

    frontier = MerkleFrontier.from_subtrees(new, _uniform_source(new)[0])
    assert frontier.size == new
    assert frontier.root() == new_root
    assert len(frontier.hashes) == new.bit_count()


def test_a_store_answer_that_is_not_a_hash_is_refused() -> None:
    with pytest.raises(InvalidHash, match="subtree hash"):
        inclusion_proof_from_subtrees(0, 2, lambda start, end: b"short")


def test_store_errors_propagate_unchanged() -> None:
    def broken(start: int, end: int) -> bytes:
        raise LookupError("row missing")

    with pytest.raises(LookupError, match="row missing"):
        merkle_root_from_subtrees(3, broken)


def test_complete_subtree_position() -> None:
    assert complete_subtree_position(0, 1) == (0, 0)
    assert complete_subtree_position(6, 7) == (0, 6)
    assert complete_subtree_position(4, 8) == (2, 1)
    assert CompleteSubtree(2, 1, bytes(32)).start == 4
    assert CompleteSubtree(2, 1, bytes(32)).end == 8
    for start, end in [(0, 3), (2, 6), (4, 4), (5, 4), (-1, 0)]:
        with pytest.raises(InvalidTreeSize):
            complete_subtree_position(start, end)


# --- the frontier ------------------------------------------------------------------------------


def test_frontier_root_equals_merkle_root_after_every_append() -> None:
    frontier = MerkleFrontier()
    for n, value in enumerate(LEAVES, start=1):
        finished = frontier.append(value)
        assert frontier.size == n
        assert frontier.root() == ROOTS[n]
        assert len(frontier.hashes) == n.bit_count()
        # The leaf first, then each subtree it closed, one level up each time, ending at n.
        assert finished[0] == CompleteSubtree(0, n - 1, value)
        assert [node.level for node in finished] == list(range(len(finished)))
        assert all(node.end == n for node in finished)


@given(leaves=leaf_lists, data=st.data())
def test_frontier_survives_a_restart(leaves: list[bytes], data: st.DataObject) -> None:
    cut = data.draw(st.integers(0, len(leaves)), label="cut")
    running = MerkleFrontier()
    for value in leaves[:cut]:
        running.append(value)
    snapshot = json.loads(json.dumps(running.to_dict()))
    restored = MerkleFrontier.from_dict(snapshot)
    assert restored == running
    assert restored.root() == running.root()
    rebuilt = MerkleFrontier.from_subtrees(cut, StoreStandIn(_table_of(leaves[:cut]), cut))
    assert rebuilt == running
    for n, value in enumerate(leaves[cut:], start=cut + 1):
        assert restored.append(value) == running.append(value)
        assert restored.root() == running.root() == ref_root(leaves[:n])
    assert restored == running


def test_frontier_copy_is_independent() -> None:
    original = MerkleFrontier()
    original.append(LEAVES[0])
    clone = original.copy()
    clone.append(LEAVES[1])
    assert original.size == 1
    assert clone.size == 2
    assert original != clone
    assert "size=1" in repr(original)


def test_frontier_refuses_a_leaf_that_is_not_a_hash() -> None:
    frontier = MerkleFrontier()
    with pytest.raises(InvalidHash):
        frontier.append(b"not a hash")
    assert frontier.size == 0


@pytest.mark.parametrize(
    "snapshot",
    [
        {"size": 1},
        {"size": 1, "hashes": ["00" * 32], "root": "00" * 32},
        {"size": -1, "hashes": []},
        {"size": True, "hashes": ["00" * 32]},
        {"size": "1", "hashes": ["00" * 32]},
        {"size": 3, "hashes": ["00" * 32]},
        {"size": 1, "hashes": "00" * 32},
        {"size": 1, "hashes": ["AB" * 32]},
        {"size": 1, "hashes": ["00" * 31]},
        {"size": 1, "hashes": [" 0" * 32]},
        {"size": 1, "hashes": [0]},
    ],
)
def test_frontier_refuses_a_malformed_snapshot(snapshot: dict[str, object]) -> None:
    with pytest.raises(InvalidFrontier):
        MerkleFrontier.from_dict(snapshot)


# --- argument errors ---------------------------------------------------------------------------


def test_errors_are_domain_errors_and_value_errors() -> None:
    with pytest.raises(LeafIndexOutOfRange) as caught:
        inclusion_proof(LEAVES[:3], 3)
    error = caught.value
    assert isinstance(error, MerkleError)
    assert isinstance(error, ValidationError)
    assert isinstance(error, DomainError)
    assert isinstance(error, ValueError)
    assert error.code == "JUKI-MRK-003"
    assert error.message("ja")
    assert error.message("en") == "leaf index must be from 0 to 2 (tree size 3)."


@pytest.mark.parametrize("index", [-1, 3, 10**20, True])
def test_inclusion_proof_refuses_an_index_outside_the_tree(index: int) -> None:
    with pytest.raises(LeafIndexOutOfRange):
        inclusion_proof(LEAVES[:3], index)
    with pytest.raises(LeafIndexOutOfRange):
        inclusion_proof_from_subtrees(index, 3, store(3))


def test_an_empty_tree_has_no_inclusion_proof() -> None:
    with pytest.raises(LeafIndexOutOfRange, match="empty tree"):
        inclusion_proof([], 0)


def test_consistency_proof_refuses_an_old_size_beyond_the_new() -> None:
    with pytest.raises(InvalidTreeSize, match="larger than"):
        consistency_proof(LEAVES[:3], 4)
    with pytest.raises(InvalidTreeSize):
        consistency_proof(LEAVES[:3], -1)
    with pytest.raises(InvalidTreeSize):
        consistency_proof_from_subtrees(5, 4, store(5))
    with pytest.raises(InvalidTreeSize):
        check_consistency(5, 4, ROOTS[5], ROOTS[4], [])


@pytest.mark.parametrize("bad", [b"", b"x" * 33, "a" * 32])
def test_list_functions_refuse_values_that_are_not_hashes(bad: bytes) -> None:
    leaves = [LEAVES[0], bad, LEAVES[2]]
    with pytest.raises(InvalidHash, match="position 1"):
        merkle_root(leaves)
    with pytest.raises(InvalidHash):
        inclusion_proof(leaves, 0)
    with pytest.raises(InvalidHash):
        consistency_proof(leaves, 1)


def test_negative_tree_sizes_are_refused() -> None:
    with pytest.raises(InvalidTreeSize):
        merkle_root_from_subtrees(-1, store(0))
    with pytest.raises(InvalidTreeSize):
        MerkleFrontier.from_subtrees(-1, store(0))


@pytest.mark.parametrize(
    "arguments",
    [
        (LEAVES[0], 0, 0, [], ROOTS[0]),
        (LEAVES[0], -1, 2, [LEAVES[1]], ROOTS[2]),
        (LEAVES[0], 0, -2, [LEAVES[1]], ROOTS[2]),
        (LEAVES[0], 0, 2, [LEAVES[1].hex()], ROOTS[2]),
        (LEAVES[0], 0, 2, LEAVES[1], ROOTS[2]),
        (b"short", 0, 2, [LEAVES[1]], ROOTS[2]),
        (LEAVES[0], 0, 2, [LEAVES[1]], b"short"),
        (LEAVES[0], 0.0, 2, [LEAVES[1]], ROOTS[2]),
    ],
)
def test_verify_inclusion_never_raises(arguments: tuple[object, ...]) -> None:
    assert verify_inclusion(*arguments) is False  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "arguments",
    [
        (3, 2, ROOTS[3], ROOTS[2], []),
        (-1, 2, ROOTS[0], ROOTS[2], []),
        (1, 2, ROOTS[1], ROOTS[2], [None]),
        (1, 2, b"", ROOTS[2], [LEAVES[1]]),
        (1, 2, ROOTS[1], ROOTS[2], LEAVES[1]),
    ],
)
def test_verify_consistency_never_raises(arguments: tuple[object, ...]) -> None:
    assert verify_consistency(*arguments) is False  # type: ignore[arg-type]


# --- signed tree heads -------------------------------------------------------------------------

SIGNER = "jukinet:municipality:131016"
WHEN = "2026-04-01T09:00:00+09:00"


def _head(**changes: object) -> SignedTreeHead:
    fields: dict[str, object] = {
        "tree_size": 3,
        "root_hash": CT_ROOTS[3],
        "timestamp": WHEN,
        "signature": b"\x01" * 64,
        "signer": SIGNER,
    }
    fields.update(changes)
    return SignedTreeHead(**fields)  # type: ignore[arg-type]


def test_tree_head_bytes_are_the_documented_five_lines() -> None:
    signed = tree_head_bytes(signer=SIGNER, tree_size=3, root_hash=CT_ROOTS[3], timestamp=WHEN)
    assert signed == (
        b"jukinet-tree-head-v1\n"
        b"jukinet:municipality:131016\n"
        b"3\n"
        b"aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77\n"
        b"2026-04-01T09:00:00+09:00\n"
    )
    assert _head().signed_bytes() == signed


def test_every_signed_field_changes_the_bytes() -> None:
    base = _head().signed_bytes()
    for change in (
        {"tree_size": 4},
        {"root_hash": CT_ROOTS[4]},
        {"timestamp": "2026-04-01T09:00:01+09:00"},
        {"signer": "jukinet:municipality:131024"},
    ):
        assert _head(**change).signed_bytes() != base
    assert _head(signature=b"\x02" * 64).signed_bytes() == base


def test_tree_head_round_trips_through_json() -> None:
    head = _head()
    assert SignedTreeHead.from_dict(json.loads(json.dumps(head.to_dict()))) == head
    with pytest.raises(dataclasses.FrozenInstanceError):
        head.tree_size = 4  # type: ignore[misc]


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"signer": ""}, InvalidTreeHead),
        ({"signer": "a\nb"}, InvalidTreeHead),
        ({"signer": " padded"}, InvalidTreeHead),
        ({"signer": "x" * 201}, InvalidTreeHead),
        ({"timestamp": "2026-04-01T09:00:00"}, InvalidTreeHead),
        ({"timestamp": "2026-04-01"}, InvalidTreeHead),
        ({"timestamp": "yesterday"}, InvalidTreeHead),
        ({"timestamp": "2026-04-01T09:00:00+09:00\nx"}, InvalidTreeHead),
        ({"signature": b""}, InvalidTreeHead),
        ({"signature": "sig"}, InvalidTreeHead),
        ({"root_hash": b"short"}, InvalidHash),
        ({"tree_size": -1}, InvalidTreeSize),
        ({"tree_size": True}, InvalidTreeSize),
    ],
)
def test_tree_head_refuses_malformed_fields(
    changes: dict[str, object], error: type[MerkleError]
) -> None:
    with pytest.raises(error):
        _head(**changes)


@pytest.mark.parametrize(
    "changes",
    [
        {"extra": 1},
        {"root_hash": "AE" * 32},
        {"signature": "0"},
        {"signature": None},
        {"tree_size": "3"},
        {"timestamp": 5},
    ],
)
def test_tree_head_from_dict_refuses_malformed_input(changes: dict[str, object]) -> None:
    data: dict[str, object] = {**_head().to_dict(), **changes}
    with pytest.raises(MerkleError):
        SignedTreeHead.from_dict(data)


def test_a_chained_head_signs_its_sequence_and_predecessor() -> None:
    previous = tree_head_hash(_head())
    head = _head(tree_size=4, root_hash=CT_ROOTS[4], sequence=1, previous_hash=previous)
    assert head.signed_bytes() == (
        b"jukinet-tree-head-v2\n"
        b"jukinet:municipality:131016\n"
        b"4\n" + CT_ROOTS[4].hex().encode() + b"\n"
        b"2026-04-01T09:00:00+09:00\n"
        b"1\n" + previous.hex().encode() + b"\n"
    )
    assert head.chained
    assert not _head().chained
    changes: list[dict[str, Any]] = [{"sequence": 2}, {"previous_hash": GENESIS_HEAD_HASH}]
    for change in changes:
        assert dataclasses.replace(head, **change).signed_bytes() != head.signed_bytes()
    assert SignedTreeHead.from_dict(json.loads(json.dumps(head.to_dict()))) == head
    assert set(_head().to_dict()) == {"tree_size", "root_hash", "timestamp", "signature", "signer"}
    assert tree_head_hash(head) == hashlib.sha256(head.signed_bytes()).digest()


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"sequence": 0}, InvalidHash),  # a sequence without its predecessor
        ({"previous_hash": GENESIS_HEAD_HASH}, InvalidTreeSize),  # and the other way round
        ({"sequence": -1, "previous_hash": GENESIS_HEAD_HASH}, InvalidTreeSize),
        ({"sequence": 0, "previous_hash": b"short"}, InvalidHash),
    ],
)
def test_a_chained_head_needs_both_links(
    changes: dict[str, object], error: type[MerkleError]
) -> None:
    with pytest.raises(error):
        _head(**changes)


def test_a_chained_head_from_dict_refuses_malformed_links() -> None:
    chained = _head(sequence=0, previous_hash=GENESIS_HEAD_HASH).to_dict()
    without_previous = {k: v for k, v in chained.items() if k != "previous_hash"}
    without_sequence = {k: v for k, v in chained.items() if k != "sequence"}
    for data in (
        {**chained, "sequence": None},
        {**chained, "sequence": "1"},
        {**chained, "previous_hash": "00"},
        without_previous,
        without_sequence,
    ):
        with pytest.raises(MerkleError):
            SignedTreeHead.from_dict(data)


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 13, 64, 100, 203])
def test_proof_nodes_fold_into_the_proof(size: int) -> None:
    leaves = [leaf_hash(bytes([n % 256, n // 256])) for n in range(size)]
    for index in range(size):
        path = [
            fold_pieces([merkle_root(leaves[a:b]) for a, b in complete_pieces(start, end)])
            for start, end in inclusion_path_nodes(index, size)
        ]
        assert path == inclusion_proof(leaves, index)


def test_fold_pieces_refuses_what_is_not_a_hash() -> None:
    with pytest.raises(InvalidHash):
        fold_pieces([])
    with pytest.raises(InvalidHash):
        fold_pieces([bytes(32), b"short"])
