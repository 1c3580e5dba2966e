"""`audit --offline`: judge the app's contract and a plan against the knowledge base alone, with no Azure call.

For a pull request from a fork or a laptop without credentials. The deployments judged are the plan's (each
planned deployment stands as a deployment of its account) and those a configuration file's `deployments:` map
declares (name -> model, version, sku, region). The rule engine runs as on a live audit; then every finding of a
rule that reads a fact only Azure has (the account's settings, the region's catalog and quota, a deployment's
state) is replaced by an *unknown* finding with cause `offline`, naming the facts it needed: nothing that needs
Azure passes or fails offline, and the verdict says what was not checked.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime, timezone
from typing import TYPE_CHECKING, Any

from auditor.engine.rules import Rule
from auditor.knowledge.base import KnowledgeBase
from auditor.model.facts import Account, CollectionGap, Deployment, Facts, PlannedDeployment
from auditor.model.results import Cause, Finding, Report, Status

if TYPE_CHECKING:
    from auditor.pipeline.audit import AuditOptions

OFFLINE_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
"""The subscription of the stand-in accounts: no real subscription has the nil GUID."""
UNKNOWN_REGION = "unknown"

KNOWN_ROOTS = frozenset({"model", "call", "param", "contract", "suggestions", "suggestions_text", "knowledge_base"})
"""Facts offline knows whole: the knowledge base's model facts, the app's calls, the plan's contract view."""
KNOWN_FIELDS = {
    "deployment": frozenset(
        {"exists", "name", "model_format", "model_name", "model_version", "sku_name", "sku_capacity"}
    ),
    "plan": frozenset(
        {
            "name",
            "account",
            "model_name",
            "model_version",
            "sku_name",
            "sku_capacity",
            "format",
            "unresolved",
            "unresolved_text",
            "version_given",
            "registration_approved",
            "source",
        }
    ),
    "account": frozenset({"name"}),
}
"""Facts offline knows in part: what the plan or the configuration declares; the rest is Azure's."""


def offline_facts(
    planned: Sequence[PlannedDeployment] | None,
    declared: Mapping[str, Mapping[str, Any]],
    base: Facts,
) -> Facts:
    """Stand-in accounts and deployments for the plan's and the configuration's deployments, on `base` (the
    contract and its gaps). Account settings stay unset: the post-processing makes every rule reading them unknown."""
    accounts: dict[str, Account] = {}
    deployments: list[Deployment] = []

    def account(name: str, region: str | None) -> Account:
        found = accounts.get(name.lower())
        if found is None or (found.location == UNKNOWN_REGION and region):
            found = Account(
                id=f"/subscriptions/{OFFLINE_SUBSCRIPTION}/resourceGroups/offline/providers/"
                f"Microsoft.CognitiveServices/accounts/{name}",
                name=name,
                subscription_id=OFFLINE_SUBSCRIPTION,
                resource_group="offline",
                location=region or UNKNOWN_REGION,
                kind="OpenAI",
            )
            accounts[name.lower()] = found
        return found

    for plan in planned or ():
        if not plan.name:
            continue
        owner = account(plan.account or "planned", None)
        deployments.append(
            Deployment(
                id=f"{owner.id}/deployments/{plan.name}",
                name=plan.name,
                account_id=owner.id,
                model_format=plan.model_format,
                model_name=plan.model_name,
                model_version=plan.model_version,
                sku_name=plan.sku_name,
                sku_capacity=plan.sku_capacity,
            )
        )
    for name, spec in declared.items():
        owner = account(str(spec.get("account") or "declared"), spec.get("region"))
        deployments.append(
            Deployment(
                id=f"{owner.id}/deployments/{name}",
                name=name,
                account_id=owner.id,
                model_format="OpenAI",
                model_name=str(spec["model"]),
                model_version=spec.get("version"),
                sku_name=spec.get("sku"),
                sku_capacity=spec.get("capacity"),
            )
        )
    return replace(
        base,
        accounts=tuple(accounts.values()),
        deployments=tuple(deployments),
        planned=tuple(planned) if planned is not None else None,
        gaps=(
            *base.gaps,
            CollectionGap("offline", "offline: nothing was read from Azure (accounts, catalogs, quota, deployments)"),
        ),
    )


