"""The console's list of unknowns at the gate: what is missing, why (a knowledge-base gap or an Azure read
failure) and how to settle it; and an audit that audited nothing, said so. Only the CLI prints."""

from __future__ import annotations

from typing import TYPE_CHECKING

from auditor.redact import printable

if TYPE_CHECKING:
    from auditor.enums import FailOn
    from auditor.results import Report


def print_unknowns(report: Report, fail_on: FailOn) -> None:
    """Every unknown at or above the gate, with the missing fact, its cause (knowledge base or Azure read)
    and how to settle it; and an audit that audited nothing, said so."""
    from auditor.engine.causes import SETTLE
    from auditor.results import Severity, Status

    if not report.targets:
        for gap in report.gaps:
            print(printable(f"  INCOMPLETE {gap}")[:220])
    if fail_on == "never":
        return
    threshold = Severity(fail_on).rank
    unknown = [f for f in report.findings if f.status is Status.UNKNOWN and f.severity.rank >= threshold]
    unknown.sort(key=lambda f: (-f.severity.rank, f.rule_id, f.target_name))
    for f in unknown:
        cause = f.cause.value.replace("_", " ") if f.cause else "unknown cause"
        print(printable(f"  UNKNOWN {f.severity.value.upper():7} {f.rule_id:16} {f.target_name}: {f.reason} [{cause}]"))
        if f.cause is not None:
            print(f"      settle: {SETTLE[f.cause]} (waiver rule: {f.rule_id})")
