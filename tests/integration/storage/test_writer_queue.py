"""SQLite's writers take turns instead of failing (issue 11, finding 6).

SQLite has one write lock per file. Before, a writer that waited longer than ``busy_timeout``
(10 s) got "database is locked", a bare 500 on the web. Now every write transaction of a process
queues for its turn, first come first served, and only a wait past the queue's own limit fails
— as a 503 with Retry-After, never a 500.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from jukinet.domain.operators import Role
from jukinet.services.context import ServiceContext
from jukinet.storage.database import READ_ONLY, make_engine
from jukinet.storage.writer_queue import (
    WRITER_WAIT_SECONDS,
    WriterQueue,
    WriterQueueTimeout,
    queue_for,
)
from jukinet.web.app import create_app
from tests.support.factories import api_headers, make_actor


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    """A SQLite file with one table, through the project's engine setup."""
    built = make_engine(f"sqlite:///{tmp_path / 'queue.sqlite3'}")
    with built.begin() as conn:
        conn.execute(text("CREATE TABLE writes (writer INTEGER, n INTEGER)"))
    yield built
    built.dispose()


def _write(engine: Engine, writer: int, n: int, hold: float = 0.0) -> None:
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO writes VALUES (:w, :n)"), {"w": writer, "n": n})
        time.sleep(hold)


def _wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def _waiting(queue: WriterQueue, count: int) -> bool:
    return queue.waiting == count


def test_writers_are_served_in_the_order_they_arrive() -> None:
    queue = WriterQueue(timeout=10)
    queue.acquire()
    served: list[int] = []

    def writer(number: int) -> None:
        queue.acquire()
        served.append(number)
        queue.release()

    threads = []
    for number in range(8):
        thread = threading.Thread(target=writer, args=(number,))
        thread.start()
        threads.append(thread)
        _wait_for(functools.partial(_waiting, queue, number + 1))
    queue.release()
    for thread in threads:
        thread.join(timeout=10)
    assert served == list(range(8))


def test_a_writer_that_waits_too_long_gives_up_and_the_queue_keeps_working() -> None:
    queue = WriterQueue(timeout=0.2)
    queue.acquire()
    with pytest.raises(WriterQueueTimeout):
        queue.acquire()
    assert queue.waiting == 0
    queue.release()
    queue.acquire()  # free again at once
    queue.release()


def test_a_writer_holding_the_lock_longer_than_busy_timeout_makes_others_wait_not_fail(
    engine: Engine,
) -> None:
    errors: list[BaseException] = []

    def run(writer: int, hold: float, count: int) -> None:
        try:
            for n in range(count):
                _write(engine, writer, n, hold)
        except BaseException as error:  # counted, and the test fails on it
            errors.append(error)

    # Writer 0 holds each turn for 11 s: longer than the old 10 s busy_timeout.
    slow = threading.Thread(target=run, args=(0, 11.0, 1))
    slow.start()
    time.sleep(0.5)  # the slow writer has its turn
    others = [threading.Thread(target=run, args=(w, 0.001, 20)) for w in range(1, 7)]
    for thread in others:
        thread.start()
    # Readers are not writers: a report reads its snapshot while the writer holds the lock.
    started = time.monotonic()
    with engine.execution_options(**{READ_ONLY: True}).connect() as conn:
        conn.execute(text("SELECT count(*) FROM writes")).scalar()
    assert time.monotonic() - started < 1.0
    for thread in [slow, *others]:
        thread.join(timeout=120)
    assert errors == []
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM writes")).scalar() == 1 + 6 * 20


def test_a_failed_or_abandoned_transaction_hands_the_turn_on(engine: Engine) -> None:
    queue = queue_for(str(make_url(str(engine.url)).database))

    def failing() -> None:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO writes VALUES (1, 1)"))
            raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):
        failing()
    conn = engine.connect()
    conn.execute(text("INSERT INTO writes VALUES (2, 2)"))
    conn.close()  # never committed: rolled back when it goes back to the pool
    queue.timeout = 0.5
    try:
        _write(engine, 3, 3)  # would time out if either had kept the turn
    finally:
        queue.timeout = WRITER_WAIT_SECONDS
    with engine.connect() as check:
        assert check.execute(text("SELECT writer FROM writes")).scalars().all() == [3]


def test_a_request_that_waits_out_its_turn_is_answered_503_with_retry_after(
    node: ServiceContext, database_url: str
) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("the write queue is SQLite's")
    make_actor(node, Role.CLERK, username="clerk1")
    queue = queue_for(str(make_url(database_url).database))
    with TestClient(create_app(node)) as client:
        queue.acquire()  # another writer's long transaction
        queue.timeout = 0.3
        try:
            # Asking for a sign-in challenge stores it: a write.
            answer = client.post("/api/v1/auth/challenge")
        finally:
            queue.timeout = WRITER_WAIT_SECONDS
            queue.release()
        assert answer.status_code == 503
        assert answer.headers["Retry-After"] == "5"
        assert answer.json()["errors"][0]["code"] == "JUKI-API-004"
        after = client.get(
            "/api/v1/residents", params={"name": "ヤマダ"}, headers=api_headers(client, "clerk1")
        )
        assert after.status_code == 200
