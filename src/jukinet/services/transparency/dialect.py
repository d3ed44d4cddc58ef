"""The month of a timestamp in Japan time, computed by the database (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import String
from sqlalchemy.exc import CompileError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

__all__ = ["jst_month"]


class jst_month(FunctionElement[str]):  # noqa: N801 - reads like the SQL function it stands for
    """``YYYY-MM`` of a UTC timestamp column in Japan time (UTC+9, no daylight saving).

    Timestamps are stored in UTC on both backends (SQLite keeps the UTC wall time as text,
    PostgreSQL a ``timestamptz``), so shifting by nine hours and formatting gives the JST
    month without the database's time-zone tables or session time zone.
    """

    type = String()
    name = "jst_month"
    inherit_cache = True


@compiles(jst_month, "sqlite")
def _jst_month_sqlite(element: jst_month, compiler: SQLCompiler, **kw: Any) -> str:
    (column,) = element.clauses
    # SQLite's date functions round fractional seconds to milliseconds, which would move
    # 23:59:59.9995 into the next day (and month): cut the text to whole seconds first.
    return f"strftime('%Y-%m', substr({compiler.process(column, **kw)}, 1, 19), '+9 hours')"


@compiles(jst_month, "postgresql")
def _jst_month_postgresql(element: jst_month, compiler: SQLCompiler, **kw: Any) -> str:
    (column,) = element.clauses
    # AT TIME ZONE 'UTC' turns the timestamptz into UTC wall time whatever the session's zone.
    return (
        f"to_char(({compiler.process(column, **kw)} AT TIME ZONE 'UTC') "
        "+ INTERVAL '9 hours', 'YYYY-MM')"
    )


@compiles(jst_month)
def _jst_month_other(element: jst_month, compiler: SQLCompiler, **kw: Any) -> str:
    # The project's two stores are SQLite and PostgreSQL; any other dialect is refused when the
    # statement is compiled, with SQLAlchemy's own error, rather than given a wrong month.
    raise CompileError(
        f"jst_month is defined for SQLite and PostgreSQL, not {compiler.dialect.name}"
    )
