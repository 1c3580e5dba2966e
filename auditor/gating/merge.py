"""`audit merge REPORT.json... --out DIR`: one set of reports from the report.json files of shard runs.

The shards must come from the same rule set and knowledge base (else exit 2, naming both files): a finding
means nothing next to one judged by other rules. Targets may not overlap. When the shards say they are K of N,
a missing shard makes the merged audit incomplete, so a job that died never reads as a pass. The gate and the
exit code are computed on the merged result, exactly as a single run's.

A shard file is input like any other, and may be forged: it is read through the bounded reader, its nesting
is bounded, its `shard` label must be K/N; it may speak only for the accounts in its own targets (and those
must fall in its K of N); a finding key repeated across shards (the tenant-wide ones) resolves to the worst
status, and a waiver that has expired waives nothing. An empty shard is complete with zero accounts; a merge
that holds no account at all audited nothing and is incomplete.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

from auditor.gating.reportfile import read_report
from auditor.gating.shard import parse_shard, shard_of
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

MAX_SHARD_BYTES = 1024 * 1024 * 1024
"""A report.json of a 2,000-account shard with full passes is well under this."""
MAX_DEPTH = 64
"""Nesting of a report.json (evidence included): a real one stays under 12."""
EMPTY_SCOPE = "audited nothing:"
"""The start of the gap a run that found no account reports (auditor/pipeline/audit.py)."""
_RANK = {Status.PASS: 0, Status.SKIPPED: 1, Status.WAIVED: 2, Status.UNKNOWN: 3, Status.FAIL: 4}
_CHANGES = {"added", "removed", "model_version", "model", "sku", "capacity"}

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


def _label(path: Path, data: Mapping[str, Any]) -> tuple[int, int] | None:
    label = data.get("shard")
    if label is None:
        return None
    if not isinstance(label, str):
        raise InputError(f'{path}: "shard" must be a string K/N, not {str(label)[:40]!r}')
    try:
        return parse_shard(label)
    except InputError as exc:
        raise InputError(f'{path}: "shard": {exc}') from None


def _check_own_targets(path: Path, data: Mapping[str, Any], label: tuple[int, int] | None) -> None:
    """A shard speaks only for the accounts in its own targets, and those fall in its own K of N."""
    own = {str(t["id"]).lower() for t in data["targets"]}
    if label is not None:
        for target in data["targets"]:
            if shard_of(str(target["id"]), label[1]) != label[0]:
                raise InputError(f"{path}: account {target['name']} is not in shard {label[0]}/{label[1]}")
    rows = [("finding", f.get("account_id")) for f in data["findings"]]
    rows += [("deployment", d.get("account_id")) for d in data["deployments"]]
    for what, account in rows:
        if account is not None and str(account).lower() not in own:
            raise InputError(f"{path}: a {what} about {account}, which is not among this shard's targets")


def _worse(old: Finding | None, new: Finding) -> Finding:
    """Of two findings with one key (a tenant-wide finding every shard reports), the worse status wins."""
    if old is None:
        return new
    return new if _RANK[new.status] > _RANK[old.status] else old


def _unexpired(finding: Finding, today: date) -> Finding:
    """A waived finding whose waiver has expired (or names no valid date) is failing: no waiver, no waiving."""
    if finding.status is not Status.WAIVED:
        return finding
    try:
        valid = finding.waiver is not None and date.fromisoformat(str(finding.waiver.expires)) >= today
    except ValueError:
        valid = False
    if valid:
        return finding
    return dataclasses.replace(finding, status=Status.FAIL, waiver=None)


def _safe_docs(value: Any) -> str | None:
    """A rule's documentation link, kept only as an http(s) URL (never javascript: or data: in a report)."""
    text = str(value or "")
    return text if text.startswith(("https://", "http://")) and not any(c.isspace() for c in text) else None


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


def _missing_shards(paths: Sequence[Path], labels: Sequence[tuple[int, int] | None]) -> list[str]:
    if not any(labels):
        return []
    counts = {label[1] for label in labels if label}
    if None in labels or len(counts) != 1:
        raise InputError("cannot merge: every report must be a shard of the same N (--shard K/N), or none")
    count = counts.pop()
    present = [label[0] for label in labels if label]
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
        changes=tuple(
            _build(DeploymentChange, c) for d in drifts if d for c in d["deployment_changes"] if c["change"] in _CHANGES
        ),
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


def _gaps(
    shards: Sequence[Mapping[str, Any]], labels: Sequence[tuple[int, int] | None], targets: Sequence[TargetResult]
) -> tuple[str, ...]:
    """The shards' gaps, but an empty shard's "audited nothing" is not one (its bucket held no account); a merge
    with no account at all audited nothing."""
    gaps = tuple(
        str(g)
        for s, label in zip(shards, labels, strict=True)
        for g in s.get("gaps") or ()
        if label is None or not str(g).startswith(EMPTY_SCOPE)
    )
    if any(labels) and not targets and not any(g.startswith(EMPTY_SCOPE) for g in gaps):
        gaps += (f"{EMPTY_SCOPE} no shard holds an account",)
    return gaps


def merge_reports(paths: Sequence[Path], today: date | None = None) -> Report:
    """The shards' report.json files as one Report, in the order a single run would give."""
    if not paths:
        raise InputError("audit merge needs at least one report.json")
    today = today or date.today()
    shards = [load_shard(p) for p in paths]
    current = paths[0]
    try:  # a report.json edited by hand or cut short names its file, never a traceback
        labels = []
        for index, data in enumerate(shards):
            current = paths[index]
            _rule_set(data)
            for t in data["targets"]:
                str(t["id"]), str(t["name"])
            labels.append(_label(current, data))
            _check_own_targets(current, data, labels[-1])
        _check_compatible(paths, shards)
        missing = _missing_shards(paths, labels)
        findings: dict[str, Finding] = {}
        pass_counts: list[PassCount] = []
        targets: list[TargetResult] = []
        inventory: list[InventoryRow] = []
        retirements: list[RetirementRow] = []
        traffic: list[TrafficRow] = []
        for index, data in enumerate(shards):
            current = paths[index]
            for f in data["findings"]:
                finding = _unexpired(_finding(f), today)
                findings[finding.key] = _worse(findings.get(finding.key), finding)  # tenant-wide ones recur
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
            gaps=_gaps(shards, labels, targets) + tuple(missing),
            rules=tuple(
                _build(
                    RuleInfo,
                    r,
                    severity=Severity(r["severity"]),
                    category=_category(r["category"]),
                    docs=_safe_docs(r.get("docs")),
                )
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
