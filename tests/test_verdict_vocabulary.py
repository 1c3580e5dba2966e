"""The verdict box and the status row under it speak one vocabulary: the headline gives the failing findings
at or above the gate and, when some fail below it, the count in all, which is the row's `fail` column."""

from __future__ import annotations

from datetime import datetime, timezone

from auditor.gating.verdict import verdict
from auditor.model.results import Category, Finding, Report, Severity, Status


def _finding(rule: str, severity: Severity, status: Status = Status.FAIL) -> Finding:
    return Finding(rule, rule, Category.SECURITY, severity, status, f"/t/{rule}", rule, "m", "r")


def _report(*findings: Finding) -> Report:
    return Report(
        findings=findings,
        generated_at=datetime(2026, 12, 3, tzinfo=timezone.utc),
        tool_version="test",
        ruleset="2026.12",
        knowledge_checked=None,
        targets=(),
        deployments=(),
    )


def test_the_headline_counts_what_the_status_row_counts() -> None:
    report = _report(_finding("A", Severity.ERROR), _finding("B", Severity.WARNING), _finding("C", Severity.INFO))
    v = verdict(report, "error")
    fails = report.summary().by_status[Status.FAIL]
    assert v.state == "failed"
    assert "1 failing finding at or above it" in v.headline
    assert f"{fails} failing in all, 2 below the gate" in v.headline


def test_no_tail_when_everything_failing_is_at_the_gate() -> None:
    v = verdict(_report(_finding("A", Severity.ERROR)), "error")
    assert v.headline == "Failed at the gate (error): 1 failing finding at or above it, from 1 rule"


def test_a_pass_names_what_fails_below_the_gate_in_the_same_words() -> None:
    v = verdict(_report(_finding("B", Severity.WARNING)), "error")
    assert v.state == "passed" and "(1 failing finding below it)" in v.headline
