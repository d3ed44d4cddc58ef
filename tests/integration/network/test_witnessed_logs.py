"""Witnessed logs (issue 12, item 7): each node publishes its signed tree heads to its prefecture
and the centre, which check consistency with the head they hold and countersign; a node that
rewrites one entry of its own log is caught at its next publication. Real nodes over mutual TLS,
on both databases.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from jukinet.domain.operators import Role
from jukinet.network.witness_client import WITNESS_PATH
from jukinet.runtime.background import tree_head_publisher
from jukinet.services import audit, head_publication, witness
from jukinet.services.context import ServiceContext
from jukinet.storage.trust_tables import (
    HeadCountersignatureRow,
    SecurityAlertRow,
    WitnessedHeadRow,
)
from jukinet.web.app import create_app
from tests.support.factories import api_headers, make_actor, move_in_household, person
from tests.support.log_forgery import rewrite_entry

NISHITOKYO = "municipality:132292"
TOKYO = "prefecture:13"
CENTRE = "national:jlis"
Build = Callable[..., dict[str, ServiceContext]]


def _work(town: ServiceContext, family: str = "山田") -> str:
    """Counter work that writes access-log entries; the new resident's code."""
    household = move_in_household(town, make_actor(town), person(family=family))
    return household.records[0].record.resident_code


def _witnessed(node: ServiceContext, of: str) -> list[int]:
    with node.session_factory() as session:
        return list(
            session.scalars(
                select(WitnessedHeadRow.tree_size)
                .where(WitnessedHeadRow.node == of)
                .order_by(WitnessedHeadRow.tree_size)
            )
        )


def _alerts(node: ServiceContext) -> list[tuple[str, str]]:
    with node.session_factory() as session:
        return [(a.kind, a.about) for a in session.scalars(select(SecurityAlertRow))]


def test_heads_are_countersigned_by_the_prefecture_and_the_centre(network: Build) -> None:
    nodes = network(NISHITOKYO, TOKYO, CENTRE)
    town, tokyo, centre = nodes[NISHITOKYO], nodes[TOKYO], nodes[CENTRE]
    _work(town)
    first = head_publication.publish(town)
    assert [(r.witness, r.witnessed) for r in first] == [(TOKYO, True), (CENTRE, True)]
    size = first[0].tree_size
    assert size > 0
    _work(town, family="佐藤")
    # The background worker publishes on its schedule; one round, now.
    assert tree_head_publisher(town).run_once() is False
    grown = audit.latest_tree_head(town).tree_size
    assert grown > size
    assert _witnessed(tokyo, NISHITOKYO) == [size, grown]
    assert _witnessed(centre, NISHITOKYO) == [size, grown]
    with town.session_factory() as session:
        kept = session.execute(
            select(HeadCountersignatureRow.witness, HeadCountersignatureRow.tree_size).order_by(
                HeadCountersignatureRow.tree_size, HeadCountersignatureRow.witness
            )
        ).all()
    assert kept == [(CENTRE, size), (TOKYO, size), (CENTRE, grown), (TOKYO, grown)]
    # Publishing again changes nothing; a prefecture publishes its own heads to the centre.
    assert all(r.witnessed for r in head_publication.publish(town))
    assert [(r.witness, r.witnessed) for r in head_publication.publish(tokyo)] == [(CENTRE, True)]
    assert _witnessed(centre, TOKYO) == [audit.latest_tree_head(tokyo).tree_size]
    assert head_publication.publish(centre) == []
    assert _alerts(tokyo) == _alerts(centre) == []


def test_a_node_that_rewrites_one_entry_is_caught_at_its_next_publication(
    network: Build,
) -> None:
    nodes = network(NISHITOKYO, TOKYO, CENTRE)
    town, tokyo, centre = nodes[NISHITOKYO], nodes[TOKYO], nodes[CENTRE]
    _work(town)
    witnessed = head_publication.publish(town)[0].tree_size
    rewrite_entry(town, 0)
    _work(town, family="佐藤")
    results = head_publication.publish(town)
    assert [(r.witness, r.witnessed) for r in results] == [(TOKYO, False), (CENTRE, False)]
    for result in results:
        assert result.problem is not None
        assert result.problem.startswith(
            f"tree head refused: the log of {results[0].tree_size} entries does not extend "
            f"the witnessed head of {witnessed} entries"
        )
    # Both witnesses keep the good head, raise the alert (once, however often it retries),
    # and the node's own console hears of it too.
    head_publication.publish(town)
    for witness_node in (tokyo, centre):
        assert _witnessed(witness_node, NISHITOKYO) == [witnessed]
        assert _alerts(witness_node) == [("log_rewritten", NISHITOKYO)]
    assert sorted(_alerts(town)) == [("witness_refused", CENTRE), ("witness_refused", TOKYO)]


