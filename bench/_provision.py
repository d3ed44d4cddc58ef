"""Shared helpers for the provision and access-log benchmarks.

- a synthetic national table (``identity_records``) of N residents, bulk-loaded (COPY on
  PostgreSQL, Core ``executemany`` on SQLite, secondary indexes rebuilt afterwards), with names
  from the project's name tables and keys folded by :mod:`jukinet.domain.names`;
- a national-centre node (in-process, or served in a separate process with mutual TLS);
- a network PKI with the centre's node credentials and an agency client certificate;
- ``python -m bench._provision serve ...``: the server process of ``bench.provision_lookup``,
  serving either the real network app (provision API) or a bare FastAPI endpoint doing the same
  database read, both through :func:`jukinet.network.transport.make_server` with the node's own
  server TLS context.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import itertools
import random
import socket
import sys
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Engine, insert, select

from bench._common import POSTGRES_ADMIN_URL
from jukinet.config import load_settings
from jukinet.domain.codes import random_resident_codes
from jukinet.domain.names import kana_search_key, name_search_key
from jukinet.domain.register import Sex
from jukinet.network.pki import FileCaSigner, NetworkPki
from jukinet.runtime.bootstrap import build_node, handler_table
from jukinet.seed.names import name_tables
from jukinet.services import recipients
from jukinet.services.context import ServiceContext
from jukinet.storage.tables import IdentityRecordRow, table_of

CENTRE = "national:jlis"
AGENCY = "agency:soumu-onkyu"
#: 恩給法: granted to agency:soumu-onkyu by ``recipients.seed``; gives every identity item.
AFFAIR = "T1-16"
OFFICER = "恩給 太郎"
SECRET = "bench-secret-key-that-is-long-enough-0123"

_records = table_of(IdentityRecordRow)

#: (municipality code, address prefix) of the synthetic residents.
MUNICIPALITIES: tuple[tuple[str, str], ...] = (
    ("131016", "東京都千代田区"),
    ("131041", "東京都新宿区"),
    ("132292", "東京都西東京市"),
    ("141011", "神奈川県横浜市鶴見区"),
    ("231061", "愛知県名古屋市中区"),
    ("271021", "大阪府大阪市都島区"),
    ("011011", "北海道札幌市中央区"),
    ("401331", "福岡県福岡市中央区"),
)
_TOWNS = ("本町", "中央", "緑町", "栄町", "泉町", "旭町", "若葉町", "東町", "西町", "南町")
_KANJI = ("一", "二", "三", "四", "五", "六", "七", "八", "九")
_FIRST_BIRTH = date(1925, 1, 1)
_BIRTH_SPAN = (date(2026, 10, 31) - _FIRST_BIRTH).days

#: The columns of ``identity_records`` in load order.
RECORD_COLUMNS: tuple[str, ...] = tuple(c.name for c in _records.columns)

#: The twelve columns a provision answer is built from (as ``services.provision`` reads them):
#: what the baselines fetch.
PROVIDED_COLUMNS: tuple[Any, ...] = (
    IdentityRecordRow.resident_code,
    IdentityRecordRow.municipality_code,
    IdentityRecordRow.family_name,
    IdentityRecordRow.given_name,
    IdentityRecordRow.family_name_kana,
    IdentityRecordRow.given_name_kana,
    IdentityRecordRow.birth_date,
    IdentityRecordRow.sex,
    IdentityRecordRow.address,
    IdentityRecordRow.deleted,
    IdentityRecordRow.last_reason,
    IdentityRecordRow.last_changed_on,
)


def synthetic_records(n: int, *, seed: int = 20261126) -> Iterator[dict[str, Any]]:
    """``n`` identity records with distinct valid codes, realistic names and folded keys.

    Deterministic for a seed. Keys are computed with the project's own folding functions
    (``name_search_key`` of family + given name, ``kana_search_key`` of the readings), cached
    per distinct name.
    """
    rng = random.Random(seed)
    tables = name_tables()
    codes = random_resident_codes(rng, n)
    now = datetime.now(UTC)
    name_keys: dict[str, str] = {}
    kana_keys: dict[str, str] = {}
    for i, code in enumerate(codes):
        sex = Sex.MALE if rng.random() < 0.5 else Sex.FEMALE
        family, family_kana = tables.family_name(rng)
        given, given_kana = tables.given_name(rng, sex)
        written = family + given
        reading = family_kana + given_kana
        name_key = name_keys.get(written)
        if name_key is None:
            name_key = name_keys[written] = name_search_key(written)
        kana_key = kana_keys.get(reading)
        if kana_key is None:
            kana_key = kana_keys[reading] = kana_search_key(reading)
        municipality, prefix = MUNICIPALITIES[i % len(MUNICIPALITIES)]
        deleted = rng.random() < 0.02
        changed = _FIRST_BIRTH + timedelta(days=rng.randrange(_BIRTH_SPAN))
        yield {
            "resident_code": code,
            "municipality_code": municipality,
            "family_name": family,
            "given_name": given,
            "family_name_kana": family_kana,
            "given_name_kana": given_kana,
            "kana_key": kana_key,
            "name_key": name_key,
            "birth_date": _FIRST_BIRTH + timedelta(days=rng.randrange(_BIRTH_SPAN)),
            "sex": sex.value,
            "address": (
                f"{prefix}{_TOWNS[rng.randrange(len(_TOWNS))]}{_KANJI[rng.randrange(9)]}丁目"
                f"{rng.randrange(1, 40)}番{rng.randrange(1, 30)}号"
            ),
            "deleted": deleted,
            "last_reason": "C02" if deleted else "A02",
            "last_changed_on": changed,
            "version": 1,
            "digest": hashlib.sha256(code.encode()).hexdigest(),
            "updated_at": now,
        }


def _secondary_indexes() -> list[Any]:
    return list(_records.indexes)


def load_records(engine: Engine, rows: Iterator[dict[str, Any]], *, chunk: int = 50_000) -> int:
    """Bulk-load identity records: secondary indexes dropped, rows loaded (COPY on PostgreSQL),
    indexes rebuilt, table analysed. Returns the number of rows."""
    count = 0
    with engine.begin() as conn:
        for index in _secondary_indexes():
            conn.exec_driver_sql(f"DROP INDEX IF EXISTS {index.name}")
    first = next(rows, None)
    if first is None:
        pass
    elif engine.dialect.name == "postgresql":
        raw = engine.raw_connection()
        try:
            driver = raw.driver_connection
            assert driver is not None
            # COPY names the columns the rows carry; the others take their server defaults
            # (a column added by a later migration must not break the loader).
            names = [c for c in RECORD_COLUMNS if c in first]
            columns = ", ".join(names)
            with (
                driver.cursor() as cur,
                cur.copy(f"COPY identity_records ({columns}) FROM STDIN") as copy,
            ):
                for row in itertools.chain([first], rows):
                    copy.write_row(tuple(row[c] for c in names))
                    count += 1
            driver.commit()
        finally:
            raw.close()
    else:
        with engine.begin() as conn:
            batch: list[dict[str, Any]] = []
            for row in itertools.chain([first], rows):
                batch.append(row)
                if len(batch) == chunk:
                    conn.execute(insert(_records), batch)
                    count += len(batch)
                    batch = []
            if batch:
                conn.execute(insert(_records), batch)
                count += len(batch)
    with engine.begin() as conn:
        for index in _secondary_indexes():
            index.create(conn)
    analyze(engine, "identity_records")
    return count


def analyze(engine: Engine, *tables: str) -> None:
    """Refresh planner statistics (outside a transaction on PostgreSQL)."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in tables:
            conn.exec_driver_sql(f"ANALYZE {table}")


