"""Merkle maths of the access log: RFC 6962 / RFC 9162 tree hashes, proofs and tree heads.

The access log (アクセスログ) is an append-only list of entries organised as the Merkle tree of
RFC 6962 §2.1 (SHA-256, ``0x00`` before a leaf, ``0x01`` before two children). From it come the
three things a node publishes and a resident or auditor checks:

* the **root** of the first ``n`` entries (:func:`merkle_root`, :class:`MerkleFrontier`), which a
  node signs in a :class:`SignedTreeHead`;
* an **inclusion proof** that one entry is in the tree a head names (:func:`inclusion_proof`,
  :func:`verify_inclusion`);
* a **consistency proof** that a later head only appended to an earlier one
  (:func:`consistency_proof`, :func:`verify_consistency`).

Everything here works on *leaf hashes*: callers hash an entry's canonical bytes with
:func:`leaf_hash` once and keep the 32-byte result. This module is pure (``hashlib`` only, no
I/O): a log too large for memory is reached through a :data:`SubtreeHashSource` callback that a
storage adapter answers from the complete-subtree hashes :meth:`MerkleFrontier.append` reports.

Verification functions come in two forms: ``verify_*`` answers ``True``/``False`` and never
raises for a bad proof (fail closed), ``check_*`` raises :class:`InvalidProof` saying why.
Proof *generation* raises for arguments that cannot describe a proof (index out of range, old
size larger than new size). Every error is a :class:`MerkleError`, which is both a
:class:`~jukinet.domain.errors.ValidationError` and a :class:`ValueError`.

Why one module over the project's ~700-line limit: it is pure maths, checked as one unit against
the transparency-dev reference vectors; roots, proofs, the frontier and tree heads share the
same split rules (largest power of two below ``n``) and read best side by side.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar, Final, TypeGuard

from jukinet.domain.errors import ValidationError

__all__ = [
    "CHAINED_TREE_HEAD_FORMAT",
    "EMPTY_ROOT",
    "GENESIS_HEAD_HASH",
    "HASH_SIZE",
    "TREE_HEAD_FORMAT",
    "CompleteSubtree",
    "InvalidFrontier",
    "InvalidHash",
    "InvalidProof",
    "InvalidTreeHead",
    "InvalidTreeSize",
    "LeafIndexOutOfRange",
    "MerkleError",
    "MerkleFrontier",
    "SignedTreeHead",
    "SubtreeHashSource",
    "check_consistency",
    "check_inclusion",
    "complete_pieces",
    "complete_subtree_position",
    "consistency_proof",
    "consistency_proof_from_subtrees",
    "fold_pieces",
    "inclusion_path_nodes",
    "inclusion_proof",
    "inclusion_proof_from_subtrees",
    "leaf_hash",
    "merkle_root",
    "merkle_root_from_subtrees",
    "node_hash",
    "tree_head_bytes",
    "tree_head_hash",
    "verify_consistency",
    "verify_inclusion",
]

#: Length in bytes of every hash in the tree (SHA-256).
HASH_SIZE: Final = 32

_LEAF_PREFIX: Final = b"\x00"
_NODE_PREFIX: Final = b"\x01"
_HEX_DIGITS: Final = frozenset("0123456789abcdef")

#: MTH({}) — the root of the empty tree: SHA-256 of no bytes (RFC 6962 §2.1).
EMPTY_ROOT: Final[bytes] = hashlib.sha256(b"").digest()

#: First line of :func:`tree_head_bytes`; changes whenever the signed format changes.
TREE_HEAD_FORMAT: Final = "jukinet-tree-head-v1"
#: First line of a chained head (one that also signs its sequence number and its predecessor).
CHAINED_TREE_HEAD_FORMAT: Final = "jukinet-tree-head-v2"
#: The "previous head" of a log's first chained head when no head came before it.
GENESIS_HEAD_HASH: Final = bytes(32)

_MAX_SIGNER_LENGTH: Final = 200

SubtreeHashSource = Callable[[int, int], bytes]
"""``get_subtree_hash(start, end) -> bytes``: the hash of leaves ``start .. end - 1``.

The contract a storage adapter must meet:

* It is only ever called for a **complete, aligned subtree**: ``end - start`` is a power of two
  and ``start`` is a multiple of it, with ``0 <= start < end <= tree_size`` of the proof asked
  for. These are exactly the subtrees :meth:`MerkleFrontier.append` reports as it completes
  them, so one lookup by :func:`complete_subtree_position` ``(level, index)`` answers it.
* It returns ``MTH(D[start:end])``, 32 bytes; for ``end - start == 1`` that is the leaf hash
  itself. Anything that is not 32 bytes raises :class:`InvalidHash`.
* A complete subtree never changes once the log has grown past it, so a store may answer from
  its current, larger log when asked for a proof about an older tree size.
* Each distinct range is asked for at most once per proof (about ``2·log2(n)`` calls in all);
  exceptions it raises (a missing row, a lost connection) propagate unchanged.
