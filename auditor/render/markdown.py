"""A short Markdown summary (`summary.md`) for pull-request comments and the GitHub job summary.

GitHub renders HTML inside Markdown, and names and messages come from the tenant, so every value is
escaped: `<`, `>` and `&` as entities, table pipes and Markdown punctuation with a backslash.
"""

from __future__ import annotations

import re
from typing import BinaryIO

from auditor.model.results import Finding, Report, Severity, Status, TargetStatus
from auditor.util.redact import printable

MAX_ROWS = 25
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")
_SAFE_URL = re.compile(r"https://[^\s()<>\[\]]+")
_JOINER = "\u2060"
"""WORD JOINER: invisible, and it breaks GitHub's autolink, mention and issue-reference patterns, which
need the scheme's `:` next to `//`, a word character right after `@` or `#`, and `www` next to `.`."""
_GITHUB_AUTOLINK = re.compile(r"(?i)(\b(?:https?|ftp|mailto|file)|\bwww|[@#]|\bGH-)(:|\.|[\w-])")


def md(value: object) -> str:
    """One table cell or inline value, safe from Markdown and HTML interpretation, and inert on GitHub:
    no autolinked URL, no @mention ping, no #123 reference, control characters shown as escapes."""
    text = printable(" ".join(str("" if value is None else value).split()))
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return _GITHUB_AUTOLINK.sub(lambda m: m.group(1) + _JOINER + m.group(2), text)


def _order(f: Finding) -> tuple[int, int, str, str]:
    return (0 if f.status is Status.FAIL else 1, -f.severity.rank, f.rule_id, f.target_name)


def _verdict(report: Report) -> str:
    s = report.summary()
    fails, by_status = s.failed_by_severity, s.by_status
    if fails[Severity.ERROR]:
        return "❌ failing"
    if not report.complete or by_status[Status.UNKNOWN]:
        return "⚠️ incomplete"
    if fails[Severity.WARNING]:
        return "⚠️ warnings"
    return "✅ passing"


def _head_lines(report: Report) -> list[str]:
    """The verdict, the counts, the drift against a baseline and the accounts that could not be read whole."""
    s = report.summary()
    fails, by_status = s.failed_by_severity, s.by_status
    lines = [
        f"## Azure OpenAI deployment audit: {_verdict(report)}",
        "",
        f"{s.targets} account(s), {s.deployments} deployment(s), rule set {md(report.ruleset)}, "
        f"auditor {md(report.tool_version)}, {report.generated_at.strftime('%Y-%m-%d %H:%M UTC')}.",
        "",
        *(f"- {md(line)}" for line in (report.nightly.headline if report.nightly else ())),
        *([""] if report.nightly and report.nightly.headline else []),
        "| errors | warnings | info | unknown | waived | passed |",
        "|---:|---:|---:|---:|---:|---:|",
        f"| {fails[Severity.ERROR]} | {fails[Severity.WARNING]} | {fails[Severity.INFO]} | {by_status[Status.UNKNOWN]} "
        f"| {by_status[Status.WAIVED]} | {by_status[Status.PASS]} |",
        "",
    ]
    lines += _failing_rules(report)
    drift = s.drift
    if drift is not None:
        lines += [
            f"Since the baseline: **{drift.new} new**, {drift.resolved} resolved, "
            f"{drift.deployment_changes} deployment change(s).",
            "",
        ]
    for target in report.targets:
        if target.status is not TargetStatus.COMPLETE:
            lines.append(f"> **Incomplete:** {md(target.name)}: {md('; '.join(target.reasons))}")
    if not report.complete:
        lines.append("")
    return lines


