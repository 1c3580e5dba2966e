"""Text for people about the rules and the knowledge base (`audit rules`, `audit kb`, the README table)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from auditor.engine.rules import Rule
from auditor.gating.waivers import waiver_snippet
from auditor.knowledge.base import KnowledgeBase
from auditor.model.results import CATEGORIES


def rules_markdown(rules: Sequence[Rule], *, linked: bool = False) -> str:
    """The rule list by category, as a Markdown table (`audit rules`; `linked`: each id links its page, for
    docs/rules/index.md)."""
    lines = []
    for category in CATEGORIES:
        chosen = [r for r in rules if r.category == category]
        if not chosen:
            continue
        lines += [f"### {category}", "", "| id | severity | applies to | title |", "|---|---|---|---|"]
        lines += [
            f"| {f'[`{r.id}`]({r.id}.md)' if linked else f'`{r.id}`'} | {r.severity.value} | {r.applies_to} | {r.title} |"
            for r in chosen
        ]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


_OPERATORS = {
    "equals": "is",
    "notEquals": "is not",
    "in": "is one of",
    "notIn": "is none of",
    "contains": "contains",
    "notContains": "does not contain",
    "containsAny": "contains any of",
    "containsNone": "contains none of",
    "like": "matches the pattern",
    "notLike": "does not match the pattern",
    "match": "matches the regular expression",
    "notMatch": "does not match the regular expression",
    "exists": "exists:",
    "greater": "is greater than",
    "greaterOrEquals": "is at least",
    "less": "is less than",
    "lessOrEquals": "is at most",
}


def _operand(value: Any) -> str:
    if isinstance(value, Mapping) and set(value) == {"field"}:
        return f"the fact `{value['field']}`"
    if isinstance(value, list):
        return ", ".join(f"`{_scalar(v)}`" for v in value) or "(nothing)"
    return f"`{_scalar(value)}`"


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "null" if value is None else str(value)


def describe_condition(condition: Mapping[str, Any], depth: int = 0) -> list[str]:
    """A condition as a nested Markdown list a person can read (the grammar is Azure Policy's)."""
    pad = "  " * depth
    for key, word in (("allOf", "all of"), ("anyOf", "any of")):
        if key in condition:
            lines = [f"{pad}- {word}:"]
            for part in condition[key]:
                lines += describe_condition(part, depth + 1)
            return lines
    if "not" in condition:
        return [f"{pad}- not:", *describe_condition(condition["not"], depth + 1)]
    (operator,) = [k for k in condition if k != "field"]
    return [f"{pad}- `{condition['field']}` {_OPERATORS.get(operator, operator)} {_operand(condition[operator])}"]


_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)\}")


def _prose(text: str) -> str:
    """A rule's text on one line, each `{fact.path}` placeholder shown as the fact's name in code (the page
    describes every target; a finding fills the facts in)."""
    return _PLACEHOLDER.sub(r"`\1`", " ".join(text.split()))


_FIX_TARGETS = {"code": "the app's call", "iac": "the planned deployment in its plan file"}


def _how_to_fix(rule: Rule) -> list[str]:
    lines = [_prose(rule.remediation), ""]
    for where, kind in rule.fix.items():
        lines += [
            f"The audit makes this edit itself for a failing finding (`{kind}`, on {_FIX_TARGETS.get(where, where)}):"
            " it writes it to `fixes.patch` in the report directory; review it, then `git apply fixes.patch`.",
            "",
        ]
    if rule.remediation_by:
        lines += [f"The finding gives the advice that fits `{rule.remediation_by['field']}`:", ""]
        lines += [f"- `{value}`: {_prose(text)}" for value, text in rule.remediation_by["cases"].items()]
        lines.append("")
    return lines


def _link(reference: str) -> str:
    return f"<{reference}>" if reference.startswith("https://") else reference


def parameters_section(rule: Rule) -> list[str]:
    """The rule's parameters (the thresholds its conditions read), their defaults, and how to change one."""
    if not rule.parameters:
        return []
    lines = ["## Parameters", "", "| parameter | default | meaning |", "|---|---|---|"]
    for name, spec in rule.parameters.items():
        lines.append(f"| `{name}` | `{_scalar(spec['default'])}` | {_prose(str(spec['description']))} |")
    first = next(iter(rule.parameters))
    lines += [
        "",
        f"The conditions above show the defaults. Change one for a run with `--rule-param {rule.id}.{first}=VALUE`.",
        "",
    ]
    return lines


