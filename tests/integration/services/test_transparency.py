"""Transparency statistics on SQLite and PostgreSQL: exact aggregates, months in Japan time,
refusals apart from provisions, batch-job sizes, and no personal data in the JSON or the CSV."""

from __future__ import annotations

import csv
import io
import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from jukinet.domain.access_log import AccessEntry, Action, ActorKind, Channel
from jukinet.domain.codes import random_resident_codes
from jukinet.services.context import ServiceContext
from jukinet.services.transparency import (
    CSV_COLUMNS,
    INVALID_AFFAIR,
    BatchJobCount,
    BatchSizeCount,
    CounterReadCount,
    InvalidMonths,
    ProvisionCount,
    RefusalCount,
    TransparencyStats,
    affair_title,
    to_csv,
    to_json,
    transparency_stats,
)
from jukinet.storage.access_log import append_entries
from jukinet.storage.tables import BatchJobRow, RecipientRow

# The tests' "now" is 2026-11-26 12:00 JST, so twelve months run from 2025-12 to 2026-11.
ONKYU = "agency:soumu-onkyu"
ONKYU_NAME = "総務省（恩給）"
KKR = "agency:kkr"  # provided to, but not in the recipients table: shown by its id
FORMULA = "agency:formula"
FORMULA_NAME = "=HYPERLINK(1)"

CODES = random_resident_codes(random.Random(20261126), 12)
OPERATOR = "clerk-tanaka"
OFFICER = "照会官 佐藤花子"
CASE = "CASE-2026-000123"
REASON = "山田太郎の住所確認"
BATCH_OFFICER = "一括 鈴木一郎"
BATCH_CASE = "BATCH-CASE-777"
#: Everything that identifies a person and must never be published.
SECRETS = (*CODES, OPERATOR, OFFICER, CASE, REASON, BATCH_OFFICER, BATCH_CASE, "山田")


def _utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def _entry(
    at: datetime,
    action: Action,
    *,
    actor_kind: ActorKind = ActorKind.RECIPIENT,
    actor: str = ONKYU,
    affair: str | None = "T1-16",
    channel: Channel = Channel.AGENCY_API,
    subject: int = 0,
) -> AccessEntry:
    return AccessEntry(
        recorded_at=at,
        node="municipality:132292",
        action=action,
        channel=channel,
        actor_kind=actor_kind,
        actor=actor,
        subject=CODES[subject % len(CODES)],
        affair_code=affair,
        reason=REASON,
        items=("name", "address"),
        officer=OFFICER if actor_kind is ActorKind.RECIPIENT else None,
        terminal="T-01" if actor_kind is ActorKind.OPERATOR else None,
        case_number=CASE if actor_kind is ActorKind.RECIPIENT else None,
        detail={"note": REASON},
    )


def _times(entry: AccessEntry, n: int) -> list[AccessEntry]:
    return [
        _entry(
            entry.recorded_at,
            entry.action,
            actor_kind=entry.actor_kind,
            actor=entry.actor,
            affair=entry.affair_code,
            channel=entry.channel,
            subject=i,
        )
        for i in range(n)
    ]


def _job(job_id: str, created_at: datetime, total: int, *, recipient: str = ONKYU) -> BatchJobRow:
    return BatchJobRow(
        id=job_id,
        recipient_id=recipient,
        affair_code="T1-16",
        officer=BATCH_OFFICER,
        case_number=BATCH_CASE,
        query_kind="codes",
        status="done",
        total_rows=total,
        processed_rows=total,
        found_rows=total - total // 10,
        error_rows=total // 10,
        chunks=1,
        done_chunks=1,
        created_at=created_at,
        finished_at=created_at + timedelta(minutes=5),
        failure=None,
    )


