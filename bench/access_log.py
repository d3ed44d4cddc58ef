"""Access-log appends and a full ``verify_log``, against raw SHA-256 chaining of the same bytes.

For each backend, in the same run, on a fresh database:

1. **appends** — ``storage.access_log.append_entries`` in transactions of 1, 100 and 5,000
   entries (one session per transaction, committed; the entries are built beforehand, as a
   gateway builds them before it appends). Entries look like the ones a batch job writes
   (recipient, affair, officer, case number, job id, row number).
2. **generation** — the log is filled to ``--entries`` (default 10,000,000) with
   ``append_entries`` in transactions of ``--generate-txn`` (default 50,000) entries; that rate is
   reported as a fourth append figure. If generating would exceed ``--generate-budget`` seconds
   the log stops growing there, and the verify figure is measured at that size and the time at
   the full size extrapolated (labelled as such).
3. **verify** — one signed tree head is published, then ``storage.access_log.verify_log`` reads
   every entry back, recomputes its leaf, rebuilds the tree and checks the stored subtrees and
   the head — over one worker process per CPU (ranges of 2**16 entries) for logs of 200,000
   entries or more, as ``jukinet audit verify`` does.

Baseline of the appends: SHA-256 chaining, ``h = sha256(h + entry_bytes)``, over the canonical
bytes (``jukinet.domain.access_log.entry_bytes``) of exactly the entries appended, pre-computed
outside the timer — the irreducible hashing work of a hash-chained log. Also reported for
context: the same entries' RFC 6962 leaf hashes and frontier appends in memory.

Baseline of the verify — **the I/O + hash floor**, measured in the same run right after it: the
bare driver (``sqlite3`` / ``psycopg``, no SQLAlchemy, JSON left as text) scanning the same
``access_log`` table in one ordered statement, every row's stored values serialised with orjson
and SHA-256-hashed, in one process. The verify's ratio is its rate over the floor's. The busy
share of the machine (all CPUs, whoever uses them) is recorded before and after each, because
other sessions share this machine. ``--rounds`` (default 2) alternates verify and floor that
many times and reports the best of each; every sample is kept in the JSON line.

Usage: ``python -m bench.access_log [--backend sqlite|postgresql|both] [--entries N]
[--profile]``.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import hashlib
import io
import os
import pstats
import sqlite3
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import psycopg
from psycopg.types.string import TextLoader
from sqlalchemy import select
from sqlalchemy.engine import make_url

from bench._common import fresh_database
from bench._network import (
    CpuMeter,
    emit,
    load_average,
    machine,
    machine_busy,
    wait_for_quiet,
)
from bench._provision import AFFAIR, AGENCY, OFFICER, centre_node
from jukinet.domain.access_log import (
    AccessEntry,
    Action,
    ActorKind,
    Channel,
    entry_bytes,
    entry_leaf_hash,
)
from jukinet.domain.audit_math import MerkleFrontier
from jukinet.services import audit
from jukinet.services.context import ServiceContext
from jukinet.storage import access_log, access_log_check
from jukinet.storage.tables import AccessLogRow, table_of

_LOG = table_of(AccessLogRow)
ITEMS = ("name", "birth_date", "sex", "address", "resident_code", "change_info")
JOB_ID = "5f0c6a2e9d4b4f1c8a7e3b2d1c0f9e8d"
#: Transaction sizes of the append figures.
TXN_SIZES = (1, 100, 5000)
#: Transactions per size (1 × 2,000; 100 × 200; 5,000 × 40).
TXN_COUNTS = {1: 2000, 100: 200, 5000: 40}


def make_entries(count: int, *, first_row: int = 0) -> list[AccessEntry]:
    """``count`` entries like those a batch job by code writes (one per resident provided)."""
    now = datetime.now(UTC)
    return [
        AccessEntry(
            recorded_at=now,
            node="national:jlis",
            action=Action.READ,
            channel=Channel.BATCH,
            actor_kind=ActorKind.RECIPIENT,
            actor=AGENCY,
            subject=f"{(first_row + i) * 7919 % 10**11:011d}",
            affair_code=AFFAIR,
            reason="恩給法",
            items=ITEMS,
            officer=OFFICER,
            case_number="R8-0001",
            job_id=JOB_ID,
            detail={"row": first_row + i + 1},
        )
        for i in range(count)
    ]


def chain_seconds(
    entries: list[AccessEntry], first_position: int, head: bytes
) -> tuple[float, bytes]:
    """Time SHA-256 chaining over the entries' canonical bytes (computed before the timer)."""
    data = [entry_bytes(first_position + i, e) for i, e in enumerate(entries)]
    sha256 = hashlib.sha256
    start = time.perf_counter()
    for item in data:
        head = sha256(head + item).digest()
    return time.perf_counter() - start, head


