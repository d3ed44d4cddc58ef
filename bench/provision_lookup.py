"""Agencies' lookups by resident code at the national centre, against a bare endpoint.

For each backend, in the same run, on a fresh database holding ``--residents`` identity records
(default 100,000; bulk-loaded, see ``bench._provision``) and the example recipients:

- **provision**: the centre's real network app (``jukinet.web.network_app``) is served in a
  separate process by ``python -m bench._provision serve --app provision``, through
  ``jukinet.network.transport.make_server`` with the node's own mutual-TLS server context (client
  certificate required, CA and CRL checked in the handshake). Every request is
  ``POST /provision/v1/residents/lookup`` with one random code of the table under affair T1-16:
  client certificate checked again (CA, validity, CRL) and mapped to the recipient, recipient
  and affair authorised against the registry, the record read, one access-log entry appended in
  the same transaction.
- **baseline**: the same server process arrangement (same ``make_server``, same TLS context, same
  event loop) serving a bare FastAPI endpoint that takes the same JSON body and does the same
  database read — the SELECT of the same twelve columns by code through the node's engine, in
  the thread pool — with no certificate check, no purpose check and no log.

Load: this process runs ``--clients`` (default 32) concurrent asyncio tasks, each with its own
``httpx.AsyncClient`` (one keep-alive TLS connection) that presents the agency's client
certificate through an ``ssl.SSLContext``; one code per request, random codes from the table, for
``--warmup`` + ``--duration`` seconds (default 3 + 20). Requests that start after the warm-up and
finish before the end count; throughput is those per second, p50/p99 their latencies. The CPU
used by the load generator, the server process and the PostgreSQL backends is reported, since all
of them share this machine's cores.

``--loop``: the server's event loop. ``asyncio`` (default) is what ``jukinet.runtime.runner``
does (``asyncio.run(server.serve())``); ``uvloop`` is uvicorn's own ``Server.run``.
``--profile`` samples the provision server with py-spy (``pip install py-spy``; ``--gil``: only
the thread holding the GIL, i.e. where the server's one core of Python goes) during a second,
separate provision run, and prints its hottest functions.

Usage: ``python -m bench.provision_lookup [--backend sqlite|postgresql|both] [--residents N]
[--clients 32] [--duration 20] [--warmup 3] [--loop asyncio|uvloop] [--profile]``.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import random
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import orjson

from bench._common import fresh_database
from bench._loadgen import Target, post_request, run_load
from bench._network import (
    RESULTS_DIR,
    CpuMeter,
    emit,
    load_average,
    machine,
    percentile,
    wait_for_quiet,
)
from bench._provision import (
    AFFAIR,
    AGENCY,
    BARE_PATH,
    LISTENING,
    LOOKUP_PATH,
    OFFICER,
    all_codes,
    centre_node,
    load_records,
    make_pki,
    postgres_admin_url,
    seed_recipients,
    synthetic_records,
)
from jukinet.network.pki import NetworkPki


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerMeter(CpuMeter):
    """CpuMeter that also counts the server processes we started."""

    def __init__(self, server_pids: list[int], database_urls: list[str]) -> None:
        super().__init__(database_urls=database_urls)
        self.server_pids = server_pids

    def _own_pids(self) -> dict[int, str]:
        pids = super()._own_pids()
        for pid in self.server_pids:
            pids[pid] = "server"
        return pids


class Server:
    """``workers`` ``bench._provision serve`` processes on one port (``SO_REUSEPORT`` when
    more than one)."""

    def __init__(
        self,
        app: str,
        url: str,
        pki: NetworkPki,
        loop: str,
        log: Path,
        pool_size: int | None,
        replica_url: str | None = None,
        workers: int = 1,
    ) -> None:
        self.port = free_port()
        self.log = log
        extra = [] if pool_size is None else ["--pool-size", str(pool_size)]
        if replica_url is not None:
            extra += ["--database-replica-url", replica_url]
        if workers > 1:
            extra.append("--reuse-port")
        logs = [log.with_suffix(f".{i}{log.suffix}") if i else log for i in range(workers)]
        command = [
            sys.executable, "-m", "bench._provision", "serve", "--app", app,
            "--database-url", url, "--pki", str(pki.folder), "--port", str(self.port),
            "--loop", loop, *extra,
        ]  # fmt: skip
        self.processes = [
            subprocess.Popen(command, stdout=path.open("wb"), stderr=subprocess.STDOUT)
            for path in logs
        ]
        self.process = self.processes[0]
        deadline = time.monotonic() + 60
        while True:
            for process, path in zip(self.processes, logs, strict=True):
                if process.poll() is not None:
                    msg = f"the {app} server exited: {path.read_text(errors='replace')[-2000:]}"
                    raise RuntimeError(msg)
            bound = all(LISTENING in path.read_text(errors="replace") for path in logs)
            try:
                if bound:
                    with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                msg = f"the {app} server did not start listening within 60 s"
                raise RuntimeError(msg)
            time.sleep(0.1)

    @property
    def base_url(self) -> str:
        """Where it listens."""
        return f"https://127.0.0.1:{self.port}"

    def stop(self) -> None:
        """Terminate them (and wait)."""
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def client_context(pki: NetworkPki) -> ssl.SSLContext:
    """TLS for the agency: trust the network CA, present the agency's client certificate."""
    creds = pki.node(AGENCY)
    context = ssl.create_default_context(cafile=str(pki.ca_cert_path))
    context.load_cert_chain(str(creds.tls_cert), str(creds.tls_key))
    return context


