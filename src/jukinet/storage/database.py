"""Engines and sessions for SQLite (embedded default) and PostgreSQL (production)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

import orjson
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from jukinet.storage.private_files import private_file
from jukinet.storage.writer_queue import WriterQueue, queue_for


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the driver, decide when transactions begin (see _sqlite_begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # WAL lets the pages read while a clerk writes; foreign keys are off by default in SQLite.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Writers of this process queue in the WriterQueue; the busy timeout only covers the short
    # hand-over between a commit and the next BEGIN, and writers in other processes (the CLI).
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.close()


#: SQLite's own wait for the write lock (milliseconds).
BUSY_TIMEOUT_MS: Final = 60_000
#: Execution option of connections that only read (reports, alerts, ledgers).
READ_ONLY = "jukinet_read_only"
#: Where a connection keeps the writer queue whose turn it holds (its pool record's info).
_TURN = "jukinet_writer_turn"


def _sqlite_begin(queue: WriterQueue) -> Callable[[Any], None]:
    def begin(connection: Any) -> None:
        if connection.get_execution_options().get(READ_ONLY):
            # A report reads a WAL snapshot and never writes: a deferred transaction takes no
            # write lock, so a long aggregation does not hold up the counter.
            connection.exec_driver_sql("BEGIN")
            return
        # A deferred transaction that reads and then writes fails at once with "database is
        # locked" when another writer committed in between; taking the write lock up front
        # makes concurrent clerks queue and then see each other's committed versions. The
        # queue makes the wait fair and bounded by our timeout, not SQLite's polling.
        queue.acquire()
        connection.info[_TURN] = queue
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            _end_turn(connection.info)
            raise

    return begin


def _end_turn(info: dict[str, Any]) -> None:
    queue = info.pop(_TURN, None)
    if queue is not None:
        queue.release()


def _end_turn_of_connection(connection: Any) -> None:
    _end_turn(connection.info)


def _end_turn_of_record(_dbapi_connection: Any, record: Any) -> None:
    # Safety net: a connection going back to the pool (or away) never keeps the turn.
    if record is not None:
        _end_turn(record.info)


def _end_turn_on_reset(dbapi_connection: Any, record: Any, _reset_state: Any) -> None:
    _end_turn_of_record(dbapi_connection, record)


def _end_turn_on_invalidate(dbapi_connection: Any, record: Any, _exception: Any) -> None:
    _end_turn_of_record(dbapi_connection, record)


def _queue_writers(engine: Engine, database: str) -> None:
    queue = queue_for(database)
    event.listen(engine, "begin", _sqlite_begin(queue))
    # Released when the transaction ends. The COMMIT itself runs just after this event; the
    # next writer's BEGIN IMMEDIATE waits out that moment in busy_timeout.
    event.listen(engine, "commit", _end_turn_of_connection)
    event.listen(engine, "rollback", _end_turn_of_connection)
    event.listen(engine.pool, "reset", _end_turn_on_reset)
    event.listen(engine.pool, "checkin", _end_turn_of_record)
    event.listen(engine.pool, "invalidate", _end_turn_on_invalidate)
    event.listen(engine.pool, "close", _end_turn_of_record)


def _plain_begin(connection: Any) -> None:
    # An in-memory database belongs to one connection: nobody to queue behind.
    read_only = connection.get_execution_options().get(READ_ONLY)
    connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url``; creates the SQLite file's folder and sets its pragmas."""
    parsed = make_url(url)
    # JSON columns (the access log's detail, message bodies) are read back in bulk by audits;
    # orjson parses them several times faster than the standard library and to the same values.
    kwargs.setdefault("json_deserializer", orjson.loads)
    # A database error's text would otherwise quote the statement's parameters — residents'
    # names and addresses — into whatever logs it (uvicorn logs unhandled errors in full).
    kwargs.setdefault("hide_parameters", True)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            # SQLite creates its -wal and -shm files with the database file's mode.
            private_file(Path(parsed.database))
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        if parsed.database and parsed.database != ":memory:":
            _queue_writers(engine, parsed.database)
        else:
            event.listen(engine, "begin", _plain_begin)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


#: PostgreSQL's SQLSTATE for "disk full" (class 53, insufficient resources).
_PG_DISK_FULL = "53100"


def is_storage_full(error: BaseException) -> bool:
    """Whether a database error says there is no room left: SQLite's SQLITE_FULL (the disk or
    the file's page limit) or PostgreSQL's disk_full. The failed transaction wrote nothing."""
    cause = getattr(error, "orig", None) or error
    if isinstance(cause, sqlite3.Error):
        return getattr(cause, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL
    return getattr(cause, "sqlstate", None) == _PG_DISK_FULL


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded values after commit (services return what they wrote)."""
    return sessionmaker(bind=engine, expire_on_commit=False)
