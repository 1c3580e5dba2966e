"""The HTML report in a real browser: offline, filters that work, pictures drawn, escaping that holds.

Screenshots land in test-output/ (a CI artifact); docs/report.png in the README is a copy of one.
"""

# mypy: disable-error-code="attr-defined,method-assign,assignment,call-overload"
# The fixture hangs what the page did (dialogs, requests, errors) on playwright's Page for the tests to read.

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from auditor.audit import audit, finish
from auditor.facts import ContractCall, QuotaUsage, SourceLocation
from auditor.render.templates import render_html
from auditor.waivers import Waiver
from tests.conftest import TODAY, make_account, make_deployment, make_facts, run_demo

pytestmark = pytest.mark.browser
EVIL = "<img src=x onerror=alert(1)>"
ATTENTION = ("fail", "unknown", "waived")


_demo = run_demo


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """The demo with a baseline (yesterday chat-prod ran an older version, DEPLOY-001 did not fail)
    and a waiver, so every part of the report has something to show."""
    root = tmp_path_factory.mktemp("browser-demo")
    assert _demo(root / "previous", "--format", "json") == 1
    previous = root / "previous" / "report.json"
    data = json.loads(previous.read_text())
    next(d for d in data["deployments"] if d["name"] == "chat-prod")["model_version"] = "2024-08-06"
    data["findings"] = [f for f in data["findings"] if f["rule_id"] != "AOAI-DEPLOY-001"]
    previous.write_text(json.dumps(data))
    waivers = root / "waivers.yaml"
    waivers.write_text(
        "waivers:\n  - rule: AOAI-SEC-001\n    target: fabrikam-aoai-wus\n    reason: keys used by the load-test rig\n"
        f"    owner: qa-team\n    expires: {date.today() + timedelta(days=20)}\n"
    )
    assert _demo(root / "now", "--baseline", str(previous), "--waivers", str(waivers), "--format", "html,json") == 1
    return root / "now" / "report.html", json.loads((root / "now" / "report.json").read_text())


@pytest.fixture()
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, java_script_enabled=True)
    page = context.new_page()
    page.dialogs = []
    page.requests = []
    page.errors = []
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    page.on("request", lambda r: page.requests.append(r.url))
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    yield page
    context.close()


def _visible(page: Page) -> list[dict[str, str]]:
    """Data of the finding rows a person can see now."""
    return page.eval_on_selector_all(
        "tr.finding",
        "rows => rows.filter(r => r.offsetParent !== null).map(r => Object.assign({text: r.innerText}, r.dataset))",
    )


