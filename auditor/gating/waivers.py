"""Waivers: findings a named owner has accepted until a date.

A waived finding stays in the report with status `waived` and the owner, reason and expiry; it no longer
fails the gate. An expired waiver stops waiving and becomes a failing finding itself (AOAI-WAIVER-001), so
an acceptance cannot quietly outlive its date; a waiver that waived nothing is reported (AOAI-WAIVER-002,
info) so stale entries get cleaned up. Loading does the I/O; `apply_waivers` is pure (Report -> Report).

File format (YAML)::

    waivers:
      - rule: AOAI-LIFE-001            # or  category: lifecycle
        target: "contoso-ai-swc/*"     # glob over the finding's target name or ARM id (case-insensitive)
        reason: migration to gpt-4.1-mini is booked for sprint 48
        owner: platform-team@contoso.com
        expires: 2026-12-31            # waives through this day
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

from auditor.engine.evaluate import render_message
from auditor.engine.rules import Rule, gating_rule
from auditor.model.documents import WaiverDocument
from auditor.model.errors import InputError
from auditor.model.facts import SourceLocation
from auditor.model.results import CATEGORIES, Category, Finding, Report, RuleInfo, Status, WaiverRef
from auditor.util.yamlfile import LineDict, LineList, load_yaml

WAIVER_RULES = ("AOAI-WAIVER-001", "AOAI-WAIVER-002")
"""The rules the gate applies to the waivers themselves, declared in rules/gating/waivers.yaml."""
_FIELDS = ("rule", "category", "target", "reason", "owner", "expires")
_WAIVABLE = (Status.FAIL, Status.UNKNOWN)


@dataclass(frozen=True)
class Waiver:
    """One accepted risk: which rule (or category) on which targets, by whom, why, until when."""

    target: str
    reason: str
    owner: str
    expires: date
    file: str
    line: int
    rule: str | None = None
    category: str | None = None

    @property
    def source(self) -> str:
        return f"{self.file}:{self.line}"

    @property
    def subject(self) -> str:
        return self.rule or f"category {self.category}"

    def matches(self, finding: Finding) -> bool:
        if self.rule and finding.rule_id.lower() != self.rule.lower():
            return False
        if self.category and finding.category.lower() != self.category.lower():
            return False
        pattern = self.target.lower()
        return any(fnmatch.fnmatchcase(name.lower(), pattern) for name in (finding.target_name, finding.target))

    def ref(self) -> WaiverRef:
        return WaiverRef(owner=self.owner, reason=self.reason, expires=self.expires.isoformat(), source=self.source)


def _text(entry: LineDict, key: str, where: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"{where}: waiver needs {key} (a non-empty string)")
    return value.strip()


def load_waivers(path: Path | str, rules: Mapping[str, str] | None = None) -> tuple[Waiver, ...]:
    """Read and check a waivers file; every problem is an InputError naming the file and line.

    `rules` maps known rule ids to their categories; when given, unknown ids and categories are errors
    (a typo would otherwise waive nothing, silently)."""
    document = load_yaml(path, what="waivers")
    name = str(path)
    if not isinstance(document, LineDict) or "waivers" not in document:
        raise InputError(f"{name}:{getattr(document, 'line', 1)}: a waivers file is a mapping with a `waivers:` list")
    entries = document["waivers"]
    if entries is None:
        return ()
    if not isinstance(entries, LineList):
        raise InputError(f"{name}:{document.key_lines.get('waivers', 1)}: `waivers` must be a list")
    known_ids = {k.lower(): k for k in (rules or {})}
    known_categories = set(CATEGORIES) | {c.lower() for c in (rules or {}).values()}
    waivers = []
    for entry, line in zip(entries, entries.item_lines, strict=False):
        where = f"{name}:{line}"
        if not isinstance(entry, LineDict):
            raise InputError(f"{where}: each waiver is a mapping with {', '.join(_FIELDS)}")
        for key in entry:
            if key not in _FIELDS:
                raise InputError(
                    f"{name}:{entry.key_lines[str(key)]}: unknown waiver field {key!r} (fields: {', '.join(_FIELDS)})"
                )
        rule, category = entry.get("rule"), entry.get("category")
        if (rule is None) == (category is None):
            raise InputError(f"{where}: a waiver names exactly one of rule or category")
        if rule is not None:
            rule = _text(entry, "rule", f"{name}:{entry.key_lines['rule']}")
            if rules is not None and rule.lower() not in known_ids:
                raise InputError(f"{name}:{entry.key_lines['rule']}: unknown rule id {rule!r} (see audit rules)")
            rule = known_ids.get(rule.lower(), rule)
        if category is not None:
            category = _text(entry, "category", f"{name}:{entry.key_lines['category']}").lower()
            if category not in known_categories:
                raise InputError(
                    f"{name}:{entry.key_lines['category']}: unknown category {category!r} "
                    f"(one of {', '.join(sorted(known_categories))})"
                )
        expires = entry.get("expires")
        expires_line = entry.key_lines.get("expires", line)
        if isinstance(expires, str):
            try:
                expires = date.fromisoformat(expires.strip())
            except ValueError:
                raise InputError(
                    f"{name}:{expires_line}: expires must be a date like 2026-12-31, not {expires!r}"
                ) from None
        if not isinstance(expires, date):
            raise InputError(f"{name}:{expires_line}: waiver needs expires (a date like 2026-12-31)")
        waivers.append(
            Waiver(
                target=_text(entry, "target", where),
                reason=_text(entry, "reason", where),
                owner=_text(entry, "owner", where),
                expires=expires,
                file=name,
                line=line,
                rule=rule,
                category=category,
            )
        )
    return tuple(waivers)


def _category(waiver: Waiver, rules: Iterable[RuleInfo]) -> Category:
    """The waived rule's category, so the expired-waiver finding lands where the original did."""
    if waiver.category in set(Category):
        return Category(waiver.category)
    found = next((r.category for r in rules if r.id.lower() == (waiver.rule or "").lower()), None)
    return Category(found) if found in set(Category) else Category.DEPLOYMENT


