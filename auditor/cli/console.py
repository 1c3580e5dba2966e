"""What a run prints: counts, the failing findings and the unknowns at the gate, each on one line that fits
the terminal, coloured by severity for a person at a terminal, and last the verdict and where the report is.

Pure: `console_lines` returns the lines and `cli.py` prints them. Tenant values (names, messages) can hold
control characters; every printed item goes through `printable` so none reaches the terminal.
"""

from __future__ import annotations

import os
import shutil
import sys
import textwrap
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from auditor.gating.verdict import Verdict, at_gate, verdict
from auditor.model.results import Finding, Report, Severity, Status
from auditor.util.redact import printable

MAX_LISTED = 12
_COLOURS = {"error": "31", "warning": "33", "info": "34", "unknown": "35", "passed": "32", "failed": "31"}
_COLOURS["incomplete"] = "33"


def fit(text: str, width: int, indent: str = "") -> str:
    """Cut a line to `width` characters at a word boundary, ending it with "…" when anything was cut."""
    if len(text) <= width:
        return text
    room = max(width - 1, len(indent) + 8)
    cut = text[:room]
    space = cut.rfind(" ")
    if space > len(indent) + room // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:") + "…"


@dataclass(frozen=True)
class Style:
    """How to print: the terminal's width and whether to colour."""

    width: int = 100
    colour: bool = False

    def paint(self, text: str, key: str) -> str:
        code = _COLOURS.get(key)
        return f"\x1b[{code}m{text}\x1b[0m" if self.colour and code else text


def terminal_style(stream: TextIO | None = None, environ: Mapping[str, str] | None = None) -> Style:
    """The width of the terminal (80 in a pipe, at least 60) and colour only on a terminal without NO_COLOR
    (https://no-color.org: any non-empty value)."""
    stream = stream or sys.stdout
    environ = os.environ if environ is None else environ
    width = max(shutil.get_terminal_size((100, 24)).columns, 60)
    tty = hasattr(stream, "isatty") and stream.isatty()
    return Style(width=width, colour=tty and not environ.get("NO_COLOR"))


def _finding_line(f: Finding, style: Style, label: str) -> str:
    head = f"  {label:8} {f.rule_id:16} "
    if f.status is Status.FAIL:
        body = printable(f"{f.target_name}: {f.message}")
    else:
        cause = f"[{f.cause.value.replace('_', ' ')}] " if f.cause else ""  # first: a long reason is cut
        body = printable(f"{f.target_name}: {cause}{f.reason}")
    line = fit(head + body, style.width, head)
    return (
        style.paint(line[: len(head)], f.severity.value if f.status is Status.FAIL else "unknown") + line[len(head) :]
    )


def _order(f: Finding) -> tuple[int, str, str]:
    return (-f.severity.rank, f.rule_id, f.target_name)


def _wrapped(text: str, style: Style, indent: str) -> list[str]:
    return textwrap.wrap(printable(text), width=style.width, initial_indent=indent, subsequent_indent=indent + "  ")


def _capped(lines: list[str], total: int, what: str) -> list[str]:
    return [*lines, f"  … and {total - MAX_LISTED:,} more {what}"] if total > MAX_LISTED else lines


def _count_lines(report: Report) -> list[str]:
    """The counts, the waived findings and the drift against a baseline."""
    s = report.summary()
    fails, by_status = s.failed_by_severity, s.by_status
    lines = [
        f"Audited {s.targets} account(s), {s.deployments} deployment(s): "
        f"{fails[Severity.ERROR]} error(s), {fails[Severity.WARNING]} warning(s), {fails[Severity.INFO]} info, "
        f"{by_status[Status.PASS]} passed, {by_status[Status.UNKNOWN]} unknown."
    ]
    if by_status[Status.WAIVED]:
        lines.append(f"  {by_status[Status.WAIVED]} finding(s) waived (see the reports for owners and expiry dates)")
    if s.drift is not None:
        d = s.drift
        lines.append(
            f"  Since the baseline: {d.new} new, {d.resolved} resolved, {d.deployment_changes} deployment change(s)"
        )
    return lines


