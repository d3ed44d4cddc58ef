"""A move-in filed at the counter page or through the API tells the old town (転入通知).

On the demo network (six node processes, SQLite and PostgreSQL): a Yokohama clerk files the
move-in of two Nishitokyo residents — one on the counter page, one through the JSON API — naming
Nishitokyo as the previous municipality. Each time the move-in notice travels Yokohama →
Kanagawa → centre → Tokyo → Nishitokyo, and Nishitokyo closes its record (a 除票 with the
move-out reason), which itself reaches the centre as Nishitokyo's deletion.
"""

from __future__ import annotations

import re
import time
from datetime import date
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from jukinet.domain.clock import japan_date
from jukinet.domain.identity import ChangeReason
from jukinet.domain.register import RecordStatus, ResidentRecord
from jukinet.domain.wareki import format_wareki
from jukinet.network.node import system_clock
from jukinet.runtime.demo import DemoNetwork, build_demo, wait_until_delivered
from jukinet.services import reading
from jukinet.services.operators import authenticate
from jukinet.storage.tables import IdentityHistoryRow
from tests.support.cards import SoftAuthenticator, api_token, lend_token_card, page_sign_in
from tests.support.databases import demo_template, drop_template_databases
from tests.support.ports import base_port as block_base_port

pytestmark = pytest.mark.e2e

OLD = "municipality:132292"  # 西東京市
NEW = "municipality:141003"  # 横浜市
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _old_heads(demo: DemoNetwork, count: int) -> list[ResidentRecord]:
    """Heads of household registered at Nishitokyo (read through the counter's gateway)."""
    old = demo.cluster.handle(OLD)
    try:
        clerk = authenticate(old, username="madoguchi", password=demo.passwords["madoguchi"])
        found = reading.search_residents(
            old, actor=clerk, query=reading.SearchQuery(name="タ", limit=100)
        )
        return [view.record for view in found if view.record.is_head][:count]
    finally:
        old.engine.dispose()


def _csrf(client: httpx.Client, path: str) -> str:
    match = _CSRF.search(client.get(path).text)
    assert match, f"{path} has no anti-forgery token"
    return match[1]


def _file_on_the_page(demo: DemoNetwork, record: ResidentRecord) -> None:
    base = demo.cluster.nodes[NEW].operator_url
    with httpx.Client(base_url=base, timeout=30.0) as client:
        # A demo operator's first sign-in enrols a security key as their card.
        signed_in = page_sign_in(
            client,
            "madoguchi",
            demo.passwords["madoguchi"],
            SoftAuthenticator(),
        )
        assert signed_in.status_code == 303, signed_in.text
        form = client.get("/events/move-in")
        assert 'name="previous_municipality_code"' in form.text
        today = format_wareki(time_today())
        filed = client.post(
            "/events/move-in",
            data={
                "household_mode": "new",
                "address": "神奈川県横浜市中区山下町10番地",
                "previous_address": record.address,
                "previous_municipality_code": "132292",
                "moved_on": today,
                "filed_on": today,
                "p0_family_name": record.name.family,
                "p0_given_name": record.name.given,
                "p0_family_name_kana": record.name.family_kana,
                "p0_given_name_kana": record.name.given_kana,
                "p0_birth_date": format_wareki(record.birth_date),
                "p0_sex": record.sex.value,
                "p0_relationship": "head",
                "p0_resident_code": record.resident_code,
                "csrf_token": _csrf(client, "/events/move-in"),
            },
            follow_redirects=False,
        )
        assert filed.status_code == 303, filed.text


def _file_through_the_api(demo: DemoNetwork, record: ResidentRecord) -> None:
    base = demo.cluster.nodes[NEW].operator_url
    with httpx.Client(base_url=base, timeout=30.0) as client:
        new = demo.cluster.handle(NEW)
        try:
            card = lend_token_card(new, "madoguchi")
        finally:
            new.engine.dispose()
        token = api_token(client, "madoguchi", demo.passwords["madoguchi"], card)
        today = time_today().isoformat()
        filed = client.post(
            "/api/v1/events/move-in",
            headers={"Authorization": f"Bearer {token}"},
            json={
                "persons": [
                    {
                        "family_name": record.name.family,
                        "given_name": record.name.given,
                        "family_name_kana": record.name.family_kana,
                        "given_name_kana": record.name.given_kana,
                        "birth_date": record.birth_date.isoformat(),
                        "sex": record.sex.value,
                        "relationship": "head",
                        "resident_code": record.resident_code,
                    }
                ],
                "address": "神奈川県横浜市中区山下町11番地",
                "previous_address": record.address,
                "previous_municipality_code": "132292",
                "moved_on": today,
                "filed_on": today,
            },
        )
        assert filed.status_code == 201, filed.text


def time_today() -> date:
    """Today in Japan, as the nodes count it."""
    return japan_date(system_clock())


def _removed_at_the_old_town(demo: DemoNetwork, code: str, *, timeout: float = 60.0) -> bool:
    old = demo.cluster.handle(OLD)
    deadline = time.monotonic() + timeout
    try:
        clerk = authenticate(old, username="madoguchi", password=demo.passwords["madoguchi"])
        while time.monotonic() < deadline:
            view = reading.read_resident(old, actor=clerk, resident_code=code)
            if view.record.status is RecordStatus.REMOVED:
                assert view.record.removal_reason is ChangeReason.MOVE_OUT
                return True
            time.sleep(0.5)
        return False
    finally:
        old.engine.dispose()


def _centre_has_the_old_towns_deletion(demo: DemoNetwork, code: str) -> bool:
    centre = demo.cluster.handle("national:jlis")
    try:
        with centre.session_factory() as session:
            reasons = session.execute(
                select(IdentityHistoryRow.municipality_code, IdentityHistoryRow.reason).where(
                    IdentityHistoryRow.resident_code == code
                )
            ).all()
    finally:
        centre.engine.dispose()
    return ("132292", ChangeReason.MOVE_OUT.value) in {(m, r) for m, r in reasons}


def test_counter_and_api_move_ins_close_the_old_record(tmp_path: Path, database_url: str) -> None:
    template = demo_template(database_url)
    demo = build_demo(
        tmp_path / "demo",
        residents=200,
        seed=11,
        database_url_template=template,
        base_port=block_base_port(),
        say=lambda _message: None,
    )
    try:
        demo.cluster.start()
        assert wait_until_delivered(demo, say=lambda _message: None)
        by_page, by_api = _old_heads(demo, 2)

        _file_on_the_page(demo, by_page)
        _file_through_the_api(demo, by_api)

        for record in (by_page, by_api):
            assert _removed_at_the_old_town(demo, record.resident_code), record.resident_code
        assert wait_until_delivered(demo, say=lambda _message: None)
        for record in (by_page, by_api):
            assert _centre_has_the_old_towns_deletion(demo, record.resident_code)
    finally:
        demo.cluster.stop()
        drop_template_databases(template)
