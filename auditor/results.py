"""The result model: what the engine concludes, and the only input of the renderers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any, Mapping

from auditor.facts import SourceLocation


class Severity(str, Enum):
    """How bad a failing rule is; ordered so that a gate can compare."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 3, "warning": 2, "info": 1}[self.value]


class Status(str, Enum):
    """The outcome of one rule on one target. `unknown` is never a pass."""

    PASS = "pass"
    FAIL = "fail"
    UNKNOWN = "unknown"
    SKIPPED = "skipped"
    WAIVED = "waived"


CATEGORIES = (
    "api-support",
    "parameters",
    "access",
    "region",
    "quota",
    "lifecycle",
    "deployment",
    "security",
    "probe",
)


@dataclass(frozen=True)
class Finding:
    """One rule evaluated on one target."""

    rule_id: str
    title: str
    category: str
    severity: Severity
    status: Status
    target: str
    target_name: str
    message: str
    remediation: str
    docs: str | None = None
    account_id: str | None = None
    deployment: str | None = None
    location: SourceLocation | None = None
    reason: str | None = None
    evidence: Mapping[str, Any] = field(default_factory=dict)

    @property
    def sort_key(self) -> tuple[str, str, str, str]:
        return (self.account_id or "", self.target, self.rule_id, self.message)


@dataclass(frozen=True)
class TargetResult:
    """An audited account and whether everything about it could be read."""

    id: str
    name: str
    subscription_id: str
    location: str
    kind: str
    status: str
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class InventoryRow:
    """One deployment as it stands, for the report's inventory."""

    account_id: str
    account_name: str
    name: str
    model_name: str | None
    model_version: str | None
    model_format: str | None
    sku_name: str | None
    sku_capacity: int | None
    provisioning_state: str | None
    version_upgrade_option: str | None


@dataclass(frozen=True)
class Report:
    """A finished audit: targets, inventory and findings in a stable order."""

    generated_at: datetime
    tool_version: str
    ruleset: str
    knowledge_checked: str | None
    targets: tuple[TargetResult, ...]
    deployments: tuple[InventoryRow, ...]
    findings: tuple[Finding, ...]
    gaps: tuple[str, ...] = ()

    @property
    def complete(self) -> bool:
        return all(t.status == "complete" for t in self.targets) and not self.gaps

    def summary(self) -> dict[str, Any]:
        """Counts by status, by severity of failures, and by category of failures."""
        by_status = {s.value: 0 for s in Status}
        failed_by_severity = {s.value: 0 for s in Severity}
        failed_by_category: dict[str, int] = {}
        for f in self.findings:
            by_status[f.status.value] += 1
            if f.status is Status.FAIL:
                failed_by_severity[f.severity.value] += 1
                failed_by_category[f.category] = failed_by_category.get(f.category, 0) + 1
        return {
            "targets": len(self.targets),
            "incomplete_targets": sum(1 for t in self.targets if t.status != "complete"),
            "deployments": len(self.deployments),
            "findings": len(self.findings),
            "by_status": by_status,
            "failed_by_severity": failed_by_severity,
            "failed_by_category": dict(sorted(failed_by_category.items())),
        }