def _finding_lines(report: Report, fail_on: str, style: Style) -> list[str]:
    """Failing findings, then unknowns at or above the gate with how to settle them."""
    from auditor.engine.causes import SETTLE

    failing = sorted((f for f in report.findings if f.status is Status.FAIL), key=_order)
    lines = ["Failing:"] if failing else []
    lines += [_finding_line(f, style, f.severity.value.upper()) for f in failing[:MAX_LISTED]]
    lines = _capped(lines, len(failing), "in the reports")
    unknown = sorted((f for f in report.findings if f.status is Status.UNKNOWN and at_gate(f, fail_on)), key=_order)
    if unknown:
        lines.append(f"Unknown at or above the gate ({fail_on}): not passed, could not be decided:")
    lines += [_finding_line(f, style, f"UNKNOWN {f.severity.value.upper():7}") for f in unknown[:MAX_LISTED]]
    lines = _capped(lines, len(unknown), "in the reports")
    causes = Counter(f.cause for f in unknown if f.cause is not None)
    for cause, n in sorted(causes.items(), key=lambda kv: -kv[1]):
        label = cause.value.replace("_", " ")
        lines += _wrapped(f"settle: {SETTLE[cause]} ({label}: {n} finding(s))", style, "      ")
    return lines


def _incomplete_lines(report: Report, style: Style) -> list[str]:
    incomplete = [t for t in report.targets if t.status != "complete"]
    lines = [
        fit(printable(f"  INCOMPLETE {target.name}: {'; '.join(target.reasons)}"), style.width)
        for target in incomplete[:MAX_LISTED]
    ]
    lines = _capped(lines, len(incomplete), "incomplete account(s) in the reports")
    if not report.targets:  # nothing was audited: say why
        lines += [fit(printable(f"  INCOMPLETE {gap}"), style.width) for gap in report.gaps[:MAX_LISTED]]
    else:  # the app's own gaps (files of the app the code scan could not read) are no account's
        unread = [gap for gap in report.gaps if gap.startswith(("contract-from:", "contract:"))]
        lines += [fit(printable(f"  INCOMPLETE {gap}"), style.width) for gap in unread[:MAX_LISTED]]
        if len(unread) > MAX_LISTED:
            lines.append(f"  … and {len(unread) - MAX_LISTED:,} more unread file(s) of the app in the reports")
    return lines


def _tail_lines(report: Report, paths: Sequence[Path]) -> list[str]:
    """What the probes spent, and where the reports are."""
    lines = []
    probes = report.summary().probes
    if probes:
        lines.append(
            f"Probes: {probes['probes']} probe(s), {probes['calls']} of {probes['max_calls']} call(s), "
            f"{probes['tokens']} of {probes['token_budget']} token(s), {probes['skipped']} skipped, "
            f"{len(probes['not_probed'])} deployment/parameter(s) not probed."
        )
    main = next((p for p in paths if p.name == "report.html"), paths[0] if paths else None)
    if paths:
        others = ", ".join(p.name for p in paths if p != main)
        lines.append(printable(f"Report: {main}") + (f" (also {others})" if others else ""))
    return lines


def console_lines(report: Report, paths: Sequence[Path], fail_on: str, style: Style) -> list[str]:
    """Everything `audit` prints after a run, in order; the last line is the verdict."""
    return [
        *_count_lines(report),
        *_finding_lines(report, fail_on, style),
        *_incomplete_lines(report, style),
        *_tail_lines(report, paths),
        result_line(verdict(report, fail_on), style),
    ]


def result_line(v: Verdict, style: Style) -> str:
    """`Result: failed at the gate … (exit 1)`, the run's last line."""
    text = v.headline[0].lower() + v.headline[1:]
    return style.paint(f"Result: {text} (exit {v.exit_code})", v.state)
