"""Machine formats checked against the schemas their consumers use: JUnit against the Jenkins JUnit XSD,
SARIF against the OASIS SARIF 2.1.0 schema plus GitHub code scanning's upload rules, report.json against
the schema shipped with the package; Markdown escaping; stable output across runs; format selection."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import jsonschema
import pytest
import xmlschema

from auditor.cli import main
from auditor.gating.drift import Baseline
from auditor.gating.waivers import Waiver
from auditor.model.errors import InputError
from auditor.model.facts import ContractCall, QuotaUsage, SourceLocation
from auditor.model.results import Status
from auditor.pipeline.audit import audit, finish
from auditor.render import DEFAULT_FORMATS, FORMATS, parse_formats, write_reports
from auditor.render.json_report import render_json
from auditor.render.markdown import md, render_markdown
from auditor.render.sarif import render_sarif
from auditor.render.templates import render_junit
from auditor.util.resources import schema_path
from tests.conftest import ACCOUNT_ID, TODAY, make_account, make_deployment, make_facts, run_demo

SCHEMAS = Path(__file__).resolve().parent / "schemas"
NOW = datetime(2026, 11, 22, 8, 0, tzinfo=timezone.utc)
EVIL = "<img src=x onerror=alert(1)>"


demo = run_demo


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    assert demo(out) == 1
    return out


@pytest.fixture()
def rich_report(rules, kb):
    """Failures, passes, unknowns, a waived and an expired waiver, drift, quota and an evil name."""
    usage = QuotaUsage("OpenAI.GlobalStandard.gpt-4o", "Tokens Per Minute (thousands) - GPT-4o", 95, 100)
    facts = make_facts(
        make_deployment("chat"),
        make_deployment(EVIL, "o4-mini", "2025-04-16"),
        account=make_account(disable_local_auth=None),
        usages=(usage,),
        contract=(
            ContractCall(EVIL, "chat_completions", {"temperature": 0.7}, location=SourceLocation("c.yaml", 2)),
            ContractCall("missing", "chat_completions", {}, location=SourceLocation("c.yaml", 9)),
        ),
    )
    report = audit(facts, rules, kb, today=TODAY, now=NOW)
    waivers = (
        Waiver(
            target="acct",
            reason="tracked in JIRA-1",
            owner="sec-team",
            expires=TODAY + timedelta(days=30),
            file="waivers.yaml",
            line=2,
            rule="AOAI-SEC-001",
        ),
        Waiver(
            target="*",
            reason="old",
            owner="someone",
            expires=TODAY - timedelta(days=1),
            file="waivers.yaml",
            line=8,
            category="quota",
        ),
    )
    baseline = Baseline(
        path="b.json",
        generated_at="2026-11-21T08:00:00+00:00",
        tool_version="0.1.0",
        targets=({"id": ACCOUNT_ID, "name": "acct", "status": "complete"},),
        deployments=(),
        findings=(
            {
                "rule_id": "AOAI-X-1",
                "title": "t",
                "severity": "error",
                "status": "fail",
                "target": ACCOUNT_ID,
                "target_name": "acct",
                "message": "gone",
                "account_id": ACCOUNT_ID,
            },
        ),
    )
    return finish(report, waivers=waivers, baseline=baseline, today=TODAY)


# --- JUnit -----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def junit_xsd() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(SCHEMAS / "junit-10.xsd"))


def test_junit_validates_against_the_jenkins_xsd(rich_report, junit_xsd, demo_dir: Path) -> None:
    junit_xsd.validate(render_junit(rich_report))
    junit_xsd.validate((demo_dir / "junit.xml").read_text())


def test_junit_maps_statuses_to_failure_error_and_skipped(rich_report) -> None:
    import xml.etree.ElementTree as ET

    root = ET.fromstring(render_junit(rich_report).encode())
    cases = {c.get("name"): c for c in root.iter("testcase")}
    by_status = {s: [f for f in rich_report.findings if f.status is s] for s in Status}
    assert by_status[Status.WAIVED] and by_status[Status.UNKNOWN] and by_status[Status.FAIL]

    def case(f):
        return cases[f"[{f.severity.value.upper()}][{f.rule_id}] {f.title} :: {f.target_name}"]

    for f in by_status[Status.UNKNOWN]:
        error = case(f).find("error")
        assert error is not None and error.get("message") == f.reason
    for f in by_status[Status.WAIVED]:
        skipped = case(f).find("skipped")
        assert skipped is not None and "sec-team" in skipped.get("message") and "JIRA-1" in skipped.get("message")
    for f in by_status[Status.FAIL]:
        assert case(f).find("failure") is not None
    for f in by_status[Status.PASS]:
        assert list(case(f)) == []
    assert int(root.attrib["errors"]) == len(by_status[Status.UNKNOWN])


# --- SARIF -----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sarif_validator() -> jsonschema.protocols.Validator:
    schema = json.loads((SCHEMAS / "sarif-schema-2.1.0.json").read_text())
    validator = jsonschema.validators.validator_for(schema)  # the schema says draft-04
    return validator(schema, format_checker=jsonschema.FormatChecker())


def _github_rules(log: dict) -> None:
    """What code scanning's upload checks beyond the schema (docs: SARIF support, upload limits)."""
    assert log["version"] == "2.1.0" and len(log["runs"]) <= 20
    for run in log["runs"]:
        rules = run["tool"]["driver"]["rules"]
        assert len(rules) <= 25_000 and len({r["id"] for r in rules}) == len(rules)
        for rule in rules:
            assert {"id", "name", "shortDescription", "fullDescription", "defaultConfiguration"} <= set(rule)
            assert rule["defaultConfiguration"]["level"] in ("error", "warning", "note")
            assert len(rule.get("properties", {}).get("tags", [])) <= 20
        assert len(run["results"]) <= 5_000
        ids = {r["id"] for r in rules}
        for result in run["results"]:
            assert result["ruleId"] in ids and rules[result["ruleIndex"]]["id"] == result["ruleId"]
            assert result["message"]["text"]
            assert 1 <= len(result["locations"]) <= 10
            for location in result["locations"]:
                assert location["physicalLocation"]["artifactLocation"]["uri"], "GitHub rejects logical-only locations"
            assert result["partialFingerprints"]