* Answers are not cross-checked here: a store that returns wrong hashes yields roots and proofs
  that fail verification against the node's signed tree heads, which is where tampering shows.
"""


# --- errors ------------------------------------------------------------------------------------


class MerkleError(ValidationError, ValueError):
    """Something about a tree, proof or tree head is malformed; also a ``ValueError``."""

    CODE: ClassVar[str] = "JUKI-MRK-000"

    def __init__(self, *, ja: str, en: str, field: str | None = None) -> None:
        super().__init__(self.CODE, ja=ja, en=en, field=field)


class InvalidHash(MerkleError):
    """A value used as a hash is not 32 bytes."""

    CODE = "JUKI-MRK-001"


class InvalidTreeSize(MerkleError):
    """A size is not a non-negative integer, an old size exceeds a new one, or a range is wrong."""

    CODE = "JUKI-MRK-002"


class LeafIndexOutOfRange(MerkleError):
    """A leaf index is not in ``0 .. tree_size - 1``."""

    CODE = "JUKI-MRK-003"


class InvalidProof(MerkleError):
    """An inclusion or consistency proof does not prove what it was offered for."""

    CODE = "JUKI-MRK-004"


class InvalidFrontier(MerkleError):
    """A stored :class:`MerkleFrontier` cannot be restored: wrong shape, size or hashes."""

    CODE = "JUKI-MRK-005"


class InvalidTreeHead(MerkleError):
    """A :class:`SignedTreeHead` field breaks the rules of the signed format."""

    CODE = "JUKI-MRK-006"


# --- small helpers -----------------------------------------------------------------------------


def _is_hash(value: object) -> bool:
    return isinstance(value, bytes) and len(value) == HASH_SIZE


def _is_count(value: object) -> TypeGuard[int]:
    # bool is an int subclass; True is not a tree size.
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _require_hash(value: object, field: str) -> bytes:
    if not isinstance(value, bytes) or len(value) != HASH_SIZE:
        raise InvalidHash(
            ja=f"{field} は {HASH_SIZE} バイトのハッシュでなければなりません。",
            en=f"{field} must be a {HASH_SIZE}-byte hash.",
            field=field,
        )
    return value


def _require_size(value: object, field: str) -> int:
    if not _is_count(value):
        raise InvalidTreeSize(
            ja=f"{field} は 0 以上の整数でなければなりません。",
            en=f"{field} must be an integer of 0 or more.",
            field=field,
        )
    return value


def _require_index(index: object, tree_size: int) -> int:
    if not (_is_count(index) and index < tree_size):
        if tree_size == 0:
            raise LeafIndexOutOfRange(
                ja="空の木には葉がありません。",
                en="an empty tree has no leaf index.",
                field="index",
            )
        raise LeafIndexOutOfRange(
            ja=f"葉の番号は 0 から {tree_size - 1} まででなければなりません"
            f"(木の大きさ {tree_size})。",
            en=f"leaf index must be from 0 to {tree_size - 1} (tree size {tree_size}).",
            field="index",
        )
    return index


def _require_sizes(old_size: object, new_size: object) -> tuple[int, int]:
    old = _require_size(old_size, "old_size")
    new = _require_size(new_size, "new_size")
    if old > new:
        raise InvalidTreeSize(
            ja=f"古い木の大きさ {old} が新しい木の大きさ {new} を超えています。",
            en=f"old_size {old} is larger than new_size {new}.",
            field="old_size",
        )
    return old, new


def _require_leaf_hashes(leaf_hashes: Sequence[bytes]) -> None:
    for position, value in enumerate(leaf_hashes):
        if not _is_hash(value):
            raise InvalidHash(
                ja=f"{position} 番目の葉のハッシュが {HASH_SIZE} バイトではありません。",
                en=f"leaf hash at position {position} is not {HASH_SIZE} bytes.",
                field="leaf_hashes",
            )


def _is_power_of_two(value: int) -> bool:
    return value > 0 and value & (value - 1) == 0


def _split_point(size: int) -> int:
    """The largest power of two strictly smaller than ``size`` (``size >= 2``): RFC 6962's k."""
    return 1 << ((size - 1).bit_length() - 1)


def _node(left: bytes, right: bytes) -> bytes:
    # Unchecked node_hash for the inner loops; inputs are already known to be hashes.
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def _fold_right(pieces: list[bytes]) -> bytes:
    """Root of consecutive complete subtrees, largest first: p0 · (p1 · (… · pk))."""
    result = pieces[-1]
    for piece in reversed(pieces[:-1]):
        result = _node(piece, result)
    return result


def _root_unchecked(leaf_hashes: Sequence[bytes]) -> bytes:
    # Keep only the right edge (one hash per set bit of the count so far): O(log n) memory.
    edge: list[bytes] = []
    for count, value in enumerate(leaf_hashes):
        merged = value
        while count & 1:
            merged = _node(edge.pop(), merged)
            count >>= 1
        edge.append(merged)
    return _fold_right(edge) if edge else EMPTY_ROOT