def _fields(condition: Any) -> Iterable[str]:
    if isinstance(condition, Mapping):
        for key, value in condition.items():
            if key == "field" and isinstance(value, str):
                yield value
            else:
                yield from _fields(value)
    elif isinstance(condition, list):
        for item in condition:
            yield from _fields(item)


def azure_facts(rule: Rule) -> list[str]:
    """The facts a rule reads that only Azure can give (empty: the rule can be judged offline)."""
    if rule.applies_to == "knowledge_base":
        return []
    needed = []
    for path in sorted(set(_fields(rule.where)) | set(_fields(rule.fails_when))):
        root, _, rest = path.partition(".")
        if root in KNOWN_ROOTS or rest.split(".")[0] in KNOWN_FIELDS.get(root, ()):
            continue
        needed.append(path)
    return needed


def _account_location_known(report_accounts: Mapping[str, Account], finding: Finding, path: str) -> bool:
    account = report_accounts.get((finding.account_id or "").lower())
    return path == "account.location" and account is not None and account.location != UNKNOWN_REGION


def mark_offline(report: Report, rules: Sequence[Rule], facts: Facts) -> Report:
    """Every finding of a rule that needs Azure becomes unknown, cause `offline`, naming the facts it needed."""
    by_id = {r.id: azure_facts(r) for r in rules}
    accounts = {a.id.lower(): a for a in facts.accounts}
    findings = []
    reads = {r.id: set(_fields(r.where)) | set(_fields(r.fails_when)) for r in rules}
    for f in report.findings:
        needed = [p for p in by_id.get(f.rule_id, ()) if not _account_location_known(accounts, f, p)]
        if f.target.startswith("contract:") and "deployment.exists" in reads.get(f.rule_id, ()):
            # a name the plan and the configuration do not declare: whether the tenant has it, only Azure knows
            needed.append("deployment.exists")
        if needed and f.status in (Status.PASS, Status.FAIL, Status.UNKNOWN):
            reason = f"needs Azure ({', '.join(needed)}): not read with --offline"
            f = replace(
                f,
                status=Status.UNKNOWN,
                message=f"Not checked offline: {f.title} needs {', '.join(needed)} from Azure.",
                reason=reason,
                cause=Cause.OFFLINE,
                evidence=None,
            )
        findings.append(f)
    return replace(report, findings=tuple(findings))


def audit_offline(
    facts: Facts,
    rules: Sequence[Rule],
    kb: KnowledgeBase,
    *,
    today: date | None = None,
    now: datetime | None = None,
) -> Report:
    """The audit of stand-in facts (`offline_facts`), with what needs Azure marked unknown. Pure."""
    from auditor.pipeline.audit import audit

    now = now or datetime.now(timezone.utc)
    return mark_offline(audit(facts, rules, kb, today=today, now=now), rules, facts)


def run_offline(
    options: AuditOptions,
    declared: Mapping[str, Mapping[str, Any]],
    *,
    rules: Sequence[Rule],
    kb: KnowledgeBase | None = None,
    today: date | None = None,
) -> Report:
    """The offline audit as a library call: the contract (file or scan) and the plan, read as a live audit reads
    them, judged for the planned and declared deployments; `rules` are the ones to run (selected, policy added)."""
    from auditor.knowledge.base import load_knowledge
    from auditor.model.errors import InputError
    from auditor.pipeline.audit import _app_contract, _read_plan

    contract, unresolved, scan_gaps = _app_contract(options)
    planned = _read_plan(options)
    if not planned and not declared:
        raise InputError(
            "--offline judges planned or declared deployments: give --plan FILE, or a `deployments` table in the "
            "configuration file (name -> model, version, sku, region)"
        )
    base = Facts(contract=contract, contract_unresolved=unresolved, gaps=scan_gaps)
    facts = offline_facts(planned, declared, base)
    return audit_offline(facts, rules, kb or load_knowledge(overlay=options.knowledge), today=today)