def tree_in_memory_seconds(entries: list[AccessEntry], frontier: MerkleFrontier) -> float:
    """Time leaf hashes (``entry_leaf_hash``, bytes included) and frontier appends, no database."""
    position = frontier.size
    start = time.perf_counter()
    for i, entry in enumerate(entries):
        frontier.append(entry_leaf_hash(position + i, entry))
    return time.perf_counter() - start


def append_seconds(node: ServiceContext, entries: list[AccessEntry], txn: int) -> float:
    """Append ``entries`` in transactions of ``txn``; seconds taken."""
    start = time.perf_counter()
    for offset in range(0, len(entries), txn):
        with node.session_factory() as session:
            access_log.append_entries(session, entries[offset : offset + txn])
            session.commit()
    return time.perf_counter() - start


def log_size(node: ServiceContext) -> int:
    """Entries in the log."""
    with node.session_factory() as session:
        return access_log.log_size(session)


def raw_scan_seconds(
    node: ServiceContext, *, chunk: int = 20_000, max_rows: int = 2_000_000
) -> tuple[float, int]:
    """Read ``access_log`` rows by position in keyset chunks (as ``verify_log`` pages), doing
    nothing with them; the first ``max_rows`` only (it is context, not the baseline)."""
    start = time.perf_counter()
    rows = 0
    last = -1
    with node.session_factory() as session:
        while True:
            page = session.execute(
                select(_LOG).where(_LOG.c.position > last).order_by(_LOG.c.position).limit(chunk)
            ).all()
            if not page:
                break
            rows += len(page)
            last = page[-1].position
            if rows >= max_rows:
                break
    return time.perf_counter() - start, rows


#: The floor reads the same columns verify reads (the leaf hash first, hashed as it is).
_FLOOR_COLUMNS = ", ".join(
    column.name for column in access_log_check.VERIFY_COLUMNS if column.name != "leaf_hash"
)


def floor_seconds(url: str, *, fetch: int = 10_000) -> tuple[float, int]:
    """The I/O + hash floor: the bare driver scanning ``access_log`` in position order, each
    row's stored values serialised (orjson) and SHA-256-hashed with its leaf hash; one process."""
    parsed = make_url(url)
    statement = f"SELECT leaf_hash, {_FLOOR_COLUMNS} FROM access_log ORDER BY position"
    sha256, dumps = hashlib.sha256, orjson.dumps
    rows = 0
    start = time.perf_counter()
    if parsed.get_backend_name() == "sqlite":
        connection: Any = sqlite3.connect(str(parsed.database))
        cursor = connection.execute(statement)
    else:
        connection = psycopg.connect(
            host=parsed.host, port=parsed.port, user=parsed.username, dbname=parsed.database
        )
        connection.adapters.register_loader("json", TextLoader)  # JSON stays the stored text
        cursor = connection.cursor(name="floor")
        cursor.execute(statement)
    try:
        while page := cursor.fetchmany(fetch):
            for row in page:
                sha256(row[0] + dumps(row[1:])).digest()
            rows += len(page)
    finally:
        connection.close()
    return time.perf_counter() - start, rows


def one_process_rate_at_start(node: ServiceContext, public_key: Any) -> float:
    """The one-process verify (the path before worker processes, still used for small logs)
    over the log's first 200,000 entries (stopped through its progress callback): context."""
    saved = access_log_check.PARALLEL_MIN_ENTRIES
    access_log_check.PARALLEL_MIN_ENTRIES = 10**15
    start = time.perf_counter()
    try:
        with node.session_factory() as session, contextlib.suppress(_Enough):
            access_log_check.verify_log(
                session, public_key=public_key, chunk=20_000, progress=_stop_after
            )
    finally:
        access_log_check.PARALLEL_MIN_ENTRIES = saved
    return _rate(min(200_000, log_size(node)), time.perf_counter() - start)


