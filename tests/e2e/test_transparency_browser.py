"""The finished transparency page in Debian's Chromium (issue 15, item 3): public, every chart an
SVG with its table and its CSV, the published tree heads; axe-core's WCAG 2.1 A/AA rules pass,
and a screenshot is kept under docs/screenshots/."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import CounterServer
from tests.e2e.test_agency_console_browser import SCREENSHOTS, axe_violations

pytestmark = pytest.mark.e2e


def test_transparency_page_charts_tables_and_csv(page: Any, counter_server: CounterServer) -> None:
    del counter_server
    page.goto("/transparency")
    page.get_by_test_id("table-heads").wait_for()
    assert page.locator("figure.chart-figure").count() == 9  # each with its table and CSV
    assert page.locator("figure.chart-figure a[download]").count() == 9
    assert axe_violations(page) == []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "transparency.png"), full_page=False)
    with page.expect_download() as download:
        page.get_by_test_id("csv-opt-outs").click()
    rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text("utf-8-sig"))))
    assert rows[0] == ["month", "opt_outs", "opt_ins"]
    assert len(rows) == 13  # twelve months
