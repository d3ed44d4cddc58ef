"""Batch queries (一括照会) at the national centre, against a raw SQL join of the same rows.

For each backend, in the same run, on a fresh database:

- the national table ``identity_records`` is bulk-loaded with ``--residents`` synthetic residents
  (default 1,000,000; see ``bench._provision``) and the example recipients are seeded
  (agency:soumu-onkyu may use affair T1-16, which gives every identity item);
- **by code**: a CSV of ``--code-rows`` rows (default 1,000,000; ``resident_code,ref``) holding
  codes of the table in random order is submitted with ``services.batch.submit`` (purpose check,
  streaming parse, chunks of 5,000 stored) and answered with ``services.batch.run_pending``
  in this process (one transaction per chunk: re-authorise, read the chunk's records with one
  query, build the result lines, append one access-log entry per row);
- **by four items**: a CSV of ``--four-rows`` rows (default 100,000; ``name`` as 「氏　名」,
  ``name_kana``, ``birth_date``, ``sex``, full ``address``) of randomly chosen residents,
  submitted and answered the same way (candidates by name key + birth date, ranked; records
  read; one entry per candidate).

The figure is rows/s end to end (submit → every chunk answered); submit (parse and store) and
answering are also reported separately, and so is reading the results back (JSON lines), which
is not part of the figure.

Baseline in the same run, same database: the raw SQL equivalent — in one transaction, load the
same rows into a temporary table (``row_no, resident_code``; for four items ``row_no, name_key,
birth_date`` with the keys folded beforehand by ``name_search_key``, folding time reported
apart), join it to ``identity_records`` (on the code; on ``name_key`` + ``birth_date``) and fetch
the same twelve columns the service reads, ordered by row. Rows/s of that transaction.

Usage: ``python -m bench.provision_batch [--backend sqlite|postgresql|both] [--residents N]
[--code-rows N] [--four-rows N] [--profile]``.
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import io
import pstats
import random
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from sqlalchemy import Engine, select

from bench._common import fresh_database
from bench._network import CpuMeter, emit, load_average, machine, rss_high_water_kib, wait_for_quiet
from bench._provision import (
    AFFAIR,
    AGENCY,
    OFFICER,
    PROVIDED_COLUMNS,
    all_codes,
    centre_node,
    load_records,
    seed_recipients,
    synthetic_records,
)
from jukinet.domain.access_log import Channel
from jukinet.domain.batch_input import BatchFormat, BatchKind
from jukinet.domain.names import name_search_key
from jukinet.services import batch, batch_results
from jukinet.services.context import ServiceContext
from jukinet.services.provision import QueryContext
from jukinet.storage.registry import RegistryCache
from jukinet.storage.tables import IdentityRecordRow, table_of

_records = table_of(IdentityRecordRow)
_COLUMN_NAMES = ", ".join(f"r.{c.key}" for c in PROVIDED_COLUMNS)


def _csv_lines(header: list[str], rows: list[list[Any]]) -> list[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().splitlines()


def code_batch(codes: list[str], rows: int, rng: random.Random) -> list[str]:
    """A by-code CSV: ``rows`` codes of the table in random order (each once while they last)."""
    if rows <= len(codes):
        chosen = rng.sample(codes, rows)
    else:
        chosen = [rng.choice(codes) for _ in range(rows)]
    return _csv_lines(["resident_code", "ref"], [[c, f"r{i}"] for i, c in enumerate(chosen)])


def four_items_people(engine: Engine, codes: list[str], rows: int, rng: random.Random) -> list[Any]:
    """The records of ``rows`` randomly chosen residents (name, reading, birth date, ...)."""
    chosen = rng.sample(codes, rows) if rows <= len(codes) else rng.choices(codes, k=rows)
    r = _records.c
    found: dict[str, Any] = {}
    with engine.connect() as conn:
        for offset in range(0, len(chosen), 5000):
            part = sorted(set(chosen[offset : offset + 5000]))
            for row in conn.execute(
                select(
                    r.resident_code,
                    r.family_name,
                    r.given_name,
                    r.family_name_kana,
                    r.given_name_kana,
                    r.birth_date,
                    r.sex,
                    r.address,
                ).where(r.resident_code.in_(part))
            ):
                found[row.resident_code] = row
    return [found[c] for c in chosen]


def four_items_batch(people: list[Any]) -> list[str]:
    """A four-items CSV for ``people`` (name written 「氏　名」 as agencies do)."""
    return _csv_lines(
        ["name", "name_kana", "birth_date", "sex", "address", "ref"],
        [
            [
                f"{p.family_name}\u3000{p.given_name}",
                f"{p.family_name_kana}\u3000{p.given_name_kana}",
                p.birth_date.isoformat(),
                p.sex,
                p.address,
                f"r{i}",
            ]
            for i, p in enumerate(people)
        ],
    )


def run_job(
    node: ServiceContext, cache: RegistryCache, kind: BatchKind, lines: list[str]
) -> dict[str, Any]:
    """Submit and answer one job in this process; the timings and the job's counters."""
    ctx = QueryContext(
        recipient_id=AGENCY,
        affair_code=AFFAIR,
        officer=OFFICER,
        case_number="R8-0001",
        channel=Channel.BATCH,
    )
    start = time.perf_counter()
    job = batch.submit(node, cache, ctx, kind=kind, fmt=BatchFormat.CSV, lines=iter(lines))
    submitted = time.perf_counter()
    chunks = batch.run_pending(node, cache)
    answered = time.perf_counter()
    status = batch.status(node, recipient_id=AGENCY, job_id=job.job_id)
    result_bytes = sum(
        len(block)
        for block in batch_results.results_jsonl(
            node, cache, recipient_id=AGENCY, job_id=job.job_id
        )
    )
    read_back = time.perf_counter()
    rows = status.total_rows
    return {
        "rows": rows,
        "chunks": chunks,
        "status": status.status,
        "found_rows": status.found_rows,
        "error_rows": status.error_rows,
        "submit_seconds": round(submitted - start, 2),
        "submit_rows_per_s": round(rows / (submitted - start), 1),
        "answer_seconds": round(answered - submitted, 2),
        "answer_rows_per_s": round(rows / (answered - submitted), 1),
        "end_to_end_seconds": round(answered - start, 2),
        "rows_per_s": round(rows / (answered - start), 1),
        "results_bytes": result_bytes,
        "results_read_seconds": round(read_back - answered, 2),
    }


