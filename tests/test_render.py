"""Reports: JSON shape and stability, JUnit structure, HTML escaping and self-containment."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import pytest

from auditor.model.errors import InputError
from auditor.model.facts import ContractCall, SourceLocation
from auditor.pipeline.audit import audit
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
    assert {"schema_version", "generated_at", "tool_version", "targets", "deployments", "findings", "summary"} <= set(
        data
    )
    assert data["targets"][0]["status"] == "complete"
    assert {"id", "name", "location", "status"} <= set(data["targets"][0])
    assert {"account_id", "name", "model_name", "model_version", "model_format", "sku_name", "sku_capacity"} <= set(
        data["deployments"][0]
    )
    finding = data["findings"][0]
    assert {"rule_id", "category", "severity", "status", "target", "message", "remediation"} <= set(finding)
    statuses = {f["status"] for f in data["findings"]}
    assert {"pass", "fail"} <= statuses
    assert data["summary"]["by_status"]["fail"] == sum(f["status"] == "fail" for f in data["findings"])


def test_json_report_is_stable(report, rules, kb) -> None:
    again = audit(
        make_facts(
            make_deployment("chat"),
            make_deployment(EVIL, "o4-mini", "2025-04-16"),
            account=make_account(disable_local_auth=None),
            contract=(
                ContractCall(EVIL, "chat_completions", {"temperature": 0.7}, location=SourceLocation("c.yaml", 2)),
            ),
        ),
        rules,
        kb,
        today=TODAY,
        now=NOW,
    )
    assert render_json(report) == render_json(again)


def test_junit_is_well_formed_with_a_suite_per_account(report) -> None:
    root = ET.fromstring(render_junit(report).encode())
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert "acct" in [s.get("name") for s in suites]
    cases = root.iter("testcase")
    failures = [c for c in root.iter("testcase") if c.find("failure") is not None]
    assert failures and int(root.attrib["failures"]) == len(failures)
    assert sum(int(s.attrib["tests"]) for s in suites) == len(list(cases))
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


def test_json_written_in_slices_is_the_one_indented_dump(report, monkeypatch) -> None:
    """Long arrays are streamed slice by slice; the bytes must be what one orjson dump gives."""
    import orjson

    from auditor.render import json_report

    whole = (
        orjson.dumps(
            json_report.report_document(report),
            default=json_report._default,
            option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS,
        )
        + b"\n"
    )
    monkeypatch.setattr(json_report, "SLICE", 3)  # every array longer than 3 goes through the slicing path
    assert len(report.findings) > 2 * 3 and len(report.deployments) <= 3
    assert render_json(report).encode() == whole
    data = json.loads(whole)
    assert [f["key"] for f in data["findings"]] == [f.key for f in report.findings]


def test_a_failing_format_leaves_earlier_files_and_no_partial_ones(report, tmp_path: Path, monkeypatch) -> None:
    from auditor import render

    out = tmp_path / "out"
    write_reports(report, out, ("json",))
    before = (out / "report.json").read_bytes()

    def broken(report, stream, options) -> None:
        stream.write(b"<half")
        raise RuntimeError("renderer failed")

    monkeypatch.setitem(render.FORMATS, "junit", render.OutputFormat("junit", "junit.xml", broken))
    later = replace(report, generated_at=NOW.replace(hour=9))
    with pytest.raises(RuntimeError):
        write_reports(later, out, ("json", "junit"))
    assert (out / "report.json").read_bytes() == before, "a failed set must not replace the files of the last one"
    assert sorted(p.name for p in out.iterdir()) == ["report.json"]


def test_collector_state_is_restored_after_a_pause() -> None:
    import gc

    from auditor.util.gcpause import paused_gc

    assert gc.isenabled()
    with pytest.raises(ValueError), paused_gc():
        assert not gc.isenabled()
        raise ValueError
    assert gc.isenabled()
    gc.disable()
    try:
        with paused_gc():
            pass
        assert not gc.isenabled(), "a caller's own pause is left as it was"
    finally:
        gc.enable()


def test_a_format_registered_in_the_table_is_parsed_and_written(report, tmp_path: Path, monkeypatch) -> None:
    """Formats are data: one OutputFormat in FORMATS, no special case in write_reports."""
    from auditor import render

    seen: list[Path] = []

    def write_ids(report, out, options) -> None:
        seen.append(options.root)
        out.write("\n".join(f.rule_id for f in report.findings).encode())

    monkeypatch.setitem(render.FORMATS, "ids", render.OutputFormat("ids", "ids.txt", write_ids))
    assert parse_formats("json,ids") == ("json", "ids")
    paths = write_reports(report, tmp_path, parse_formats("ids"), root=tmp_path / "src")
    assert [p.name for p in paths] == ["ids.txt"] and seen == [tmp_path / "src"]
    assert paths[0].read_text().splitlines() == [f.rule_id for f in report.findings]
