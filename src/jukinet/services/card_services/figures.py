"""What the transparency page publishes of card services: each service, its ordinance and
how often its terminals accepted a card (domain.md §9, question 4: what the card is used for).

The counts table holds a service, a day and a number, nothing more; the registry holds public
facts (the council's ordinances). Nothing here names a resident, an operator or a terminal.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from jukinet.services.card_services.registry import CardServiceView, view_of
from jukinet.services.context import ServiceContext
from jukinet.storage.card_service_tables import CardServiceRow, CardServiceUseRow


@dataclass(frozen=True, slots=True)
class CardServiceFigures:
    """One service with its uses per month (``YYYY-MM``, Japan time) over the report's period."""

    service: CardServiceView
    uses_by_month: tuple[tuple[str, int], ...]

    @property
    def total(self) -> int:
        """Uses over the whole period."""
        return sum(count for _month, count in self.uses_by_month)

    @property
    def latest(self) -> int:
        """Uses in the period's last month (this month)."""
        return self.uses_by_month[-1][1] if self.uses_by_month else 0


def _month(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def card_service_figures(
    node: ServiceContext, *, month_labels: tuple[str, ...], start: date, end: date
) -> list[CardServiceFigures]:
    """Every registered service with its uses per month of ``month_labels`` (days in
    ``[start, end)``), active services first. Read-only and public.
    """
    with node.read_session() as session:
        services = session.scalars(
            select(CardServiceRow).order_by(CardServiceRow.active.desc(), CardServiceRow.code)
        ).all()
        # Already one row per service and day: folding days into months here reads at most
        # a few thousand small rows a service, whatever the number of uses.
        uses = session.execute(
            select(
                CardServiceUseRow.service_id, CardServiceUseRow.day, CardServiceUseRow.count
            ).where(CardServiceUseRow.day >= start, CardServiceUseRow.day < end)
        ).all()
        views = [(row.id, view_of(row)) for row in services]
    totals: dict[tuple[int, str], int] = defaultdict(int)
    for service_id, day, count in uses:
        totals[(service_id, _month(day))] += int(count)
    return [
        CardServiceFigures(
            service=view,
            uses_by_month=tuple((m, totals[(service_id, m)]) for m in month_labels),
        )
        for service_id, view in views
    ]
