"""Drift: what changed since the last run (`--baseline previous/report.json`).

Every finding that needs attention (fail, unknown, waived) is marked `new` or `unchanged` by its stable
key (Finding.key); baseline findings that no longer need attention are listed as resolved; deployments
that appeared, disappeared, or changed model, version (an overnight auto-upgrade), SKU or capacity are
listed. Nothing is claimed about accounts this run could not read completely: a deployment is "removed"
and a finding "resolved" only where the current audit looked and saw everything. Loading does the I/O;
`apply_baseline` is pure (Report -> Report).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from auditor.model.errors import InputError
from auditor.model.results import (
    DeploymentChange,
    Drift,
    Finding,
    InventoryRow,
    Report,
    ResolvedFinding,
    Severity,
    Status,
    finding_key,
)
from auditor.util.yamlfile import read_input

if TYPE_CHECKING:
    import jsonschema

ATTENTION = (Status.FAIL, Status.UNKNOWN, Status.WAIVED)

_STR = {"type": "string"}
_OPT_STR = {"type": ["string", "null"]}
# The part of report.json drift relies on; any 1.x report (older ones too) has it.
_BASELINE_SCHEMA: Mapping[str, Any] = {
    "type": "object",
    "required": ["schema_version", "generated_at", "tool_version", "targets", "deployments", "findings"],
    "properties": {
        "schema_version": {"type": "string", "pattern": r"^1\."},
        "generated_at": _STR,
        "tool_version": _STR,
        "targets": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "name", "status"],
                "properties": {"id": _STR, "name": _STR, "status": _STR},
            },
        },
        "deployments": {
            "type": "array",
            "items": {
                "type": "object",
                "required": [
                    "account_id",
                    "account_name",
                    "name",
                    "model_name",
                    "model_version",
                    "sku_name",
                    "sku_capacity",
                ],
                "properties": {
                    "account_id": _STR,
                    "account_name": _STR,
                    "name": _STR,
                    "model_name": _OPT_STR,
                    "model_version": _OPT_STR,
                    "sku_name": _OPT_STR,
                    "sku_capacity": {"type": ["integer", "null"]},
                },
            },
        },
        "findings": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["rule_id", "title", "severity", "status", "target", "target_name", "message"],
                "properties": {
                    "rule_id": _STR,
                    "title": _STR,
                    "target": _STR,
                    "target_name": _STR,
                    "message": _STR,
                    "account_id": _OPT_STR,
                    "severity": {"enum": [s.value for s in Severity]},
                    "status": {"enum": [s.value for s in Status]},
                },
            },
        },
    },
}


@dataclass(frozen=True)
class Baseline:
    """The parts of a previous report that drift compares against."""

    path: str
    generated_at: str
    tool_version: str
    targets: tuple[Mapping[str, Any], ...]
    deployments: tuple[Mapping[str, Any], ...]
    findings: tuple[Mapping[str, Any], ...]


def _line_of_error(path: Path, error: jsonschema.ValidationError) -> int:
    """JSON is YAML: re-read with line numbers only to point at the complaint."""
    from auditor.util.yamlfile import line_of, load_yaml

    try:
        return line_of(load_yaml(path, what="baseline"), error.absolute_path)
    except InputError:
        return 1


MAX_BASELINE_BYTES = 1024 * 1024 * 1024
"""A baseline is a whole fleet's report.json (a 10,000-deployment fleet writes about 230 MB)."""


def load_baseline(path: Path | str) -> Baseline:
    """Read a previous report.json; anything that is not one is an InputError naming file and line."""
    path = Path(path)
    text = read_input(path, what="baseline", max_bytes=MAX_BASELINE_BYTES)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}:{exc.lineno}: baseline is not valid JSON: {exc.msg}") from None
    except RecursionError:
        raise InputError(f"{path}:1: baseline is not a report.json: nested too deeply") from None
    except ValueError as exc:  # a number of more than 4,300 digits (int_max_str_digits)
        raise InputError(f"{path}:1: baseline is not a report.json: {str(exc)[:120]}") from None
    import jsonschema  # only when a baseline is given: its import is ~0.1 s of every run's start-up

    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(_BASELINE_SCHEMA).iter_errors(data))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "top level"
        raise InputError(f"{path}:{_line_of_error(path, error)}: not an audit report.json: {where}: {error.message}")
    return Baseline(
        path=str(path),
        generated_at=data["generated_at"],
        tool_version=data["tool_version"],
        targets=tuple(data["targets"]),
        deployments=tuple(data["deployments"]),
        findings=tuple(data["findings"]),
    )


