"""Identity notices travel municipality → prefecture → centre over mutual TLS, exactly once."""

from __future__ import annotations

import ssl
from datetime import date

import httpx
import pytest
from cryptography import x509
from sqlalchemy import func, select, update

from jukinet.network.context import NetworkContext, Rejected
from jukinet.network.delivery import LinkSender, prepare_batch
from jukinet.network.envelope import Envelope
from jukinet.network.inbox import record_handshake_refusals
from jukinet.services import register
from jukinet.services.context import ServiceContext
from jukinet.storage.tables import (
    IdentityHistoryRow,
    IdentityRecordRow,
    InboxRow,
    NetworkRejectionRow,
    OutboundEnvelopeRow,
    OutboxRow,
)
from tests.integration.network.conftest import MUNICIPALITY, NATIONAL, PREFECTURE, STRANGER, Tiers
from tests.support.factories import make_actor, move_in_household, person
from tests.support.network import free_port, make_node, real_now, sender, serving


def _count(node: ServiceContext, table: type) -> int:
    with node.session_factory() as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


def _record(node: ServiceContext, code: str) -> IdentityRecordRow | None:
    with node.session_factory() as session:
        return session.get(IdentityRecordRow, code)


def _drain(tiers: Tiers) -> None:
    up = sender(tiers.municipality, PREFECTURE)
    while up.deliver_once().sent:
        pass
    up.close()
    top = sender(tiers.prefecture, NATIONAL)
    while top.deliver_once().sent:
        pass
    top.close()


def test_a_move_in_reaches_the_prefecture_and_the_centre(tiers: Tiers) -> None:
    clerk = make_actor(tiers.municipality)
    result = move_in_household(tiers.municipality, clerk, person())
    code = result.records[0].record.resident_code
    _drain(tiers)
    for node in (tiers.prefecture, tiers.national):
        record = _record(node, code)
        assert record is not None
        assert record.family_name == "山田"
        assert record.address == "東京都西東京市泉町一丁目2番3号"
        assert record.deleted is False
        assert _count(node, IdentityHistoryRow) == 1
    with tiers.municipality.session_factory() as session:
        assert session.scalars(select(OutboxRow.delivered_at)).one() is not None
        assert session.scalars(select(OutboundEnvelopeRow.status)).one() == "applied"


def test_history_and_deletion_follow_the_register(tiers: Tiers) -> None:
    clerk = make_actor(tiers.municipality)
    result = move_in_household(tiers.municipality, clerk, person())
    code = result.records[0].record.resident_code
    register.file_move_within(
        tiers.municipality,
        actor=clerk,
        household_number=result.records[0].record.household_number,
        address="東京都西東京市田無町四丁目5番6号",
        moved_on=date(2026, 11, 25),
        filed_on=date(2026, 11, 26),
    )
    register.file_move_out(
        tiers.municipality,
        actor=clerk,
        resident_codes=[code],
        destination="大阪府大阪市北区",
        planned_on=date(2026, 12, 5),
        filed_on=date(2026, 11, 26),
    )
    _drain(tiers)
    record = _record(tiers.national, code)
    assert record is not None
    assert record.deleted is True
    assert record.address == "東京都西東京市田無町四丁目5番6号"
    with tiers.national.session_factory() as session:
        reasons = list(
            session.scalars(select(IdentityHistoryRow.reason).order_by(IdentityHistoryRow.version))
        )
    assert reasons == ["A02", "B01", "C01"]


def test_a_lost_acknowledgement_does_not_apply_twice(tiers: Tiers) -> None:
    clerk = make_actor(tiers.municipality)
    move_in_household(tiers.municipality, clerk, person())
    up = sender(tiers.municipality, PREFECTURE)
    up.deliver_once()
    # Forget the acknowledgement, as if the answer had been lost on the way back.
    with tiers.municipality.session_factory() as session, session.begin():
        session.execute(update(OutboundEnvelopeRow).values(acked_at=None))
        session.execute(update(OutboxRow).values(delivered_at=None))
    report = up.deliver_once()
    up.close()
    assert report.sent == 1
    assert _count(tiers.prefecture, IdentityHistoryRow) == 1
    assert _count(tiers.prefecture, InboxRow) == 1


def _post(tiers: Tiers, node: ServiceContext, envelopes: list[dict[str, object]]) -> httpx.Response:
    net = node.network
    assert net is not None
    with httpx.Client(verify=net.client_ssl_context()) as client:
        return client.post(
            tiers.urls[PREFECTURE] + "/network/v1/inbox", json={"envelopes": envelopes}
        )


