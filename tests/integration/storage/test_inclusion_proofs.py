"""Many proofs read together (a disclosure's) are the same as each proof read alone, for every
position of a log whose last leaf block is partial, and roots and consistency proofs read with
their subtrees together match the ones computed from the leaves, on both databases."""

from __future__ import annotations

from datetime import timedelta

from jukinet.domain.access_log import AccessEntry, Action, ActorKind, Channel, entry_leaf_hash
from jukinet.domain.audit_math import check_inclusion, consistency_proof, merkle_root
from jukinet.services.context import ServiceContext
from jukinet.storage import access_log as store


def _log(node: ServiceContext) -> list[AccessEntry]:
    """203 entries appended to the node's log (its last leaf block partial)."""
    entries = [
        AccessEntry(
            recorded_at=node.now() + timedelta(seconds=n),
            node=str(node.node_id),
            action=Action.READ,
            channel=Channel.COUNTER,
            actor_kind=ActorKind.OPERATOR,
            actor=f"clerk{n % 7}",
            subject=None,
            reason="窓口業務",
        )
        for n in range(203)
    ]
    with node.uow() as uow:
        store.append_entries(uow.session, entries)
        uow.commit()
    return entries


def test_shared_reads_give_the_same_proofs(node: ServiceContext) -> None:
    entries = _log(node)
    with node.read_session() as session:
        for size in (1, 64, 65, 130, 203):
            positions = list(range(size))
            together = store.inclusion_proofs(session, positions, size)
            alone = [store.inclusion_proof(session, p, size) for p in positions]
            assert together == alone
        # Scattered entries: blocks read as separate runs, stored subtrees at several levels.
        for positions in ([5], [0, 130], [3, 70, 200], [64, 191, 192, 202], [202, 0, 65]):
            together = store.inclusion_proofs(session, positions, 203)
            assert together == [store.inclusion_proof(session, p, 203) for p in positions]
        root = store.root_at(session, 203)
        proofs = store.inclusion_proofs(session, [0, 63, 64, 127, 202], 203)
    for position, proof in zip([0, 63, 64, 127, 202], proofs, strict=True):
        check_inclusion(entry_leaf_hash(position, entries[position]), position, 203, proof, root)


def test_roots_and_consistency_proofs_read_together_match_the_leaves(
    node: ServiceContext,
) -> None:
    entries = _log(node)
    leaves = [entry_leaf_hash(n, entry) for n, entry in enumerate(entries)]
    with node.read_session() as session:
        for size in (1, 2, 63, 64, 65, 128, 129, 200, 203):
            assert store.root_at(session, size) == merkle_root(leaves[:size])
        for old, new in ((1, 203), (63, 64), (64, 129), (65, 203), (130, 200), (202, 203)):
            assert store.consistency_proof(session, old, new) == consistency_proof(
                leaves[:new], old
            )