def all_codes(engine: Engine) -> list[str]:
    """Every resident code of the national table, in code order."""
    with engine.connect() as conn:
        return list(
            conn.scalars(select(_records.c.resident_code).order_by(_records.c.resident_code))
        )


def centre_settings(database_url: str, pki_dir: Path | None = None, **more: object) -> Any:
    """Settings of the national centre (test environment: nothing here is a real secret)."""
    extra: dict[str, object] = more if pki_dir is None else {"pki_dir": pki_dir, **more}
    return load_settings(
        environment="test",
        database_url=database_url,
        role="national",
        node_code="jlis",
        secret_key=SECRET,
        argon2_time_cost=1,
        argon2_memory_cost=8192,
        **extra,
    )


def centre_node(database_url: str, pki_dir: Path | None = None, **more: object) -> ServiceContext:
    """The national centre on ``database_url`` (with network credentials when ``pki_dir``)."""
    return build_node(centre_settings(database_url, pki_dir, **more))


def seed_recipients(node: ServiceContext) -> None:
    """Register the example recipients (agency:soumu-onkyu gets T1-16 from today)."""
    recipients.seed(node)


def make_pki(folder: Path) -> NetworkPki:
    """A network CA, the centre's node credentials and the agency's client certificate."""
    now = datetime.now(UTC)
    signer = FileCaSigner.generate()
    pki = NetworkPki(folder)
    pki.init(signer, now=now)
    pki.issue_node(signer, CENTRE, now=now)
    pki.issue_client(signer, AGENCY, now=now)
    return pki


def postgres_admin_url() -> str:
    """The admin URL the benchmarks create databases through."""
    return POSTGRES_ADMIN_URL


