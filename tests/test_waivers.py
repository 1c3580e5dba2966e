"""Waivers: a waived finding stays visible as waived; an expired waiver fails again and fails itself;
an unused waiver is reported; bad waiver files are exit 2 naming file and line."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from auditor.gating.verdict import gate
from auditor.gating.waivers import apply_waivers, load_waivers
from auditor.model.errors import InputError
from auditor.model.results import Status
from auditor.pipeline.audit import audit
from tests.conftest import TODAY, make_account, make_deployment, make_facts, run_demo


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "waivers.yaml"
    path.write_text(text)
    return path


@pytest.fixture()
def report(rules, kb):
    """An account with key auth on (AOAI-SEC-001 fails, a warning) and a failed deployment (an error)."""
    facts = make_facts(
        make_deployment("chat"),
        make_deployment("broken", provisioning_state="Failed"),
        account=make_account(disable_local_auth=False),
    )
    return audit(facts, rules, kb, today=TODAY)


def _one(report, rule_id: str, target_name: str):
    (finding,) = [f for f in report.findings if f.rule_id == rule_id and f.target_name == target_name]
    return finding


def test_active_waiver_marks_the_finding_waived_with_who_why_and_until(report, rules, tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        f"""\
waivers:
  - rule: AOAI-DEPLOY-001
    target: "acct/brok*"
    reason: rebuilt in change CHG-42
    owner: platform-team@contoso.com
    expires: {TODAY + timedelta(days=14)}
""",
    )
    waived = apply_waivers(report, load_waivers(path, {r.id: r.category for r in rules}), TODAY)
    finding = _one(waived, "AOAI-DEPLOY-001", "acct/broken")
    assert finding.status is Status.WAIVED
    assert finding.reason == (
        f"waived by platform-team@contoso.com until {TODAY + timedelta(days=14)}: rebuilt in change CHG-42 ({path}:2)"
    )
    assert finding.waiver is not None and finding.waiver.owner == "platform-team@contoso.com"
    assert len(waived.findings) == len(report.findings), "waived, not hidden; nothing else added"

    def errors(r):
        return sum(1 for f in r.findings if f.status is Status.FAIL and f.severity.value == "error")

    assert errors(waived) == errors(report) - 1, "a waived finding no longer counts at the gate"


def test_waiver_that_expired_yesterday_fails_again_and_fails_itself(report, rules, tmp_path: Path) -> None:
    yesterday = TODAY - timedelta(days=1)
    path = _write(
        tmp_path,
        f"""\
waivers:
  - rule: AOAI-DEPLOY-001
    target: acct/broken
    reason: rebuilt in change CHG-42
    owner: platform-team@contoso.com
    expires: {yesterday}
""",
    )
    result = apply_waivers(report, load_waivers(path, {r.id: r.category for r in rules}), TODAY)
    assert _one(result, "AOAI-DEPLOY-001", "acct/broken").status is Status.FAIL
    expired = [f for f in result.findings if f.rule_id == "AOAI-WAIVER-001"]
    assert len(expired) == 1
    (e,) = expired
    assert e.status is Status.FAIL and e.severity.value == "error" and e.category == "deployment"
    assert f"expired on {yesterday}" in e.message and "platform-team@contoso.com" in e.message
    assert e.location is not None and (e.location.file, e.location.line) == (str(path), 2)
    assert "AOAI-WAIVER-001" in {r.id for r in result.rules}
    assert gate(result, "error") == 1


def test_a_waiver_is_good_through_its_expiry_day(report, tmp_path: Path) -> None:
    path = _write(
        tmp_path, f"waivers:\n  - {{rule: AOAI-DEPLOY-001, target: '*', reason: r, owner: o, expires: {TODAY}}}\n"
    )
    result = apply_waivers(report, load_waivers(path), TODAY)
    assert _one(result, "AOAI-DEPLOY-001", "acct/broken").status is Status.WAIVED


def test_category_waiver_matches_on_arm_id_and_unused_waiver_is_reported(report, tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        f"""\
waivers:
  - category: security
    target: "/subscriptions/*/accounts/ACCT"
    reason: keys needed by the legacy batch job
    owner: alice
    expires: {TODAY + timedelta(days=60)}
  - rule: AOAI-LIFE-001
    target: "nothing-like-this/*"
    reason: typo in the pattern
    owner: bob
    expires: {TODAY + timedelta(days=60)}