def _signed_batch(tiers: Tiers) -> list[dict[str, object]]:
    clerk = make_actor(tiers.municipality)
    move_in_household(tiers.municipality, clerk, person())
    net = tiers.municipality.network
    assert net is not None
    return [e.as_dict() for e in prepare_batch(tiers.municipality, net, PREFECTURE, limit=10)]


def test_tampered_envelope_is_refused_and_recorded(tiers: Tiers) -> None:
    batch = _signed_batch(tiers)
    batch[0]["body"]["identity"]["address"] = "東京都千代田区千代田1番1号"  # type: ignore[index]
    response = _post(tiers, tiers.municipality, batch)
    assert response.status_code == 403
    assert response.json()["error"] == "bad signature"
    assert _count(tiers.prefecture, IdentityRecordRow) == 0
    assert _count(tiers.prefecture, NetworkRejectionRow) == 1


def test_envelope_from_another_certificate_is_refused(tiers: Tiers) -> None:
    batch = _signed_batch(tiers)
    stranger = make_node_like(tiers, STRANGER)
    response = _post(tiers, stranger, batch)
    assert response.status_code == 403
    assert "TLS peer" in response.json()["error"]
    assert _count(tiers.prefecture, IdentityRecordRow) == 0


def make_node_like(tiers: Tiers, name: str) -> ServiceContext:
    """A node object holding another node's credentials (it only needs to make requests)."""
    return make_node(
        name,
        database_url=tiers.municipality.settings.database_url,
        pki=tiers.pki,
        peers={},
        clock=tiers.municipality.clock,
    )


def test_replayed_and_gapped_sequences_are_refused(tiers: Tiers) -> None:
    batch = _signed_batch(tiers)
    first = _post(tiers, tiers.municipality, batch)
    assert first.status_code == 200
    assert first.json()["document"]["results"][0]["status"] == "applied"
    # The same envelope again: recognised, not applied twice.
    again = _post(tiers, tiers.municipality, batch)
    assert again.json()["document"]["results"][0]["status"] == "applied"
    assert _count(tiers.prefecture, IdentityHistoryRow) == 1
    # Another envelope reusing the sequence number is a replay; a jump is a gap.
    net = tiers.municipality.network
    assert net is not None
    forged = Envelope.from_dict(batch[0] | {"id": "f" * 32})
    replay = _post(tiers, tiers.municipality, [net.sign(forged).as_dict()])
    assert replay.json()["document"]["results"][0]["status"] == "replay"
    jumped = Envelope.from_dict(batch[0] | {"id": "e" * 32, "sequence": 5})
    gap = _post(tiers, tiers.municipality, [net.sign(jumped).as_dict()])
    assert gap.json()["document"]["results"][0]["status"] == "gap"
    assert _count(tiers.prefecture, IdentityHistoryRow) == 1


def test_unknown_recipient_is_refused(tiers: Tiers) -> None:
    batch = _signed_batch(tiers)
    net = tiers.municipality.network
    assert net is not None
    wrong = Envelope.from_dict(batch[0] | {"recipient": "prefecture:14"})
    response = _post(tiers, tiers.municipality, [net.sign(wrong).as_dict()])
    assert response.status_code == 403
    assert response.json()["error"] == "unknown recipient"


def test_revoked_certificate_is_refused_at_tls(tiers: Tiers) -> None:
    creds = tiers.pki.node(MUNICIPALITY)
    tiers.pki.revoke(
        tiers.signer, x509.load_pem_x509_certificate(creds.tls_cert.read_bytes()), now=real_now()
    )
    # The running server re-reads the CRL for its application-level check at once.
    assert tiers.prefecture.network is not None
    tiers.prefecture.network.refresh_trust()
    batch = _signed_batch(tiers)
    net = tiers.municipality.network
    assert net is not None
    response = _post(tiers, tiers.municipality, batch)
    assert response.status_code == 401
    assert "revoked" in response.json()["error"]
    # A server that loaded the new CRL refuses the revoked certificate in the TLS handshake
    # (TLS 1.3 reports it to the client as a dropped connection).
    tiers.prefecture.network = NetworkContext.load(tiers.prefecture.node_id, tiers.pki.folder, {})
    port = free_port()
    with (
        serving(tiers.prefecture, port),
        httpx.Client(verify=net.client_ssl_context()) as client,
        pytest.raises((ssl.SSLError, httpx.TransportError)),
    ):
        client.post(f"https://127.0.0.1:{port}/network/v1/inbox", json={"envelopes": batch})
    assert _count(tiers.prefecture, IdentityRecordRow) == 0
    # Both refusals are on record for the security console: the application's and the
    # handshake's (noted by the TLS layer, written by the node's recorder).
    assert record_handshake_refusals(tiers.prefecture, tiers.prefecture.network) >= 1
    with tiers.prefecture.session_factory() as session:
        reasons = session.scalars(select(NetworkRejectionRow.reason)).all()
    assert any("revoked" in r and not r.startswith("TLS") for r in reasons)
    assert "TLS handshake refused: certificate revoked" in reasons