def _seed(node: ServiceContext) -> None:
    entries: list[AccessEntry] = []
    # November (JST): 3 agency reads, and 2 batch reads at exactly 00:00 on 1 November JST.
    entries += _times(_entry(_utc(2026, 11, 10, 1), Action.READ), 3)
    entries += _times(_entry(_utc(2026, 10, 31, 15), Action.READ, channel=Channel.BATCH), 2)
    # One microsecond earlier it is still 31 October in Japan: October.
    last_of_october = _utc(2026, 10, 31, 15) - timedelta(microseconds=1)
    entries += _times(_entry(last_of_october, Action.CANDIDATE), 2)
    # June: a recipient with no registered name, and a well-formed code no table lists.
    entries += _times(_entry(_utc(2026, 6, 3, 2), Action.READ, actor=KKR, affair="T1-42"), 1)
    entries += _times(_entry(_utc(2026, 6, 4, 2), Action.READ, affair="T1-999"), 4)
    entries += _times(_entry(_utc(2026, 6, 5, 2), Action.READ, actor=FORMULA), 1)
    # First moment of the period (2025-12-01 00:00 JST) is in; the moment before is out.
    entries += _times(_entry(_utc(2025, 11, 30, 15), Action.READ), 1)
    entries += _times(_entry(_utc(2025, 11, 30, 15) - timedelta(microseconds=1), Action.READ), 5)
    # After the period (1 December 2026 JST): out.
    entries += _times(_entry(_utc(2026, 11, 30, 15), Action.READ), 6)
    # Not provisions: nothing found, a write.
    entries += _times(_entry(_utc(2026, 11, 10, 2), Action.NOT_FOUND), 7)
    entries += _times(
        _entry(
            _utc(2026, 11, 10, 2),
            Action.WRITE,
            actor_kind=ActorKind.OPERATOR,
            actor=OPERATOR,
            affair=None,
            channel=Channel.COUNTER,
        ),
        2,
    )
    # Refusals: an affair not granted, free text typed as an affair, and an operator refused.
    entries += _times(_entry(_utc(2026, 11, 11, 0), Action.REFUSED, affair="T1-42"), 2)
    entries += _times(_entry(_utc(2026, 11, 12, 0), Action.REFUSED, affair="山田太郎の件"), 1)
    entries += _times(
        _entry(
            _utc(2026, 9, 1, 0),
            Action.REFUSED,
            actor_kind=ActorKind.OPERATOR,
            actor=OPERATOR,
            affair=None,
            channel=Channel.COUNTER,
        ),
        1,
    )
    # Counter reads: 3 in November, 2 search candidates in September; operators stay unnamed.
    for at, action, n in (
        (_utc(2026, 11, 20), Action.READ, 3),
        (_utc(2026, 9, 20), Action.CANDIDATE, 2),
    ):
        counter = _entry(
            at,
            action,
            actor_kind=ActorKind.OPERATOR,
            actor=OPERATOR,
            affair=None,
            channel=Channel.COUNTER,
        )
        entries += _times(counter, n)
    # Reads by another node are neither provisions to a recipient nor counter reads.
    entries += _times(
        _entry(
            _utc(2026, 11, 20, 0),
            Action.READ,
            actor_kind=ActorKind.NODE,
            actor="prefecture:13",
            channel=Channel.NETWORK,
        ),
        2,
    )
    registered = _utc(2026, 1, 1)
    with node.uow() as uow:
        uow.session.add_all(
            [
                RecipientRow(id=ONKYU, name=ONKYU_NAME, kind="national", registered_at=registered),
                RecipientRow(
                    id=FORMULA, name=FORMULA_NAME, kind="national", registered_at=registered
                ),
                # Created on 1 November 00:30 JST: November. Sizes at each bucket's edges.
                _job("job-1", _utc(2026, 10, 31, 15, 30), 99),
                _job("job-2", _utc(2026, 11, 2, 0), 100),
                _job("job-3", _utc(2026, 11, 3, 0), 9_999),
                # 31 October 23:00 JST: October.
                _job("job-4", _utc(2026, 10, 31, 14), 10_000, recipient=KKR),
                _job("job-5", _utc(2026, 7, 1, 0), 1_000_000),
                _job("job-6", _utc(2026, 7, 2, 0), 0),
                # Before the period.
                _job("job-7", _utc(2025, 11, 30, 14), 50),
            ]
        )
        uow.session.flush()
        append_entries(uow.session, entries)
        uow.commit()


def _title(code: str) -> str:
    return affair_title(code)


@pytest.fixture
def stats(node: ServiceContext) -> TransparencyStats:
    _seed(node)
    return transparency_stats(node)


