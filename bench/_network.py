"""Shared helpers for the network benchmarks: clusters of real node processes, waiting, memory.

Every cluster lives in a temporary folder; on PostgreSQL its databases are named
``jkbench_<random>_<node>`` and dropped when the cluster is done, whatever happened.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, select, text

from bench._common import POSTGRES_ADMIN_URL
from jukinet.runtime.cluster import Cluster
from jukinet.services.context import ServiceContext

CENTRE = "national:jlis"
TOKYO = "prefecture:13"
TOWN = "municipality:132292"
TOWN_CODE = "132292"
THREE_TIERS = (CENTRE, TOKYO, TOWN)
#: A fixed register date, so every run generates the same people (as in the e2e tests).
SEED_DAY = date(2026, 11, 26)
RESULTS_DIR = Path(
    os.environ.get("JUKINET_BENCH_RESULTS", Path(__file__).resolve().parent / "results")
)
SOURCE_DIR = Path(__file__).resolve().parent.parent / "src" / "jukinet"


def postgres_template() -> str:
    """A fresh database-name template for :class:`Cluster` on the benchmark's PostgreSQL."""
    prefix = f"jkbench_{uuid.uuid4().hex[:8]}"
    return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{prefix}_{{node}}"


def drop_cluster_databases(cluster: Cluster) -> None:
    """Drop the PostgreSQL databases of ``cluster`` (nothing to do on SQLite)."""
    urls = [n.config.settings().database_url for n in cluster.nodes.values()]
    names = [u.rsplit("/", 1)[1] for u in urls if u.startswith("postgresql")]
    if not names:
        return
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            for name in names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@contextmanager
def bench_cluster(
    backend: str,
    *,
    names: tuple[str, ...] = THREE_TIERS,
    settings: dict[str, dict[str, object]] | None = None,
    start: bool = True,
) -> Iterator[Cluster]:
    """A created (and by default started) cluster on ``backend``; stopped and dropped after."""
    folder = Path(tempfile.mkdtemp(prefix="jukinet-bench-"))
    cluster = Cluster(
        folder=folder / "cluster",
        names=names,
        database_url_template=postgres_template() if backend == "postgresql" else None,
        settings=settings or {},
        max_backoff_seconds=1.0,
    )
    try:
        cluster.create(environment="test")
        if start:
            cluster.start()
        yield cluster
    finally:
        cluster.stop()
        drop_cluster_databases(cluster)
        shutil.rmtree(folder, ignore_errors=True)


def logged_failures(cluster: Cluster) -> dict[str, Any]:
    """Failed delivery rounds each node process logged (``delivery to ... failed: ...``): how
    many, and the first message."""
    found: dict[str, Any] = {}
    for name, node in cluster.nodes.items():
        log = node.folder / "node.log"
        if not log.exists():
            continue
        lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
        failed = [line for line in lines if "delivery to" in line and "failed" in line]
        if failed:
            found[name] = {"count": len(failed), "first": failed[0][-160:]}
    return found


def count_rows(node: ServiceContext, table: type, *where: Any) -> int:
    """``SELECT count(*)`` of an ORM table on a node's database."""
    with node.session_factory() as session:
        return int(session.scalar(select(func.count()).select_from(table).where(*where)) or 0)


def wait_until(
    condition: Callable[[], bool], *, timeout: float, what: str, interval: float = 0.1
) -> float:
    """Poll ``condition`` until true; returns the ``perf_counter`` time it was first seen true."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return time.perf_counter()
        time.sleep(interval)
    msg = f"timed out after {timeout:.0f} s waiting for {what}"
    raise TimeoutError(msg)


def rss_high_water_kib() -> int:
    """This process's peak resident set size so far (``VmHWM``, KiB; = ``ru_maxrss``)."""
    for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def _cpu_times() -> tuple[int, int]:
    fields = Path("/proc/stat").read_text(encoding="ascii").splitlines()[0].split()[1:]
    values = [int(v) for v in fields]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values[:8]), idle


def machine_busy(seconds: float = 1.0) -> float:
    """The share of all CPUs busy over the next ``seconds`` (0–1), whoever uses them."""
    total0, idle0 = _cpu_times()
    time.sleep(seconds)
    total1, idle1 = _cpu_times()
    spent = max(1, total1 - total0)
    return 1.0 - (idle1 - idle0) / spent


def wait_for_quiet(*, below: float = 0.3, timeout: float = 30.0) -> float:
    """Wait (at most ``timeout`` s) until the machine is mostly idle; returns the last busy share.

    Other sessions share this machine; a benchmark started while they run measures them too.
    """
    if os.environ.get("JUKINET_BENCH_QUICK"):
        timeout = 0.0  # a smoke run's figures are thrown away: waiting buys nothing
    deadline = time.monotonic() + timeout
    busy = machine_busy()
    while busy >= below and time.monotonic() < deadline:
        busy = machine_busy(2.0)
    return round(busy, 2)


