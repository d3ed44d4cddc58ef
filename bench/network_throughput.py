"""Sustained notice rate through all three tiers, against raw INSERTs at the centre.

For each backend, in the same run:
- a cluster of three node processes (national:jlis ← prefecture:13 ← municipality:132292) is
  started; N residents (default 20,000) are bulk-loaded with ``load_population`` at the
  municipality while the cluster runs (one identity notice each), and the time is taken from the
  start of the load until all N history rows are at the centre; notices/s end to end, plus the
  steady rate between 10 % and 90 % arrived;
- baseline: the same number of ``identity_history`` rows (copies of the ones that arrived)
  inserted into the centre's database directly, one Core ``executemany`` in one transaction.

``--profile`` also samples the three node processes with py-spy (``pip install py-spy``) while
the notices flow and prints the hottest functions of each (own time and cumulative); profiled runs
are slower, so their rates are not the headline figures.

Usage: ``python -m bench.network_throughput [N] [--profile]``.
"""

from __future__ import annotations

import argparse
import collections
import os
import shutil
import subprocess
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

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
    wait_for_quiet,
    wait_until,
)
from jukinet.runtime.cluster import Cluster
from jukinet.seed import generate_population
from jukinet.services.context import ServiceContext
from jukinet.services.population import load_population
from jukinet.storage.tables import IdentityHistoryRow, table_of

_history = table_of(IdentityHistoryRow)


class Sampler(threading.Thread):
    """Counts the history rows at the prefecture and the centre every ``interval`` seconds."""

    def __init__(
        self, prefecture: ServiceContext, centre: ServiceContext, *, interval: float = 0.25
    ) -> None:
        super().__init__(name="sampler", daemon=True)
        self.prefecture = prefecture
        self.centre = centre
        self.interval = interval
        self.samples: list[tuple[float, int, int]] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        """Sample until stopped."""
        while not self.stopping.is_set():
            now = time.perf_counter()
            self.samples.append(
                (
                    now,
                    count_rows(self.prefecture, IdentityHistoryRow),
                    count_rows(self.centre, IdentityHistoryRow),
                )
            )
            self.stopping.wait(self.interval)


def _first_reaching(
    samples: list[tuple[float, int, int]], column: int, target: float
) -> float | None:
    for sample in samples:
        if sample[column] >= target:
            return sample[0]
    return None


