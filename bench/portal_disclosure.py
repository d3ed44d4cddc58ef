"""The resident portal's combined disclosure: 1,000 entries about one resident across three tiers.

For each backend, three nodes in this process — Nishitokyo, Tokyo, the centre — with their own
databases, serving their network endpoints over mutual TLS on loopback. The resident's log
entries are split across the tiers (``--entries``, default 1,000: about a third each), among
``--noise`` entries about other residents per tier (so the proofs have a realistic depth).

- **portal**: :func:`jukinet.services.portal.overview.overview` — the town's own disclosure
  (recorded, head signed and published to its two witnesses), the question to Tokyo (which
  discloses, publishes its head to the centre and passes on the centre's signed answer), every
  signature, countersignature and inclusion proof checked — then the page's rows rendered
  (:func:`jukinet.web.portal.views.rows`). The town's own disclosure runs while Tokyo answers,
  and Tokyo's while the centre answers (as separate machines would).
- **baseline**: the same number of entries about the resident read from one local log (a fourth
  database, no network): :func:`audit.disclose_recorded`, :func:`audit.check_disclosure`, rows.

The two alternate request by request so a machine shared with others slows both alike; p50/p99
of each and the ratio of rates (baseline p50 ÷ portal p50; aim ≥ 0.3, portal p99 < 1 s), and
the median CPU seconds this process spent per request (less swayed by a busy machine).

Usage: ``python -m bench.portal_disclosure [--quick] [--entries N] [--noise N] [--rounds N]``;
``JUKINET_BENCH_BACKENDS`` picks the backends (default both).
"""

from __future__ import annotations

import argparse
import contextlib
import random
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bench._common import BACKENDS, fresh_database
from bench._network import emit, machine, percentile
from jukinet.config import load_settings
from jukinet.domain.access_log import AccessEntry, Action, ActorKind, Channel
from jukinet.domain.codes import make_resident_code
from jukinet.domain.network import NodeId, NodeRole, are_neighbours
from jukinet.network.pki import FileCaSigner, NetworkPki
from jukinet.network.transport import make_server
from jukinet.runtime.bootstrap import build_node, handler_table
from jukinet.seed.households import generate_households
from jukinet.services import audit
from jukinet.services.context import ServiceContext
from jukinet.services.population import allot_codes_in_bulk, load_population
from jukinet.services.portal import overview
from jukinet.services.portal.signin import PortalResident
from jukinet.storage.access_log import append_entries
from jukinet.storage.tables import ResidentRow
from jukinet.web.network_app import create_network_app
from jukinet.web.portal import views

TOWN = "municipality:132292"
TOKYO = "prefecture:13"
CENTRE = "national:jlis"
NAMES = (TOWN, TOKYO, CENTRE)
SECRET = "bench-secret-key-that-is-long-enough-0123"
AFFAIRS = ("T1-16", "T1-1-2", "T1-21", None)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _node(
    name: str, url: str, pki: NetworkPki | None, peers: dict[str, str], keys: Path
) -> ServiceContext:
    node_id = NodeId.parse(name)
    extra: dict[str, object] = {"role": node_id.role.value}
    if node_id.role is NodeRole.MUNICIPALITY:
        extra["municipality_code"] = node_id.code
    else:
        extra["node_code"] = node_id.code
    if pki is not None:
        extra |= {"pki_dir": pki.folder, "peers": peers}
    else:
        extra["audit_key_path"] = keys / "audit-signing-key.pem"
    settings = load_settings(
        environment="test",
        database_url=url,
        secret_key=SECRET,
        argon2_time_cost=1,
        argon2_memory_cost=8192,
        **extra,
    )
    return build_node(settings)