def profile_top(profile: cProfile.Profile, *, top: int = 25) -> list[str]:
    """The hottest functions by own time, as printable lines."""
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    return [line for line in out.getvalue().splitlines() if line.strip()][-top - 1 :]


class _Enough(Exception):
    """Stops a profiled verify early."""


def _stop_after(entries: int) -> None:
    if entries >= 200_000:
        raise _Enough


def _rate(count: int, seconds: float) -> float:
    return round(count / seconds, 1) if seconds > 0 else float("nan")


def _measure(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    busy_before = wait_for_quiet()
    report: dict[str, Any] = {
        "benchmark": "access_log",
        "backend": backend,
        "machine_busy_before": busy_before,
    }
    with fresh_database(backend) as url:
        keys = Path(tempfile.mkdtemp(prefix="bench-audit-keys-"))
        node = centre_node(url, audit_key_path=keys / "audit-signing-key.pem")
        audit.create_log_key(node)
        head = b"\x00" * 32
        memory_frontier = MerkleFrontier()

        # 1. Appends in transactions of 1, 100, 5,000.
        appends: list[dict[str, Any]] = []
        for txn in TXN_SIZES:
            count = txn * max(1, int(TXN_COUNTS[txn] * args.scale))
            entries = make_entries(count, first_row=log_size(node))
            position = log_size(node)
            seconds = append_seconds(node, entries, txn)
            base_seconds, head = chain_seconds(entries, position, head)
            tree_seconds = tree_in_memory_seconds(entries, memory_frontier)
            rate, base = _rate(count, seconds), _rate(count, base_seconds)
            appends.append(
                {
                    "txn_entries": txn,
                    "entries": count,
                    "transactions": count // txn,
                    "seconds": round(seconds, 3),
                    "entries_per_s": rate,
                    "transactions_per_s": _rate(count // txn, seconds),
                    "baseline_chain_entries_per_s": base,
                    "ratio": round(rate / base, 5),
                    "context_tree_in_memory_entries_per_s": _rate(count, tree_seconds),
                }
            )
            print(f"[{backend}] append txn={txn}: {rate:,.0f}/s (chain {base:,.0f}/s)", flush=True)
        report["appends"] = appends

        # 2. Fill the log to --entries in big transactions (chain baseline over the same bytes).
        target = args.entries
        txn = args.generate_txn
        template = make_entries(txn, first_row=0)
        generated = 0
        gen_seconds = 0.0
        gen_base_seconds = 0.0
        meter = CpuMeter(database_urls=[url])
        meter.start()
        while log_size(node) < target:
            position = log_size(node)
            block = template[: min(txn, target - position)]
            gen_seconds += append_seconds(node, block, txn)
            seconds, head = chain_seconds(block, position, head)
            gen_base_seconds += seconds
            generated += len(block)
            if generated % (txn * 20) == 0:
                print(
                    f"[{backend}] generated {position + len(block):,} "
                    f"({generated / gen_seconds:,.0f}/s)",
                    flush=True,
                )
            if gen_seconds > args.generate_budget:
                print(f"[{backend}] generation budget reached", flush=True)
                break
        gen_cpu = meter.stop()
        size = log_size(node)
        gen_rate, gen_base = _rate(generated, gen_seconds), _rate(generated, gen_base_seconds)
        report["generation"] = {
            "txn_entries": txn,
            "entries": generated,
            "seconds": round(gen_seconds, 1),
            "entries_per_s": gen_rate,
            "baseline_chain_entries_per_s": gen_base,
            "ratio": round(gen_rate / gen_base, 5),
            "cpu": gen_cpu,
        }

        # 3. Verify the whole log (one signed head to check too), then the floor over it.
        audit.publish_tree_head(node)
        public_key = audit.log_public_key(node)
        # On a shared machine one sample of each can fall in a busy moment: --rounds pairs of
        # (verify, floor), alternated; the best of each is reported, every sample kept.
        samples: list[dict[str, Any]] = []
        for _ in range(args.rounds):
            busy_before_verify = wait_for_quiet()
            meter = CpuMeter(database_urls=[url])
            meter.start()
            start = time.perf_counter()
            with node.session_factory() as session:
                result = access_log_check.verify_log(
                    session, public_key=public_key, published=audit.published_head(node)
                )
            verify_seconds = time.perf_counter() - start
            verify_cpu = meter.stop()
            busy_after_verify = round(machine_busy(), 2)
            busy_before_floor = wait_for_quiet()
            meter = CpuMeter(database_urls=[url])
            meter.start()
            floor_time, floored = floor_seconds(url)
            floor_cpu = meter.stop()
            busy_after_floor = round(machine_busy(), 2)
            samples.append(
                {
                    "verify_seconds": round(verify_seconds, 2),
                    "floor_seconds": round(floor_time, 2),
                    "verify_busy_before_after": [busy_before_verify, busy_after_verify],
                    "floor_busy_before_after": [busy_before_floor, busy_after_floor],
                    "worker_cpu_seconds": round(result.worker_cpu_seconds, 2),
                    "floor_cpu_seconds": floor_cpu["ours_cpu_seconds_by_process"]["bench"],
                }
            )
            print(
                f"[{backend}] verify {size / verify_seconds:,.0f}/s, floor "
                f"{floored / floor_time:,.0f}/s",
                flush=True,
            )
        verify_seconds = min(sample["verify_seconds"] for sample in samples)
        floor_time = min(sample["floor_seconds"] for sample in samples)
        scan_seconds, scanned = raw_scan_seconds(node)
        one_process_rate = one_process_rate_at_start(node, public_key)
        # The chain over all entries of the log (context): appends' bytes + generation's bytes.
        all_base_seconds = gen_base_seconds + sum(
            a["entries"] / a["baseline_chain_entries_per_s"] for a in appends
        )
        verify_rate, floor_rate = _rate(size, verify_seconds), _rate(floored, floor_time)
        report["verify"] = {
            "entries": size,
            "ok": result.ok,
            "heads_checked": result.heads_checked,
            "problems": result.problems[:3],
            "workers": os.cpu_count() if size >= access_log_check.PARALLEL_MIN_ENTRIES else 0,
            "seconds": round(verify_seconds, 1),
            "entries_per_s": verify_rate,
            "floor_entries_per_s": floor_rate,
            "floor_seconds": round(floor_time, 1),
            "ratio": round(verify_rate / floor_rate, 4),
            "machine_busy_before": busy_before_verify,
            "machine_busy_after": busy_after_verify,
            "floor_machine_busy_before": busy_before_floor,
            "floor_machine_busy_after": busy_after_floor,
            "context_chain_entries_per_s": _rate(size, all_base_seconds),
            "context_raw_scan_entries_per_s": _rate(scanned, scan_seconds),
            "context_one_process_entries_per_s": one_process_rate,
            "samples": samples,
            "cpu": verify_cpu,
            "worker_cpu_seconds": round(result.worker_cpu_seconds, 2),
            "cpu_seconds_per_million": round(
                (result.worker_cpu_seconds + verify_cpu["ours_cpu_seconds_by_process"]["bench"])
                * 1e6
                / size,
                2,
            ),
            "floor_cpu": floor_cpu,
            "floor_cpu_seconds_per_million": round(
                floor_cpu["ours_cpu_seconds_by_process"]["bench"] * 1e6 / max(1, floored), 2
            ),
            "target_entries": target,
            "extrapolated": size < target,
            "projected_seconds_at_target": (
                round(target / (size / verify_seconds), 0) if size < target else None
            ),
        }
        print(
            f"[{backend}] verify {size:,}: {verify_rate:,.0f}/s in {verify_seconds:.1f} s "
            f"(floor {floor_rate:,.0f}/s, ratio {verify_rate / floor_rate:.3f}; "
            f"SQLAlchemy keyset scan {scanned / scan_seconds:,.0f}/s)",
            flush=True,
        )

        if args.profile:
            entries = make_entries(20_000, first_row=size)
            profile = cProfile.Profile()
            profile.enable()
            append_seconds(node, entries, 5000)
            profile.disable()
            report["profile_append_5000"] = profile_top(profile)
            profile = cProfile.Profile()
            with node.session_factory() as session:
                profile.enable()
                # The first 200,000 entries of a verify: stopped through its progress callback.
                with contextlib.suppress(_Enough):
                    access_log_check.verify_log(
                        session, public_key=public_key, chunk=20_000, progress=_stop_after
                    )
                profile.disable()
            report["profile_verify_200k"] = profile_top(profile)
        node.engine.dispose()
    report["load_average"] = load_average()
    report["machine"] = machine()
    return report


def main() -> None:
    """Run on the chosen backends; print a summary and one JSON line per backend."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--entries", type=int, default=10_000_000, help="log size to verify")
    parser.add_argument(
        "--generate-txn", type=int, default=50_000, help="entries per transaction when filling"
    )
    parser.add_argument(
        "--generate-budget",
        type=float,
        default=480.0,
        help="stop filling the log after this many seconds of appending (then extrapolate)",
    )
    parser.add_argument(
        "--scale", type=float, default=1.0, help="scale the number of append transactions"
    )
    parser.add_argument(
        "--rounds", type=int, default=2, help="alternated (verify, floor) pairs; best of each"
    )
    parser.add_argument("--profile", action="store_true", help="cProfile an append and a verify")
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    for backend in backends:
        report = _measure(backend, args)
        emit("access_log", report)
        _summary(report)


def _summary(report: dict[str, Any]) -> None:
    backend = report["backend"]
    print(f"\n== access log, {backend} ==")
    print(f"{'what':<28}{'entries':>12}{'entries/s':>14}{'chain/s':>14}{'ratio':>10}")
    for a in report["appends"]:
        print(
            f"{'append, txn of ' + str(a['txn_entries']):<28}{a['entries']:>12,}"
            f"{a['entries_per_s']:>14,.0f}{a['baseline_chain_entries_per_s']:>14,.0f}"
            f"{a['ratio']:>10.4f}"
        )
    g = report["generation"]
    print(
        f"{'append, txn of ' + str(g['txn_entries']):<28}{g['entries']:>12,}"
        f"{g['entries_per_s']:>14,.0f}{g['baseline_chain_entries_per_s']:>14,.0f}"
        f"{g['ratio']:>10.4f}"
    )
    v = report["verify"]
    label = "verify_log" + (" (extrapolate)" if v["extrapolated"] else "")
    print(f"{'':<28}{'':>12}{'entries/s':>14}{'floor/s':>14}{'ratio':>10}")
    print(
        f"{label:<28}{v['entries']:>12,}{v['entries_per_s']:>14,.0f}"
        f"{v['floor_entries_per_s']:>14,.0f}{v['ratio']:>10.4f}"
    )
    print(
        f"  machine busy before/after: verify {v['machine_busy_before']}/"
        f"{v['machine_busy_after']}, floor {v['floor_machine_busy_before']}/"
        f"{v['floor_machine_busy_after']}; idle during verify {v['cpu']['idle']}"
    )
    if v["extrapolated"]:
        projected = v["projected_seconds_at_target"]
        print(f"  projected verify time at {v['target_entries']:,}: {projected} s")
    print(
        f"  CPU seconds per 1,000,000 entries: verify {v['cpu_seconds_per_million']} "
        f"(workers + parent), floor "
        f"{v['floor_cpu_seconds_per_million']} (Python processes only, not PostgreSQL's)"
    )
    print(
        f"  SQLAlchemy keyset scan {v['context_raw_scan_entries_per_s']:,.0f}/s; one-process "
        f"verify (first 200,000) {v['context_one_process_entries_per_s']:,.0f}/s\n"
    )
    for key in ("profile_append_5000", "profile_verify_200k"):
        if key in report:
            print(f"-- {key} (cProfile, by own time) --")
            print("\n".join(report[key]))
            print()


if __name__ == "__main__":
    main()
