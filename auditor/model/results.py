"""The result model: what the engine concludes, and the only input of the renderers."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import Enum
from functools import cached_property, lru_cache
from typing import Any, NamedTuple

from auditor.model.enums import Category, FailOn, TargetStatus
from auditor.model.facts import SourceLocation
from auditor.model.trends import Nightly

__all__ = [  # the result model, with the enums its fields use
    "CATEGORIES",
    "Category",
    "Compact",
    "DeploymentChange",
    "Drift",
    "DriftCounts",
    "FailOn",
    "Finding",
    "InventoryRow",
    "QuotaLine",
    "Report",
    "ResolvedFinding",
    "RetirementRow",
    "RuleInfo",
    "Severity",
    "Status",
    "Summary",
    "TargetResult",
    "TargetStatus",
    "WaiverRef",
    "finding_key",
]


class Severity(str, Enum):
    """How bad a failing rule is; ordered so that a gate can compare."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return _RANKS[self]


_RANKS = {Severity.ERROR: 3, Severity.WARNING: 2, Severity.INFO: 1}


class Status(str, Enum):
    """The outcome of one rule on one target. `unknown` is never a pass."""

    PASS = "pass"
    FAIL = "fail"
    UNKNOWN = "unknown"
    SKIPPED = "skipped"
    WAIVED = "waived"


class Cause(str, Enum):
    """Why a finding is unknown, which says how to settle it."""

    KNOWLEDGE = "knowledge_base"
    """The knowledge base does not record the fact: add it with a source, --probe, or waive."""
    AZURE = "azure_read"
    """Azure did not answer a read (catalog, quota, account, policies): fix the access or retry."""
    PROBE = "probe"
    """A live probe got no usable answer: probe again."""
    INPUT = "input"
    """The contract, plan or code leaves the value open: give it."""
    OFFLINE = "offline"
    """The check needs Azure (account, catalog, quota, deployment state) and the run was --offline: run it signed in."""


CATEGORIES: tuple[Category, ...] = tuple(Category)
"""Categories in the order reports show them."""


@dataclass(frozen=True, slots=True)
class Finding:
    """One rule evaluated on one target. Slotted, because a fleet has hundreds of thousands of them;
    the field order is report.json's, so the JSON writer serializes instances as they are."""

    key: str = field(init=False, repr=False, compare=False)
    """Identity across runs: rule, target and the rule's identity facts (`identity`), never the message, so
    "retires in 20 days" today and "in 19 days" tomorrow, or a reworded rule, are the same finding."""
    rule_id: str
    title: str
    category: Category
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
    evidence: Mapping[str, Any] | None = None
    """What the finding rests on when it comes from the wire (a probe's answer); None otherwise."""
    waiver: WaiverRef | None = None
    drift: str | None = None  # "new" or "unchanged" against a baseline; None without one (or when passing)
    cause: Cause | None = None
    """Why an unknown finding is unknown (None for every other status)."""
    identity: str = ""
    """What tells this finding apart from the rule's other findings on the same target: the values of the rule's
    declared identity facts (a contract call's API, a parameter's name), e.g. `call.api=responses`; empty when
    the rule yields one finding per target."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", finding_key(self.rule_id, self.target, self.identity))

    @property
    def sort_key(self) -> tuple[str, str, str, str]:
        return (self.account_id or "", self.target, self.rule_id, self.message)


def finding_key(rule_id: str, target: str, identity: str = "") -> str:
    """The stable identity of a finding (see Finding.key); also computed for baseline reports. Built from the rule
    id, the target and the rule's declared identity facts only: rewording a message changes no key."""
    return f"{rule_id}|{target}|{_hashed(identity)}" if identity else f"{rule_id}|{target}"


