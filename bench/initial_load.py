"""Initial load (初期ロード) of one municipality's register into its prefecture and the centre.

The operational sequence this follows (as ``jukinet network initial-load`` documents it):
1. the cluster is created with municipality:132292 ``participation="disconnected"``; only the
   prefecture and the centre processes are started;
2. N residents (default 100,000) are seeded at the municipality with ``load_population``
   through an in-process handle — disconnected, so nothing is queued for upstream (checked);
3. the municipality is switched to connected the way an operator does it: ``node.json`` is
   rewritten with ``participation="connected"`` and its process is started (it has nothing to
   send yet); the in-process handle gets ``node.settings.participation = "connected"``;
4. the clock starts and ``jukinet.services.register.notices.initial_load(handle)`` queues a snapshot
   of every record in the outbox (one transaction); the running process delivers them;
5. the clock stops when the prefecture and the centre both hold N identity records.

Starting the municipality's process only after the switch is what makes this sound: a node
started disconnected runs no delivery workers, so it must be (re)started connected anyway, and
seeding before it runs keeps the seeding out of the measured delivery.

Baseline in the same run: the same N identity records (built from the municipality's register,
as the snapshots carry them: names, reading key, birth date, sex, address, digest) inserted with
SQLAlchemy Core ``executemany`` into the ``identity_records`` table of a fresh database on the
same backend, in one transaction.

The wait is bounded (``--max-seconds``, default 170): if the tiers are not complete by then,
the run reports how far they got, the rate and a projected completion time instead.

``--queue-only`` times step 4 alone (``initial_load()`` queueing N snapshots into the outbox,
no node processes), with the growth of the process's peak RSS (``ru_maxrss``) — cheap enough to
run at the full 100,000 when the whole delivery would not fit in a few minutes.

Usage: ``python -m bench.initial_load [N] [--max-seconds S] [--queue-only]``.
"""

from __future__ import annotations

import argparse
import resource
import threading
import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select

from bench._common import BACKENDS, bench_node, fresh_database
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
    wait_for_quiet,
)
from jukinet.domain.identity import IdentityInfo, identity_digest
from jukinet.domain.names import kana_search_key
from jukinet.seed import generate_households
from jukinet.services.context import ServiceContext
from jukinet.services.population import load_population
from jukinet.services.register.notices import initial_load
from jukinet.storage.database import make_engine
from jukinet.storage.tables import IdentityRecordRow, OutboxRow, ResidentRow, table_of

_records = table_of(IdentityRecordRow)
_residents = table_of(ResidentRow)


def _identity_rows(town: ServiceContext) -> list[dict[str, Any]]:
    """What the snapshots put into ``identity_records``, built from the municipality's rows."""
    now = datetime.now(UTC)
    r = _residents.c
    query = select(
        r.resident_code,
        r.municipality_code,
        r.family_name,
        r.given_name,
        r.family_name_kana,
        r.given_name_kana,
        r.birth_date,
        r.sex,
        r.address,
        r.status,
    ).where(r.upstream_opt_out.is_(False))
    rows: list[dict[str, Any]] = []
    with town.engine.connect() as conn:
        for row in conn.execute(query.order_by(r.id)):
            info = IdentityInfo(
                resident_code=row.resident_code,
                family_name=row.family_name,
                given_name=row.given_name,
                family_name_kana=row.family_name_kana,
                given_name_kana=row.given_name_kana,
                birth_date=row.birth_date,
                sex=row.sex,
                address=row.address,
            )
            deleted = row.status != "active"
            rows.append(
                {
                    "resident_code": info.resident_code,
                    "municipality_code": row.municipality_code,
                    "family_name": info.family_name,
                    "given_name": info.given_name,
                    "family_name_kana": info.family_name_kana,
                    "given_name_kana": info.given_name_kana,
                    "kana_key": kana_search_key(info.family_name_kana + info.given_name_kana),
                    "birth_date": info.birth_date,
                    "sex": info.sex,
                    "address": info.address,
                    "deleted": deleted,
                    "last_reason": "S01",
                    "last_changed_on": now.date(),
                    "version": 1,
                    "digest": identity_digest(info, deleted=deleted),
                    "updated_at": now,
                }
            )
    return rows


def _raw_records_insert(backend: str, rows: list[dict[str, Any]]) -> float:
    """Seconds to insert ``rows`` into ``identity_records`` of a fresh database."""
    with fresh_database(backend) as url:
        engine = make_engine(url)
        start = time.perf_counter()
        with engine.begin() as conn:
            conn.execute(insert(_records), rows)
        seconds = time.perf_counter() - start
        engine.dispose()
    return seconds


class Watch(threading.Thread):
    """Samples the identity records held by the prefecture and the centre."""

    def __init__(self, prefecture: ServiceContext, centre: ServiceContext) -> None:
        super().__init__(name="watch", daemon=True)
        self.prefecture = prefecture
        self.centre = centre
        self.samples: list[tuple[float, int, int]] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        """Sample every half second until stopped."""
        while not self.stopping.is_set():
            self.samples.append(
                (
                    time.perf_counter(),
                    count_rows(self.prefecture, IdentityRecordRow),
                    count_rows(self.centre, IdentityRecordRow),
                )
            )
            self.stopping.wait(0.5)

    def first(self, column: int, target: int) -> float | None:
        """When the count in ``column`` first reached ``target``."""
        for sample in self.samples:
            if sample[column] >= target:
                return sample[0]
        return None


