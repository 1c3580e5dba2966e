"""The pipeline: sources of facts -> one fact model -> rule engine -> one result model.

`gather_facts` does the I/O; `audit` is pure and turns facts into a report; `run_audit` does both.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, timezone
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from auditor._version import __version__
from auditor.engine.evaluate import evaluate_all
from auditor.engine.rules import Rule
from auditor.engine.subjects import Subject, build_subjects
from auditor.engine.upgrade import WhatIf, apply_what_ifs, label_what_ifs, with_upgrade_impact
from auditor.gating.drift import Baseline
from auditor.gating.waivers import Waiver
from auditor.knowledge.base import KnowledgeBase
from auditor.model.enums import Discovery, FailOn, TargetStatus
from auditor.model.facts import (
    Account,
    AccountMonitoring,
    CatalogModel,
    CollectionGap,
    ContentFilterPolicy,
    ContractCall,
    Deployment,
    Facts,
    PlannedDeployment,
    Region,
    UnresolvedCall,
)
from auditor.model.results import (
    Finding,
    InventoryRow,
    QuotaLine,
    Report,
    RetirementRow,
    RuleInfo,
    Severity,
    Status,
    TargetResult,
    TrafficRow,
)
from auditor.pipeline.gaps import RUN_TARGET, guarded, read_or_unread, region_or_unread, unread_targets
from auditor.probes import ProbeOptions
from auditor.probes.selection import probe_order
from auditor.sources.azure import AzureEnumerator, collect_region, resolve_accounts
from auditor.util.deadline import Deadline, DeadlineExpired
from auditor.util.gcpause import paused_gc
from auditor.util.redact import encodable

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential


RULESET_VERSION = "2026.12"
T = TypeVar("T")


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
    discovery: Discovery = Discovery.AUTO
    contract_from: Path | None = None
    """Derive the contract from the app's Python source (auditor/sources/scan/) instead of a file."""
    scan_allow_unread: bool = False
    """Files of the app the scan could not read are not gaps (--scan-allow-unread); they are still listed."""
    contract_env: Mapping[str, str] = field(default_factory=dict, repr=False)
    """The audit's environment, for contract deployment names written env:NAME."""
    timeout: float | None = None
    """Seconds the whole run may take (--timeout); what was read by then is reported, the rest is a gap."""
    plan: Path | None = None
    """A plan file (YAML, ARM/Bicep JSON, Terraform plan JSON) whose deployments are checked before they exist."""
    probe: ProbeOptions | None = None
    """Live probes of the data plane (None: no probes)."""
    monitor: bool = False
    """Read Azure Monitor too: each account's diagnostic settings, per-deployment activity, and who calls each
    deployment (the observed contract, auditor/sources/traffic.py)."""
    observed_days: int = 7
    """The look-back window of the Azure Monitor reads, in days (--observed DAYS)."""
    logs_workspace: str | None = None
    """A Log Analytics workspace (customer id) holding the accounts' RequestResponse logs (--logs-workspace)."""
    policy: Path | None = None
    """An organisation policy file (auditor/engine/policy.py): its statements become rules in the `policy` category."""
    what_if: tuple[WhatIf, ...] = ()
    """`--what-if DEPLOYMENT=MODEL[:VERSION]`: audit as if those deployments ran another model."""
    shard: tuple[int, int] | None = None
    """Audit only the accounts of shard K of N (auditor/gating/shard.py); None: every account."""
    knowledge: Path | None = None
    """The user's knowledge-base overlay (`--knowledge`), layered over the packaged knowledge base."""
    docs_url: str | None = None
    """Where rule links point (`--docs-url`); None: the Documentation URL the package declares."""


class Progress(Protocol):
    """Where long runs report how far they are (the CLI shows a bar); the default reports nowhere."""

    def add(self, total: int, what: str) -> None: ...

    def advance(self, what: str) -> None: ...


