"""Apply rules to subjects: pure functions from (rules, facts, knowledge, date) to findings."""

from __future__ import annotations

import dataclasses
import re
from datetime import date
from functools import lru_cache
from types import MappingProxyType
from typing import Any, Iterable, Iterator, Mapping, Sequence

from auditor.engine.conditions import UNKNOWN, resolve_keys, unknown_fields
from auditor.engine.rules import Rule
from auditor.engine.subjects import Subject, build_subjects
from auditor.facts import Facts
from auditor.knowledge import KnowledgeBase
from auditor.results import Finding, Status

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)\}")


def _text(value: Any) -> str:
    if value is UNKNOWN:
        return "unknown"
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (list, tuple)):
        return ", ".join(_text(v) for v in value) or "none"
    return str(value)


@lru_cache(maxsize=1024)
def _compile(template: str) -> tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]:
    """Split a message template once into literal text and the fact paths between it."""
    parts = _PLACEHOLDER.split(template)
    return tuple(parts[0::2]), tuple(tuple(p.split(".")) for p in parts[1::2])


def render_message(template: str, document: Mapping[str, Any]) -> str:
    """Fill `{dotted.path}` placeholders from the subject; data in, text out, nothing evaluated."""
    literals, paths = _compile(template)
    if not paths:
        return template
    pieces = [literals[0]]
    for path, literal in zip(paths, literals[1:]):
        pieces.append(_text(resolve_keys(document, path)))
        pieces.append(literal)
    return "".join(pieces)


def _fields(condition: Mapping[str, Any] | None) -> Iterator[str]:
    if not condition:
        return
    for key in ("allOf", "anyOf"):
        for child in condition.get(key, ()):
            yield from _fields(child)
    if "not" in condition:
        yield from _fields(condition["not"])
    if "field" in condition:
        yield str(condition["field"])


def _disputed_note(rule: Rule, document: Mapping[str, Any]) -> str:
    model = document.get("model")
    if not isinstance(model, dict) or not model.get("disputed"):
        return ""
    used = {path.split(".")[1] for path in _fields(rule.fails_when) if path.startswith("model.") and "." in path}
    used |= {"apis"} if any(p == "model.responses_only" for p in _fields(rule.fails_when)) else set()
    notes = [f"{fact}: {text}" for fact, text in model["disputed"].items() if fact in used]
    return f" Note: this relies on a disputed knowledge-base fact ({'; '.join(notes)})." if notes else ""


def _defaults() -> dict[str, Any]:
    values: dict[str, Any] = {}
    for f in dataclasses.fields(Finding):
        if f.default is not dataclasses.MISSING:
            values[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            values[f.name] = MappingProxyType(f.default_factory())  # shared, and read-only so sharing is safe
    return values


_FINDING_DEFAULTS = _defaults()


def _new_finding(**fields: Any) -> Finding:
    """A Finding built without the frozen dataclass's per-field setattr: a fleet makes hundreds of
    thousands of them. Same fields and defaults as `Finding(...)`; the instance stays frozen after."""
    finding = object.__new__(Finding)
    finding.__dict__.update(_FINDING_DEFAULTS)
    finding.__dict__.update(fields)
    return finding


def evaluate_rule(rule: Rule, subject: Subject) -> Finding | None:
    """The finding of one rule on one subject, or None when the rule does not apply."""
    document = subject.document
    status: Status
    reason = None
    where, fails_when = rule.compiled
    applies = where(document) if where else True
    if applies is False:
        return None
    if applies is UNKNOWN:
        status = Status.UNKNOWN
        reason = "could not tell whether the rule applies: unknown " + ", ".join(unknown_fields(rule.where or {}, document))
    else:
        outcome = fails_when(document)
        if outcome is UNKNOWN:
            status = Status.UNKNOWN
            reason = "unknown " + ", ".join(sorted(set(unknown_fields(rule.fails_when, document))))
        else:
            status = Status.FAIL if outcome else Status.PASS
    if status is Status.FAIL:
        message = render_message(rule.message, document) + _disputed_note(rule, document)
    elif status is Status.PASS:
        message = render_message(rule.pass_message or f"OK: {rule.title}", document)
    else:
        message = f"Could not evaluate: {reason}."
        if subject.evidence.get("summary"):  # what was observed, e.g. a probe's HTTP 500 after its retries
            message += f" Evidence: {subject.evidence['summary']}"
    return _new_finding(
        rule_id=rule.id,
        title=rule.title,
        category=rule.category,
        severity=rule.severity,
        status=status,
        target=subject.target,
        target_name=subject.target_name,
        message=message,
        remediation=render_message(rule.remediation, document),
        docs=rule.docs,
        account_id=subject.account_id,
        deployment=subject.deployment,
        location=subject.location,
        reason=reason,
        evidence=dict(subject.evidence),
    )


def evaluate_all(
    rules: Iterable[Rule], facts: Facts, kb: KnowledgeBase, today: date, subjects: Sequence[Subject] | None = None
) -> list[Finding]:
    """Every rule on every subject it applies to, sorted for stable reports."""
    if subjects is None:
        subjects = list(build_subjects(facts, kb, today))
    by_kind: dict[str, list[Subject]] = {}
    for subject in subjects:
        by_kind.setdefault(subject.kind, []).append(subject)
    findings = []
    for rule in rules:
        for subject in by_kind.get(rule.applies_to, ()):
            finding = evaluate_rule(rule, subject)
            if finding is not None:
                findings.append(finding)
    return sorted(findings, key=lambda f: f.sort_key)