# --- hashing -----------------------------------------------------------------------------------


def leaf_hash(data: bytes) -> bytes:
    """The tree's hash of one entry: SHA-256(0x00 || data) (RFC 6962 §2.1).

    ``data`` must be the entry's canonical bytes, the same bytes every verifier will rebuild;
    the leaf prefix keeps a leaf from ever being mistaken for an inner node.
    """
    return hashlib.sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The hash of an inner node: SHA-256(0x01 || left || right) (RFC 6962 §2.1).

    Both children must be 32-byte hashes, otherwise :class:`InvalidHash`.
    """
    return _node(_require_hash(left, "left"), _require_hash(right, "right"))


def merkle_root(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH(D[n]): the root of the tree over ``leaf_hashes`` (RFC 6962 §2.1).

    ``leaf_hashes`` are :func:`leaf_hash` results, in log order; the empty list gives
    :data:`EMPTY_ROOT` and a single leaf is its own root. Runs in O(n) time and O(log n) extra
    memory; a non-32-byte element raises :class:`InvalidHash`.
    """
    _require_leaf_hashes(leaf_hashes)
    return _root_unchecked(leaf_hashes)


def subtree_levels(leaf_hashes: Sequence[bytes]) -> list[list[bytes]]:
    """Every complete aligned subtree over a run of leaves, level by level.

    ``levels[0]`` is the leaves; ``levels[k][i]`` is the MTH of leaves ``i·2**k .. (i+1)·2**k
    - 1`` of the run, for each such subtree the run holds completely. Used to hash one aligned
    range of a log in one go (each node once, no per-leaf objects); raises :class:`InvalidHash`
    for a value that is not 32 bytes.
    """
    _require_leaf_hashes(leaf_hashes)
    sha256 = hashlib.sha256
    levels = [list(leaf_hashes)]
    below = levels[0]
    while len(below) >= 2:
        below = [
            sha256(_NODE_PREFIX + below[i] + below[i + 1]).digest()
            for i in range(0, len(below) - 1, 2)
        ]
        levels.append(below)
    return levels


# --- complete subtrees and the callback ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CompleteSubtree:
    """A complete, aligned subtree: leaves ``index·2**level .. (index+1)·2**level - 1``.

    Level 0 holds the leaf hashes themselves. A storage adapter that keeps every one of these
    (keyed by ``(level, index)``) can answer any :data:`SubtreeHashSource` call with one lookup.
    """

    level: int
    index: int
    hash: bytes

    @property
    def start(self) -> int:
        """Index of the first leaf covered."""
        return self.index << self.level

    @property
    def end(self) -> int:
        """One past the index of the last leaf covered."""
        return (self.index + 1) << self.level


def complete_subtree_position(start: int, end: int) -> tuple[int, int]:
    """``(level, index)`` of the complete subtree covering leaves ``start .. end - 1``.

    The key under which a store keeps that subtree's hash (see :class:`CompleteSubtree`).
    Raises :class:`InvalidTreeSize` unless ``end - start`` is a power of two and ``start`` a
    multiple of it — the only ranges a :data:`SubtreeHashSource` is ever asked for.
    """
    if not (_is_count(start) and _is_count(end)):
        raise InvalidTreeSize(
            ja="部分木の範囲は 0 以上の整数でなければなりません。",
            en="subtree bounds must be integers of 0 or more.",
            field="start",
        )
    width = end - start
    if not _is_power_of_two(width) or start % width:
        raise InvalidTreeSize(
            ja=f"範囲 [{start}, {end}) は完全な部分木ではありません。",
            en=f"range [{start}, {end}) is not a complete, aligned subtree.",
            field="start",
        )
    level = width.bit_length() - 1
    return level, start >> level


class _SubtreeReader:
    """Asks a :data:`SubtreeHashSource` for complete subtrees, once each, and checks answers."""

    __slots__ = ("_cache", "_get")

    def __init__(self, get_subtree_hash: SubtreeHashSource) -> None:
        self._get = get_subtree_hash
        self._cache: dict[tuple[int, int], bytes] = {}

    def complete(self, start: int, end: int) -> bytes:
        key = (start, end)
        found = self._cache.get(key)
        if found is None:
            found = self._get(start, end)
            if not _is_hash(found):
                raise InvalidHash(
                    ja=f"部分木 [{start}, {end}) のハッシュが {HASH_SIZE} バイトではありません。",
                    en=f"the subtree hash for [{start}, {end}) is not {HASH_SIZE} bytes.",
                    field="get_subtree_hash",
                )
            self._cache[key] = found
        return found

    def node(self, start: int, end: int) -> bytes:
        """MTH of a node of the tree: complete pieces left to right, folded from the right."""
        if _is_power_of_two(end - start):
            return self.complete(start, end)
        return _fold_right([self.complete(a, b) for a, b in complete_pieces(start, end)])