class _NoProgress:
    def add(self, total: int, what: str) -> None:
        return None

    def advance(self, what: str) -> None:
        return None


AccountReady = Callable[[Facts, Account], None]
"""Told of each account, in `probe_order`, once its deployments are read: the facts hold just those, the contract
and the account's region if it is read by then (no region: not read yet). Live probes start there while the rest
of the fleet is still being read."""


def gather_facts(
    enumerator: AzureEnumerator,
    options: AuditOptions,
    *,
    pool: Executor | None = None,
    progress: Progress | None = None,
    on_account: AccountReady | None = None,
    deadline: Deadline | None = None,
) -> Facts:
    """Read everything the rules need; failures of single reads become gaps, not crashes, and so does
    whatever is not read when the run's deadline (`options.timeout`) passes.

    Every read runs on one bounded pool (`--concurrency`); catalog and quota are read once per
    (subscription, location), however many accounts and deployments share it."""
    contract, unresolved, scan_gaps = _app_contract(options)
    planned = _read_plan(options)
    deadline = deadline or Deadline(options.timeout)
    with contextlib.suppress(DeadlineExpired):  # then _gather finds the deadline passed and says so
        options = deadline.run(partial(_with_plan_accounts, enumerator, options, planned))
    own = (
        ThreadPoolExecutor(max_workers=max(1, options.concurrency), thread_name_prefix="audit")
        if pool is None
        else None
    )
    try:
        chosen: Executor = pool or own  # type: ignore[assignment]  # one of the two is set
        facts = _gather(enumerator, options, contract, chosen, progress or _NoProgress(), on_account, deadline)
    finally:
        if own is not None:
            own.shutdown(wait=not deadline.expired, cancel_futures=True)
    facts = replace(facts, contract_unresolved=unresolved, planned=planned, gaps=facts.gaps + scan_gaps)
    if options.monitor:
        from auditor.sources.traffic import with_observed_contract

        facts = with_observed_contract(facts)  # observed entries join the declared or scanned ones
    return encodable(facts)  # strings from Azure (or a file) with lone surrogates could not be written


def _app_contract(
    options: AuditOptions,
) -> tuple[tuple[ContractCall, ...] | None, tuple[UnresolvedCall, ...], tuple[CollectionGap, ...]]:
    """The contract from a file (--contract) or from the app's source (--contract-from), read before any
    Azure call so a bad one fails fast; calls whose deployment name is unknowable are kept apart, and
    source files the scan could not parse make the audit incomplete."""
    from auditor.sources.contract import load_contract_document, load_contract_unread

    if options.contract_from is not None:
        from auditor.sources.scan import contract_from_code

        calls, unresolved, skipped = contract_from_code(options.contract_from, options.contract_env)
        gaps = _unread_gaps(f"contract-from:{options.contract_from}", skipped, options)
        return tuple(replace(c, provenance="scanned") for c in calls), unresolved, gaps
    if options.contract is not None:
        unread = load_contract_unread(options.contract)
        gaps = _unread_gaps(f"contract:{options.contract}", unread, options)
        return (*load_contract_document(options.contract, options.contract_env), gaps)
    return None, (), ()


def _unread_gaps(subject: str, unread: Sequence[str], options: AuditOptions) -> tuple[CollectionGap, ...]:
    """Files of the app the scan did not read: gaps (the audit is incomplete), unless the user allows them."""
    if options.scan_allow_unread:
        return ()
    return tuple(
        CollectionGap(subject, f"{problem} — the app's calls there are not audited (--scan-allow-unread accepts this)")
        for problem in unread
    )


def _read_plan(options: AuditOptions) -> tuple[PlannedDeployment, ...] | None:
    from auditor.sources.plan import load_plan

    return load_plan(options.plan) if options.plan is not None else None


