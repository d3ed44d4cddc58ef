"""Markdown tables from the network benchmarks' JSON lines (for bench/RESULTS-network.md).

Usage: ``python -m bench.summarise_network bench/results/<run>``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def _lines(folder: Path, name: str) -> list[dict[str, Any]]:
    path = folder / f"{name}.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def _table(header: list[str], rows: list[list[Any]]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join("—" if v is None else str(v) for v in row) + " |" for row in rows]
    return "\n".join(out)


def _others(cpu: dict[str, Any] | None) -> str:
    return "—" if not cpu else f"{round(100 * cpu.get('others', 0))} %"


def seed(folder: Path) -> str:
    """Table of seed_population."""
    rows = [
        [
            r["backend"],
            r["residents"],
            r["load_seconds"],
            r["load_residents_per_s"],
            r["raw_insert_residents_per_s"],
            r["ratio"],
            r.get("cpu_ratio"),
            r["load_rss_growth_mib"],
            r["raw_rss_growth_mib"],
            r["generate_only_people_per_s"],
            _others(r.get("load_cpu_share")),
        ]
        for r in _lines(folder, "seed_population")
    ]
    header = [
        "backend",
        "residents",
        "load s",
        "load residents/s",
        "raw INSERT residents/s",
        "ratio",
        "ratio per CPU-s",
        "load peak RSS growth MiB",
        "raw peak RSS growth MiB",
        "generate only people/s",
        "others' CPU",
    ]
    return _table(header, rows)


def propagation(folder: Path) -> str:
    """Table of network_propagation."""
    rows = []
    for r in _lines(folder, "network_propagation"):
        centre, prefecture = r["latency_to_centre"], r["latency_to_prefecture"]
        base = r["baseline_health_mtls"]
        rows.append(
            [
                r["backend"],
                r["target_rate_per_s"],
                r["achieved_rate_per_s"],
                centre["p50_ms"],
                centre["p95_ms"],
                centre["p99_ms"],
                centre["max_ms"],
                prefecture["p50_ms"],
                f"{base['keepalive_p50_ms']} / {base['keepalive_p99_ms']}",
                r["ratio_p50_to_baseline_p50"],
                f"{r['latency_to_centre_p50_first_quarter_ms']} → "
                f"{r['latency_to_centre_p50_last_quarter_ms']}",
                _others(r.get("cpu_share_during_load")),
            ]
        )
    header = [
        "backend",
        "target /s",
        "achieved /s",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "max ms",
        "to prefecture p50 ms",
        "baseline mTLS p50 / p99 ms",
        "p50 ÷ baseline p50",
        "p50 first → last quarter",
        "others' CPU",
    ]
    return _table(header, rows)


def throughput(folder: Path) -> str:
    """Table of network_throughput."""
    rows = []
    for r in _lines(folder, "network_throughput"):
        cpu = r["cpu_ms_per_notice_by_process"]
        rows.append(
            [
                r["backend"],
                r["delivery_batch"],
                "yes" if r["profiled"] else "no",
                r["notices"],
                r["centre_all_seconds"],
                r["end_to_end_notices_per_s"],
                r["steady_notices_per_s"],
                r["raw_history_insert_rows_per_s"],
                r["ratio"],
                " / ".join(
                    str(cpu.get(k, "—"))
                    for k in ("municipality:132292", "prefecture:13", "national:jlis", "postgres")
                ),
                r["node_cpu_ms_per_notice"],
                r["two_core_ceiling_notices_per_s"],
                _others(r.get("cpu_share_during_run")),
            ]
        )
    header = [
        "backend",
        "batch",
        "py-spy",
        "notices",
        "s to centre",
        "notices/s end to end",
        "steady /s (10–90 %)",
        "raw history INSERT rows/s",
        "ratio",
        "CPU ms/notice muni / pref / centre / postgres",
        "node CPU ms/notice",
        "2-core ceiling /s",
        "others' CPU",
    ]
    return _table(header, rows)


def hops(folder: Path) -> str:
    """Table of network_hop_profile."""
    parts = []
    for r in _lines(folder, "network_hop_profile"):
        rows = [
            [hop, phase, value]
            for hop, phases in r["us_per_notice"].items()
            for phase, value in phases.items()
        ]
        parts.append(
            f"**{r['backend']}**, batch {r['batch']}: {r['us_per_notice_both_hops']} µs per notice "
            f"over both hops → {r['one_core_ceiling_notices_per_s']} notices/s on one core; "
            f"Ed25519 sign {r['ed25519_sign_us']} µs, verify {r['ed25519_verify_us']} µs "
            f"(two of each per notice = {round(100 * r['crypto_share_of_total'])} % of the total)"
            "\n\n" + _table(["hop", "phase", "µs per notice"], rows)
        )
    return "\n\n".join(parts)


def initial(folder: Path) -> str:
    """Table of initial_load."""
    rows = [
        [
            r["backend"],
            r["residents"],
            r["queue_seconds"],
            r["prefecture_all_seconds"],
            r["centre_all_seconds"],
            r["records_per_s_at_centre"],
            r["raw_identity_insert_rows_per_s"],
            r["ratio"],
            round(100_000 / r["records_per_s_at_centre"]) if r["records_per_s_at_centre"] else None,
            sum(v["count"] for v in r.get("delivery_failures_logged", {}).values()),
            _others(r.get("cpu_share_during_run")),
        ]
        for r in _lines(folder, "initial_load")
    ]
    header = [
        "backend",
        "residents",
        "initial_load() queue s",
        "prefecture complete s",
        "centre complete s",
        "records/s at centre",
        "raw identity INSERT rows/s",
        "ratio",
        "projected s for 100k",
        "failed delivery rounds",
        "others' CPU",
    ]
    return _table(header, rows)


def queue_only(folder: Path) -> str:
    """Table of initial_load --queue-only."""
    rows = [
        [
            r["backend"],
            r["snapshots_queued"],
            r["queue_seconds"],
            r["queued_per_s"],
            r["rss_growth_mib"],
        ]
        for r in _lines(folder, "initial_load_queue_only")
    ]
    header = ["backend", "snapshots", "initial_load() s", "queued/s", "peak RSS growth MiB"]
    return _table(header, rows)


def main() -> None:
    """Print every table for the run folder given."""
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("bench/results")
    for title, render in (
        ("seed_population", seed),
        ("network_propagation", propagation),
        ("network_throughput", throughput),
        ("network_hop_profile", hops),
        ("initial_load", initial),
        ("initial_load --queue-only", queue_only),
    ):
        print(f"### {title}\n\n{render(folder)}\n")


if __name__ == "__main__":
    main()
