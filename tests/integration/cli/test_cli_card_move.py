"""``jukinet register card-move-out|card-move-in``: the card move as a clerk types it.

Each command is a child process with the card reader's token folder of this test. The move-in
across municipalities is tested over the network in tests/integration/network/test_card_move.py
and on node processes in tests/e2e/test_card_move_network.py.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from jukinet.domain.operators import Role
from jukinet.domain.register import Relationship, Sex
from jukinet.network.hsm import DEFAULT_MODULE, softhsm_environment
from jukinet.services.context import ServiceContext
from jukinet.services.operators import add_operator
from jukinet.services.resident_card import counter
from jukinet.services.resident_card.inputs import CardApplication, CardIssue, IdDocument
from jukinet.storage.card_move_tables import PlannedCardMoveRow
from tests.integration.cli.accounts import PASSWORD
from tests.integration.cli.test_cli_resident_cards import _runner
from tests.support.factories import make_actor, move_in_household, person, with_pool

pytestmark = pytest.mark.skipif(
    not Path(DEFAULT_MODULE).exists(), reason="SoftHSM2 is not installed (apt-get install softhsm2)"
)

PIN = "8642"


def _planned(node: ServiceContext) -> list[tuple[list[str], str]]:
    with node.session_factory() as session:
        rows = session.scalars(select(PlannedCardMoveRow)).all()
        return [(list(r.resident_codes), r.channel) for r in rows]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_card_move_out_and_move_in_commands(
    node: ServiceContext, tmp_path: Path, card_reader: Path
) -> None:
    add_operator(
        node, actor=None, username="madoguchi1", display_name="試験 職員", role=Role.CLERK,
        password=PASSWORD,
    )  # fmt: skip
    with_pool(node)
    made = move_in_household(
        node,
        make_actor(node),
        person(),
        person(
            given="花子",
            given_kana="ハナコ",
            birth_date=date(2015, 6, 1),
            sex=Sex.FEMALE,
            relationship=Relationship.CHILD,
        ),
    )
    holder, child = (v.record.resident_code for v in made.records)
    issuer = make_actor(node, Role.CARD_ISSUER)
    serial = counter.apply_for_card(
        node, actor=issuer, application=CardApplication(holder, counter.CardForm.NAME_ONLY)
    ).serial
    counter.issue_card(node, actor=issuer, issue=CardIssue(serial, PIN, PIN, IdDocument.PASSPORT))
    assert card_reader == tmp_path / "cards"
    run = _runner(node, softhsm_environment(card_reader))
    today = node.today().isoformat()
    move_out = (
        "register", "card-move-out", holder, "--member-code", child,
        "--destination-municipality-code", "141003", "--planned-on", today, "--channel", "post",
    )  # fmt: skip

    status, output = run(
        *move_out, "--destination", "国外（フランス共和国）", operator="madoguchi1"
    )
    assert status == 2, output
    assert "JUKI-MOVE-004" in output
    assert _planned(node) == []

    status, output = run(
        *move_out, "--destination", "神奈川県横浜市中区山下町1番地", operator="madoguchi1"
    )
    assert status == 0, output
    assert _planned(node) == [([holder, child], "post")]

    # At its own municipality the card is not a card move; a wrong PIN is refused first.
    move_in = (
        "register", "card-move-in", serial, "--address", "東京都西東京市泉町一丁目2番3号",
        "--moved-in-on", today, "--pin-from-stdin",
    )  # fmt: skip
    status, output = run(*move_in, operator="madoguchi1", stdin="0000\n")
    assert status == 2, output
    assert "JUKI-CARD-030" in output
    status, output = run(*move_in, operator="madoguchi1", stdin=f"{PIN}\n")
    assert status == 2, output
    assert "JUKI-MOVE-020" in output
