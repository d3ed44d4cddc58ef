"""The demo network: the national centre, Tokyo and Kanagawa, Nishitokyo, Kunitachi, Yokohama.

Each node is its own process with its own database; they talk HTTPS with mutual TLS on
loopback. Residents are synthetic; a few of them move between the municipalities once the
network is up, so that the move-in notices, deletions and history can be seen at every tier.
"""

from __future__ import annotations

import datetime as dt
import random
import secrets
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select

from jukinet.domain.operators import Actor, Role
from jukinet.runtime.cluster import DEMO_NODES, DEMO_SETTINGS, Cluster
from jukinet.runtime.demo_provision import (
    CONSOLE_OFFICERS,
    add_console_officers,
    register_recipients,
)
from jukinet.seed import generate_households
from jukinet.services import audit, reading, register
from jukinet.services.context import ServiceContext
from jukinet.services.operators import add_operator, verify_password
from jukinet.services.population import allot_codes_in_bulk, load_population
from jukinet.services.register import MoveIn, PersonInput
from jukinet.storage.tables import IdentityRecordRow, OutboxRow

DEMO_OPERATORS = (
    ("madoguchi", Role.CLERK, "デモ 窓口担当"),
    ("kanri", Role.SUPERVISOR, "デモ 管理職"),
    ("anzen", Role.SECURITY_OFFICER, "デモ セキュリティ責任者"),
)
#: How the demo's residents are shared among the municipalities.
SHARES = {"municipality:132292": 0.4, "municipality:132152": 0.2, "municipality:141003": 0.4}
SPARE_CODES = 1_000
#: Each node's published log-signing key, in its folder (``audit check-proof --public-key``).
PUBLIC_KEY_FILE = "log-public-key.pem"

Say = Callable[[str], None]


@dataclass
class DemoNetwork:
    """A running demo: the cluster and the operators' passwords."""

    cluster: Cluster
    passwords: dict[str, str]
    moves: list[str]


def _municipality_code(name: str) -> str:
    return name.split(":", 1)[1]


def _operators(node: ServiceContext, passwords: dict[str, str]) -> None:
    for username, role, display in DEMO_OPERATORS:
        add_operator(
            node,
            actor=None,
            username=username,
            display_name=display,
            role=role,
            password=passwords[username],
        )


def build_demo(
    folder: Path,
    *,
    residents: int,
    seed: int,
    database_url_template: str | None = None,
    base_port: int | None = None,
    say: Say = print,
    fresh: bool = False,
) -> DemoNetwork:
    """Create the PKI, the six nodes and their databases, operators and residents.

    A previous demo in ``folder`` is kept as ``<folder>.previous`` (replacing an older one), and
    said so; ``fresh`` deletes it instead.
    """
    if folder.exists():
        if fresh:
            shutil.rmtree(folder)
            say(f"以前のデモを削除しました / removed the previous demo in {folder} (--fresh)")
        else:
            kept = folder.with_name(folder.name + ".previous")
            if kept.exists():
                shutil.rmtree(kept)
            folder.rename(kept)
            say(
                f"以前のデモを {kept} に移しました（--fresh で削除）/ "
                f"the previous demo was moved to {kept} (--fresh deletes it instead)"
            )
    cluster = Cluster(
        folder=folder,
        names=DEMO_NODES,
        settings=DEMO_SETTINGS,
        database_url_template=database_url_template,
        max_backoff_seconds=5.0,
    )
    # The demo is a development network, and says so: nothing defaults to dev.
    cluster.create(environment="dev", base_port=base_port)
    passwords = {username: secrets.token_urlsafe(12) for username, _, _ in DEMO_OPERATORS}
    today = dt.datetime.now(dt.UTC).date()
    for offset, name in enumerate(DEMO_NODES):
        node = cluster.handle(name)
        try:
            _operators(node, passwords)
            # What the node publishes (also on its transparency page and API), as a file.
            public_key = cluster.nodes[name].folder / PUBLIC_KEY_FILE
            public_key.write_text(audit.public_key_pem(node), encoding="ascii")
            if name in SHARES:
                count = max(1, round(residents * SHARES[name]))
                code = _municipality_code(name)
                allot_codes_in_bulk(
                    node,
                    count=count + SPARE_CODES,
                    rng=random.Random(seed + offset),  # noqa: S311
                )
                say(f"{name}: {count:,} 人の住民を作成中 / seeding {count:,} residents …")
                load_population(
                    node,
                    actor=None,
                    households=generate_households(code, count, today=today, seed=seed + offset),
                )
        finally:
            node.engine.dispose()
    register_recipients(cluster)
    passwords |= {login: secrets.token_urlsafe(12) for login, _, _ in CONSOLE_OFFICERS}
    add_console_officers(cluster, passwords)
    say(
        "受領者（恩給・電波・旅券…）を登録し、クライアント証明書を発行しました / "
        "recipients registered and issued client certificates"
    )
    return DemoNetwork(cluster=cluster, passwords=passwords, moves=[])


