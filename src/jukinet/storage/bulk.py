"""The one bulk writer: many rows in the caller's transaction, as fast as the driver allows.

Every hot path that appends rows by the thousand — the access log, the synthetic population,
the identity store's history and inbox, forwarded and queued messages — writes through here.
PostgreSQL gets ``COPY`` (several times faster than INSERT, indexes and all, on the same
connection and transaction); SQLite gets the driver's ``executemany``. Both skip Core's
per-row parameter bookkeeping, which costs more than the database's own work at this volume.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, Final, NamedTuple

from sqlalchemy import Dialect, Table, insert
from sqlalchemy.orm import Session
from sqlalchemy.sql.schema import ScalarElementColumnDefault

from jukinet.storage.tables import Base, table_of

#: Fewer rows than this go by executemany on PostgreSQL: COPY's extra round trip costs more.
COPY_FROM: Final = 50

_BUFFERS = "jukinet.bulk_buffers"


def insert_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts of column values) into ``table`` in the caller's transaction.

    Equivalent to ``session.execute(insert(table), rows)`` — the same columns, the same per-type
    bind processors (dates on SQLite, JSON everywhere) and the columns' scalar defaults for
    values not given. Every row must have the keys of the first.
    """
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    keys = list(rows[0])
    # inline(): no RETURNING of the new primary keys, which executemany would discard anyway.
    compiled = insert(table).inline().compile(dialect=dialect, column_keys=keys)
    names = list(compiled.positiontup or ()) if dialect.positional else list(compiled.binds)
    defaults: dict[str, Any] = {}
    for name in names:
        if name in keys:
            continue
        default = table.c[name].default
        if not isinstance(default, ScalarElementColumnDefault):
            raise RuntimeError(f"no value for {table.name}.{name}")
        defaults[name] = default.arg
    convert = [
        (name, table.c[name].type.dialect_impl(dialect).bind_processor(dialect)) for name in names
    ]

    def value(row: dict[str, Any], name: str, process: Callable[[Any], Any] | None) -> Any:
        raw = row[name] if name in row else defaults[name]
        return raw if process is None else process(raw)

    if dialect.name == "postgresql":
        prepared = [tuple(value(row, n, p) for n, p in convert) for row in rows]
        insert_prepared(session, table, names, prepared)
        return
    params: list[Any]
    if dialect.positional:
        params = [tuple(value(row, n, p) for n, p in convert) for row in rows]
    else:
        params = [{n: value(row, n, p) for n, p in convert} for row in rows]
    connection.exec_driver_sql(compiled.string, params)


def insert_prepared(
    session: Session, table: Table, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    """Insert tuples whose values are already in the driver's form, in ``columns`` order.

    For callers that build their rows' stored values themselves (the access log hashes exactly
    the bytes it stores). PostgreSQL: ``COPY`` from :data:`COPY_FROM` rows, else executemany;
    SQLite: executemany.
    """
    if not rows:
        return
    connection = session.connection()
    driver: Any = connection.connection.driver_connection
    if driver is None:  # pragma: no cover - a pooled connection always has one
        raise RuntimeError("no database connection")
    statements = _statements(connection.dialect, table, tuple(columns))
    if connection.dialect.name == "postgresql":
        with driver.cursor() as cursor:
            if len(rows) < COPY_FROM:
                cursor.executemany(statements.insert, rows)
                return
            with cursor.copy(statements.copy) as copy:
                for row in rows:
                    copy.write_row(row)
        return
    driver.executemany(statements.insert, rows)


class _Statements(NamedTuple):
    insert: str
    copy: str


@functools.cache
def _statements(dialect: Dialect, table: Table, columns: tuple[str, ...]) -> _Statements:
    """The driver-level INSERT and COPY of ``columns`` (built once per table and dialect: an
    online query appends one log row, and rebuilding the text each time is measurable)."""
    preparer = dialect.identifier_preparer
    quoted = ", ".join(preparer.quote(name) for name in columns)
    target = preparer.format_table(table)
    marker = "%s" if dialect.name == "postgresql" else "?"
    placeholders = ", ".join(marker for _ in columns)
    # Table and column names come from the table's metadata, never from input.
    return _Statements(
        insert=f"INSERT INTO {target} ({quoted}) VALUES ({placeholders})",  # noqa: S608
        copy=f"COPY {target} ({quoted}) FROM STDIN",
    )


def start_buffering(session: Session) -> None:
    """Collect append-only rows in this session for one bulk insert per table.

    Building thousands of ORM objects per batch costs more than the database work; rows nobody
    reads back inside the batch are collected as plain values and written by
    :func:`flush_buffers`.
    """
    session.info[_BUFFERS] = {}


def buffer_for(session: Session, model: type[Base]) -> list[dict[str, Any]] | None:
    """The buffer for ``model``'s table while buffering is on, else ``None``."""
    buffers: dict[type[Base], list[dict[str, Any]]] | None = session.info.get(_BUFFERS)
    if buffers is None:
        return None
    return buffers.setdefault(model, [])


def add_row(session: Session, model: type[Base], values: dict[str, Any]) -> None:
    """Buffer ``values`` while buffering is on, else add the row to the session (ORM)."""
    buffered = buffer_for(session, model)
    if buffered is not None:
        buffered.append(values)
        return
    session.add(model(**values))


def flush_buffers(session: Session) -> None:
    """Write the buffered rows (tables in the order first buffered) and stop buffering."""
    buffers: dict[type[Base], list[dict[str, Any]]] = session.info.pop(_BUFFERS, {})
    session.flush()
    for model, rows in buffers.items():
        insert_rows(session, table_of(model), rows)
