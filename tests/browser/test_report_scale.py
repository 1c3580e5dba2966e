"""The HTML report at 1,000 deployments in a real browser: it loads, filters and searches with the right
counts, and stays small (the 10,000-deployment figures come from `python -m tests.benchmarks.bench_html`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser

from auditor.model.results import Status
from tests.benchmarks.html_timing import fleet_report, measure

pytestmark = pytest.mark.browser


def test_a_thousand_deployments_load_filter_and_search(browser: Browser, tmp_path: Path, output_dir: Path) -> None:
    report = fleet_report(1000)
    timing = measure(browser, report, tmp_path, screenshot=output_dir / "report-1k.png")
    print(f"1,000 deployments: {timing.as_dict()}")  # the figures, for the log; the benchmark judges them
    not_passed = [f for f in report.findings if f.status is not Status.PASS]
    attention = [f for f in not_passed if f.status in (Status.FAIL, Status.UNKNOWN, Status.WAIVED)]
    assert timing.matches["severity=error"] == sum(f.severity.value == "error" for f in attention) > 0
    assert timing.matches["status=any"] == sum(f.severity.value == "error" for f in not_passed)
    lifecycle = [f for f in not_passed if f.severity.value == "error" and f.category == "lifecycle"]
    assert timing.matches["category=lifecycle"] == len(lifecycle) > 0
    assert timing.matches["status=pass"] == timing.matches["reset"] == 0, "passes have no severity"
    searched = [f for f in attention if "dep-0001" in f.target_name or "dep-0001" in f.message]
    assert timing.matches["search dep-0001"] >= len(searched) > 0
    assert timing.bytes < 2_000_000, "passing checks counted, findings stored once as JSON"


def test_a_report_merged_from_compact_shards_counts_its_passes(browser: Browser, tmp_path: Path) -> None:
    from dataclasses import replace

    from auditor.gating.merge import merge_reports
    from auditor.render import write_reports

    report = fleet_report(1000)
    (path,) = write_reports(replace(report, passes="summary"), tmp_path / "shard", ("json",))
    merged = merge_reports([path])
    assert merged.pass_counts and merged.summary().by_status[Status.PASS] == report.summary().by_status[Status.PASS]
    (html,) = write_reports(merged, tmp_path / "merged", ("html",))
    page = browser.new_page()
    try:
        page.goto(html.as_uri())
        page.wait_for_selector("body[data-ready]")
        page.select_option("#f-status", "pass")
        assert int(page.inner_text("#f-count").split()[0]) == report.summary().by_status[Status.PASS]
        page.locator("#rows button.link", has_text="(its deployments, counted)").first.click()
        assert "check(s) passed" in page.inner_text("#drill") and "target(s)" in page.inner_text("#drill")
    finally:
        page.close()
