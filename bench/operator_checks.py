"""The per-request cost of the operator-security checks on a counter lookup.

Every request to the operator app (issue 18) runs, before the use case: the terminal check
(``web.auth.TerminalCheck`` → ``identify_terminal``), the server-side session
(``resolve_session``: session row, idle/absolute limits, account, card, terminal, business hours
or a permit) and the permission check (``Actor.require``). This measures what they cost on
``GET /api/v1/residents/{code}`` with a bearer token from a token card, against the same lookup
without them, **in the same run**, on each backend:

- **bare** (baseline): a minimal FastAPI app with only that route, whose endpoint calls the same
  reading service (``reading.read_resident``: permission, the record, one access-log entry in the
  same transaction) with a pre-built :class:`Actor`, and answers the same ``ResidentOut``.
- **app-unchecked**: the real operator app (``web.app.create_app``: body limit, session cookie
  middleware, error handlers, the same router) with ``TerminalCheck`` taken out of its middleware
  and ``api_actor`` overridden to return the same pre-built actor — the real app minus exactly
  the checks.
- **app**: the real operator app, unchanged; the client signs in first through
  ``/api/v1/auth/challenge`` and ``/api/v1/auth/token`` with a software PKCS#11 card.

Each variant is served in its own process by uvicorn with uvloop and httptools (what
``jukinet serve`` uses); this process is the load generator (``--clients`` concurrent
``httpx.AsyncClient``\\ s, one keep-alive connection each, random codes of ``--residents``
records moved in through the counter service). The variants alternate for ``--rounds`` rounds;
the median round of each is reported, with the server process's CPU per request.

The node runs with ``terminal_mode=loopback`` (the bench uses plain HTTP on 127.0.0.1; in
``certificate`` mode the check additionally hashes the client certificate's DER, a few µs, and
runs the same one-row SELECT) and ``always_open`` **off**: ``--hours open`` stores hours covering
the whole day and marks today open (the checks read the hours and the calendar, and skip the
permit), ``--hours permit`` closes every day and gives the operator an approved permit (the
checks read hours, calendar and the permit).

``--profile``: sample the ``app`` server with py-spy (``--gil``) during a separate run.

Usage: ``python -m bench.operator_checks [--backend sqlite|postgresql|both] [--hours open|permit]
[--residents 300] [--clients 16] [--duration 15] [--warmup 3] [--rounds 3] [--profile]``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import collections
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from fastapi import FastAPI
from fastapi import Path as PathParam

from bench._common import fresh_database
from bench._network import (
    RESULTS_DIR,
    CpuMeter,
    emit,
    load_average,
    machine,
    percentile,
    wait_for_quiet,
)
from jukinet.config import load_settings
from jukinet.domain.codes import random_resident_codes
from jukinet.domain.operators import Actor, Role
from jukinet.domain.register import Relationship, Sex
from jukinet.runtime.bootstrap import build_node
from jukinet.services import reading
from jukinet.services.context import ServiceContext
from jukinet.web.api.schemas import ResidentOut

VARIANTS = ("bare", "app-unchecked", "app")
CLERK = "benchclerk"
SECURITY = "benchsecurity"
PASSWORD = "bench password 123"  # a throw-away bench account
CARD_SERIAL = "BENCH-CARD-1"
LOOKUP = "/api/v1/residents/{code}"


def node_for(url: str) -> ServiceContext:
    """The municipality node served (cheap argon2: the sign-in is not what is measured)."""
    settings = load_settings(
        environment="test",
        database_url=url,
        municipality_code="132292",
        argon2_time_cost=1,
        argon2_memory_cost=8192,
        secret_key="bench-secret-key-that-is-long-enough-0123",
        always_open=False,
    )
    return build_node(settings)


# ---------------------------------------------------------------------------------------------
# Set-up (in this process, through the services)
# ---------------------------------------------------------------------------------------------


def _card_key() -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.generate()


def prepare(url: str, *, residents: int, hours: str, key: ed25519.Ed25519PrivateKey) -> list[str]:
    """Operators, the clerk's token card, hours (or a permit), residents; their codes."""
    from jukinet.services import register
    from jukinet.services.operator_security.cards import lend_card, register_token_card
    from jukinet.services.operator_security.hours import set_calendar_day, set_hours
    from jukinet.services.operator_security.permits import approve_permit, request_permit
    from jukinet.services.operators import add_operator
    from jukinet.services.register import MoveIn, PersonInput

    node = node_for(url)
    try:
        clerk = add_operator(
            node,
            actor=None,
            username=CLERK,
            display_name="試験 職員",
            role=Role.CLERK,
            password=PASSWORD,
        )
        security = add_operator(
            node,
            actor=None,
            username=SECURITY,
            display_name="試験 責任者",
            role=Role.SECURITY_OFFICER,
            password=PASSWORD,
        )
        admin = Actor(operator_id=0, username="benchcardadmin", role=Role.CARD_ADMINISTRATOR)
        public = key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        register_token_card(node, actor=admin, serial=CARD_SERIAL, public_key_der=public)
        lend_card(node, actor=admin, serial=CARD_SERIAL, username=CLERK)
        officer = Actor(
            operator_id=security.id,
            username=SECURITY,
            role=Role.SECURITY_OFFICER,
            terminal_id="loopback-demo",
        )
        clerk_actor = Actor(
            operator_id=clerk.id, username=CLERK, role=Role.CLERK, terminal_id="loopback-demo"
        )
        today = node.today()
        if hours == "open":
            # Open all day, every day, and today marked open (a holiday or 年末年始 would close
            # it): the checks find the counter open and never read the permits.
            set_hours(node, actor=officer, hours=dict.fromkeys(range(7), ("00:00", "23:59")))
            set_calendar_day(node, actor=officer, day=today, is_open=True, note="bench")
        else:
            set_hours(node, actor=officer, hours=dict.fromkeys(range(7)))
            permit = request_permit(node, actor=clerk_actor, reason="bench", minutes=12 * 60)
            approve_permit(node, actor=officer, permit_id=permit.id)
        # A few local days, as a town's calendar has.
        for offset in (30, 60, 90):
            set_calendar_day(
                node,
                actor=officer,
                day=today + timedelta(days=offset),
                is_open=False,
                note="bench closure",
            )
        codes = random_resident_codes(random.Random(20261210), residents)
        for i, code in enumerate(codes):
            register.file_move_in(
                node,
                actor=clerk_actor,
                move_in=MoveIn(
                    persons=(
                        PersonInput(
                            family_name="渡邊",
                            given_name="健一",
                            family_name_kana="ワタナベ",
                            given_name_kana="ケンイチ",
                            birth_date=date(1975, 3, 14),
                            sex=Sex.MALE,
                            relationship=Relationship.HEAD,
                            resident_code=code,
                        ),
                    ),
                    address=f"東京都西東京市泉町一丁目{i + 1}番1号",
                    previous_address="東京都国立市中一丁目1番1号",
                    moved_on=today,
                    filed_on=today,
                ),
            )
        return codes
    finally:
        node.engine.dispose()


