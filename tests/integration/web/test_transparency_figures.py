"""The transparency page finished (issue 15, item 3), on both databases: every chart's numbers
as a CSV download equal to its table, the disconnects / opt-outs / card-services charts, and the
witnessed tree heads this node publishes."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from jukinet.domain.access_log import AccessEntry, Action, ActorKind, Channel
from jukinet.domain.operators import Role
from jukinet.services.context import ServiceContext
from jukinet.storage.access_log import append_entries
from jukinet.storage.emergency_tables import EmergencyDisconnectRow, EmergencyEventRow
from jukinet.storage.participation_tables import ParticipationChangeRow
from jukinet.storage.tables import RegisterEventRow, TreeHeadRow
from jukinet.storage.trust_tables import HeadCountersignatureRow, WitnessedHeadRow
from jukinet.web.ui.transparency_figures import FIGURES
from tests.support.factories import make_actor

NOVEMBER = datetime(2026, 11, 10, 1, tzinfo=UTC)
RESIDENT_CODE = "18429637052"


def _read(at: datetime) -> AccessEntry:
    return AccessEntry(
        recorded_at=at,
        node="municipality:132292",
        action=Action.READ,
        channel=Channel.AGENCY_API,
        actor_kind=ActorKind.RECIPIENT,
        actor="agency:soumu-onkyu",
        subject=RESIDENT_CODE,
        affair_code="T1-16",
    )


@pytest.fixture
def seeded(node: ServiceContext) -> ServiceContext:
    """Three provisions, a disconnect and an emergency cut (renewed once), two opt-outs and one
    opt-back-in in November (JST); this node's head witnessed by Tokyo, and a head of Kunitachi
    that this node witnessed."""
    clerk = make_actor(node, Role.SUPERVISOR, username="clerk1")
    with node.uow() as uow:
        append_entries(uow.session, [_read(NOVEMBER + timedelta(minutes=i)) for i in range(3)])
        uow.session.add(
            ParticipationChangeRow(
                state="disconnected",
                previous_state="connected",
                changed_at=NOVEMBER,
                operator="clerk1",
                reason="緊急切断",
            )
        )
        cut = EmergencyDisconnectRow(
            scope="link",
            target="prefecture:13",
            reason="不審な通信",
            source="local",
            activated_at=NOVEMBER,
            expires_at=NOVEMBER + timedelta(hours=1),
            decided_by="anzen / kanri",
        )
        uow.session.add(cut)
        uow.session.flush()
        # An activation is a disconnect; its renewal is the same cut, not another.
        for action in ("activate", "renew"):
            uow.session.add(
                EmergencyEventRow(
                    disconnect_id=cut.id,
                    action=action,
                    at=NOVEMBER,
                    scope="link",
                    target="prefecture:13",
                    expires_at=NOVEMBER + timedelta(hours=1),
                    decided_by="anzen / kanri",
                    reason="不審な通信",
                )
            )
        for kind in ("opt_out", "opt_out", "opt_in"):
            uow.session.add(
                RegisterEventRow(
                    kind=kind,
                    event_date=date(2026, 11, 10),
                    filed_on=date(2026, 11, 10),
                    late=False,
                    operator_id=clerk.operator_id,
                    recorded_at=NOVEMBER,
                )
            )
        uow.session.add(
            TreeHeadRow(
                tree_size=3,
                root_hash=bytes(range(32)),
                timestamp="2026-11-10T01:00:00Z",
                signer="municipality:132292",
                signature=b"s" * 64,
            )
        )
        uow.session.add(
            HeadCountersignatureRow(
                witness="prefecture:13", tree_size=3, countersignature={}, witnessed_at=NOVEMBER
            )
        )
        for size in (5, 9):
            uow.session.add(
                WitnessedHeadRow(
                    node="municipality:132152",
                    tree_size=size,
                    root_hash=bytes([size]) * 32,
                    head={"timestamp": f"2026-11-1{size % 10}T00:00:00Z"},
                    countersignature={},
                    witnessed_at=NOVEMBER,
                )
            )
        uow.commit()
    return node


def _csv(client: TestClient, key: str) -> list[list[str]]:
    response = client.get(f"/transparency/figures/{key}.csv")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"].startswith("attachment;")
    assert response.content.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_every_chart_links_its_numbers_as_csv(seeded: ServiceContext, client: TestClient) -> None:
    html = client.get("/transparency").text
    linked = set(re.findall(r'href="/transparency/figures/([a-z-]+)\.csv\?months=12"', html))
    assert linked == set(FIGURES)
    assert html.count("<figure ") == len(FIGURES)
    for key in FIGURES:
        assert len(_csv(client, key)) >= 2, key
    assert RESIDENT_CODE not in html


def test_chart_numbers_in_the_csv_are_the_tables(
    seeded: ServiceContext, client: TestClient
) -> None:
    assert ["2026-11", "3"] in _csv(client, "provisions")
    assert _csv(client, "recipients")[1] == ["agency:soumu-onkyu", "", "3"]
    disconnects = _csv(client, "disconnects")
    assert disconnects[0] == ["month", "disconnects"]
    assert ["2026-11", "2"] in disconnects  # a participation change and an emergency cut
    assert len(disconnects) == 13
    assert ["2026-11", "2", "1"] in _csv(client, "opt-outs")
    html = client.get("/transparency").text
    table = html[html.index('data-testid="table-opt-outs"') :]
    assert '<tr><th scope="row">令和8年11月</th><td>2</td><td>1</td></tr>' in table


def test_published_heads_show_this_nodes_witnesses_and_the_nodes_it_witnessed(
    seeded: ServiceContext, client: TestClient
) -> None:
    html = client.get("/transparency").text
    heads = html[html.index('data-testid="table-heads"') :]
    heads = heads[: heads.index("</table>")]
    own = heads[heads.index('data-testid="own-head"') :]
    assert "<code>municipality:132292</code>" in own
    assert "<code>prefecture:13</code>" in own
    assert "<code>municipality:132152</code>" in heads
    assert "<td>9</td>" in heads
    assert "<td>5</td>" not in heads


def test_an_unknown_figure_is_404_and_the_period_is_validated(client: TestClient) -> None:
    missing = client.get("/transparency/figures/residents.csv")
    assert missing.status_code == 404
    assert missing.json()["errors"][0]["code"] == "JUKI-TRN-010"
    assert client.get("/transparency/figures/provisions.csv?months=0").status_code == 422
