"""The writes every card-service use case shares: the registry lookup and the access log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from jukinet.domain import card_services as rules
from jukinet.domain.access_log import AccessEntry, Action, ActorKind, Channel
from jukinet.domain.card_services import CardService
from jukinet.services.context import ServiceContext
from jukinet.storage import access_log
from jukinet.storage.card_service_tables import CardServiceRow

#: The item an access-log entry of card-service work names.
SERVICE_ITEMS = ("card_service",)


def to_service(row: CardServiceRow) -> CardService:
    """The domain's view of a registry row."""
    return CardService(
        code=row.code,
        name_ja=row.name_ja,
        name_en=row.name_en,
        ordinance_name=row.ordinance_name,
        enacted_on=row.enacted_on,
        active=row.active,
    )


def find_service(session: Session, code: str) -> CardServiceRow | None:
    """The registry's service with ``code``, or ``None``."""
    return session.scalars(select(CardServiceRow).where(CardServiceRow.code == code)).one_or_none()


def load_service(session: Session, code: str, *, field: str = "code") -> CardServiceRow:
    """The registry's service with ``code``; refuses a malformed or unknown code."""
    rules.validate_service_code(code, field=field)
    row = find_service(session, code)
    if row is None:
        raise rules.unknown_service(field)
    return row


@dataclass
class ServiceLog:
    """Who is acting, for the access-log entries of one use case (same transaction)."""

    node: ServiceContext
    now: datetime
    actor: str
    actor_kind: ActorKind = ActorKind.OPERATOR
    terminal: str | None = None

    def record(
        self,
        session: Session,
        *,
        action: Action,
        reason: str,
        subject: str | None = None,
    ) -> None:
        """One entry: ``subject`` is the resident code when the entry is about a resident.

        ``reason`` names the service code and what happened, never anything personal.
        """
        access_log.record(
            session,
            [
                AccessEntry(
                    recorded_at=self.now,
                    node=str(self.node.node_id),
                    action=action,
                    channel=Channel.COUNTER,
                    actor_kind=self.actor_kind,
                    actor=self.actor[:80],
                    subject=subject,
                    reason=reason[:200],
                    items=SERVICE_ITEMS if subject is not None else (),
                    terminal=self.terminal[:40] if self.terminal else None,
                )
            ],
        )