def _with_plan_accounts(
    enumerator: AzureEnumerator, options: AuditOptions, planned: tuple[PlannedDeployment, ...] | None
) -> AuditOptions:
    """The plan's existing accounts are audited like --resource (found by name or id); a missing one is left
    out, and the planned deployments that target it say so."""
    from auditor.sources.plan import find_plan_accounts, plan_account_refs

    refs = [r for r in plan_account_refs(planned or ()) if r not in options.resources]
    if not refs:
        return options

    def lookup(names: Sequence[str]) -> Sequence[object]:
        found, _ = resolve_accounts(
            enumerator,
            names,
            all_accounts=False,
            subscriptions=options.subscriptions,
            resource_group=options.resource_group,
            discovery=options.discovery,
        )
        return found

    ids = find_plan_accounts(lookup, refs)
    return replace(options, resources=tuple(dict.fromkeys((*options.resources, *ids))))


def _gather(
    enumerator: AzureEnumerator,
    options: AuditOptions,
    contract: tuple[ContractCall, ...] | None,
    pool: Executor,
    progress: Progress,
    on_account: AccountReady | None = None,
    deadline: Deadline | None = None,
) -> Facts:
    deadline = deadline or Deadline(None)
    discovery_gaps: list[CollectionGap] = []
    find = partial(
        resolve_accounts,
        enumerator,
        options.resources,
        all_accounts=options.all_accounts,
        subscriptions=options.subscriptions,
        resource_group=options.resource_group,
        discovery=options.discovery,
        pool=pool,
        gaps=discovery_gaps,
    )
    try:
        accounts, searched = deadline.run(find)
    except DeadlineExpired:
        gap_ = CollectionGap(RUN_TARGET, deadline.reason("the accounts to audit were"))
        return Facts(accounts=(), deployments=(), regions=(), contract=contract, gaps=(*discovery_gaps, gap_))
    if options.shard is not None:
        from auditor.gating.shard import in_shard

        accounts = [a for a in accounts if in_shard(a.id, options.shard)]
    region_keys = sorted({(a.subscription_id, a.location) for a in accounts})
    progress.add(len(region_keys) + 2 * len(accounts), "reads")

    def tracked(job: Callable[[], T]) -> Callable[[], T]:
        def run() -> T:
            try:
                return job()
            finally:
                progress.advance("reads")

        return run

    def read_policies(account: Account) -> tuple[ContentFilterPolicy, ...]:
        return tuple(enumerator.list_content_filter_policies(account))

    def submit(what: str, target: str, read: Callable[[], Any]) -> Future[Any]:
        return pool.submit(tracked(partial(guarded, what, target, read)))

    deployment_jobs = {a.id: submit("deployments", a.id, partial(enumerator.list_deployments, a)) for a in accounts}
    waited = partial(read_or_unread, deadline)
    Jobs = tuple[dict[tuple[str, str], Future[Any]], dict[str, Future[Any]], dict[str, tuple[Future[Any], ...]]]

    def submit_rest() -> Jobs:
        """The reads no probe plan needs but a model unknown to the knowledge base (catalog, quota, content
        filters, monitoring). With probes they are sent once the first account's probes are queued: until then
        their CPU (the SDKs', under the GIL) would hold back the openai import every probe waits for."""
        regions = {key: pool.submit(tracked(partial(collect_region, enumerator, *key))) for key in region_keys}
        policies = {a.id: submit("content filter policies", a.id, partial(read_policies, a)) for a in accounts}
        monitors: dict[str, tuple[Future[Any], ...]] = {}
        if options.monitor:
            monitors = _submit_monitor(enumerator, options, accounts, submit)
            progress.add(sum(len(jobs) for jobs in monitors.values()), "reads")
        return regions, policies, monitors

    rest: Jobs | None = None
    for account in sorted(accounts, key=probe_order) if on_account is not None else ():
        if deadline.expired:
            break
        found, _ = waited(deployment_jobs[account.id], account.id, "deployments were")
        job = rest[0][(account.subscription_id, account.location)] if rest else None
        ready = (job.result()[0],) if job and job.done() and not job.exception() else ()  # see AccountReady
        facts = Facts(accounts=(account,), deployments=tuple(found or ()), regions=ready, contract=contract)
        on_account(facts, account)  # type: ignore[misc]  # the loop runs only with on_account set
        rest = rest or submit_rest()
    region_jobs, policy_jobs, monitor_jobs = rest or submit_rest()
    regions: list[Region] = []
    gaps: list[CollectionGap] = list(discovery_gaps)
    deployments: list[Deployment] = []
    policies: dict[str, tuple[ContentFilterPolicy, ...] | None] = {}
    for (sub, location), job in region_jobs.items():
        region, region_gaps = region_or_unread(deadline, job, sub, location)
        regions.append(region)
        gaps.extend(region_gaps)
    for account in accounts:
        found, account_gaps = waited(deployment_jobs[account.id], account.id, "deployments were")
        deployments.extend(found or ())
        gaps.extend(account_gaps)
        policies[account.id], policy_gaps = waited(policy_jobs[account.id], account.id, "content filter policies were")
        gaps.extend(policy_gaps)
    account_models = _account_models(accounts, deployments, enumerator, submit, waited, gaps, progress)
    monitoring: dict[str, AccountMonitoring] | None = None
    if options.monitor:
        monitoring = {}
        for account in accounts:
            monitoring[account.id], monitor_gaps = _monitoring(waited, options, account, monitor_jobs[account.id])
            gaps.extend(monitor_gaps)
    return Facts(
        accounts=tuple(accounts),
        deployments=tuple(sorted(deployments, key=lambda d: d.id.lower())),
        regions=tuple(regions),
        contract=contract,
        gaps=tuple(gaps),
        subscriptions_searched=searched,
        content_filter_policies=policies,
        monitoring=monitoring,
        account_models=account_models,
    )


