"""The verdict of an audit at a gate, in words: what the HTML report and the console say first.

The same decision as the exit code (`auditor.pipeline.audit.gate`): failing findings at or above the gate fail it;
otherwise anything unread, or unknown at or above the gate, makes the audit incomplete.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from auditor.model.results import Finding, Report, Severity, Status

GATES = ("error", "warning", "info", "never")


@dataclass(frozen=True)
class Verdict:
    """passed | failed | incomplete, a one-line headline and the reasons behind it."""

    state: str
    headline: str
    reasons: tuple[str, ...]
    fail_on: str

    @property
    def exit_code(self) -> int:
        return {"passed": 0, "failed": 1, "incomplete": 3}[self.state]


def at_gate(finding: Finding, fail_on: str) -> bool:
    """Whether a finding's severity is at or above the gate (`never`: nothing is)."""
    return fail_on != "never" and finding.severity.rank >= Severity(fail_on).rank


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def verdict(report: Report, fail_on: str = "error") -> Verdict:
    failing: Counter[str] = Counter()
    unknown: Counter[str] = Counter()
    if fail_on != "never":
        threshold = Severity(fail_on).rank  # at_gate, with the gate's rank looked up once
        for f in report.at_stake:
            if f.status is Status.FAIL and f.severity.rank >= threshold:
                failing[f.rule_id] += 1
            elif f.status is Status.UNKNOWN and f.severity.rank >= threshold:
                unknown[f.rule_id] += 1
    incomplete = [t for t in report.targets if t.status != "complete"]
    reasons: list[str] = []
    if incomplete:
        reasons.append(f"{_plural(len(incomplete), 'account')} could not be read in full")
    elif report.gaps:  # a read outside any account (a scanned source file, a missing shard)
        more = f" and {len(report.gaps) - 1} more" if len(report.gaps) > 1 else ""
        reasons.append(f"{report.gaps[0]}{more}")
    if unknown:
        reasons.append(
            f"{_plural(sum(unknown.values()), 'check')} at or above {fail_on} could not be decided "
            f"({_plural(len(unknown), 'rule')})"
        )
    gate = "no gate" if fail_on == "never" else f"the gate ({fail_on})"
    all_failing = sum(1 for f in report.not_passing if f.status is Status.FAIL)
    if failing:
        at_gate = sum(failing.values())
        below_gate = all_failing - at_gate
        # One vocabulary with the status row under it ("fail N" counts every severity): say both.
        tail = f"; {all_failing:,} failing in all, {below_gate:,} below the gate" if below_gate else ""
        headline = (
            f"Failed at {gate}: {_plural(at_gate, 'failing finding')} at or above it, "
            f"from {_plural(len(failing), 'rule')}{tail}"
        )
        return Verdict("failed", headline, tuple(reasons), fail_on)
    if reasons:
        return Verdict("incomplete", "Incomplete: " + "; ".join(reasons), tuple(reasons), fail_on)
    tail = f" ({_plural(all_failing, 'failing finding')} below it)" if all_failing else ""
    if fail_on == "never":
        return Verdict("passed", f"Passed: no gate (--fail-on never){tail}", (), fail_on)
    return Verdict("passed", f"Passed {gate}: nothing fails at or above it{tail}", (), fail_on)
