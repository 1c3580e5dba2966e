"""The pipeline's I/O half: read everything the rules need from Azure (and the contract and plan files), on one
bounded pool and within the run's deadline, into one `Facts`.

Every read is guarded: an Azure fault, an answer of the wrong shape, or a read still waiting when the deadline
(--timeout) passes becomes a `CollectionGap` (the target is incomplete), never a crash and never a pass. With live
probes (`gather_and_probe`), an account's probes start on the same pool as soon as its deployments are read.
The pure half, facts -> report, is auditor/pipeline/audit.py; auditor/pipeline/run.py composes the two.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import date
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from auditor.model.facts import (
    RUN_TARGET,
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
from auditor.pipeline.options import AuditOptions, NoProgress, Progress
from auditor.probes.selection import probe_order
from auditor.sources.azure import AzureEnumerator, collect_region, gap, resolve_accounts
from auditor.util.deadline import Deadline, DeadlineExpired
from auditor.util.redact import encodable

if TYPE_CHECKING:
    from auditor.knowledge.base import KnowledgeBase
    from auditor.model.clouds import Cloud
    from auditor.probes import ProbeOptions

T = TypeVar("T")

AccountReady = Callable[[Facts, Account], None]
"""Told of each account, in `probe_order`, once its deployments are read: the facts hold just those, the contract
and the account's region if it is read by then (no region: not read yet). Live probes start there while the rest
of the fleet is still being read."""


# --- single reads and the deadline -----------------------------------------------------------------------


def guarded(what: str, target: str, read: Callable[[], T]) -> tuple[T | None, list[CollectionGap]]:
    """One read whose Azure fault, or answer of the wrong shape, becomes a gap (the target is incomplete),
    never a crash or a pass."""
    from auditor.model.errors import AuditorError

    try:
        return read(), []
    except AuditorError:
        raise
    except Exception as exc:
        return None, [gap(target, what, exc)]


def read_or_unread(
    deadline: Deadline, job: Future[tuple[T | None, list[CollectionGap]]], target: str, what: str
) -> tuple[T | None, list[CollectionGap]]:
    """A guarded read's result, or, once the run's deadline has passed, a gap saying what was not read."""
    try:
        return deadline.result(job)
    except DeadlineExpired:
        return None, [CollectionGap(target, deadline.reason(what))]


def region_or_unread(
    deadline: Deadline, job: Future[tuple[Region, list[CollectionGap]]], subscription_id: str, location: str
) -> tuple[Region, list[CollectionGap]]:
    """A region's catalog and quota, or, once the deadline has passed, an empty region and a gap saying so."""
    try:
        return deadline.result(job)
    except DeadlineExpired:
        target = f"/subscriptions/{subscription_id}/providers/Microsoft.CognitiveServices/locations/{location}"
        return Region(subscription_id, location, None, None), [
            CollectionGap(target, deadline.reason("the model catalog and quota were"))
        ]


# --- the inputs read before any Azure call ---------------------------------------------------------------


def _app_contract(
    options: AuditOptions,
) -> tuple[tuple[ContractCall, ...] | None, tuple[UnresolvedCall, ...], tuple[CollectionGap, ...]]:
    """The contract from a file (--contract) or from the app's source (--contract-from), read before any
    Azure call so a bad one fails fast; calls whose deployment name is unknowable are kept apart, and
    files of the app the scan could not read make the audit incomplete (unless --scan-allow-unread)."""
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


# --- the fleet's reads -----------------------------------------------------------------------------------


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
        facts = _gather(enumerator, options, contract, chosen, progress or NoProgress(), on_account, deadline)
    finally:
        if own is not None:
            own.shutdown(wait=not deadline.expired, cancel_futures=True)
    facts = replace(facts, contract_unresolved=unresolved, planned=planned, gaps=facts.gaps + scan_gaps)
    if options.monitor:
        from auditor.sources.traffic import with_observed_contract

        facts = with_observed_contract(facts)  # observed entries join the declared or scanned ones
    return encodable(facts)  # strings from Azure (or a file) with lone surrogates could not be written


@dataclass
class _Later:
    """The reads no probe plan needs: per region, per account, and per account from Azure Monitor."""

    regions: dict[tuple[str, str], Future[Any]]
    policies: dict[str, Future[Any]]
    monitors: dict[str, tuple[Future[Any], ...]]


