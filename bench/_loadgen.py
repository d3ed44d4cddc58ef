"""A lean HTTP/1.1 load generator over (mutual) TLS, in its own processes.

Issue 16 asks that the server under test, not the load generator, be what a benchmark measures:
httpx costs ~1 ms of CPU per request on this machine, as much as the bare endpoint it drives.
Here every process keeps ``connections`` keep-alive TLS connections, writes prebuilt request
bytes, and reads each response by its ``Content-Length`` — no HTTP library, no JSON encoding,
uvloop when installed. The processes are started with ``spawn`` and import nothing of jukinet,
so they stay small and start fast.

Each process waits on a barrier until all of them have connected; then all run for ``warmup``
+ ``duration`` seconds. Requests that start after the warm-up and finish before the end count
(the rule of ``bench.provision_lookup``). Latencies are measured with ``time.monotonic``, which
on Linux is one clock for every process.
"""

from __future__ import annotations

import asyncio
import collections
import multiprocessing
import multiprocessing.synchronize
import random
import ssl
import time
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Target:
    """Where to send and with which TLS material (paths, so a spawned process can load them)."""

    host: str
    port: int
    ca_file: str
    cert_file: str | None = None
    key_file: str | None = None

    def context(self) -> ssl.SSLContext:
        """Client TLS: trust ``ca_file``; present the client certificate when given."""
        context = ssl.create_default_context(cafile=self.ca_file)
        if self.cert_file is not None:
            context.load_cert_chain(self.cert_file, self.key_file)
        return context


def post_request(target: Target, path: str, body: bytes) -> bytes:
    """The bytes of one keep-alive ``POST`` with a JSON body."""
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {target.host}:{target.port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("ascii") + body


def _content_length(head: bytes) -> int:
    lowered = head.lower()
    at = lowered.find(b"\r\ncontent-length:")
    if at < 0:
        msg = f"response without Content-Length: {head[:200]!r}"
        raise ValueError(msg)
    end = lowered.find(b"\r\n", at + 2)
    return int(lowered[at + 17 : end].strip())


async def _connection(
    target: Target,
    context: ssl.SSLContext,
    requests: list[bytes],
    seed: int,
    gate: _Gate,
    window: list[float],
    latencies: list[float],
    statuses: collections.Counter[str],
) -> None:
    try:
        reader, writer = await asyncio.open_connection(target.host, target.port, ssl=context)
    except (OSError, ssl.SSLError) as error:
        statuses[f"connect {type(error).__name__}"] += 1
        gate.arrived()
        return
    rng = random.Random(seed)
    gate.arrived()
    await gate.go.wait()
    measure_from, stop_at = window
    try:
        while True:
            began = time.monotonic()
            if began >= stop_at:
                return
            writer.write(requests[rng.randrange(len(requests))])
            try:
                head = await reader.readuntil(b"\r\n\r\n")
                await reader.readexactly(_content_length(head))
                status = head[9:12].decode("ascii")
            except (asyncio.IncompleteReadError, ConnectionError) as error:
                statuses[type(error).__name__] += 1
                return
            ended = time.monotonic()
            if began >= measure_from and ended <= stop_at:
                statuses[status] += 1
                if status == "200":
                    latencies.append(ended - began)
    finally:
        writer.close()


async def _process_main(
    target: Target,
    requests: list[bytes],
    connections: int,
    seed: int,
    barrier: multiprocessing.synchronize.Barrier,
    warmup: float,
    duration: float,
) -> dict[str, Any]:
    context = target.context()
    gate = _Gate(connections)
    window: list[float] = []
    latencies: list[float] = []
    statuses: collections.Counter[str] = collections.Counter()
    tasks = [
        asyncio.create_task(
            _connection(
                target, context, requests, seed * 1000 + i, gate, window, latencies, statuses
            )
        )
        for i in range(connections)
    ]
    # Connect first (the TLS handshakes are not part of the measurement), then start together.
    await gate.all_connected.wait()
    await asyncio.get_running_loop().run_in_executor(None, barrier.wait)
    now = time.monotonic()
    window.extend((now + warmup, now + warmup + duration))
    gate.go.set()
    await asyncio.gather(*tasks)
    return {"latencies": latencies, "statuses": dict(statuses), "cpu_seconds": time.process_time()}


class _Gate:
    """Counts connections as their handshakes finish; ``go`` starts them all at once."""

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.all_connected = asyncio.Event()
        self.go = asyncio.Event()

    def arrived(self) -> None:
        """One more connection is ready."""
        self.expected -= 1
        if self.expected == 0:
            self.all_connected.set()


def _child(
    target: Target,
    requests: list[bytes],
    connections: int,
    seed: int,
    barrier: multiprocessing.synchronize.Barrier,
    warmup: float,
    duration: float,
    results: multiprocessing.Queue[dict[str, Any]],
) -> None:
    try:
        import uvloop

        run = uvloop.run
    except ImportError:
        run = asyncio.run
    try:
        outcome = run(_process_main(target, requests, connections, seed, barrier, warmup, duration))
    except BaseException as error:  # report, never hang the parent
        outcome = {"error": f"{type(error).__name__}: {error}"}
    results.put(outcome)


def run_load(
    target: Target,
    requests: list[bytes],
    *,
    clients: int,
    processes: int = 2,
    warmup: float,
    duration: float,
) -> dict[str, Any]:
    """Drive ``target`` with ``clients`` connections spread over ``processes`` processes.

    Returns the counted requests' statuses, latencies (seconds, sorted) and the generator's CPU
    seconds (all its processes)."""
    ctx = multiprocessing.get_context("spawn")
    processes = max(1, min(processes, clients))
    barrier = ctx.Barrier(processes)
    results: multiprocessing.Queue[dict[str, Any]] = ctx.Queue()
    per = [clients // processes + (1 if i < clients % processes else 0) for i in range(processes)]
    children = [
        ctx.Process(
            target=_child,
            args=(target, requests, per[i], i + 1, barrier, warmup, duration, results),
            daemon=True,
        )
        for i in range(processes)
    ]
    for child in children:
        child.start()
    outcomes = [results.get(timeout=warmup + duration + 120) for _ in children]
    for child in children:
        child.join(timeout=30)
    errors = [o["error"] for o in outcomes if "error" in o]
    if errors:
        msg = f"load generator failed: {errors[0]}"
        raise RuntimeError(msg)
    statuses: collections.Counter[str] = collections.Counter()
    latencies: list[float] = []
    for outcome in outcomes:
        statuses.update(outcome["statuses"])
        latencies.extend(outcome["latencies"])
    latencies.sort()
    return {
        "statuses": dict(statuses),
        "latencies": latencies,
        "cpu_seconds": round(sum(o["cpu_seconds"] for o in outcomes), 2),
    }
