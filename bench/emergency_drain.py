"""Draining a municipality's outbox after a two-card emergency disconnect of its link (issue 12).

For each backend, on real node processes (national:jlis ← prefecture:13 ← municipality:132292
and municipality:132012 under the same prefecture), in one run:

1. sustained: counter changes at 132292 paced at ``--rate`` for ``--seconds`` (the driver of
   ``tests.support.counter_load``, shared with the end-to-end emergency test); the rate at
   which their history rows arrive at the centre (first to last arrival) is the baseline;
2. another link cut: two cards at 132012 cut its link to the prefecture; the same load at
   132292; p50/p99 latency commit → history row at the centre; the cut is then ended (two cards);
3. drain: two cards at 132292 cut its own link; the load goes on for ``--cut-seconds`` (the
   notices queue in its outbox, nothing reaches the centre); two cards end the cut; the drain
   rate is the backlog divided by the time from the end of the cut to the last arrival at the
   centre, and its ratio to the sustained rate is reported (aim ≥ 0.9).

The cuts are made the way an operator makes them, minus the browser: two operators sign in at
the node with their own token cards (``tests.support.emergency.carded``: the real card sign-in)
and call ``services.emergency.disconnects.propose``/``countersign`` against the node's database;
the running node process sees the cut within its watcher's 2 s.

Checked after the drain: every change reached the centre exactly once (row count, distinct
(resident, version)), and ``services.reconcile`` at the municipality agrees with upstream.

Usage: ``python -m bench.emergency_drain [--rate R] [--seconds S] [--cut-seconds C]``.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from tests.support.counter_load import Change, Driver, as_utc, single_households
from tests.support.emergency import carded, cut_of

from bench._common import BACKENDS
from bench._network import (
    CENTRE,
    SEED_DAY,
    TOKYO,
    TOWN,
    TOWN_CODE,
    CpuMeter,
    bench_cluster,
    count_rows,
    emit,
    load_average,
    logged_failures,
    machine,
    percentile,
    wait_for_quiet,
    wait_until,
)
from bench.network_propagation import _clerk, _stats_ms
from jukinet.domain.emergency import DisconnectProposal
from jukinet.domain.operators import Role
from jukinet.runtime.bootstrap import build_node
from jukinet.runtime.cluster import Cluster
from jukinet.seed import generate_population
from jukinet.services.context import ServiceContext
from jukinet.services.emergency import disconnects
from jukinet.services.population import load_population
from jukinet.services.reconcile import reconcile
from jukinet.storage.tables import IdentityHistoryRow, OutboxRow

HACHIOJI = "municipality:132012"
#: The running node re-reads the cuts in force every 2 s (runtime.background watcher).
WATCHER_SECONDS = 2.5


def _handle(cluster: Cluster, name: str) -> ServiceContext:
    # Cheap argon2: signing the operators in is not what is measured.
    return build_node(
        cluster.nodes[name].config.settings(argon2_time_cost=1, argon2_memory_cost=8192)
    )


def _cut(node: ServiceContext, minutes: float) -> int:
    """Two cards cut ``node``'s link to the prefecture; returns the disconnect's id."""
    officer = carded(node, Role.SECURITY_OFFICER)
    delegate = carded(node, Role.SUPERVISOR)
    proposal = disconnects.propose(
        node, actor=officer, proposal=cut_of("link", TOKYO, minutes=minutes)
    )
    return disconnects.countersign(node, actor=delegate, proposal_id=proposal.id).id


def _end(node: ServiceContext, cut_id: int) -> None:
    """Two cards end the cut ``cut_id``."""
    officer = carded(node, Role.SECURITY_OFFICER)
    delegate = carded(node, Role.SUPERVISOR)
    ending = disconnects.propose(
        node,
        actor=officer,
        proposal=DisconnectProposal(action="end", reason="解除", disconnect_id=cut_id),
    )
    disconnects.countersign(node, actor=delegate, proposal_id=ending.id)


def _arrivals(centre: ServiceContext) -> dict[tuple[str, int], datetime]:
    with centre.session_factory() as session:
        rows = session.execute(
            select(
                IdentityHistoryRow.resident_code,
                IdentityHistoryRow.version,
                IdentityHistoryRow.received_at,
            ).where(IdentityHistoryRow.version >= 2)
        ).all()
    return {(str(r[0]), int(r[1])): as_utc(r[2]) for r in rows}


def _pending(town: ServiceContext) -> int:
    return count_rows(town, OutboxRow, OutboxRow.delivered_at.is_(None))


def _run(driver: Driver) -> list[Change]:
    before = len(driver.changes)
    driver.run()
    return driver.changes[before:]


def _driver(town: ServiceContext, clerk: Any, people: Any, args: Any, **more: Any) -> Driver:
    return Driver(town, clerk, people, rate=args.rate, warmup=0.0, threads=args.threads, **more)


def _measure(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    households = generate_population(TOWN_CODE, args.seed_residents, today=SEED_DAY, seed=7)
    with bench_cluster(backend, names=(CENTRE, TOKYO, TOWN, HACHIOJI)) as cluster:
        town, clerk = _clerk(cluster)
        hachioji, centre = _handle(cluster, HACHIOJI), cluster.handle(CENTRE)
        seeded = load_population(town, actor=None, households=households)
        wait_until(
            lambda: count_rows(centre, IdentityHistoryRow) >= seeded,
            timeout=300,
            what="the seeded residents to reach the centre",
            interval=0.2,
        )
        people = single_households(town)
        busy_before = wait_for_quiet()
        load_before = load_average()
        versions: dict[str, int] = {}
        errors: list[str] = []
        slot = 0

        def phase(seconds: float) -> list[Change]:
            nonlocal slot
            driver = _driver(
                town, clerk, people, args, seconds=seconds, first_slot=slot, versions=versions
            )
            made = _run(driver)
            slot += driver.slots
            errors.extend(driver.errors)
            return made

        def all_arrived(total: int) -> float:
            return wait_until(
                lambda: count_rows(centre, IdentityHistoryRow) >= total,
                timeout=600,
                what="every change to reach the centre",
                interval=0.1,
            )

        meter = CpuMeter(cluster)
        meter.start()
        # 1. sustained
        sustained = phase(args.seconds)
        all_arrived(seeded + len(sustained))
        at = _arrivals(centre)
        times = sorted(at[(c.resident_code, c.centre_version)] for c in sustained)
        sustained_rate = (len(times) - 1) / (times[-1] - times[0]).total_seconds()
        # 2. another municipality's link is cut
        other = _cut(hachioji, minutes=30)
        time.sleep(WATCHER_SECONDS)
        during = phase(args.seconds)
        all_arrived(seeded + len(sustained) + len(during))
        at = _arrivals(centre)
        latency = [
            (at[(c.resident_code, c.centre_version)] - c.committed_at).total_seconds()
            for c in during
        ]
        _end(hachioji, other)
        # 3. this municipality's link is cut, the counter goes on, the cut ends
        before_cut = count_rows(centre, IdentityHistoryRow)
        # Long enough not to expire by itself when the driver falls behind its pace: the bench
        # ends it with two cards.
        own = _cut(town, minutes=60 + args.cut_seconds / 60)
        time.sleep(WATCHER_SECONDS)
        slipped_in = count_rows(centre, IdentityHistoryRow) - before_cut  # sent before the cut
        queued = phase(args.cut_seconds)
        leaked = count_rows(centre, IdentityHistoryRow) - before_cut - slipped_in
        backlog = _pending(town)
        _end(town, own)
        ended = datetime.now(UTC)
        total = seeded + len(sustained) + len(during) + len(queued)
        all_arrived(total)
        cpu = meter.stop()
        at = _arrivals(centre)
        queued_times = sorted(at[(c.resident_code, c.centre_version)] for c in queued)
        drain_seconds = (queued_times[-1] - ended).total_seconds()
        drain_rate = len(queued) / drain_seconds if drain_seconds > 0 else float("nan")
        rows = count_rows(centre, IdentityHistoryRow)
        with centre.session_factory() as session:
            distinct = int(
                session.scalar(
                    select(func.count()).select_from(
                        select(IdentityHistoryRow.resident_code, IdentityHistoryRow.version)
                        .distinct()
                        .subquery()
                    )
                )
                or 0
            )
        try:
            report_ = reconcile(town)
            reconciled: Any = {"consistent": report_.consistent, "expected": report_.expected}
        except Exception as error:  # reported; the figures stand without it
            reconciled = f"{type(error).__name__}: {error}"[:200]
        failures = logged_failures(cluster)
        for handle in (town, hachioji, centre):
            handle.engine.dispose()
    made = sustained + during + queued
    return {
        "benchmark": "emergency_drain",
        "backend": backend,
        "target_rate_per_s": args.rate,
        "seconds": args.seconds,
        "cut_seconds": args.cut_seconds,
        "seeded_residents": seeded,
        "changed_residents": len(people) - len(people) % args.threads,
        "sustained": {
            "changes": len(sustained),
            "centre_rate_per_s": round(sustained_rate, 1),
        },
        "other_link_cut": {
            "changes": len(during),
            "latency_to_centre": _stats_ms(latency),
        },
        "drain": {
            "changes_during_cut": len(queued),
            "sent_before_cut_took_hold": slipped_in,
            "reached_centre_during_cut": leaked,
            "outbox_backlog_at_end": backlog,
            "drain_seconds": round(drain_seconds, 2),
            "drain_rate_per_s": round(drain_rate, 1),
            # The backlog's own pace, not counting the wait for the node to see the end.
            "rate_first_to_last_arrival_per_s": round(
                (len(queued_times) - 1) / (queued_times[-1] - queued_times[0]).total_seconds(), 1
            ),
            "first_arrival_after_end_ms": round((queued_times[0] - ended).total_seconds() * 1e3, 1),
        },
        "ratio_drain_to_sustained": round(drain_rate / sustained_rate, 2),
        "centre_rows": rows,
        "expected_rows": seeded + len(made),
        "duplicates": rows - distinct,
        "lost": seeded + len(made) - distinct,
        "reconcile": reconciled,
        "errors": len(errors),
        "first_errors": errors[:3],
        "pacing_lateness_p99_ms": round(percentile([c.lateness for c in made], 99) * 1e3, 1),
        "delivery_failures_logged": failures,
        "machine_busy_before": busy_before,
        "load_average_before": load_before,
        "load_average_after": load_average(),
        "cpu_share": cpu,
        "machine": machine(),
    }


def main() -> None:
    """Run the benchmark on every backend and print one JSON line per backend."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=200.0, help="changes per second")
    parser.add_argument("--seconds", type=float, default=20.0, help="sustained window")
    parser.add_argument("--cut-seconds", type=float, default=600.0, help="length of the cut")
    parser.add_argument("--threads", type=int, default=2, help="driver threads")
    parser.add_argument("--seed-residents", type=int, default=1000, help="residents seeded")
    args = parser.parse_args()
    for backend in BACKENDS:
        emit("emergency_drain", _measure(backend, args))


if __name__ == "__main__":
    main()