class _FleetReads:
    """The reads of one run's accounts on one pool, each counted on the progress bar and guarded, and their
    results (or, past the deadline, gaps) collected into Facts."""

    def __init__(
        self,
        enumerator: AzureEnumerator,
        options: AuditOptions,
        accounts: Sequence[Account],
        pool: Executor,
        progress: Progress,
        deadline: Deadline,
    ) -> None:
        self.enumerator, self.options, self.accounts = enumerator, options, accounts
        self.pool, self.progress, self.deadline = pool, progress, deadline
        self.region_keys = sorted({(a.subscription_id, a.location) for a in accounts})
        progress.add(len(self.region_keys) + 2 * len(accounts), "reads")
        self.deployments = {
            a.id: self.submit("deployments", a.id, partial(enumerator.list_deployments, a)) for a in accounts
        }

    def tracked(self, job: Callable[[], T]) -> Callable[[], T]:
        def run() -> T:
            try:
                return job()
            finally:
                self.progress.advance("reads")

        return run

    def submit(self, what: str, target: str, read: Callable[[], Any]) -> Future[Any]:
        return self.pool.submit(self.tracked(partial(guarded, what, target, read)))

    def waited(self, job: Future[Any], target: str, what: str) -> tuple[Any, list[CollectionGap]]:
        return read_or_unread(self.deadline, job, target, what)

    def submit_later(self) -> _Later:
        """The reads no probe plan needs but a model unknown to the knowledge base (catalog, quota, content
        filters, monitoring). With probes they are sent once the first account's probes are queued: until then
        their CPU (the SDKs', under the GIL) would hold back the openai import every probe waits for."""
        enumerator, submit = self.enumerator, self.submit
        regions = {
            key: self.pool.submit(self.tracked(partial(collect_region, enumerator, *key))) for key in self.region_keys
        }
        policies = {
            a.id: submit("content filter policies", a.id, partial(_content_filter_policies, enumerator, a))
            for a in self.accounts
        }
        monitors: dict[str, tuple[Future[Any], ...]] = {}
        if self.options.monitor:
            monitors = _submit_monitor(enumerator, self.options, self.accounts, submit)
            self.progress.add(sum(len(jobs) for jobs in monitors.values()), "reads")
        return _Later(regions, policies, monitors)

    def offer(self, on_account: AccountReady, contract: tuple[ContractCall, ...] | None) -> _Later | None:
        """Tell `on_account` of each account as soon as its deployments are read (see AccountReady); the later
        reads are sent after the first."""
        later: _Later | None = None
        for account in sorted(self.accounts, key=probe_order):
            if self.deadline.expired:
                break
            found, _ = self.waited(self.deployments[account.id], account.id, "deployments were")
            job = later.regions[(account.subscription_id, account.location)] if later else None
            ready = (job.result()[0],) if job and job.done() and not job.exception() else ()  # see AccountReady
            on_account(
                Facts(accounts=(account,), deployments=tuple(found or ()), regions=ready, contract=contract), account
            )
            later = later or self.submit_later()
        return later

    def collect(self, later: _Later, contract: tuple[ContractCall, ...] | None, gaps: list[CollectionGap]) -> Facts:
        """Every read's result, or its gap, into Facts; gaps follow `gaps` (discovery's) in the order: regions,
        then per account its deployments and content filters, then Azure Monitor."""
        regions: list[Region] = []
        for (sub, location), job in later.regions.items():
            region, region_gaps = region_or_unread(self.deadline, job, sub, location)
            regions.append(region)
            gaps.extend(region_gaps)
        deployments: list[Deployment] = []
        policies: dict[str, tuple[ContentFilterPolicy, ...] | None] = {}
        for account in self.accounts:
            found, account_gaps = self.waited(self.deployments[account.id], account.id, "deployments were")
            deployments.extend(found or ())
            gaps.extend(account_gaps)
            policies[account.id], policy_gaps = self.waited(
                later.policies[account.id], account.id, "content filter policies were"
            )
            gaps.extend(policy_gaps)
        account_models = self.account_models(deployments, gaps)
        return Facts(
            accounts=tuple(self.accounts),
            deployments=tuple(sorted(deployments, key=lambda d: d.id.lower())),
            regions=tuple(regions),
            contract=contract,
            monitoring=self.monitoring(later, gaps) if self.options.monitor else None,
            gaps=tuple(gaps),  # after monitoring(), which adds its own
            content_filter_policies=policies,
            account_models=account_models,
        )

    def account_models(
        self, deployments: Sequence[Deployment], gaps: list[CollectionGap]
    ) -> dict[str, tuple[CatalogModel, ...] | None]:
        return _account_models(
            self.accounts, deployments, self.enumerator, self.submit, self.waited, gaps, self.progress
        )

    def monitoring(self, later: _Later, gaps: list[CollectionGap]) -> dict[str, AccountMonitoring]:
        found = {}
        for account in self.accounts:
            found[account.id], monitor_gaps = _monitoring(
                self.waited, self.options, account, later.monitors[account.id]
            )
            gaps.extend(monitor_gaps)
        return found


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


