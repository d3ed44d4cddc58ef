"""A municipality's reconciliation run: digests, the conversation, the plan, the repairs.

Upstream computes its bucket digests while this node computes its own; the buckets that differ
at either tier are then opened record by record (resident codes and hashes only), compared with
what is expected there, and the differences are repaired by re-sending or withdrawing — except
for records whose messages are still on their way upstream.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx

from jukinet.domain.codes import is_valid_resident_code
from jukinet.domain.network import NATIONAL, NodeRole
from jukinet.domain.reconcile import (
    BUCKETS_KIND,
    RECORDS_KIND,
    bucket_digests,
    compare_records,
    differing_buckets,
    in_buckets,
    not_a_municipality,
    not_connected,
)
from jukinet.network.context import NetworkContext
from jukinet.network.reconcile_client import (
    BUCKETS_PATH,
    RECORDS_PATH,
    Conversation,
    open_client,
    read_buckets,
    read_records,
)
from jukinet.services.context import ServiceContext
from jukinet.services.reconcile.municipality import (
    expected_hashes,
    in_flight_codes,
    queue_repairs,
)
from jukinet.services.reconcile.report import (
    NATIONAL_TIER,
    PREFECTURE_TIER,
    ReconcileReport,
    TierReport,
)


def _network_of(node: ServiceContext) -> tuple[NetworkContext, str]:
    if node.node_id.role is not NodeRole.MUNICIPALITY:
        raise not_a_municipality()
    net = node.network
    if not node.connected or net is None or node.upstream not in net.peers:
        raise not_connected()
    return net, net.peers[node.upstream].rstrip("/")


@dataclass
class _Tier:
    """One tier during a run: its bucket digests, then its records in the differing buckets."""

    tier: str
    node: str
    error: str | None = None
    held: int = 0
    buckets: dict[str, str] = field(default_factory=dict)
    differing: list[str] = field(default_factory=list)
    records: dict[str, str] = field(default_factory=dict)

    def take_buckets(self, answer: dict[str, Any] | str, ours: Mapping[str, str]) -> None:
        """Record the tier's bucket digests (or why it has none) and which buckets differ."""
        if isinstance(answer, str):
            self.error = answer
            return
        self.buckets, self.held = read_buckets(answer)
        self.differing = differing_buckets(ours, self.buckets)

    def take_records(self, answer: dict[str, Any] | str) -> None:
        """Record the tier's records in the differing buckets (or why it has none)."""
        if isinstance(answer, str):
            self.error = answer
            return
        self.records = read_records(answer, asked=self.differing)

    def report(self, expected: Mapping[str, str], ours: Mapping[str, str]) -> TierReport:
        """Compare the records of the differing buckets with those expected there."""
        if self.error is not None:
            return TierReport(self.tier, self.node, error=self.error, expected=len(expected))
        found = compare_records(in_buckets(expected, self.differing), self.records)
        return TierReport(
            self.tier,
            self.node,
            expected=len(expected),
            held=self.held,
            buckets_compared=len(set(ours) | set(self.buckets)),
            buckets_differing=self.differing,
            missing=found.missing,
            different=found.different,
            extra=found.extra,
        )


def reconcile(
    node: ServiceContext, *, repair: bool = True, client: httpx.Client | None = None
) -> ReconcileReport:
    """Compare this municipality with its prefecture and the centre; repair what differs.

    Returns the report. With ``repair`` (the default) the fixes are queued in the outbox in one
    transaction — a snapshot for every record missing or different at either tier, a withdrawal
    for every record held but not expected — and leave with the normal delivery. Records that
    still have messages on their way upstream are reported as in flight and not touched.
    ``client`` replaces the mutual-TLS HTTP client (it is not closed).

    Raises :class:`ReconcileRefused` (JUKI-NET-030/031) on a node that is not a connected
    municipality, :class:`ReconcileFailed` (JUKI-NET-032/033) when the prefecture cannot be
    asked or its answer cannot be verified. The centre being out of reach is not an error: its
    tier is reported with the reason.
    """
    net, url = _network_of(node)
    began = time.perf_counter()
    started_at = node.now().isoformat()
    prefecture = _Tier(PREFECTURE_TIER, node.upstream)
    national = _Tier(NATIONAL_TIER, str(NATIONAL))
    with open_client(net, client, peer=node.upstream) as http:
        talk = Conversation(node, net, http, url)
        with ThreadPoolExecutor(max_workers=1) as pool:
            # Upstream computes its digests while we compute ours.
            asked = pool.submit(talk.ask, BUCKETS_PATH, BUCKETS_KIND, {})
            with node.session_factory() as session:
                expected = expected_hashes(session)
            ours = bucket_digests(expected)
            digest_seconds = time.perf_counter() - began
            answer = asked.result()
        prefecture.take_buckets(answer, ours)
        national.take_buckets(talk.national(answer, BUCKETS_KIND), ours)
        if prefecture.differing or national.differing:
            records = talk.ask(
                RECORDS_PATH,
                RECORDS_KIND,
                {"buckets": prefecture.differing, "national_buckets": national.differing},
            )
            prefecture.take_records(records)
            if national.differing:
                national.take_records(talk.national(records, RECORDS_KIND))
    reports = (prefecture.report(expected, ours), national.report(expected, ours))
    snapshots, withdrawals, in_flight = _plan(node, reports, expected)
    if repair and (snapshots or withdrawals):
        snapshots, withdrawals = queue_repairs(node, snapshots, withdrawals)
    return ReconcileReport(
        municipality_code=node.municipality_code,
        started_at=started_at,
        expected=len(expected),
        prefecture=reports[0],
        national=reports[1],
        snapshots=snapshots,
        withdrawals=withdrawals,
        in_flight=in_flight,
        repaired=repair,
        digest_seconds=digest_seconds,
        elapsed_seconds=time.perf_counter() - began,
    )


def _plan(
    node: ServiceContext, reports: Sequence[TierReport], expected: Mapping[str, str]
) -> tuple[list[str], list[str], list[str]]:
    """Codes to re-send, codes to withdraw, and differing codes left alone while in flight."""
    resend: set[str] = set()
    withdraw: set[str] = set()
    for report in reports:
        resend.update(report.missing, report.different)
        withdraw.update(report.extra)
    if not (resend or withdraw):
        return [], [], []
    with node.session_factory() as session:
        pending = in_flight_codes(session, upstream=node.upstream)
    in_flight = sorted((resend | withdraw) & pending)
    withdraw = {c for c in withdraw - pending if c not in expected and is_valid_resident_code(c)}
    return sorted(resend - pending), sorted(withdraw), in_flight
