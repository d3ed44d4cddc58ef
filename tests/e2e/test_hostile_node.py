"""The review's forgeries, replayed against real node processes (issue 11, findings 1 and 2).

Nishitokyo, Tokyo and the centre run as their own processes on the backend under test. The
attacker is Hachiōji: not running, but holding Hachiōji's genuine certificates from
``jukinet pki``, it posts signed envelopes to Tokyo over mutual TLS exactly as its node would.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from jukinet.domain.identity import ChangeReason, IdentityInfo, IdentityNotice
from jukinet.domain.messages import MessageKind
from jukinet.domain.register import RecordStatus
from jukinet.network.envelope import new_envelope
from jukinet.network.origin import seal, seal_identity
from jukinet.runtime.cluster import Cluster
from jukinet.services import reading
from jukinet.services.context import ServiceContext
from jukinet.services.register.change import routed_statement
from jukinet.storage.tables import AccessLogRow, IdentityRecordRow, InboxRow
from tests.support.databases import running_cluster
from tests.support.factories import make_actor, move_in_household, person

pytestmark = pytest.mark.e2e

TOWN = "municipality:132292"
HOSTILE = "municipality:132012"
TOKYO = "prefecture:13"
CENTRE = "national:jlis"


@pytest.fixture
def cluster(tmp_path: Path, database_url: str) -> Iterator[Cluster]:
    """Nishitokyo, Tokyo and the centre running; Hachiōji's credentials on disk only."""
    names = (CENTRE, TOKYO, TOWN, HOSTILE)
    with running_cluster(tmp_path / "cluster", database_url, names, start=names[:3]) as built:
        yield built


def _wait(condition: Callable[[], bool], *, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _held(node: ServiceContext, code: str) -> tuple[str, str, bool] | None:
    with node.session_factory() as session:
        row = session.get(IdentityRecordRow, code)
        return None if row is None else (row.municipality_code, row.family_name, row.deleted)


def _refused(node: ServiceContext) -> list[str]:
    with node.session_factory() as session:
        return [
            r.reason or ""
            for r in session.scalars(select(InboxRow).where(InboxRow.status == "refused"))
        ]


class Attacker:
    """Hachiōji's genuine keys, posting numbered envelopes to Tokyo."""

    def __init__(self, node: ServiceContext) -> None:
        assert node.network is not None
        self.node = node
        self.net = node.network
        self.sequence = 0

    def post(self, kind: MessageKind, body: dict[str, Any]) -> dict[str, Any]:
        self.sequence += 1
        envelope = self.net.sign(
            new_envelope(
                sender=HOSTILE,
                recipient=TOKYO,
                kind=kind.value,
                sequence=self.sequence,
                now=self.node.now(),
                body=body,
            )
        )
        with httpx.Client(verify=self.net.client_ssl_context(), timeout=30.0) as client:
            answer = client.post(
                self.net.peers[TOKYO] + "/network/v1/inbox",
                json={"envelopes": [envelope.as_dict()]},
            )
        assert answer.status_code == 200, answer.text
        result: dict[str, Any] = answer.json()["document"]["results"][0]
        return result


def test_forged_notices_from_a_town_with_real_keys_change_nobody(cluster: Cluster) -> None:
    town, tokyo, centre = (cluster.handle(n) for n in (TOWN, TOKYO, CENTRE))
    record = move_in_household(town, make_actor(town), person()).records[0].record
    resident: IdentityInfo = record.identity()
    code = resident.resident_code
    _wait(lambda: _held(centre, code) is not None, what="the resident to reach the centre")
    attacker = Attacker(cluster.handle(HOSTILE))

    # Finding 1: a move-in notice sealed by Hachiōji, saying the resident moved to Chiyoda.
    notice = routed_statement(
        "132292",
        kind=MessageKind.MOVE_IN_NOTICE,
        payload={
            "resident_code": code,
            "birth_date": resident.birth_date.isoformat(),
            "moved_on": "2026-11-25",
            "new_municipality_code": "131016",
        },
    )
    sealed = seal(notice, net=attacker.net, now=attacker.node.now())
    assert attacker.post(MessageKind.ROUTED, sealed)["status"] == "forwarded"
    _wait(lambda: bool(_refused(town)), what="Nishitokyo to judge the notice")
    assert _refused(town) == ["the move-in notice is not signed by the new municipality"]
    # ... and unsigned, it does not even pass Tokyo.
    unsigned = attacker.post(MessageKind.ROUTED, notice)
    assert (unsigned["status"], unsigned["reason"]) == (
        "refused",
        "routed message refused: no origin signature",
    )

    # Finding 2: a name change (and move) of Nishitokyo's resident, reported by Hachiōji.
    forged = IdentityNotice(
        municipality_code="132012",
        current=dataclasses.replace(
            resident, family_name="偽名", address="東京都八王子市元本郷町三丁目24番1号"
        ),
        changed_on=date(2026, 11, 25),
        reason=ChangeReason.NAME_CHANGE,
        before=resident,
    ).as_body()
    # Sealed with Hachiōji's own genuine key, as its counter would (an unsealed one is refused
    # at the seal, before its right to the resident is looked at).
    forged = seal_identity(
        MessageKind.IDENTITY_NOTICE.value, forged, net=attacker.net, now=attacker.node.now()
    )
    refused = attacker.post(MessageKind.IDENTITY_NOTICE, forged)
    assert refused["status"] == "refused"
    assert "held for another municipality" in refused["reason"]

    # Nothing changed anywhere, and Nishitokyo's log names nobody but its own clerk.
    view = reading.read_resident(town, actor=make_actor(town), resident_code=code)
    assert view.record.status is RecordStatus.ACTIVE
    for tier in (tokyo, centre):
        assert _held(tier, code) == ("132292", resident.family_name, False)
    with town.session_factory() as session:
        blamed = session.scalar(
            select(func.count())
            .select_from(AccessLogRow)
            .where(AccessLogRow.actor.like("%131016%"))
        )
    assert blamed == 0
