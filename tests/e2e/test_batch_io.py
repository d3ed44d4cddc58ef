"""Issue 11, findings 6 and 7, against a real national centre process on each backend.

Finding 6: one agency's large batch upload held SQLite's write lock while it was parsed and
stored, and everyone else — other agencies, the inbox, the batch worker — got a 500 "database
is locked". Here an agency uploads 300,000 rows while two other agencies query and submit their
own batch, the town registers residents whose notices Tokyo delivers into the centre's inbox,
and the centre's batch worker answers jobs: every request must succeed (no 5xx at all).

Finding 7: request bodies were read whole before their size was checked. A body over the limit
is posted to the inbox and to the batch upload, and the centre process's peak resident memory
(``VmHWM`` in ``/proc/PID/status``) must grow by far less than the body.
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from jukinet.domain.codes import random_resident_codes
from jukinet.runtime.cluster import Cluster
from jukinet.runtime.demo_provision import agency_client, network_url, register_recipients
from jukinet.services.context import ServiceContext
from jukinet.storage.tables import IdentityRecordRow
from tests.support.databases import running_cluster
from tests.support.factories import make_actor, move_in_household, person

pytestmark = pytest.mark.e2e

CENTRE = "national:jlis"
TOKYO = "prefecture:13"
TOWN = "municipality:132292"
#: The agency whose large upload used to lock everyone out, and the agencies it locked out.
UPLOADER, UPLOADER_AFFAIR = "agency:soumu-onkyu", "T1-16"
OTHERS = (("agency:kkr", "T1-42"), ("agency:mlit-kensetsu", "T1-97"))
#: About 56 MB: parsing it took the old code (holding the write lock) longer than SQLite's 10 s
#: busy timeout.
BIG_ROWS = 300_000
MIB = 1024 * 1024


@pytest.fixture
def cluster(tmp_path: Path, database_url: str) -> Iterator[Cluster]:
    """The centre, Tokyo and Nishitokyo running, with the seed agencies registered."""
    names = (CENTRE, TOKYO, TOWN)
    with running_cluster(tmp_path / "cluster", database_url, names) as built:
        register_recipients(built)
        yield built


@dataclass
class Tally:
    """Every answer the load threads got, by status code (transport errors by type)."""

    answers: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def request(
        self, client: httpx.Client, method: str, url: str, **kwargs: Any
    ) -> httpx.Response | None:
        """Make one request and count its outcome."""
        try:
            response = client.request(method, url, **kwargs)
        except httpx.HTTPError as error:
            with self.lock:
                self.answers[type(error).__name__] += 1
            return None
        with self.lock:
            self.answers[str(response.status_code)] += 1
        return response

    def failures(self) -> dict[str, int]:
        """Outcomes other than 2xx."""
        return {k: n for k, n in self.answers.items() if not k.startswith("2")}


def _code_batch(codes: list[str], rows: int, rng: random.Random) -> bytes:
    known = codes * (rows // (10 * len(codes)) + 1)
    unknown = random_resident_codes(rng, rows - rows // 10)
    mixed = known[: rows // 10] + unknown
    return ("resident_code,ref\n" + "".join(f"{c},r{n}\n" for n, c in enumerate(mixed))).encode()


def _four_items_batch(rows: int) -> bytes:
    header = "name,name_kana,birth_date,sex,address,ref\n"
    lines = (
        f"山田 {n % 997}郎,ヤマダ タロウ,19{40 + n % 60}-0{1 + n % 9}-{1 + n % 28:02d},"
        f"{'male' if n % 2 else 'female'},東京都西東京市泉町{1 + n % 5}丁目{n % 50}番,r{n}\n"
        for n in range(rows)
    )
    return (header + "".join(lines)).encode()


def _wait(condition: Callable[[], bool], *, what: str, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.3)


def _held_at(node: ServiceContext, codes: list[str]) -> int:
    with node.session_factory() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(IdentityRecordRow)
                .where(IdentityRecordRow.resident_code.in_(codes))
            )
            or 0
        )


class Load:
    """Other agencies querying and batching, and the town registering residents, in threads."""

    def __init__(self, cluster: Cluster, known: list[str]) -> None:
        self.cluster = cluster
        self.url = network_url(cluster, CENTRE)
        self.known = known
        self.tally = Tally()
        self.moved: list[str] = []
        self.stopping = threading.Event()
        self.small_jobs: list[str] = []
        self.threads = [
            threading.Thread(target=self._query, args=agency, daemon=True) for agency in OTHERS
        ]
        self.threads.append(threading.Thread(target=self._batches, daemon=True))
        self.threads.append(threading.Thread(target=self._move_ins, daemon=True))

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=120)

    def done(self, jobs: list[str]) -> bool:
        """Whether these batches of the other agency have been answered."""
        with agency_client(self.cluster, OTHERS[0][0]) as client:
            return all(_job(client, self.url, job)["status"] == "done" for job in jobs)

    def _query(self, agency: str, affair: str) -> None:
        with agency_client(self.cluster, agency) as client:
            while not self.stopping.is_set():
                body = {
                    "affair_code": affair,
                    "officer": "照会 担当",
                    "resident_codes": random.sample(self.known, 3),
                }
                answer = self.tally.request(
                    client, "POST", f"{self.url}/provision/v1/residents/lookup", json=body
                )
                if answer is not None and answer.status_code == 200:
                    assert [r["outcome"] for r in answer.json()["results"]] == ["found"] * 3
                time.sleep(0.05)

    def _batches(self) -> None:
        agency, affair = OTHERS[0]
        params = {"affair_code": affair, "officer": "一括 担当", "kind": "code"}
        rng = random.Random(5)
        with agency_client(self.cluster, agency) as client:
            while not self.stopping.is_set():
                upload = _code_batch(self.known, 6000, rng)
                answer = self.tally.request(
                    client,
                    "POST",
                    f"{self.url}/provision/v1/batches",
                    params=params,
                    content=upload,
                )
                if answer is not None and answer.status_code == 202:
                    self.small_jobs.append(answer.json()["job_id"])
                for job in self.small_jobs[-3:]:
                    self.tally.request(client, "GET", f"{self.url}/provision/v1/batches/{job}")
                time.sleep(0.5)

    def _move_ins(self) -> None:
        town = self.cluster.handle(TOWN)
        try:
            actor = make_actor(town)
            while not self.stopping.is_set():
                record = move_in_household(town, actor, person()).records[0].record
                self.moved.append(record.identity().resident_code)
                time.sleep(0.3)
        finally:
            town.engine.dispose()


def _job(client: httpx.Client, url: str, job_id: str) -> dict[str, Any]:
    answer = client.get(f"{url}/provision/v1/batches/{job_id}")
    assert answer.status_code == 200, answer.text
    job: dict[str, Any] = answer.json()
    return job


def _server_errors(log: Path) -> list[str]:
    """Lines of a node's log that show a request or background step failing."""
    pattern = re.compile(r"Traceback|Exception in ASGI|database is locked|failed: (HTTP 5|Op)")
    return [line for line in log.read_text(errors="replace").splitlines() if pattern.search(line)]