def test_sarif_validates_and_meets_github_upload_rules(rich_report, sarif_validator, demo_dir: Path) -> None:
    for text in (render_sarif(rich_report, Path.cwd()), (demo_dir / "report.sarif").read_text()):
        log = json.loads(text)
        errors = sorted(sarif_validator.iter_errors(log), key=str)
        assert not errors, errors[0]
        _github_rules(log)
    log["runs"][0]["results"][0]["level"] = "fatal"
    assert not sarif_validator.is_valid(log), "the schema must be able to fail"


def test_sarif_points_file_findings_at_file_and_line_and_others_at_the_arm_id(rich_report, tmp_path: Path) -> None:
    log = json.loads(render_sarif(rich_report, tmp_path))
    results = log["runs"][0]["results"]
    from_contract = [r for r in results if r["ruleId"] == "AOAI-DEPLOY-004"]
    assert from_contract, "the missing deployment of the contract is a result"
    phys = from_contract[0]["locations"][0]["physicalLocation"]
    assert phys["artifactLocation"] == {"uri": "c.yaml", "uriBaseId": "SRCROOT"} and phys["region"]["startLine"] == 9
    account = [r for r in results if r["ruleId"] == "AOAI-SEC-001"]  # waived, still a result
    assert account
    location = account[0]["locations"][0]
    assert location["logicalLocations"][0]["fullyQualifiedName"] == ACCOUNT_ID
    assert location["physicalLocation"]["artifactLocation"]["uriBaseId"] == "AZURE_RESOURCE"
    assert location["physicalLocation"]["artifactLocation"]["uri"] == ACCOUNT_ID.lstrip("/")
    # an absolute path under the root becomes relative; one outside stays a file URI
    assert log["runs"][0]["originalUriBaseIds"]["SRCROOT"]["uri"] == tmp_path.as_uri() + "/"


def test_sarif_levels_kinds_suppressions_and_baseline_state(rich_report) -> None:
    log = json.loads(render_sarif(rich_report, Path.cwd()))
    results = log["runs"][0]["results"]
    levels = {r["level"] for r in results if r["kind"] == "fail"}
    assert levels <= {"error", "warning", "note"} and "error" in levels
    assert all(r["level"] == "none" for r in results if r["kind"] == "open")
    suppressed = [r for r in results if r.get("suppressions")]
    assert suppressed and suppressed[0]["suppressions"][0]["status"] == "accepted"
    assert "sec-team" in suppressed[0]["suppressions"][0]["justification"]
    assert {r["baselineState"] for r in results} == {"new"}
    fingerprints = [r["partialFingerprints"]["aoaiFindingKey/v2"] for r in results]
    assert len(set(fingerprints)) == len(fingerprints), "fingerprints must tell results apart"
    assert not [r for r in results if r["properties"]["status"] == "pass"]


