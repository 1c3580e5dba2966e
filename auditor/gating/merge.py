"""`audit merge REPORT.json... --out DIR`: one set of reports from the report.json files of shard runs.

The shards must come from the same rule set and knowledge base (else exit 2, naming both files): a finding
means nothing next to one judged by other rules. Targets may not overlap. When the shards say they are K of N,
a missing shard makes the merged audit incomplete, so a job that died never reads as a pass. The gate and the
exit code are computed on the merged result, exactly as a single run's.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from auditor.gating.reportfile import read_report
from auditor.model.errors import InputError
from auditor.model.facts import SourceLocation
from auditor.model.results import (
    Category,
    Cause,
    DeploymentChange,
    Drift,
    Finding,
    InventoryRow,
    PassCount,
    QuotaLine,
    Report,
    ResolvedFinding,
    RetirementRow,
    RuleInfo,
    Severity,
    Status,
    TargetResult,
    TargetStatus,
    TrafficRow,
    WaiverRef,
)

T = TypeVar("T")
_MERGE_NEEDS = ("ruleset", "rules")
"""What merging needs beyond what every report.json reader checks (gating/reportfile.READ_SCHEMA)."""


def _build(cls: type[T], data: Mapping[str, Any], **overrides: Any) -> T:
    """A result-model object from its report.json form: known fields only, lists as tuples."""
    names = {f.name for f in dataclasses.fields(cls) if f.init}  # type: ignore[arg-type]
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k in names}
    values.update(overrides)
    return cls(**values)


def _category(value: str) -> Category | str:
    """A built-in category as its enum member; a custom rule pack's own category stays a string."""
    try:
        return Category(value)
    except ValueError:
        return value


def _finding(data: Mapping[str, Any]) -> Finding:
    location = data.get("location")
    waiver = data.get("waiver")
    return _build(
        Finding,
        data,
        category=_category(data["category"]),
        severity=Severity(data["severity"]),
        status=Status(data["status"]),
        cause=Cause(data["cause"]) if data.get("cause") else None,
        location=SourceLocation(location["file"], int(location["line"])) if location else None,
        waiver=_build(WaiverRef, waiver) if waiver else None,
        evidence=data.get("evidence"),
    )


def load_shard(path: Path) -> dict[str, Any]:
    """One report.json, checked enough to merge (gating/reportfile.py, the same bounds and checks as a
    baseline, plus the rule set merging compares): an InputError names the file and what is wrong."""
    return read_report(path, what="report", require=_MERGE_NEEDS, lines=False)


def _rule_set(data: Mapping[str, Any]) -> tuple[str, str | None, tuple[str, ...]]:
    return data["ruleset"], data.get("knowledge_checked"), tuple(sorted(r["id"] for r in data["rules"]))


def _check_compatible(paths: Sequence[Path], shards: Sequence[Mapping[str, Any]]) -> None:
    first_path, first = paths[0], _rule_set(shards[0])
    for path, data in zip(paths[1:], shards[1:], strict=True):
        ruleset, checked, rules = _rule_set(data)
        if ruleset != first[0] or rules != first[2]:
            raise InputError(
                f"cannot merge {path} with {first_path}: different rule sets ({ruleset}, {len(rules)} rules vs "
                f"{first[0]}, {len(first[2])} rules); audit every shard with the same --ruleset, --rules, "
                "--select and --ignore"
            )
        if checked != first[1]:
            raise InputError(
                f"cannot merge {path} with {first_path}: different knowledge bases (checked {checked} vs "
                f"{first[1]}); audit every shard with the same auditor release"
            )
    seen: dict[str, Path] = {}
    for path, data in zip(paths, shards, strict=True):
        for t in data["targets"]:
            other = seen.setdefault(str(t["id"]).lower(), path)
            if other != path:
                raise InputError(f"cannot merge: account {t['name']} is in both {other} and {path} (shards overlap)")


def _missing_shards(paths: Sequence[Path], shards: Sequence[Mapping[str, Any]]) -> list[str]:
    labels = [s.get("shard") for s in shards]
    if not any(labels):
        return []
    counts = {str(label).split("/")[1] for label in labels if label}
    if None in labels or len(counts) != 1:
        raise InputError("cannot merge: every report must be a shard of the same N (--shard K/N), or none")
    count = int(counts.pop())
    present = [int(str(label).split("/")[0]) for label in labels]
    for k in set(present):
        if present.count(k) > 1:
            dupes = [str(p) for p, n in zip(paths, present, strict=True) if n == k]
            raise InputError(f"cannot merge: shard {k}/{count} given twice ({', '.join(dupes)})")
    return [
        f"shard {k}/{count} is missing: its accounts were not audited" for k in range(1, count + 1) if k not in present
    ]


