"""kill -9 of each role while clerks file changes: every change arrives once, in order.

Three node processes (Nishitokyo → Tokyo → the centre) on the backend under test. Two clerks
file 転居 (moves within the town) through the municipality's own HTTP API, one request after
another, while the test SIGKILLs one node — the municipality itself (the clerks' requests then
fail until it is back), the prefecture, or the centre — and restarts it a second later. Then
the clerks go on filing for a while and stop.

Truth is the municipality's database: each filing it committed wrote one identity notice to its
outbox in the same transaction. Once the network settles, the centre and the prefecture must
hold, for every resident, exactly those notices in that order (counted: lost, duplicated,
out of order = 0), and every filing the API acknowledged must be among them (a 200 is durable,
even when the process is killed right after). A request cut off by the kill is "in doubt": it
is either wholly in the outbox (and then delivered) or wholly absent.

Covered elsewhere and not repeated: the prefecture killed during a 10,000-resident bulk load and
a link down while changes queue (tests/e2e/test_network_processes.py::
test_prefecture_killed_mid_stream_loses_and_duplicates_nothing and ::
test_changes_made_while_the_link_is_down_arrive_in_order).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from jukinet.domain.clock import japan_date
from jukinet.domain.messages import MessageKind
from jukinet.domain.operators import Role
from jukinet.runtime.cluster import Cluster
from jukinet.services.context import ServiceContext
from jukinet.services.operators import add_operator, authenticate
from jukinet.storage.tables import IdentityHistoryRow, OutboxRow
from tests.support.cards import api_token, lend_token_card
from tests.support.databases import running_cluster
from tests.support.factories import move_in_household, person
from tests.support.network import real_now

pytestmark = pytest.mark.e2e

TOWN = "municipality:132292"
TOKYO = "prefecture:13"
CENTRE = "national:jlis"
PASSWORD = "kill test password long enough"
HOUSEHOLDS = 6
CLERKS = 2
#: How long the clerks file before the kill, and after the restart.
FILING_SECONDS = (3.0, 3.0)
NOTICE = OutboxRow.kind == MessageKind.IDENTITY_NOTICE.value


@dataclass(eq=False)  # a thread must stay hashable
class Clerk(threading.Thread):
    """Files moves within the town, round robin over its households, until stopped."""

    base_url: str
    headers: dict[str, str]
    households: list[str]
    name_tag: str
    stopping: threading.Event = field(default_factory=threading.Event)
    acknowledged: list[str] = field(default_factory=list)
    in_doubt: list[str] = field(default_factory=list)
    refused: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        threading.Thread.__init__(self, name=f"clerk-{self.name_tag}", daemon=True)

    def run(self) -> None:
        """File until told to stop; a dead node is waited for, not counted as a filing."""
        today = japan_date(real_now()).isoformat()
        number = 0
        with httpx.Client(base_url=self.base_url, headers=self.headers, timeout=30) as client:
            while not self.stopping.is_set():
                number += 1
                household = self.households[number % len(self.households)]
                address = f"東京都西東京市田無町{self.name_tag}丁目{number}番1号"
                body = {
                    "household_number": household,
                    "address": address,
                    "moved_on": today,
                    "filed_on": today,
                }
                try:
                    answer = client.post("/api/v1/events/move-within", json=body)
                except httpx.ConnectError:
                    time.sleep(0.1)  # nothing was sent: the node is down
                    continue
                except httpx.TransportError:
                    self.in_doubt.append(address)  # cut off mid-request by the kill
                    time.sleep(0.1)
                    continue
                if answer.status_code == 200:
                    self.acknowledged.append(address)
                else:
                    self.refused.append(answer.status_code)


@pytest.fixture
def cluster(tmp_path: Path, database_url: str) -> Iterator[Cluster]:
    """Three node processes on the backend of ``database_url``."""
    with running_cluster(tmp_path / "cluster", database_url, (CENTRE, TOKYO, TOWN)) as built:
        yield built


def _count(node: ServiceContext, table: type, *where: object) -> int:
    with node.session_factory() as session:
        return int(session.scalar(select(func.count()).select_from(table).where(*where)) or 0)


def _wait(condition: Callable[[], bool], *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _filed(town: ServiceContext) -> dict[str, list[dict[str, Any]]]:
    """The identity of every notice the municipality committed, per resident, in filing order."""
    with town.session_factory() as session:
        rows = session.execute(
            select(OutboxRow.subject, OutboxRow.body).where(NOTICE).order_by(OutboxRow.id)
        ).all()
    filed: dict[str, list[dict[str, Any]]] = {}
    for subject, body in rows:
        filed.setdefault(str(subject), []).append(body["identity"])
    return filed


def _received(node: ServiceContext) -> dict[str, list[dict[str, Any]]]:
    """The identity of every notice a tier applied, per resident, in version order."""
    with node.session_factory() as session:
        rows = session.execute(
            select(IdentityHistoryRow.resident_code, IdentityHistoryRow.identity).order_by(
                IdentityHistoryRow.resident_code, IdentityHistoryRow.version
            )
        ).all()
    received: dict[str, list[dict[str, Any]]] = {}
    for code, identity in rows:
        received.setdefault(str(code), []).append(identity)
    return received


def _compare(
    filed: dict[str, list[dict[str, Any]]], received: dict[str, list[dict[str, Any]]]
) -> dict[str, int]:
    """Lost, duplicated and out-of-order notices of ``received`` against ``filed``."""
    lost = duplicated = out_of_order = 0
    for code in filed.keys() | received.keys():
        sent, got = filed.get(code, []), received.get(code, [])
        keys_sent = [tuple(sorted(i.items())) for i in sent]
        keys_got = [tuple(sorted(i.items())) for i in got]
        lost += sum(1 for k in set(keys_sent) if keys_got.count(k) < keys_sent.count(k))
        duplicated += sum(1 for k in set(keys_got) if keys_got.count(k) > keys_sent.count(k))
        if not lost and not duplicated and keys_got != keys_sent:
            out_of_order += 1
    return {"lost": lost, "duplicated": duplicated, "out_of_order": out_of_order}


def _settled(handles: dict[str, ServiceContext]) -> bool:
    town, tokyo, centre = handles[TOWN], handles[TOKYO], handles[CENTRE]
    pending = _count(town, OutboxRow, NOTICE, OutboxRow.delivered_at.is_(None)) + _count(
        tokyo, OutboxRow, NOTICE, OutboxRow.delivered_at.is_(None)
    )
    return pending == 0 and _count(centre, IdentityHistoryRow) == _count(town, OutboxRow, NOTICE)


def _households(town: ServiceContext) -> list[str]:
    clerk = authenticate(town, username="clerk", password=PASSWORD)
    numbers = []
    for index in range(HOUSEHOLDS):
        moved = move_in_household(town, clerk, person(rng=random.Random(900 + index)))
        numbers.append(moved.records[0].record.household_number)
    return numbers


@pytest.mark.parametrize(
    "victim", [TOWN, TOKYO, CENTRE], ids=["municipality", "prefecture", "centre"]
)
def test_kill_9_under_load_loses_duplicates_and_reorders_nothing(
    cluster: Cluster, victim: str
) -> None:
    handles = {n: cluster.handle(n) for n in (TOWN, TOKYO, CENTRE)}
    town = handles[TOWN]
    add_operator(
        town,
        actor=None,
        username="clerk",
        display_name="窓口 職員",
        role=Role.CLERK,
        password=PASSWORD,
    )
    households = _households(town)
    base_url = cluster.nodes[TOWN].operator_url
    card = lend_token_card(town, "clerk")
    with httpx.Client(base_url=base_url, timeout=30.0) as client:
        token = api_token(client, "clerk", PASSWORD, card)
    headers = {"Authorization": f"Bearer {token}"}
    clerks = [
        Clerk(base_url, headers, households[i::CLERKS], name_tag=str(i + 1)) for i in range(CLERKS)
    ]
    for clerk in clerks:
        clerk.start()
    time.sleep(FILING_SECONDS[0])
    _wait(
        lambda: _count(handles[CENTRE], IdentityHistoryRow) > HOUSEHOLDS,
        timeout=60,
        what="the first filings to reach the centre",
    )
    cluster.kill(victim)  # SIGKILL mid-stream
    time.sleep(1.0)
    cluster.start([victim])
    time.sleep(FILING_SECONDS[1])
    for clerk in clerks:
        clerk.stopping.set()
    for clerk in clerks:
        clerk.join(timeout=60)
    _wait(lambda: _settled(handles), timeout=180, what="the network to settle")

    filed = _filed(town)
    acknowledged = [a for c in clerks for a in c.acknowledged]
    in_doubt = [a for c in clerks for a in c.in_doubt]
    committed = {i["address"] for identities in filed.values() for i in identities}
    figures = {
        "filings acknowledged": len(acknowledged),
        "in doubt (cut off by the kill)": len(in_doubt),
        "in doubt but committed": sum(1 for a in in_doubt if a in committed),
        "refused": sum(len(c.refused) for c in clerks),
        "notices committed": sum(len(v) for v in filed.values()),
    }
    results = {tier: _compare(filed, _received(handles[tier])) for tier in (TOKYO, CENTRE)}
    print(f"\nkill -9 {victim}: {figures}; {results}")
    # Every acknowledged filing is durable, even the one answered just before the kill.
    assert not set(acknowledged) - committed
    assert figures["refused"] == 0
    assert len(acknowledged) > 20
    for tier in (TOKYO, CENTRE):
        assert results[tier] == {"lost": 0, "duplicated": 0, "out_of_order": 0}
        assert _received(handles[tier]) == filed
    for handle in handles.values():
        handle.engine.dispose()
