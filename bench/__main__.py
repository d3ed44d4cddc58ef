"""Run the benchmarks: ``python -m bench --quick`` starts every one at a small size.

``--quick`` exists to catch a benchmark that no longer starts (CI may run it); its figures are
written to a throw-away results folder and are never compared with anything. Without
``--quick`` the named benchmarks run at their documented sizes, one after another, each in its
own process, writing to ``bench/results/`` (or ``JUKINET_BENCH_RESULTS``).

Usage: ``python -m bench [--quick] [--budget SECONDS] [NAME ...]`` (names as in ``--list``).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Final

BENCH_DIR: Final = Path(__file__).resolve().parent


@dataclass(frozen=True, slots=True)
class Benchmark:
    """One benchmark module and the arguments of its quick run."""

    name: str
    quick: tuple[str, ...]


#: Every benchmark under bench/ (a test checks none is missing). Quick sizes keep the whole run
#: under five minutes on the 2-core machine, both backends included.
BENCHMARKS: Final = (
    Benchmark("counter_ops", ("40",)),
    Benchmark("seed_population", ("1000",)),
    Benchmark("certificates", ("--count", "2", "--rounds", "1")),
    Benchmark("access_log", ("--entries", "5000", "--generate-txn", "1000", "--scale", "0.01")),
    Benchmark(
        "provision_lookup",
        ("--residents", "1000", "--clients", "4", "--duration", "1.5", "--warmup", "0.5"),
    ),
    Benchmark(
        "provision_batch", ("--residents", "3000", "--code-rows", "1000", "--four-rows", "200")
    ),
    Benchmark(
        "operator_checks",
        (
            "--residents", "30", "--clients", "2", "--duration", "1.5", "--warmup", "0.5",
            "--rounds", "1",
        ),
    ),
    Benchmark("jpki", ("--issued", "1000", "--revoked", "50", "--seconds", "1.5")),
    Benchmark("network_hop_profile", ("200",)),
    Benchmark("network_throughput", ("300",)),
    Benchmark(
        "network_propagation",
        (
            "--rate", "40", "--seconds", "2", "--warmup", "0.5",
            "--seed-residents", "100", "--health-requests", "40",
        ),
    ),
    Benchmark(
        "emergency_drain",
        ("--rate", "40", "--seconds", "1", "--cut-seconds", "2", "--seed-residents", "40"),
    ),
    Benchmark("initial_load", ("500", "--max-seconds", "60")),
    Benchmark("wide_area", ("--count", "5")),
    Benchmark("portal_disclosure", ("--entries", "30", "--noise", "200", "--rounds", "2")),
    Benchmark(
        "replica_lookup",
        (
            "--residents", "2000", "--clients", "4", "--duration", "2", "--warmup", "0.5",
            "--write-rate", "40",
        ),
    ),
)  # fmt: skip


#: Modules under bench/ that measure nothing themselves.
NOT_BENCHMARKS: Final = frozenset({"summarise_network"})  # tabulates other runs' JSON lines


def _argv(benchmark: Benchmark, quick: bool) -> list[str]:
    arguments = list(benchmark.quick) if quick else []
    return [sys.executable, "-m", f"bench.{benchmark.name}", *arguments]


def run(names: list[str], *, quick: bool, budget: float) -> int:
    """Run the chosen benchmarks one after another; returns how many failed."""
    chosen = [b for b in BENCHMARKS if not names or b.name in names]
    unknown = set(names) - {b.name for b in BENCHMARKS}
    if unknown:
        raise SystemExit(f"unknown benchmark(s): {', '.join(sorted(unknown))} (see --list)")
    environment = dict(os.environ)
    if quick:
        # A quick run's figures are not measurements: keep them out of bench/results.
        environment["JUKINET_BENCH_RESULTS"] = tempfile.mkdtemp(prefix="jukinet-bench-quick-")
        environment["JUKINET_BENCH_QUICK"] = "1"
    started = time.monotonic()
    failed: list[str] = []
    for benchmark in chosen:
        left = budget - (time.monotonic() - started)
        if left <= 0:
            failed.append(f"{benchmark.name} (not started: the {budget:.0f} s budget ran out)")
            continue
        began = time.monotonic()
        print(f"== {benchmark.name}", flush=True)
        try:
            finished = subprocess.run(
                _argv(benchmark, quick),
                cwd=BENCH_DIR.parent,
                env=environment,
                timeout=left,
                check=False,
                stdout=subprocess.PIPE if quick else None,
                stderr=subprocess.STDOUT if quick else None,
                text=True,
            )
        except subprocess.TimeoutExpired:
            failed.append(f"{benchmark.name} (stopped at the {budget:.0f} s budget)")
            continue
        took = time.monotonic() - began
        if finished.returncode != 0:
            if finished.stdout:
                print(finished.stdout[-4000:], flush=True)
            failed.append(f"{benchmark.name} (exit {finished.returncode})")
        print(f"   {'ok' if finished.returncode == 0 else 'FAILED'} in {took:.1f} s", flush=True)
    print(
        f"== {len(chosen) - len(failed)} of {len(chosen)} ran in {time.monotonic() - started:.0f} s"
    )
    for line in failed:
        print(f"   failed: {line}")
    return len(failed)


def main() -> None:
    """Parse the command line and run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    parser.add_argument("--quick", action="store_true", help="every benchmark at a small size")
    parser.add_argument("--budget", type=float, default=None, help="seconds for the whole run")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and stop")
    args = parser.parse_args()
    if args.list:
        for benchmark in BENCHMARKS:
            print(benchmark.name)
        return
    budget = args.budget or (300.0 if args.quick else 6 * 3600.0)
    sys.exit(1 if run(args.names, quick=args.quick, budget=budget) else 0)


if __name__ == "__main__":
    main()
