"""Batch uploads stored in small transactions, and undone when refused (issue 11, finding 6).

The national centre serves agencies over mutual TLS on each backend. An upload is stored chunk
by chunk, each chunk in a transaction of its own, so a refusal found late in the file (an
encoding error on row 12,001) must remove the chunks already stored: every 4xx leaves every
table as it was.
"""

from __future__ import annotations

import random
import socket
import ssl
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from jukinet.domain.access_log import Channel
from jukinet.domain.batch_input import BatchFormat, BatchKind
from jukinet.domain.codes import random_resident_codes
from jukinet.services import batch, provision, recipients
from jukinet.services.context import ServiceContext
from jukinet.storage.registry import RegistryCache
from jukinet.storage.tables import Base, BatchChunkRow, BatchJobRow
from tests.conftest import TEST_NOW
from tests.integration.network.conftest import NATIONAL, Tiers
from tests.support.clock import FixedClock

AGENCY, PENSION = "agency:soumu-onkyu", "T1-16"
PARAMS = {"affair_code": PENSION, "officer": "恩給 担当", "kind": "code"}
ROWS = 12_000  # more than two chunks of batch.CHUNK_ROWS


@pytest.fixture
def centre(tiers: Tiers) -> ServiceContext:
    """The national centre with the seed recipients and the agency's client certificate."""
    recipients.seed(tiers.national)
    tiers.pki.issue_client(tiers.signer, AGENCY, now=TEST_NOW)
    return tiers.national


@pytest.fixture
def agency(tiers: Tiers, centre: ServiceContext) -> Iterator[httpx.Client]:
    """The pension agency's mutual-TLS client, based at the centre's URL."""
    del centre
    creds = tiers.pki.node(AGENCY)
    context = ssl.create_default_context(cafile=str(tiers.pki.ca_cert_path))
    context.load_cert_chain(str(creds.tls_cert), str(creds.tls_key))
    with httpx.Client(verify=context, timeout=60, base_url=tiers.urls[NATIONAL]) as client:
        yield client


def _rows(count: int) -> bytes:
    codes = random_resident_codes(random.Random(3), count)
    return ("resident_code,ref\n" + "".join(f"{c},r{n}\n" for n, c in enumerate(codes))).encode()


def _every_table(node: ServiceContext) -> dict[str, int]:
    with node.read_session() as session:
        return {
            table.name: int(session.scalar(select(func.count()).select_from(table)) or 0)
            for table in Base.metadata.sorted_tables
        }


def test_a_large_upload_is_stored_in_chunks_and_queued_whole(
    centre: ServiceContext, agency: httpx.Client
) -> None:
    answer = agency.post("/provision/v1/batches", params=PARAMS, content=_rows(ROWS))
    assert answer.status_code == 202, answer.text
    job = answer.json()
    assert (job["status"], job["total_rows"]) == ("queued", ROWS)
    with centre.read_session() as session:
        stored = session.scalars(
            select(BatchChunkRow.chunk).where(BatchChunkRow.job_id == job["job_id"])
        ).all()
    assert sorted(stored) == [0, 1, 2]


def test_a_refusal_late_in_the_file_leaves_every_table_unchanged(
    centre: ServiceContext, agency: httpx.Client
) -> None:
    before = _every_table(centre)
    not_utf8 = _rows(ROWS) + b"\x82\xa0\x82\xa2,sjis\n"  # Shift_JIS on the last line
    answer = agency.post("/provision/v1/batches", params=PARAMS, content=not_utf8)
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0]["code"] == "JUKI-BAT-002"
    assert _every_table(centre) == before


def test_an_upload_over_the_limit_is_refused_before_it_is_read(
    tiers: Tiers, centre: ServiceContext
) -> None:
    before = _every_table(centre)
    creds = tiers.pki.node(AGENCY)
    context = ssl.create_default_context(cafile=str(tiers.pki.ca_cert_path))
    context.load_cert_chain(str(creds.tls_cert), str(creds.tls_key))
    url = httpx.URL(tiers.urls[NATIONAL])
    query = "affair_code=T1-16&officer=x&kind=code"
    head = (
        f"POST /provision/v1/batches?{query} HTTP/1.1\r\nHost: {url.host}\r\n"
        f"Content-Length: {256 * 1024 * 1024 + 1}\r\n\r\nresident_code,ref\n"
    )
    # Only the header and a few bytes are sent: the answer must come without the rest.
    with (
        socket.create_connection((url.host, url.port), timeout=30) as raw,
        context.wrap_socket(raw, server_hostname=url.host) as tls,
    ):
        tls.sendall(head.encode())
        answer = b""
        while b"JUKI" not in answer and (part := tls.recv(65536)):
            answer += part
    assert answer.startswith(b"HTTP/1.1 413"), answer
    assert b"JUKI-PRV-012" in answer
    assert _every_table(centre) == before


def _context() -> provision.QueryContext:
    return provision.QueryContext(
        recipient_id=AGENCY, affair_code=PENSION, officer="恩給 担当", channel=Channel.BATCH
    )


def test_an_upload_cut_off_midway_is_invisible_and_then_removed(centre: ServiceContext) -> None:
    before = _every_table(centre)
    seen: dict[str, Any] = {}

    def lines() -> Iterator[str]:
        yield "resident_code,ref\n"
        for n, code in enumerate(random_resident_codes(random.Random(4), ROWS)):
            yield f"{code},r{n}\n"
        # Two chunks are stored now; nobody may see or work on the job yet.
        with centre.read_session() as session:
            seen["jobs"] = session.scalars(select(BatchJobRow.status)).all()
        seen["next"] = batch.next_chunk(centre)
        raise ConnectionResetError("the agency hung up")

    with pytest.raises(ConnectionResetError):
        batch.submit(
            centre,
            RegistryCache(),
            _context(),
            kind=BatchKind.BY_CODE,
            fmt=BatchFormat.CSV,
            lines=lines(),
        )
    assert seen == {"jobs": ["receiving"], "next": None}
    assert _every_table(centre) == before


def test_an_upload_left_half_stored_by_a_stopped_node_is_removed_later(
    centre: ServiceContext, clock: FixedClock
) -> None:
    before = _every_table(centre)
    with centre.uow() as uow:
        for job_id, age in (("abandoned", timedelta(hours=7)), ("arriving", timedelta(0))):
            uow.session.add(
                BatchJobRow(
                    id=job_id,
                    recipient_id=AGENCY,
                    affair_code=PENSION,
                    officer="恩給 担当",
                    query_kind="code",
                    status=batch.RECEIVING,
                    created_at=clock() - age,
                )
            )
            uow.session.flush()
            uow.session.add(BatchChunkRow(job_id=job_id, chunk=0, rows=b"[]"))
        uow.commit()
    assert batch.discard_abandoned(centre) == 1
    with centre.read_session() as session:
        assert session.scalars(select(BatchJobRow.id)).all() == ["arriving"]
    batch.discard_job(centre, "arriving")
    assert _every_table(centre) == before