def test_provisions_are_counted_per_recipient_affair_channel_and_jst_month(
    stats: TransparencyStats,
) -> None:
    assert stats.month_labels[0] == "2025-12"
    assert stats.month_labels[-1] == "2026-11"
    assert len(stats.month_labels) == 12
    assert stats.period_start.isoformat() == "2025-12-01"
    assert stats.period_end.isoformat() == "2026-12-01"

    def p(month: str, rid: str, name: str | None, code: str, channel: str, n: int) -> Any:
        return ProvisionCount(month, rid, name, code, _title(code), channel, n)

    assert list(stats.provisions) == [
        p("2025-12", ONKYU, ONKYU_NAME, "T1-16", "agency_api", 1),
        p("2026-06", FORMULA, FORMULA_NAME, "T1-16", "agency_api", 1),
        p("2026-06", KKR, None, "T1-42", "agency_api", 1),
        p("2026-06", ONKYU, ONKYU_NAME, "T1-999", "agency_api", 4),
        p("2026-10", ONKYU, ONKYU_NAME, "T1-16", "agency_api", 2),
        p("2026-11", ONKYU, ONKYU_NAME, "T1-16", "agency_api", 3),
        p("2026-11", ONKYU, ONKYU_NAME, "T1-16", "batch", 2),
    ]
    assert _title("T1-999") == "T1-999"  # unknown codes are shown as the code
    assert _title("T1-16").startswith("恩給法")
    assert stats.total_provisions == 14
    by_month = dict(stats.provisions_by_month())
    assert by_month["2026-10"] == 2  # 31 Oct 23:59:59.999999 JST
    assert by_month["2026-11"] == 5  # from 1 Nov 00:00:00 JST
    assert by_month["2026-01"] == 0  # empty months are listed too
    assert stats.provisions_by_recipient() == [
        (ONKYU, ONKYU_NAME, 12),
        (FORMULA, FORMULA_NAME, 1),
        (KKR, None, 1),
    ]
    assert stats.provisions_by_affair()[0] == ("T1-16", _title("T1-16"), 9)
    assert stats.provisions_by_channel() == [("agency_api", 12), ("batch", 2)]


def test_refusals_are_counted_apart_and_name_no_operator(stats: TransparencyStats) -> None:
    assert list(stats.refusals) == [
        RefusalCount("2026-09", "operator", None, None, None, "", "counter", 1),
        RefusalCount(
            "2026-11", "recipient", ONKYU, ONKYU_NAME, "T1-42", _title("T1-42"), "agency_api", 2
        ),
        RefusalCount(
            "2026-11",
            "recipient",
            ONKYU,
            ONKYU_NAME,
            INVALID_AFFAIR,
            affair_title(INVALID_AFFAIR),
            "agency_api",
            1,
        ),
    ]
    assert stats.total_refusals == 4
    assert dict(stats.refusals_by_month())["2026-11"] == 3


def test_batch_jobs_by_month_recipient_and_size(stats: TransparencyStats) -> None:
    assert list(stats.batch_jobs) == [
        BatchJobCount("2026-07", ONKYU, ONKYU_NAME, 2, 1_000_000, 900_000, 100_000),
        BatchJobCount("2026-10", KKR, None, 1, 10_000, 9_000, 1_000),
        BatchJobCount("2026-11", ONKYU, ONKYU_NAME, 3, 10_198, 9_180, 1_018),
    ]
    assert list(stats.batch_sizes) == [
        BatchSizeCount("2026-07", "1-99", 1, 0),
        BatchSizeCount("2026-07", "1000000+", 1, 1_000_000),
        BatchSizeCount("2026-10", "10000-999999", 1, 10_000),
        BatchSizeCount("2026-11", "1-99", 1, 99),
        BatchSizeCount("2026-11", "100-9999", 2, 10_099),
    ]
    assert [(b.key, jobs, rows) for b, jobs, rows in stats.batch_size_totals()] == [
        ("1-99", 2, 99),
        ("100-9999", 2, 10_099),
        ("10000-999999", 1, 10_000),
        ("1000000+", 1, 1_000_000),
    ]
    assert stats.total_batch_jobs == 6
    assert stats.total_batch_rows == 1_020_198


def test_counter_reads_are_a_count_per_month(stats: TransparencyStats) -> None:
    assert list(stats.counter_reads) == [
        CounterReadCount("2026-09", 2),
        CounterReadCount("2026-11", 3),
    ]