def _model(row: Mapping[str, Any] | InventoryRow) -> tuple[Any, Any, Any, Any]:
    get = row.get if isinstance(row, Mapping) else lambda k: getattr(row, k)
    return get("model_name"), get("model_version"), get("sku_name"), get("sku_capacity")


def _text(*parts: Any) -> str | None:
    words = [str(p) for p in parts if p not in (None, "")]
    return " ".join(words) if words else None


def _changes(report: Report, baseline: Baseline) -> list[DeploymentChange]:
    looked = {t.id.lower() for t in report.targets if t.status == "complete"}
    looked_before = {str(t["id"]).lower() for t in baseline.targets if t.get("status") == "complete"}
    before = {(str(d["account_id"]).lower(), str(d["name"]).lower()): d for d in baseline.deployments}
    now = {(d.account_id.lower(), d.name.lower()): d for d in report.deployments}
    changes: list[DeploymentChange] = []
    for key, d in now.items():
        if key not in before:
            if key[0] in looked_before:
                changes.append(
                    DeploymentChange(
                        d.account_id,
                        d.account_name,
                        d.name,
                        "added",
                        None,
                        _text(d.model_name, d.model_version, d.sku_name),
                    )
                )
            continue
        (m0, v0, s0, c0), (m1, v1, s1, c1) = _model(before[key]), _model(d)
        if m0 != m1:
            changes.append(
                DeploymentChange(d.account_id, d.account_name, d.name, "model", _text(m0, v0), _text(m1, v1))
            )
        elif v0 != v1:
            changes.append(
                DeploymentChange(d.account_id, d.account_name, d.name, "model_version", _text(v0), _text(v1))
            )
        if s0 != s1:
            changes.append(DeploymentChange(d.account_id, d.account_name, d.name, "sku", _text(s0), _text(s1)))
        if c0 != c1:
            changes.append(DeploymentChange(d.account_id, d.account_name, d.name, "capacity", _text(c0), _text(c1)))
    for key, b in before.items():
        if key not in now and key[0] in looked:
            changes.append(
                DeploymentChange(
                    str(b["account_id"]),
                    str(b["account_name"]),
                    str(b["name"]),
                    "removed",
                    _text(b.get("model_name"), b.get("model_version"), b.get("sku_name")),
                    None,
                )
            )
    return sorted(changes, key=lambda c: (c.account_name.lower(), c.deployment.lower(), c.change))


def apply_baseline(report: Report, baseline: Baseline) -> Report:
    """Mark findings new or unchanged, list resolved findings and deployment changes."""
    before = {
        finding_key(f["rule_id"], f["target"], f.get("identity") or ""): f
        for f in baseline.findings
        if f["status"] in {s.value for s in ATTENTION}
    }
    findings: list[Finding] = []
    for f in report.findings:
        mark = None if f.status not in ATTENTION else ("unchanged" if f.key in before else "new")
        findings.append(replace(f, drift=mark))
    now_keys = {f.key for f in findings if f.status in ATTENTION}
    complete = {t.id.lower() for t in report.targets if t.status == "complete"}
    resolved = [
        ResolvedFinding(
            key=key,
            rule_id=f["rule_id"],
            title=f["title"],
            severity=Severity(f["severity"]),
            status=Status(f["status"]),
            target=f["target"],
            target_name=f["target_name"],
            message=f["message"],
        )
        for key, f in before.items()
        if key not in now_keys and (not f.get("account_id") or str(f["account_id"]).lower() in complete)
    ]
    resolved.sort(key=lambda r: (r.target.lower(), r.rule_id, r.key))
    drift = Drift(
        baseline_generated_at=baseline.generated_at,
        baseline_tool_version=baseline.tool_version,
        resolved=tuple(resolved),
        changes=tuple(_changes(report, baseline)),
    )
    return replace(report, findings=tuple(findings), drift=drift)