@lru_cache(maxsize=1 << 12)
def _hashed(identity: str) -> str:
    """A short digest of the identity facts: few distinct values (APIs, parameter names) across a fleet."""
    return hashlib.sha256(identity.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class WaiverRef:
    """Who accepted a finding, why, and until when (from the waivers file)."""

    owner: str
    reason: str
    expires: str
    source: str  # FILE:LINE of the waiver

    def describe(self) -> str:
        return f"waived by {self.owner} until {self.expires}: {self.reason} ({self.source})"


@dataclass(frozen=True)
class RuleInfo:
    """What a report needs to know about a rule (SARIF's rule metadata), without the rule itself."""

    id: str
    title: str
    category: Category
    severity: Severity
    docs: str | None
    remediation: str
    description: str
    applies_to: str = ""


@dataclass(frozen=True)
class PassCount:
    """Passing results of one rule on one account's targets that a compact report counts instead of listing."""

    account_id: str | None
    rule_id: str
    applies_to: str
    passed: int


class Compact(NamedTuple):
    """A report's findings in the compact form (`--passes summary`), which counts passes instead of listing them."""

    listed: tuple[Finding, ...]
    """All but the passes about an account or its deployments, in report order. Tenant-wide passes (quota lines,
    the knowledge base) are few and stay listed, so shards that share a region merge them by key, not by adding
    counts."""
    counted: tuple[PassCount, ...]
    """The passes left out, counted per account and rule with a merged report's counts, by account and rule."""


@dataclass(frozen=True)
class QuotaLine:
    """One quota line in use by audited deployments: how much of its limit is taken."""

    subscription_id: str
    location: str
    name: str
    label: str
    current: float
    limit: float
    percent: float
    models: tuple[str, ...] = ()  # "model SKU" pairs deployed against this line
    deployments: tuple[str, ...] = ()


@dataclass(frozen=True)
class RetirementRow:
    """A deployed model version and when it retires (None when no source gives a date)."""

    account_id: str
    account_name: str
    deployment: str
    model_name: str | None
    model_version: str | None
    sku_name: str | None
    version_upgrade_option: str | None
    retirement_date: str | None
    days_left: int | None
    source: str | None
    replacement: str | None
    known: bool = True  # False when the catalog and the knowledge base could not be read


@dataclass(frozen=True)
class ResolvedFinding:
    """A finding of the baseline that no longer fails (fixed, or its target is gone)."""

    key: str
    rule_id: str
    title: str
    severity: Severity
    status: Status
    target: str
    target_name: str
    message: str


@dataclass(frozen=True)
class DeploymentChange:
    """A deployment that appeared, disappeared or changed since the baseline."""

    account_id: str
    account_name: str
    deployment: str
    change: str  # added | removed | model_version | model | sku | capacity
    before: str | None
    after: str | None


@dataclass(frozen=True)
class Drift:
    """What changed since the baseline report."""

    baseline_generated_at: str
    baseline_tool_version: str
    resolved: tuple[ResolvedFinding, ...] = ()
    changes: tuple[DeploymentChange, ...] = ()


@dataclass(frozen=True)
class TargetResult:
    """An audited account and whether everything about it could be read."""

    id: str
    name: str
    subscription_id: str
    location: str
    kind: str
    status: TargetStatus
    reasons: tuple[str, ...] = ()
    tags: Mapping[str, str] | None = None
    """The account's Azure tags (owners come from them: --owner-tag); None when not read."""


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
    state: str | None = None
    current_capacity: int | None = None
    spillover_deployment_name: str | None = None
    dynamic_throttling_enabled: bool | None = None
    parent_deployment_name: str | None = None
    rai_policy_name: str | None = None
    tags: Mapping[str, str] | None = None


@dataclass(frozen=True)
class TrafficRow:
    """Who calls one deployment through one operation over the Azure Monitor window (--monitor): the report's
    who-calls-it table. `api` is None for an operation the auditor does not know."""

    account_id: str
    account_name: str
    deployment: str
    operation: str
    api: str | None
    requests: int
    streaming_percent: float
    client_error_percent: float
    throttled_percent: float
    server_error_percent: float
    model_versions: tuple[str, ...] = ()
    api_versions: tuple[str, ...] | None = None
    daily: tuple[float, ...] = ()
    days: int = 7


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
    rules: tuple[RuleInfo, ...] = ()
    quota: tuple[QuotaLine, ...] = ()
    retirements: tuple[RetirementRow, ...] = ()
    drift: Drift | None = None
    probe_summary: Mapping[str, Any] | None = None
    """Live probes: calls and tokens spent against their limits, and what was not probed (None: no --probe)."""
    fixes: Mapping[str, Any] | None = None
    """What fixes.patch holds (auditor/fixes); None when no fixes were looked for."""
    fail_on: str = "error"
    """The gate the run was judged at (--fail-on), so a report can state its verdict."""
    passes: str = "full"
    """How report.json and JUnit show passing results: `full` lists them, `summary` counts them (PassCount)."""
    shard: str | None = None
    """`K/N` when the run audited one shard of the accounts (--shard), for `audit merge`."""
    pass_counts: tuple[PassCount, ...] = ()
    traffic: tuple[TrafficRow, ...] = ()
    """Who calls each deployment (--monitor): one row per deployment and operation; empty when not read."""
    """Passing results not in `findings` (a report merged from compact shards), counted per account and rule."""
    nightly: Nightly | None = None
    """Headline, owners, Azure's scheduled changes and trends (auditor/pipeline/nightly.py); None before that step."""
    only_new: bool = False
    """--only-new (with --baseline): only findings the baseline does not have can fail the gate; all are reported."""

    @property
    def complete(self) -> bool:
        return all(t.status is TargetStatus.COMPLETE for t in self.targets) and not self.gaps

    @cached_property
    def not_passing(self) -> tuple[Finding, ...]:
        """The findings that are not passes, in report order: all most renderers look at (a fleet's findings
        are mostly passes: 148,000 of 202,000 at 10,000 deployments)."""
        return tuple(f for f in self.findings if f.status is not Status.PASS)

    @property
    def at_stake(self) -> tuple[Finding, ...]:
        """The not-passing findings the gate weighs: all of them, or with `only_new` those new since the baseline
        (a finding the baseline already had, `unchanged`, cannot fail the gate)."""
        if not self.only_new:
            return self.not_passing
        return tuple(f for f in self.not_passing if f.drift != "unchanged")

    @property
    def counts_passes(self) -> bool:
        """Whether the report is written in the compact form: chosen (`--passes summary`) or merged from one."""
        return self.passes == "summary" or bool(self.pass_counts)

    @cached_property
    def compact_form(self) -> Compact:
        """The findings as the compact form writes them; computed once for JUnit and report.json."""
        kinds = {r.id: r.applies_to for r in self.rules}
        listed: list[Finding] = []
        counts: dict[tuple[str | None, str], int] = {}
        for f in self.findings:
            if f.status is Status.PASS and f.account_id is not None:
                key = (f.account_id, f.rule_id)
                counts[key] = counts.get(key, 0) + 1
            else:
                listed.append(f)
        for p in self.pass_counts:
            counts[(p.account_id, p.rule_id)] = counts.get((p.account_id, p.rule_id), 0) + p.passed
        counted = tuple(
            PassCount(account, rule, kinds.get(rule, ""), n)
            for (account, rule), n in sorted(counts.items(), key=lambda kv: (kv[0][0] or "", kv[0][1]))
        )
        return Compact(tuple(listed), counted)

    @cached_property
    def _counts(self) -> tuple[Counter[Status], Counter[Severity], Counter[Category], Counter[str | None]]:
        """One pass over the findings for every count the renderers show (a fleet has 10^5 findings)."""
        by_status: Counter[Status] = Counter()
        by_severity: Counter[Severity] = Counter()
        by_category: Counter[Category] = Counter()
        by_drift: Counter[str | None] = Counter()
        for f in self.findings:
            by_status[f.status] += 1
            if f.status is Status.FAIL:
                by_severity[f.severity] += 1
                by_category[f.category] += 1
            by_drift[f.drift] += 1
        return by_status, by_severity, by_category, by_drift

    def summary(self) -> Summary:
        """Counts by status, by severity of failures, and by category of failures."""
        by_status, by_severity, by_category, by_drift = self._counts
        uncounted = sum(p.passed for p in self.pass_counts)  # passes a merged compact report only counts
        drift = None
        if self.drift is not None:
            drift = DriftCounts(
                new=by_drift["new"],
                unchanged=by_drift["unchanged"],
                resolved=len(self.drift.resolved),
                deployment_changes=len(self.drift.changes),
            )
        return Summary(
            targets=len(self.targets),
            incomplete_targets=sum(1 for t in self.targets if t.status is not TargetStatus.COMPLETE),
            deployments=len(self.deployments),
            findings=len(self.findings) + uncounted,
            by_status={s: by_status[s] + (uncounted if s is Status.PASS else 0) for s in Status},
            failed_by_severity={s: by_severity[s] for s in Severity},
            failed_by_category=dict(sorted(by_category.items())),
            drift=drift,
            probes=None if self.probe_summary is None else dict(self.probe_summary),
            fixes=None if self.fixes is None else dict(self.fixes),
        )


@dataclass(frozen=True)
class DriftCounts:
    """Findings against the baseline report (new, unchanged, resolved) and deployments that changed."""

    new: int
    unchanged: int
    resolved: int
    deployment_changes: int


@dataclass(frozen=True)
class Summary:
    """The counts every output shows. The mappings are keyed by enum members, which equal their values:
    `by_status[Status.PASS]` and `by_status["pass"]` are the same entry (templates use the strings)."""

    targets: int
    incomplete_targets: int
    deployments: int
    findings: int
    by_status: Mapping[Status, int]
    failed_by_severity: Mapping[Severity, int]
    failed_by_category: Mapping[Category, int]
    drift: DriftCounts | None = None
    probes: Mapping[str, Any] | None = None
    """Live probes' spend and limits (None without --probe)."""
    fixes: Mapping[str, Any] | None = None
    """fixes.patch: findings and calls fixed, files, stale calls, edits left to people (None: not looked for)."""

    @property
    def failed(self) -> int:
        return sum(self.failed_by_severity.values())

    def as_dict(self) -> dict[str, Any]:
        """report.json's `summary`: plain strings as keys; `drift` and `probes` only when there are some."""
        document: dict[str, Any] = {
            "targets": self.targets,
            "incomplete_targets": self.incomplete_targets,
            "deployments": self.deployments,
            "findings": self.findings,
            "by_status": {s.value: n for s, n in self.by_status.items()},
            "failed_by_severity": {s.value: n for s, n in self.failed_by_severity.items()},
            "failed_by_category": {c.value: n for c, n in self.failed_by_category.items()},
        }
        if self.drift is not None:
            document["drift"] = asdict(self.drift)
        if self.probes is not None:
            document["probes"] = dict(self.probes)
        if self.fixes is not None:
            document["fixes"] = dict(self.fixes)
        return document
