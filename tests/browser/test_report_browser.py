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

from auditor.gating.waivers import Waiver
from auditor.model.facts import ContractCall, QuotaUsage, SourceLocation
from auditor.pipeline.audit import audit, finish
from auditor.render.templates import render_html
from tests.conftest import TODAY, make_account, make_deployment, make_facts, run_demo

pytestmark = pytest.mark.browser
EVIL = "<img src=x onerror=alert(1)>"
ATTENTION = ("fail", "unknown", "waived")
PAGE = 50  # rows the report shows at a time


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
    """Data of the finding rows a person can see now (the current page of the table)."""
    return page.eval_on_selector_all(
        "#rows tr.finding",
        "rows => rows.filter(r => r.offsetParent !== null).map(r => Object.assign({text: r.innerText}, r.dataset))",
    )


def _matching(page: Page) -> int:
    """How many findings the filters match, as the page says ("N of M findings match")."""
    return int(page.inner_text("#f-count").split()[0])


def test_demo_report_offline_with_working_filters(page: Page, demo_report, output_dir: Path) -> None:
    html, data = demo_report
    page.goto(html.as_uri())
    page.wait_for_selector("body[data-ready]")
    assert page.title().startswith("Azure OpenAI deployment audit")
    findings = data["findings"]

    # the verdict first: the demo fails at the gate
    verdict = page.locator("#verdict")
    assert verdict.get_attribute("data-state") == "failed" and "Failed at the gate (error)" in verdict.inner_text()
    # the failing rules, each with the deployments and accounts it affects
    errors = {f["rule_id"] for f in findings if f["status"] == "fail" and f["severity"] == "error"}
    listed = page.eval_on_selector_all("#failing-rules tr[data-rule]", "rows => rows.map(r => r.dataset.rule)")
    assert errors <= set(listed) and listed[0] in errors, "error rules come first"
    # one row per account with its counts
    assert page.locator("#accounts tr[data-account]").count() == len(data["targets"])

    # by default: everything that needs attention, nothing that passed
    shown = _visible(page)
    attention = sum(f["status"] in ATTENTION for f in findings)
    assert len(shown) == min(attention, PAGE) and {r["status"] for r in shown} <= set(ATTENTION)
    assert page.inner_text("#f-count") == f"{attention} of {len(findings)} findings match"
    page.screenshot(
        path=str(output_dir / "report.png"), clip={"x": 0, "y": 0, "width": 1280, "height": 1750}, full_page=True
    )

    # the "errors" card is a filter: exactly the failing errors
    page.click("#cards button.card.error")
    shown = _visible(page)
    expected = [f for f in findings if f["status"] == "fail" and f["severity"] == "error"]
    assert _matching(page) == len(expected) > 0 == page.locator("#rows tr.finding[data-rule='AOAI-SEC-002']").count()
    assert len(shown) == min(len(expected), PAGE)
    assert {(r["severity"], r["status"]) for r in shown} == {("error", "fail")}
    assert any("gpt-41-failed" in r["text"] for r in shown)
    assert "active" in (page.get_attribute("#cards button.card.error", "class") or "")
    page.screenshot(path=str(output_dir / "report-filtered-errors.png"), full_page=True)

    # one account, any status, one category: passing checks are counted, not listed
    account = next(t for t in data["targets"] if t["name"] == "contoso-ai-swc")
    page.select_option("#f-severity", "")
    page.select_option("#f-status", "")
    page.select_option("#f-account", account["id"])
    page.select_option("#f-category", "security")
    shown = _visible(page)
    expected_n = sum(f["account_id"] == account["id"] and f["category"] == "security" for f in findings)
    assert sum(int(r.get("count", 1)) for r in shown) == expected_n == _matching(page)
    assert any(r["status"] == "pass" and int(r["count"]) > 1 for r in shown)
    assert {r["account"] for r in shown} == {account["id"]}

    # a failing rule's row filters the findings to that rule
    page.select_option("#f-account", "")
    page.select_option("#f-category", "")
    page.click("#failing-rules button[data-rule-filter='AOAI-DEPLOY-001']")
    assert {r["rule"] for r in _visible(page)} == {"AOAI-DEPLOY-001"}
    page.select_option("#f-rule", "")

    # text search (debounced), then only what is new since the baseline
    page.fill("#f-text", "legacy-35")
    page.wait_for_timeout(400)
    shown = _visible(page)
    assert shown and all("legacy-35" in r["text"] for r in shown)
    page.fill("#f-text", "")
    page.check("#f-new")
    page.wait_for_timeout(400)
    shown = _visible(page)
    assert [r["rule"] for r in shown] == ["AOAI-DEPLOY-001"] and "new" in shown[0]["text"]

    # the waived finding says who, why and until when
    page.uncheck("#f-new")
    page.select_option("#f-status", "waived")
    (waived,) = _visible(page)
    assert "qa-team" in waived["text"] and "load-test rig" in waived["text"] and "Waiver:" in waived["text"]

    # drill-down: a deployment's inventory, its findings and the checks that passed
    page.select_option("#f-status", "attention")
    page.locator("#rows button.link", has_text="gpt-41-failed").first.click()
    drill = page.locator("#drill")
    assert drill.is_visible() and "Deployment gpt-41-failed" in drill.inner_text()
    own = [f for f in findings if f["deployment"] == "gpt-41-failed" and f["status"] == "pass"]
    assert f"{len(own)} check(s) passed" in drill.inner_text()
    # each failing rule's page inline (the report stands alone): why, how to fix, how to waive, and the link
    from auditor.engine.rules import load_rules

    by_id = {r.id: r for r in load_rules()}
    failing = sorted({f["rule_id"] for f in findings if f["deployment"] == "gpt-41-failed" and f["status"] == "fail"})
    assert failing
    for rule_id in failing:
        section = drill.locator(f"section.rule-page[data-rule='{rule_id}']")
        text = " ".join(section.inner_text().split())
        rationale = by_id[rule_id].rationale
        assert rationale and " ".join(rationale.split())[:80] in text, rule_id
        assert "How to fix" in text and f"rule: {rule_id}" in text and 'target: "' in text
        assert section.locator("a").get_attribute("href") == by_id[rule_id].help_url
    page.screenshot(path=str(output_dir / "report-drill-down.png"))
    page.click("#drill-close")
    assert drill.is_hidden()

    # pictures: a bar per quota line, a marker per dated model version, a bar per failing category
    assert page.locator("#quota svg g.bar").count() == len(data["quota"]) > 0
    dated = {
        (r["model_name"], r["model_version"], r["retirement_date"]) for r in data["retirements"] if r["retirement_date"]
    }
    assert page.locator("#retirements svg circle").count() == len(dated) > 0
    assert page.locator("#categories svg g.cat").count() == len(data["summary"]["failed_by_category"])
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
    page.wait_for_selector("body[data-ready]")
    page.select_option("#f-status", "")
    assert page.locator("img").count() == 0
    heading = page.locator("#accounts button.link", has_text=EVIL)
    assert heading.count() == 1 and heading.is_visible()
    rows = [r for r in _visible(page) if EVIL in r["text"]]
    assert len(rows) >= 3, "the name shows, as text, in the findings"
    assert any(f"Waiver: waived by {EVIL}" in r["text"] for r in rows)
    assert EVIL in page.locator("#quota svg").text_content()
    page.wait_for_timeout(200)  # give an injected onerror handler every chance to run
    assert page.dialogs == [], "an alert ran: something was not escaped"
    assert page.errors == []
    page.screenshot(path=str(output_dir / "report-escaping.png"))
