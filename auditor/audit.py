"""The pipeline: sources of facts -> one fact model -> rule engine -> one result model.

`gather_facts` does the I/O; `audit` is pure and turns facts into a report; `run_audit` does both.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Sequence

from auditor._version import __version__
from auditor.engine.evaluate import evaluate_all
from auditor.engine.rules import Rule
from auditor.facts import Account, CollectionGap, ContentFilterPolicy, Deployment, Facts, Region
from auditor.knowledge import KnowledgeBase
from auditor.results import Finding, InventoryRow, Report, Severity, Status, TargetResult
from auditor.sources.azure import AzureEnumerator, collect_region, gap, resolve_accounts
from auditor.sources.contract import load_contract

RULESET_VERSION = "2026.11"


@dataclass(frozen=True)
class AuditOptions:
    """What to audit and with which inputs (the CLI's flags, as data)."""

    resources: tuple[str, ...] = ()
    all_accounts: bool = False
    subscriptions: tuple[str, ...] = ()
    resource_group: str | None = None
    contract: Path | None = None
    concurrency: int = 8
    select: tuple[str, ...] = field(default=())
    ignore: tuple[str, ...] = field(default=())
    ruleset: str | None = None


def gather_facts(enumerator: AzureEnumerator, options: AuditOptions) -> Facts:
    """Read everything the rules need; failures of single reads become gaps, not crashes."""
    from azure.core.exceptions import AzureError

    contract = load_contract(options.contract) if options.contract else None
    accounts, searched = resolve_accounts(
        enumerator,
        options.resources,
        all_accounts=options.all_accounts,
        subscriptions=options.subscriptions,
        resource_group=options.resource_group,
    )
    region_keys = sorted({(a.subscription_id, a.location) for a in accounts})
    deployments: list[Deployment] = []
    regions: list[Region] = []
    gaps: list[CollectionGap] = []

    def read_deployments(account: Account) -> tuple[list[Deployment], list[CollectionGap]]:
        try:
            return enumerator.list_deployments(account), []
        except AzureError as exc:
            return [], [gap(account.id, "deployments", exc)]

    def read_policies(account: Account) -> tuple[tuple[ContentFilterPolicy, ...] | None, list[CollectionGap]]:
        try:
            return tuple(enumerator.list_content_filter_policies(account)), []
        except AzureError as exc:
            return None, [gap(account.id, "content filter policies", exc)]

    with ThreadPoolExecutor(max_workers=max(1, options.concurrency)) as pool:
        region_jobs = [pool.submit(collect_region, enumerator, sub, loc) for sub, loc in region_keys]
        deployment_jobs = [pool.submit(read_deployments, a) for a in accounts]
        policy_jobs = {a.id: pool.submit(read_policies, a) for a in accounts}
        for job in region_jobs:
            region, region_gaps = job.result()
            regions.append(region)
            gaps.extend(region_gaps)
        for job in deployment_jobs:
            found, account_gaps = job.result()
            deployments.extend(found)
            gaps.extend(account_gaps)
        policies: dict[str, tuple[ContentFilterPolicy, ...] | None] = {}
        for account_id, policy_job in policy_jobs.items():
            policies[account_id], policy_gaps = policy_job.result()
            gaps.extend(policy_gaps)
    return Facts(
        accounts=tuple(accounts),
        deployments=tuple(sorted(deployments, key=lambda d: d.id.lower())),
        regions=tuple(regions),
        contract=contract,
        gaps=tuple(gaps),
        subscriptions_searched=searched,
        content_filter_policies=policies,
    )


def select_rules(
    rules: Sequence[Rule], select: Sequence[str] = (), ignore: Sequence[str] = (), ruleset: str | None = None
) -> list[Rule]:
    """Keep rules whose id or category is selected (all when none is), minus the ignored ones, and,
    with a pinned rule-set version, only the rules that version already had."""
    import re

    from auditor.errors import InputError

    if ruleset not in (None, "latest") and not re.fullmatch(r"\d{4}\.\d{2}", str(ruleset)):
        raise InputError(f"--ruleset must be a rule-set version like {RULESET_VERSION} or 'latest', not {ruleset!r}")
    pinned = None if ruleset in (None, "latest") else str(ruleset)

    def named(rule: Rule, names: Sequence[str]) -> bool:
        return any(n.lower() in (rule.id.lower(), rule.category.lower()) for n in names)

    return [
        r
        for r in rules
        if (not select or named(r, select)) and not named(r, ignore) and (pinned is None or r.since <= pinned)
    ]


def _targets(facts: Facts) -> tuple[TargetResult, ...]:
    results = []
    for account in facts.accounts:
        region_target = (
            f"/subscriptions/{account.subscription_id}/providers/Microsoft.CognitiveServices/locations/{account.location}"
        )
        reasons = tuple(g.reason for g in facts.gaps if g.target in (account.id, region_target))
        results.append(
            TargetResult(
                id=account.id,
                name=account.name,
                subscription_id=account.subscription_id,
                location=account.location,
                kind=account.kind,
                status="incomplete" if reasons else "complete",
                reasons=reasons,
            )
        )
    return tuple(results)


def _inventory(facts: Facts) -> tuple[InventoryRow, ...]:
    names = {a.id: a.name for a in facts.accounts}
    return tuple(
        InventoryRow(
            account_id=d.account_id,
            account_name=names.get(d.account_id, ""),
            name=d.name,
            model_name=d.model_name,
            model_version=d.model_version,
            model_format=d.model_format,
            sku_name=d.sku_name,
            sku_capacity=d.sku_capacity,
            provisioning_state=d.provisioning_state,
            version_upgrade_option=d.version_upgrade_option,
        )
        for d in facts.deployments
    )


def audit(
    facts: Facts,
    rules: Sequence[Rule],
    kb: KnowledgeBase,
    *,
    today: date | None = None,
    now: datetime | None = None,
) -> Report:
    """Evaluate rules over facts. Pure: the same facts, rules and date give the same report."""
    now = now or datetime.now(timezone.utc)
    findings: list[Finding] = evaluate_all(rules, facts, kb, today or now.date())
    return Report(
        generated_at=now,
        tool_version=__version__,
        ruleset=RULESET_VERSION,
        knowledge_checked=str(kb.checked) if kb.checked else None,
        targets=_targets(facts),
        deployments=_inventory(facts),
        findings=tuple(findings),
        gaps=tuple(g.reason if g.target in g.reason else f"{g.target}: {g.reason}" for g in facts.gaps),
    )


def gate(report: Report, fail_on: str) -> int:
    """The exit code: 1 for failures at or above `fail_on`, else 3 if anything could not be read, else 0."""
    from auditor.errors import ExitCode

    threshold = None if fail_on == "never" else Severity(fail_on).rank
    failing = threshold is not None and any(
        f.status is Status.FAIL and f.severity.rank >= threshold for f in report.findings
    )
    if failing:
        return ExitCode.FINDINGS
    unknown = threshold is not None and any(
        f.status is Status.UNKNOWN and f.severity.rank >= threshold for f in report.findings
    )
    if not report.complete or unknown:
        return ExitCode.INCOMPLETE
    return ExitCode.OK


def run_audit(
    options: AuditOptions,
    *,
    credential: object,
    cloud: object | None = None,
    connection_verify: str | bool = True,
    rules: Sequence[Rule] | None = None,
    kb: KnowledgeBase | None = None,
    rule_dirs: Sequence[Path] = (),
    today: date | None = None,
) -> Report:
    """Gather facts from Azure and audit them: the whole job, as a library call."""
    from auditor.clouds import CLOUDS, Cloud
    from auditor.engine.rules import load_rules
    from auditor.knowledge import load_knowledge

    chosen_cloud = cloud if isinstance(cloud, Cloud) else CLOUDS["AzureCloud"]
    rules = select_rules(rules if rules is not None else load_rules(rule_dirs), options.select, options.ignore, options.ruleset)
    kb = kb or load_knowledge()
    enumerator = AzureEnumerator(credential, chosen_cloud, connection_verify=connection_verify)  # type: ignore[arg-type]
    facts = gather_facts(enumerator, options)
    return audit(facts, rules, kb, today=today)