def _quota(shards: Sequence[Mapping[str, Any]]) -> tuple[QuotaLine, ...]:
    """One line per (subscription, location, quota name); shards that share a region add their deployments."""
    lines: dict[tuple[str, str, str], QuotaLine] = {}
    for data in shards:
        for q in data.get("quota") or ():
            line = _build(QuotaLine, q)
            key = (line.subscription_id, line.location, line.name)
            if key in lines:
                old = lines[key]
                line = dataclasses.replace(
                    old,
                    models=tuple(sorted({*old.models, *line.models})),
                    deployments=tuple(sorted({*old.deployments, *line.deployments})),
                )
            lines[key] = line
    return tuple(lines[k] for k in sorted(lines))


def _drift(shards: Sequence[Mapping[str, Any]]) -> Drift | None:
    drifts = [s.get("drift") for s in shards]
    if not drifts or not all(drifts):
        return None
    return Drift(
        baseline_generated_at=min(d["baseline_generated_at"] for d in drifts if d),
        baseline_tool_version=str(drifts[0]["baseline_tool_version"]) if drifts[0] else "",
        resolved=tuple(
            _build(ResolvedFinding, r, severity=Severity(r["severity"]), status=Status(r["status"]))
            for d in drifts
            if d
            for r in d["resolved"]
        ),
        changes=tuple(_build(DeploymentChange, c) for d in drifts if d for c in d["deployment_changes"]),
    )


def _probes(shards: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    summaries = [s["summary"].get("probes") for s in shards if isinstance(s.get("summary"), dict)]
    present = [p for p in summaries if p]
    if not present:
        return None
    merged: dict[str, Any] = {}
    for p in present:
        for key, value in p.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                merged[key] = merged.get(key, 0) + value
            elif isinstance(value, list):
                merged[key] = [*merged.get(key, []), *value]
            else:
                merged.setdefault(key, value)
    return merged


def merge_reports(paths: Sequence[Path]) -> Report:
    """The shards' report.json files as one Report, in the order a single run would give."""
    if not paths:
        raise InputError("audit merge needs at least one report.json")
    shards = [load_shard(p) for p in paths]
    current = paths[0]
    try:  # a report.json edited by hand or cut short names its file, never a traceback
        for index, data in enumerate(shards):
            current = paths[index]
            _rule_set(data)
            for t in data["targets"]:
                str(t["id"]), str(t["name"])
        _check_compatible(paths, shards)
        missing = _missing_shards(paths, shards)
        findings: dict[str, Finding] = {}
        pass_counts: list[PassCount] = []
        targets: list[TargetResult] = []
        inventory: list[InventoryRow] = []
        retirements: list[RetirementRow] = []
        traffic: list[TrafficRow] = []
        for index, data in enumerate(shards):
            current = paths[index]
            for f in data["findings"]:
                finding = _finding(f)
                findings.setdefault(finding.key, finding)  # tenant-wide ones (quota, knowledge base) recur
            pass_counts += [_build(PassCount, p) for p in data.get("pass_counts") or ()]
            targets += [_build(TargetResult, t, status=TargetStatus(t["status"])) for t in data["targets"]]
            inventory += [_build(InventoryRow, d) for d in data["deployments"]]
            retirements += [_build(RetirementRow, r) for r in data.get("retirements") or ()]
            traffic += [_build(TrafficRow, t) for t in data.get("traffic") or ()]
        current = paths[0]
        first = shards[0]
        return Report(
            generated_at=max(datetime.fromisoformat(s["generated_at"]) for s in shards),
            tool_version=str(first["tool_version"]),
            ruleset=str(first["ruleset"]),
            knowledge_checked=first.get("knowledge_checked"),
            targets=tuple(sorted(targets, key=lambda t: t.id.lower())),
            deployments=tuple(sorted(inventory, key=lambda d: (d.account_id.lower(), d.name.lower()))),
            findings=tuple(sorted(findings.values(), key=lambda f: f.sort_key)),
            gaps=tuple(g for s in shards for g in s.get("gaps") or ()) + tuple(missing),
            rules=tuple(
                _build(RuleInfo, r, severity=Severity(r["severity"]), category=_category(r["category"]))
                for r in first["rules"]
            ),
            quota=_quota(shards),
            retirements=tuple(sorted(retirements, key=lambda r: (r.account_name.lower(), r.deployment.lower()))),
            drift=_drift(shards),
            probe_summary=_probes(shards),
            pass_counts=tuple(pass_counts),
            traffic=tuple(traffic),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InputError(f"{current}: not an audit report.json: {type(exc).__name__}: {exc}") from None