def rule_page(rule: Rule) -> str:
    """The rule's documentation page (docs/rules/<ID>.md) and `audit rules explain ID`: what it checks, why it
    matters, how to fix it, how to waive it, and the sources. Generated from the rule file, never edited."""
    lines = [
        f"# {rule.id}: {rule.title}",
        "",
        "<!-- Generated from the rule file by `python -m tests.update_docs`; edit the rule, not this page. -->",
        "",
        "| category | severity | applies to | since |",
        "|---|---|---|---|",
        f"| {rule.category.value} | {rule.severity.value} | {rule.applies_to} | {rule.since} |",
        "",
        "## What it checks",
        "",
    ]
    if rule.where:
        lines += ["It applies when:", "", *describe_condition(rule.where), ""]
    lines += ["It fails when:", "", *describe_condition(rule.fails_when), ""]
    lines += ["The finding says (`code` names a fact of the audited target):", "", f"> {_prose(rule.message)}", ""]
    lines += parameters_section(rule)
    lines += ["## Why it matters", "", _prose(rule.rationale or "(no rationale given)"), ""]
    lines += ["## How to fix", "", *_how_to_fix(rule)]
    for example in rule.examples:
        lines += [f"{example['title']}:", "", f"```{example['language']}", example["code"].rstrip("\n"), "```", ""]
    lines += [
        *_how_to_waive(rule),
        "## Sources",
        "",
        f"- {_link(rule.docs)}",
        *[f"- {_link(r)}" for r in rule.references if r != rule.docs],
        "",
    ]
    if rule.labels:
        lines += ["Maps to: " + ", ".join(f"{k} {v}" for k, v in sorted(rule.labels.items())), ""]
    return "\n".join(lines)


def _how_to_waive(rule: Rule) -> list[str]:
    if rule.applies_to == "waiver":
        return ["## How to waive", "", "The gate judges the waivers file with this rule: edit the waiver itself.", ""]
    return [
        "## How to waive",
        "",
        "Accept a finding for a while, with an owner and a date, in the waivers file (`--waivers`):",
        "",
        "```yaml",
        waiver_snippet(rule.id).rstrip("\n"),
        "```",
        "",
        f"Or leave the rule out of a run: `audit ... --ignore {rule.id}`.",
        "",
    ]


def explain(rule: Rule) -> str:
    """`audit rules explain ID`: the rule's documentation page, as docs/rules/<ID>.md has it."""
    return rule_page(rule)


def rule_pages(rules: Sequence[Rule]) -> dict[str, str]:
    """File name -> text of every rule's page, for the docs/rules/ directory."""
    return {f"{rule.id}.md": rule_page(rule) for rule in rules}


_KIND_NOTES = {
    "account": "One per Azure OpenAI / AI services account",
    "knowledge_base": "One per audit: the model knowledge base itself",
    "deployment": "One per deployment",
    "quota_usage": "One per quota line an audited deployment draws on",
    "contract_call": "One per call of the app (the contract) and deployment it reaches",
    "contract_parameter": "One per parameter a call sends, on each deployment it reaches",
    "probe": "One per live probe (`--probe`)",
    "planned_deployment": "One per planned deployment (`--plan`)",
    "upgrade": "One per call (or deployment) whose deployment changes model next (upgrade impact)",
    "waiver": "One per waiver of the waivers file (`--waivers`); judged by the gate after the audit",
}


def _field_lines(spec: Mapping[str, Any], prefix: str = "") -> list[str]:
    from auditor.engine.fields import ANY

    lines = []
    for name, inner in spec.items():
        path = f"{prefix}{name}"
        if inner == ANY:
            lines.append(f"- `{path}` (and any key below it)")
        elif isinstance(inner, Mapping):
            lines += _field_lines(inner, path + ".")
        else:
            lines.append(f"- `{path}`")
    return lines


def fields_reference() -> str:
    """docs/reference/rule-fields.md: every field a rule may read, per subject kind, from the typed documents
    (auditor/model/documents.py) the engine derives its declarations from."""
    from auditor.engine.fields import RULE_FIELDS

    lines = [
        "# The fields a rule can read",
        "",
        "<!-- Generated from auditor/model/documents.py by `python -m tests.update_docs`; edit the types, not this"
        " page. -->",
        "",
        "A rule's `applies_to` names the kind of subject it judges; its conditions (`field:`) and its messages",
        "(`{field.path}`) may read the fields below. A path not listed is refused when the rule file loads (exit 2,",
        "with the file, the line and a did-you-mean). A fact that could not be read is *unknown*, and a rule never",
        "passes on an unknown fact.",
        "",
    ]
    for kind, spec in RULE_FIELDS.items():
        lines += [f"## {kind}", "", f"{_KIND_NOTES.get(kind, kind)}.", "", *_field_lines(spec), ""]
    return "\n".join(lines)


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
        *[f"layer {layer.name}: {layer.path} (checked {layer.checked})" for layer in kb.layers[1:]],
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
