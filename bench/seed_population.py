"""Seeding a municipality's population with ``load_population``, against raw Core INSERTs.

For each backend, in the same run, each measurement in a fresh process (so that its memory
figure is its own):
- load: ``load_population`` of N synthetic residents (default 100,000) from the lazy
  ``generate_households`` stream into a fresh, migrated database — validation, code pool,
  households, residents, versions, identity notices in the outbox (the municipality is
  connected), register events; wall time and residents/s;
- baseline: the resident rows that load wrote, read back and held as precomputed dicts (same
  columns, same values), inserted into the ``residents`` table of a second fresh database with
  SQLAlchemy Core ``executemany``, one transaction per 2,000 rows as load_population batches
  (the households and the operator they refer to are copied first, untimed);
- for reference: generating the households alone (no database).

Peak memory is the growth of the process's resident-set high-water mark over the timed section:
``resource.getrusage(RUSAGE_SELF).ru_maxrss`` after minus before (KiB → MiB), in a process that
did nothing else; the absolute peak is reported too. (Not tracemalloc: it slows the load
several-fold and misses the memory of C extensions such as the database drivers.)

Usage: ``python -m bench.seed_population [N]``.
"""

from __future__ import annotations

import argparse
import random
import resource
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from typing import Any, TypeVar

from sqlalchemy import insert, select

from bench._common import BACKENDS, bench_node, fresh_database
from bench._network import SEED_DAY, TOWN_CODE, CpuMeter, emit, machine, wait_for_quiet
from jukinet.seed import generate_households
from jukinet.services.population import load_population
from jukinet.storage.tables import HouseholdRow, OperatorRow, ResidentRow, table_of

SEED = 20261126
CHUNK = 2000

_residents = table_of(ResidentRow)
_households = table_of(HouseholdRow)
_operators = table_of(OperatorRow)

T = TypeVar("T")


def _maxrss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _in_fresh_process(function: Callable[..., T], *args: Any) -> T:
    """Run ``function(*args)`` in a new interpreter (spawned, not forked) and return its result."""
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(function, *args).result()


def generate_only(n: int) -> dict[str, float]:
    """Generate the households alone, without a database."""
    before = _maxrss_mib()
    start = time.perf_counter()
    people = sum(
        len(h.members) for h in generate_households(TOWN_CODE, n, today=SEED_DAY, seed=SEED)
    )
    seconds = time.perf_counter() - start
    return {"people": people, "seconds": seconds, "rss_growth_mib": _maxrss_mib() - before}


def load(url: str, n: int) -> dict[str, Any]:
    """``load_population`` of ``n`` residents into the database at ``url``."""
    node = bench_node(url)
    households = generate_households(TOWN_CODE, n, today=SEED_DAY, seed=SEED)
    before = _maxrss_mib()
    meter = CpuMeter(database_urls=[url])
    meter.start()
    start = time.perf_counter()
    loaded = load_population(
        node, actor=None, households=households, total=n, rng=random.Random(SEED)
    )
    seconds = time.perf_counter() - start
    growth = _maxrss_mib() - before
    cpu = meter.stop()
    node.engine.dispose()
    return {
        "residents": loaded,
        "seconds": seconds,
        "rss_growth_mib": growth,
        "rss_peak_mib": _maxrss_mib(),
        "cpu": cpu,
    }


def raw_inserts(source_url: str, target_url: str) -> dict[str, Any]:
    """Copy the rows ``load`` wrote: households and operators untimed, residents timed."""
    source = bench_node(source_url)
    with source.engine.connect() as conn:
        operators = [dict(r._mapping) for r in conn.execute(select(_operators))]
        households = [dict(r._mapping) for r in conn.execute(select(_households))]
        residents = [
            dict(r._mapping) for r in conn.execute(select(_residents).order_by(_residents.c.id))
        ]
    source.engine.dispose()
    target = bench_node(target_url)
    with target.engine.begin() as conn:
        conn.execute(insert(_operators), operators)
        for start_at in range(0, len(households), CHUNK * 4):
            conn.execute(insert(_households), households[start_at : start_at + CHUNK * 4])
    del households, operators
    before = _maxrss_mib()
    meter = CpuMeter(database_urls=[target_url])
    meter.start()
    start = time.perf_counter()
    for start_at in range(0, len(residents), CHUNK):
        with target.engine.begin() as conn:
            conn.execute(insert(_residents), residents[start_at : start_at + CHUNK])
    seconds = time.perf_counter() - start
    growth = _maxrss_mib() - before
    cpu = meter.stop()
    target.engine.dispose()
    return {
        "residents": len(residents),
        "seconds": seconds,
        "rss_growth_mib": growth,
        "rss_peak_mib": _maxrss_mib(),
        "cpu": cpu,
    }


def _measure(backend: str, n: int) -> dict[str, Any]:
    generated = _in_fresh_process(generate_only, n)
    with fresh_database(backend) as loaded_url, fresh_database(backend) as raw_url:
        busy = wait_for_quiet()
        loaded = _in_fresh_process(load, loaded_url, n)
        raw = _in_fresh_process(raw_inserts, loaded_url, raw_url)
    rate = loaded["residents"] / loaded["seconds"]
    cpu_load = max(0.01, float(loaded["cpu"]["ours_cpu_seconds"]))
    cpu_raw = max(0.01, float(raw["cpu"]["ours_cpu_seconds"]))
    raw_rate = raw["residents"] / raw["seconds"]
    return {
        "benchmark": "seed_population",
        "backend": backend,
        "residents": int(loaded["residents"]),
        "load_seconds": round(loaded["seconds"], 2),
        "load_residents_per_s": round(rate, 1),
        "load_rss_growth_mib": round(loaded["rss_growth_mib"], 1),
        "load_rss_peak_mib": round(loaded["rss_peak_mib"], 1),
        "raw_insert_seconds": round(raw["seconds"], 2),
        "raw_insert_residents_per_s": round(raw_rate, 1),
        "raw_rss_growth_mib": round(raw["rss_growth_mib"], 1),
        "raw_rss_peak_mib": round(raw["rss_peak_mib"], 1),
        "ratio": round(rate / raw_rate, 3),
        # Per CPU second of this benchmark's processes (ours + its PostgreSQL backend): robust
        # against other sessions using the machine at the same time.
        "load_residents_per_cpu_s": round(loaded["residents"] / cpu_load, 1),
        "raw_residents_per_cpu_s": round(raw["residents"] / cpu_raw, 1),
        "cpu_ratio": round((loaded["residents"] / cpu_load) / (raw["residents"] / cpu_raw), 3),
        "generate_only_seconds": round(generated["seconds"], 2),
        "generate_only_people_per_s": round(generated["people"] / generated["seconds"], 1),
        "memory_measure": "ru_maxrss growth over the timed section, fresh process each",
        "load_cpu_share": loaded["cpu"],
        "raw_cpu_share": raw["cpu"],
        "machine_busy_before": busy,
        "machine": machine(),
    }


def main() -> None:
    """Run the benchmark on every backend and print one JSON line per backend."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=100_000, help="residents to seed")
    args = parser.parse_args()
    for backend in BACKENDS:
        emit("seed_population", _measure(backend, args.n))


if __name__ == "__main__":
    main()
