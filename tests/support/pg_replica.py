"""A self-contained PostgreSQL 15 primary and streaming replica, in temporary folders.

Used by the replica integration test and ``bench.replica_lookup`` (one copy). The pair runs
from the distribution's binaries (``/usr/lib/postgresql/15/bin``) as the ``postgres`` OS user
(``initdb`` refuses root), on free loopback ports, in a folder owned by ``postgres``; nothing of
the machine's own cluster is touched. The replica is made by ``pg_basebackup -R`` (streaming,
``primary_conninfo`` written for it) and is a hot standby: it answers reads.

Both servers trust loopback connections (they listen on 127.0.0.1 only, live for one test or one
benchmark, and hold synthetic data).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from sqlalchemy import create_engine, text

PG_BIN: Final = Path("/usr/lib/postgresql/15/bin")
OS_USER: Final = "postgres"


def available() -> str | None:
    """Why a pair cannot be made here (``None``: it can)."""
    if not (PG_BIN / "pg_basebackup").exists():
        return "PostgreSQL 15 server binaries (postgresql-15) are not installed"
    if shutil.which("runuser") is None and os.geteuid() == 0:
        return "runuser (util-linux) is not installed"
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_postgres(*argv: str) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", OS_USER, "--", *argv]
    return list(argv)


def _run(*argv: str) -> None:
    subprocess.run(_as_postgres(*argv), check=True, capture_output=True, timeout=120)


@dataclass
class ReplicaPair:
    """A running primary and its streaming replica; URLs name ``database`` on each."""

    folder: Path
    primary_port: int
    replica_port: int
    database: str = "jukinet"

    @property
    def primary_dir(self) -> Path:
        return self.folder / "primary"

    @property
    def replica_dir(self) -> Path:
        return self.folder / "replica"

    def url(self, port: int, database: str | None = None) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{port}/{database or self.database}"

    @property
    def primary_url(self) -> str:
        """The primary's database (read-write)."""
        return self.url(self.primary_port)

    @property
    def replica_url(self) -> str:
        """The same database on the replica (read-only)."""
        return self.url(self.replica_port)

    def _pg_ctl(self, data: Path, *argv: str) -> None:
        _run(str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(data / "server.log"), *argv)

    def stop_replica(self) -> None:
        """Stop the replica at once (as a crash would)."""
        self._pg_ctl(self.replica_dir, "-m", "immediate", "-w", "stop")

    def start_replica(self) -> None:
        """Start the replica again; it resumes streaming from where it stopped."""
        self._pg_ctl(self.replica_dir, "-w", "start")

    def wait_replayed(self, timeout: float = 20.0) -> float:
        """Wait until the replica has replayed everything the primary wrote; the seconds taken."""
        start = time.monotonic()
        primary = create_engine(self.url(self.primary_port, "postgres"))
        replica = create_engine(self.url(self.replica_port, "postgres"))
        try:
            with primary.connect() as conn:
                target = conn.scalar(text("SELECT pg_current_wal_insert_lsn()"))
            with replica.connect() as conn:
                while True:
                    caught_up = conn.scalar(
                        text("SELECT pg_last_wal_replay_lsn() >= CAST(:lsn AS pg_lsn)"),
                        {"lsn": target},
                    )
                    if caught_up:
                        return time.monotonic() - start
                    if time.monotonic() - start > timeout:
                        raise TimeoutError(f"the replica did not replay {target} in {timeout} s")
                    time.sleep(0.02)
        finally:
            primary.dispose()
            replica.dispose()


def _configure(data: Path, port: int, socket_dir: Path, *, durable: bool) -> None:
    lines = [
        f"port = {port}",
        "listen_addresses = '127.0.0.1'",
        f"unix_socket_directories = '{socket_dir}'",
        "max_connections = 100",
        "shared_buffers = 64MB",
        "hot_standby = on",
        "hot_standby_feedback = on",
        "wal_level = replica",
        "max_wal_senders = 4",
        # The replica's report of what it replayed, every second (the primary's view of lag).
        "wal_receiver_status_interval = 1s",
    ]
    if not durable:
        lines += ["fsync = off", "synchronous_commit = off", "full_page_writes = off"]
    with (data / "postgresql.conf").open("a", encoding="utf-8") as conf:
        conf.write("\n# jukinet replica pair\n" + "\n".join(lines) + "\n")


@contextmanager
def replica_pair(*, durable: bool = False, database: str = "jukinet") -> Iterator[ReplicaPair]:
    """Create, start, yield and finally remove a primary and its streaming replica.

    ``database`` is created (empty) on the primary before the base backup, so it exists on both.
    ``durable``: keep ``fsync`` and synchronous commit on (the benchmark's writes then cost what
    they cost in production); off, the pair starts and writes faster (tests).
    """
    folder = Path(tempfile.mkdtemp(prefix="jukinet-pgpair-"))
    if os.geteuid() == 0:
        shutil.chown(folder, OS_USER, OS_USER)
    folder.chmod(0o700)
    pair = ReplicaPair(folder, _free_port(), _free_port(), database)
    started: list[Path] = []
    try:
        _run(
            str(PG_BIN / "initdb"),
            "-D",
            str(pair.primary_dir),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        )
        _configure(pair.primary_dir, pair.primary_port, folder, durable=durable)
        pair._pg_ctl(pair.primary_dir, "-w", "start")
        started.append(pair.primary_dir)
        admin = create_engine(pair.url(pair.primary_port, "postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{database}"'))
        admin.dispose()
        _run(
            str(PG_BIN / "pg_basebackup"),
            "-h",
            "127.0.0.1",
            "-p",
            str(pair.primary_port),
            "-U",
            "postgres",
            "-D",
            str(pair.replica_dir),
            "-R",
            "-X",
            "stream",
            "--checkpoint=fast",
            "--no-sync",
        )
        with (pair.replica_dir / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write(f"port = {pair.replica_port}\n")
        pair.start_replica()
        started.append(pair.replica_dir)
        yield pair
    finally:
        for data in reversed(started):
            if (data / "postmaster.pid").exists():
                subprocess.run(
                    _as_postgres(
                        str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"
                    ),
                    capture_output=True,
                    timeout=60,
                    check=False,
                )
        shutil.rmtree(folder, ignore_errors=True)
