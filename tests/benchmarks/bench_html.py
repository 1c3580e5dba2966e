"""The HTML report of 10,000 deployments in headless Chromium (Debian's chromium, as the browser tests use):
file size, load time (navigation to the page's script having rendered the first page of findings), the time a
filter change takes to show (two animation frames after the change), and a search (its 150 ms debounce
included, then subtracted). Goals: under 10 MB, under 3 s, under 100 ms (the median of five filter changes
over three page loads; the slowest is recorded too, and the machine's load average).

    python -m tests.benchmarks.bench_html [--deployments 10000] [--out FILE]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from playwright.sync_api import sync_playwright

from tests.benchmarks import machine, publish
from tests.benchmarks.html_timing import DEBOUNCE_MS, fleet_report, measure
from tests.browser.conftest import ARGS, CHROMIUM

RESULTS = Path(__file__).parent / "results"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deployments", type=int, default=10_000)
    parser.add_argument("--out", type=Path, default=RESULTS / "html-latest.json")
    args = parser.parse_args()
    report = fleet_report(args.deployments)
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            runs = [measure(browser, report, Path(tmp)) for _ in range(3)]
        finally:
            browser.close()
    best = min(runs, key=lambda t: t.load_seconds)
    every_filter = sorted(ms for t in runs for ms in t.filter_ms.values())
    slowest_filter = every_filter[-1]
    median_filter = statistics.median(every_filter)
    searches = [t.search_ms - DEBOUNCE_MS for t in runs]
    result = {
        "benchmark": "html",
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(),
        "load_average": os.getloadavg(),
        "deployments": args.deployments,
        "findings": len(report.findings),
        "bytes": best.bytes,
        "load_seconds": [t.load_seconds for t in runs],
        "script_ready_ms": [t.script_ready_ms for t in runs],
        "filter_ms": [t.filter_ms for t in runs],
        "slowest_filter_ms": slowest_filter,
        "median_filter_ms": median_filter,
        "median_search_ms_after_debounce": round(statistics.median(searches), 1),
        "search_ms_with_debounce": [t.search_ms for t in runs],
        "debounce_ms": DEBOUNCE_MS,
        "matches": best.matches,
        "goals": {"bytes": 10_000_000, "load_seconds": 3.0, "filter_ms": 100},
    }
    # judged on the median: on a shared machine a single change can wait for the scheduler (the slowest is kept)
    result["floors_hold"] = (
        best.bytes < 10_000_000
        and max(t.load_seconds for t in runs) < 3.0
        and median_filter < 100
        and statistics.median(searches) < 100
    )
    return publish(result, args.out)


if __name__ == "__main__":
    raise SystemExit(main())