def _body(code: str) -> dict[str, Any]:
    return {
        "affair_code": AFFAIR,
        "officer": OFFICER,
        "case_number": "R8-0001",
        "resident_codes": [code],
    }


async def _load(
    base_url: str,
    path: str,
    codes: list[str],
    pki: NetworkPki,
    *,
    clients: int,
    warmup: float,
    duration: float,
) -> dict[str, Any]:
    context = client_context(pki)
    latencies: list[float] = []
    statuses: collections.Counter[str] = collections.Counter()
    # One client (one keep-alive connection) per task: httpcore's pool scans every connection
    # of a client on each request, which with 32 connections in one pool cost the load
    # generator ~2 ms of CPU a request.
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    clients_ = [
        httpx.AsyncClient(base_url=base_url, verify=context, limits=limits, timeout=60)
        for _ in range(clients)
    ]
    try:
        # Sanity: the endpoint answers a real record for a code of the table.
        first = await clients_[0].post(path, json=_body(codes[0]))
        first.raise_for_status()
        answer = first.json()["results"][0]
        if answer.get("record") is None:
            msg = f"{path} did not return the record: {first.text[:300]}"
            raise RuntimeError(msg)
        start = time.perf_counter()
        measure_from = start + warmup
        stop_at = measure_from + duration

        async def worker(seed: int) -> None:
            rng = random.Random(seed)
            post = clients_[seed].post
            while True:
                began = time.perf_counter()
                if began >= stop_at:
                    return
                try:
                    response = await post(path, json=_body(codes[rng.randrange(len(codes))]))
                    status = str(response.status_code)
                except httpx.HTTPError as error:
                    status = type(error).__name__
                ended = time.perf_counter()
                if began >= measure_from and ended <= stop_at:
                    statuses[status] += 1
                    if status == "200":
                        latencies.append(ended - began)

        await asyncio.gather(*(worker(i) for i in range(clients)))
    finally:
        for client in clients_:
            await client.aclose()
    ok = statuses.get("200", 0)
    return {
        "requests_ok": ok,
        "statuses": dict(statuses),
        "requests_per_s": round(ok / duration, 1),
        "p50_ms": round(percentile(latencies, 50) * 1e3, 2),
        "p90_ms": round(percentile(latencies, 90) * 1e3, 2),
        "p99_ms": round(percentile(latencies, 99) * 1e3, 2),
        "max_ms": round(max(latencies) * 1e3, 1) if latencies else None,
    }


