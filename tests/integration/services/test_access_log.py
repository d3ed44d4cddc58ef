"""The access log on SQLite and PostgreSQL: every counter read and write lands in it, in the same
transaction; heads, proofs, disclosure, retention and the whole-log check."""

from __future__ import annotations

import json
import random
import threading

import pytest
from sqlalchemy import select, update

from jukinet.domain.access_log import Action, Channel
from jukinet.domain.audit_math import verify_consistency, verify_inclusion
from jukinet.domain.codes import random_resident_codes
from jukinet.domain.errors import NotFound
from jukinet.domain.operators import Role
from jukinet.services import audit, reading
from jukinet.services.context import ServiceContext
from jukinet.storage import access_log as store
from jukinet.storage.tables import AccessLogRow, AccessLogSubtreeRow
from tests.support.clock import FixedClock
from tests.support.factories import make_actor, move_in_household, person


def _entries(node: ServiceContext) -> list[AccessLogRow]:
    with node.uow() as uow:
        return list(uow.session.scalars(select(AccessLogRow).order_by(AccessLogRow.position)))


def _unused_code(code: str) -> str:
    return random_resident_codes(random.Random(code), 2)[1]


def _resident(node: ServiceContext) -> tuple[str, object]:
    clerk = make_actor(node, username="clerk1")
    result = move_in_household(node, clerk, person())
    return result.records[0].record.resident_code, clerk


def test_counter_write_and_reads_are_logged_in_order(node: ServiceContext) -> None:
    code, clerk = _resident(node)
    written = _entries(node)
    assert [(e.action, e.subject, e.actor) for e in written] == [("write", code, "clerk1")]
    assert written[0].reason == "move_in"

    reading.read_resident(node, actor=clerk, resident_code=code, reason="転出証明書の交付")
    reading.read_history(node, actor=clerk, resident_code=code)
    reading.search_residents(node, actor=clerk, query=reading.SearchQuery(name="ヤマダ"))

    rows = _entries(node)
    assert [r.position for r in rows] == [0, 1, 2, 3]
    assert [(r.action, r.items) for r in rows[1:]] == [
        ("read", "record"),
        ("read", "history"),
        ("candidate", "search_result"),
    ]
    assert rows[1].reason == "転出証明書の交付"
    assert rows[2].reason == reading.COUNTER_REASON
    assert {r.subject for r in rows} == {code}
    assert all(r.channel == Channel.COUNTER for r in rows)


def test_a_failed_read_records_nothing_and_a_refused_role_reads_nothing(
    node: ServiceContext,
) -> None:
    code, _clerk = _resident(node)
    before = len(_entries(node))
    clerk = make_actor(node, username="clerk2")
    with pytest.raises(NotFound):
        reading.read_resident(node, actor=clerk, resident_code=_unused_code(code))
    security = make_actor(node, Role.SECURITY_OFFICER, username="sec1")
    with pytest.raises(Exception, match="AUTH-003"):
        reading.read_resident(node, actor=security, resident_code=code)
    assert len(_entries(node)) == before


def test_tree_head_inclusion_and_consistency(node: ServiceContext, clock: FixedClock) -> None:
    code, clerk = _resident(node)
    for _ in range(70):  # past one stored subtree (64 leaves)
        reading.read_resident(node, actor=clerk, resident_code=code)
    first = audit.publish_tree_head(node)
    assert first.tree_size == 71
    assert audit.publish_tree_head(node) == first  # nothing new: same head
    for _ in range(60):
        reading.read_history(node, actor=clerk, resident_code=code)
    clock.advance(minutes=1)
    second = audit.publish_tree_head(node)
    assert second.tree_size == 131

    with node.uow() as uow:
        subtrees = uow.session.scalars(select(AccessLogSubtreeRow)).all()
        assert {(s.level, s.position) for s in subtrees} == {(6, 0), (7, 0), (6, 1)}
        for position in (0, 63, 64, 70, 130):
            leaf = bytes(uow.session.get(AccessLogRow, position).leaf_hash)  # type: ignore[union-attr]
            proof = store.inclusion_proof(uow.session, position, second.tree_size)
            assert verify_inclusion(leaf, position, second.tree_size, proof, second.root_hash)
            assert not verify_inclusion(
                leaf, position + 1, second.tree_size, proof, second.root_hash
            )
    result = audit.consistency(node, 71, 131)
    assert result["consistent"] is True
    assert verify_consistency(
        71, 131, first.root_hash, second.root_hash, [bytes.fromhex(p) for p in result["proof"]]
    )
    assert store.head_signature_valid(second, audit.log_public_key(node))