def _account_models(
    accounts: Sequence[Account],
    deployments: Sequence[Deployment],
    enumerator: AzureEnumerator,
    submit: Callable[..., Future[Any]],
    waited: Callable[..., Any],
    gaps: list[CollectionGap],
    progress: Progress,
) -> dict[str, tuple[CatalogModel, ...] | None]:
    """The own models list of each account with a fine-tuned deployment (the location catalog lists base models
    only); a failed read is None and a gap."""
    fine_tuned = {d.account_id for d in deployments if d.fine_tuned}
    progress.add(len(fine_tuned), "reads")
    jobs = {
        a.id: submit("the account's models", a.id, partial(enumerator.list_account_models, a))
        for a in accounts
        if a.id in fine_tuned
    }
    models: dict[str, tuple[CatalogModel, ...] | None] = {}
    for account_id, job in jobs.items():
        listed, model_gaps = waited(job, account_id, "the account's models were")
        models[account_id] = None if listed is None else tuple(listed)
        gaps.extend(model_gaps)
    return models


def _submit_monitor(
    enumerator: AzureEnumerator,
    options: AuditOptions,
    accounts: Sequence[Account],
    submit: Callable[[str, str, Callable[[], Any]], Future[Any]],
) -> dict[str, tuple[Future[Any], ...]]:
    """Per account: diagnostic settings, activity and traffic (AzureOpenAIRequests split five ways, one call, and
    the provisioned utilisation) and, with a workspace, the api-versions in its RequestResponse logs."""
    reader = enumerator.monitor(days=options.observed_days)
    logs = enumerator.logs(options.logs_workspace, options.observed_days) if options.logs_workspace else None
    return {
        a.id: (
            submit("diagnostic settings", a.id, partial(reader.diagnostic_settings, a)),
            submit("Azure Monitor metrics", a.id, partial(reader.observe, a)),
            *((submit("RequestResponse logs", a.id, partial(logs.api_versions, a)),) if logs else ()),
        )
        for a in accounts
    }


