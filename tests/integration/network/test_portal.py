"""The resident portal across the tiers (issue 15 item 1): a resident signs in with a real card
token, sees what Nishitokyo, Tokyo and the centre hold side by side, and one combined list of
who looked at their data, each entry's inclusion proof verified against its tier's witnessed
head; another town cannot fish for the resident; a loss report ends the session at once and
reaches the network. Real nodes over mutual TLS on loopback, SoftHSM chips, both databases.
"""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from jukinet.domain.audit_math import SignedTreeHead, leaf_hash, verify_inclusion
from jukinet.domain.errors import AuthenticationFailed
from jukinet.network import resident_card_token as chip
from jukinet.network.hsm import DEFAULT_MODULE
from jukinet.services.context import ServiceContext
from jukinet.services.portal import overview, requests, signin, tiers
from jukinet.storage.card_tables import CardStatusRow
from jukinet.storage.tables import AccessLogRow
from jukinet.web.portal import views
from tests.integration.cli.test_cli import run
from tests.support.network import drain
from tests.support.portal import PIN, issue_card

pytestmark = pytest.mark.skipif(
    not Path(DEFAULT_MODULE).exists(), reason="SoftHSM2 is not installed (apt-get install softhsm2)"
)

NISHITOKYO = "municipality:132292"
HACHIOJI = "municipality:132012"
TOKYO = "prefecture:13"
CENTRE = "national:jlis"
Build = Callable[..., dict[str, ServiceContext]]


def sign_in(town: ServiceContext, serial: str, pin: str = PIN) -> str:
    """What ``jukinet card sign-in`` and the browser do: challenge, card signs, code, token."""
    challenge = signin.challenge(town)
    with chip.ResidentCardToken.open(serial, pin) as card:
        signature = card.authenticate(challenge.message)
    code = signin.issue_code(
        town, serial=serial, challenge_id=challenge.challenge_id, signature=signature
    )
    return signin.redeem_code(town, code=code)


def test_combined_disclosure_verifies_across_three_tiers(network: Build, card_reader: Path) -> None:
    nodes = network(NISHITOKYO, TOKYO, CENTRE)
    town = nodes[NISHITOKYO]
    code, serial = issue_card(town)
    other_code, _ = issue_card(town, family="佐藤")
    drain(nodes)
    resident = signin.current_resident(town, sign_in(town, serial))
    assert resident.resident_code == code

    seen = overview.overview(town, resident)

    assert [t.node for t in seen.tiers] == [NISHITOKYO, TOKYO, CENTRE]
    assert all(t.problem is None and t.head_verified for t in seen.tiers), seen.tiers
    assert seen.all_verified
    # Each tier holds the same five items: nothing to flag.
    assert seen.differences == {}
    assert all(t.identity and t.identity["resident_code"] == code for t in seen.tiers)
    # One list with entries of every tier (the move-in notices received upstream, the portal's
    # own questions), all about this resident only.
    sources = {e.item["entry"]["node"] for e in seen.entries}
    assert sources == {NISHITOKYO, TOKYO, CENTRE}
    assert {e.item["entry"]["subject"] for e in seen.entries} == {code}
    assert other_code not in str([t.document for t in seen.tiers])
    # The town's head was countersigned by Tokyo and the centre, Tokyo's by the centre.
    assert set(seen.tiers[0].witnesses) == {TOKYO, CENTRE}
    assert set(seen.tiers[1].witnesses) == {CENTRE}
    # The portal's question is itself an entry at each tier, asked by the tier below.
    asked = {
        (e.item["entry"]["node"], e.item["entry"]["actor"])
        for e in seen.entries
        if e.item["entry"]["reason"] == tiers.PORTAL_REASON
    }
    assert asked == {(NISHITOKYO, signin.PORTAL_PLACE), (TOKYO, NISHITOKYO), (CENTRE, TOKYO)}


