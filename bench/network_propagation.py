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
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import func, select

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
from jukinet.services import register
from jukinet.services.context import ServiceContext
from jukinet.services.operators import add_operator, authenticate
from jukinet.services.population import load_population
from jukinet.storage.tables import HouseholdRow, IdentityHistoryRow, ResidentRow

PASSWORD = "bench password 123"
#: (family, given, family kana, given kana): names a changed resident takes in turn.
NAMES = [
    ("髙橋", "健一", "タカハシ", "ケンイチ"),
    ("渡邊", "直樹", "ワタナベ", "ナオキ"),
    ("齋藤", "翔", "サイトウ", "ショウ"),
]
STREETS = ["泉町", "田無町", "向台町", "芝久保町", "谷戸町"]


@dataclass(frozen=True, slots=True)
class Change:
    """One counter change that was made: whom, what, when it committed and how late it ran."""

    slot: int
    resident_code: str
    #: The resident's version at the centre this change produces (seeded as version 1).
    centre_version: int
    kind: str
    committed_at: datetime
    lateness: float
    measured: bool


def _as_utc(value: datetime) -> datetime:
    # SQLite gives timezone-aware columns back naive (in UTC, as they were written).
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _single_households(town: ServiceContext) -> list[tuple[str, str]]:
    """(household number, resident code) of every one-person household."""
    with town.session_factory() as session:
        alone = (
            select(ResidentRow.household_id)
            .group_by(ResidentRow.household_id)
            .having(func.count() == 1)
        )
        rows = session.execute(
            select(HouseholdRow.household_number, ResidentRow.resident_code)
            .join(ResidentRow, ResidentRow.household_id == HouseholdRow.id)
            .where(ResidentRow.household_id.in_(alone))
            .order_by(HouseholdRow.id)
        ).all()
    return [(str(r[0]), str(r[1])) for r in rows]


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


class Driver:
    """Makes the changes, ``threads`` at a time, each at its slot's time on the clock."""

    def __init__(
        self,
        town: ServiceContext,
        actor: Actor,
        people: list[tuple[str, str]],
        *,
        rate: float,
        warmup: float,
        seconds: float,
        threads: int,
        first_slot: int = 0,
        versions: dict[str, int] | None = None,
    ) -> None:
        self.town = town
        # A later run on the same people goes on from ``first_slot`` (a multiple of
        # ``threads``) with the versions the earlier run left, so every change still differs.
        self.first_slot = first_slot
        self.actor = actor
        # Slot s changes people[s % len(people)]; with len(people) a multiple of ``threads``
        # a resident is always changed by the same thread, so its versions stay in order.
        self.people = people[: len(people) - len(people) % threads]
        self.rate = rate
        self.warmup_slots = int(warmup * rate)
        self.slots = self.warmup_slots + int(seconds * rate)
        self.threads = threads
        self.changes: list[Change] = []
        self.errors: list[str] = []
        self._lock = threading.Lock()
        self._versions: dict[str, int] = versions if versions is not None else {}

    def run(self) -> None:
        """Make every change; returns when all threads are done."""
        self.start = time.perf_counter() + 0.2
        workers = [
            threading.Thread(target=self._work, args=(k,), name=f"driver-{k}", daemon=True)
            for k in range(self.threads)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()

    def _work(self, first: int) -> None:
        today = self.town.today()
        begin, end = self.first_slot + first, self.first_slot + self.slots
        for slot in range(begin, end, self.threads):
            due = self.start + (slot - self.first_slot) / self.rate
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            lateness = max(0.0, time.perf_counter() - due)
            household_number, code = self.people[slot % len(self.people)]
            # How often this resident was changed before: each change differs from the last.
            turn = slot // len(self.people)
            try:
                if slot % 2 == 0:
                    kind = "move_within"
                    register.file_move_within(
                        self.town,
                        actor=self.actor,
                        household_number=household_number,
                        address=f"東京都西東京市{STREETS[turn % len(STREETS)]}一丁目"
                        f"{turn % 30 + 1}番{slot % 9 + 1}号",
                        moved_on=today,
                        filed_on=today,
                    )
                else:
                    kind = "name_change"
                    family, given, family_kana, given_kana = NAMES[turn % len(NAMES)]
                    register.file_name_change(
                        self.town,
                        actor=self.actor,
                        resident_code=code,
                        family_name=family,
                        given_name=given,
                        family_name_kana=family_kana,
                        given_name_kana=given_kana,
                        changed_on=today,
                        filed_on=today,
                    )
            except Exception as error:  # recorded and reported; the run goes on
                with self._lock:
                    self.errors.append(f"{type(error).__name__}: {error}"[:200])
                continue
            committed = datetime.now(UTC)
            with self._lock:
                version = self._versions.get(code, 1) + 1
                self._versions[code] = version
                self.changes.append(
                    Change(
                        slot=slot,
                        resident_code=code,
                        centre_version=version,
                        kind=kind,
                        committed_at=committed,
                        lateness=lateness,
                        measured=slot - self.first_slot >= self.warmup_slots,
                    )
                )


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
    return {(str(r[0]), int(r[1])): _as_utc(r[2]) for r in rows}


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
        people = _single_households(town)
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
