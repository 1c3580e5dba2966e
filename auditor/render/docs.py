"""Text for people about the rules and the knowledge base (`audit rules`, `audit kb`, the README table)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date

from auditor.engine.rules import Rule
from auditor.knowledge import KnowledgeBase
from auditor.results import CATEGORIES


def rules_markdown(rules: Sequence[Rule]) -> str:
    """The rule list by category, as a Markdown table (the README's rule section is this text)."""
    lines = []
    for category in CATEGORIES:
        chosen = [r for r in rules if r.category == category]
        if not chosen:
            continue
        lines += [f"### {category}", "", "| id | severity | applies to | title |", "|---|---|---|---|"]
        lines += [f"| `{r.id}` | {r.severity.value} | {r.applies_to} | {r.title} |" for r in chosen]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def explain(rule: Rule) -> str:
    """Everything a rule says about itself."""
    parts = [
        f"{rule.id}: {rule.title}",
        f"category: {rule.category}    severity: {rule.severity.value}    applies to: {rule.applies_to}    since: {rule.since}",
    ]
    if rule.rationale:
        parts.append(f"why: {rule.rationale}")
    parts.append(f"fails with: {rule.message}")
    parts.append(f"remediation: {rule.remediation}")
    parts.append(f"docs: {rule.docs}")
    if rule.labels:
        parts.append("maps to: " + ", ".join(f"{k} {v}" for k, v in sorted(rule.labels.items())))
    parts.append(f"defined at: {rule.source}")
    return "\n".join(parts) + "\n"


def kb_summary(kb: KnowledgeBase, today: date) -> str:
    """The knowledge base's date and coverage."""
    facts = [f for m in kb.models.values() for f in m.facts.values()]
    disputed = sum(1 for f in facts if f.disputed)
    unverified = sum(1 for f in facts if f.unverified)
    age = (today - kb.checked).days if kb.checked else None
    families = Counter(m.family or "other" for m in kb.models.values())
    covered = Counter(key for m in kb.models.values() for key in m.facts)
    lines = [
        f"knowledge base: {kb.path}",
        f"checked: {kb.checked} ({age} days ago){'  -- older than 90 days: review it' if age is not None and age > 90 else ''}",
        f"models: {len(kb.models)}   facts: {len(facts)}   disputed: {disputed}   unverified: {unverified}   sources: {len(kb.sources)}",
        "families: " + ", ".join(f"{name} {n}" for name, n in sorted(families.items())),
        "coverage (models with the fact): " + ", ".join(f"{key} {n}" for key, n in sorted(covered.items())),
    ]
    if kb.responses_regions:
        lines.append(
            f"Responses API regions: {len(kb.responses_regions.value)} (sources: {', '.join(kb.responses_regions.sources)})"
        )
    return "\n".join(lines) + "\n"
