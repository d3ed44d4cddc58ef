"""広域交付 round trip through three tiers against one mutual-TLS round trip, same run.

For each backend, five node processes (centre, Tokyo, Kanagawa, Nishitokyo, Yokohama) over
mutual TLS on loopback; Nishitokyo holds a household of two. Measured from an in-process
Yokohama counter (the node's own keys and peers):

- **relay**: ``services.relay.ask_municipality`` for a ``wide_area_copy`` (photo ID) of the
  household: the request sealed at Yokohama, handed Yokohama → Kanagawa → centre → Tokyo →
  Nishitokyo (each hop checking the previous signer and the origin's seal, each logging the
  access in its own transaction), the home answer read and logged, signed, passed back and
  verified at Yokohama. Yokohama keeps its connection to Kanagawa open (a counter's client);
  the hops open theirs per request.
- **baseline**: one mTLS round trip Yokohama → Kanagawa (``GET /network/v1/health``) on a kept
  connection, and the same with a new connection each time (TLS handshake included).

Aim: relay p99 < 500 ms. The PDF itself (≈1 s of WeasyPrint, see ``bench.certificates``) is
not part of the round trip.

Usage: ``python -m bench.wide_area [--count N]`` (default 200 after 10 warm-up requests);
``JUKINET_BENCH_BACKENDS`` picks the backends (default both).
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import date
from typing import Any

import httpx

from bench._common import BACKENDS
from bench._network import CENTRE, TOKYO, bench_cluster, emit, load_average, machine, percentile
from jukinet.domain.codes import random_resident_codes
from jukinet.domain.operators import Role
from jukinet.domain.register import Relationship, Sex
from jukinet.domain.wide_area import PURPOSE
from jukinet.services import register
from jukinet.services.context import ServiceContext
from jukinet.services.operators import add_operator, authenticate
from jukinet.services.register import MoveIn, PersonInput
from jukinet.services.relay import ask_municipality

KANAGAWA = "prefecture:14"
NISHITOKYO = "municipality:132292"
YOKOHAMA = "municipality:141003"
NODES = (CENTRE, TOKYO, KANAGAWA, NISHITOKYO, YOKOHAMA)
PASSWORD = "bench-password-0123456789"
ADDRESS = "東京都西東京市泉町一丁目2番3号"
BODY = {
    "identification": "photo_id",
    "name": "髙橋太郎",
    "birth_date": "1980-04-01",
    "address": ADDRESS,
    "household": True,
    "relationship": True,
    "resident_code": False,
}


def _seed(town: ServiceContext) -> None:
    add_operator(
        town, actor=None, username="benchclerk", display_name="試験 職員", role=Role.CLERK,
        password=PASSWORD,
    )  # fmt: skip
    actor = authenticate(town, username="benchclerk", password=PASSWORD)
    head, wife = random_resident_codes(random.Random(14), 2)
    persons = (
        PersonInput("髙橋", "太郎", "タカハシ", "タロウ", date(1980, 4, 1), Sex.MALE,
                    Relationship.HEAD, head),
        PersonInput("𠮷田", "花子", "ヨシダ", "ハナコ", date(1982, 7, 7), Sex.FEMALE,
                    Relationship.WIFE, wife),
    )  # fmt: skip
    today = town.today()
    register.file_move_in(
        town,
        actor=actor,
        move_in=MoveIn(
            persons=persons,
            address=ADDRESS,
            previous_address="東京都国立市中一丁目1番1号",
            moved_on=today,
            filed_on=today,
        ),
    )


def _timed(call: Any, count: int) -> list[float]:
    for _ in range(10):
        call()
    times = []
    for _ in range(count):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return times


def _summary(times: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(percentile(times, 50), 2),
        "p99_ms": round(percentile(times, 99), 2),
        "mean_ms": round(sum(times) / len(times), 2),
    }


def measure(backend: str, count: int) -> dict[str, Any]:
    """One backend's figures."""
    with bench_cluster(backend, names=NODES) as cluster:
        town = cluster.handle(NISHITOKYO)
        yokohama = cluster.handle(YOKOHAMA)
        try:
            _seed(town)
            net = yokohama.network
            assert net is not None
            kanagawa = net.peers[KANAGAWA].rstrip("/")
            with httpx.Client(verify=net.client_ssl_context(), timeout=30.0) as kept:

                def tls_kept() -> None:
                    kept.get(kanagawa + "/network/v1/health").raise_for_status()

                def tls_new() -> None:
                    with httpx.Client(verify=net.client_ssl_context(), timeout=30.0) as fresh:
                        fresh.get(kanagawa + "/network/v1/health").raise_for_status()

                def relay() -> None:
                    _request, answer = ask_municipality(
                        yokohama, destination="132292", purpose=PURPOSE, body=BODY, http=kept
                    )
                    assert len(answer["copy"]["persons"]) == 2, answer

                load_before = load_average()
                # Alternate the variants so a busy moment hits all of them alike.
                rounds = 4
                figures: dict[str, list[float]] = {"tls_kept": [], "tls_new": [], "relay": []}
                for _ in range(rounds):
                    figures["tls_kept"] += _timed(tls_kept, count // rounds)
                    figures["tls_new"] += _timed(tls_new, count // rounds)
                    figures["relay"] += _timed(relay, count // rounds)
        finally:
            town.engine.dispose()
            yokohama.engine.dispose()
    report: dict[str, Any] = {
        "backend": backend,
        "count": count,
        "load_average": [load_before, load_average()],
    }
    for name, times in figures.items():
        report[name] = _summary(times)
    report["relay_over_tls_kept_p50"] = round(
        report["relay"]["p50_ms"] / report["tls_kept"]["p50_ms"], 1
    )
    return report


def main() -> None:
    """Run the benchmark on each backend and print (and keep) its JSON line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=200)
    args = parser.parse_args()
    for backend in BACKENDS:
        report = measure(backend, args.count)
        report["machine"] = machine()
        emit("wide_area", report)


if __name__ == "__main__":
    main()