def _list_source(leaf_hashes: Sequence[bytes]) -> SubtreeHashSource:
    def get_subtree_hash(start: int, end: int) -> bytes:
        return _root_unchecked(leaf_hashes[start:end])

    return get_subtree_hash


# --- roots and proofs from a callback --------------------------------------------------------


def merkle_root_from_subtrees(tree_size: int, get_subtree_hash: SubtreeHashSource) -> bytes:
    """MTH(D[tree_size]) computed from stored complete-subtree hashes.

    Asks ``get_subtree_hash`` for at most ``log2(tree_size) + 1`` subtrees (see
    :data:`SubtreeHashSource` for its contract). ``tree_size == 0`` gives :data:`EMPTY_ROOT`.
    """
    size = _require_size(tree_size, "tree_size")
    if size == 0:
        return EMPTY_ROOT
    return _SubtreeReader(get_subtree_hash).node(0, size)


def inclusion_proof_from_subtrees(
    index: int, tree_size: int, get_subtree_hash: SubtreeHashSource
) -> list[bytes]:
    """PATH(index, D[tree_size]) (RFC 6962 §2.1.1) from stored complete-subtree hashes.

    The audit path, leaf's sibling first and the root's other child last; empty for a tree of
    one leaf. Raises :class:`LeafIndexOutOfRange` unless ``0 <= index < tree_size``. See
    :data:`SubtreeHashSource` for what ``get_subtree_hash`` must do.
    """
    reader = _SubtreeReader(get_subtree_hash)
    return [reader.node(start, end) for start, end in inclusion_path_nodes(index, tree_size)]


def inclusion_path_nodes(index: int, tree_size: int) -> list[tuple[int, int]]:
    """The nodes ``[start, end)`` whose hashes make PATH(index, D[tree_size]), in its order.

    The shape of a proof depends only on the index and the size, so many proofs can first say
    which nodes they need, and those be read together. Raises as
    :func:`inclusion_proof_from_subtrees` does.
    """
    size = _require_size(tree_size, "tree_size")
    leaf = _require_index(index, size)
    nodes: list[tuple[int, int]] = []
    start, end = 0, size
    while end - start > 1:
        middle = start + _split_point(end - start)
        if leaf < middle:
            nodes.append((middle, end))
            end = middle
        else:
            nodes.append((start, middle))
            start = middle
    nodes.reverse()
    return nodes


def complete_pieces(start: int, end: int) -> list[tuple[int, int]]:
    """The complete subtrees, largest first, whose hashes fold (:func:`fold_pieces`) into the
    hash of node ``[start, end)`` of a tree (``start`` a multiple of the largest piece)."""
    pieces: list[tuple[int, int]] = []
    while not _is_power_of_two(end - start):
        middle = start + _split_point(end - start)
        pieces.append((start, middle))
        start = middle
    pieces.append((start, end))
    return pieces


def fold_pieces(hashes: Sequence[bytes]) -> bytes:
    """The hash of a node from its :func:`complete_pieces`' hashes (:class:`InvalidHash` if one
    is not 32 bytes)."""
    if not hashes:
        raise InvalidHash(
            ja="部分木のハッシュがありません。", en="no subtree hash to fold.", field="hashes"
        )
    for value in hashes:
        _require_hash(value, "hashes")
    return _fold_right(list(hashes))


def consistency_proof_from_subtrees(
    old_size: int, new_size: int, get_subtree_hash: SubtreeHashSource
) -> list[bytes]:
    """PROOF(old_size, D[new_size]) (RFC 6962 §2.1.2) from stored complete-subtree hashes.

    Empty when ``old_size`` is 0 or equals ``new_size`` (every tree extends the empty tree and
    itself). Raises :class:`InvalidTreeSize` if ``old_size > new_size``. See
    :data:`SubtreeHashSource` for what ``get_subtree_hash`` must do.
    """
    old, new = _require_sizes(old_size, new_size)
    if old in (0, new):
        return []
    reader = _SubtreeReader(get_subtree_hash)
    proof: list[bytes] = []
    start, end = 0, new
    # SUBPROOF(m, D[start:end], b) unrolled; m is always old - start.
    starts_at_left_edge = True
    while True:
        m = old - start
        if m == end - start:
            if not starts_at_left_edge:
                proof.append(reader.node(start, end))
            break
        middle = start + _split_point(end - start)
        if m <= middle - start:
            proof.append(reader.node(middle, end))
            end = middle
        else:
            proof.append(reader.node(start, middle))
            start = middle
            starts_at_left_edge = False
    proof.reverse()
    return proof


# --- list-based wrappers -----------------------------------------------------------------------


def inclusion_proof(leaf_hashes: Sequence[bytes], index: int) -> list[bytes]:
    """PATH(index, D[n]) over all of ``leaf_hashes`` (n = its length); O(n) hashing.

    A thin wrapper over :func:`inclusion_proof_from_subtrees` for logs held in memory.
    """
    _require_leaf_hashes(leaf_hashes)
    return inclusion_proof_from_subtrees(index, len(leaf_hashes), _list_source(leaf_hashes))