def _content_filter_policies(enumerator: AzureEnumerator, account: Account) -> tuple[ContentFilterPolicy, ...]:
    return tuple(enumerator.list_content_filter_policies(account))


def _in_shard(accounts: list[Account], shard: tuple[int, int] | None) -> list[Account]:
    if shard is None:
        return accounts
    from auditor.gating.shard import in_shard

    return [a for a in accounts if in_shard(a.id, shard)]


def _gather(
    enumerator: AzureEnumerator,
    options: AuditOptions,
    contract: tuple[ContractCall, ...] | None,
    pool: Executor,
    progress: Progress,
    on_account: AccountReady | None = None,
    deadline: Deadline | None = None,
) -> Facts:
    """Find the accounts, then read their deployments, regions, content filters and (with --monitor) Azure
    Monitor, all at once on the pool."""
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
    reads = _FleetReads(enumerator, options, _in_shard(accounts, options.shard), pool, progress, deadline)
    later = reads.offer(on_account, contract) if on_account is not None else None
    facts = reads.collect(later or reads.submit_later(), contract, list(discovery_gaps))
    return replace(facts, subscriptions_searched=searched)


# --- reading and probing at once -------------------------------------------------------------------------


def _warm_up_probes(credential: object, cloud: object) -> None:
    """Best effort: a failure here shows up, properly classified, when the probes run."""
    try:
        import openai  # noqa: F401

        credential.get_token(cloud.cognitive_scope)  # type: ignore[attr-defined]
    except Exception:
        return


def gather_and_probe(
    enumerator: AzureEnumerator,
    options: AuditOptions,
    probe: ProbeOptions,
    credential: object,
    cloud: Cloud,
    connection_verify: str | bool,
    kb: KnowledgeBase,
    today: date,
    progress: Progress | None,
) -> Facts:
    """Reads and probes on one pool of `--concurrency` workers: an account's probes start as soon as its
    deployments and region are read, behind the reads already queued, so the bound holds for both; all within
    one deadline (the run's --timeout)."""
    from auditor.probes.runner import ProbeRunner, ProbeSession

    runner = ProbeRunner(credential=credential, cloud=cloud, options=probe, connection_verify=connection_verify)
    deadline = Deadline(options.timeout)
    pool = ThreadPoolExecutor(max_workers=max(1, options.concurrency), thread_name_prefix="audit")
    try:
        # The openai SDK's import and the data-plane token while ARM is being read, not after; on the pool, so
        # the token request counts against --concurrency like every other call.
        pool.submit(_warm_up_probes, credential, cloud)
        session = ProbeSession(runner, kb, today, probe, pool, progress)
        facts = gather_facts(
            enumerator, options, pool=pool, progress=progress, on_account=session.offer, deadline=deadline
        )
        probes, spent = session.finish(facts, deadline)
        if deadline.expired and any("--timeout" in n or "interrupted" in n for n in spent.not_probed):
            facts = replace(facts, gaps=(*facts.gaps, CollectionGap(RUN_TARGET, deadline.reason("live probes were"))))
    finally:
        pool.shutdown(wait=not deadline.expired, cancel_futures=True)
        if not deadline.expired:
            runner.close()
    return replace(facts, probes=probes, probe_summary=spent)


def gather(
    options: AuditOptions,
    *,
    credential: object,
    cloud: Cloud,
    connection_verify: str | bool,
    kb: KnowledgeBase,
    today: date,
    progress: Progress | None = None,
) -> Facts:
    """The whole I/O half for one run: the enumerator over `cloud`, then the reads, with live probes when
    `options.probe` asks for them."""
    enumerator = AzureEnumerator(
        credential,  # type: ignore[arg-type]
        cloud,
        connection_verify=connection_verify,
        max_connections=options.concurrency,
    )
    if options.probe is None:
        return gather_facts(enumerator, options, progress=progress)
    return gather_and_probe(
        enumerator, options, options.probe, credential, cloud, connection_verify, kb, today, progress
    )
