"""公的個人認証 at a prefecture: OCSP answers/s, CRL generation, revocation latency.

For each backend, on a fresh database of the prefecture 13 holding ``--issued`` certificates
(default 1,000,000) of which ``--revoked`` (default 50,000) are revoked — bulk-loaded through
the one bulk writer (COPY on PostgreSQL, executemany on SQLite) — measured in the same run:

- **ocsp**: ``services.jpki.responder.ocsp_response`` — parse the DER request, check it names
  this CA, read the serial's status in a read-only session, sign the answer with the delegated
  responder's key — for random serials of the table (good and revoked), one thread, for
  ``--seconds``. **baseline**: the same requests parsed and answered with the same status
  already in hand (no database read): ``PrefecturalCa.parse_ocsp`` + ``ocsp_answer``. The ratio
  is ocsp ÷ baseline (aim ≥ 0.5).
- **crl**: ``responder.crl_der`` with a cold cache (reads the revoked rows, builds and signs the
  CRL), then warm (cache hit: one aggregate query); baseline: building and signing the same CRL
  from rows already in memory.
- **revocation latency**: address-change notices for residents holding certificates, submitted
  at ``--rate`` per second (default 200) for ``--seconds``; an applier thread applies what has
  arrived as the inbox does (one transaction per batch, prefetch, ``receive_identity_message``);
  after each commit a checker thread asks OCSP for each certificate of the batch. Latency =
  OCSP said "revoked" − the notice's submission. Aim: p99 < 5 s.

Usage: ``python -m bench.jpki [--quick] [--issued N] [--revoked N] [--seconds S] [--rate R]``;
``JUKINET_BENCH_BACKENDS`` picks the backends (default both). ``--quick``: 100,000 issued,
5,000 revoked, 5 s windows.
"""

from __future__ import annotations

import argparse
import queue
import random
import tempfile
import threading
import time
import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp
from sqlalchemy import text

from bench._common import BACKENDS, fresh_database
from bench._network import emit, machine, percentile
from jukinet.config import load_settings
from jukinet.domain.codes import make_resident_code
from jukinet.domain.identity import ChangeReason, IdentityInfo, IdentityNotice
from jukinet.domain.jpki import CertificateStatus, RevocationReason
from jukinet.domain.messages import MessageKind
from jukinet.domain.network import municipality
from jukinet.network.jpki_ca import PrefecturalCa, authority_of
from jukinet.services.context import ServiceContext
from jukinet.services.identity_store import apply_snapshot, receive_identity_message
from jukinet.services.jpki import responder
from jukinet.storage import bulk, identity_records
from jukinet.storage.database import make_engine, make_session_factory
from jukinet.storage.jpki_tables import JpkiCertificateRow
from jukinet.storage.table_base import table_of

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
CHUNK = 50_000
TOWN = "132292"
GIVEN = ("太郎", "花子", "健一", "美咲", "翔", "陽菜", "大輔", "結衣", "拓也", "直樹")


def prefecture_node(url: str, folder: Path) -> ServiceContext:
    """Tokyo's prefecture as its services see it (no network: nothing here goes over it)."""
    settings = load_settings(
        environment="test",
        database_url=url,
        role="prefecture",
        node_code="13",
        # Only its parent matters here: the JPKI CA lives in ``jpki/`` beside it.
        pki_dir=folder / "pki",
        secret_key="bench-secret-key-that-is-long-enough-0123",
    )
    engine = make_engine(url)
    return ServiceContext(
        settings=settings,
        engine=engine,
        session_factory=make_session_factory(engine),
        clock=lambda: datetime.now(UTC),
    )


def _code(number: int) -> str:
    return make_resident_code(f"{number:010d}")