""",
    )
    result = apply_waivers(report, load_waivers(path), TODAY)
    assert _one(result, "AOAI-SEC-001", "acct").status is Status.WAIVED
    (unused,) = [f for f in result.findings if f.rule_id == "AOAI-WAIVER-002"]
    assert unused.severity.value == "info" and unused.category == "lifecycle" and unused.location.line == 7
    assert "matches no failing or unknown finding" in unused.message
    passing = [f for f in result.findings if f.status is Status.PASS and f.category == "security"]
    assert passing, "passing findings are never turned into waived ones"


@pytest.mark.parametrize(
    "text,where,words",
    [
        (
            "waivers:\n  - rule: AOAI-NOPE-001\n    target: x\n    reason: r\n    owner: o\n    expires: 2027-01-01\n",
            2,
            "unknown rule id 'AOAI-NOPE-001'",
        ),
        (
            "waivers:\n  - category: safety\n    target: x\n    reason: r\n    owner: o\n    expires: 2027-01-01\n",
            2,
            "unknown category 'safety'",
        ),
        (
            "waivers:\n  - rule: AOAI-API-001\n    target: x\n    reason: r\n    owner: o\n    expires: next week\n",
            6,
            "expires must be a date",
        ),
        (
            "waivers:\n  - rule: AOAI-API-001\n    target: x\n    reason: r\n    expires: 2027-01-01\n",
            2,
            "waiver needs owner",
        ),
        (
            "waivers:\n  - rule: AOAI-API-001\n    category: quota\n    target: x\n    reason: r\n    owner: o\n    expires: 2027-01-01\n",
            2,
            "exactly one of rule or category",
        ),
        (
            "waivers:\n  - rule: AOAI-API-001\n    target: x\n    reason: r\n    owner: o\n    expires: 2027-01-01\n    expiry: 2027-02-01\n",
            7,
            "unknown waiver field 'expiry'",
        ),
        ("waivers:\n  - rule: [unclosed\n", 3, "invalid YAML"),
        ("- just a list\n", 1, "a waivers file is a mapping"),
    ],
)
def test_bad_waiver_files_name_file_and_line(tmp_path: Path, rules, text: str, where: int, words: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(InputError) as caught:
        load_waivers(path, {r.id: r.category for r in rules})
    assert str(caught.value).startswith(f"{path}:{where}:") and words in str(caught.value), str(caught.value)


def _demo(out: Path, *args: str) -> int:
    return run_demo(out, "--format", "json,junit", *args)


def test_cli_expired_waiver_makes_the_gate_fail_again(tmp_path: Path) -> None:
    """Through the CLI: waive the demo's only errors except one, which was waived until yesterday."""
    today = date.today()
    path = _write(
        tmp_path,
        f"""\
waivers:
  - rule: AOAI-DEPLOY-001
    target: contoso-ai-swc/gpt-41-failed
    reason: being redeployed
    owner: platform-team
    expires: {today - timedelta(days=1)}
  - category: lifecycle
    target: "*"
    reason: upgrades scheduled
    owner: platform-team
    expires: {today + timedelta(days=30)}
""",
    )
    assert _demo(tmp_path / "out", "--waivers", str(path)) == 1
    data = json.loads((tmp_path / "out" / "report.json").read_text())
    by_rule: dict[str, Any] = {}
    for f in data["findings"]:
        by_rule.setdefault(f["rule_id"], []).append(f)
    assert [f["status"] for f in by_rule["AOAI-DEPLOY-001"] if f["status"] != "pass"] == ["fail"]
    (expired,) = by_rule["AOAI-WAIVER-001"]
    assert expired["status"] == "fail" and expired["severity"] == "error"
    assert expired["location"] == {"file": str(path), "line": 2}
    lifecycle = [f for f in data["findings"] if f["category"] == "lifecycle" and f["status"] not in ("pass", "skipped")]
    assert lifecycle and {f["status"] for f in lifecycle} == {"waived"}
    assert all(f["waiver"]["owner"] == "platform-team" for f in lifecycle)
    junit = (tmp_path / "out" / "junit.xml").read_text()
    assert "AOAI-WAIVER-001" in junit and 'skipped message="waived by platform-team' in junit


def test_cli_bad_waiver_file_is_exit_2_before_auditing(tmp_path: Path, capsys) -> None:
    path = _write(tmp_path, "waivers:\n  - rule: AOAI-DEPLOY-001\n    target: x\n    reason: r\n    owner: o\n")
    assert _demo(tmp_path / "out", "--waivers", str(path)) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"audit: error: {path}:2: waiver needs expires (a date like 2026-12-31)"
    assert not (tmp_path / "out").exists()