def test_a_disclosure_carries_the_witnesses_countersignatures(network: Build) -> None:
    nodes = network(NISHITOKYO, TOKYO, CENTRE)
    town = nodes[NISHITOKYO]
    assert town.network is not None
    code = _work(town)
    document = head_publication.witnessed_disclosure(
        town, actor=make_actor(town), request=audit.DisclosureRequest(code)
    )
    ca = town.network.pki.ca_cert_path.read_bytes()
    checked = audit.check_disclosure(document, ca_pem=ca)
    assert checked.ok, checked.problems
    assert checked.witnesses == (CENTRE, TOKYO)
    # A countersignature moved onto another head, or altered, no longer checks.
    altered = dict(document["witnesses"][0])
    altered["document"] = altered["document"] | {"witnessed_at": "2020-01-01T00:00:00+00:00"}
    bad = audit.check_disclosure(document | {"witnesses": [altered]}, ca_pem=ca)
    assert not bad.ok
    assert bad.problems == (f"witness 0: bad countersignature of {CENTRE}",)
    # Without the CA the witnesses are not checked (and not claimed).
    unwitnessed = audit.check_disclosure(
        document, public_key_pem=audit.public_key_pem(town).encode()
    )
    assert (unwitnessed.ok, unwitnessed.witnesses) == (True, ())


def test_a_witness_refuses_heads_it_may_not_countersign(network: Build) -> None:
    """Tokyo (genuine keys) posts the centre a head it signed itself but names Nishitokyo's,
    and Nishitokyo posts Tokyo a head for the centre that is not its own: both refused."""
    nodes = network(NISHITOKYO, TOKYO, CENTRE)
    town, tokyo = nodes[NISHITOKYO], nodes[TOKYO]
    _work(town)
    head = audit.publish_tree_head(town).to_dict()
    assert tokyo.network is not None
    forged = head | {"signature": tokyo.network.signing_key.sign(b"x").hex()}
    request = {"witness": CENTRE, "head": forged, "from_size": 0, "proof": []}
    answer = _post(tokyo, CENTRE, request)
    assert answer.status_code == 403
    assert answer.json() == {"error": f"the tree head is not signed by {NISHITOKYO}"}
    audit.publish_tree_head(tokyo)
    theirs = {"witness": CENTRE, "head": audit.latest_tree_head(tokyo).to_dict()}
    answer = _post(town, TOKYO, theirs | {"from_size": 0, "proof": []})
    assert answer.status_code == 403
    assert answer.json() == {"error": f"{TOKYO} is not a witness of that head, nor its relay"}
    malformed = _post(town, TOKYO, {"witness": TOKYO})
    assert malformed.status_code == 400
    with nodes[CENTRE].session_factory() as session:
        assert session.scalar(select(func.count()).select_from(WitnessedHeadRow)) == 0


def test_witnessed_heads_are_shown_at_the_witness(network: Build) -> None:
    nodes = network(NISHITOKYO, TOKYO, CENTRE)
    town, tokyo = nodes[NISHITOKYO], nodes[TOKYO]
    _work(town)
    size = head_publication.publish(town)[0].tree_size
    (shown,) = witness.witnessed_heads(tokyo, actor=make_actor(tokyo, Role.SUPERVISOR))
    assert (shown.node, shown.tree_size, shown.sequence) == (NISHITOKYO, size, 0)
    make_actor(tokyo, Role.CLERK, username="witnessclerk")
    make_actor(tokyo, Role.SUPERVISOR, username="witnesssuper")
    with TestClient(create_app(tokyo)) as client:
        path = "/api/v1/network/witnessed-heads"
        denied = client.get(path, headers=api_headers(client, "witnessclerk"))
        assert denied.status_code == 403
        allowed = client.get(path, headers=api_headers(client, "witnesssuper"))
        assert allowed.status_code == 200
        assert [(h["node"], h["tree_size"]) for h in allowed.json()] == [(NISHITOKYO, size)]


def _post(node: ServiceContext, peer: str, body: dict[str, object]) -> httpx.Response:
    net = node.network
    assert net is not None
    with httpx.Client(verify=net.client_ssl_context(), timeout=30.0) as client:
        return client.post(net.peers[peer] + WITNESS_PATH, json=body)
