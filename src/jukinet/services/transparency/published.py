"""The transparency report's further figures: disconnects, opt-outs, card services' use, and
the witnessed tree heads this node publishes.

Like the rest of the report these are counts and public facts only (no resident, operator or
reason text): participation changes counted per month, opt-out and opt-back-in filings counted
per month, uses of the card services per month, and tree heads with who countersigned them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Final

from sqlalchemy import func, select

from jukinet.domain.clock import JST
from jukinet.domain.emergency import Action
from jukinet.services.card_services.figures import CardServiceFigures
from jukinet.services.context import ServiceContext
from jukinet.services.transparency.dialect import jst_month
from jukinet.services.transparency.figures import TransparencyStats
from jukinet.storage.emergency_tables import EmergencyEventRow
from jukinet.storage.participation_tables import ParticipationChangeRow
from jukinet.storage.tables import RegisterEventRow, TreeHeadRow
from jukinet.storage.trust_tables import HeadCountersignatureRow, WitnessedHeadRow

#: The participation states a change may enter that count as a disconnect.
DISCONNECTED_STATES: Final = frozenset({"disconnected"})


def _utc(day: date) -> datetime:
    """00:00 Japan time on ``day`` as a UTC instant (the report's months are JST months)."""
    return datetime.combine(day, time(0), JST).astimezone(UTC)


def _folded(labels: Sequence[str], counts: dict[str, int]) -> list[tuple[str, int]]:
    return [(label, counts.get(label, 0)) for label in labels]


def disconnects_by_month(node: ServiceContext, stats: TransparencyStats) -> list[tuple[str, int]]:
    """Disconnects per month of the report (JST): the municipality's participation changes
    into a disconnected state (``participation_changes``) plus every two-card emergency
    disconnect activated on this node (``emergency_events``; renewals are not new cuts).

    This is the one place the report counts disconnects: the chart, its table and its CSV follow.
    """
    start, end = _utc(stats.period_start), _utc(stats.period_end)
    month = jst_month(ParticipationChangeRow.changed_at)
    activated = jst_month(EmergencyEventRow.at)
    counts: dict[str, int] = {}
    with node.read_session() as session:
        rows = session.execute(
            select(month, func.count())
            .where(
                ParticipationChangeRow.state.in_(sorted(DISCONNECTED_STATES)),
                ParticipationChangeRow.changed_at >= start,
                ParticipationChangeRow.changed_at < end,
            )
            .group_by(month)
        ).all()
        cuts = session.execute(
            select(activated, func.count())
            .where(
                EmergencyEventRow.action == Action.ACTIVATE.value,
                EmergencyEventRow.at >= start,
                EmergencyEventRow.at < end,
            )
            .group_by(activated)
        ).all()
    for label, number in [*rows, *cuts]:
        counts[str(label)] = counts.get(str(label), 0) + int(number)
    return _folded(stats.month_labels, counts)


@dataclass(frozen=True, slots=True)
class OptOutCount:
    """Residents' opt-out and opt-back-in filings in a month."""

    month: str
    opt_outs: int
    opt_ins: int


def opt_outs_by_month(node: ServiceContext, stats: TransparencyStats) -> list[OptOutCount]:
    """Opt-out (``opt_out``) and opt-back-in (``opt_in``) filings per month (JST); zeros at a
    node without a register."""
    month = jst_month(RegisterEventRow.recorded_at)
    with node.read_session() as session:
        rows = session.execute(
            select(month, RegisterEventRow.kind, func.count())
            .where(
                RegisterEventRow.kind.in_(("opt_out", "opt_in")),
                RegisterEventRow.recorded_at >= _utc(stats.period_start),
                RegisterEventRow.recorded_at < _utc(stats.period_end),
            )
            .group_by(month, RegisterEventRow.kind)
        ).all()
    counts = {(str(m), str(kind)): int(n) for m, kind, n in rows}
    return [
        OptOutCount(label, counts.get((label, "opt_out"), 0), counts.get((label, "opt_in"), 0))
        for label in stats.month_labels
    ]


def card_uses_by_month(
    figures: Sequence[CardServiceFigures], month_labels: Sequence[str]
) -> list[tuple[str, int]]:
    """Uses of every card service together, per month of the report (zeros without a service)."""
    totals = dict.fromkeys(month_labels, 0)
    for figure in figures:
        for label, count in figure.uses_by_month:
            totals[label] = totals.get(label, 0) + count
    return [(label, totals[label]) for label in month_labels]


@dataclass(frozen=True, slots=True)
class PublishedHead:
    """A signed tree head and who witnessed it: this node's own, or one it countersigned."""

    node: str
    tree_size: int
    root_hash: str
    signed_at: str
    witnesses: tuple[str, ...]
    own: bool


def published_heads(node: ServiceContext) -> list[PublishedHead]:
    """This node's latest signed head with its witnesses, then the latest head of every node
    this node witnessed (countersigned), by node name."""
    heads: list[PublishedHead] = []
    with node.read_session() as session:
        own = session.scalars(select(TreeHeadRow).order_by(TreeHeadRow.tree_size.desc())).first()
        if own is not None:
            witnesses = session.scalars(
                select(HeadCountersignatureRow.witness)
                .where(HeadCountersignatureRow.tree_size == own.tree_size)
                .order_by(HeadCountersignatureRow.witness)
            ).all()
            heads.append(
                PublishedHead(
                    node=str(node.node_id),
                    tree_size=own.tree_size,
                    root_hash=bytes(own.root_hash).hex(),
                    signed_at=own.timestamp,
                    witnesses=tuple(witnesses),
                    own=True,
                )
            )
        latest = (
            select(WitnessedHeadRow.node, func.max(WitnessedHeadRow.tree_size).label("size"))
            .group_by(WitnessedHeadRow.node)
            .subquery()
        )
        rows = session.scalars(
            select(WitnessedHeadRow)
            .join(
                latest,
                (WitnessedHeadRow.node == latest.c.node)
                & (WitnessedHeadRow.tree_size == latest.c.size),
            )
            .order_by(WitnessedHeadRow.node)
        ).all()
        heads.extend(
            PublishedHead(
                node=row.node,
                tree_size=row.tree_size,
                root_hash=bytes(row.root_hash).hex(),
                signed_at=str(row.head.get("timestamp", "")),
                witnesses=(str(node.node_id),),
                own=False,
            )
            for row in rows
        )
    return heads