def _temp_load(conn: Any, name: str, columns: str, rows: list[tuple[Any, ...]]) -> None:
    """Create and fill a temporary table (COPY on PostgreSQL, executemany on SQLite)."""
    conn.exec_driver_sql(f"CREATE TEMPORARY TABLE {name} ({columns})")
    if conn.dialect.name == "postgresql":
        driver = conn.connection.driver_connection
        names = ", ".join(part.split()[0] for part in columns.split(", "))
        with driver.cursor() as cur, cur.copy(f"COPY {name} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        marks = ", ".join("?" for _ in rows[0])
        conn.connection.driver_connection.executemany(f"INSERT INTO {name} VALUES ({marks})", rows)


def raw_code_join(engine: Engine, lines: list[str]) -> dict[str, Any]:
    """The baseline by code: temp table of (row_no, code), join, fetch the same columns."""
    codes = [(i + 1, line.split(",", 1)[0]) for i, line in enumerate(lines[1:])]
    start = time.perf_counter()
    with engine.begin() as conn:
        _temp_load(conn, "bench_codes", "row_no integer primary key, code varchar(11)", codes)
        fetched = conn.exec_driver_sql(
            f"SELECT t.row_no, {_COLUMN_NAMES} FROM bench_codes t "
            "JOIN identity_records r ON r.resident_code = t.code ORDER BY t.row_no"
        ).all()
        conn.exec_driver_sql("DROP TABLE bench_codes")
    seconds = time.perf_counter() - start
    return {
        "rows": len(codes),
        "fetched": len(fetched),
        "seconds": round(seconds, 2),
        "rows_per_s": round(len(codes) / seconds, 1),
    }


def raw_four_items_join(engine: Engine, people: list[Any]) -> dict[str, Any]:
    """The baseline by four items: temp table of (row_no, name_key, birth_date), join on the
    index columns, fetch the same columns. Keys are folded before the timer (timed apart)."""
    fold_start = time.perf_counter()
    keys = [
        (i + 1, name_search_key(p.family_name + p.given_name), p.birth_date)
        for i, p in enumerate(people)
    ]
    fold_seconds = time.perf_counter() - fold_start
    start = time.perf_counter()
    with engine.begin() as conn:
        _temp_load(
            conn,
            "bench_four",
            "row_no integer primary key, name_key varchar(80), birth_date date",
            keys,
        )
        fetched = conn.exec_driver_sql(
            f"SELECT t.row_no, {_COLUMN_NAMES} FROM bench_four t "
            "JOIN identity_records r ON r.name_key = t.name_key AND r.birth_date = t.birth_date "
            "ORDER BY t.row_no"
        ).all()
        conn.exec_driver_sql("DROP TABLE bench_four")
    seconds = time.perf_counter() - start
    return {
        "rows": len(keys),
        "fetched": len(fetched),
        "seconds": round(seconds, 2),
        "rows_per_s": round(len(keys) / seconds, 1),
        "key_folding_seconds": round(fold_seconds, 2),
    }


def profile_job(
    node: ServiceContext,
    cache: RegistryCache,
    kind: BatchKind,
    lines: list[str],
    *,
    top: int = 30,
    sort: str = "tottime",
) -> list[str]:
    """cProfile of submit + answer of a (small) job: the hottest functions by own time."""
    profile = cProfile.Profile()
    profile.enable()
    run_job(node, cache, kind, lines)
    profile.disable()
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats(sort).print_stats(top)
    return [line for line in out.getvalue().splitlines() if line.strip()][-top - 1 :]


def _measure(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(20261126)
    report: dict[str, Any] = {
        "benchmark": "provision_batch",
        "backend": backend,
        "residents": args.residents,
    }
    with fresh_database(backend) as url:
        node = centre_node(url)
        start = time.perf_counter()
        loaded = load_records(node.engine, synthetic_records(args.residents))
        report["load_seconds"] = round(time.perf_counter() - start, 1)
        print(f"[{backend}] loaded {loaded:,} residents in {report['load_seconds']} s", flush=True)
        seed_recipients(node)
        cache = RegistryCache()
        codes = all_codes(node.engine)

        code_lines = code_batch(codes, args.code_rows, rng)
        people = four_items_people(node.engine, codes, args.four_rows, rng)
        four_lines = four_items_batch(people)
        del codes

        report["machine_busy_before"] = wait_for_quiet()
        jobs: list[tuple[str, BatchKind, list[str], Callable[[], dict[str, Any]]]] = [
            (
                "by_code",
                BatchKind.BY_CODE,
                code_lines,
                partial(raw_code_join, node.engine, code_lines),
            ),
            (
                "by_four_items",
                BatchKind.BY_FOUR_ITEMS,
                four_lines,
                partial(raw_four_items_join, node.engine, people),
            ),
        ]
        for label, kind, lines, raw in jobs:
            if len(lines) <= 1:
                continue
            rss_before = rss_high_water_kib()
            meter = CpuMeter(database_urls=[url])
            meter.start()
            job = run_job(node, cache, kind, lines)
            job["cpu"] = meter.stop()
            job["peak_rss_growth_mib"] = round((rss_high_water_kib() - rss_before) / 1024, 1)
            baseline = raw()
            job["baseline_raw_join"] = baseline
            job["ratio"] = round(job["rows_per_s"] / baseline["rows_per_s"], 4)
            job["answer_ratio"] = round(job["answer_rows_per_s"] / baseline["rows_per_s"], 4)
            job["aim_ratio"] = 0.5
            job["aim_met"] = job["ratio"] >= 0.5
            report[label] = job
            print(
                f"[{backend}] {label}: {job['rows']:,} rows, {job['rows_per_s']:,.0f} rows/s "
                f"(submit {job['submit_seconds']} s, answer {job['answer_seconds']} s); raw join "
                f"{baseline['rows_per_s']:,.0f} rows/s; ratio {job['ratio']:.3f}",
                flush=True,
            )
        if args.profile:
            report["profile_by_code_20k"] = profile_job(
                node, cache, BatchKind.BY_CODE, code_lines[:20_001]
            )
            report["profile_by_four_items_5k"] = profile_job(
                node, cache, BatchKind.BY_FOUR_ITEMS, four_lines[:5_001]
            )
        node.engine.dispose()
    report["load_average"] = load_average()
    report["machine"] = machine()
    return report


def _summary(report: dict[str, Any]) -> None:
    print(f"\n== batch provision, {report['backend']}, {report['residents']:,} residents ==")
    print(
        f"{'job':<16}{'rows':>11}{'submit s':>10}{'answer s':>10}{'rows/s':>10}"
        f"{'raw join/s':>12}{'ratio':>8}{'aim':>6}"
    )
    for label in ("by_code", "by_four_items"):
        job = report.get(label)
        if job is None:
            continue
        print(
            f"{label:<16}{job['rows']:>11,}{job['submit_seconds']:>10}{job['answer_seconds']:>10}"
            f"{job['rows_per_s']:>10,.0f}{job['baseline_raw_join']['rows_per_s']:>12,.0f}"
            f"{job['ratio']:>8.3f}{'met' if job['aim_met'] else 'no':>6}"
        )
    print()


def main() -> None:
    """Run on the chosen backends; print a summary and one JSON line per backend."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--residents", type=int, default=1_000_000)
    parser.add_argument("--code-rows", type=int, default=1_000_000)
    parser.add_argument("--four-rows", type=int, default=100_000)
    parser.add_argument("--profile", action="store_true", help="cProfile small jobs afterwards")
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    for backend in backends:
        report = _measure(backend, args)
        emit("provision_batch", report)
        for key, lines in report.items():
            if key.startswith("profile"):
                print(f"\n-- {key} --")
                print("\n".join(lines))
        _summary(report)


if __name__ == "__main__":
    main()
