"""Agency lookups served by a PostgreSQL streaming replica while the primary takes writes.

In one run, on a self-contained PostgreSQL 15 primary and ``pg_basebackup -R`` hot standby
(started here, in temporary folders, durable: ``fsync`` and synchronous commit on; see
``tests/support/pg_replica.py``) holding ``--residents`` identity records and the example
recipients:

- a **writer** process applies identity changes to the primary at a steady ``--write-rate``
  per second: each one the centre's own storage write for an identity notice
  (``jukinet.storage.identity_records.write``: the held record and a history row, one
  transaction; no network hop, no envelope), a move within the municipality of a random
  resident. It also samples the replication lag twice a second: the primary's
  ``pg_stat_replication.replay_lag`` and the node's own view (``jukinet.storage.replica``);
- **primary** (the same-run baseline): the centre's real network app, as in
  ``bench.provision_lookup`` (mutual TLS, certificate → recipient, purpose check, record read,
  access-log entry), served on the primary alone;
- **replica**: the same server with ``JUKINET_DATABASE_REPLICA_URL`` set: the record is read on
  the replica; the grant and the log entry stay on the primary.

Both phases run under the same writes; the load is ``--clients`` keep-alive httpx clients as
in ``bench.provision_lookup`` (one random code a request). Reported per phase: req/s, p50/p99,
the writes achieved and their p99, CPU by process, the replica's transactions (proof that it
served), and the lag (max and p50 of the samples). The machine's load average is printed:
on a 2-core machine shared with other work, figures are indicative.

Usage: ``python -m bench.replica_lookup [--residents 100000] [--clients 32] [--duration 20]
[--warmup 3] [--write-rate 200] [--rounds 1]``.
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import shutil
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, select, text
from sqlalchemy.orm import sessionmaker
from tests.support.pg_replica import available, replica_pair

from bench._network import emit, load_average, machine, percentile
from bench._provision import (
    all_codes,
    centre_node,
    load_records,
    make_pki,
    seed_recipients,
    synthetic_records,
)
from bench.provision_lookup import _run, add_load_arguments, median_round
from jukinet.domain.identity import ChangeReason
from jukinet.storage import identity_records
from jukinet.storage.migrate import upgrade
from jukinet.storage.replica import read_state
from jukinet.storage.tables import IdentityRecordRow
from jukinet.storage.unit_of_work import UnitOfWork

#: The database made on the pair (a name of its own: CPU is counted by database name).
DATABASE = "jukinet_replica_bench"


def _replica_transactions(engine: Engine) -> int:
    with engine.connect() as conn:
        conn.exec_driver_sql("SELECT pg_stat_clear_snapshot()")
        value = conn.execute(
            text("SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = :n"),
            {"n": DATABASE},
        ).scalar()
    return int(value or 0)


def _writer(
    primary_url: str,
    replica_url: str,
    rate: float,
    stop: Any,
    codes: list[str],
    out: Any,
) -> None:
    """Identity changes at ``rate`` a second until ``stop`` is set; lag sampled twice a second."""
    engine = create_engine(primary_url)
    replica = create_engine(replica_url)
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    rng = random.Random(16)
    latencies: list[float] = []
    replay_lags: list[float] = []
    node_lags: list[float] = []
    start = time.monotonic()
    next_sample = start
    done = 0
    while True:
        now = time.monotonic()
        if stop.is_set():
            break
        due = start + done / rate
        if now < due:
            time.sleep(min(due - now, 0.05))
            continue
        code = codes[rng.randrange(len(codes))]
        began = time.perf_counter()
        with UnitOfWork(factory) as uow:
            held = uow.session.execute(
                select(*identity_records.HELD_RECORD).where(IdentityRecordRow.resident_code == code)
            ).one()
            info = identity_records.info_of(held)
            moved = replace(info, address=f"{info.address[:40]}{done % 97}")
            identity_records.write(
                uow.session,
                moved,
                municipality_code=held.municipality_code,
                deleted=False,
                reason=ChangeReason.MOVE_WITHIN.value,
                changed_on=date(2026, 12, 1),
                before=None,
                envelope_id=f"bench-{done}",
                now=datetime.now(UTC),
            )
            uow.commit()
        latencies.append(time.perf_counter() - began)
        done += 1
        if time.monotonic() >= next_sample:
            next_sample += 0.5
            with engine.connect() as conn:
                lag = conn.execute(
                    text("SELECT EXTRACT(EPOCH FROM replay_lag)::float8 FROM pg_stat_replication")
                ).scalar()
            if lag is not None:
                replay_lags.append(float(lag))
            state = read_state(replica, 3600.0, now=time.monotonic())
            if state.lag_seconds is not None:
                node_lags.append(state.lag_seconds)
    seconds = time.monotonic() - start
    engine.dispose()
    replica.dispose()
    out.put(
        {
            "writes": done,
            "writes_per_s": round(done / seconds, 1),
            "write_p50_ms": round(percentile(latencies, 50) * 1e3, 2),
            "write_p99_ms": round(percentile(latencies, 99) * 1e3, 2),
            "replay_lag_ms_p50": _ms(percentile(replay_lags, 50)) if replay_lags else None,
            "replay_lag_ms_max": _ms(max(replay_lags)) if replay_lags else None,
            "node_view_lag_ms_p50": _ms(percentile(node_lags, 50)) if node_lags else None,
            "node_view_lag_ms_max": _ms(max(node_lags)) if node_lags else None,
            "lag_samples": len(replay_lags),
        }
    )


def _ms(seconds: float) -> float:
    return round(seconds * 1e3, 2)


def _phase(
    label: str,
    pair: Any,
    pki: Any,
    codes: list[str],
    args: argparse.Namespace,
    folder: Path,
) -> dict[str, Any]:
    replica_admin = create_engine(pair.url(pair.replica_port, "postgres"))
    before = _replica_transactions(replica_admin)
    replica_admin.dispose()  # no open connection is inherited by the forked writer
    # Forked, not spawned: a spawned writer would import this module's dependencies again on
    # a machine whose two cores the measured server needs.
    context = multiprocessing.get_context("fork")
    out = context.Queue()
    stop = context.Event()
    # The writer runs from before the server starts until after the load ends.
    writer = context.Process(
        target=_writer,
        args=(pair.primary_url, pair.replica_url, args.write_rate, stop, codes, out),
    )
    writer.start()
    try:
        result = _run(
            "provision",
            pair.primary_url,
            pki,
            codes,
            args,
            folder,
            replica_url=pair.replica_url if label == "replica" else None,
        )
        stop.set()
        writes = out.get(timeout=60)
    finally:
        stop.set()
        writer.join(timeout=30)
        if writer.is_alive():
            writer.terminate()
    result.pop("postgres_sessions_opened", None)  # counted on the machine's cluster: not ours
    result["replica_transactions"] = _replica_transactions(replica_admin) - before
    replica_admin.dispose()
    result["writer"] = writes
    return result


def _measure(args: argparse.Namespace) -> dict[str, Any]:
    report: dict[str, Any] = {
        "benchmark": "replica_lookup",
        "backend": "postgresql (primary + streaming replica, PostgreSQL 15, durable)",
        "residents": args.residents,
        "clients": args.clients,
        "warmup_s": args.warmup,
        "duration_s": args.duration,
        "write_rate_target": args.write_rate,
        "server_loop": args.loop,
        "load_average_before": load_average(),
    }
    folder = Path(tempfile.mkdtemp(prefix="jukinet-replica-bench-"))
    try:
        with replica_pair(durable=True, database=DATABASE) as pair:
            upgrade(pair.primary_url)
            node = centre_node(pair.primary_url)
            start = time.perf_counter()
            load_records(node.engine, synthetic_records(args.residents))
            report["load_seconds"] = round(time.perf_counter() - start, 1)
            seed_recipients(node)
            codes = all_codes(node.engine)
            node.engine.dispose()
            report["initial_replay_seconds"] = round(pair.wait_replayed(timeout=300), 2)
            pki = make_pki(folder / "pki")
            runs: dict[str, list[dict[str, Any]]] = {"primary": [], "replica": []}
            for round_ in range(args.rounds):
                for label in ("primary", "replica"):
                    result = _phase(label, pair, pki, codes, args, folder)
                    runs[label].append(result)
                    w = result["writer"]
                    print(
                        f"round {round_ + 1} {label}: {result['requests_per_s']:,.0f} req/s, "
                        f"p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms; writes "
                        f"{w['writes_per_s']}/s (p99 {w['write_p99_ms']} ms); replay lag max "
                        f"{w['replay_lag_ms_max']} ms; replica transactions "
                        f"{result['replica_transactions']}",
                        flush=True,
                    )
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    report["baseline_primary"] = median_round(runs["primary"])
    report["replica"] = median_round(runs["replica"])
    base, figure = report["baseline_primary"], report["replica"]
    report["ratio"] = round(figure["requests_per_s"] / max(base["requests_per_s"], 0.1), 3)
    report["p99_vs_baseline"] = round(figure["p99_ms"] / base["p99_ms"], 2)
    report["rounds"] = args.rounds
    report["load_average"] = load_average()
    report["machine"] = machine()
    return report


def _summary(report: dict[str, Any]) -> None:
    print(
        f"\n== agency lookups from a streaming replica, {report['residents']:,} residents, "
        f"{report['clients']} clients, {report['duration_s']:.0f} s, writes "
        f"{report['write_rate_target']}/s on the primary; load average "
        f"{report['load_average_before']} → {report['load_average']} =="
    )
    print(
        f"{'lookups read on':<18}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'writes/s':>10}"
        f"{'write p99':>11}{'lag p50/max ms':>18}{'replica txns':>14}"
    )
    for label, r in (
        ("primary (base)", report["baseline_primary"]),
        ("replica", report["replica"]),
    ):
        w = r["writer"]
        print(
            f"{label:<18}{r['requests_per_s']:>8,.0f}{r['p50_ms']:>9}{r['p99_ms']:>9}"
            f"{w['writes_per_s']:>10}{w['write_p99_ms']:>11}"
            f"{str(w['replay_lag_ms_p50']) + '/' + str(w['replay_lag_ms_max']):>18}"
            f"{r['replica_transactions']:>14}"
        )
    print(f"ratio replica/primary {report['ratio']:.3f}; p99 ×{report['p99_vs_baseline']}\n")


def main() -> None:
    """Run once; print a summary and one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--write-rate", type=float, default=200.0, help="identity changes/s")
    parser.add_argument("--rounds", type=int, default=1, help="alternate primary/replica N times")
    add_load_arguments(parser)
    args = parser.parse_args()
    args.pool_size = None  # the node's own pool (bench.provision_lookup's _run reads it)
    missing = available()
    if missing is not None:
        sys.exit(f"bench.replica_lookup needs a PostgreSQL 15 server: {missing}")
    report = _measure(args)
    emit("replica_lookup", report)
    _summary(report)


if __name__ == "__main__":
    main()
