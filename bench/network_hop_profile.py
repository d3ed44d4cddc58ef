"""Where the time of one notice goes, hop by hop, in one process (no HTTP, no scheduling).

The same functions the node processes run — ``prepare_batch`` at the sender, the JSON round
trip of the request body, ``inbox.receive`` at the receiver, ``verify_document`` +
``record_ack`` back at the sender — are called directly on a three-node cluster's databases,
batch after batch, for municipality → prefecture and prefecture → centre. Nothing runs in
parallel, so the sum of the phases is the CPU a notice costs the network, and its inverse is what
one core could carry with HTTP, TLS and polling taken away.

Half the notices are timed with ``perf_counter`` only; the other half run under cProfile, whose
cumulative times split ``inbox.receive`` into checks (signatures), apply (ORM) and the signed
acknowledgement. Baselines in the same run: one Ed25519 sign and verify of a notice envelope's
canonical bytes.

Usage: ``python -m bench.network_hop_profile [N] [--batch B]`` (default 4,000 notices, batches
of the nodes' ``delivery_batch``, 500).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import time
from collections import defaultdict
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from bench._common import BACKENDS
from bench._network import (
    CENTRE,
    SEED_DAY,
    TOKYO,
    TOWN,
    TOWN_CODE,
    bench_cluster,
    emit,
    machine,
)
from jukinet.network import inbox
from jukinet.network.context import NetworkContext
from jukinet.network.delivery import prepare_batch, record_ack
from jukinet.network.envelope import Envelope
from jukinet.runtime.bootstrap import handler_table
from jukinet.seed import generate_population
from jukinet.services.context import ServiceContext
from jukinet.services.population import load_population

#: Functions whose cumulative time the cProfile pass reports (file suffix, function name).
WATCHED = {
    ("delivery.py", "prepare_batch"): "prepare_batch",
    ("envelope.py", "signed_with"): "  of which Envelope.signed_with (Ed25519 sign)",
    ("inbox.py", "receive"): "inbox.receive",
    ("inbox.py", "_check"): "  of which _check (certificate + Ed25519 verify)",
    ("inbox.py", "_apply"): "  of which _apply (records, history, inbox, outbox rows)",
    ("identity_store.py", "receive_identity_message"): "    of which receive_identity_message",
    ("session.py", "commit"): "    of which Session.commit (flush + COMMIT)",
    ("inbox.py", "sign_document"): "  of which sign_document (ack)",
    ("delivery.py", "record_ack"): "record_ack",
}


def _network(node: ServiceContext) -> NetworkContext:
    if node.network is None:
        msg = "the node has no network context"
        raise RuntimeError(msg)
    return node.network


def _tls_der(node: ServiceContext) -> bytes:
    pem = _network(node).credentials.tls_cert.read_bytes()
    return x509.load_pem_x509_certificate(pem).public_bytes(Encoding.DER)


def _hop(
    sender: ServiceContext,
    receiver: ServiceContext,
    batch: int,
    phases: dict[str, float],
    *,
    limit: int,
) -> int:
    """Move up to ``limit`` envelopes over one link, batch by batch; returns how many moved."""
    send_net, receive_net = _network(sender), _network(receiver)
    peer = str(receive_net.node)
    der = _tls_der(sender)
    handlers = handler_table(receiver)
    moved = 0
    while moved < limit:
        t0 = time.perf_counter()
        envelopes = prepare_batch(sender, send_net, peer, limit=min(batch, limit - moved))
        t1 = time.perf_counter()
        if not envelopes:
            break
        # What httpx (json=) and Starlette (request.json()) do to the request body.
        payload = json.loads(json.dumps({"envelopes": [e.as_dict() for e in envelopes]}))
        t2 = time.perf_counter()
        signed_ack = inbox.receive(
            receiver, receive_net, handlers, tls_peer_der=der, payload=payload
        )
        t3 = time.perf_counter()
        wire_ack = json.loads(json.dumps(signed_ack))
        ack = inbox.verify_document(wire_ack, signer=peer, net=send_net, node=sender)
        record_ack(sender, peer, ack)
        t4 = time.perf_counter()
        phases["prepare_batch (sender)"] += t1 - t0
        phases["request JSON encode+decode"] += t2 - t1
        phases["inbox.receive (receiver)"] += t3 - t2
        phases["ack JSON + verify + record_ack (sender)"] += t4 - t3
        moved += len(envelopes)
    return moved


def _crypto_baseline(town: ServiceContext) -> tuple[float, float]:
    """Microseconds for one Ed25519 sign and one verify of a notice envelope."""
    net = _network(town)
    envelopes = prepare_batch(town, net, TOKYO, limit=1)
    envelope: Envelope = envelopes[0]
    key = net.signing_key
    public = key.public_key()
    rounds = 2000
    start = time.perf_counter()
    for _ in range(rounds):
        signed = envelope.signed_with(key)
    sign_us = (time.perf_counter() - start) / rounds * 1e6
    start = time.perf_counter()
    for _ in range(rounds):
        signed.verify(public)
    verify_us = (time.perf_counter() - start) / rounds * 1e6
    return sign_us, verify_us


def _profile_summary(profile: cProfile.Profile, notices: int) -> dict[str, float]:
    stats = pstats.Stats(profile)
    found: dict[str, float] = {}
    for (file, _line, function), row in stats.stats.items():  # type: ignore[attr-defined]  # pstats keeps it undeclared
        label = WATCHED.get((file.rsplit("/", 1)[-1], function))
        if label is not None:
            cumulative = float(row[3])
            found[label] = found.get(label, 0.0) + cumulative
    return {k: round(v / notices * 1e6, 1) for k, v in sorted(found.items())}


def _top_functions(profile: cProfile.Profile, notices: int, top: int = 15) -> list[list[Any]]:
    stats = pstats.Stats(profile)
    rows = []
    for (file, line, function), row in stats.stats.items():  # type: ignore[attr-defined]  # pstats keeps it undeclared
        rows.append((float(row[2]), f"{function} ({file.rsplit('/', 1)[-1]}:{line})"))
    rows.sort(reverse=True)
    return [[name, round(own / notices * 1e6, 1)] for own, name in rows[:top]]


def _measure(backend: str, n: int, batch: int) -> dict[str, Any]:
    households = generate_population(TOWN_CODE, n, today=SEED_DAY, seed=20261126)
    with bench_cluster(backend, start=False) as cluster:
        handles = {name: cluster.handle(name) for name in (TOWN, TOKYO, CENTRE)}
        town, prefecture, centre = handles[TOWN], handles[TOKYO], handles[CENTRE]
        loaded = load_population(town, actor=None, households=households, total=n)
        sign_us, verify_us = _crypto_baseline(town)
        half = loaded // 2
        timed: dict[str, dict[str, float]] = {
            "municipality→prefecture": defaultdict(float),
            "prefecture→centre": defaultdict(float),
        }
        moved = _hop(town, prefecture, batch, timed["municipality→prefecture"], limit=half)
        moved_up = _hop(prefecture, centre, batch, timed["prefecture→centre"], limit=moved)
        profile = cProfile.Profile()
        scratch: dict[str, float] = defaultdict(float)
        profile.enable()
        profiled = _hop(town, prefecture, batch, scratch, limit=loaded - half)
        profiled_up = _hop(prefecture, centre, batch, scratch, limit=profiled)
        profile.disable()
        for handle in handles.values():
            handle.engine.dispose()
    per_notice = {
        hop: {phase: round(seconds / moved * 1e6, 1) for phase, seconds in phases.items()}
        for hop, phases in timed.items()
    }
    total_us = sum(sum(p.values()) for p in per_notice.values())
    return {
        "benchmark": "network_hop_profile",
        "backend": backend,
        "notices_timed": moved,
        "notices_timed_up": moved_up,
        "notices_profiled": profiled,
        "notices_profiled_up": profiled_up,
        "batch": batch,
        "us_per_notice": per_notice,
        "us_per_notice_both_hops": round(total_us, 1),
        "one_core_ceiling_notices_per_s": round(1e6 / total_us, 1),
        "ed25519_sign_us": round(sign_us, 1),
        "ed25519_verify_us": round(verify_us, 1),
        "crypto_share_of_total": round(2 * (sign_us + verify_us) / total_us, 3),
        "cprofile_cumulative_us_per_notice_both_hops": _profile_summary(profile, profiled),
        "cprofile_top_own_us_per_notice": _top_functions(profile, profiled),
        "machine": machine(),
    }


def main() -> None:
    """Run on every backend and print one JSON line per backend."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=4000, help="notices to move")
    parser.add_argument("--batch", type=int, default=500, help="envelopes per request")
    args = parser.parse_args()
    for backend in BACKENDS:
        emit("network_hop_profile", _measure(backend, args.n, args.batch))


if __name__ == "__main__":
    main()