def test_malformed_notice_is_quarantined_and_holds_only_its_resident(tiers: Tiers) -> None:
    clerk = make_actor(tiers.municipality)
    first = move_in_household(tiers.municipality, clerk, person()).records[0].record
    other = (
        move_in_household(tiers.municipality, clerk, person(family="佐藤", family_kana="サトウ"))
        .records[0]
        .record
    )
    # A bug corrupts the first resident's notice after commit (like the 2013 incident).
    with tiers.municipality.session_factory() as session, session.begin():
        row = session.scalars(
            select(OutboxRow).where(OutboxRow.subject == first.resident_code)
        ).one()
        body = dict(row.body)
        body["identity"] = dict(body["identity"]) | {"birth_date": "1980-02-30"}
        row.body = body
    register.file_move_within(
        tiers.municipality,
        actor=clerk,
        household_number=first.household_number,
        address="東京都西東京市田無町四丁目5番6号",
        moved_on=date(2026, 11, 25),
        filed_on=date(2026, 11, 26),
    )
    register.file_move_within(
        tiers.municipality,
        actor=clerk,
        household_number=other.household_number,
        address="東京都西東京市田無町一丁目1番1号",
        moved_on=date(2026, 11, 25),
        filed_on=date(2026, 11, 26),
    )
    _drain(tiers)
    assert _record(tiers.prefecture, first.resident_code) is None
    settled = _record(tiers.prefecture, other.resident_code)
    assert settled is not None
    assert settled.address == "東京都西東京市田無町一丁目1番1号"
    with tiers.municipality.session_factory() as session:
        statuses = {(r.sequence, r.status) for r in session.scalars(select(OutboundEnvelopeRow))}
    assert (1, "quarantined") in statuses
    assert (3, "held") in statuses
    with tiers.prefecture.session_factory() as session:
        quarantined = session.scalars(
            select(InboxRow).where(InboxRow.status == "quarantined")
        ).one()
    assert "birth_date" in (quarantined.reason or "") or "date" in (quarantined.reason or "")
    assert _record(tiers.national, first.resident_code) is None
    assert _record(tiers.national, other.resident_code) is not None


def test_link_sender_refuses_an_ack_from_the_wrong_node(tiers: Tiers) -> None:
    clerk = make_actor(tiers.municipality)
    move_in_household(tiers.municipality, clerk, person())
    net = tiers.municipality.network
    assert net is not None
    # Point the link to prefecture 13 at the national centre's address: TLS succeeds (same CA)
    # but the centre refuses the envelope, and nothing is marked delivered.
    misdirected = LinkSender(tiers.municipality, net, PREFECTURE)
    misdirected.url = tiers.urls[NATIONAL] + "/network/v1/inbox"
    with pytest.raises(Rejected):
        misdirected.deliver_once()
    misdirected.close()
    with tiers.municipality.session_factory() as session:
        assert session.scalars(select(OutboxRow.delivered_at)).one() is None


@pytest.mark.parametrize(
    "address",
    ["東京都西東京市泉町\x00一丁目", "東京都西東京市\n泉町一丁目", "<script>alert(1)</script>"],
)
def test_an_address_the_counter_would_refuse_is_quarantined_upstream(
    tiers: Tiers, address: str
) -> None:
    """The municipality's real keys sign a notice whose address carries NUL, a line break or
    markup (written into its outbox behind the counter's back): the prefecture refuses it."""
    clerk = make_actor(tiers.municipality)
    resident = move_in_household(tiers.municipality, clerk, person()).records[0].record
    with tiers.municipality.session_factory() as session, session.begin():
        row = session.scalars(
            select(OutboxRow).where(OutboxRow.subject == resident.resident_code)
        ).one()
        row.body = dict(row.body) | {"identity": dict(row.body["identity"]) | {"address": address}}
    _drain(tiers)
    assert _record(tiers.prefecture, resident.resident_code) is None
    with tiers.prefecture.session_factory() as session:
        refused = session.scalars(select(InboxRow).where(InboxRow.status == "quarantined")).one()
    assert "address" in (refused.reason or "")
    assert _record(tiers.national, resident.resident_code) is None
