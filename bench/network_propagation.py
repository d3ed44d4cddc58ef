"""Latency from a counter change at the municipality to its history row at the national centre.

For each backend, in the same run:
- a cluster of three node processes (national:jlis ← prefecture:13 ← municipality:132292) is
  started and a few thousand residents are seeded at the municipality (and left to reach the
  centre);
- baseline: round trips of ``GET /network/v1/health`` to the prefecture over HTTPS with mutual
  TLS, presenting the municipality's client certificate (``net.client_ssl_context()``), on one
  kept-alive connection (as the delivery worker uses) and, for reference, on a new connection
  each time;
- load: counter changes paced by the clock at a steady rate (default 200/s) for a warm-up
  (default 3 s, not counted) and then the measured window (default 20 s): alternately a move
  within the municipality (``file_move_within`` of a one-person household) and a name change
  (``file_name_change``), each producing exactly one identity notice. The wall-clock time is
  taken right after the service returns (its transaction committed);
- latency of each change = ``identity_history.received_at`` of that version at the centre (and
  at the prefecture, for the first hop) minus that commit time; all processes share one clock.

Reported: p50/p95/p99/max of the latency, the achieved change rate, how far the pacing fell
behind, and the ratio of p50 to the baseline's p50.

Usage: ``python -m bench.network_propagation [--rate R] [--seconds S] [--warmup W]``.
"""

from __future__ import annotations

import argparse
import time
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import select
from tests.support.counter_load import Driver, as_utc, single_households

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
    logged_failures,
    machine,
    percentile,
    wait_for_quiet,
    wait_until,
)
from jukinet.domain.operators import Actor, Role
from jukinet.runtime.bootstrap import build_node
from jukinet.runtime.cluster import Cluster
from jukinet.seed import generate_population
from jukinet.services.context import ServiceContext
from jukinet.services.operators import add_operator, authenticate
from jukinet.services.population import load_population
from jukinet.storage.tables import IdentityHistoryRow

PASSWORD = "bench password 123"


