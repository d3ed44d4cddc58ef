"""The unit of work: one transaction around one use case."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from jukinet.domain.errors import Conflict

# Registers the commit hook that appends queued access-log entries in every transaction.
from jukinet.storage import access_log as _access_log  # noqa: F401
from jukinet.storage.repositories import (
    CodePoolRepository,
    EventRepository,
    HouseholdRepository,
    OperatorRepository,
    OutboxRepository,
    ResidentRepository,
)


class UnitOfWork:
    """Opens a session, exposes the repositories, commits on success and rolls back otherwise.

    Nothing is written unless :meth:`commit` is called, so a failed operation leaves the register
    as it was.
    """

    session: Session

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._session_factory = session_factory

    @classmethod
    def joining(cls, session: Session) -> UnitOfWork:
        """Repositories over a session someone else owns (and commits): e.g. the inbox, whose
        acknowledgement and the register change it causes must commit together."""
        uow = cls.__new__(cls)
        uow._attach(session)
        return uow

    def __enter__(self) -> UnitOfWork:
        self._attach(self._session_factory())
        return self

    def _attach(self, session: Session) -> None:
        self.session = session
        self.residents = ResidentRepository(self.session)
        self.households = HouseholdRepository(self.session)
        self.events = EventRepository(self.session)
        self.codes = CodePoolRepository(self.session)
        self.outbox = OutboxRepository(self.session)
        self.operators = OperatorRepository(self.session)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # close() rolls back whatever was not committed and detaches objects without expiring
        # them, so values read inside the unit of work stay readable after it.
        self.session.close()

    def flush(self) -> None:
        """Write pending changes inside the transaction; a stale version becomes a Conflict."""
        try:
            self.session.flush()
        except StaleDataError as error:
            self.session.rollback()
            raise _stale_conflict() from error

    def commit(self) -> None:
        """Commit the transaction; a stale version becomes a Conflict and nothing is written."""
        try:
            self.session.commit()
        except StaleDataError as error:
            self.session.rollback()
            raise _stale_conflict() from error

    def rollback(self) -> None:
        """Discard everything done in this unit of work."""
        self.session.rollback()


def _stale_conflict() -> Conflict:
    return Conflict(
        "JUKI-REG-011",
        ja="この住民票は他の操作者によって更新されました。最新の内容を確認してください。",
        en="Another operator has changed this record; reload it and try again.",
        field="version",
    )