# --------------------------------------------------------------------------------------------
# The server process of bench.provision_lookup
# --------------------------------------------------------------------------------------------

#: What a serving process prints once its port is bound (with ``reuse_port``: before it listens
#: through uvicorn, whose accept loop then takes the kernel's queued connections).
LISTENING = "bench._provision: listening"

#: The bare endpoint's path; it takes the same JSON body as the provision lookup.
BARE_PATH = "/bench/v1/bare-lookup"
LOOKUP_PATH = "/provision/v1/residents/lookup"


class BareBody(BaseModel):
    """The provision lookup's body, as the bare endpoint reads it (no length checks)."""

    affair_code: str
    officer: str
    case_number: str | None = None
    resident_codes: list[str]


def bare_app(node: ServiceContext) -> Any:
    """A FastAPI app with one endpoint: the SELECT of the identity record by code (the same
    columns the provision lookup reads), no certificate check, no purpose check, no log."""
    from fastapi import FastAPI
    from fastapi.concurrency import run_in_threadpool

    engine = node.engine

    def read(code: str) -> dict[str, Any] | None:
        with engine.connect() as conn:
            row = conn.execute(
                select(*PROVIDED_COLUMNS).where(IdentityRecordRow.resident_code == code)
            ).first()
        if row is None:
            return None
        out = dict(row._mapping)
        out["birth_date"] = row.birth_date.isoformat()
        out["last_changed_on"] = row.last_changed_on.isoformat()
        return out

    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    @app.post(BARE_PATH)
    async def lookup(body: BareBody) -> dict[str, Any]:
        record = await run_in_threadpool(read, body.resident_codes[0])
        return {"results": [{"resident_code": body.resident_codes[0], "record": record}]}

    return app


def serve(
    app_kind: str,
    database_url: str,
    pki_dir: Path,
    port: int,
    loop: str,
    pool_size: int | None = None,
    replica_url: str | None = None,
    reuse_port: bool = False,
) -> None:
    """Serve the centre's network app (``provision``) or the bare endpoint (``bare``) with the
    node's mutual-TLS server context until killed.

    ``pool_size`` (an experiment, not the node's configuration): replace the node's engine by
    one with a fixed pool of that many connections and no overflow. ``reuse_port`` (an
    experiment too): listen with ``SO_REUSEPORT``, so several such processes share the port and
    the kernel spreads connections over them (``bench.provision_lookup --workers``).
    """
    from jukinet.network.transport import make_server
    from jukinet.storage.database import make_engine, make_session_factory
    from jukinet.web.network_app import create_network_app

    more: dict[str, object] = {}
    if replica_url is not None:
        # Agency lookups read identity records from this streaming replica (bench.replica_lookup).
        more["database_replica_url"] = replica_url
    node = centre_node(database_url, pki_dir, **more)
    if pool_size is not None:
        node.engine.dispose()
        node.engine = make_engine(database_url, pool_size=pool_size, max_overflow=0)
        node.session_factory = make_session_factory(node.engine)
    net = node.network
    assert net is not None
    app = (
        create_network_app(node, net, handler_table(node))
        if app_kind == "provision"
        else bare_app(node)
    )
    server = make_server(app, host="127.0.0.1", port=port, ssl_context=net.server_ssl_context())
    sockets = None
    if reuse_port:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(("127.0.0.1", port))
        sock.listen(2048)
        sockets = [sock]
    sys.stderr.write(f"{LISTENING}\n")
    sys.stderr.flush()
    if loop == "uvloop":
        server.run(sockets=sockets)  # uvicorn's loop factory: uvloop
    else:
        # What jukinet.runtime.runner does with JUKINET_EVENT_LOOP=asyncio.
        asyncio.run(server.serve(sockets=sockets))


def main() -> None:
    """``python -m bench._provision serve --app provision|bare --database-url U --pki D
    --port P [--loop asyncio|uvloop] [--pool-size N]``"""
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("serve")
    run.add_argument("--app", choices=("provision", "bare"), required=True)
    run.add_argument("--database-url", required=True)
    run.add_argument("--pki", type=Path, required=True)
    run.add_argument("--port", type=int, required=True)
    run.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio")
    run.add_argument("--pool-size", type=int, default=None)
    run.add_argument("--database-replica-url", default=None)
    run.add_argument("--reuse-port", action="store_true")
    args = parser.parse_args()
    started = time.monotonic()
    sys.stderr.write(f"serving {args.app} on :{args.port} ({args.loop})\n")
    serve(
        args.app,
        args.database_url,
        args.pki,
        args.port,
        args.loop,
        args.pool_size,
        args.database_replica_url,
        args.reuse_port,
    )
    sys.stderr.write(f"stopped after {time.monotonic() - started:.1f} s\n")


if __name__ == "__main__":
    main()
