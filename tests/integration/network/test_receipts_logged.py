"""Identity messages received at a prefecture or the centre are writes in their access logs:
one entry per resident per message, actor the sending node, reason the change reason."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from jukinet.domain.access_log import Action, ActorKind, Channel
from jukinet.domain.operators import Role
from jukinet.domain.participation import OptOutRequest
from jukinet.services import audit, register
from jukinet.services.audit import DisclosureRequest
from jukinet.services.context import ServiceContext
from jukinet.services.register.notices import set_upstream_opt_out
from jukinet.storage import access_log
from tests.support.factories import make_actor, move_in_household, person
from tests.support.network import drain

TOWN = "municipality:132292"
TOKYO = "prefecture:13"
CENTRE = "national:jlis"
Build = Callable[..., dict[str, ServiceContext]]


def _entries(node: ServiceContext, code: str) -> list[tuple[str, str, str | None, str]]:
    with node.session_factory() as session:
        return [
            (e.actor, e.action.value, e.reason, e.channel.value)
            for _, e in access_log.entries_about(session, code)
            if e.actor_kind is ActorKind.NODE
        ]


def test_each_tier_logs_the_notices_it_receives(network: Build) -> None:
    nodes = network(TOWN, TOKYO, CENTRE, **{TOWN: {"allow_opt_out": True}})
    town = nodes[TOWN]
    clerk = make_actor(town)
    record = move_in_household(town, clerk, person()).records[0].record
    code = record.resident_code
    register.file_move_within(
        town,
        actor=clerk,
        household_number=record.household_number,
        address="東京都西東京市南町5丁目6番18号",
        moved_on=date(2026, 11, 25),
        filed_on=date(2026, 11, 26),
    )
    set_upstream_opt_out(
        town,
        actor=clerk,
        request=OptOutRequest(
            resident_code=code, opt_out=True, requested_on=date(2026, 11, 26), request_number="7"
        ),
    )
    drain(nodes)
    write, network = Action.WRITE.value, Channel.NETWORK.value
    assert _entries(nodes[TOKYO], code) == [
        (TOWN, write, "A02", network),
        (TOWN, write, "B01", network),
        (TOWN, write, "withdrawal", network),
    ]
    assert _entries(nodes[CENTRE], code) == [
        (TOKYO, write, "A02", network),
        (TOKYO, write, "B01", network),
        (TOKYO, write, "withdrawal", network),
    ]
    # The resident's disclosure at the centre shows them, with proofs, though the data is gone.
    auditor = make_actor(nodes[CENTRE], Role.CLERK)
    document = audit.disclose(
        nodes[CENTRE], actor=auditor, request=DisclosureRequest(resident_code=code)
    )
    actors = [item["entry"]["actor"] for item in document["entries"]]
    assert actors.count(TOKYO) == 3
    check = audit.check_disclosure(document, public_key_pem=document["signer_public_key"].encode())
    assert check.ok, check.problems