@contextlib.contextmanager
def _serving(node: ServiceContext, port: int) -> Iterator[None]:
    net = node.network
    assert net is not None
    server = make_server(
        create_network_app(node, net, handler_table(node)),
        host="127.0.0.1",
        port=port,
        ssl_context=net.server_ssl_context(),
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _entries(node: ServiceContext, code: str, count: int, noise: int, rng: random.Random) -> None:
    """``count`` entries about ``code`` spread among ``noise`` about others, in log order."""
    at = datetime.now(UTC) - timedelta(days=400)
    mine = set(rng.sample(range(count + noise), count))
    batch: list[AccessEntry] = []
    for number in range(count + noise):
        about = code if number in mine else make_resident_code(f"{rng.randrange(10**10):010d}")
        affair = rng.choice(AFFAIRS)
        batch.append(
            AccessEntry(
                recorded_at=at + timedelta(minutes=number),
                node=str(node.node_id),
                action=Action.READ,
                channel=Channel.AGENCY_API if affair else Channel.COUNTER,
                actor_kind=ActorKind.RECIPIENT if affair else ActorKind.OPERATOR,
                actor="soumu-onkyu" if affair else "clerk1",
                subject=about,
                affair_code=affair,
                reason="照会" if affair else "窓口業務",
                items=("name", "birth_date", "sex", "address"),
            )
        )
        if len(batch) == 5000:
            _append(node, batch)
            batch = []
    _append(node, batch)


def _append(node: ServiceContext, batch: list[AccessEntry]) -> None:
    if not batch:
        return
    with node.uow() as uow:
        append_entries(uow.session, batch)
        uow.commit()


def _resident(town: ServiceContext) -> PortalResident:
    allot_codes_in_bulk(town, count=20, rng=random.Random(7))
    load_population(
        town,
        actor=None,
        households=generate_households("132292", 3, today=date(2026, 12, 1), seed=7),
    )
    with town.read_session() as session:
        row = session.execute(select(ResidentRow.id, ResidentRow.resident_code).limit(1)).one()
    return PortalResident(int(row.id), str(row.resident_code), "132292-0000001", "bench")


def _baseline_document(local: ServiceContext, code: str) -> dict[str, Any]:
    entry = AccessEntry(
        recorded_at=datetime.now(UTC),
        node=str(local.node_id),
        action=Action.READ,
        channel=Channel.SYSTEM,
        actor_kind=ActorKind.SYSTEM,
        actor="resident-portal",
        subject=code,
        reason="本人確認情報の開示請求（住民ポータル）",
        items=("access_log",),
    )
    return audit.disclose_recorded(local, entry)


def run_backend(backend: str, *, entries: int, noise: int, rounds: int) -> dict[str, Any]:
    """Portal vs one local log on ``backend``; the report."""
    rng = random.Random(2026)
    with contextlib.ExitStack() as stack, tempfile.TemporaryDirectory() as folder:
        urls = {name: stack.enter_context(fresh_database(backend)) for name in (*NAMES, "local")}
        now = datetime.now(UTC)
        signer = FileCaSigner.generate()
        pki = NetworkPki(Path(folder) / "pki")
        pki.init(signer, now=now)
        for name in NAMES:
            pki.issue_node(signer, name, now=now)
        pki.publish_crl(signer, now=now)
        ports = {name: _free_port() for name in NAMES}
        ids = {name: NodeId.parse(name) for name in NAMES}
        nodes = {
            name: _node(
                name,
                urls[name],
                pki,
                {
                    other: f"https://127.0.0.1:{ports[other]}"
                    for other in NAMES
                    if other != name and are_neighbours(ids[name], ids[other])
                },
                Path(folder),
            )
            for name in NAMES
        }
        local = _node(TOWN, urls["local"], None, {}, Path(folder))
        audit.create_log_key(local)
        for node in nodes.values():
            stack.enter_context(_serving(node, ports[str(node.node_id)]))
        resident = _resident(nodes[TOWN])
        code = resident.resident_code
        share = entries // 3
        for number, name in enumerate(NAMES):
            count = share if number < 2 else entries - 2 * share
            _entries(nodes[name], code, count, noise, rng)
        _entries(local, code, entries, noise * 3, rng)
        trust = {"public_key_pem": audit.public_key_pem(local).encode("ascii")}
        portal_times: list[float] = []
        local_times: list[float] = []
        portal_cpu: list[float] = []
        local_cpu: list[float] = []
        shown = 0
        for _round in range(rounds):
            start, cpu = time.perf_counter(), time.process_time()
            seen = overview.overview(nodes[TOWN], resident)
            shown = len(views.rows(seen, "ja"))
            portal_times.append(time.perf_counter() - start)
            portal_cpu.append(time.process_time() - cpu)
            assert seen.all_verified, [t.problem for t in seen.tiers]
            start, cpu = time.perf_counter(), time.process_time()
            document = _baseline_document(local, code)
            checked = overview.check("municipality", TOWN, document, None, trust)
            baseline = overview.combine(code, [checked])
            views.rows(baseline, "ja")
            local_times.append(time.perf_counter() - start)
            local_cpu.append(time.process_time() - cpu)
            assert baseline.all_verified
        for node in (*nodes.values(), local):
            node.engine.dispose()
    portal_p50 = percentile(portal_times, 50)
    local_p50 = percentile(local_times, 50)
    return {
        "backend": backend,
        "entries_about_resident": entries,
        "entries_shown_last_round": shown,
        "noise_per_tier": noise,
        "rounds": rounds,
        "portal_p50_s": round(portal_p50, 4),
        "portal_p99_s": round(percentile(portal_times, 99), 4),
        "local_p50_s": round(local_p50, 4),
        "local_p99_s": round(percentile(local_times, 99), 4),
        "rate_ratio": round(local_p50 / portal_p50, 3),
        # CPU seconds of this process (all three nodes' threads; not PostgreSQL's server) per
        # round: less swayed than wall time by other work on a shared machine.
        "portal_cpu_p50_s": round(percentile(portal_cpu, 50), 4),
        "local_cpu_p50_s": round(percentile(local_cpu, 50), 4),
        "aim": "rate_ratio >= 0.3, portal p99 < 1 s",
    }


def main() -> None:
    """Run on each backend and print the reports."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--entries", type=int, default=1000)
    parser.add_argument("--noise", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()
    noise, rounds = (2000, 10) if args.quick else (args.noise, args.rounds)
    results = [
        run_backend(backend, entries=args.entries, noise=noise, rounds=rounds)
        for backend in BACKENDS
    ]
    emit("portal_disclosure", {"machine": machine(), "results": results})


if __name__ == "__main__":
    main()
