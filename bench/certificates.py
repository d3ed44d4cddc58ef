"""Certificate PDFs per second: the whole issue against WeasyPrint alone, in the same run.

- **baseline**: WeasyPrint rendering the same certificate HTML (one page, household of four,
  the same template, font and QR code) from content prepared beforehand — no database, no
  signature, no font check, no log entry.
- **issue**: ``issue_certificate`` end to end: permission, the household read, the content, the
  font check, the Ed25519 signature, the PDF, the issue row and one access-log entry per person,
  in one transaction.

Both run in this process, one after the other, alternating for ``--rounds`` rounds; the median
round of each is reported with the ratio (aim ≥ 0.7). A JSON line goes to
``bench/results/certificates.jsonl``.

Usage: ``python -m bench.certificates [--backend sqlite|postgresql|both] [--count 30]
[--rounds 3]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

from bench._common import BACKENDS, bench_node, fresh_database
from bench._network import emit, machine
from jukinet.domain.certificates import CertificateKind, Issuer, OptionalItems, printed_content
from jukinet.domain.operators import Actor, Role
from jukinet.domain.register import Relationship, Sex
from jukinet.services import audit
from jukinet.services.certificates.issue import CertificateRequest, issue_certificate
from jukinet.services.certificates.render import render_pdf
from jukinet.services.codes import allot_codes
from jukinet.services.context import ServiceContext
from jukinet.services.operators import add_operator
from jukinet.services.register import MoveIn, PersonInput, file_move_in

FONT = Path("/usr/share/fonts/truetype/ipamj/ipamjm.ttf")


def _household(node: ServiceContext, clerk: Actor) -> str:
    """A household of four moved in; the head's resident code."""
    people = [
        ("髙橋", "太郎", "タカハシ", "タロウ", Sex.MALE, Relationship.HEAD, date(1978, 5, 3)),
        ("髙橋", "花子", "タカハシ", "ハナコ", Sex.FEMALE, Relationship.WIFE, date(1980, 9, 1)),
        ("髙橋", "一郎", "タカハシ", "イチロウ", Sex.MALE, Relationship.CHILD, date(2010, 4, 2)),
        ("髙橋", "桜", "タカハシ", "サクラ", Sex.FEMALE, Relationship.CHILD, date(2014, 3, 30)),
    ]
    result = file_move_in(
        node,
        actor=clerk,
        move_in=MoveIn(
            address="東京都西東京市泉町一丁目2番3号",
            persons=tuple(
                PersonInput(
                    family_name=f,
                    given_name=g,
                    family_name_kana=fk,
                    given_name_kana=gk,
                    birth_date=b,
                    sex=s,
                    relationship=r,
                )
                for f, g, fk, gk, s, r, b in people
            ),
            moved_on=date(2026, 11, 20),
            filed_on=date(2026, 11, 26),
            previous_address="大韓民国ソウル特別市",
            from_abroad=True,
        ),
    )
    return result.records[0].record.resident_code


def _baseline(node: ServiceContext, code: str, count: int) -> float:
    with node.uow() as uow:
        row = uow.residents.get_row(code)
        records = [
            uow.residents.to_record(r) for r in uow.residents.household_members(row.household_id)
        ]
    issuer = Issuer(
        "132292", "西東京市", "西東京 一郎", "132292-2026-000001", date(2026, 12, 3), 300
    )
    content = printed_content(
        CertificateKind.RESIDENT_COPY, records, OptionalItems(relationship=True), issuer
    )
    signature = bytes(64)
    started = time.perf_counter()
    for _ in range(count):
        render_pdf(content, signature, font=FONT)
    return count / (time.perf_counter() - started)


def _issue(node: ServiceContext, clerk: Actor, code: str, count: int) -> float:
    request = CertificateRequest(code, household=True, items=OptionalItems(relationship=True))
    started = time.perf_counter()
    for _ in range(count):
        issue_certificate(node, actor=clerk, request=request)
    return count / (time.perf_counter() - started)


def run(backend: str, count: int, rounds: int) -> dict[str, object]:
    with fresh_database(backend) as url:
        node = bench_node(url, audit_key_path=Path(tempfile.mkdtemp()) / "audit-key.pem")
        try:
            audit.create_log_key(node)
            allot_codes(node, count=20, rng=random.Random(7))
            view = add_operator(
                node, actor=None, username="bench", display_name="計測", role=Role.CLERK,
                password="bench password long enough",
            )  # fmt: skip
            clerk = Actor(
                operator_id=view.id, username=view.username, role=Role.CLERK, terminal_id="bench"
            )
            code = _household(node, clerk)
            _baseline(node, code, 2)  # warm the font, the template and WeasyPrint
            baseline, issued = [], []
            for _ in range(rounds):
                baseline.append(_baseline(node, code, count))
                issued.append(_issue(node, clerk, code, count))
        finally:
            node.engine.dispose()
    base, full = statistics.median(baseline), statistics.median(issued)
    return {
        "bench": "certificates",
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": platform.machine(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "backend": backend,
        "count": count,
        "rounds": rounds,
        "baseline_pdfs_per_s": round(base, 2),
        "issue_pdfs_per_s": round(full, 2),
        "ratio": round(full / base, 3),
        "aim": 0.7,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--count", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    backends = BACKENDS if args.backend == "both" else [args.backend]
    for backend in backends:
        result = run(backend, args.count, args.rounds)
        result["machine_facts"] = machine()
        emit("certificates", result)


if __name__ == "__main__":
    main()