def _rule_info(rule: Rule) -> RuleInfo:
    return RuleInfo(
        id=rule.id,
        title=rule.title,
        category=rule.category,
        severity=rule.severity,
        docs=rule.help_url,
        remediation=rule.remediation,
        description=rule.rationale or rule.title,
        applies_to=rule.applies_to,
    )


def _document(waiver: Waiver, today: date, used: bool, covered: int) -> WaiverDocument:
    """What the waiver rules read: one `waiver` document per waiver."""
    return {
        "waiver": {
            "subject": waiver.subject,
            "target": waiver.target,
            "owner": waiver.owner,
            "reason": waiver.reason,
            "expires": waiver.expires.isoformat(),
            "expired": waiver.expires < today,
            "used": used,
            "covered": covered,
        }
    }


def _synthetic(rule: Rule, waiver: Waiver, category: Category, document: Mapping[str, Any]) -> Finding:
    return Finding(
        rule_id=rule.id,
        title=rule.title,
        category=category,
        severity=rule.severity,
        status=Status.FAIL,
        target=f"waiver:{waiver.source}",
        target_name=f"waiver for {waiver.subject} on {waiver.target}",
        message=render_message(rule.message, document),
        remediation=render_message(rule.remediation, document),
        docs=rule.help_url,
        location=SourceLocation(waiver.file, waiver.line),
    )


def _judged(rule: Rule, document: Mapping[str, Any]) -> bool:
    """Whether the waiver rule fails on this waiver: its own `where` and `fails_when`, from its YAML."""
    where, fails_when = rule.compiled
    return (where is None or where(document) is True) and fails_when(document) is True


def apply_waivers(report: Report, waivers: Sequence[Waiver], today: date) -> Report:
    """Mark failing and unknown findings that an active waiver covers as waived (first matching waiver
    wins); turn expired waivers into failing findings and unused ones into info findings."""
    if not waivers:
        return report
    active = [w for w in waivers if w.expires >= today]
    used: set[int] = set()
    findings: list[Finding] = []
    for finding in report.findings:
        waiver = next((w for w in active if finding.status in _WAIVABLE and w.matches(finding)), None)
        if waiver is None:
            findings.append(finding)
            continue
        used.add(id(waiver))
        reason = waiver.ref().describe()
        if finding.status is Status.UNKNOWN and finding.reason:
            reason += f"; was unknown: {finding.reason}"
        findings.append(replace(finding, status=Status.WAIVED, reason=reason, waiver=waiver.ref()))
    extra_rules: dict[str, RuleInfo] = {}
    waiver_rules = [gating_rule(rule_id) for rule_id in WAIVER_RULES]
    for waiver in waivers:
        category = _category(waiver, report.rules)
        expired = waiver.expires < today
        covered = sum(1 for f in report.findings if f.status in _WAIVABLE and waiver.matches(f)) if expired else 0
        document = _document(waiver, today, id(waiver) in used, covered)
        for rule in waiver_rules:
            if _judged(rule, document):
                findings.append(_synthetic(rule, waiver, category, document))
                extra_rules[rule.id] = _rule_info(rule)
    rules = {r.id: r for r in report.rules}
    rules.update(extra_rules)
    return replace(
        report,
        findings=tuple(sorted(findings, key=lambda f: f.sort_key)),
        rules=tuple(sorted(rules.values(), key=lambda r: r.id)),
    )


def waiver_snippet(rule_id: str, target: str = "ACCOUNT/DEPLOYMENT") -> str:
    """How to waive a rule's finding, as the waivers file (`--waivers`) takes it: the rule pages and the HTML
    report's drill-down show the same text."""
    return (
        "waivers:\n"
        f"  - rule: {rule_id}\n"
        f'    target: "{target}"   # glob over the target name or ARM id\n'
        "    reason: why this is accepted, and what will end it\n"
        "    owner: team@example.com\n"
        "    expires: 2027-03-31\n"
    )
