"""Issue 12 items 1–2 on real node processes: a two-card emergency disconnect of Nishitokyo's
link to Tokyo for 60 seconds, then its expiry, loses and duplicates nothing (reconciliation
agrees), and the town's level-2 incident notice, decided during the cut, reaches the centre."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from jukinet.cli.main import app
from jukinet.domain.operators import Role
from jukinet.runtime.cluster import Cluster
from jukinet.services.context import ServiceContext
from jukinet.services.emergency import disconnects, levels
from jukinet.services.emergency.messages import incident_notices
from jukinet.services.operators import add_operator
from jukinet.services.reconcile import reconcile
from jukinet.storage.tables import IdentityRecordRow, InboxRow, OutboxRow
from tests.support.databases import running_cluster
from tests.support.emergency import carded, cut_of, decision
from tests.support.factories import make_actor, move_in_household, person

pytestmark = pytest.mark.e2e

TOWN = "municipality:132292"
TOKYO = "prefecture:13"
CENTRE = "national:jlis"
PASSWORD = "process test password"
FAMILIES = (("山田", "ヤマダ"), ("佐藤", "サトウ"), ("鈴木", "スズキ"), ("高橋", "タカハシ"))


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


def _pending(town: ServiceContext) -> int:
    return _count(town, OutboxRow, OutboxRow.delivered_at.is_(None))


def _move_ins(town: ServiceContext, count: int) -> None:
    clerk = make_actor(town)
    for i in range(count):
        family, kana = FAMILIES[i % len(FAMILIES)]
        move_in_household(town, clerk, person(family=family, family_kana=kana))


def test_a_two_card_cut_expires_and_loses_nothing(cluster: Cluster) -> None:
    town, tokyo, centre = (cluster.handle(n) for n in (TOWN, TOKYO, CENTRE))
    _move_ins(town, 5)
    _wait(lambda: _count(centre, IdentityRecordRow) == 5, timeout=60, what="the first notices")

    # One operator's password alone (no card) is refused with a clear message.
    add_operator(
        town, actor=None, username="secpw", display_name="警備 担当",
        role=Role.SECURITY_OFFICER, password=PASSWORD,
    )  # fmt: skip
    folder = str(cluster.nodes[TOWN].folder)
    signed = {"JUKINET_OPERATOR": "secpw", "JUKINET_OPERATOR_PASSWORD": PASSWORD}
    refused = CliRunner().invoke(
        app,
        ["emergency", "disconnect", "link", TOKYO, "--reason", "x", "--minutes", "1",
         "--dir", folder],
        env=signed,
    )  # fmt: skip
    assert refused.exit_code != 0
    assert "JUKI-EMG-021" in refused.output

    # Two cards: the security officer proposes, the chief officer's delegate countersigns.
    officer, delegate = carded(town, Role.SECURITY_OFFICER), carded(town, Role.SUPERVISOR)
    proposal = disconnects.propose(town, actor=officer, proposal=cut_of("link", TOKYO, minutes=1))
    cut = disconnects.countersign(town, actor=delegate, proposal_id=proposal.id)
    expires = time.monotonic() + cut.seconds_left
    time.sleep(3)  # the running node reads the decision within two seconds

    held_before = _count(centre, IdentityRecordRow)
    _move_ins(town, 12)  # counter work goes on
    levels.change_level(town, actor=officer, decision=decision(2, town.now()))
    time.sleep(2)
    assert _pending(town) >= 13  # twelve move-ins and the incident notice wait in order
    assert _count(centre, IdentityRecordRow) == held_before
    with centre.session_factory() as session:
        assert incident_notices(session) == []
    status = CliRunner().invoke(app, ["emergency", "status", "--dir", folder], env=signed)
    assert status.exit_code == 0, status.output
    assert "link" in status.output
    assert TOKYO in status.output

    # The cut expires by itself; the queue drains in order.
    assert time.monotonic() < expires
    _wait(
        lambda: _pending(town) == 0 and _pending(tokyo) == 0,
        timeout=cut.seconds_left + 45,
        what="the queue to drain after the cut expired",
    )
    _wait(lambda: _count(centre, IdentityRecordRow) == 17, timeout=30, what="every record upstream")
    sent = _count(town, OutboxRow, OutboxRow.recipient == TOKYO)
    with tokyo.session_factory() as session:
        sequences = sorted(
            session.scalars(select(InboxRow.sequence).where(InboxRow.sender == TOWN))
        )
    assert sequences == list(range(1, sent + 1))  # each once, none missing
    report = reconcile(town, repair=False)
    assert report.consistent, report.lines(show_codes=True)
    assert report.expected == 17
    _wait(lambda: _notices_at(centre) == [(TOWN, 2)], timeout=30, what="the incident notice")
    for node in (town, tokyo, centre):
        node.engine.dispose()


def _notices_at(node: ServiceContext) -> list[tuple[str, int]]:
    with node.session_factory() as session:
        return [(n.origin, n.level) for n in incident_notices(session)]