def _lean_load(
    port: int,
    path: str,
    codes: list[str],
    pki: NetworkPki,
    *,
    clients: int,
    processes: int,
    warmup: float,
    duration: float,
) -> dict[str, Any]:
    """The same requests as :func:`_load`, from ``bench._loadgen``'s lean processes."""
    creds = pki.node(AGENCY)
    target = Target(
        "127.0.0.1", port, str(pki.ca_cert_path), str(creds.tls_cert), str(creds.tls_key)
    )
    rng = random.Random(20261203)
    requests = [
        post_request(target, path, orjson.dumps(_body(codes[rng.randrange(len(codes))])))
        for _ in range(min(4_000, 4 * len(codes)))
    ]
    outcome = run_load(
        target, requests, clients=clients, processes=processes, warmup=warmup, duration=duration
    )
    latencies = outcome["latencies"]
    ok = outcome["statuses"].get("200", 0)
    return {
        "requests_ok": ok,
        "statuses": outcome["statuses"],
        "requests_per_s": round(ok / duration, 1),
        "p50_ms": round(percentile(latencies, 50) * 1e3, 2),
        "p90_ms": round(percentile(latencies, 90) * 1e3, 2),
        "p99_ms": round(percentile(latencies, 99) * 1e3, 2),
        "max_ms": round(max(latencies) * 1e3, 1) if latencies else None,
        "generator_cpu_seconds": outcome["cpu_seconds"],
    }


async def _sanity(base_url: str, path: str, code: str, pki: NetworkPki) -> None:
    """The endpoint answers a real record for a code of the table."""
    async with httpx.AsyncClient(base_url=base_url, verify=client_context(pki)) as client:
        first = await client.post(path, json=_body(code))
    first.raise_for_status()
    if first.json()["results"][0].get("record") is None:
        msg = f"{path} did not return the record: {first.text[:300]}"
        raise RuntimeError(msg)


