"""``python -m bench --quick`` must start every benchmark: none may be left out of its list."""

from __future__ import annotations

from pathlib import Path

from bench.__main__ import BENCHMARKS, NOT_BENCHMARKS

BENCH_DIR = Path(__file__).resolve().parents[2] / "bench"


def test_every_benchmark_module_is_in_the_quick_run() -> None:
    modules = {
        path.stem
        for path in BENCH_DIR.glob("*.py")
        if not path.stem.startswith("_") and path.stem not in NOT_BENCHMARKS
    }
    listed = [benchmark.name for benchmark in BENCHMARKS]
    assert len(listed) == len(set(listed))
    assert modules == set(listed)