def consistency_proof(leaf_hashes: Sequence[bytes], old_size: int) -> list[bytes]:
    """PROOF(old_size, D[n]) over all of ``leaf_hashes`` (n = its length); O(n) hashing.

    A thin wrapper over :func:`consistency_proof_from_subtrees` for logs held in memory.
    """
    _require_leaf_hashes(leaf_hashes)
    return consistency_proof_from_subtrees(old_size, len(leaf_hashes), _list_source(leaf_hashes))


# --- verification ------------------------------------------------------------------------------


def _invalid(ja: str, en: str) -> InvalidProof:
    return InvalidProof(ja=ja, en=en, field="proof")


def _proof_elements(proof: Sequence[bytes]) -> list[bytes]:
    elements = list(proof)
    if not all(map(_is_hash, elements)):
        raise _invalid(
            f"証明の要素が {HASH_SIZE} バイトのハッシュではありません。",
            f"a proof element is not a {HASH_SIZE}-byte hash.",
        )
    return elements


def _too_long() -> InvalidProof:
    return _invalid(
        "証明が木の大きさに対して長すぎます。", "the proof is too long for the tree size."
    )


def _too_short() -> InvalidProof:
    return _invalid(
        "証明が木の大きさに対して短すぎます。", "the proof is too short for the tree size."
    )


