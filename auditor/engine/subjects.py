"""Turn the fact model into the documents rules read: one subject per account, deployment, quota line,
contract call and contract parameter, one builder per kind. Joins happen in engine/views.py (deployment ->
catalog entry, quota line, knowledge base, contract), so rules stay declarative. Pure: no I/O.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, cast

from auditor.engine import evidence
from auditor.engine.compliance import activity_view, monitor_view
from auditor.engine.conditional import condition_holds
from auditor.engine.observed import (
    observed_causes,
    observed_evidence,
    provenance_fields,
    traffic_causes,
    traffic_view,
)
from auditor.engine.views import (
    Subject,
    account_view,
    catalog_view,
    content_filter_view,
    contract_view,
    deployment_view,
    lifecycle_view,
    matches,
    quota_view,
    suggestions,
    usage_numbers,
    with_catalog,
)
from auditor.knowledge.base import KnowledgeBase, model_view
from auditor.model.documents import (
    AccountDocument,
    AccountView,
    ContractCallDocument,
    ContractParameterDocument,
    DeploymentDocument,
    KnowledgeBaseDocument,
    ParamRange,
    ParamView,
    QuotaUsageDocument,
    QuotaUsageView,
    ResolvedCallView,
)
from auditor.model.facts import Account, CatalogModel, ContractCall, Deployment, Facts, Region
from auditor.model.results import Cause
from auditor.model.unknown import UNKNOWN
from auditor.util.textcap import join_capped

__all__ = ["Subject", "build_subjects"]

_Shared = tuple[Any, dict[str, Any], dict[str, Any], Any]


@dataclass
class _Index:
    """Lookups every builder needs, made once per audit (a fleet has thousands of deployments)."""

    facts: Facts
    kb: KnowledgeBase
    today: date
    accounts: dict[str, Account] = field(default_factory=dict)
    account_views: dict[str, AccountView] = field(default_factory=dict)
    regions: dict[tuple[str, str], Region] = field(default_factory=dict)
    catalog: dict[tuple[int, str], list[CatalogModel]] = field(default_factory=dict)
    by_model: dict[str, list[str]] = field(default_factory=dict)
    by_name: dict[str, list[Deployment]] = field(default_factory=dict)
    calls: dict[str, list[ContractCall]] | None = None
    used_usages: dict[tuple[str, str, str], list[str]] = field(default_factory=dict)
    usage_names: dict[tuple[str, str, str], str] = field(default_factory=dict)
    deployment_causes: dict[str, dict[str, tuple[Cause, str]]] = field(default_factory=dict)
    unlinked: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    """Deployments whose quota line is unknown (their region's catalog, which names it, was not read)."""
    deployment_docs: dict[str, DeploymentDocument] = field(default_factory=dict)

    @classmethod
    def of(cls, facts: Facts, kb: KnowledgeBase, today: date) -> _Index:
        index = cls(facts, kb, today)
        index.accounts = {a.id: a for a in facts.accounts}
        counts = Counter(d.account_id for d in facts.deployments)
        index.account_views = {a.id: account_view(a, counts[a.id], kb) for a in facts.accounts}
        index.regions = {(r.subscription_id, r.location): r for r in facts.regions}
        for region in facts.regions:
            for entry in region.catalog or ():
                index.catalog.setdefault((id(region), entry.name), []).append(entry)
        if facts.contract is not None:
            index.calls = {}
            for call in facts.contract:
                index.calls.setdefault(call.deployment, []).append(call)
        for d in facts.deployments:
            index.by_name.setdefault(d.name, []).append(d)
            if d.model_name:
                index.by_model.setdefault(d.model_name.lower(), []).append(
                    f"{d.name} ({index.accounts[d.account_id].name})"
                )
        return index

    def read_failure(self, account: Account, what: str) -> str:
        """What the enumerator recorded about a region read that failed (`what`: catalog or usages)."""
        return self.read_failure_at(account.subscription_id, account.location, what)

    def read_failure_at(self, subscription: str, location: str, what: str) -> str:
        target = f"/subscriptions/{subscription}/providers/Microsoft.CognitiveServices/locations/{location}"
        label = "the model catalog" if what == "catalog" else "quota usages"
        found = next(
            (g.reason for g in self.facts.gaps if g.target.lower() == target.lower() and label in g.reason), None
        )
        return found or f"{label} of {location} could not be read"

    def causes(
        self, account: Account, deployment: Deployment, document: Mapping[str, Any]
    ) -> dict[str, tuple[Cause, str]]:
        """Why parts of a deployment's document are unknown, where Azure is the reason."""
        causes: dict[str, tuple[Cause, str]] = {}
        if document["catalog"] is UNKNOWN:
            why = (
                (
                    Cause.AZURE,
                    f"the models list of account {account.name}, where Azure lists its fine-tuned models, was not read",
                )
                if deployment.fine_tuned
                else (Cause.AZURE, self.read_failure(account, "catalog"))
            )
            for key in ("catalog", "lifecycle", "knowledge.compared", "quota"):
                causes[key] = why
        elif document["quota"] is UNKNOWN:
            causes["quota"] = (Cause.AZURE, self.read_failure(account, "usages"))
        if document["deployment"]["tokens_per_minute"] is UNKNOWN:
            causes["deployment.tokens_per_minute"] = (
                Cause.AZURE,
                f"ARM reports no token rate limit for this deployment, and its SKU ({deployment.sku_name}) "
                "grants no fixed tokens per minute per unit",
            )
        if deployment.version_upgrade_option is None:
            causes["deployment.version_upgrade_option"] = (
                Cause.AZURE,
                "ARM reports no versionUpgradeOption for this deployment (deployments made with older api-versions "
                "carry none), so what Azure does at retirement is not known: set it explicitly",
            )
        if document["content_filter"] is UNKNOWN:
            causes["content_filter"] = (Cause.AZURE, "the account's content filter policies could not be read")
        causes.update(traffic_causes(self.facts, deployment, document["traffic"]))
        return causes

    def catalog_entries(
        self, region: Region | None, account: Account, deployment: Deployment
    ) -> list[CatalogModel] | None:
        """engine.views.catalog_entries through the index: None when the region's catalog was not read. A
        fine-tuned deployment is looked up in its account's own models list instead: the location catalog lists
        base models only."""
        if deployment.fine_tuned:
            listed = self.facts.account_models.get(account.id)
            return None if listed is None else [m for m in listed if matches(m, deployment)]
        if region is None or region.catalog is None:
            return None
        return [
            m
            for m in self.catalog.get((id(region), deployment.model_name or ""), ())
            if deployment.model_format is None or m.format.lower() == deployment.model_format.lower()
        ]


def build_subjects(facts: Facts, kb: KnowledgeBase, today: date) -> Iterator[Subject]:
    """Every subject of every kind, in a stable order."""
    index = _Index.of(facts, kb, today)
    yield from account_subjects(index)
    yield knowledge_base_subject(kb, today)
    yield from deployment_subjects(index)
    yield from quota_subjects(index)
    yield from contract_subjects(index)
    yield from evidence.unresolved_call_subjects(facts)
    yield from evidence.probe_subjects(facts, kb, today, index.accounts, index.deployment_docs)
    yield from evidence.planned_subjects(facts, kb, today, index.accounts)


def account_subjects(index: _Index) -> Iterator[Subject]:
    for account in index.facts.accounts:
        document: AccountDocument = {
            "account": index.account_views[account.id],
            "monitor": monitor_view(index.facts, account),
        }
        yield Subject("account", account.id, account.name, document, account_id=account.id)


def knowledge_base_subject(kb: KnowledgeBase, today: date) -> Subject:
    checked = kb.checked
    document: KnowledgeBaseDocument = {
        "knowledge": {
            "checked": str(checked) if checked else None,
            "age_days": (today - checked).days if checked else UNKNOWN,
            "models": len(kb.models),
        }
    }
    return Subject("knowledge_base", f"knowledge-base:{kb.path}", "knowledge base", document)


def deployment_subjects(index: _Index) -> Iterator[Subject]:
    """One subject per deployment; records the quota lines in use and each deployment's document for the
    builders that follow (quota lines, contract calls, probes)."""
    kb, today = index.kb, index.today
    probed = evidence.probes_by_deployment(index.facts.probes)
    shared_views: dict[tuple[Any, ...], _Shared] = {}
    model_views: dict[tuple[str | None, str | None, str | None], dict[str, Any]] = {}
    # Deployments naming the same policy of one account read the same content filter view (read-only).
    filter_views: dict[tuple[str, str | None], Any] = {}
    for deployment in index.facts.deployments:
        account = index.accounts[deployment.account_id]
        region = index.regions.get((account.subscription_id, account.location))
        view_key = (deployment.model_name, deployment.model_version, deployment.sku_name)
        # Deployments of one model version, SKU and format in one region and account kind read the same
        # catalog entry and knowledge: those views are made once and shared (documents are read-only).
        shared_key = (id(region), account.kind.lower(), deployment.model_format, *view_key)
        shared = shared_views.get(shared_key)
        if shared is None:
            catalog = catalog_view(index.catalog_entries(region, account, deployment), deployment, today, account.kind)
            if view_key not in model_views:
                model_views[view_key] = model_view(kb, *view_key, today)
            model, disagreements, compared = with_catalog(model_views[view_key], catalog, kb, deployment)
            knowledge = {
                "disagreements": disagreements,
                "compared": compared,
                "checked": str(kb.checked) if kb.checked else None,
            }
            shared = shared_views[shared_key] = (catalog, model, knowledge, lifecycle_view(catalog, model))
        catalog, model, knowledge, lifecycle = shared
        usage_name = catalog.get("usage_name") if isinstance(catalog, dict) else None
        if usage_name:
            line = (account.subscription_id, account.location, usage_name.lower())
            index.used_usages.setdefault(line, []).append(deployment.name)
            index.usage_names.setdefault(line, usage_name)
        elif catalog is UNKNOWN:
            index.unlinked.setdefault((account.subscription_id, account.location), []).append(deployment.name)
        mine = probed.get(deployment.id)
        if mine:
            model = evidence.with_probes(model, mine)
            lifecycle = lifecycle_view(catalog, model)
        filter_key = (deployment.account_id, deployment.rai_policy_name)
        filter_view = filter_views.get(filter_key)
        if filter_view is None:
            filter_view = filter_views[filter_key] = content_filter_view(index.facts, deployment)
        document: DeploymentDocument = {
            "account": index.account_views[account.id],
            "deployment": deployment_view(deployment),
            "model": model,
            "catalog": catalog,
            "lifecycle": lifecycle,
            "knowledge": knowledge,
            "quota": quota_view(region, usage_name) if usage_name or catalog is UNKNOWN else None,
            "contract": contract_view(index.calls, deployment, account),
            "content_filter": filter_view,
            "activity": activity_view(index.facts, deployment),
            "traffic": traffic_view(
                index.facts, deployment, account.name, index.calls.get(deployment.name) if index.calls else None
            ),
        }
        index.deployment_docs[deployment.id] = document
        name = f"{account.name}/{deployment.name}"
        yield Subject(
            "deployment",
            deployment.id,
            name,
            document,
            account_id=account.id,
            deployment=deployment.name,
            causes=index.deployment_causes.setdefault(deployment.id, index.causes(account, deployment, document)),
        )


def quota_subjects(index: _Index) -> Iterator[Subject]:
    """One subject per quota line some audited deployment draws on (after deployment_subjects). A line that
    could not be read, or whose deployments' line could not be told (the catalog names it), is a subject
    too, with unknown numbers and the read failure as the cause: never silence where quota applies."""
    lines: dict[tuple[str, str], dict[str, list[str]]] = {}
    for (subscription, location, usage_name), users in index.used_usages.items():
        lines.setdefault((subscription, location), {})[usage_name] = users
    for region in index.facts.regions:
        key = (region.subscription_id, region.location)
        used = dict(lines.pop(key, {}))
        for usage in region.usages or ():
            users = used.pop(usage.name.lower(), [])
            if not users:
                continue
            numbers: QuotaUsageView = {
                **usage_numbers(usage.name, usage.localized_name, usage.current_value, usage.limit),
                "deployments": sorted(users),
            }
            yield _quota_subject(region.subscription_id, region.location, usage.name, numbers)
        if region.usages is None:
            why = index.read_failure_at(region.subscription_id, region.location, "usages")
        else:
            why = f"the quota usages of {region.location} have no line of this name"
        for name, users in sorted(used.items()):
            shown = index.usage_names.get((*key, name), name)
            yield _unknown_quota(region.subscription_id, region.location, shown, users, why)
        unlinked = index.unlinked.pop(key, None)
        if unlinked:
            why = index.read_failure_at(region.subscription_id, region.location, "catalog")
            yield _unknown_quota(
                region.subscription_id, region.location, "?", unlinked, f"which quota line applies is unknown: {why}"
            )
    for (subscription, location), unlinked in sorted(index.unlinked.items()):  # a region with no facts at all
        why = index.read_failure_at(subscription, location, "catalog")
        yield _unknown_quota(subscription, location, "?", unlinked, f"which quota line applies is unknown: {why}")


def _quota_subject(subscription: str, location: str, name: str, numbers: Mapping[str, Any]) -> Subject:
    target = f"/subscriptions/{subscription}/providers/Microsoft.CognitiveServices/locations/{location}/usages/{name}"
    document: QuotaUsageDocument = {
        "usage": numbers,
        "region": {"subscription_id": subscription, "location": location},
    }
    return Subject("quota_usage", target, f"{location}/{name}", document)


def _unknown_quota(subscription: str, location: str, name: str, users: list[str], why: str) -> Subject:
    numbers: dict[str, Any] = dict.fromkeys(("current", "limit", "available", "utilization", "percent"), UNKNOWN)
    numbers.update(name=name, localized_name=name, deployments=sorted(users))
    subject = _quota_subject(subscription, location, name, numbers)
    return replace(subject, causes={"usage": (Cause.AZURE, why)})


def _call_view(call: ContractCall) -> ResolvedCallView:
    view: dict[str, Any] = {
        "deployment": call.deployment,
        "api": call.api,
        "parameters": sorted(call.parameters),
        "account": call.account,
        "min_context_tokens": call.min_context_tokens,
        "tokens_per_minute": call.tokens_per_minute,
        "roles": list(call.roles),
        "api_version": call.api_version,
        # The dated route needs a minimum version per model; the v1 route (no dated version) needs none.
        "dated_api_version": bool(call.api_version and call.api_version[:1].isdigit()),
        "inputs_per_call": call.inputs_per_call,
        "function_tools": "tools" in call.parameters or "functions" in call.parameters,
        "reasoning_effort": _effort_sent(call.parameters),
        "resolved": True,  # the deployment name is known (see evidence.unresolved_call_subjects)
        "legacy_sdk": call.sdk == "openai<1",
        "source": f"{call.location.file}:{call.location.line}" if call.location else call.deployment,
    }
    view.update(provenance_fields(call))  # where the entry comes from; an observed one's traffic
    return cast(ResolvedCallView, view)


def _effort_sent(parameters: Mapping[str, Any]) -> Any:
    """The reasoning effort a call sends: its value, "default" when it sends none, UNKNOWN when only the name is known."""
    for key in ("reasoning_effort", "reasoning"):
        if key in parameters:
            value = parameters[key]
            if isinstance(value, Mapping):
                value = value.get("effort")
            return UNKNOWN if value is None else value
    return "default"


def contract_subjects(index: _Index) -> Iterator[Subject]:
    """One `contract_call` per call and deployment it reaches (or one for a name that reaches none), and
    one `contract_parameter` per parameter it sends (after deployment_subjects)."""
    for call in index.facts.contract or ():
        matches = [
            d
            for d in index.by_name.get(call.deployment, ())
            if call.account is None or index.accounts[d.account_id].name == call.account
        ]
        names = suggestions(index.by_model, call)
        view = _call_view(call)
        if not matches:
            missing: ContractCallDocument = {
                "call": view,
                "suggestions": names,
                "suggestions_text": join_capped(names),
                "deployment": {"exists": False, "name": call.deployment},
                "model": UNKNOWN,
                "account": UNKNOWN,
            }
            target = f"contract:{call.deployment}"
            yield Subject(
                "contract_call",
                target,
                call.deployment,
                missing,
                deployment=call.deployment,
                location=call.location,
                evidence={"fix": {"model_name": call.deployment, "deployments": names}},  # for auditor/fixes
            )
            continue
        for deployment in matches:
            account = index.accounts[deployment.account_id]
            parent = index.deployment_docs[deployment.id]
            document: ContractCallDocument = {
                "call": view,
                "suggestions": names,
                "suggestions_text": join_capped(names),
                "deployment": parent["deployment"],
                "model": parent["model"],
                "account": parent["account"],
                "catalog": parent["catalog"],
                "quota": parent["quota"],
                "lifecycle": parent["lifecycle"],
            }
            name = f"{account.name}/{deployment.name}"
            yield Subject(
                "contract_call",
                deployment.id,
                name,
                document,
                account_id=account.id,
                deployment=deployment.name,
                location=call.location,
                causes={**index.deployment_causes[deployment.id], **observed_causes(index.facts, call, account.id)},
                evidence=observed_evidence(call) or {},
            )
            for param, value in sorted(call.parameters.items()):
                condition = call.conditions.get(param)
                holds = condition_holds(condition, deployment.name) if condition else True
                if holds is False:
                    continue  # sent only under a condition that cannot hold for this deployment's name
                param_view = _param_view(index.kb, call, parent["model"], param, value)
                if condition:  # sent under a condition: holds here (decided) or cannot be told (a warning at most)
                    param_view["condition"] = condition
                    param_view["condition_decided"] = holds is True
                with_param: ContractParameterDocument = {**document, "call": view, "param": param_view}
                yield Subject(
                    "contract_parameter",
                    deployment.id,
                    name,
                    with_param,
                    account_id=account.id,
                    deployment=deployment.name,
                    location=call.location,
                    causes=index.deployment_causes[deployment.id],
                    evidence=_fix_evidence(call.api, param_view),
                )


def _fix_evidence(api: str, param: Mapping[str, Any]) -> dict[str, Any]:
    """What auditor/fixes needs to edit the call mechanically, carried onto the finding."""
    plain = {k: None if param.get(k) is UNKNOWN else param.get(k) for k in ("name", "support", "use_instead")}
    return {
        "fix": {
            "api": api,
            "parameter": plain["name"],
            "support": plain["support"],
            "use_instead": plain["use_instead"] or param.get("other_api_name"),
        }
    }


def _effort(param: str, value: Any) -> Any:
    """The reasoning effort a parameter asks for: Chat Completions' `reasoning_effort: X`, the Responses
    API's `reasoning: {effort: X}`; None for any other parameter, UNKNOWN when the contract gives no value."""
    if param == "reasoning_effort":
        return UNKNOWN if value is None else value
    if param == "reasoning":
        return value.get("effort") if isinstance(value, Mapping) else UNKNOWN
    return None


def _param_view(kb: KnowledgeBase, call: ContractCall, model: Mapping[str, Any], param: str, value: Any) -> ParamView:
    table = model["parameters"]
    # A table lists what the model refuses (its sources list every refusal); "*" stands for the parameters
    # it does not list when only probes answered for some (engine.evidence.with_probes).
    spec: Any = UNKNOWN if table is UNKNOWN else dict(table.get(param) or table.get("*") or {"support": "supported"})
    return {
        **kb.api_parameter(call.api, param),
        "name": param,
        "value": UNKNOWN if value is None else value,
        "effort": _effort(param, value),
        "support": UNKNOWN if spec is UNKNOWN else spec.get("support"),
        "default": UNKNOWN if spec is UNKNOWN else spec.get("default"),
        "use_instead": UNKNOWN if spec is UNKNOWN else spec.get("use_instead"),
        "condition": None,
        "condition_decided": True,
        **_range(kb, model, param, value),
    }


_OUTPUT_TOKEN_PARAMETERS = frozenset({"max_tokens", "max_completion_tokens", "max_output_tokens"})


def _range(kb: KnowledgeBase, model: Mapping[str, Any], param: str, value: Any) -> ParamRange:
    """The value's bounds and whether it is within them: `bounded` only where a numeric value meets a known
    bound (the model's output limit, its embeddings' output dimensions, or the inference reference's range)."""
    low: Any = None
    high: Any = None
    if param in _OUTPUT_TOKEN_PARAMETERS:
        low, high = 1, model.get("max_output_tokens")
    elif param == "dimensions":
        embeddings = model.get("embeddings")
        low, high = 1, embeddings.get("output_dimensions") if isinstance(embeddings, Mapping) else None
    elif param in kb.parameter_bounds:
        low, high = kb.parameter_bounds[param].get("min"), kb.parameter_bounds[param].get("max")
    numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
    known = isinstance(high, (int, float)) and not isinstance(high, bool)
    if not (numeric and known):
        return {"bounded": False, "in_range": None, "range_text": None}
    in_range = (low is None or value >= low) and value <= high
    return {
        "bounded": True,
        "in_range": in_range,
        "range_text": f"{low:,} to {high:,}" if low is not None else f"at most {high:,}",
    }
