"""The benchmarks' bulk loader fills the identity table on both databases, whatever columns
later migrations add (CI's smoke run once failed on PostgreSQL when MJ columns appeared)."""

from __future__ import annotations

from bench._provision import load_records, synthetic_records
from sqlalchemy import func, select

from jukinet.services.context import ServiceContext
from jukinet.storage.tables import IdentityRecordRow


def test_load_records_fills_the_identity_table(node: ServiceContext) -> None:
    expected = list(synthetic_records(40, seed=7))

    loaded = load_records(node.engine, iter(expected))

    assert loaded == 40
    with node.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(IdentityRecordRow)).scalar_one() == 40
        row = conn.execute(
            select(IdentityRecordRow).where(
                IdentityRecordRow.resident_code == expected[0]["resident_code"]
            )
        ).one()
    assert row.family_name == expected[0]["family_name"]
    # Columns the generator does not carry take their defaults.
    assert row.family_name_mj == ""


def test_load_records_accepts_no_rows(node: ServiceContext) -> None:
    assert load_records(node.engine, iter([])) == 0