def sample_codes(demo: DemoNetwork, *, count: int = 200) -> list[str]:
    """Resident codes held at the centre: the moved residents first, then others."""
    node = demo.cluster.handle("national:jlis")
    try:
        with node.session_factory() as session:
            held = list(
                session.scalars(
                    select(IdentityRecordRow.resident_code)
                    .order_by(IdentityRecordRow.resident_code)
                    .limit(count)
                )
            )
    finally:
        node.engine.dispose()
    return demo.moves + [code for code in held if code not in demo.moves]


def demo_clerk(node: ServiceContext, password: str) -> Actor:
    """The demo's clerk at ``node``, checked by the password the demo made."""
    # The demo's setup files its moves as the demo clerk, checked by the password; the clerk's
    # card is enrolled by their own first sign-in in a browser.
    operator_id = verify_password(node, username="madoguchi", password=password)
    return Actor(
        operator_id=operator_id,
        username="madoguchi",
        role=Role.CLERK,
        terminal_id="loopback-demo",
        display_name="デモ 窓口担当",
    )


def make_moves(demo: DemoNetwork, *, count: int = 3, say: Say = print) -> list[str]:
    """Move a few Nishitokyo residents to Yokohama (転出 → 転入 with a 転入通知)."""
    old = demo.cluster.handle("municipality:132292")
    new = demo.cluster.handle("municipality:141003")
    moved: list[str] = []
    try:
        clerk = demo_clerk(new, demo.passwords["madoguchi"])
        # The old municipality's clerk looks the residents up through the read gateway, as a
        # counter would: a kana search, then the heads of household among the candidates.
        old_clerk = demo_clerk(old, demo.passwords["madoguchi"])
        candidates = reading.search_residents(
            old, actor=old_clerk, query=reading.SearchQuery(name="サ", limit=100)
        )
        records = [v.record for v in candidates if v.record.is_head][:count]
        today = new.today()
        for index, record in enumerate(records):
            person = PersonInput(
                family_name=record.name.family,
                given_name=record.name.given,
                family_name_kana=record.name.family_kana,
                given_name_kana=record.name.given_kana,
                birth_date=record.birth_date,
                sex=record.sex,
                relationship=record.relationship,
                resident_code=record.resident_code,
                domicile=record.domicile,
                domicile_head=record.domicile_head,
            )
            register.file_move_in(
                new,
                actor=clerk,
                move_in=MoveIn(
                    persons=(person,),
                    address=f"神奈川県横浜市中区山下町{index + 1}番地",
                    previous_address=record.address,
                    previous_municipality_code="132292",
                    moved_on=today,
                    filed_on=today,
                ),
            )
            moved.append(record.resident_code)
            say(f"転入: {record.name.full} → 横浜市 (住民票コード {record.resident_code})")
    finally:
        old.engine.dispose()
        new.engine.dispose()
    demo.moves = moved
    return moved


def wait_until_delivered(demo: DemoNetwork, *, timeout: float = 300.0, say: Say = print) -> bool:
    """Wait until every connected node's outbox is empty; reports progress at the centre."""
    handles = {name: demo.cluster.handle(name) for name in DEMO_NODES}
    deadline = time.monotonic() + timeout
    last = -1
    try:
        while time.monotonic() < deadline:
            pending = 0
            for node in handles.values():
                if not node.connected:
                    continue
                with node.session_factory() as session:
                    pending += int(
                        session.scalar(
                            select(func.count())
                            .select_from(OutboxRow)
                            .where(OutboxRow.delivered_at.is_(None))
                        )
                        or 0
                    )
            with handles["national:jlis"].session_factory() as session:
                held = int(session.scalar(select(func.count()).select_from(IdentityRecordRow)) or 0)
            if held != last:
                say(
                    f"全国センター保有件数 / records at the centre: {held:,} "
                    f"(未送信 / queued: {pending:,})"
                )
                last = held
            if pending == 0:
                return True
            time.sleep(1.0)
        return False
    finally:
        for node in handles.values():
            node.engine.dispose()
