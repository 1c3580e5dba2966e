"""The HTML report's content without a browser: incomplete accounts called out, pictures drawn from the
report's quota and retirement data, waiver reasons, safe links (the browser test covers behaviour)."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
from markupsafe import escape

from auditor.gating.waivers import Waiver
from auditor.model.facts import CollectionGap, QuotaUsage
from auditor.model.results import QuotaLine, RetirementRow
from auditor.pipeline.audit import audit, finish
from auditor.render.charts import quota_chart, retirement_timeline
from auditor.render.templates import render_html
from tests.conftest import ACCOUNT_ID, TODAY, make_account, make_deployment, make_facts

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=timezone.utc)


def page_data(html: str) -> dict[str, Any]:
    """The JSON document the page's script renders the findings from."""
    match = re.search(r'<script type="application/json" id="audit-data">(.*?)</script>', html, re.S)
    assert match, "the report embeds its data"
    data = dict(json.loads(match.group(1)))
    rows = [row + [None] * (13 - len(row)) for row in data["findings"]]  # trailing fields left out
    for row in rows:  # texts stored once are given by their index, names in them by markers
        for i in (5, 6):
            value = data["strings"][row[i]] if isinstance(row[i], int) else row[i]
            if isinstance(value, str) and row[2] >= 0:
                value = value.replace("\x02", data["accounts"][row[2]][1]).replace("\x01", row[3] or "")
            row[i] = value
    data["findings"] = rows
    return data


@pytest.fixture()
def report(rules, kb):
    usages = (
        QuotaUsage("OpenAI.GlobalStandard.gpt-4o", "TPM gpt-4o", 92, 100),
        QuotaUsage("OpenAI.GlobalStandard.o4-mini", "TPM o4-mini", 10, 1000),
    )
    facts = make_facts(
        make_deployment("chat"),
        make_deployment("reasoner", "o4-mini", "2025-04-16"),
        account=make_account(disable_local_auth=False),
        usages=usages,
    )
    return audit(facts, rules, kb, today=TODAY, now=NOW)


def test_incomplete_accounts_are_called_out_in_the_summary(rules, kb) -> None:
    facts = make_facts(make_deployment("chat"))
    facts = replace(facts, gaps=(CollectionGap(ACCOUNT_ID, "deployments: HTTP 503 ServiceUnavailable"),))
    html = render_html(audit(facts, rules, kb, today=TODAY, now=NOW))
    callout = re.search(r'<div class="incomplete" id="incomplete">(.*?)</div>', html, re.S)
    assert callout and "1 account(s) could not be read in full" in callout.group(1)
    assert "<strong>acct</strong>: deployments: HTTP 503 ServiceUnavailable" in callout.group(1)


def test_quota_bars_and_retirement_markers_come_from_the_report(report) -> None:
    html = render_html(report)
    assert [q.name for q in report.quota] == ["OpenAI.GlobalStandard.gpt-4o", "OpenAI.GlobalStandard.o4-mini"]
    assert html.count('<g class="bar">') == 2
    assert "92 / 100 (92%)" in html and 'class="high"' in html
    versions = {(r.model_name, r.model_version, r.retirement_date) for r in report.retirements if r.retirement_date}
    assert html.count('<g class="marker">') == len(versions) > 0
    assert "<script src" not in html and "<link" not in html


def test_chart_geometry() -> None:
    lines = [
        QuotaLine("s", "eastus2", "n1", "l1", 50, 100, 50.0),
        QuotaLine("s", "eastus2", "n2", "l2", 300, 100, 300.0),
    ]
    chart = quota_chart(lines)
    assert chart.bars[0].width == chart.plot_w / 2 and chart.bars[0].level == "low"
    assert chart.bars[1].width == chart.plot_w and chart.bars[1].level == "high", "over the limit is capped at the end"

    def row(name: str, days: int | None) -> RetirementRow:
        when = str(date(2026, 11, 22) + timedelta(days=days)) if days is not None else None
        return RetirementRow("a", "acct", name, "m", "v", "s", None, when, days, "kb", None)

    timeline = retirement_timeline(
        [row("old", -30), row("soon", 10), row("later", 200), row("never", None)], date(2026, 11, 22)
    )
    xs = {m.label: m.x for m in timeline.markers}
    assert xs["acct/old"] < timeline.today_x < xs["acct/soon"] < xs["acct/later"]
    assert [m.level for m in timeline.markers] == ["retired", "high", "low"]
    assert [r.deployment for r in timeline.undated] == ["never"]
    assert timeline.ticks and all(t.label.endswith(("-01", "-04", "-07", "-10")) for t in timeline.ticks)

    fleet = [row(f"d{i:02d}", 10) for i in range(12)] + [row("later", 200)]
    shared, alone = retirement_timeline(fleet, date(2026, 11, 22)).markers
    assert shared.label == "m v (12 deployments)" and alone.label == "acct/later"
    assert "acct/d00, acct/d01" in shared.title and "and 2 more" in shared.title and "acct/d11" not in shared.title


