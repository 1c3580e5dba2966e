"""Log lines for CI runners: collapsible groups, and file annotations for findings that have a file and line.

GitHub Actions reads workflow commands from a step's output (`::group::`, `::error file=…,line=…::`); it shows at
most 10 error and 10 warning annotations per step (github.com/orgs/community/discussions/68471), so more are not
sent: a notice counts the rest, which stay in the log, the reports and SARIF. Escaping follows actions/toolkit
(packages/core/src/command.ts: data `%`, CR, LF; properties also `:` and `,`).

Azure Pipelines reads logging commands (`##[group]`, `##vso[task.logissue type=error;sourcepath=…;linenumber=…]`);
escaping follows microsoft/azure-pipelines-task-lib (node/taskcommand.ts: data `%`→%AZP25, CR, LF; properties also
`]` and `;`). Its issues are capped too (MAX_ADO), to keep the run's summary readable.

Pure: lines in, lines out; the CLI prints them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from auditor.model.results import Finding, Severity, Status
from auditor.util.redact import printable

GITHUB = "github"
AZURE_DEVOPS = "azure-devops"
PLAIN = "plain"
MAX_GITHUB = 10
"""Annotations of one kind (error, warning) GitHub shows per step."""
MAX_ADO = 50


def detect(environ: Mapping[str, str] | None = None) -> str:
    """Which CI's log commands to write: GitHub Actions (GITHUB_ACTIONS=true), Azure Pipelines (TF_BUILD=True)."""
    environ = os.environ if environ is None else environ
    if environ.get("GITHUB_ACTIONS", "").lower() == "true":
        return GITHUB
    if environ.get("TF_BUILD", "").lower() == "true":
        return AZURE_DEVOPS
    return PLAIN


def _github_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _github_property(text: str) -> str:
    return _github_data(text).replace(":", "%3A").replace(",", "%2C")


def _ado_data(text: str) -> str:
    return text.replace("%", "%AZP25").replace("\r", "%0D").replace("\n", "%0A")


def _ado_property(text: str) -> str:
    return _ado_data(text).replace("]", "%5D").replace(";", "%3B")


def group(kind: str, title: str, lines: Sequence[str]) -> list[str]:
    """`lines` under a collapsible title on a CI runner; a plain heading elsewhere."""
    if kind == GITHUB:
        return [f"::group::{_github_data(title)}", *lines, "::endgroup::"]
    if kind == AZURE_DEVOPS:
        return [f"##[group]{_ado_data(title)}", *lines, "##[endgroup]"]
    return [f"{title}:", *lines]


def _relative(file: str, environ: Mapping[str, str]) -> str:
    """A finding's file as the runner wants it: relative to the workspace (GitHub) or as given."""
    root = environ.get("GITHUB_WORKSPACE") or environ.get("BUILD_SOURCESDIRECTORY") or ""
    path = Path(file)
    if root and path.is_absolute():
        try:
            return path.relative_to(root).as_posix()
        except ValueError:
            return file
    return path.as_posix()


def _level(f: Finding) -> str:
    return "error" if f.severity is Severity.ERROR else "warning"


def annotate(findings: Sequence[Finding], kind: str, environ: Mapping[str, str] | None = None) -> list[str]:
    """One annotation per failing finding with a source location (contract, scan, plan), within the runner's
    limits, and a notice counting those not sent."""
    if kind == PLAIN:
        return []
    environ = os.environ if environ is None else environ
    located = [f for f in findings if f.status is Status.FAIL and f.location is not None]
    lines: list[str] = []
    sent: dict[str, int] = {"error": 0, "warning": 0}
    cap = MAX_GITHUB if kind == GITHUB else MAX_ADO
    for f in located:
        level = _level(f)
        if sent[level] >= cap:
            continue
        sent[level] += 1
        assert f.location is not None
        file, line = _relative(f.location.file, environ), f.location.line
        text = printable(f"{f.rule_id} {f.target_name}: {f.message}")
        if kind == GITHUB:
            props = f"file={_github_property(file)},line={line},title={_github_property(f.rule_id + ' ' + f.title)}"
            lines.append(f"::{level} {props}::{_github_data(text)}")
        else:
            props = f"type={level};sourcepath={_ado_property(file)};linenumber={line};code={_ado_property(f.rule_id)}"
            lines.append(f"##vso[task.logissue {props}]{_ado_data(text)}")
    rest = len(located) - sum(sent.values())
    if rest:
        note = (
            f"{rest} more finding(s) with a file and line are not annotated ({cap} of each kind per step is the "
            "runner's limit): they are listed above and in the reports (report.sarif, junit.xml)"
        )
        lines.append(f"::notice::{_github_data(note)}" if kind == GITHUB else f"##[warning]{_ado_data(note)}")
    return lines