def _process_jiffies(pid: int) -> int:
    try:
        text_ = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    except OSError:
        return 0
    fields = text_.rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def _postgres_backends(names: list[str]) -> list[int]:
    if not names:
        return []
    admin = create_engine(POSTGRES_ADMIN_URL)
    try:
        with admin.connect() as conn:
            rows = conn.execute(
                text("SELECT pid FROM pg_stat_activity WHERE datname = ANY(:names)"),
                {"names": names},
            ).all()
    finally:
        admin.dispose()
    return [int(r[0]) for r in rows]


class CpuMeter:
    """CPU used during a run: by this benchmark (its process, the cluster's node processes and
    the PostgreSQL backends serving their databases) and by everything else on the machine."""

    def __init__(self, cluster: Cluster | None = None, *, database_urls: list[str] | None = None):
        self.cluster = cluster
        urls = list(database_urls or [])
        if cluster is not None:
            urls += [n.config.settings().database_url for n in cluster.nodes.values()]
        self.databases = [u.rsplit("/", 1)[1] for u in urls if u.startswith("postgresql")]

    def _own_pids(self) -> dict[int, str]:
        pids = dict.fromkeys(_postgres_backends(self.databases), "postgres")
        pids[os.getpid()] = "bench"
        if self.cluster is not None:
            for node in self.cluster.nodes.values():
                if node.process is not None:
                    pids[node.process.pid] = node.name
        return pids

    def start(self) -> None:
        """Take the first reading."""
        self.labels = self._own_pids()
        self.own0 = {pid: _process_jiffies(pid) for pid in self.labels}
        self.total0, self.idle0 = _cpu_times()
        self.wall0 = time.monotonic()

    def stop(self) -> dict[str, Any]:
        """CPU seconds we used (in all and per process), and shares of the machine's CPUs
        (0–1): ours, others', idle."""
        total1, idle1 = _cpu_times()
        wall = time.monotonic() - self.wall0
        self.labels |= self._own_pids()
        tick = os.sysconf("SC_CLK_TCK")
        by_label: dict[str, float] = {}
        for pid, label in self.labels.items():
            used = max(0, _process_jiffies(pid) - self.own0.get(pid, 0))
            by_label[label] = by_label.get(label, 0.0) + used
        own = sum(by_label.values())
        spent = max(1, total1 - self.total0)
        busy = spent - (idle1 - self.idle0)
        return {
            "wall_seconds": round(wall, 2),
            "ours_cpu_seconds": round(own / tick, 2),
            "ours_cpu_seconds_by_process": {k: round(v / tick, 2) for k, v in by_label.items()},
            "ours": round(own / spent, 2),
            "others": round(max(0, busy - own) / spent, 2),
            "idle": round((idle1 - self.idle0) / spent, 2),
        }


def load_average() -> float:
    """The 1-minute load average."""
    return round(os.getloadavg()[0], 2)


def source_fingerprint() -> dict[str, str]:
    """Which code was measured: a hash of every ``src/jukinet`` Python file, and the newest
    modification time among them (others edit the source while benchmarks run)."""
    digest = hashlib.sha256()
    newest = 0.0
    for path in sorted(SOURCE_DIR.rglob("*.py")):
        digest.update(str(path.relative_to(SOURCE_DIR)).encode())
        digest.update(path.read_bytes())
        newest = max(newest, path.stat().st_mtime)
    return {
        "sha256": digest.hexdigest()[:16],
        "newest_change": datetime.fromtimestamp(newest, UTC).isoformat(timespec="seconds"),
    }


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    cpu = ""
    for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    postgres = ""
    if shutil.which("psql"):
        result = subprocess.run(
            ["psql", "--version"],
            capture_output=True,
            text=True,
            check=False,
        )
        postgres = result.stdout.strip()
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "postgres_client": postgres,
        "kernel": platform.release(),
        "source": source_fingerprint(),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def emit(benchmark: str, report: dict[str, Any]) -> None:
    """Print one JSON line and append it to ``bench/results/<benchmark>.jsonl``."""
    line = json.dumps(report, ensure_ascii=False)
    print(line, flush=True)
    RESULTS_DIR.mkdir(exist_ok=True)
    with (RESULTS_DIR / f"{benchmark}.jsonl").open("a", encoding="utf-8") as out:
        out.write(line + "\n")


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0–100) of ``values`` by linear interpolation."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100.0
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)