def test_sarif_file_uri_relative_to_the_working_directory(demo_dir: Path) -> None:
    log = json.loads((demo_dir / "report.sarif").read_text())
    contract = [
        r
        for r in log["runs"][0]["results"]
        if "contract.yaml" in r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    ]
    assert contract
    uri = contract[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    # the demo contract lives inside the package: relative when the package is under the cwd
    package = Path(__file__).resolve().parents[1] / "auditor"
    if package.is_relative_to(Path.cwd()):
        assert uri == (package / "demo" / "contract.yaml").relative_to(Path.cwd()).as_posix()
    else:
        assert uri.startswith("file:///")


# --- JSON ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def report_validator() -> jsonschema.protocols.Validator:
    schema = json.loads(schema_path("report.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def test_every_report_validates_against_the_shipped_schema(rich_report, report_validator, demo_dir, rules, kb) -> None:
    plain = audit(make_facts(make_deployment("chat")), rules, kb, today=TODAY, now=NOW)
    probed = replace(plain, probe_summary={"calls": 3, "tokens": 120})
    for data in (
        json.loads(render_json(rich_report)),
        json.loads(render_json(plain)),
        json.loads(render_json(probed)),
        json.loads((demo_dir / "report.json").read_text()),
    ):
        errors = list(report_validator.iter_errors(data))
        assert not errors, errors[0]


def test_the_schema_catches_a_wrong_report(report_validator, demo_dir) -> None:
    data = json.loads((demo_dir / "report.json").read_text())
    data["findings"][0]["status"] = "passed"
    assert not report_validator.is_valid(data)
    del data["findings"][0]["status"]
    assert not report_validator.is_valid(data)


def test_json_carries_quota_retirements_rules_waivers_and_drift(rich_report) -> None:
    data = json.loads(render_json(rich_report))
    assert data["quota"] == [
        {
            "subscription_id": make_account().subscription_id,
            "location": "eastus2",
            "name": "OpenAI.GlobalStandard.gpt-4o",
            "label": "Tokens Per Minute (thousands) - GPT-4o",
            "current": 95.0,
            "limit": 100.0,
            "percent": 95.0,
            "models": ["gpt-4o GlobalStandard"],
            "deployments": ["chat"],
        }
    ]
    assert {r["deployment"] for r in data["retirements"]} == {"chat", EVIL}
    assert "AOAI-API-001" in {r["id"] for r in data["rules"]} and "AOAI-WAIVER-001" in {r["id"] for r in data["rules"]}
    waived = [f for f in data["findings"] if f["status"] == "waived"]
    assert waived and waived[0]["waiver"]["owner"] == "sec-team"
    assert data["drift"]["resolved"][0]["rule_id"] == "AOAI-X-1"
    assert data["summary"]["drift"]["resolved"] == 1


def test_two_demo_runs_give_identical_files_but_for_timestamps(demo_dir: Path, tmp_path: Path) -> None:
    assert demo(tmp_path) == 1

    def normalized(path: Path) -> str:
        text = path.read_text()
        if path.suffix == ".json":
            data = json.loads(text)
            data.pop("generated_at")
            return json.dumps(data, indent=1)
        text = re.sub(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?(\+00:00|Z| UTC)?", "<time>", text)
        return text

    for name in ("report.json", "junit.xml", "report.sarif", "summary.md", "report.html"):
        assert normalized(demo_dir / name) == normalized(tmp_path / name), f"{name} differs between runs"


# --- Markdown ---------------------------------------------------------------------------------------------


def test_markdown_summary_is_a_short_escaped_table(rich_report) -> None:
    text = render_markdown(rich_report)
    assert text.startswith("## Azure OpenAI deployment audit: ❌ failing")
    assert "| errors | warnings | info | unknown | waived | passed |" in text
    assert EVIL not in text and "&lt;img src=x onerror=alert\\(1\\)&gt;" not in text
    assert "&lt;img src=x onerror=alert(1)&gt;" in text
    assert "🆕" in text and "Since the baseline: **" in text
    assert "1 finding(s) waived" in text
    findings_table = [line for line in text.splitlines() if line.startswith("| ") and line.count(" | ") == 5]
    assert len(findings_table) <= 2 + 25, "a PR comment stays short"


@pytest.mark.parametrize(
    "raw,escaped",
    [
        ("a|b", "a\\|b"),
        ("x\ny", "x y"),
        ("`code`", "\\`code\\`"),
        ("<b>&", "&lt;b&gt;&amp;"),
        ("[link](u)", "\\[link\\](u)"),
    ],
)
def test_markdown_cells_are_escaped(raw: str, escaped: str) -> None:
    assert md(raw) == escaped


def test_step_summary_is_appended_in_github_actions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    summary = tmp_path / "step-summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    assert main(["--demo", "--out", str(tmp_path / "out"), "--quiet", "--format", "json"]) == 1
    text = summary.read_text()
    assert text.startswith("earlier step\n## Azure OpenAI deployment audit")
    assert not (tmp_path / "out" / "summary.md").exists(), "the step summary does not depend on --format"


# --- format selection --------------------------------------------------------------------------------------


def test_default_formats_are_the_five_reports(demo_dir: Path) -> None:
    assert parse_formats(DEFAULT_FORMATS) == ("html", "junit", "json", "sarif", "markdown")
    assert parse_formats("all") == tuple(FORMATS) == (*parse_formats(DEFAULT_FORMATS), "ics")  # and the calendar
    assert {p.name for p in demo_dir.iterdir()} == {
        "report.html",
        "junit.xml",
        "report.json",
        "report.sarif",
        "summary.md",
    }


def test_format_list_and_unknown_format(tmp_path: Path, rich_report) -> None:
    assert parse_formats(" SARIF , markdown,sarif") == ("sarif", "markdown")
    with pytest.raises(InputError, match="unknown --format value 'xml'"):
        parse_formats("sarif,xml")
    paths = write_reports(rich_report, tmp_path, ("sarif", "markdown"), root=tmp_path)
    assert [p.name for p in paths] == ["report.sarif", "summary.md"]