def test_disclosure_proves_every_entry_and_detects_forgery(node: ServiceContext) -> None:
    code, clerk = _resident(node)
    other = move_in_household(node, clerk, person(given="花子", given_kana="ハナコ"))
    reading.read_resident(node, actor=clerk, resident_code=code)
    reading.read_resident(node, actor=clerk, resident_code=other.records[0].record.resident_code)

    document = audit.disclose(node, actor=clerk, request=audit.DisclosureRequest(code))
    actions = [item["entry"]["action"] for item in document["entries"]]
    assert actions == ["write", "read", "read"]  # the disclosure itself is the last read
    assert all(item["entry"]["subject"] == code for item in document["entries"])
    key_pem = document["signer_public_key"].encode()
    check = audit.check_disclosure(json.loads(json.dumps(document)), public_key_pem=key_pem)
    assert check.ok, check.problems
    assert check.entries == 3

    forged = json.loads(json.dumps(document))
    forged["entries"][1]["entry"]["actor"] = "someone-else"
    bad = audit.check_disclosure(forged, public_key_pem=key_pem)
    assert not bad.ok
    assert bad.problems[0].startswith("entry 1")

    resigned = json.loads(json.dumps(document))
    resigned["tree_head"]["tree_size"] += 1
    assert not audit.check_disclosure(resigned, public_key_pem=key_pem).ok


@pytest.mark.usefixtures("verify_path")
def test_verify_names_the_first_altered_entry(node: ServiceContext) -> None:
    code, clerk = _resident(node)
    for _ in range(80):
        reading.read_resident(node, actor=clerk, resident_code=code)
    audit.publish_tree_head(node)
    report = audit.verify(node)
    assert report.ok, report.problems
    assert report.entries == 81
    assert report.heads_checked == 1

    with node.uow() as uow:  # an insider rewrites who read
        uow.session.execute(
            update(AccessLogRow).where(AccessLogRow.position == 17).values(actor="nobody")
        )
        uow.commit()
    report = audit.verify(node)
    assert not report.ok
    assert report.first_bad_entry == 17
    assert "entry 17" in report.problems[0]


@pytest.mark.usefixtures("verify_path")
@pytest.mark.parametrize(
    ("column", "value"),
    [("action", "peeked"), ("recorded_at", None), ("detail", [1, 2]), ("node", None)],
)
def test_verify_flags_a_row_no_entry_could_hold(
    node: ServiceContext, column: str, value: object
) -> None:
    code, clerk = _resident(node)
    for _ in range(5):
        reading.read_resident(node, actor=clerk, resident_code=code)
    with node.uow() as uow:  # hand-edited into something the log never writes
        uow.session.execute(
            update(AccessLogRow).where(AccessLogRow.position == 3).values({column: value})
        )
        uow.commit()
    report = audit.verify(node)
    assert not report.ok
    assert report.first_bad_entry == 3
    assert report.entries == 6


@pytest.mark.usefixtures("verify_path")
def test_verify_catches_an_entry_rewritten_with_its_leaf_hash(node: ServiceContext) -> None:
    code, clerk = _resident(node)
    for _ in range(10):
        reading.read_resident(node, actor=clerk, resident_code=code)
    audit.publish_tree_head(node)
    with node.uow() as uow:
        row = uow.session.get(AccessLogRow, 5)
        assert row is not None
        entry = store.entry_of_row(row)
        from dataclasses import replace

        from jukinet.domain.access_log import entry_leaf_hash

        forged = replace(entry, actor="nobody")
        row.actor = "nobody"
        row.leaf_hash = entry_leaf_hash(5, forged)
        uow.commit()
    report = audit.verify(node)
    assert not report.ok
    assert any("signed head at size 11 does not match" in p for p in report.problems)


@pytest.mark.usefixtures("verify_path")
def test_retention_deletes_old_content_and_leaves_a_signed_receipt(
    node: ServiceContext, clock: FixedClock
) -> None:
    code, clerk = _resident(node)
    for _ in range(4):
        reading.read_resident(node, actor=clerk, resident_code=code)
    audit.publish_tree_head(node)
    clock.advance(days=365 * 7 + 3)
    reading.read_resident(node, actor=clerk, resident_code=code)
    result = audit.apply_retention(node)
    assert (result.first, result.end, result.count) == (0, 5, 5)
    rows = _entries(node)
    assert [r.subject for r in rows[:5]] == [None] * 5
    assert rows[5].subject == code
    assert rows[6].action == Action.RETENTION
    assert audit.apply_retention(node).count == 0
    report = audit.verify(node)
    assert report.ok, report.problems
    assert report.purged == 5
    # disclosure now only shows what is retained
    document = audit.disclose(node, actor=clerk, request=audit.DisclosureRequest(code))
    assert len(document["entries"]) == 2

    with node.uow() as uow:  # deleting content without a receipt is caught
        uow.session.execute(
            update(AccessLogRow)
            .where(AccessLogRow.position == 5)
            .values(subject=None, purged_at=clock())
        )
        uow.commit()
    assert "without a deletion receipt" in " ".join(audit.verify(node).problems)


@pytest.mark.usefixtures("verify_path")
def test_concurrent_reads_get_dense_positions(node: ServiceContext) -> None:
    code, _clerk = _resident(node)
    actors = [make_actor(node, username=f"clerk{n}x") for n in range(4)]
    errors: list[BaseException] = []

    def work(actor: object) -> None:
        try:
            for _ in range(10):
                reading.read_resident(node, actor=actor, resident_code=code)  # type: ignore[arg-type]
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=work, args=(a,)) for a in actors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    rows = _entries(node)
    assert [r.position for r in rows] == list(range(41))
    audit.publish_tree_head(node)  # what the node's schedule does
    assert audit.verify(node).ok