def test_no_personal_data_in_json_or_csv(stats: TransparencyStats) -> None:
    published = json.dumps(to_json(stats), ensure_ascii=False) + to_csv(stats)
    for secret in SECRETS:
        assert secret not in published, secret
    assert "prefecture:13" not in published  # node reads are not part of the report


def test_json_carries_the_same_figures(stats: TransparencyStats) -> None:
    data = to_json(stats)
    json.dumps(data)  # plain data only
    assert data["months"] == 12
    assert data["totals"]["provisions"] == 14
    assert data["totals"]["refusals"] == 4
    assert data["totals"]["counter_reads"] == 5
    assert [b["jobs"] for b in data["totals"]["batch_sizes"]] == [2, 2, 1, 1]
    assert data["totals"]["batch_sizes"][-1]["max_rows"] is None
    assert len(data["provisions"]) == len(stats.provisions)
    assert data["provisions"][-1] == {
        "month": "2026-11",
        "recipient_id": ONKYU,
        "recipient_name": ONKYU_NAME,
        "affair_code": "T1-16",
        "affair_title": _title("T1-16"),
        "channel": "batch",
        "count": 2,
    }
    assert data["refusals"][0]["recipient_id"] is None
    assert data["refusals"][0]["actor_kind"] == "operator"


def test_csv_is_one_long_table(stats: TransparencyStats) -> None:
    text = to_csv(stats)
    assert text.startswith(",".join(CSV_COLUMNS) + "\r\n")
    rows = list(csv.DictReader(io.StringIO(text)))
    sections = [r["section"] for r in rows]
    assert sections.count("provisions") == len(stats.provisions)
    assert sections.count("refusals") == len(stats.refusals)
    assert sections.count("batch_jobs") == len(stats.batch_jobs)
    assert sections.count("counter_reads") == 2
    assert sum(int(r["count"]) for r in rows if r["section"] == "provisions") == 14
    batch = next(r for r in rows if r["section"] == "batch_jobs" and r["month"] == "2026-11")
    assert (batch["recipient_id"], batch["count"], batch["rows"]) == (ONKYU, "3", "10198")
    found = next(r for r in rows if r["section"] == "batch_found_rows" and r["month"] == "2026-11")
    assert (found["count"], found["rows"]) == ("", "9180")
    big = next(r for r in rows if r["section"] == "batch_size_1000000+")
    assert (big["month"], big["count"], big["rows"]) == ("2026-07", "1", "1000000")
    refused_by_operator = next(r for r in rows if r["section"] == "refusals")
    assert refused_by_operator["recipient_id"] == ""
    # A registered name that looks like a formula is not evaluated by a spreadsheet.
    formula = next(r for r in rows if r["recipient_id"] == FORMULA)
    assert formula["recipient_name"] == "'" + FORMULA_NAME


def test_months_window_and_validation(node: ServiceContext) -> None:
    _seed(node)
    one = transparency_stats(node, months=1)
    assert one.month_labels == ("2026-11",)
    assert one.total_provisions == 5
    assert one.total_counter_reads == 3
    assert transparency_stats(node, months=120).month_labels[0] == "2016-12"
    for bad in (0, -1, 121):
        with pytest.raises(InvalidMonths):
            transparency_stats(node, months=bad)


def test_an_empty_node_reports_zeros(node: ServiceContext) -> None:
    stats = transparency_stats(node, months=3)
    assert stats.month_labels == ("2026-09", "2026-10", "2026-11")
    assert (stats.provisions, stats.refusals) == ((), ())
    assert (stats.batch_jobs, stats.batch_sizes, stats.counter_reads) == ((), (), ())
    assert stats.provisions_by_month() == [("2026-09", 0), ("2026-10", 0), ("2026-11", 0)]
    assert [jobs for _, jobs, _ in stats.batch_size_totals()] == [0, 0, 0, 0]
    assert to_csv(stats) == ",".join(CSV_COLUMNS) + "\r\n"


def test_many_entries_fold_into_one_row(node: ServiceContext) -> None:
    at = _utc(2026, 11, 1, 0)
    entries = [_entry(at + timedelta(seconds=i), Action.READ, subject=i) for i in range(500)]
    with node.uow() as uow:
        append_entries(uow.session, entries)
        uow.commit()
    stats = transparency_stats(node, months=1)
    assert [(p.month, p.recipient_id, p.count) for p in stats.provisions] == [
        ("2026-11", ONKYU, 500)
    ]