def check_inclusion(
    leaf_hash: bytes, index: int, tree_size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Raise unless ``proof`` shows leaf ``index`` of tree ``(tree_size, root)`` is ``leaf_hash``.

    The verification algorithm of RFC 9162 §2.1.3.2, iterative and without the tree. Raises
    :class:`InvalidProof` (with the reason) for a proof that fails, :class:`LeafIndexOutOfRange`
    for ``index >= tree_size``, :class:`InvalidTreeSize` / :class:`InvalidHash` for malformed
    arguments. Read :func:`verify_inclusion` for what the caller must supply.
    """
    size = _require_size(tree_size, "tree_size")
    fn = _require_index(index, size)
    _require_hash(leaf_hash, "leaf_hash")
    _require_hash(root, "root")
    sn = size - 1
    computed = leaf_hash
    for sibling in _proof_elements(proof):
        if sn == 0:
            raise _too_long()
        if fn & 1 or fn == sn:
            computed = _node(sibling, computed)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            computed = _node(computed, sibling)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise _too_short()
    if computed != root:
        raise _invalid(
            "証明から得た根のハッシュが木の根と一致しません。",
            "the proof does not lead to the tree's root hash.",
        )


def verify_inclusion(
    leaf_hash: bytes, index: int, tree_size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """True if ``proof`` shows leaf ``index`` of the tree ``(tree_size, root)`` is ``leaf_hash``.

    RFC 9162 §2.1.3.2. Never raises: anything wrong (malformed values, index out of range) is
    ``False``. The caller must compute ``leaf_hash`` itself from the entry it was shown, and take
    ``tree_size`` and ``root`` from one signed tree head whose signature it has verified: the
    proof alone does not pin the tree size (for some sizes the same path shape fits two sizes).
    """
    try:
        check_inclusion(leaf_hash, index, tree_size, proof, root)
    except MerkleError:
        return False
    return True


def check_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Raise unless ``proof`` shows tree ``(new_size, new_root)`` extends ``(old_size, old_root)``.

    The verification algorithm of RFC 9162 §2.1.4.2, plus the two cases it leaves out: equal
    sizes need an empty proof and equal roots; ``old_size == 0`` needs an empty proof and
    ``old_root == EMPTY_ROOT`` (any tree extends the empty one). Raises :class:`InvalidProof`
    (with the reason) for a proof that fails, :class:`InvalidTreeSize` if
    ``old_size > new_size``, :class:`InvalidHash` for a root that is not 32 bytes.
    """
    old, new = _require_sizes(old_size, new_size)
    _require_hash(old_root, "old_root")
    _require_hash(new_root, "new_root")
    path = _proof_elements(proof)
    if old == new or old == 0:
        if path:
            raise _invalid(
                "この大きさの組では整合性証明は空でなければなりません。",
                "the consistency proof must be empty for these sizes.",
            )
        if old == 0 and old_root != EMPTY_ROOT:
            raise _invalid(
                "大きさ 0 の木の根は空の木のハッシュでなければなりません。",
                "the root of a tree of size 0 must be EMPTY_ROOT.",
            )
        if old == new and old_root != new_root:
            raise _invalid(
                "同じ大きさの木の根のハッシュが一致しません。",
                "two trees of the same size have different root hashes.",
            )
        return
    if not path:
        raise _too_short()
    if _is_power_of_two(old):
        path.insert(0, old_root)
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    old_computed = new_computed = path[0]
    for element in path[1:]:
        if sn == 0:
            raise _too_long()
        if fn & 1 or fn == sn:
            old_computed = _node(element, old_computed)
            new_computed = _node(element, new_computed)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            new_computed = _node(new_computed, element)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise _too_short()
    if old_computed != old_root:
        raise _invalid(
            "証明から得た古い木の根が一致しません。",
            "the proof does not lead to the old root hash.",
        )
    if new_computed != new_root:
        raise _invalid(
            "証明から得た新しい木の根が一致しません。",
            "the proof does not lead to the new root hash.",
        )


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """True if ``proof`` shows tree ``(new_size, new_root)`` only appended to the old tree.

    RFC 9162 §2.1.4.2 (see :func:`check_consistency` for the edge cases). Never raises:
    anything wrong, including ``old_size > new_size``, is ``False``. Take each size and root from
    one verified signed tree head; note an empty old tree is consistent with every new root.
    """
    try:
        check_consistency(old_size, new_size, old_root, new_root, proof)
    except MerkleError:
        return False
    return True


# --- the incremental frontier ----------------------------------------------------------------


def _frontier_error(en: str, ja: str) -> InvalidFrontier:
    return InvalidFrontier(ja=ja, en=en, field="frontier")


class MerkleFrontier:
    """The right edge of an append-only log's tree: enough to append and to give the root.

    Holds one hash per set bit of :attr:`size` — the complete subtrees ``[0, n)`` splits into,
    largest first — so memory is O(log n) and an append costs amortised two hashes. Persist
    :meth:`to_dict` next to the log (in the same transaction as the entries it covers) and
    :meth:`from_dict` it after a restart; compare the restored :meth:`root` with the last signed
    tree head before appending, because a tampered frontier would extend a forged tree.
    """

    __slots__ = ("_edge", "_size")

    def __init__(self) -> None:
        self._size = 0
        self._edge: list[bytes] = []

    @property
    def size(self) -> int:
        """Number of leaves appended so far."""
        return self._size

    @property
    def hashes(self) -> tuple[bytes, ...]:
        """The frontier's complete-subtree hashes, leftmost (largest) first."""
        return tuple(self._edge)

    def append(self, leaf_hash: bytes) -> tuple[CompleteSubtree, ...]:
        """Append one leaf hash; return every complete subtree this append finished.

        The first item is the leaf itself at level 0, then each subtree it closed, lowest level
        first. A store that keeps all of them by ``(level, index)`` can later serve any
        :data:`SubtreeHashSource` request. Raises :class:`InvalidHash` for a non-32-byte value.
        """
        merged = _require_hash(leaf_hash, "leaf_hash")
        position = self._size
        finished = [CompleteSubtree(0, position, merged)]
        level = 0
        while position & 1:
            merged = _node(self._edge.pop(), merged)
            position >>= 1
            level += 1
            finished.append(CompleteSubtree(level, position, merged))
        self._edge.append(merged)
        self._size += 1
        return tuple(finished)

    def append_subtree(self, level: int, subtree_hash: bytes) -> tuple[CompleteSubtree, ...]:
        """Append a whole complete subtree of ``2**level`` leaves, given its root hash.

        Same as appending its leaves one by one, for a caller that hashed them elsewhere (a
        worker process checking one aligned range of a log). The current size must be a
        multiple of ``2**level``; raises :class:`InvalidTreeSize` otherwise. Returns the
        appended subtree first, then every larger subtree it completed, lowest level first.
        """
        merged = _require_hash(subtree_hash, "subtree_hash")
        if not _is_count(level) or self._size % (1 << level):
            raise InvalidTreeSize(
                ja=f"サイズ {self._size} の木には 2**{level} 葉の部分木を追加できません。",
                en=f"a subtree of 2**{level} leaves cannot be appended at size {self._size}.",
                field="level",
            )
        position = self._size >> level
        finished = [CompleteSubtree(level, position, merged)]
        top = level
        while position & 1:
            merged = _node(self._edge.pop(), merged)
            position >>= 1
            top += 1
            finished.append(CompleteSubtree(top, position, merged))
        self._edge.append(merged)
        self._size += 1 << level
        return tuple(finished)

    def root(self) -> bytes:
        """MTH of all leaves appended so far; :data:`EMPTY_ROOT` while empty. O(log n)."""
        return _fold_right(self._edge) if self._edge else EMPTY_ROOT

    def copy(self) -> MerkleFrontier:
        """An independent frontier in the same state."""
        clone = MerkleFrontier()
        clone._size = self._size
        clone._edge = list(self._edge)
        return clone

    def to_dict(self) -> dict[str, int | list[str]]:
        """A small JSON-able snapshot: ``{"size": n, "hashes": [hex, …]}`` (lower-case hex)."""
        return {"size": self._size, "hashes": [value.hex() for value in self._edge]}

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> MerkleFrontier:
        """Restore a frontier saved by :meth:`to_dict`.

        Raises :class:`InvalidFrontier` unless ``data`` has exactly the keys ``size`` and
        ``hashes``, a non-negative integer size and one 64-digit lower-case hex hash per set
        bit of the size. It cannot tell a forged frontier from a real one: check :meth:`root`.
        """
        if not isinstance(data, Mapping) or set(data) != {"size", "hashes"}:
            raise _frontier_error(
                "a frontier needs exactly the keys 'size' and 'hashes'.",
                "フロンティアには 'size' と 'hashes' の二つのキーだけが必要です。",
            )
        size, hashes = data["size"], data["hashes"]
        if not _is_count(size):
            raise _frontier_error(
                "the frontier's size must be an integer of 0 or more.",
                "フロンティアの size は 0 以上の整数でなければなりません。",
            )
        if not isinstance(hashes, list) or len(hashes) != size.bit_count():
            raise _frontier_error(
                "the frontier needs one hash per set bit of its size.",
                "フロンティアには size の立っているビットごとに一つのハッシュが必要です。",
            )
        edge: list[bytes] = []
        for value in hashes:
            if (
                not isinstance(value, str)
                or len(value) != 2 * HASH_SIZE
                or not _HEX_DIGITS.issuperset(value)
            ):
                raise _frontier_error(
                    "each frontier hash must be 64 lower-case hex digits.",
                    "フロンティアの各ハッシュは小文字の16進数64桁でなければなりません。",
                )
            edge.append(bytes.fromhex(value))
        restored = cls()
        restored._size = size
        restored._edge = edge
        return restored

    @classmethod
    def from_subtrees(cls, tree_size: int, get_subtree_hash: SubtreeHashSource) -> MerkleFrontier:
        """Rebuild the frontier of the first ``tree_size`` leaves from stored subtree hashes.

        For recovery without a snapshot: asks ``get_subtree_hash`` for one complete subtree per
        set bit of ``tree_size`` (see :data:`SubtreeHashSource`).
        """
        size = _require_size(tree_size, "tree_size")
        reader = _SubtreeReader(get_subtree_hash)
        edge: list[bytes] = []
        start = 0
        for bit in reversed(range(size.bit_length())):
            width = 1 << bit
            if size & width:
                edge.append(reader.complete(start, start + width))
                start += width
        restored = cls()
        restored._size = size
        restored._edge = edge
        return restored

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MerkleFrontier):
            return NotImplemented
        return self._size == other._size and self._edge == other._edge

    def __repr__(self) -> str:
        return f"MerkleFrontier(size={self._size}, root={self.root().hex()})"