def _measure(backend: str, n: int, max_seconds: float) -> dict[str, Any]:
    town_settings: dict[str, dict[str, object]] = {TOWN: {"participation": "disconnected"}}
    with bench_cluster(backend, settings=town_settings, start=False) as cluster:
        cluster.start([CENTRE, TOKYO])
        town = cluster.handle(TOWN)
        prefecture, centre = cluster.handle(TOKYO), cluster.handle(CENTRE)
        seed_start = time.perf_counter()
        seeded = load_population(
            town,
            actor=None,
            households=generate_households(TOWN_CODE, n, today=SEED_DAY, seed=20261126),
            total=n,
        )
        seed_seconds = time.perf_counter() - seed_start
        queued_while_disconnected = count_rows(town, OutboxRow)
        rows = _identity_rows(town)
        # Connect: the operator's node.json, the process, and the in-process handle.
        connected = cluster.nodes[TOWN].config.with_settings(participation="connected")
        connected.save(cluster.nodes[TOWN].folder)
        cluster.nodes[TOWN].config = connected
        cluster.start([TOWN])
        town.settings.participation = "connected"
        busy_before = wait_for_quiet()
        watch = Watch(prefecture, centre)
        meter = CpuMeter(cluster)
        meter.start()
        start = time.perf_counter()
        watch.start()
        queued = initial_load(town)
        queued_at = time.perf_counter()
        deadline = start + max_seconds
        while time.perf_counter() < deadline:
            if count_rows(centre, IdentityRecordRow) >= queued and (
                count_rows(prefecture, IdentityRecordRow) >= queued
            ):
                break
            time.sleep(0.25)
        finished = time.perf_counter()
        cpu = meter.stop()
        watch.stopping.set()
        watch.join()
        at_prefecture = count_rows(prefecture, IdentityRecordRow)
        at_centre = count_rows(centre, IdentityRecordRow)
        watch.samples.append((finished, at_prefecture, at_centre))
        # Failed delivery rounds logged by the node processes (e.g. "database is locked").
        failures = logged_failures(cluster)
        prefecture_done = watch.first(1, queued)
        centre_done = watch.first(2, queued)
        for handle in (town, prefecture, centre):
            handle.engine.dispose()
    complete = at_prefecture >= queued and at_centre >= queued
    elapsed = (centre_done if complete and centre_done else finished) - start
    rate = at_centre / elapsed if elapsed > 0 else float("nan")
    raw_seconds = _raw_records_insert(backend, rows)
    raw_rate = len(rows) / raw_seconds
    by_process: dict[str, float] = cpu["ours_cpu_seconds_by_process"]
    return {
        "benchmark": "initial_load",
        "backend": backend,
        "residents": seeded,
        "seed_seconds": round(seed_seconds, 2),
        "queued_while_disconnected": queued_while_disconnected,
        "snapshots_queued": queued,
        "queue_seconds": round(queued_at - start, 2),
        "complete": complete,
        "prefecture_records": at_prefecture,
        "centre_records": at_centre,
        "prefecture_all_seconds": round(prefecture_done - start, 2) if prefecture_done else None,
        "centre_all_seconds": round(centre_done - start, 2) if centre_done else None,
        "seconds_measured": round(elapsed, 2),
        "records_per_s_at_centre": round(rate, 1),
        "projected_seconds_for_all": round(queued / rate, 1) if rate > 0 else None,
        "raw_identity_insert_rows_per_s": round(raw_rate, 1),
        "ratio": round(rate / raw_rate, 4),
        "delivery_failures_logged": failures,
        "cpu_ms_per_record_by_process": {
            k: round(v / max(1, at_centre) * 1e3, 3) for k, v in by_process.items()
        },
        "cpu_share_during_run": {
            k: v for k, v in cpu.items() if k != "ours_cpu_seconds_by_process"
        },
        "machine_busy_before": busy_before,
        "machine": machine(),
    }


def _queue_only(backend: str, n: int) -> dict[str, Any]:
    """Only step 4's ``initial_load()`` (no node processes): its time and memory at size ``n``."""
    with fresh_database(backend) as url:
        town = bench_node(url)
        town.settings.participation = "disconnected"
        seeded = load_population(
            town,
            actor=None,
            households=generate_households(TOWN_CODE, n, today=SEED_DAY, seed=20261126),
            total=n,
        )
        town.settings.participation = "connected"
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        start = time.perf_counter()
        queued = initial_load(town)
        seconds = time.perf_counter() - start
        growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
        town.engine.dispose()
    return {
        "benchmark": "initial_load_queue_only",
        "backend": backend,
        "residents": seeded,
        "snapshots_queued": queued,
        "queue_seconds": round(seconds, 2),
        "queued_per_s": round(queued / seconds, 1),
        "rss_growth_mib": round(growth / 1024, 1),
        "memory_measure": "ru_maxrss growth over initial_load()",
        "machine": machine(),
    }


def main() -> None:
    """Run the benchmark on every backend and print one JSON line per backend."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=100_000, help="residents")
    parser.add_argument(
        "--max-seconds", type=float, default=170.0, help="longest wait for delivery"
    )
    parser.add_argument(
        "--queue-only",
        action="store_true",
        help="time only initial_load() queueing the snapshots, without node processes",
    )
    args = parser.parse_args()
    for backend in BACKENDS:
        if args.queue_only:
            emit("initial_load_queue_only", _queue_only(backend, args.n))
        else:
            emit("initial_load", _measure(backend, args.n, args.max_seconds))


if __name__ == "__main__":
    main()