def test_a_large_upload_blocks_nobody(cluster: Cluster) -> None:
    town, centre = cluster.handle(TOWN), cluster.handle(CENTRE)
    actor = make_actor(town)
    known = [
        move_in_household(town, actor, person()).records[0].record.identity().resident_code
        for _ in range(12)
    ]
    _wait(lambda: _held_at(centre, known) == len(known), what="the first residents")
    upload = _code_batch(known, BIG_ROWS, random.Random(11))
    url = network_url(cluster, CENTRE)
    params = {"affair_code": UPLOADER_AFFAIR, "officer": "恩給 担当", "kind": "code"}

    with Load(cluster, known) as load, agency_client(cluster, UPLOADER) as uploader:
        # Stored while everyone else keeps their turns: slower than holding the lock throughout.
        uploader.timeout = httpx.Timeout(600.0)
        time.sleep(2.0)  # the load runs before, during and after the upload
        earlier_jobs = list(load.small_jobs)  # answered first: the worker takes the oldest job
        started = time.monotonic()
        submitted = uploader.post(f"{url}/provision/v1/batches", params=params, content=upload)
        upload_seconds = time.monotonic() - started
        print(f"upload {upload_seconds:.1f} s; answers so far {dict(load.tally.answers)}")
        assert submitted.status_code == 202, submitted.text
        job_id = submitted.json()["job_id"]
        assert submitted.json()["total_rows"] == BIG_ROWS
        # The worker answers the large job's chunks while the others keep writing.
        _wait(lambda: _job(uploader, url, job_id)["processed_rows"] >= 10_000, what="the job")
        job = _job(uploader, url, job_id)
        _wait(lambda: load.done(earlier_jobs), what="the other agency's batches")

    print(f"upload {upload_seconds:.1f} s; answers {dict(load.tally.answers)}")  # the evidence
    assert load.tally.failures() == {}
    assert load.tally.answers["200"] > 20
    assert earlier_jobs
    assert len(load.small_jobs) > len(earlier_jobs)
    assert (job["status"], job["total_rows"]) == ("running", BIG_ROWS)
    _wait(lambda: _held_at(centre, load.moved) == len(load.moved), what="every moved resident")
    for name in (CENTRE, TOKYO):
        assert _server_errors(cluster.nodes[name].folder / "node.log") == []
    town.engine.dispose()
    centre.engine.dispose()


