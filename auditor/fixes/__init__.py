"""Fixes as a patch: for failing findings on calls the code scan found (and on planned deployments), the
mechanical edit as a unified diff `git apply` accepts, paths relative to the working directory.

Which edit a finding needs is read off the finding's evidence (what the rule judged: the parameter, its API,
what to use instead); how to make it is here (auditor/fixes/calls.py for Python, iac.py for plan files). A
value that comes through a variable or **kwargs is not guessed: the finding says what to change by hand. A
call that is no longer where the scan saw it (the file changed) is reported, and no patch is written for it.
This module reads source files and writes `fixes.patch`; the engine stays free of I/O.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from auditor.fixes.edit import Edit
from auditor.fixes.iac import edit_plan_file, edits_for, find_terraform_block
from auditor.model.errors import InputError
from auditor.model.results import Finding, Report, Severity, Status
from auditor.util import inputfile, safefile

if TYPE_CHECKING:
    from auditor.engine.rules import Rule

PATCH_NAME = "fixes.patch"
_DROP_WHEN_REJECTED = {
    "temperature",
    "top_p",
    "presence_penalty",
    "frequency_penalty",
    "logit_bias",
    "logprobs",
    "top_logprobs",
    "max_tokens",
}


@dataclass
class FixSummary:
    """What `write_fixes` did: fixes written (findings and calls), stale calls, edits left to people."""

    patch: Path | None = None
    findings_fixed: int = 0
    calls_fixed: int = 0
    files: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    by_hand: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "patch": self.patch.name if self.patch else None,
            "findings_fixed": self.findings_fixed,
            "calls_fixed": self.calls_fixed,
            "files": list(self.files),
            "stale": list(self.stale),
            "by_hand": list(self.by_hand),
            "apply": f"git apply {self.patch.name}" if self.patch else None,
        }


def _replace_parameter(detail: Mapping[str, Any]) -> Edit | None:
    parameter = str(detail["parameter"])
    if (
        parameter == "max_tokens"
        and detail.get("api") == "chat_completions"
        and detail.get("use_instead") == "max_completion_tokens"
    ):
        return Edit("rename", parameter, "max_completion_tokens")
    return Edit("drop", parameter) if parameter in _DROP_WHEN_REJECTED else None


def _set_model(detail: Mapping[str, Any]) -> Edit | None:
    names = [str(s).rsplit(" (", 1)[0] for s in detail.get("deployments") or ()]
    if len(set(names)) == 1 and detail.get("model_name"):
        return Edit("set_model", str(detail["model_name"]), names[0])
    return None


_CODE_EDITS: dict[str, Callable[[Mapping[str, Any]], Edit | None]] = {
    "set_model": _set_model,
    "replace_parameter": _replace_parameter,
    "effort_to_reasoning": lambda d: (
        Edit("effort_to_reasoning", "reasoning_effort") if d.get("parameter") == "reasoning_effort" else None
    ),
    "reasoning_to_effort": lambda d: (
        Edit("reasoning_to_effort", "reasoning") if d.get("parameter") == "reasoning" else None
    ),
}
"""The code edit kinds a rule may declare (`fix: {code: KIND}` in its YAML, rules.schema.json)."""


def edit_for(kind: str | None, detail: Mapping[str, Any]) -> Edit | None:
    """The mechanical edit of the declared kind for one failing finding (None: no edit declared, or not a
    mechanical case: a parameter the kind does not cover)."""
    if kind is None or (kind != "set_model" and not detail.get("parameter")):
        return None
    return _CODE_EDITS[kind](detail)


def fix_kinds(rules: Iterable[Rule]) -> dict[str, Mapping[str, str]]:
    """Rule id -> the edit kinds its YAML declares (`fix: {code: ..., iac: ...}`), for the rules that declare one."""
    return {r.id: r.fix for r in rules if r.fix}


def _edits_of(finding: Finding, kinds: Mapping[str, Mapping[str, str]]) -> tuple[list[Edit], list[str]]:
    """The edits a finding asks for, and the breaking rules no mechanical edit covers."""
    evidence = finding.evidence or {}
    details: list[tuple[str, Mapping[str, Any]]] = []
    if finding.category == "upgrade":
        details = [(str(d.get("rule")), d) for d in evidence.get("breaks") or ()]
    elif isinstance(evidence.get("fix"), Mapping):
        details = [(finding.rule_id, evidence["fix"])]
    edits, left = [], []
    for rule_id, detail in details:
        edit = edit_for(kinds.get(rule_id, {}).get("code"), detail)
        if edit is None:
            left.append(f"{rule_id}{' on ' + str(detail['parameter']) if detail.get('parameter') else ''}")
        elif edit not in edits:
            edits.append(edit)
    return edits, left


def _relative(file: str, root: Path) -> str | None:
    path = Path(file)
    if path.is_absolute():
        try:
            path = path.resolve().relative_to(root.resolve())
        except ValueError:
            return None
    parts = path.parts
    if not parts or ".." in parts:
        return None
    return path.as_posix()


_C_ESCAPES = {7: "\\a", 8: "\\b", 9: "\\t", 10: "\\n", 11: "\\v", 12: "\\f", 13: "\\r", 34: '\\"', 92: "\\\\"}


def git_quote(name: str) -> str:
    """A path as git writes it in a patch header: as is when plain, else C-quoted with octal escapes (so a
    tab, quote or newline in a file name can neither break `git apply` nor retarget a hunk)."""
    raw = name.encode("utf-8", "surrogateescape")
    if not any(b < 0x20 or b >= 0x7F or b in (0x22, 0x5C) for b in raw):
        return name
    out = [_C_ESCAPES.get(b) or (f"\\{b:03o}" if b < 0x20 or b >= 0x7F else chr(b)) for b in raw]
    return '"' + "".join(out) + '"'


def _lines(text: str) -> list[str]:
    """Lines as git sees them: ended by LF only (a CRLF line keeps its CR; a CR-only file is one line; a form
    feed or U+2028 is text), so the patch applies to the bytes as written."""
    return [line for line in re.split(r"(?<=\n)", text) if line]


def _diff(path: str, before: str, after: str, context: int = 3) -> str:
    old, new = git_quote(f"a/{path}"), git_quote(f"b/{path}")
    lines = difflib.unified_diff(_lines(before), _lines(after), old, new, n=context)
    text = "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)
    return f"diff --git {old} {new}\n{text}" if text else ""


_Target = tuple[str, str]  # (path relative to root, "python" or a plan format)


def _plan_target(finding: Finding, root: Path) -> tuple[str, str, int] | str:
    """Where a plan finding's edit goes: (path, format, line), or why it cannot be made."""
    fix = (finding.evidence or {}).get("fix") or {}
    assert finding.location is not None
    plan_format = str(fix.get("plan_format") or "yaml")
    if plan_format == "terraform":
        found = find_terraform_block(root, str(fix.get("name") or ""))
        if found is None:
            return f"no single .tf file under {root} declares the deployment {fix.get('name')}: edit it by hand"
        path = _relative(str(found[0]), root)
        return (path, "terraform-hcl", found[1]) if path else "the .tf file is outside the working directory"
    path = _relative(finding.location.file, root)
    if path is None:
        return f"{finding.location.file} is outside {root}: edit it by hand"
    return path, plan_format, finding.location.line