# ---------------------------------------------------------------------------------------------
# The served apps (in the server process)
# ---------------------------------------------------------------------------------------------


def _clerk_actor(node: ServiceContext) -> Actor:
    """What ``resolve_session`` gives the clerk, built without any check."""
    with node.uow() as uow:
        operator = uow.operators.by_username(CLERK)
        assert operator is not None
        return Actor(
            operator_id=operator.id,
            username=operator.username,
            role=Role(operator.role),
            terminal_id="loopback-demo",
            display_name=operator.display_name,
            card_serial=CARD_SERIAL,
            session_id="bench",
            out_of_hours=False,
        )


def bare_app(node: ServiceContext) -> Any:
    """Only the lookup route, calling the reading service with a pre-built actor."""
    actor = _clerk_actor(node)
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    # A plain ``def``, as the real route: FastAPI runs it in the thread pool.
    @app.get("/api/v1/residents/{resident_code}")
    def resident(resident_code: Annotated[str, PathParam(max_length=20)]) -> ResidentOut:
        return ResidentOut.of(reading.read_resident(node, actor=actor, resident_code=resident_code))

    return app


def unchecked_app(node: ServiceContext) -> Any:
    """The real app without ``TerminalCheck`` and with ``api_actor`` replaced by the actor."""
    from jukinet.web.app import create_app
    from jukinet.web.auth import TerminalCheck, api_actor

    actor = _clerk_actor(node)
    app = create_app(node)
    app.user_middleware = [m for m in app.user_middleware if m.cls is not TerminalCheck]
    app.middleware_stack = None  # rebuilt from user_middleware on the first request
    app.dependency_overrides[api_actor] = lambda: actor
    return app


