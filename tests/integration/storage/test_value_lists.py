"""One-parameter value lists on SQLite and PostgreSQL: exactly the rows an IN list would give."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from sqlalchemy import (
    Column,
    ColumnElement,
    Date,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    insert,
    select,
)

from jukinet.storage.database import make_engine
from jukinet.storage.value_lists import column_in, pair_in

_META = MetaData()
_PEOPLE = Table(
    "value_list_people",
    _META,
    Column("id", Integer, primary_key=True),
    Column("key", String(40)),
    Column("born", Date),
)
_KEYS = ["ヤマダタロウ", "o'brien", 'quote"d', "髙橋一郎", "𠮷田", "a,b", "[x]", "plain"]


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    _META.create_all(engine)
    rng = random.Random(7)
    rows = [
        {"id": i, "key": rng.choice(_KEYS), "born": date(1950, 1, 1) + timedelta(rng.randrange(9))}
        for i in range(400)
    ]
    with engine.begin() as conn:
        conn.execute(insert(_PEOPLE), rows)
    yield engine
    _META.drop_all(engine)
    engine.dispose()


def _ids(engine: Engine, condition: ColumnElement[bool]) -> set[int]:
    with engine.connect() as conn:
        return set(conn.scalars(select(_PEOPLE.c.id).where(condition)))


def test_column_in_matches_an_in_list(engine: Engine) -> None:
    dialect = engine.dialect.name
    for wanted in (_KEYS[:3], _KEYS[3:], ["nobody"], _KEYS * 500):
        expected = _ids(engine, _PEOPLE.c.key.in_(wanted))
        assert _ids(engine, column_in(_PEOPLE.c.key, wanted, dialect)) == expected
    assert _ids(engine, column_in(_PEOPLE.c.key, ["nobody"], dialect)) == set()


def test_pair_in_matches_both_columns_together(engine: Engine) -> None:
    dialect = engine.dialect.name
    pairs = [(key, date(1950, 1, 1) + timedelta(days)) for key in _KEYS[::2] for days in (0, 3)]
    with engine.connect() as conn:
        expected = {
            row.id for row in conn.execute(select(_PEOPLE)) if (row.key, row.born) in set(pairs)
        }
    assert expected  # the fixture holds some of them
    assert _ids(engine, pair_in(_PEOPLE.c.key, _PEOPLE.c.born, pairs, dialect)) == expected
    one = [("o'brien", date(1949, 12, 31))]  # a key that exists, a day that does not
    assert _ids(engine, pair_in(_PEOPLE.c.key, _PEOPLE.c.born, one, dialect)) == set()