# --- signed tree heads -------------------------------------------------------------------------


def _tree_head_error(field: str, en: str, ja: str) -> InvalidTreeHead:
    return InvalidTreeHead(ja=ja, en=en, field=field)


def _require_signer(signer: object) -> str:
    if (
        not isinstance(signer, str)
        or not 0 < len(signer) <= _MAX_SIGNER_LENGTH
        or not signer.isprintable()
        or signer != signer.strip()
    ):
        raise _tree_head_error(
            "signer",
            f"signer must be 1 to {_MAX_SIGNER_LENGTH} printable characters on one line, "
            "without surrounding spaces.",
            f"署名者は前後に空白のない1行の印字可能な1〜{_MAX_SIGNER_LENGTH}文字でなければ"
            "なりません。",
        )
    return signer


def _has_utc_offset(timestamp: str) -> bool:
    try:
        parsed = datetime.fromisoformat(timestamp)
    except ValueError:
        return False
    return parsed.utcoffset() is not None


def _require_timestamp(timestamp: object) -> str:
    if not (
        isinstance(timestamp, str)
        and timestamp.isascii()
        and timestamp.isprintable()
        and _has_utc_offset(timestamp)
    ):
        raise _tree_head_error(
            "timestamp",
            "timestamp must be an ISO 8601 date and time with a UTC offset.",
            "timestamp は時差付きの ISO 8601 日時でなければなりません。",
        )
    return timestamp


def tree_head_bytes(
    *,
    signer: str,
    tree_size: int,
    root_hash: bytes,
    timestamp: str,
    sequence: int | None = None,
    previous_hash: bytes | None = None,
) -> bytes:
    """The canonical bytes a node signs (with Ed25519, elsewhere) to publish a tree head.

    UTF-8 text, five lines each ending in ``\\n``::

        jukinet-tree-head-v1
        <signer>
        <tree_size in decimal>
        <root_hash in lower-case hex>
        <timestamp as given>

    A *chained* head (``sequence`` and ``previous_hash`` given) is seven lines, the first
    ``jukinet-tree-head-v2`` and then ``<sequence in decimal>`` and ``<previous_hash in
    lower-case hex>`` (:func:`tree_head_hash` of the head signed before it, or
    :data:`GENESIS_HEAD_HASH`): a head then says how many came before it, so deleting
    published heads shows.

    ``signer`` names the log (the node whose key signs), so a head cannot be passed off as
    another log's; ``timestamp`` must be ISO 8601 with a UTC offset and is signed as given, so
    keep the string. Raises :class:`InvalidTreeHead`, :class:`InvalidTreeSize` or
    :class:`InvalidHash` for a field that breaks these rules.
    """
    name = _require_signer(signer)
    size = _require_size(tree_size, "tree_size")
    root = _require_hash(root_hash, "root_hash")
    when = _require_timestamp(timestamp)
    if sequence is None and previous_hash is None:
        return f"{TREE_HEAD_FORMAT}\n{name}\n{size}\n{root.hex()}\n{when}\n".encode()
    number = _require_size(sequence, "sequence")
    previous = _require_hash(previous_hash, "previous_hash")
    return (
        f"{CHAINED_TREE_HEAD_FORMAT}\n{name}\n{size}\n{root.hex()}\n{when}\n"
        f"{number}\n{previous.hex()}\n"
    ).encode()