def _attention_lines(report: Report) -> list[str]:
    """Failing findings (info aside) and unknowns, the severest first, capped."""
    attention = sorted(
        (
            f
            for f in report.not_passing
            if f.status is Status.UNKNOWN or (f.status is Status.FAIL and f.severity is not Severity.INFO)
        ),
        key=_order,
    )
    if not attention:
        return []
    lines = ["| | severity | rule | target | finding |", "|---|---|---|---|---|"]
    for f in attention[:MAX_ROWS]:
        mark = "🆕" if f.drift == "new" else ""
        status = "" if f.status is Status.FAIL else "unknown: "
        link = f"[{md(f.rule_id)}]({f.docs})" if f.docs and _SAFE_URL.fullmatch(f.docs) else md(f.rule_id)
        lines.append(f"| {mark} | {f.severity.value} | {link} | {md(f.target_name)} | {status}{md(f.message)} |")
    if len(attention) > MAX_ROWS:
        lines.append(f"\n… and {len(attention) - MAX_ROWS} more in the full report.")
    return [*lines, ""]


def _drift_lines(report: Report) -> list[str]:
    """Deployment changes and findings resolved since the baseline."""
    lines: list[str] = []
    if report.drift and report.drift.changes:
        lines += [
            "**Deployment changes since the baseline**",
            "",
            "| account | deployment | change | before | after |",
            "|---|---|---|---|---|",
        ]
        for c in report.drift.changes[:MAX_ROWS]:
            lines.append(
                f"| {md(c.account_name)} | {md(c.deployment)} | {md(c.change.replace('_', ' '))} | {md(c.before)} | {md(c.after)} |"
            )
        lines.append("")
    if report.drift and report.drift.resolved:
        lines += ["**Resolved since the baseline**", ""]
        lines += [f"- {md(r.rule_id)} {md(r.target_name)}: {md(r.title)}" for r in report.drift.resolved[:MAX_ROWS]]
        lines.append("")
    return lines


def render_markdown(report: Report) -> str:
    lines = [*_head_lines(report), *_attention_lines(report), *_drift_lines(report), *_fixes_lines(report)]
    waived = [f for f in report.not_passing if f.status is Status.WAIVED]
    if waived:
        lines.append(f"{len(waived)} finding(s) waived; see the full report for owners and expiry dates.")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _failing_rules(report: Report) -> list[str]:
    """The rules that fail, most severe first, with how many targets each fails on: what to fix first."""
    counts: dict[str, list[Finding]] = {}
    for f in report.not_passing:
        if f.status is Status.FAIL:
            counts.setdefault(f.rule_id, []).append(f)
    if not counts:
        return []
    rows = sorted(counts.values(), key=lambda fs: (-fs[0].severity.rank, -len(fs), fs[0].rule_id))
    lines = ["**Failing rules**", "", "| rule | severity | title | failing |", "|---|---|---|---:|"]
    for found in rows[:MAX_ROWS]:
        f = found[0]
        new = sum(1 for x in found if x.drift == "new")
        fresh = f" ({new} new)" if report.drift is not None and new else ""
        lines.append(f"| {md(f.rule_id)} | {f.severity.value} | {md(f.title)} | {len(found)}{fresh} |")
    if len(rows) > MAX_ROWS:
        lines.append(f"\n… and {len(rows) - MAX_ROWS} more failing rules in the full report.")
    return [*lines, ""]


def _fixes_lines(report: Report) -> list[str]:
    """How many fixes fixes.patch holds and how to apply it; calls that changed since the scan, and edits left
    to people."""
    fixes = report.fixes
    if not fixes or not (fixes.get("patch") or fixes.get("stale") or fixes.get("by_hand")):
        return []
    lines = []
    if fixes.get("patch"):
        lines += [
            f"**Fixes:** {fixes['findings_fixed']} finding(s) fixed by {fixes['calls_fixed']} call edit(s) in "
            f"{len(fixes['files'])} file(s), written to `{md(fixes['patch'])}` in the report directory. Review it, then "
            f"apply it from the directory the audit ran in: `git apply {md(fixes['patch'])}` (check first with "
            "`git apply --check`).",
            "",
        ]
    lines += [f"- not written, the file changed since the scan: {md(s)}" for s in (fixes.get("stale") or ())[:MAX_ROWS]]
    lines += [f"- by hand: {md(s)}" for s in (fixes.get("by_hand") or ())[:MAX_ROWS]]
    return [*lines, ""]


def write_markdown(report: Report, out: BinaryIO) -> None:
    out.write(render_markdown(report).encode("utf-8"))