def _run(
    app: str,
    url: str,
    pki: NetworkPki,
    codes: list[str],
    args: argparse.Namespace,
    folder: Path,
    *,
    profile_seconds: int = 0,
    replica_url: str | None = None,
) -> dict[str, Any]:
    # The baseline is served the best way this machine knows (uvloop); the provision app the way
    # the node serves it (``--loop``, the node's default unless told otherwise).
    loop = "uvloop" if app == "bare" else args.loop
    workers = getattr(args, "workers", 1)
    server = Server(
        app, url, pki, loop, folder / f"{app}.log", args.pool_size, replica_url, workers
    )
    sessions_before = postgres_sessions(url)
    spy: subprocess.Popen[bytes] | None = None
    spy_out = folder / f"{app}.spy.txt"
    try:
        busy_before = wait_for_quiet(timeout=20)
        meter = ServerMeter([p.pid for p in server.processes], [url])
        meter.start()
        if profile_seconds:
            spy_bin = shutil.which("py-spy")
            if spy_bin is None:
                msg = "--profile needs py-spy: pip install py-spy"
                raise RuntimeError(msg)
            spy = subprocess.Popen(
                [
                    spy_bin,
                    "record",
                    "--pid",
                    str(server.process.pid),
                    "--duration",
                    str(profile_seconds),
                    "--rate",
                    "100",
                    "--format",
                    "raw",
                    "--nonblocking",
                    "--gil",
                    "--output",
                    str(spy_out),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        path = LOOKUP_PATH if app == "provision" else BARE_PATH
        if args.generator == "lean":
            asyncio.run(_sanity(server.base_url, path, codes[0], pki))
            result = _lean_load(
                server.port,
                path,
                codes,
                pki,
                clients=args.clients,
                processes=args.generator_processes,
                warmup=args.warmup,
                duration=args.duration,
            )
        else:
            result = asyncio.run(
                _load(
                    server.base_url,
                    path,
                    codes,
                    pki,
                    clients=args.clients,
                    warmup=args.warmup,
                    duration=args.duration,
                )
            )
        cpu = meter.stop()
        if "generator_cpu_seconds" in result:
            # The generator's processes have exited: their own count of CPU stands in.
            by = cpu["ours_cpu_seconds_by_process"]
            by["bench"] = round(by.get("bench", 0.0) + result["generator_cpu_seconds"], 2)
            cpu["ours_cpu_seconds"] = round(sum(by.values()), 2)
        sessions_after = postgres_sessions(url)
    finally:
        server.stop()
    result["cpu"] = cpu
    if sessions_before is not None and sessions_after is not None:
        # Connections the server opened during the run (each a new PostgreSQL backend process).
        result["postgres_sessions_opened"] = sessions_after - sessions_before
    total = sum(cpu["ours_cpu_seconds_by_process"].values()) or 1.0
    # CPU over the whole run (warm-up included) per request at the measured rate: an estimate
    # (the warm-up runs at about the same rate).
    served = max(1.0, result["requests_per_s"] * cpu["wall_seconds"])
    result["cpu_ms_per_request_by_process"] = {
        k: round(v / served * 1e3, 3) for k, v in cpu["ours_cpu_seconds_by_process"].items()
    }
    result["cpu_share_by_process"] = {
        k: round(v / total, 2) for k, v in cpu["ours_cpu_seconds_by_process"].items()
    }
    result["machine_busy_before"] = busy_before
    if spy is not None:
        spy.wait(timeout=120)
        result["profile"] = summarise_profile(spy_out)
        if spy_out.exists():
            keep = RESULTS_DIR / f"provision_lookup-{url.split(':', 1)[0]}-{app}.spy.txt"
            RESULTS_DIR.mkdir(exist_ok=True)
            shutil.copyfile(spy_out, keep)
            result["profile"]["raw"] = str(keep)
    return result


def postgres_sessions(url: str) -> int | None:
    """Sessions ever established to the database of ``url`` (``pg_stat_database.sessions``,
    PostgreSQL 14+); ``None`` on SQLite."""
    if not url.startswith("postgresql"):
        return None
    from sqlalchemy import create_engine, text

    name = url.rsplit("/", 1)[1]
    admin = create_engine(postgres_admin_url())
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql("SELECT pg_stat_clear_snapshot()")
            value = conn.execute(
                text("SELECT sessions FROM pg_stat_database WHERE datname = :n"), {"n": name}
            ).scalar()
    finally:
        admin.dispose()
    return int(value or 0)


#: Where a sampled frame's own time goes, by the start of the file py-spy names for it
#: (``function (package/module.py:line)``; first match wins).
_CATEGORIES: tuple[tuple[str, str], ...] = (
    ("jukinet/", "jukinet"),
    ("bench/", "bench (bare app)"),
    ("sqlalchemy/", "sqlalchemy"),
    ("<sqlalchemy", "sqlalchemy"),
    ("psycopg", "psycopg"),
    ("ssl.py", "TLS (ssl.py)"),
    ("fastapi/", "fastapi/starlette/pydantic"),
    ("starlette/", "fastapi/starlette/pydantic"),
    ("pydantic", "fastapi/starlette/pydantic"),
    ("uvicorn/", "uvicorn/asyncio"),
    ("asyncio/", "uvicorn/asyncio"),
    ("selectors.py", "uvicorn/asyncio"),
    ("anyio/", "thread pool (anyio, threading, queue)"),
    ("threading.py", "thread pool (anyio, threading, queue)"),
    ("queue.py", "thread pool (anyio, threading, queue)"),
    ("cryptography/", "cryptography"),
)


def _location(frame: str) -> str:
    return frame.partition(" (")[2]


def _category(frame: str) -> str:
    where = _location(frame)
    for start, name in _CATEGORIES:
        if where.startswith(start):
            return name
    return "other"


def _short(frame: str) -> str:
    # "function (path/to/file.py:123)" → "function (file.py)"
    name, _, where = frame.partition(" (")
    file = where.rsplit(":", 1)[0].rsplit("/", 1)[-1]
    return f"{name} ({file})" if file else name


def summarise_profile(path: Path, *, top: int = 25) -> dict[str, Any]:
    """From py-spy's raw collapsed stacks: own time by package, the jukinet functions by
    cumulative share (each counted once per sample), and the hottest functions by own time."""
    own: collections.Counter[str] = collections.Counter()
    by_package: collections.Counter[str] = collections.Counter()
    ours: collections.Counter[str] = collections.Counter()
    total = 0
    if not path.exists():
        return {"samples": 0}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [f for f in stack.split(";") if not f.startswith(("process ", "thread "))]
        if not frames:
            continue
        total += count
        own[_short(frames[-1])] += count
        by_package[_category(frames[-1])] += count
        for frame in {_short(f) for f in frames if _location(f).startswith("jukinet/")}:
            ours[frame] += count

    def share(counter: collections.Counter[str], n: int) -> list[tuple[str, float]]:
        return [(k, round(100.0 * v / total, 1)) for k, v in counter.most_common(n)]

    return {
        "samples": total,
        "own_pct_by_package": share(by_package, 20),
        "jukinet_cumulative_pct": share(ours, top),
        "own_pct": share(own, top),
    }


def _log_entries(url: str) -> int:
    from sqlalchemy import func, select

    from jukinet.storage.tables import AccessLogRow

    node = centre_node(url)
    try:
        with node.session_factory() as session:
            return int(session.scalar(select(func.count()).select_from(AccessLogRow)) or 0)
    finally:
        node.engine.dispose()


def _measure(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="jukinet-lookup-"))
    report: dict[str, Any] = {
        "benchmark": "provision_lookup",
        "backend": backend,
        "residents": args.residents,
        "clients": args.clients,
        "warmup_s": args.warmup,
        "duration_s": args.duration,
        "server_loop": args.loop,
        "server_pool_size": args.pool_size or "node default (QueuePool 5 + 10 overflow)",
        "server_workers": getattr(args, "workers", 1),
    }
    try:
        with fresh_database(backend) as url:
            node = centre_node(url)
            start = time.perf_counter()
            load_records(node.engine, synthetic_records(args.residents))
            report["load_seconds"] = round(time.perf_counter() - start, 1)
            seed_recipients(node)
            codes = all_codes(node.engine)
            node.engine.dispose()
            pki = make_pki(folder / "pki")
            runs: dict[str, list[dict[str, Any]]] = {"bare": [], "provision": []}
            for round_ in range(args.rounds):
                for app in ("bare", "provision"):
                    result = _run(app, url, pki, codes, args, folder)
                    runs[app].append(result)
                    print(
                        f"[{backend}] round {round_ + 1} {app}: {result['requests_per_s']:,.0f} "
                        f"req/s, p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms "
                        f"(cpu shares {result['cpu_share_by_process']})",
                        flush=True,
                    )
            report["log_entries_after"] = _log_entries(url)
            if args.profile:
                report["profiled_provision"] = _run(
                    "provision", url, pki, codes, args, folder, profile_seconds=int(args.duration)
                )
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    report["baseline_bare"] = median_round(runs["bare"])
    report["provision"] = median_round(runs["provision"])
    report["all_rounds"] = {
        app: [{k: r[k] for k in ("requests_per_s", "p50_ms", "p99_ms")} for r in results]
        for app, results in runs.items()
    }
    base, figure = report["baseline_bare"], report["provision"]
    report["ratio"] = round(figure["requests_per_s"] / base["requests_per_s"], 3)
    report["server_cpu_ratio"] = round(
        base["cpu_ms_per_request_by_process"]["server"]
        / figure["cpu_ms_per_request_by_process"]["server"],
        3,
    )
    report["rounds"] = args.rounds
    report["p50_vs_baseline"] = round(figure["p50_ms"] / base["p50_ms"], 2)
    report["p99_vs_baseline"] = round(figure["p99_ms"] / base["p99_ms"], 2)
    report["aim_ratio"] = 0.5
    report["aim_met"] = report["ratio"] >= 0.5
    report["load_average"] = load_average()
    report["machine"] = machine()
    return report


def _summary(report: dict[str, Any]) -> None:
    base, figure = report["baseline_bare"], report["provision"]
    print(
        f"\n== provision lookup, {report['backend']}, {report['residents']:,} residents, "
        f"{report['clients']} clients, {report['duration_s']:.0f} s, {report['server_loop']} loop, "
        f"{report['server_workers']} server process(es), "
        f"pool {report['server_pool_size']} =="
    )
    print(
        f"{'endpoint':<24}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'server CPU ms/req':>19}"
        "  machine: bench/server/pg/others/idle"
    )
    for label, r in (("bare SELECT (baseline)", base), ("provision lookup", figure)):
        cpu, ms = r["cpu"], r["cpu_ms_per_request_by_process"]
        by = cpu["ours_cpu_seconds_by_process"]
        total = sum(by.values()) or 1.0
        ours = cpu["ours"]
        shares = "/".join(
            f"{ours * by.get(k, 0.0) / total:.2f}" for k in ("bench", "server", "postgres")
        )
        print(
            f"{label:<24}{r['requests_per_s']:>9,.0f}{r['p50_ms']:>9}{r['p99_ms']:>9}"
            f"{ms.get('server', 0):>19.2f}  {shares}/{cpu['others']:.2f}/{cpu['idle']:.2f}"
        )
    print(
        f"ratio {report['ratio']:.3f} (aim ≥ 0.5: {'met' if report['aim_met'] else 'not met'}); "
        f"server CPU per request ratio {report['server_cpu_ratio']:.3f}; "
        f"p50 ×{report['p50_vs_baseline']}, p99 ×{report['p99_vs_baseline']}"
    )
    if report.get("rounds", 1) > 1:
        print(f"all rounds: {report['all_rounds']}")
    print()
    profile = report.get("profiled_provision", {}).get("profile")
    if profile:
        print(f"-- py-spy --gil of the provision server ({profile['samples']} samples) --")
        for name, pct in profile["own_pct_by_package"]:
            print(f"  own by package {pct:5.1f}%  {name}")
        for name, pct in profile["jukinet_cumulative_pct"]:
            print(f"  cum {pct:5.1f}%  {name}")
        for name, pct in profile["own_pct"]:
            print(f"  own {pct:5.1f}%  {name}")


def median_round(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """The median round by throughput (with one round: that round)."""
    ordered = sorted(rounds, key=lambda r: r["requests_per_s"])
    return ordered[len(ordered) // 2]


def add_load_arguments(parser: argparse.ArgumentParser) -> None:
    """The server's loop and the load generator: shared with ``bench.replica_lookup``."""
    parser.add_argument(
        "--loop",
        choices=("asyncio", "uvloop"),
        default="uvloop",
        help="the provision server's event loop (the baseline always runs on uvloop)",
    )
    parser.add_argument(
        "--generator",
        choices=("lean", "httpx"),
        default="lean",
        help="lean: raw keep-alive TLS sockets in their own processes (bench._loadgen)",
    )
    parser.add_argument("--generator-processes", type=int, default=2)
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="experiment: serve each app from N processes sharing the port (SO_REUSEPORT)",
    )


def main() -> None:
    """Run on the chosen backends; print a summary and one JSON line per backend."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--residents", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument(
        "--rounds", type=int, default=3, help="alternate bare/provision N times (median)"
    )
    add_load_arguments(parser)
    parser.add_argument("--profile", action="store_true", help="py-spy the provision server")
    parser.add_argument(
        "--pool-size",
        type=int,
        default=None,
        help="experiment: serve both apps with a fixed connection pool of N (no overflow)",
    )
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    for backend in backends:
        report = _measure(backend, args)
        emit("provision_lookup", report)
        _summary(report)


if __name__ == "__main__":
    main()