@dataclass(frozen=True, slots=True)
class SignedTreeHead:
    """A published (tree_size, root_hash) signed by the log's node (RFC 6962 §3.5's STH).

    Construction checks the fields' shapes, not the signature: verify :attr:`signature` over
    :meth:`signed_bytes` with the signer's public key before trusting the head, then use its
    size and root together for :func:`verify_inclusion` / :func:`verify_consistency`.
    """

    tree_size: int
    root_hash: bytes
    timestamp: str
    signature: bytes
    signer: str
    #: Position of this head among the log's chained heads (0, 1, 2 …); ``None`` for a v1 head.
    sequence: int | None = None
    #: :func:`tree_head_hash` of the head signed before this one; ``None`` for a v1 head.
    previous_hash: bytes | None = None

    def __post_init__(self) -> None:
        # tree_head_bytes validates every signed field, and a chained head needs both links.
        self.signed_bytes()
        if not isinstance(self.signature, bytes) or not self.signature:
            raise _tree_head_error(
                "signature", "signature must be non-empty bytes.", "署名は空でないバイト列です。"
            )

    def signed_bytes(self) -> bytes:
        """The bytes :attr:`signature` is over (:func:`tree_head_bytes` of this head)."""
        return tree_head_bytes(
            signer=self.signer,
            tree_size=self.tree_size,
            root_hash=self.root_hash,
            timestamp=self.timestamp,
            sequence=self.sequence,
            previous_hash=self.previous_hash,
        )

    @property
    def chained(self) -> bool:
        """Whether this head signs its sequence number and predecessor (format v2)."""
        return self.sequence is not None

    def to_dict(self) -> dict[str, int | str]:
        """JSON-able form: hashes and signature as lower-case hex."""
        data: dict[str, int | str] = {
            "tree_size": self.tree_size,
            "root_hash": self.root_hash.hex(),
            "timestamp": self.timestamp,
            "signature": self.signature.hex(),
            "signer": self.signer,
        }
        if self.sequence is not None and self.previous_hash is not None:
            data["sequence"] = self.sequence
            data["previous_hash"] = self.previous_hash.hex()
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> SignedTreeHead:
        """Read the form :meth:`to_dict` writes; :class:`InvalidTreeHead` if it is malformed."""
        fields = ("tree_size", "root_hash", "timestamp", "signature", "signer")
        chain = ("sequence", "previous_hash")
        if not isinstance(data, Mapping) or set(data) not in (set(fields), {*fields, *chain}):
            raise _tree_head_error(
                "tree_head",
                "a tree head needs exactly the keys " + ", ".join(fields) + " (and, if chained, "
                "sequence and previous_hash).",
                "ツリーヘッドには " + "、".join(fields) + " のキー（連鎖したものは sequence と "
                "previous_hash も）だけが必要です。",
            )
        tree_size, timestamp, signer = data["tree_size"], data["timestamp"], data["signer"]
        chained = "sequence" in data
        sequence = data.get("sequence")
        if not (
            _is_count(tree_size)
            and isinstance(timestamp, str)
            and isinstance(signer, str)
            and (not chained or _is_count(sequence))
        ):
            raise _tree_head_error(
                "tree_head",
                "tree_size and sequence must be integers; timestamp and signer must be strings.",
                "tree_size と sequence は整数、timestamp と signer は文字列でなければなりません。",
            )
        decoded: dict[str, bytes] = {}
        for name in ("root_hash", "signature", *(chain[1:] if chained else ())):
            value = data[name]
            if not isinstance(value, str) or not _HEX_DIGITS.issuperset(value) or len(value) % 2:
                raise _tree_head_error(
                    name, f"{name} must be lower-case hex.", f"{name} は小文字の16進数です。"
                )
            decoded[name] = bytes.fromhex(value)
        return cls(
            tree_size=tree_size,
            root_hash=decoded["root_hash"],
            timestamp=timestamp,
            signature=decoded["signature"],
            signer=signer,
            sequence=sequence if _is_count(sequence) else None,
            previous_hash=decoded.get("previous_hash"),
        )


def tree_head_hash(head: SignedTreeHead) -> bytes:
    """SHA-256 of the bytes ``head`` signs: how the next chained head names it."""
    return hashlib.sha256(head.signed_bytes()).digest()
