"""Databases, keys and node settings are readable by their owner only (0600 in 0700 folders),
whatever the umask; folders that already existed keep their mode."""

from __future__ import annotations

import datetime as dt
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from jukinet.network.pki import FileCaSigner, NetworkPki
from jukinet.storage.database import make_engine
from jukinet.storage.private_files import private_file


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The default umask that made files world-readable."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


@pytest.mark.usefixtures("open_umask")
def test_a_sqlite_database_and_its_folder_are_private(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    database = shared / "node" / "data" / "register.sqlite3"
    engine = make_engine(f"sqlite:///{database}")
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("CREATE TABLE t (x INTEGER)")
            connection.exec_driver_sql("INSERT INTO t VALUES (1)")
    finally:
        engine.dispose()
    assert _mode(database) == 0o600
    assert _mode(database.parent) == 0o700
    assert _mode(database.parent.parent) == 0o700
    assert _mode(shared) == 0o755  # an existing folder is left as it was
    for companion in database.parent.glob("register.sqlite3-*"):
        assert _mode(companion) == 0o600, companion.name


@pytest.mark.usefixtures("open_umask")
def test_the_network_pki_keeps_keys_private(tmp_path: Path) -> None:
    pki = NetworkPki(tmp_path / "pki")
    signer = FileCaSigner.generate()
    signer.save(pki.folder / "ca.key")
    now = dt.datetime.now(dt.UTC)
    pki.init(signer, now=now)
    creds = pki.issue_node(signer, "municipality:132292", now=now)
    assert _mode(pki.folder) == 0o700
    assert _mode(creds.folder) == 0o700
    for key in (pki.folder / "ca.key", creds.tls_key, creds.signing_key):
        assert _mode(key) == 0o600, key.name


def test_private_file_tightens_a_file_created_loosely(tmp_path: Path) -> None:
    loose = tmp_path / "settings.json"
    loose.write_text("{}", encoding="utf-8")
    loose.chmod(0o644)
    assert _mode(private_file(loose)) == 0o600