def load_certificates(
    node: ServiceContext, *, issued: int, revoked: int, rng: random.Random
) -> list[int]:
    """Bulk-load ``issued`` certificate rows (``revoked`` of them revoked); their serials."""
    serials = [rng.getrandbits(159) | (1 << 158) for _ in range(issued)]
    revoked_set = set(rng.sample(range(issued), revoked))
    reasons = [r for r in RevocationReason if r is not RevocationReason.SUPERSEDED]
    table = table_of(JpkiCertificateRow)
    for start in range(0, issued, CHUNK):
        rows = []
        for index in range(start, min(start + CHUNK, issued)):
            gone = index in revoked_set
            rows.append(
                {
                    "serial": f"{serials[index]:040x}",
                    "card_serial": f"{TOWN}-{index:08d}",
                    "municipality_code": TOWN,
                    "resident_code": _code(index + 1),
                    "subject_hash": f"{index:064x}",
                    "not_before": NOW - timedelta(days=30),
                    "not_after": NOW + timedelta(days=1000),
                    "status": "revoked" if gone else "good",
                    "revoked_at": NOW - timedelta(seconds=index) if gone else None,
                    "reason": rng.choice(reasons).value if gone else None,
                    "issued_at": NOW - timedelta(days=30),
                }
            )
        with node.session_factory() as session, session.begin():
            bulk.insert_rows(session, table, rows)
    with node.engine.begin() as conn:
        conn.execute(
            text(
                "ANALYZE jpki_certificates"
                if node.engine.dialect.name == "postgresql"
                else "ANALYZE"
            )
        )
    return serials


