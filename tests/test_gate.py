"""The exit-code gate, table-driven."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from auditor.gating.verdict import gate
from auditor.model.results import Category, Finding, Report, Severity, Status, TargetResult, TargetStatus


def _report(*findings: tuple[Severity, Status], complete: bool = True) -> Report:
    target = TargetResult(
        "id", "acct", "sub", "eastus2", "OpenAI", TargetStatus.COMPLETE if complete else TargetStatus.INCOMPLETE
    )
    return Report(
        generated_at=datetime(2026, 11, 22, tzinfo=timezone.utc),
        tool_version="t",
        ruleset="r",
        knowledge_checked=None,
        targets=(target,),
        deployments=(),
        findings=tuple(Finding("R-1", "t", Category.QUOTA, sev, st, "x", "x", "m", "r") for sev, st in findings),
    )


E, W, N = Severity.ERROR, Severity.WARNING, Severity.INFO
F, P, U = Status.FAIL, Status.PASS, Status.UNKNOWN


@pytest.mark.parametrize(
    "findings,fail_on,complete,expected",
    [
        ([(E, P), (W, P)], "error", True, 0),
        ([(E, F)], "error", True, 1),
        ([(W, F)], "error", True, 0),
        ([(W, F)], "warning", True, 1),
        ([(N, F)], "warning", True, 0),
        ([(N, F)], "info", True, 1),
        ([(E, F)], "never", True, 0),
        ([(E, U)], "error", True, 3),  # unknown is never a pass
        ([(N, U)], "error", True, 0),  # below the gate's threshold
        ([(E, U), (E, F)], "error", True, 1),  # a real failure outranks incompleteness
        ([(E, P)], "error", False, 3),
        ([(E, P)], "never", False, 3),
    ],
)
def test_gate(findings, fail_on, complete, expected) -> None:
    assert gate(_report(*findings, complete=complete), fail_on) == expected