def serve(variant: str, url: str, port: int) -> None:
    """Serve one variant with uvicorn (uvloop, httptools) until terminated."""
    import uvicorn

    from jukinet.web.app import create_app

    node = node_for(url)
    app = {"bare": bare_app, "app-unchecked": unchecked_app, "app": create_app}[variant](node)
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_level="warning",
    )
    uvicorn.Server(config).run()


# ---------------------------------------------------------------------------------------------
# The load (this process)
# ---------------------------------------------------------------------------------------------


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerMeter(CpuMeter):
    """CpuMeter that also counts the server process."""

    def __init__(self, server_pid: int, database_urls: list[str]) -> None:
        super().__init__(database_urls=database_urls)
        self.server_pid = server_pid

    def _own_pids(self) -> dict[int, str]:
        pids = super()._own_pids()
        pids[self.server_pid] = "server"
        return pids


class Server:
    """One ``python -m bench.operator_checks serve`` process."""

    def __init__(self, variant: str, url: str, log: Path) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench.operator_checks",
                "serve",
                "--variant",
                variant,
                "--database-url",
                url,
                "--port",
                str(self.port),
            ],
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while True:
            if self.process.poll() is not None:
                msg = f"the {variant} server exited: {log.read_text(errors='replace')[-2000:]}"
                raise RuntimeError(msg)
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    @property
    def base_url(self) -> str:
        """Where it listens."""
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        """Terminate it (and wait)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


async def sign_in(client: httpx.AsyncClient, key: ed25519.Ed25519PrivateKey) -> str:
    """Password and the card's signature over the server's challenge: the bearer token."""
    from jukinet.services.operator_security.challenges import signin_message

    challenge = await client.post("/api/v1/auth/challenge")
    challenge.raise_for_status()
    body = challenge.json()
    raw = base64.urlsafe_b64decode(body["challenge"] + "=" * (-len(body["challenge"]) % 4))
    signature = key.sign(signin_message(body["node"], raw))
    answer = await client.post(
        "/api/v1/auth/token",
        json={
            "username": CLERK,
            "password": PASSWORD,
            "card_serial": CARD_SERIAL,
            "challenge_id": body["challenge_id"],
            "signature": _b64url(signature),
        },
    )
    answer.raise_for_status()
    return str(answer.json()["access_token"])


async def _load(
    base_url: str,
    variant: str,
    codes: list[str],
    key: ed25519.Ed25519PrivateKey,
    *,
    clients: int,
    warmup: float,
    duration: float,
) -> dict[str, Any]:
    latencies: list[float] = []
    statuses: collections.Counter[str] = collections.Counter()
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    clients_ = [
        httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60) for _ in range(clients)
    ]
    try:
        headers: dict[str, str] = {}
        if variant == "app":
            headers = {"Authorization": f"Bearer {await sign_in(clients_[0], key)}"}
        first = await clients_[0].get(LOOKUP.format(code=codes[0]), headers=headers)
        first.raise_for_status()
        if first.json().get("resident_code") != codes[0]:
            msg = f"{variant} did not return the record: {first.text[:300]}"
            raise RuntimeError(msg)
        start = time.perf_counter()
        measure_from = start + warmup
        stop_at = measure_from + duration

        async def worker(seed: int) -> None:
            rng = random.Random(seed)
            get = clients_[seed].get
            while True:
                began = time.perf_counter()
                if began >= stop_at:
                    return
                try:
                    code = codes[rng.randrange(len(codes))]
                    response = await get(LOOKUP.format(code=code), headers=headers)
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
    }


def _run(
    variant: str,
    url: str,
    codes: list[str],
    key: ed25519.Ed25519PrivateKey,
    args: argparse.Namespace,
    folder: Path,
    *,
    profile_seconds: int = 0,
) -> dict[str, Any]:
    server = Server(variant, url, folder / f"{variant}.log")
    spy: subprocess.Popen[bytes] | None = None
    spy_out = folder / f"{variant}.spy.txt"
    try:
        busy_before = wait_for_quiet(timeout=20)
        meter = ServerMeter(server.process.pid, [url])
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
                    "200",
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
        result = asyncio.run(
            _load(
                server.base_url,
                variant,
                codes,
                key,
                clients=args.clients,
                warmup=args.warmup,
                duration=args.duration,
            )
        )
        cpu = meter.stop()
    finally:
        server.stop()
    result["cpu"] = cpu
    served = max(1.0, result["requests_per_s"] * cpu["wall_seconds"])
    result["cpu_ms_per_request_by_process"] = {
        k: round(v / served * 1e3, 3) for k, v in cpu["ours_cpu_seconds_by_process"].items()
    }
    result["machine_busy_before"] = busy_before
    if spy is not None:
        from bench.provision_lookup import summarise_profile

        spy.wait(timeout=120)
        result["profile"] = summarise_profile(spy_out)
        if spy_out.exists():
            RESULTS_DIR.mkdir(exist_ok=True)
            keep = RESULTS_DIR / f"operator_checks-{url.split(':', 1)[0]}-{args.hours}.spy.txt"
            shutil.copyfile(spy_out, keep)
            result["profile"]["raw"] = str(keep)
    return result


def _median(runs: list[dict[str, Any]]) -> dict[str, Any]:
    ordered = sorted(runs, key=lambda r: r["requests_per_s"])
    return ordered[len(ordered) // 2]


def _measure(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="jukinet-opchecks-"))
    report: dict[str, Any] = {
        "benchmark": "operator_checks",
        "backend": backend,
        "hours": args.hours,
        "residents": args.residents,
        "clients": args.clients,
        "warmup_s": args.warmup,
        "duration_s": args.duration,
        "server": "uvicorn, uvloop, httptools, one process",
    }
    runs: dict[str, list[dict[str, Any]]] = {v: [] for v in VARIANTS}
    key = _card_key()
    try:
        with fresh_database(backend) as url:
            codes = prepare(url, residents=args.residents, hours=args.hours, key=key)
            for round_ in range(args.rounds):
                for variant in VARIANTS:
                    result = _run(variant, url, codes, key, args, folder)
                    runs[variant].append(result)
                    server_ms = result["cpu_ms_per_request_by_process"].get("server", 0.0)
                    print(
                        f"[{backend}/{args.hours}] round {round_ + 1} {variant:<14} "
                        f"{result['requests_per_s']:>8,.0f} req/s  p50 {result['p50_ms']} ms  "
                        f"p99 {result['p99_ms']} ms  server CPU {server_ms:.3f} ms/req  "
                        f"{result['statuses']}",
                        flush=True,
                    )
            if args.profile:
                report["profiled_app"] = _run(
                    "app", url, codes, key, args, folder, profile_seconds=int(args.duration)
                )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    for variant in VARIANTS:
        report[variant] = _median(runs[variant])
    report["all_rounds"] = {
        v: [
            {
                "requests_per_s": r["requests_per_s"],
                "p50_ms": r["p50_ms"],
                "p99_ms": r["p99_ms"],
                "server_cpu_ms": r["cpu_ms_per_request_by_process"].get("server"),
            }
            for r in rs
        ]
        for v, rs in runs.items()
    }

    def server_ms(variant: str) -> float:
        return float(report[variant]["cpu_ms_per_request_by_process"].get("server", 0.0))

    app, unchecked, bare = report["app"], report["app-unchecked"], report["bare"]
    report["ratio_app_to_bare"] = round(app["requests_per_s"] / bare["requests_per_s"], 3)
    report["ratio_app_to_unchecked"] = round(app["requests_per_s"] / unchecked["requests_per_s"], 3)
    # The checks' share of a checked request: what the checks add, over the checked request.
    report["checks_share_throughput"] = round(1 - report["ratio_app_to_unchecked"], 3)
    report["checks_share_server_cpu"] = round(
        (server_ms("app") - server_ms("app-unchecked")) / server_ms("app"), 3
    )
    report["checks_server_cpu_ms"] = round(server_ms("app") - server_ms("app-unchecked"), 3)
    report["app_vs_bare_share_server_cpu"] = round(
        (server_ms("app") - server_ms("bare")) / server_ms("app"), 3
    )
    report["p50_app_minus_unchecked_ms"] = round(app["p50_ms"] - unchecked["p50_ms"], 2)
    report["aim"] = "checks < 10 % of the request (server CPU per request)"
    report["aim_met"] = report["checks_share_server_cpu"] < 0.10
    report["load_average"] = load_average()
    report["machine"] = machine()
    return report


def _summary(report: dict[str, Any]) -> None:
    print(
        f"\n== operator checks, {report['backend']}, hours={report['hours']}, "
        f"{report['clients']} clients, {report['duration_s']:.0f} s, median of "
        f"{len(report['all_rounds']['app'])} rounds =="
    )
    print(f"{'variant':<16}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'server CPU ms/req':>19}")
    for variant in VARIANTS:
        r = report[variant]
        print(
            f"{variant:<16}{r['requests_per_s']:>9,.0f}{r['p50_ms']:>9}{r['p99_ms']:>9}"
            f"{r['cpu_ms_per_request_by_process'].get('server', 0):>19.3f}"
        )
    print(
        f"app / unchecked req/s {report['ratio_app_to_unchecked']:.3f}; app / bare "
        f"{report['ratio_app_to_bare']:.3f}; checks = {report['checks_server_cpu_ms']:.3f} ms "
        f"server CPU = {100 * report['checks_share_server_cpu']:.1f} % of a checked request "
        f"(aim < 10 %: {'met' if report['aim_met'] else 'not met'})"
    )
    profile = report.get("profiled_app", {}).get("profile")
    if profile:
        print(f"-- py-spy --gil of the app server ({profile['samples']} samples) --")
        for name, pct in profile["own_pct_by_package"]:
            print(f"  own by package {pct:5.1f}%  {name}")
        for name, pct in profile["jukinet_cumulative_pct"]:
            print(f"  cum {pct:5.1f}%  {name}")
    print()


def main() -> None:
    """``serve`` (internal) or the benchmark."""
    if len(sys.argv) > 1 and sys.argv[1] == "serve":
        parser = argparse.ArgumentParser()
        parser.add_argument("serve")
        parser.add_argument("--variant", choices=VARIANTS, required=True)
        parser.add_argument("--database-url", required=True)
        parser.add_argument("--port", type=int, required=True)
        served = parser.parse_args()
        serve(served.variant, served.database_url, served.port)
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="sqlite")
    parser.add_argument("--hours", choices=("open", "permit"), default="open")
    parser.add_argument("--residents", type=int, default=300)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    for backend in backends:
        report = _measure(backend, args)
        emit("operator_checks", report)
        _summary(report)


if __name__ == "__main__":
    main()
