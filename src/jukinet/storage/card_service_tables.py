"""Tables of card services by ordinance (条例利用): the registry, the enrolments, the use counts.

The use counts hold no personal data at all — a service, a day and a number — so the public
transparency page can read them. An enrolment names the resident by the register's internal
id (never the resident code) and carries the service's own random identifier.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from jukinet.storage.table_base import Base, BigId, table_of


class CardServiceRow(Base):
    """One service the council enacted by ordinance (the code is never reused)."""

    __tablename__ = "card_services"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_ja: Mapped[str] = mapped_column(String(60))
    name_en: Mapped[str] = mapped_column(String(60))
    #: 条例名 — the ordinance that enacted the service.
    ordinance_name: Mapped[str] = mapped_column(String(120))
    enacted_on: Mapped[date] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[int] = mapped_column(ForeignKey("operators.id"))
    deactivated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    deactivated_by: Mapped[int | None] = mapped_column(ForeignKey("operators.id"))


class CardServiceEnrolmentRow(Base):
    """A resident's enrolment in one service, with the service's identifier for them.

    One row per (service, resident) for good: withdrawing marks it, enrolling again restores
    it, so the identifier is stable for the pair.
    """

    __tablename__ = "card_service_enrolments"
    __table_args__ = (UniqueConstraint("service_id", "resident_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("card_services.id"))
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"))
    #: The random identifier the service's terminals receive (never the resident code).
    service_identifier: Mapped[str] = mapped_column(String(32), unique=True)
    state: Mapped[str] = mapped_column(String(10))
    enrolled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    enrolled_by: Mapped[int] = mapped_column(ForeignKey("operators.id"))
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    withdrawn_by: Mapped[int | None] = mapped_column(ForeignKey("operators.id"))


class CardServiceUseRow(Base):
    """How many times a service's terminals accepted a card on one day (Japan time)."""

    __tablename__ = "card_service_uses"

    service_id: Mapped[int] = mapped_column(ForeignKey("card_services.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    count: Mapped[int] = mapped_column(Integer)


def count_use(session: Session, service_id: int, day: date) -> None:
    """Add one use to the service's count for ``day`` (an upsert: two terminals may race)."""
    table = table_of(CardServiceUseRow)
    values = {"service_id": service_id, "day": day, "count": 1}
    dialect = session.get_bind().dialect.name
    if dialect in ("postgresql", "sqlite"):
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = insert(table).values(values)
        session.execute(
            statement.on_conflict_do_update(
                index_elements=["service_id", "day"],
                set_={"count": table.c.count + 1},
            )
        )
        return
    # Any other database: update, else insert (the primary key still refuses a duplicate).
    result = session.execute(
        update(table)
        .where(table.c.service_id == service_id, table.c.day == day)
        .values(count=table.c.count + 1)
    )
    if getattr(result, "rowcount", 0) == 0:
        session.execute(table.insert().values(values))