def _edit(kind: str, source: str, edits: dict[int, list[Any]]) -> tuple[str, dict[int, list[str]], set[int]]:
    if kind == "python":
        from auditor.fixes.calls import edit_source

        return edit_source(source, {line: tuple(e) for line, e in edits.items()})
    by_hand: dict[int, list[str]] = {}
    missing: set[int] = set()
    for line, plan_edits in sorted(edits.items()):
        try:
            source, notes = edit_plan_file(source, kind, line, plan_edits)
        except (ValueError, IndexError):
            missing.add(line)
            continue
        if notes:
            by_hand[line] = notes
    return source, by_hand, missing


@dataclass
class _Plan:
    """The edits wanted per file and line, whose findings they are, and notes for people per finding."""

    wanted: dict[_Target, dict[int, list[Any]]] = field(default_factory=dict)
    owners: dict[tuple[str, int], list[int]] = field(default_factory=dict)
    notes: dict[int, list[str]] = field(default_factory=dict)
    hunks: dict[int, str] = field(default_factory=dict)

    def note(self, index: int, *texts: str) -> None:
        self.notes.setdefault(index, []).extend(texts)


def _finding_edits(
    finding: Finding, root: Path, kinds: Mapping[str, Mapping[str, str]]
) -> tuple[list[Any], tuple[str, str, int] | str | None, list[str]] | None:
    """One failing finding's edits, where they go (or why they cannot be made), and notes; None: not fixable."""
    assert finding.location is not None
    fix = (finding.evidence or {}).get("fix")
    if finding.location.file.endswith(".py"):
        edits, left = _edits_of(finding, kinds)
        notes = ["by hand: " + ", ".join(left)] if left and edits else []
        if not edits:
            return edits, None, notes
        path = _relative(finding.location.file, root)
        return (
            edits,
            (path, "python", finding.location.line) if path else f"{finding.location.file} is outside {root}",
            notes,
        )
    if finding.category == "plan" and isinstance(fix, Mapping):
        plan_edits = list(edits_for(kinds.get(finding.rule_id, {}).get("iac"), fix))
        return plan_edits, _plan_target(finding, root) if plan_edits else None, []
    return None