def _health_round_trips(town: ServiceContext, prefecture_url: str, n: int) -> dict[str, float]:
    """Round trips to the prefecture's health endpoint with the municipality's certificate."""
    if town.network is None:
        msg = "the municipality has no network context"
        raise RuntimeError(msg)
    url = prefecture_url.rstrip("/") + "/network/v1/health"
    context = town.network.client_ssl_context()
    kept: list[float] = []
    with httpx.Client(verify=context, timeout=10.0) as client:
        for _ in range(20):  # warm-up: handshake, first requests
            client.get(url).raise_for_status()
        for _ in range(n):
            start = time.perf_counter()
            client.get(url).raise_for_status()
            kept.append(time.perf_counter() - start)
    fresh: list[float] = []
    for _ in range(max(20, n // 10)):
        start = time.perf_counter()
        with httpx.Client(verify=context, timeout=10.0) as client:
            client.get(url).raise_for_status()
        fresh.append(time.perf_counter() - start)
    return {
        "keepalive_p50_ms": round(percentile(kept, 50) * 1e3, 3),
        "keepalive_p99_ms": round(percentile(kept, 99) * 1e3, 3),
        "new_connection_p50_ms": round(percentile(fresh, 50) * 1e3, 3),
        "new_connection_p99_ms": round(percentile(fresh, 99) * 1e3, 3),
    }


def _arrivals(node: ServiceContext) -> dict[tuple[str, int], datetime]:
    """When each changed version (2 and later) reached ``node``'s history."""
    with node.session_factory() as session:
        rows = session.execute(
            select(
                IdentityHistoryRow.resident_code,
                IdentityHistoryRow.version,
                IdentityHistoryRow.received_at,
            ).where(IdentityHistoryRow.version >= 2)
        ).all()
    return {(str(r[0]), int(r[1])): as_utc(r[2]) for r in rows}


def _stats_ms(values: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(percentile(values, 50) * 1e3, 1),
        "p95_ms": round(percentile(values, 95) * 1e3, 1),
        "p99_ms": round(percentile(values, 99) * 1e3, 1),
        "max_ms": round(max(values) * 1e3, 1) if values else float("nan"),
    }


def _clerk(cluster: Cluster) -> tuple[ServiceContext, Actor]:
    # A handle with cheap argon2: signing the clerk in is not what is measured.
    town = build_node(
        cluster.nodes[TOWN].config.settings(argon2_time_cost=1, argon2_memory_cost=8192)
    )
    add_operator(
        town,
        actor=None,
        username="benchclerk",
        display_name="試験 職員",
        role=Role.CLERK,
        password=PASSWORD,
    )
    return town, authenticate(town, username="benchclerk", password=PASSWORD)


def _measure(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    households = generate_population(TOWN_CODE, args.seed_residents, today=SEED_DAY, seed=7)
    with bench_cluster(backend) as cluster:
        town, actor = _clerk(cluster)
        prefecture, centre = cluster.handle(TOKYO), cluster.handle(CENTRE)
        seeded = load_population(town, actor=None, households=households)
        wait_until(
            lambda: count_rows(centre, IdentityHistoryRow) >= seeded,
            timeout=300,
            what="the seeded residents to reach the centre",
            interval=0.2,
        )
        people = single_households(town)
        busy_before = wait_for_quiet()
        prefecture_url = f"https://127.0.0.1:{cluster.nodes[TOKYO].config.network_port}"
        baseline = _health_round_trips(town, prefecture_url, args.health_requests)
        driver = Driver(
            town,
            actor,
            people,
            rate=args.rate,
            warmup=args.warmup,
            seconds=args.seconds,
            threads=args.threads,
        )
        meter = CpuMeter(cluster)
        meter.start()
        driver.run()
        cpu = meter.stop()
        expected = seeded + len(driver.changes)
        wait_until(
            lambda: count_rows(centre, IdentityHistoryRow) >= expected,
            timeout=300,
            what="every change to reach the centre",
            interval=0.2,
        )
        failures = logged_failures(cluster)
        at_prefecture = _arrivals(prefecture)
        at_centre = _arrivals(centre)
        for handle in (town, prefecture, centre):
            handle.engine.dispose()
    measured = sorted((c for c in driver.changes if c.measured), key=lambda c: c.committed_at)
    to_centre = [
        (at_centre[(c.resident_code, c.centre_version)] - c.committed_at).total_seconds()
        for c in measured
    ]
    to_prefecture = [
        (at_prefecture[(c.resident_code, c.centre_version)] - c.committed_at).total_seconds()
        for c in measured
    ]
    window = (measured[-1].committed_at - measured[0].committed_at).total_seconds()
    achieved = (len(measured) - 1) / window if window > 0 else float("nan")
    centre_stats = _stats_ms(to_centre)
    # Whether the network kept up: the latency of the first and the last quarter of the
    # window (growing means a queue was building), and how long the backlog took to drain.
    quarter = max(1, len(to_centre) // 4)
    last_commit = max(c.committed_at for c in driver.changes)
    drained = max(at_centre[(c.resident_code, c.centre_version)] for c in driver.changes)
    report: dict[str, Any] = {
        "benchmark": "network_propagation",
        "backend": backend,
        "target_rate_per_s": args.rate,
        "achieved_rate_per_s": round(achieved, 1),
        "measured_changes": len(measured),
        "warmup_changes": len(driver.changes) - len(measured),
        "errors": len(driver.errors),
        "first_errors": driver.errors[:3],
        "driver_threads": args.threads,
        "pacing_lateness_p50_ms": round(percentile([c.lateness for c in measured], 50) * 1e3, 1),
        "pacing_lateness_max_ms": round(max(c.lateness for c in measured) * 1e3, 1),
        "seeded_residents": seeded,
        "changed_residents": len(driver.people),
        "latency_to_centre": centre_stats,
        "latency_to_prefecture": _stats_ms(to_prefecture),
        "latency_to_centre_p50_first_quarter_ms": round(
            percentile(to_centre[:quarter], 50) * 1e3, 1
        ),
        "latency_to_centre_p50_last_quarter_ms": round(
            percentile(to_centre[-quarter:], 50) * 1e3, 1
        ),
        "drain_after_last_commit_ms": round((drained - last_commit).total_seconds() * 1e3, 1),
        "delivery_failures_logged": failures,
        "baseline_health_mtls": baseline,
        "ratio_p50_to_baseline_p50": round(
            centre_stats["p50_ms"] / baseline["keepalive_p50_ms"], 1
        ),
        "machine_busy_before": busy_before,
        "cpu_share_during_load": cpu,
        "machine": machine(),
    }
    return report


def main() -> None:
    """Run the benchmark on every backend and print one JSON line per backend."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=200.0, help="changes per second")
    parser.add_argument("--seconds", type=float, default=20.0, help="measured window")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds not counted")
    parser.add_argument("--threads", type=int, default=2, help="driver threads")
    parser.add_argument("--seed-residents", type=int, default=3000, help="residents seeded")
    parser.add_argument("--health-requests", type=int, default=500, help="baseline requests")
    args = parser.parse_args()
    for backend in BACKENDS:
        emit("network_propagation", _measure(backend, args))


if __name__ == "__main__":
    main()
