"""Matching a column against thousands of values with one bound parameter.

An ``IN (…)`` list binds one parameter per value: for a batch chunk of 5,000 codes the driver
and SQLAlchemy spend more time rendering and converting those parameters than the database
spends finding the rows. Here the whole list is one parameter — a PostgreSQL array unnested
on the server, or a JSON array read by SQLite's ``json_each`` — so the statement's text (and
SQLAlchemy's compiled-statement cache entry) is the same whatever the list's length.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Date, String, bindparam, func, literal_column, select, tuple_
from sqlalchemy.dialects.postgresql import ARRAY


def column_in(
    column: ColumnElement[Any] | Any, values: Sequence[str], dialect: str
) -> ColumnElement[bool]:
    """``column IN values`` for text ``values``, bound as one parameter."""
    if dialect == "postgresql":
        listed = select(func.unnest(bindparam("listed", list(values), type_=ARRAY(String))))
        return column.in_(listed.scalar_subquery())
    listed_json = bindparam("listed", orjson.dumps(list(values)).decode(), type_=String)
    return column.in_(
        select(literal_column("value")).select_from(func.json_each(listed_json)).scalar_subquery()
    )


def pair_in(
    text_column: ColumnElement[Any] | Any,
    date_column: ColumnElement[Any] | Any,
    pairs: Sequence[tuple[str, date]],
    dialect: str,
) -> ColumnElement[bool]:
    """``(text_column, date_column) IN pairs``, bound as one parameter (or two on PostgreSQL)."""
    if dialect == "postgresql":
        keys = bindparam("listed_keys", [key for key, _ in pairs], type_=ARRAY(String))
        days = bindparam("listed_days", [day for _, day in pairs], type_=ARRAY(Date))
        listed = select(func.unnest(keys, days).table_valued("k", "d").render_derived())
        return tuple_(text_column, date_column).in_(listed)
    listed_json = bindparam(
        "listed",
        orjson.dumps([[key, day.isoformat()] for key, day in pairs]).decode(),
        type_=String,
    )
    # SQLite keeps dates as ISO text, so the pair compares as two texts.
    each = func.json_each(listed_json).table_valued("value")
    listed = select(
        func.json_extract(each.c.value, "$[0]"), func.json_extract(each.c.value, "$[1]")
    )
    return tuple_(text_column, date_column).in_(listed)