def test_check_proof_verifies_the_portal_download(
    network: Build, card_reader: Path, tmp_path: Path
) -> None:
    nodes = network(NISHITOKYO, TOKYO, CENTRE)
    town = nodes[NISHITOKYO]
    _code, serial = issue_card(town)
    drain(nodes)
    seen = overview.overview(town, signin.current_resident(town, sign_in(town, serial)))
    download = tmp_path / "my-disclosure-proofs.json"
    download.write_text(json.dumps([t.document for t in seen.tiers]), encoding="utf-8")
    assert town.network is not None
    ca = str(town.network.pki.ca_cert_path)
    checked = run("audit", "check-proof", str(download), "--ca", ca)
    assert checked.exit_code == 0, checked.output
    assert checked.output.count("OK") == 3
    documents = json.loads(download.read_text(encoding="utf-8"))
    documents[2]["entries"][0]["entry"]["reason"] = "nothing to see"
    download.write_text(json.dumps(documents), encoding="utf-8")
    refused = run("audit", "check-proof", str(download), "--ca", ca)
    assert refused.exit_code != 0


def test_a_changed_entry_fails_its_proof(network: Build, card_reader: Path) -> None:
    nodes = network(NISHITOKYO, TOKYO, CENTRE)
    town = nodes[NISHITOKYO]
    _code, serial = issue_card(town)
    drain(nodes)
    seen = overview.overview(town, signin.current_resident(town, sign_in(town, serial)))
    prefecture = seen.tiers[1]
    assert prefecture.document is not None
    forged = copy.deepcopy(prefecture.document)
    forged["entries"][0]["entry"]["actor"] = "nobody"
    trust = {"ca_pem": (town.network.pki.ca_cert_path.read_bytes() if town.network else b"")}
    checked = overview.check("prefecture", TOKYO, forged, prefecture.identity, trust)
    assert checked.head_verified
    assert checked.entry_verified[0] is False
    assert all(checked.entry_verified[1:])
    # The page hands the browser the bytes the server checked (read once, by the check): the
    # forged entry's bytes, which fail the browser's proof check too; the others pass it.
    shown = views.rows(overview.combine(seen.resident_code, [checked]), "ja")
    head = SignedTreeHead.from_dict(forged["tree_head"])
    outcome = {}
    for row in shown:
        leaf = leaf_hash(base64.b64decode(row.leaf_data))
        proof = [bytes.fromhex(p) for p in row.proof.split(",") if p]
        position = row.row.position
        outcome[position] = verify_inclusion(leaf, position, head.tree_size, proof, head.root_hash)
        assert outcome[position] is row.verified
    forged_position = forged["entries"][0]["entry"]["index"]
    assert outcome.pop(forged_position) is False
    assert outcome
    assert all(outcome.values())
    # A document presented as another tier's is refused as a whole.
    assert not overview.check("national", CENTRE, prefecture.document, None, trust).head_verified


def test_another_town_cannot_ask_for_this_resident(network: Build, card_reader: Path) -> None:
    nodes = network(NISHITOKYO, HACHIOJI, TOKYO, CENTRE)
    code, _serial = issue_card(nodes[NISHITOKYO])
    drain(nodes)
    with nodes[TOKYO].session_factory() as session:
        before = session.scalar(
            select(AccessLogRow.position).order_by(AccessLogRow.position.desc())
        )
    answers = tiers.ask_upper_tiers(nodes[HACHIOJI], resident_code=code)
    assert all(a.disclosure is None and a.identity is None for a in answers)
    assert "403" in (answers[0].problem or "")
    with nodes[TOKYO].session_factory() as session:
        after = session.scalar(select(AccessLogRow.position).order_by(AccessLogRow.position.desc()))
    assert after == before  # nothing was read, nothing disclosed


def test_loss_report_signs_out_and_reaches_the_network(network: Build, card_reader: Path) -> None:
    nodes = network(NISHITOKYO, TOKYO, CENTRE)
    town = nodes[NISHITOKYO]
    _code, serial = issue_card(town)
    drain(nodes)
    token = sign_in(town, serial)
    resident = signin.current_resident(town, token)
    task = requests.file_request(
        town, resident=resident, request=requests.PortalRequest(requests.TaskKind.CARD_LOSS)
    )
    assert (task.status, task.outcome) == ("done", "card_suspended")
    with pytest.raises(AuthenticationFailed):
        signin.current_resident(town, token)
    drain(nodes)
    for tier in (TOKYO, CENTRE):
        with nodes[tier].session_factory() as session:
            held = session.get(CardStatusRow, serial)
            assert held is not None
            assert held.status == "suspended"
    # A suspended card cannot sign in again.
    with pytest.raises(Exception) as refused:  # noqa: PT011 - the code is what is checked
        sign_in(town, serial)
    assert getattr(refused.value, "code", None) == "JUKI-CARD-011"
