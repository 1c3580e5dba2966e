"""Reports: JSON shape and stability, JUnit structure, HTML escaping and self-containment."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from pathlib import Path

import pytest

from auditor.audit import audit
from auditor.errors import InputError
from auditor.facts import ContractCall, SourceLocation
from auditor.render import parse_formats, write_reports
from auditor.render.json_report import render_json
from auditor.render.templates import render_html, render_junit
from tests.conftest import TODAY, make_account, make_deployment, make_facts

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=timezone.utc)
EVIL = "<img src=x onerror=alert(1)>"


@pytest.fixture()
def report(rules, kb):
    facts = make_facts(
        make_deployment("chat"),
        make_deployment(EVIL, "o4-mini", "2025-04-16"),
        account=make_account(disable_local_auth=None),
        contract=(ContractCall(EVIL, "chat_completions", {"temperature": 0.7}, location=SourceLocation("c.yaml", 2)),),
    )
    return audit(facts, rules, kb, today=TODAY, now=NOW)


def test_json_report_has_the_documented_fields(report) -> None:
    data = json.loads(render_json(report))
    assert {"schema_version", "generated_at", "tool_version", "targets", "deployments", "findings", "summary"} <= set(data)
    assert data["targets"][0]["status"] == "complete"
    assert {"id", "name", "location", "status"} <= set(data["targets"][0])
    assert {"account_id", "name", "model_name", "model_version", "model_format", "sku_name", "sku_capacity"} <= set(data["deployments"][0])
    finding = data["findings"][0]
    assert {"rule_id", "category", "severity", "status", "target", "message", "remediation"} <= set(finding)
    statuses = {f["status"] for f in data["findings"]}
    assert {"pass", "fail"} <= statuses
    assert data["summary"]["by_status"]["fail"] == sum(f["status"] == "fail" for f in data["findings"])


def test_json_report_is_stable(report, rules, kb) -> None:
    again = audit(make_facts(make_deployment("chat"), make_deployment(EVIL, "o4-mini", "2025-04-16"),
                             account=make_account(disable_local_auth=None),
                             contract=(ContractCall(EVIL, "chat_completions", {"temperature": 0.7}, location=SourceLocation("c.yaml", 2)),)),
                  rules, kb, today=TODAY, now=NOW)
    assert render_json(report) == render_json(again)


def test_junit_is_well_formed_with_a_suite_per_account(report) -> None:
    root = ET.fromstring(render_junit(report).encode())
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert "acct" in [s.get("name") for s in suites]
    cases = root.iter("testcase")
    failures = [c for c in root.iter("testcase") if c.find("failure") is not None]
    assert failures and int(root.get("failures")) == len(failures)
    assert sum(int(s.get("tests")) for s in suites) == len(list(cases))
    assert any(EVIL in (c.get("name") or "") for c in failures)  # escaped in XML, intact once parsed


def test_html_escapes_everything_it_shows(report) -> None:
    html = render_html(report)
    assert EVIL not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_html_loads_nothing_from_the_network(report) -> None:
    html = render_html(report)
    assert not re.search(r"""<(script|link|img)[^>]+(src|href)=["']?https?:""", html)
    assert "default-src 'none'" in html


def test_unknown_format_is_a_usage_error() -> None:
    with pytest.raises(InputError, match="unknown --format value 'pdf'"):
        parse_formats("html,pdf")


def test_write_reports_writes_the_chosen_formats(report, tmp_path: Path) -> None:
    paths = write_reports(report, tmp_path / "out", ("json", "junit"))
    assert sorted(p.name for p in paths) == ["junit.xml", "report.json"]
    assert not (tmp_path / "out" / "report.html").exists()