def _monitoring(
    waited: Callable[..., tuple[Any, list[CollectionGap]]],
    options: AuditOptions,
    account: Account,
    jobs: tuple[Future[Any], ...],
) -> tuple[AccountMonitoring, list[CollectionGap]]:
    """One account's Azure Monitor facts from its reads; a read that failed is None (unknown) and a gap."""
    from auditor.sources.traffic import with_api_versions

    settings, gaps = waited(jobs[0], account.id, "diagnostic settings were")
    observed, more = waited(jobs[1], account.id, "Azure Monitor metrics were")
    activity, traffic = observed or (None, None)
    gaps = [*gaps, *more]
    logs: str | None = (
        "no Log Analytics workspace was given (--logs-workspace), so the api-versions callers send are unknown"
    )
    if len(jobs) > 2:
        versions, log_gaps = waited(jobs[2], account.id, "RequestResponse logs were")
        gaps.extend(log_gaps)
        if versions is not None and traffic is not None:
            traffic, logs = with_api_versions(traffic, versions), None
        else:
            logs = f"the RequestResponse logs of workspace {options.logs_workspace} could not be read"
    monitoring = AccountMonitoring(
        diagnostic_settings=settings, activity=activity, days=options.observed_days, traffic=traffic, logs=logs
    )
    return monitoring, gaps