class Profiler:
    """py-spy on each node process, as raw collapsed stacks, for ``seconds``."""

    def __init__(self, cluster: Cluster, seconds: int, folder: Path) -> None:
        self.outputs: dict[str, Path] = {}
        self.processes: list[subprocess.Popen[bytes]] = []
        spy = shutil.which("py-spy")
        if spy is None:
            msg = "--profile needs py-spy: pip install py-spy"
            raise RuntimeError(msg)
        for name, node in cluster.nodes.items():
            if node.process is None:
                continue
            out = folder / f"{name.replace(':', '_')}.txt"
            self.outputs[name] = out
            self.processes.append(
                subprocess.Popen(
                    [
                        spy,
                        "record",
                        "--pid",
                        str(node.process.pid),
                        "--duration",
                        str(seconds),
                        "--rate",
                        "50",
                        "--format",
                        "raw",
                        "--nonblocking",
                        "--output",
                        str(out),
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )

    def finish(self) -> dict[str, dict[str, Any]]:
        """Wait for py-spy and summarise each node's profile."""
        for process in self.processes:
            try:
                process.wait(timeout=120)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        return {name: summarise_collapsed(path) for name, path in self.outputs.items()}


def _frame_key(frame: str) -> str:
    # "function (path/to/file.py:123)" → "function (file.py)"
    name, _, where = frame.partition(" (")
    file = where.rsplit(":", 1)[0].rsplit("/", 1)[-1]
    return f"{name} ({file})" if file else name


def summarise_collapsed(path: Path, *, top: int = 25) -> dict[str, Any]:
    """Own and cumulative sample shares per function from py-spy's raw (collapsed) output."""
    own: collections.Counter[str] = collections.Counter()
    cumulative: collections.Counter[str] = collections.Counter()
    total = 0
    if not path.exists():
        return {"samples": 0}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_frame_key(f) for f in stack.split(";")]
        frames = [f for f in frames if not f.startswith("process ")]
        if not frames:
            continue
        total += count
        own[frames[-1]] += count
        for frame in set(frames):
            cumulative[frame] += count

    def share(counter: collections.Counter[str]) -> list[tuple[str, float]]:
        return [(k, round(100.0 * v / total, 1)) for k, v in counter.most_common(top)]

    return {"samples": total, "own_pct": share(own), "cumulative_pct": share(cumulative)}


def _raw_history_inserts(centre: ServiceContext, n: int) -> float:
    """Insert ``n`` copies of arrived history rows into the centre's database; seconds taken."""
    with centre.engine.connect() as conn:
        rows = [
            dict(r._mapping)
            for r in conn.execute(select(_history).order_by(_history.c.id).limit(n))
        ]
    now = datetime.now(UTC)
    prepared = [
        {k: v for k, v in r.items() if k != "id"}
        | {"source_envelope": f"raw-{i}", "received_at": now}
        for i, r in enumerate(rows)
    ]
    start = time.perf_counter()
    with centre.engine.begin() as conn:
        conn.execute(insert(_history), prepared)
    return time.perf_counter() - start


def _measure(backend: str, n: int, *, profile: bool) -> dict[str, Any]:
    households = generate_population(TOWN_CODE, n, today=SEED_DAY, seed=20261126)
    with bench_cluster(backend) as cluster:
        handles = {name: cluster.handle(name) for name in (TOWN, TOKYO, CENTRE)}
        town, prefecture, centre = handles[TOWN], handles[TOKYO], handles[CENTRE]
        batch = town.settings.delivery_batch
        sampler = Sampler(prefecture, centre)
        sampler.start()
        profiler: Profiler | None = None
        profile_dir = Path(tempfile.mkdtemp(prefix="jukinet-spy-"))
        busy_before = wait_for_quiet()
        if profile:
            profiler = Profiler(cluster, max(5, min(60, n // 400)), profile_dir)
        meter = CpuMeter(cluster)
        meter.start()
        start = time.perf_counter()
        loaded = load_population(town, actor=None, households=households, total=n)
        loaded_at = time.perf_counter()
        done_at = wait_until(
            lambda: count_rows(centre, IdentityHistoryRow) >= loaded,
            timeout=600,
            what=f"{loaded} history rows at the centre",
            interval=0.05,
        )
        cpu = meter.stop()
        sampler.stopping.set()
        sampler.join()
        sampler.samples.append(
            (
                done_at,
                count_rows(prefecture, IdentityHistoryRow),
                count_rows(centre, IdentityHistoryRow),
            )
        )
        profiles = profiler.finish() if profiler is not None else None
        shutil.rmtree(profile_dir, ignore_errors=True)
        samples = sampler.samples
        failures = logged_failures(cluster)
        prefecture_done = _first_reaching(samples, 1, loaded)
        t10 = _first_reaching(samples, 2, 0.1 * loaded)
        t90 = _first_reaching(samples, 2, 0.9 * loaded)
        raw_seconds = _raw_history_inserts(centre, loaded)
        for handle in handles.values():
            handle.engine.dispose()
    elapsed = done_at - start
    rate = loaded / elapsed
    # A tiny run can pass 10 % and 90 % in the same sample: no steady rate then.
    measured = t10 is not None and t90 is not None and t90 > t10
    steady = (
        0.8 * loaded / (t90 - t10) if measured and t10 is not None and t90 is not None else None
    )
    baseline = loaded / raw_seconds
    by_process: dict[str, float] = cpu["ours_cpu_seconds_by_process"]
    node_cpu = sum(v for k, v in by_process.items() if k != "bench")
    cpu_ms = {k: round(v / loaded * 1e3, 3) for k, v in by_process.items()}
    report: dict[str, Any] = {
        "benchmark": "network_throughput",
        "backend": backend,
        "notices": loaded,
        "delivery_batch": batch,
        "load_seconds": round(loaded_at - start, 2),
        "prefecture_all_seconds": round(prefecture_done - start, 2) if prefecture_done else None,
        "centre_all_seconds": round(elapsed, 2),
        "end_to_end_notices_per_s": round(rate, 1),
        "steady_notices_per_s": round(steady, 1) if steady else None,
        "raw_history_insert_rows_per_s": round(baseline, 1),
        "ratio": round(rate / baseline, 4),
        "steady_ratio": round(steady / baseline, 4) if steady else None,
        "target_notices_per_s": 2000,
        "delivery_failures_logged": failures,
        "cpu_ms_per_notice_by_process": cpu_ms,
        "node_cpu_ms_per_notice": round(node_cpu / loaded * 1e3, 3),
        "two_core_ceiling_notices_per_s": round(2 * loaded / node_cpu, 1) if node_cpu else None,
        "busiest_node_ceiling_notices_per_s": round(
            loaded / max(v for k, v in by_process.items() if k not in ("bench", "postgres")), 1
        ),
        "cpu_share_during_run": {
            k: v for k, v in cpu.items() if k != "ours_cpu_seconds_by_process"
        },
        "machine_busy_before": busy_before,
        "profiled": profile,
        "machine": machine(),
    }
    if profiles is not None:
        report["profiles"] = profiles
    return report


def main() -> None:
    """Run the benchmark on every backend and print one JSON line per backend."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=20_000, help="residents to load")
    parser.add_argument("--profile", action="store_true", help="sample the nodes with py-spy")
    parser.add_argument(
        "--batch", type=int, default=None, help="envelopes per request (JUKINET_DELIVERY_BATCH)"
    )
    args = parser.parse_args()
    if args.batch is not None:
        # The node processes inherit the environment; their settings read JUKINET_*.
        os.environ["JUKINET_DELIVERY_BATCH"] = str(args.batch)
    for backend in BACKENDS:
        emit("network_throughput", _measure(backend, args.n, profile=args.profile))


if __name__ == "__main__":
    main()
