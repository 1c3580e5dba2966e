"""What a run prints: counts, the failing findings and the unknowns at the gate, and last the verdict and where the
report is. At a terminal each finding is one line that fits it, coloured by severity; in a pipe or a CI log lines
stay whole (the reason is never cut), more are listed, and on GitHub Actions or Azure Pipelines the failing
findings are grouped and those with a file and line annotated (auditor/cli/ci_log.py).

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

from auditor.cli.ci_log import PLAIN, annotate, detect, group
from auditor.gating.verdict import Verdict, at_gate, verdict
from auditor.model.results import Finding, Report, Severity, Status
from auditor.util.redact import printable

MAX_LISTED = 12
"""Findings of one kind listed on a terminal: a person reads the top and opens the report for the rest."""
MAX_LISTED_LOG = 1000
"""Findings of one kind listed in a CI log (not a terminal): all of them, within reason; groups fold them away."""
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
    """How to print: the terminal's width and whether to colour; `whole` (not a terminal: a CI log, a file) keeps
    every line whole, so no reason is cut off; `ci` names the runner whose log commands to write (ci_log)."""

    width: int = 100
    colour: bool = False
    whole: bool = False
    ci: str = PLAIN

    def paint(self, text: str, key: str) -> str:
        code = _COLOURS.get(key)
        return f"\x1b[{code}m{text}\x1b[0m" if self.colour and code else text

    def fit(self, text: str, indent: str = "") -> str:
        return text if self.whole else fit(text, self.width, indent)

    @property
    def listed(self) -> int:
        return MAX_LISTED_LOG if self.whole else MAX_LISTED


def terminal_style(stream: TextIO | None = None, environ: Mapping[str, str] | None = None) -> Style:
    """On a terminal: its width (at least 60) and colour unless NO_COLOR (https://no-color.org: any non-empty
    value). Elsewhere (a pipe, a CI log): whole lines, no colour, and the CI runner's log commands."""
    stream = stream or sys.stdout
    environ = os.environ if environ is None else environ
    width = max(shutil.get_terminal_size((100, 24)).columns, 60)
    tty = hasattr(stream, "isatty") and stream.isatty()
    return Style(width=width, colour=tty and not environ.get("NO_COLOR"), whole=not tty, ci=detect(environ))


def _finding_line(f: Finding, style: Style, label: str) -> str:
    head = f"  {label:8} {f.rule_id:16} "
    if f.status is Status.FAIL:
        body = printable(f"{f.target_name}: {f.message}")
    else:
        cause = f"[{f.cause.value.replace('_', ' ')}] " if f.cause else ""  # first: a long reason is cut
        body = printable(f"{f.target_name}: {cause}{f.reason}")
    if f.location is not None:
        body += printable(f" ({f.location.file}:{f.location.line})") if style.whole else ""
    line = style.fit(head + body, head)
    return (
        style.paint(line[: len(head)], f.severity.value if f.status is Status.FAIL else "unknown") + line[len(head) :]
    )


def _order(f: Finding) -> tuple[int, str, str]:
    return (-f.severity.rank, f.rule_id, f.target_name)


def _wrapped(text: str, style: Style, indent: str) -> list[str]:
    if style.whole:
        return [indent + printable(text)]
    return textwrap.wrap(printable(text), width=style.width, initial_indent=indent, subsequent_indent=indent + "  ")


def _listed(items: Sequence[str], total: int, what: str = "") -> list[str]:
    more = [f"  … and {total - len(items):,} more{what} in the reports"] if total > len(items) else []
    return [*items, *more]


def _counts(report: Report) -> list[str]:
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
        gate = f"; only the {d.new} new can fail the gate (--only-new)" if report.only_new else ""
        lines.append(
            f"  Since the baseline: {d.new} new, {d.resolved} resolved, {d.deployment_changes} deployment change(s){gate}"
        )
    return lines


def _failing(report: Report, style: Style) -> list[str]:
    failing = sorted((f for f in report.not_passing if f.status is Status.FAIL), key=_order)
    if not failing:
        return []
    shown = [_finding_line(f, style, f.severity.value.upper()) for f in failing[: style.listed]]
    body = _listed(shown, len(failing))
    if style.ci != PLAIN:
        return group(style.ci, f"Failing findings ({len(failing):,})", body)
    return ["Failing:", *body]


def _unknown(report: Report, fail_on: str, style: Style) -> list[str]:
    from auditor.engine.causes import SETTLE

    unknown = sorted((f for f in report.at_stake if f.status is Status.UNKNOWN and at_gate(f, fail_on)), key=_order)
    if not unknown:
        return []
    lines = [f"Unknown at or above the gate ({fail_on}): not passed, could not be decided:"]
    shown = [_finding_line(f, style, f"UNKNOWN {f.severity.value.upper():7}") for f in unknown[: style.listed]]
    lines += _listed(shown, len(unknown))
    causes = Counter(f.cause for f in unknown if f.cause is not None)
    for cause, n in sorted(causes.items(), key=lambda kv: -kv[1]):
        label = cause.value.replace("_", " ")
        lines += _wrapped(f"settle: {SETTLE[cause]} ({label}: {n} finding(s))", style, "      ")
    return lines


def _incomplete(report: Report, style: Style) -> list[str]:
    incomplete = [t for t in report.targets if t.status != "complete"]
    shown = [style.fit(printable(f"  INCOMPLETE {t.name}: {'; '.join(t.reasons)}")) for t in incomplete[: style.listed]]
    lines = _listed(shown, len(incomplete), " incomplete account(s)")
    if report.targets and incomplete:  # the app's own gaps (files the code scan could not read) are no account's
        gaps = [gap for gap in report.gaps if gap.startswith(("contract-from:", "contract:"))]
    else:  # nothing was audited, or a read outside any account: say why
        gaps = list(report.gaps)
    shown = [style.fit(printable(f"  INCOMPLETE {gap}")) for gap in gaps[: style.listed]]
    lines += _listed(shown, len(gaps), " unread item(s)")
    return lines


def _probes(report: Report) -> list[str]:
    probes = report.summary().probes
    if not probes:
        return []
    return [
        f"Probes: {probes['probes']} probe(s), {probes['calls']} of {probes['max_calls']} call(s), "
        f"{probes['tokens']} of {probes['token_budget']} token(s), {probes['skipped']} skipped, "
        f"{len(probes['not_probed'])} deployment/parameter(s) not probed."
    ]


def _where(paths: Sequence[Path]) -> list[str]:
    if not paths:
        return []
    main = next((p for p in paths if p.name == "report.html"), paths[0])
    others = ", ".join(p.name for p in paths if p != main)
    return [printable(f"Report: {main}") + (f" (also {others})" if others else "")]


def console_lines(report: Report, paths: Sequence[Path], fail_on: str, style: Style) -> list[str]:
    """Everything `audit` prints after a run, in order; on a CI runner the failing findings are grouped and those
    with a file and line annotated; the last line is the verdict."""
    located = sorted((f for f in report.at_stake if f.status is Status.FAIL and at_gate(f, fail_on)), key=_order)
    return [
        *_counts(report),
        *_failing(report, style),
        *_unknown(report, fail_on, style),
        *_incomplete(report, style),
        *_probes(report),
        *annotate(located, style.ci),
        *_where(paths),
        result_line(verdict(report, fail_on), style),
    ]


def result_line(v: Verdict, style: Style) -> str:
    """`Result: failed at the gate … (exit 1)`, the run's last line."""
    text = v.headline[0].lower() + v.headline[1:]
    return style.paint(f"Result: {text} (exit {v.exit_code})", v.state)