def _collect(report: Report, root: Path, kinds: Mapping[str, Mapping[str, str]]) -> _Plan:
    """The edits every fixable failing finding asks for, grouped by file and line."""
    plan = _Plan()
    for index, finding in enumerate(report.findings):
        if finding.status is not Status.FAIL or finding.location is None or finding.severity is Severity.INFO:
            continue  # an info finding (an upgrade a year out) is not worth changing today's behaviour for
        found = _finding_edits(finding, root, kinds)
        if found is None:
            continue
        edits, place, notes = found
        if notes:
            plan.note(index, *notes)
        if isinstance(place, str):
            plan.note(index, place)
            continue
        if place is None:
            continue
        path, kind, line = place
        calls = plan.wanted.setdefault((path, kind), {})
        for edit in edits:
            if edit not in calls.setdefault(line, []):
                calls[line].append(edit)
        plan.owners.setdefault((path, line), []).append(index)
    return plan


def _edit_file(
    plan: _Plan, summary: FixSummary, root: Path, target: _Target, calls: dict[int, list[Any]]
) -> str | None:
    """The patch of one file (None: nothing changed, or it cannot be edited), with each call's own hunk."""
    path, kind = target
    try:  # bounded, a regular file inside root (not through a symlink out of it), not under .git/
        before = inputfile.read_text(path, what="source", root=root, keep_bom=True)
    except InputError as exc:
        summary.stale.append(f"{exc}; no fix written")
        return None
    try:
        after, by_hand, missing = _edit(kind, before, calls)
    except Exception as exc:  # libcst's parser errors have no common base worth naming here
        summary.stale.append(f"{path}: does not parse any more ({type(exc).__name__}); no fix written")
        return None
    for line in sorted(missing):
        where = "SDK call" if kind == "python" else "planned deployment"
        summary.stale.append(
            f"{path}:{line}: no {where} starts there any more (the file changed since the scan); fix not written"
        )
    for line, texts in by_hand.items():
        for index in plan.owners[(path, line)]:
            plan.note(index, *texts)
        summary.by_hand.extend(f"{path}:{line}: {t}" for t in texts)
    if after == before:
        return None
    summary.files.append(path)
    for line, edits in sorted(calls.items()):
        if line in missing:
            continue
        one, _, _ = _edit(kind, before, {line: edits})
        if one == before:
            continue
        summary.calls_fixed += 1
        hunk = _diff(path, before, one, context=0)  # evidence keeps only the call's own changed lines
        for index in plan.owners[(path, line)]:
            plan.hunks[index] = hunk
    return _diff(path, before, after)


def plan_fixes(report: Report, root: Path, rules: Sequence[Rule] | None = None) -> tuple[Report, str, FixSummary]:
    """The report with each fixable finding's hunk (or what to do by hand) in its evidence, the whole patch
    text, and a summary. Which edit a rule's finding gets is what the rule declares (`fix:` in its YAML; the
    built-in rules when `rules` is None). Reads the source and plan files under `root`; writes nothing."""
    if rules is None:
        from auditor.engine.rules import load_rules

        rules = load_rules()
    summary = FixSummary()
    plan = _collect(report, root, fix_kinds(rules))
    patches = [
        patch
        for target, calls in sorted(plan.wanted.items())
        if (patch := _edit_file(plan, summary, root, target, calls)) is not None
    ]
    findings = list(report.findings)
    for index in sorted(set(plan.hunks) | set(plan.notes)):
        finding = findings[index]
        extra: dict[str, Any] = {}
        if index in plan.hunks:
            extra["patch"] = plan.hunks[index]
        if plan.notes.get(index):
            extra["fix_by_hand"] = "; ".join(dict.fromkeys(plan.notes[index]))
        findings[index] = replace(finding, evidence={**(finding.evidence or {}), **extra})
    summary.findings_fixed = len(plan.hunks)
    return replace(report, findings=tuple(findings)), "".join(patches), summary


def write_fixes(
    report: Report, out_dir: Path, root: Path, rules: Sequence[Rule] | None = None
) -> tuple[Report, FixSummary]:
    """`fixes.patch` in the report directory when there is anything to fix (a stale one is removed), and the
    report with hunks and the fix summary attached for the renderers."""
    report, patch, summary = plan_fixes(report, root, rules)
    target = out_dir / PATCH_NAME
    if patch:
        out_dir.mkdir(parents=True, exist_ok=True)
        safefile.write_text(target, patch)  # never through a planted link; redacted
        summary.patch = target
    elif target.exists():
        target.unlink()
    return replace(report, fixes=summary.as_dict()), summary