def test_waived_findings_show_who_why_and_until(report) -> None:
    waived = finish(
        report,
        today=TODAY,
        waivers=(
            Waiver(
                target="acct",
                reason="legacy batch job",
                owner="alice",
                expires=TODAY + timedelta(days=9),
                file="w.yaml",
                line=3,
                rule="AOAI-SEC-001",
            ),
        ),
    )
    data = page_data(render_html(waived))
    (row,) = [f for f in data["findings"] if f[0] == "waived"]
    assert row[6] == f"waived by alice until {TODAY + timedelta(days=9)}: legacy batch job (w.yaml:3)"
    assert row[10] == 1, "the page labels it a waiver"


def test_only_web_links_become_links(report) -> None:
    first = report.findings[0]
    evil = replace(report, findings=(replace(first, docs="javascript:alert(1)"), *report.findings[1:]))
    html = render_html(evil)
    assert 'href="javascript:' not in html


def test_readme_shows_the_browser_screenshot() -> None:
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    assert "](docs/report.png)" in (root / "README.md").read_text()
    assert (root / "docs" / "report.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_embedded_data_cannot_end_its_script_element() -> None:
    from auditor.render.html_data import script_json

    value = {"name": "</script><script>alert(1)</script><!-- & \u2028"}
    text = script_json(value)
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text) == value


def test_verdict_failing_rules_and_accounts_at_the_top(report) -> None:
    from auditor.gating.verdict import verdict
    from auditor.render.html_data import account_rows, failing_rules

    html = render_html(report)
    v = verdict(report)
    assert v.state == "failed" and 'data-state="failed"' in html and str(escape(v.headline)) in html
    assert html.index('id="verdict"') < html.index('id="failing-rules"') < html.index('id="findings"')
    rows = failing_rules(report)
    failing = [f for f in report.findings if f.status.value in ("fail", "unknown")]
    assert {r.rule_id for r in rows} == {f.rule_id for f in failing}
    for r in rows:
        mine = [f for f in failing if f.rule_id == r.rule_id]
        assert r.failing + r.unknown == len(mine)
        assert r.deployments == len({f.deployment for f in mine if f.deployment})
        assert r.accounts == len({f.account_id for f in mine if f.account_id})
    ranks = [{"error": 3, "warning": 2, "info": 1}[r.severity] for r in rows]
    assert ranks == sorted(ranks, reverse=True), "the severest rules first"
    (acct,) = account_rows(report)
    assert acct.error == sum(f.status.value == "fail" and f.severity.value == "error" for f in report.findings)
    assert f'data-rule-filter="{rows[0].rule_id}"' in html


def test_verdict_says_incomplete_and_passed_in_words(rules, kb) -> None:
    from auditor.gating.verdict import verdict

    clean = audit(make_facts(make_deployment("chat")), rules, kb, today=TODAY, now=NOW)
    assert verdict(clean, "never").state == "passed" and "no gate" in verdict(clean, "never").headline
    facts = replace(make_facts(make_deployment("chat")), gaps=(CollectionGap(ACCOUNT_ID, "deployments: HTTP 503"),))
    broken = audit(facts, rules, kb, today=TODAY, now=NOW)
    v = verdict(broken, "never")
    assert v.state == "incomplete" and v.headline == "Incomplete: 1 account could not be read in full"


def test_long_enumerations_are_capped(rules, kb) -> None:
    deployments = [make_deployment(f"d{i:03d}", "brand-new-model", "1") for i in range(40)]
    html = render_html(audit(make_facts(*deployments), rules, kb, today=TODAY, now=NOW))
    undated = re.search(r'<p class="muted" id="undated">(.*?)</p>', html, re.S)
    assert undated and "No retirement date known for 40 deployment(s)" in undated.group(1)
    assert "… and 30 more" in undated.group(1) and "d039" not in undated.group(1)


def test_quota_bar_names_at_most_ten_deployments() -> None:
    line = QuotaLine(
        "s", "eastus2", "n", "TPM", 50, 100, 50.0, ("gpt-4o GlobalStandard",), tuple(f"d{i}" for i in range(40))
    )
    (bar,) = quota_chart([line]).bars
    assert "d9 … and 30 more" in bar.title and "d10" not in bar.title


def test_texts_stored_once_come_back_exactly(rules, kb) -> None:
    """Messages with the deployment's and account's names as markers, shared across the fleet, are put back
    exactly, also when one name holds the other or a name is a model name."""
    deployments = [
        make_deployment(name, "gpt-35-turbo", "0125", sku="Standard") for name in ("acct-chat", "ab", "gpt-4o")
    ]
    deployments += [make_deployment(f"d{i}", "o4-mini", "2025-04-16") for i in range(5)]
    report = audit(make_facts(*deployments), rules, kb, today=TODAY, now=NOW)
    data = page_data(render_html(report))
    shown = sorted(row[5] for row in data["findings"])
    expected = sorted(f.message for f in report.findings if f.status.value != "pass")
    assert shown == expected
    assert any(
        isinstance(row[5], int)
        for row in json.loads(re.search(r'id="audit-data">(.*?)</script>', render_html(report), re.S).group(1))[
            "findings"
        ]
    ), "shared"
