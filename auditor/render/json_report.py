"""The machine-readable report (`report.json`)."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from auditor.results import Finding, Report

SCHEMA_VERSION = "1.0"


def _finding(f: Finding) -> dict[str, Any]:
    return {
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
        "deployments": [asdict(d) for d in report.deployments],
        "findings": [_finding(f) for f in report.findings],
        "gaps": list(report.gaps),
    }


def render_json(report: Report) -> str:
    return json.dumps(report_to_dict(report), indent=2, sort_keys=False) + "\n"