def test_demo_report_offline_with_working_filters(page: Page, demo_report, output_dir: Path) -> None:
    html, data = demo_report
    page.goto(html.as_uri())
    assert page.title().startswith("Azure OpenAI deployment audit")
    findings = data["findings"]

    # by default: everything that needs attention, nothing that passed
    shown = _visible(page)
    assert len(shown) == sum(f["status"] in ATTENTION for f in findings)
    assert page.inner_text("#f-count") == f"{len(shown)} of {len(findings)} findings shown"
    page.screenshot(
        path=str(output_dir / "report.png"), clip={"x": 0, "y": 0, "width": 1280, "height": 1750}, full_page=True
    )

    # severity error + status fail: exactly the failing errors
    page.select_option("#f-severity", "error")
    page.select_option("#f-status", "fail")
    shown = _visible(page)
    expected = [f for f in findings if f["status"] == "fail" and f["severity"] == "error"]
    assert len(shown) == len(expected) > 0
    assert {(r["severity"], r["status"]) for r in shown} == {("error", "fail")}
    assert any("gpt-41-failed" in r["text"] for r in shown)
    assert page.locator("tr.finding[data-rule='AOAI-SEC-002']").first.is_hidden()
    page.screenshot(path=str(output_dir / "report-filtered-errors.png"), full_page=True)

    # one account, any status, one category
    account = next(t for t in data["targets"] if t["name"] == "contoso-ai-swc")
    page.select_option("#f-severity", "")
    page.select_option("#f-status", "")
    page.select_option("#f-account", account["id"])
    page.select_option("#f-category", "security")
    shown = _visible(page)
    # passing checks come as one collapsed row per deployment and category, carrying their count
    assert sum(int(r.get("count", 1)) for r in shown) == sum(
        f["account_id"] == account["id"] and f["category"] == "security" for f in findings
    )
    assert any(r["status"] == "pass" and int(r["count"]) > 1 for r in shown)
    assert {r["account"] for r in shown} == {account["id"]}
    visible_sections = page.eval_on_selector_all(
        "section.account", "s => s.filter(x => !x.hidden).map(x => x.dataset.account)"
    )
    assert visible_sections == [account["id"]]

    # text search, then only what is new since the baseline
    page.select_option("#f-account", "")
    page.select_option("#f-category", "")
    page.fill("#f-text", "legacy-35")
    shown = _visible(page)
    assert shown and all("legacy-35" in r["text"] for r in shown)
    page.fill("#f-text", "")
    page.check("#f-new")
    shown = _visible(page)
    assert [r["rule"] for r in shown] == ["AOAI-DEPLOY-001"] and "new" in shown[0]["text"]

    # the waived finding says who, why and until when
    page.uncheck("#f-new")
    page.select_option("#f-status", "waived")
    (waived,) = _visible(page)
    assert "qa-team" in waived["text"] and "load-test rig" in waived["text"]

    # pictures: a bar per quota line, a marker per dated model version, and the model-version change
    assert page.locator("#quota svg g.bar").count() == len(data["quota"]) > 0
    dated = {
        (r["model_name"], r["model_version"], r["retirement_date"]) for r in data["retirements"] if r["retirement_date"]
    }
    assert page.locator("#retirements svg circle").count() == len(dated) > 0
    assert "2024-08-06" in page.inner_text("#deployment-changes")

    assert page.dialogs == [] and page.errors == []
    assert all(url.startswith(("file:", "data:", "about:")) for url in page.requests), page.requests


def test_names_that_look_like_html_show_as_text_and_run_nothing(
    page: Page, rules, kb, tmp_path: Path, output_dir: Path
) -> None:
    usage = QuotaUsage("OpenAI.GlobalStandard.gpt-4o", EVIL, 95, 100)
    facts = make_facts(
        make_deployment(EVIL),
        make_deployment("ok"),
        account=make_account(name=EVIL, disable_local_auth=None),
        usages=(usage,),
        contract=(ContractCall(EVIL, "chat_completions", {"temperature": 0.7}, location=SourceLocation(EVIL, 2)),),
    )
    report = audit(facts, rules, kb, today=TODAY, now=datetime(2026, 11, 22, 8, tzinfo=timezone.utc))
    report = finish(
        report,
        today=TODAY,
        waivers=(
            Waiver(
                target="*",
                reason=EVIL,
                owner=EVIL,
                expires=TODAY + timedelta(days=1),
                file="w.yaml",
                line=1,
                rule="AOAI-SEC-001",
            ),
        ),
    )
    path = tmp_path / "evil.html"
    path.write_text(render_html(report))
    page.goto(path.as_uri())
    page.select_option("#f-status", "")
    assert page.locator("img").count() == 0
    heading = page.locator("section.account h2", has_text=EVIL)
    assert heading.count() == 1 and heading.is_visible()
    rows = [r for r in _visible(page) if EVIL in r["text"]]
    assert len(rows) >= 3, "the name shows, as text, in the findings"
    assert any(f"Waiver: waived by {EVIL}" in r["text"] for r in rows)
    assert EVIL in page.locator("#quota svg").text_content()
    page.wait_for_timeout(200)  # give an injected onerror handler every chance to run
    assert page.dialogs == [], "an alert ran: something was not escaped"
    assert page.errors == []
    page.screenshot(path=str(output_dir / "report-escaping.png"))