def _fake_certificate(
    ca: PrefecturalCa, serial: int, key: ec.EllipticCurvePrivateKey
) -> x509.Certificate:
    # Only the serial and issuer matter to an OCSP request: a stand-in signed by anybody.
    return (
        x509.CertificateBuilder()
        .subject_name(ca.certificate().subject)
        .issuer_name(ca.certificate().subject)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(NOW)
        .not_valid_after(NOW + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )


def ocsp_requests(
    ca: PrefecturalCa, serials: list[int], count: int, rng: random.Random
) -> list[bytes]:
    """DER OCSP requests (SHA-1 CertIDs, like most clients) for random serials of the table."""
    key = ec.generate_private_key(ec.SECP256R1())
    issuer = ca.certificate()
    out = []
    for serial in rng.sample(serials, count):
        request = (
            ocsp.OCSPRequestBuilder()
            .add_certificate(_fake_certificate(ca, serial, key), issuer, hashes.SHA1())
            .add_extension(x509.OCSPNonce(rng.randbytes(16)), critical=False)
            .build()
        )
        out.append(request.public_bytes(serialization.Encoding.DER))
    return out


def _interleaved(
    requests: list[bytes], seconds: float, first: Any, second: Any
) -> tuple[tuple[float, int], tuple[float, int]]:
    """Answers/s of ``first`` and ``second``, alternating blocks of 100 requests so that a
    machine shared with others slows both alike; each gets ``seconds`` in all."""
    spent = [0.0, 0.0]
    done = [0, 0]
    position = 0
    while min(spent) < seconds:
        block = [requests[(position + i) % len(requests)] for i in range(100)]
        position += 100
        for side, answer in enumerate((first, second)):
            start = time.perf_counter()
            for der in block:
                answer(der)
            spent[side] += time.perf_counter() - start
            done[side] += len(block)
    return (done[0] / spent[0], done[0]), (done[1] / spent[1], done[1])


def bench_ocsp(
    node: ServiceContext, ca: PrefecturalCa, requests: list[bytes], seconds: float
) -> dict[str, Any]:
    """OCSP answers/s with the register read, and without (the status already known)."""
    statuses = {}
    for der in requests:
        question = ca.parse_ocsp(der)
        statuses[der] = responder.held_status(node, question.serial)
    revoked = sum(1 for s in statuses.values() if s and s.status is CertificateStatus.REVOKED)
    now = node.now()

    def baseline(der: bytes) -> bytes:
        return ca.ocsp_answer(ca.parse_ocsp(der), statuses[der], now=now)

    def real(der: bytes) -> bytes:
        return responder.ocsp_response(node, "13", der)

    # Warm both (responder key loaded, connections pooled), then measure alternately.
    _interleaved(requests, 0.3, baseline, real)
    (base_rate, base_n), (real_rate, real_n) = _interleaved(requests, seconds, baseline, real)
    check = ocsp.load_der_ocsp_response(real(requests[0]))
    assert check.response_status is ocsp.OCSPResponseStatus.SUCCESSFUL
    return {
        "ocsp_per_s": round(real_rate, 1),
        "baseline_sign_only_per_s": round(base_rate, 1),
        "ratio": round(real_rate / base_rate, 3),
        "ocsp_us": round(1e6 / real_rate, 1),
        "baseline_us": round(1e6 / base_rate, 1),
        "answers": real_n,
        "baseline_answers": base_n,
        "distinct_requests": len(requests),
        "revoked_among_requests": revoked,
    }


def bench_crl(node: ServiceContext, ca: PrefecturalCa) -> dict[str, Any]:
    """CRL generation with a cold cache, a warm one, and from rows already in memory."""
    responder._CRLS.clear()
    start = time.perf_counter()
    der = responder.crl_der(node, "13")
    cold = time.perf_counter() - start
    start = time.perf_counter()
    responder.crl_der(node, "13")
    warm = time.perf_counter() - start
    crl = x509.load_der_x509_crl(der)
    with node.read_session() as session:
        rows = session.execute(
            text(
                "SELECT serial, revoked_at, reason FROM jpki_certificates WHERE status = 'revoked'"
            )
        ).all()
    entries = [
        (
            serial,
            when if isinstance(when, datetime) else datetime.fromisoformat(when),
            RevocationReason(reason).crl_reason,
        )
        for serial, when, reason in rows
    ]
    entries = [(s, w if w.tzinfo else w.replace(tzinfo=UTC), r) for s, w, r in entries]
    start = time.perf_counter()
    ca.crl(entries, now=node.now(), number=1)
    baseline = time.perf_counter() - start
    return {
        "crl_entries": len(crl),
        "crl_bytes": len(der),
        "crl_cold_s": round(cold, 3),
        "crl_warm_ms": round(warm * 1000, 2),
        "crl_baseline_build_sign_s": round(baseline, 3),
        "crl_ratio_baseline_over_cold": round(baseline / cold, 3),
    }


def _held(code: str, number: int) -> IdentityInfo:
    return IdentityInfo(
        resident_code=code,
        family_name="山田",
        given_name=GIVEN[number % len(GIVEN)],
        family_name_kana="ヤマダ",
        given_name_kana="タロウ",
        birth_date=date(1980, 4, 1) + timedelta(days=number % 9000),
        sex="male" if number % 2 else "female",
        address=f"東京都西東京市泉町一丁目{number % 50 + 1}番{number % 30 + 1}号",
    )


def bench_revocation(
    node: ServiceContext, ca: PrefecturalCa, serials: list[int], *, rate: float, seconds: float
) -> dict[str, Any]:
    """Latency from an address-change notice's arrival to OCSP answering "revoked"."""
    count = int(rate * seconds)
    # Residents 1…count hold good certificates (rows 0…count-1 of the load), made good here.
    people = [(index, _code(index + 1)) for index in range(count)]
    with node.session_factory() as session, session.begin():
        session.execute(
            text(
                "UPDATE jpki_certificates SET status = 'good', revoked_at = NULL, reason = NULL"
                " WHERE card_serial <= :last"
            ),
            {"last": f"{TOWN}-{count - 1:08d}"},
        )
    for start in range(0, count, 1000):
        with node.session_factory() as session, session.begin():
            for index, code in people[start : start + 1000]:
                apply_snapshot(
                    session,
                    _held(code, index),
                    municipality_code=TOWN,
                    deleted=False,
                    envelope_id="bench",
                    now=node.now(),
                )
    key = ec.generate_private_key(ec.SECP256R1())
    issuer = ca.certificate()
    arrivals: queue.Queue[tuple[float, int, IdentityNotice] | None] = queue.Queue()
    latencies: list[float] = []
    batches: list[int] = []
    wrong: list[str] = []
    committed: queue.Queue[list[tuple[float, int, IdentityNotice]] | None] = queue.Queue()

    failures: list[BaseException] = []

    def apply_arrived() -> None:
        try:
            apply_all()
        except BaseException as error:  # reported after the join: a dead thread must not hang
            failures.append(error)
        finally:
            committed.put(None)

    def apply_all() -> None:
        stop = False
        while not stop:
            first = arrivals.get()
            if first is None:
                break  # the checker still needs its end marker
            batch = [first]
            while len(batch) < 2000:
                try:
                    item = arrivals.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                batch.append(item)
            with node.session_factory() as session, session.begin():
                identity_records.prefetch(session, {n.current.resident_code for _, _, n in batch})
                for _, _, notice in batch:
                    receive_identity_message(
                        session,
                        here=node.node_id,
                        sender=f"municipality:{TOWN}",
                        # The inbox verified Nishitokyo's seal; that check is not what is timed.
                        origin=municipality(TOWN),
                        kind=MessageKind.IDENTITY_NOTICE,
                        body=notice.as_body(),
                        envelope_id=uuid.uuid4().hex,
                        now=node.now(),
                        today=NOW.date(),
                        net=None,
                    )
            batches.append(len(batch))
            committed.put(batch)

    def check_committed() -> None:
        # A relying party asks OCSP as soon as the batch is committed (its own thread, as the
        # responder serves other callers than the inbox).
        while (batch := committed.get()) is not None:
            for submitted, index, _ in batch:
                request = (
                    ocsp.OCSPRequestBuilder()
                    .add_certificate(
                        _fake_certificate(ca, serials[index], key), issuer, hashes.SHA1()
                    )
                    .build()
                )
                answer = ocsp.load_der_ocsp_response(
                    responder.ocsp_response(
                        node, "13", request.public_bytes(serialization.Encoding.DER)
                    )
                )
                if answer.certificate_status is not ocsp.OCSPCertStatus.REVOKED:
                    wrong.append(f"{index}: {answer.certificate_status.name}")
                latencies.append(time.perf_counter() - submitted)

    applier = threading.Thread(target=apply_arrived)
    checker = threading.Thread(target=check_committed)
    applier.start()
    checker.start()
    start = time.perf_counter()
    for number, (index, code) in enumerate(people):
        due = start + number / rate
        pause = due - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        held = _held(code, index)
        notice = IdentityNotice(
            municipality_code=TOWN,
            current=replace(held, address=f"東京都西東京市田無町四丁目{index % 40 + 1}番1号"),
            reason=ChangeReason.MOVE_WITHIN,
            changed_on=NOW.date(),
            before=held,
        )
        arrivals.put((time.perf_counter(), index, notice))
    achieved = count / (time.perf_counter() - start)
    arrivals.put(None)
    applier.join()
    checker.join()
    if failures:
        raise RuntimeError("applying the notices failed") from failures[0]
    return {
        "changes": count,
        "target_per_s": rate,
        "achieved_per_s": round(achieved, 1),
        "latency_p50_ms": round(percentile(latencies, 50) * 1000, 1),
        "latency_p99_ms": round(percentile(latencies, 99) * 1000, 1),
        "latency_max_ms": round(max(latencies) * 1000, 1),
        "batches": len(batches),
        "mean_batch": round(sum(batches) / len(batches), 1),
        "not_revoked": len(wrong),
    }


def run(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    """All three measurements on one backend."""
    rng = random.Random(20261203)
    with fresh_database(backend) as url, tempfile.TemporaryDirectory() as folder:
        node = prefecture_node(url, Path(folder))
        ca = authority_of(node.settings, "13")
        ca.ensure(now=node.now())
        start = time.perf_counter()
        serials = load_certificates(node, issued=args.issued, revoked=args.revoked, rng=rng)
        load_s = time.perf_counter() - start
        requests = ocsp_requests(ca, serials, min(2000, len(serials)), rng)
        report: dict[str, Any] = {
            "benchmark": "jpki",
            "backend": backend,
            "issued": args.issued,
            "revoked": args.revoked,
            "bulk_load_s": round(load_s, 1),
        }
        report |= bench_ocsp(node, ca, requests, args.seconds)
        report |= bench_crl(node, ca)
        report |= bench_revocation(node, ca, serials, rate=args.rate, seconds=args.seconds)
        report["machine"] = machine()
        node.engine.dispose()
        return report


def main() -> None:
    """Parse the options and run every backend."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--issued", type=int)
    parser.add_argument("--revoked", type=int)
    parser.add_argument("--seconds", type=float)
    parser.add_argument("--rate", type=float, default=200.0)
    args = parser.parse_args()
    args.issued = args.issued or (100_000 if args.quick else 1_000_000)
    args.revoked = args.revoked or (5_000 if args.quick else 50_000)
    args.seconds = args.seconds or (5.0 if args.quick else 20.0)
    for backend in BACKENDS:
        emit("jpki", run(backend, args))


if __name__ == "__main__":
    main()
