"""The HTML report of a generated fleet in headless Chromium: its size, how long it takes to load, and how long
a filter change and a search take. Shared by the browser test at 1,000 deployments (behaviour) and the
benchmark at 10,000 (`python -m tests.benchmarks.bench_html`)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser

from auditor.engine.rules import load_rules
from auditor.knowledge.base import load_knowledge
from auditor.model.results import Report
from auditor.pipeline.audit import audit
from auditor.render import write_reports
from tests.benchmarks.bench_engine import fleet_facts

TODAY = date(2026, 11, 22)

# Change one filter and wait until the table shows the result (two animation frames: layout and paint).
FILTER = """async ([id, value]) => {
  const e = document.getElementById(id), t0 = performance.now();
  e.value = value; e.dispatchEvent(new Event("change"));
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  return performance.now() - t0;
}"""
# Type a search term and wait until the count changes (includes the 150 ms debounce).
SEARCH = """async (q) => {
  const e = document.getElementById("f-text"), c = document.getElementById("f-count"), before = c.textContent;
  const t0 = performance.now();
  e.value = q; e.dispatchEvent(new Event("input"));
  while (c.textContent === before) { await new Promise(r => setTimeout(r, 5)); }
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  return performance.now() - t0;
}"""
DEBOUNCE_MS = 150


def fleet_report(deployments: int) -> Report:
    facts = fleet_facts(deployments, accounts=max(20, deployments // 50))
    return audit(facts, load_rules(), load_knowledge(), today=TODAY, now=datetime(2026, 11, 22, tzinfo=timezone.utc))


@dataclass
class Timing:
    bytes: int
    load_seconds: float
    script_ready_ms: int
    filter_ms: dict[str, float]
    search_ms: float
    matches: dict[str, int]

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def measure(browser: Browser, report: Report, out: Path, screenshot: Path | None = None) -> Timing:
    (html,) = write_reports(report, out, ("html",))
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        started = time.perf_counter()
        page.goto(html.as_uri(), wait_until="load", timeout=120_000)
        page.wait_for_selector("body[data-ready]", timeout=120_000)
        load = time.perf_counter() - started
        ready_ms = int(page.get_attribute("body", "data-ready-ms") or 0)
        filters: dict[str, float] = {}
        matches: dict[str, int] = {}
        for name, (element, value) in {
            "severity=error": ("f-severity", "error"),
            "status=any": ("f-status", ""),
            "category=lifecycle": ("f-category", "lifecycle"),
            "status=pass": ("f-status", "pass"),
            "reset": ("f-category", ""),
        }.items():
            filters[name] = round(page.evaluate(FILTER, [element, value]), 1)
            matches[name] = int(page.inner_text("#f-count").split()[0])
        page.evaluate("""() => { for (const [id, v] of [["f-status", "attention"], ["f-severity", ""]]) {
            const e = document.getElementById(id); e.value = v; e.dispatchEvent(new Event("change")); } }""")
        search = round(page.evaluate(SEARCH, "dep-0001"), 1)
        matches["search dep-0001"] = int(page.inner_text("#f-count").split()[0])
        if screenshot is not None:
            page.screenshot(path=str(screenshot), full_page=False)
        assert not errors, errors
    finally:
        context.close()
    return Timing(html.stat().st_size, round(load, 3), ready_ms, filters, search, matches)