def select_rules(
    rules: Sequence[Rule], select: Sequence[str] = (), ignore: Sequence[str] = (), ruleset: str | None = None
) -> list[Rule]:
    """Keep rules whose id or category is selected (all when none is), minus the ignored ones, and,
    with a pinned rule-set version, only the built-in rules that version already had (an organisation's
    policy is its own, never pinned). A gate that would evaluate nothing is an input error (exit 2), never a
    pass: a --select that names no rule or category, a --ruleset older than every rule, or an --ignore that
    removes everything selected."""
    import difflib
    import re

    from auditor.model.errors import InputError

    if ruleset not in (None, "latest") and not re.fullmatch(r"\d{4}\.\d{2}", str(ruleset)):
        raise InputError(f"--ruleset must be a rule-set version like {RULESET_VERSION} or 'latest', not {ruleset!r}")
    pinned = None if ruleset in (None, "latest") else str(ruleset)

    def named(rule: Rule, names: Sequence[str]) -> bool:
        return any(n.lower() in (rule.id.lower(), rule.category.lower()) for n in names)

    known = sorted({r.id for r in rules} | {str(r.category) for r in rules})
    for name in select:
        if not any(named(r, [name]) for r in rules):
            close = difflib.get_close_matches(name, known, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise InputError(f"--select {name}: no rule id or category is named so{hint}")
    kept = [
        r
        for r in rules
        if (not select or named(r, select))
        and not named(r, ignore)
        and (pinned is None or r.since <= pinned or r.category == "policy")
    ]
    if rules and not kept:
        first = min((r.since for r in rules if r.category != "policy"), default=RULESET_VERSION)
        if pinned is not None and pinned < first:
            raise InputError(f"--ruleset {pinned}: no rule existed then (the first rule set is {first})")
        raise InputError(
            "no rule is left to evaluate: "
            + (f"--ignore {', '.join(ignore)} removes every rule --select {', '.join(select)} chose" if ignore else "")
            + (f" (with --ruleset {pinned})" if pinned else "")
        )
    return kept


def check_what_ifs(what_ifs: Sequence[WhatIf], facts: Facts, kb: KnowledgeBase) -> None:
    """A what-if must name a model the knowledge base or a read catalog knows: a typo (chat-prod=gpt-4.1-mnii)
    is an input error (exit 2), never an audit of a model nobody can deploy."""
    import difflib

    from auditor.model.errors import InputError

    catalog = {m.name.lower() for r in facts.regions for m in r.catalog or ()}
    for what_if in what_ifs:
        name = what_if.model_name
        if kb.model(name) is not None or name.lower() in catalog or kb.fine_tuned_base(name) is not None:
            continue
        close = difflib.get_close_matches(name, sorted(set(kb.models) | catalog), n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise InputError(
            f"--what-if {what_if.deployment}={name}: no model of that name is in the knowledge base or the region's "
            f"catalog{hint}"
        )


def _targets(facts: Facts) -> tuple[TargetResult, ...]:
    results = unread_targets(facts)
    for account in facts.accounts:
        region_target = f"/subscriptions/{account.subscription_id}/providers/Microsoft.CognitiveServices/locations/{account.location}"
        reasons = tuple(g.reason for g in facts.gaps if g.target in (account.id, region_target))
        results.append(
            TargetResult(
                id=account.id,
                name=account.name,
                subscription_id=account.subscription_id,
                location=account.location,
                kind=account.kind,
                status=TargetStatus.INCOMPLETE if reasons else TargetStatus.COMPLETE,
                reasons=reasons,
                tags=dict(account.tags) or None,
            )
        )
    return tuple(results)


def _inventory(facts: Facts) -> tuple[InventoryRow, ...]:
    """Each deployment's inventory row: the fields InventoryRow shares with Deployment, as read."""
    names = {a.id: a.name for a in facts.accounts}
    shared = [f.name for f in fields(InventoryRow) if f.name not in ("account_name", "tags")]
    return tuple(
        InventoryRow(
            account_name=names.get(d.account_id, ""), tags=dict(d.tags) or None, **{f: getattr(d, f) for f in shared}
        )
        for d in facts.deployments
    )


def _rule_infos(rules: Sequence[Rule]) -> tuple[RuleInfo, ...]:
    return tuple(
        RuleInfo(
            id=r.id,
            title=r.title,
            category=r.category,
            severity=r.severity,
            docs=r.help_url,
            remediation=r.remediation,
            description=r.rationale or r.title,
            applies_to=r.applies_to,
        )
        for r in sorted(rules, key=lambda r: r.id)
    )


def _views(facts: Facts, subjects: Sequence[Subject]) -> tuple[tuple[QuotaLine, ...], tuple[RetirementRow, ...]]:
    """Quota lines and retirement dates for the report's pictures, read off the same subject documents
    the rules see (engine/subjects.py), so the pictures and the findings cannot disagree."""
    from auditor.engine.conditions import UNKNOWN

    names = {a.id: a.name for a in facts.accounts}
    regions = {a.id: (a.subscription_id, a.location) for a in facts.accounts}
    models_by_line: dict[tuple[str, str, str], set[str]] = {}
    quota: list[QuotaLine] = []
    retirements: list[RetirementRow] = []
    for subject in subjects:
        doc = subject.document
        if subject.kind == "deployment":
            dep, catalog, life = doc["deployment"], doc["catalog"], doc["lifecycle"]
            usage = catalog.get("usage_name") if isinstance(catalog, dict) else None
            if usage and subject.account_id in regions:
                sub, loc = regions[subject.account_id]
                label = " ".join(str(v) for v in (dep.get("model_name"), dep.get("sku_name")) if v)
                models_by_line.setdefault((sub, loc, usage.lower()), set()).add(label)
            known = life is not UNKNOWN
            life = life if isinstance(life, dict) else {}
            retirements.append(
                RetirementRow(
                    account_id=subject.account_id or "",
                    account_name=names.get(subject.account_id or "", ""),
                    deployment=dep["name"],
                    model_name=dep.get("model_name"),
                    model_version=dep.get("model_version"),
                    sku_name=dep.get("sku_name"),
                    # the view's UNKNOWN (ARM reported none) is None in the report: not reported
                    version_upgrade_option=None
                    if dep.get("version_upgrade_option") is UNKNOWN
                    else dep.get("version_upgrade_option"),
                    retirement_date=life.get("retirement_date"),
                    days_left=life.get("days_left"),
                    source=life.get("source"),
                    replacement=life.get("replacement"),
                    known=known,
                )
            )
        elif subject.kind == "quota_usage" and doc["usage"]["current"] is not UNKNOWN:
            usage, region = doc["usage"], doc["region"]
            quota.append(
                QuotaLine(
                    subscription_id=region["subscription_id"],
                    location=region["location"],
                    name=usage["name"],
                    label=usage["localized_name"],
                    current=float(usage["current"]),
                    limit=float(usage["limit"]),
                    percent=float(usage["percent"]),
                    deployments=tuple(usage.get("deployments", ())),
                )
            )
    quota = [
        replace(q, models=tuple(sorted(models_by_line.get((q.subscription_id, q.location, q.name.lower()), ()))))
        for q in quota
    ]
    quota.sort(key=lambda q: (q.subscription_id, q.location, q.name.lower()))
    retirements.sort(key=lambda r: (r.retirement_date or "9999-99-99", r.account_name, r.deployment))
    return tuple(quota), tuple(retirements)


def audit(
    facts: Facts,
    rules: Sequence[Rule],
    kb: KnowledgeBase,
    *,
    today: date | None = None,
    now: datetime | None = None,
    what_ifs: Sequence[WhatIf] = (),
    impact_rules: Sequence[Rule] | None = None,
) -> Report:
    """Evaluate rules over facts. Pure: the same facts, rules and date give the same report.

    `what_ifs` rewrite the facts first (findings on those deployments are labelled); the upgrade impact judges
    the app's calls on each deployment's next model with `impact_rules` (default: `rules`), so selecting only
    the upgrade category still sees the contract rules."""
    now = now or datetime.now(timezone.utc)
    check_what_ifs(what_ifs, facts, kb)
    facts, labels = apply_what_ifs(facts, what_ifs)
    day = today or now.date()
    with paused_gc():
        subjects = list(build_subjects(facts, kb, day))
        findings: list[Finding] = evaluate_all(rules, facts, kb, day, subjects)
        findings = label_what_ifs(with_upgrade_impact(findings, facts, kb, day, rules, impact_rules), labels)
        quota, retirements = _views(facts, subjects)
    return Report(
        rules=_rule_infos(rules),
        quota=quota,
        retirements=retirements,
        generated_at=now,
        tool_version=__version__,
        ruleset=RULESET_VERSION,
        knowledge_checked=str(kb.checked) if kb.checked else None,
        targets=_targets(facts),
        deployments=_inventory(facts),
        findings=tuple(findings),
        gaps=tuple(g.reason if g.target in g.reason else f"{g.target}: {g.reason}" for g in facts.gaps)
        + _empty_scope(facts),
        probe_summary=_probe_totals(facts),
        traffic=_traffic_rows(facts),
    )


def _traffic_rows(facts: Facts) -> tuple[TrafficRow, ...]:
    """The observed traffic, per account, deployment and operation, for the report's who-calls-it table."""

    def share(part: float, whole: float) -> float:
        return round(100.0 * part / whole, 2) if whole else 0.0

    names = {a.id: a.name for a in facts.accounts}
    return tuple(
        TrafficRow(
            account_id=account_id,
            account_name=names.get(account_id, ""),
            deployment=o.deployment,
            operation=o.operation,
            api=o.api,
            requests=round(o.requests),
            streaming_percent=share(o.streaming, o.requests),
            client_error_percent=share(o.client_errors, o.requests),
            throttled_percent=share(o.throttled, o.requests),
            server_error_percent=share(o.server_errors, o.requests),
            model_versions=o.model_versions,
            api_versions=o.api_versions,
            daily=tuple(round(v, 1) for v in o.daily),
            days=o.days,
        )
        for account_id, monitoring in sorted((facts.monitoring or {}).items())
        for o in monitoring.traffic or ()
    )


def _empty_scope(facts: Facts) -> tuple[str, ...]:
    """An audit that audited nothing is incomplete (exit 3), never a pass: a nightly job over subscriptions
    that hold no Azure OpenAI or AI Services account must not go green."""
    if facts.accounts or facts.planned:
        return ()
    where = ", ".join(facts.subscriptions_searched) or "the scope given"
    return (f"audited nothing: no Azure OpenAI or AI Services account in subscription(s) {where}",)


def _probe_totals(facts: Facts) -> Mapping[str, object] | None:
    if facts.probe_summary is None:
        return None
    from auditor.probes.runner import summary_dict

    return summary_dict(facts.probe_summary)


def gate(report: Report, fail_on: FailOn | str) -> int:
    """The exit code: 1 for failures at or above `fail_on`, else 3 if anything could not be read, else 0."""
    from auditor.model.errors import ExitCode

    fail_on = FailOn(fail_on)
    threshold = None if fail_on is FailOn.NEVER else Severity(fail_on.value).rank
    failing = threshold is not None and any(
        f.status is Status.FAIL and f.severity.rank >= threshold for f in report.at_stake
    )
    if failing:
        return ExitCode.FINDINGS
    unknown = threshold is not None and any(
        f.status is Status.UNKNOWN and f.severity.rank >= threshold for f in report.at_stake
    )
    if not report.complete or unknown:
        return ExitCode.INCOMPLETE
    return ExitCode.OK


def finish(
    report: Report,
    *,
    waivers: Sequence[Waiver] = (),
    baseline: Baseline | None = None,
    today: date | None = None,
) -> Report:
    """Post-processing before rendering, pure: waivers first (so an expired waiver's finding counts as
    new or unchanged like any other), then drift against the baseline."""
    from auditor.gating.drift import apply_baseline
    from auditor.gating.waivers import apply_waivers

    if waivers:
        report = apply_waivers(report, waivers, today or report.generated_at.date())
    if baseline is not None:
        report = apply_baseline(report, baseline)
    return report


def run_audit(
    options: AuditOptions,
    *,
    credential: TokenCredential,
    cloud: object | None = None,
    connection_verify: str | bool = True,
    rules: Sequence[Rule] | None = None,
    kb: KnowledgeBase | None = None,
    rule_dirs: Sequence[Path] = (),
    today: date | None = None,
    progress: Progress | None = None,
) -> Report:
    """Gather facts from Azure and audit them: the whole job, as a library call."""
    from auditor.engine.rules import load_rules
    from auditor.knowledge.base import load_knowledge
    from auditor.model.clouds import CLOUDS, Cloud

    chosen_cloud = cloud if isinstance(cloud, Cloud) else CLOUDS["AzureCloud"]
    impact_rules = select_rules(
        rules if rules is not None else load_rules(rule_dirs, docs_url=options.docs_url), ruleset=options.ruleset
    )
    selected = select_rules(impact_rules, options.select, options.ignore)
    if options.policy is not None:
        from auditor.engine.policy import load_policy

        selected = [*selected, *load_policy(options.policy).rules()]
    kb = kb or load_knowledge(overlay=options.knowledge)
    enumerator = AzureEnumerator(
        credential,
        chosen_cloud,
        connection_verify=connection_verify,
        max_connections=options.concurrency,
    )
    if options.probe is None:
        facts = gather_facts(enumerator, options, progress=progress)
    else:
        from auditor.pipeline.live import gather_and_probe

        facts = gather_and_probe(
            enumerator,
            options,
            options.probe,
            credential,
            chosen_cloud,
            connection_verify,
            kb,
            today or date.today(),
            progress,
        )
    report = audit(facts, selected, kb, today=today, what_ifs=options.what_if, impact_rules=impact_rules)
    if options.shard is not None:  # an empty bucket is a complete shard of zero accounts (merge judges the whole)
        from auditor.gating.merge import EMPTY_SCOPE

        report = replace(report, gaps=tuple(g for g in report.gaps if not g.startswith(EMPTY_SCOPE)))
    return report
