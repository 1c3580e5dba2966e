"""The machine-readable report (`report.json`), described by auditor/schemas/report.schema.json.

Everything comes out in the order the report fixed, so two runs over the same tenant give the same file
but for `generated_at`.
"""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import Any

import orjson

from auditor.results import Drift, Finding, Report

SCHEMA_VERSION = "1.1"


def _finding(f: Finding) -> dict[str, Any]:
    return {
        "key": f.key,
        "rule_id": f.rule_id,
        "title": f.title,
        "category": f.category,
        "severity": f.severity.value,
        "status": f.status.value,
        "target": f.target,
        "target_name": f.target_name,
        "account_id": f.account_id,
        "deployment": f.deployment,
        "message": f.message,
        "remediation": f.remediation,
        "docs": f.docs,
        "reason": f.reason,
        "location": {"file": f.location.file, "line": f.location.line} if f.location else None,
        "waiver": asdict(f.waiver) if f.waiver else None,
        "drift": f.drift,
        "evidence": dict(f.evidence) if f.evidence else None,
    }


def _shallow(item: Any) -> dict[str, Any]:
    """A flat dataclass as a dict, without asdict's deep copy (a fleet has tens of thousands of rows)."""
    return {f.name: getattr(item, f.name) for f in fields(item)}


def _drift(drift: Drift | None) -> dict[str, Any] | None:
    if drift is None:
        return None
    return {
        "baseline_generated_at": drift.baseline_generated_at,
        "baseline_tool_version": drift.baseline_tool_version,
        "resolved": [dict(asdict(r), severity=r.severity.value, status=r.status.value) for r in drift.resolved],
        "deployment_changes": [asdict(c) for c in drift.changes],
    }


def report_to_dict(report: Report) -> dict[str, Any]:
    """The report as plain data, in the order the engine fixed."""
    return {
        "schema_version": SCHEMA_VERSION,
        "generated_at": report.generated_at.isoformat(),
        "tool_version": report.tool_version,
        "ruleset": report.ruleset,
        "knowledge_checked": report.knowledge_checked,
        "complete": report.complete,
        "summary": report.summary(),
        "targets": [dict(asdict(t), reasons=list(t.reasons)) for t in report.targets],
        "deployments": [_shallow(d) for d in report.deployments],
        "quota": [dict(asdict(q), models=list(q.models), deployments=list(q.deployments)) for q in report.quota],
        "retirements": [_shallow(r) for r in report.retirements],
        "rules": [dict(asdict(r), severity=r.severity.value) for r in report.rules],
        "findings": [_finding(f) for f in report.findings],
        "drift": _drift(report.drift),
        "gaps": list(report.gaps),
    }


def render_json(report: Report) -> str:
    """Indented JSON through orjson: the same text json.dumps(indent=2) gives for this data, ten times faster."""
    return orjson.dumps(report_to_dict(report), option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode() + "\n"
