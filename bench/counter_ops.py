"""Counter operations per second through the service layer, against raw INSERTs.

For each backend this measures, in the same run:
- baseline: one raw ``INSERT`` of a resident row per transaction (SQLAlchemy Core, no rules);
- move-in: ``file_move_in`` of one person (validation, household, version, event, notice);
- move-within: ``file_move_within`` of that household;
- name change: ``file_name_change`` with an expected version;
- lookup: ``read_resident`` by code.
Each figure is reported with its ratio to the baseline. Usage: ``python bench/counter_ops.py [N]``.
"""

from __future__ import annotations

import random
import sys
import time
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import insert

from bench._common import BACKENDS, bench_node, fresh_database
from bench._network import emit, machine
from jukinet.domain.codes import random_resident_codes
from jukinet.domain.names import name_search_key
from jukinet.domain.operators import Role
from jukinet.domain.register import Relationship, Sex
from jukinet.services import reading, register
from jukinet.services.operators import add_operator, authenticate
from jukinet.services.register import MoveIn, PersonInput
from jukinet.storage.tables import HouseholdRow, OperatorRow, ResidentRow

PASSWORD = "bench password 123"
GIVEN = ["健一", "健二", "一郎", "次郎", "三郎", "誠", "翔", "大輔", "拓也", "直樹"]


def _raw_inserts(node: Any, codes: list[str]) -> float:
    now = datetime.now(UTC)
    with node.engine.begin() as conn:
        operator_id = conn.execute(
            insert(OperatorRow)
            .values(
                username="raw",
                display_name="raw",
                role="clerk",
                password_hash="x",
                active=True,
                created_at=now,
            )
            .returning(OperatorRow.id)
        ).scalar_one()
        household_id = conn.execute(
            insert(HouseholdRow)
            .values(household_number="raw0000001", municipality_code="132292", created_at=now)
            .returning(HouseholdRow.id)
        ).scalar_one()
    start = time.perf_counter()
    for code in codes:
        with node.engine.begin() as conn:
            conn.execute(
                insert(ResidentRow).values(
                    resident_code=code,
                    municipality_code="132292",
                    household_id=household_id,
                    relationship="head",
                    family_name="山田",
                    given_name="太郎",
                    family_name_kana="ヤマダ",
                    given_name_kana="タロウ",
                    name_key="山田太郎",
                    kana_key="ヤマダタロウ",
                    birth_date=date(1980, 1, 1),
                    sex="male",
                    address="東京都西東京市泉町一丁目1番1号",
                    became_resident_on=date(2026, 11, 1),
                    address_since=date(2026, 11, 1),
                    insurance={},
                    status="active",
                    version=1,
                    created_at=now,
                    updated_at=now,
                    updated_by=operator_id,
                )
            )
    return time.perf_counter() - start


def _measure(backend: str, n: int) -> dict[str, Any]:
    rng = random.Random(20261126)
    with fresh_database(backend) as url:
        node = bench_node(url)
        codes = random_resident_codes(rng, 2 * n)
        raw_seconds = _raw_inserts(node, codes[:n])
        add_operator(
            node,
            actor=None,
            username="benchclerk",
            display_name="試験 職員",
            role=Role.CLERK,
            password=PASSWORD,
        )
        actor = authenticate(node, username="benchclerk", password=PASSWORD)
        today = node.today()
        name_search_key("髙橋")  # build the folding table once, outside the timings
        results: dict[str, float] = {}

        start = time.perf_counter()
        households = []
        for i, code in enumerate(codes[n:]):
            person = PersonInput(
                family_name="渡邊",
                given_name=GIVEN[i % len(GIVEN)],
                family_name_kana="ワタナベ",
                given_name_kana="ケンイチ",
                birth_date=date(1975, 3, 14),
                sex=Sex.MALE,
                relationship=Relationship.HEAD,
                resident_code=code,
            )
            result = register.file_move_in(
                node,
                actor=actor,
                move_in=MoveIn(
                    persons=(person,),
                    address=f"東京都西東京市泉町一丁目{i + 1}番1号",
                    previous_address="東京都国立市中一丁目1番1号",
                    moved_on=today,
                    filed_on=today,
                ),
            )
            households.append(result.records[0])
        results["move_in"] = time.perf_counter() - start

        start = time.perf_counter()
        for i, view in enumerate(households):
            register.file_move_within(
                node,
                actor=actor,
                household_number=view.record.household_number,
                address=f"東京都西東京市田無町二丁目{i + 1}番2号",
                moved_on=today,
                filed_on=today,
            )
        results["move_within"] = time.perf_counter() - start

        start = time.perf_counter()
        for view in households:
            register.file_name_change(
                node,
                actor=actor,
                resident_code=view.record.resident_code,
                family_name="髙橋",
                given_name="健一",
                family_name_kana="タカハシ",
                given_name_kana="ケンイチ",
                changed_on=today,
                filed_on=today,
                expected_version=2,
            )
        results["name_change"] = time.perf_counter() - start

        start = time.perf_counter()
        for view in households:
            reading.read_resident(node, actor=actor, resident_code=view.record.resident_code)
        results["lookup"] = time.perf_counter() - start
        node.engine.dispose()

    baseline = n / raw_seconds
    report: dict[str, Any] = {
        "backend": backend,
        "operations": n,
        "raw_insert_per_s": round(baseline, 1),
    }
    for name, seconds in results.items():
        rate = n / seconds
        report[f"{name}_per_s"] = round(rate, 1)
        report[f"{name}_ratio"] = round(rate / baseline, 3)
    return report


def main() -> None:
    """Run the benchmark on every backend and print one JSON line per backend."""
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    for backend in BACKENDS:
        report = _measure(backend, n)
        report["machine"] = machine()
        emit("counter_ops", report)


if __name__ == "__main__":
    main()
