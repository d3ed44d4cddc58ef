"""An insider with database access rewrites one entry of a node's own access log."""

from __future__ import annotations

from sqlalchemy import delete, insert, select, update

from jukinet.domain.access_log import entry_leaf_hash
from jukinet.domain.audit_math import MerkleFrontier
from jukinet.services.context import ServiceContext
from jukinet.storage import access_log as store
from jukinet.storage.tables import AccessLogRow, AccessLogStateRow, AccessLogSubtreeRow


def rewrite_entry(
    node: ServiceContext, position: int, *, reason: str = "nothing happened here"
) -> None:
    """Change the reason of entry ``position`` and make every stored hash agree with it.

    What a careful forger does to hide a read: the entry, its leaf hash, each stored subtree
    over it and the tree's frontier are rewritten in one transaction that holds the log's lock
    (as an append does), so the node's own checks find nothing wrong while it keeps running.
    Only a head someone else holds can tell.
    """
    with node.session_factory() as session, session.begin():
        session.execute(select(AccessLogStateRow.frontier).with_for_update())
        row = session.get(AccessLogRow, position)
        assert row is not None, f"no access-log entry at {position}"
        row.reason = reason
        session.flush()
        row.leaf_hash = entry_leaf_hash(position, store.entry_of_row(row))
        session.flush()
        frontier = MerkleFrontier()
        subtrees = []
        for leaf in session.scalars(select(AccessLogRow.leaf_hash).order_by(AccessLogRow.position)):
            for finished in frontier.append(bytes(leaf)):
                if finished.level >= store.STORED_LEVEL:
                    subtrees.append(
                        {"level": finished.level, "position": finished.index, "hash": finished.hash}
                    )
        session.execute(delete(AccessLogSubtreeRow))
        if subtrees:
            session.execute(insert(AccessLogSubtreeRow), subtrees)
        session.execute(update(AccessLogStateRow).values(frontier=frontier.to_dict()))