def _memory_kib(pid: int, field_name: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field_name} for {pid}")


def _peak_growth_mib(pid: int, post: Callable[[], httpx.Response]) -> tuple[int, float]:
    """The answer's status and how far the process's peak memory rose above its memory
    before the post (the kernel's peak is reset first: writing 5 to clear_refs)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")
    before = _memory_kib(pid, "VmRSS")
    status = post().status_code
    return status, (_memory_kib(pid, "VmHWM") - before) / 1024


def _body(mib: int) -> Iterator[bytes]:
    block = (b"0123456789abcdef," * (MIB // 17 + 1))[: MIB - 1] + b"\n"
    for _ in range(mib):
        yield block


def test_bodies_over_the_limit_are_refused_without_being_held(tmp_path: Path) -> None:
    """Posted to a running centre (the backend does not matter here: nothing is stored)."""
    with running_cluster(tmp_path / "cluster", "sqlite://", (CENTRE,)) as cluster:
        register_recipients(cluster)
        process = cluster.nodes[CENTRE].process
        assert process is not None
        url = network_url(cluster, CENTRE)
        params = {"affair_code": UPLOADER_AFFAIR, "officer": "恩給 担当", "kind": "code"}
        operator = cluster.nodes[CENTRE].operator_url
        posts = {
            "operator login, 400 MiB chunked": (f"{operator}/login", {}, None),
            "operator login, 400 MiB declared": (f"{operator}/login", {}, 400),
            "inbox, 400 MiB chunked": (f"{url}/network/v1/inbox", {}, None),
            "inbox, 400 MiB declared": (f"{url}/network/v1/inbox", {}, 400),
            "batch, 400 MiB chunked": (f"{url}/provision/v1/batches", params, None),
            "batch, 400 MiB declared": (f"{url}/provision/v1/batches", params, 400),
        }
        growth: dict[str, float] = {}
        with agency_client(cluster, UPLOADER) as client:
            # Warm up the endpoints so that imports and caches are not counted.
            assert client.post(f"{operator}/login", data={"username": "x"}).status_code < 500
            assert client.post(f"{url}/network/v1/inbox", content=b"{}").status_code < 500
            warm = client.post(f"{url}/provision/v1/batches", params=params, content=b"x\n")
            assert warm.status_code < 500
            for label, (target, query, declared) in posts.items():
                headers = {} if declared is None else {"Content-Length": str(declared * MIB)}
                if "login" in label:
                    headers["Content-Type"] = "application/x-www-form-urlencoded"

                def post(target: str = target, query: Any = query, headers: Any = headers) -> Any:
                    return client.post(target, params=query, content=_body(400), headers=headers)

                status, growth[label] = _peak_growth_mib(process.pid, post)
                assert status == 413, label
        print(f"peak RSS growth (MiB): {growth}")  # the evidence
        assert all(mib < 64 for mib in growth.values()), growth
