"""Turn the fact model into the documents rules read: one per account, deployment, quota line,
contract call and contract parameter. Joins happen here (deployment -> catalog entry, quota line,
knowledge base, contract), so rules stay declarative. Pure: no I/O.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from auditor.engine.conditions import UNKNOWN
from auditor.facts import Account, CatalogModel, CatalogSku, ContractCall, Deployment, Facts, Region, SourceLocation
from auditor.knowledge import KnowledgeBase, model_view


@dataclass(frozen=True)
class Subject:
    """A document a rule is evaluated on, with what it is about."""

    kind: str
    target: str
    target_name: str
    document: Mapping[str, Any]
    account_id: str | None = None
    deployment: str | None = None
    location: SourceLocation | None = None
    evidence: Mapping[str, Any] = field(default_factory=dict)
    """What was observed (a probe's status, error code, latency ...), carried onto the finding as is."""


def _account_view(account: Account, deployment_count: int, kb: KnowledgeBase) -> dict[str, Any]:
    regions = kb.responses_regions.value if kb.responses_regions else None
    return {
        "id": account.id,
        "name": account.name,
        "kind": account.kind,
        "location": account.location,
        "subscription_id": account.subscription_id,
        "resource_group": account.resource_group,
        "sku_name": account.sku_name,
        "endpoint": account.endpoint,
        "custom_subdomain": account.custom_subdomain,
        "provisioning_state": account.provisioning_state,
        "disable_local_auth": account.disable_local_auth,
        "local_auth_enabled": account.disable_local_auth is not True,
        "public_network_access": account.public_network_access,
        "network_default_action": account.network_default_action,
        "network_ip_rules": list(account.network_ip_rules),
        "private_endpoint_count": len(account.private_endpoint_connections),
        "identity_type": account.identity_type,
        "has_managed_identity": bool(account.identity_type) and account.identity_type != "None",
        "encryption_key_source": account.encryption_key_source,
        "restrict_outbound_network_access": account.restrict_outbound_network_access,
        "responses_api_region": UNKNOWN if regions is None else account.location.lower() in regions,
        "deployment_count": deployment_count,
    }


def _deployment_view(deployment: Deployment) -> dict[str, Any]:
    return {
        "exists": True,
        "id": deployment.id,
        "name": deployment.name,
        "model_format": deployment.model_format,
        "model_name": deployment.model_name,
        "model_version": deployment.model_version,
        "sku_name": deployment.sku_name,
        "sku_capacity": deployment.sku_capacity,
        "version_upgrade_option": deployment.version_upgrade_option,
        "rai_policy_name": deployment.rai_policy_name,
        "provisioning_state": deployment.provisioning_state,
        "capabilities": dict(deployment.capabilities),
        "tokens_per_minute": _per_minute(deployment, "token"),
        "state": deployment.state,
    }


def _content_filter_view(facts: Facts, deployment: Deployment) -> Any:
    """The deployment's content filter policy: which filters are off or only annotate."""
    name = deployment.rai_policy_name
    if not name:
        return {"named": False, "found": False, "name": None, "disabled_filters": [], "non_blocking_filters": []}
    policies = (
        facts.content_filter_policies.get(deployment.account_id, UNKNOWN) if facts.content_filter_policies else UNKNOWN
    )
    if policies is UNKNOWN or policies is None:
        return UNKNOWN
    policy = next((p for p in policies if p.name.lower() == name.lower()), None)
    if policy is None:
        return {"named": True, "found": False, "name": name, "disabled_filters": [], "non_blocking_filters": []}
    return {
        "named": True,
        "found": True,
        "name": policy.name,
        "type": policy.type,
        "mode": policy.mode,
        "disabled_filters": sorted(f"{f.name} ({f.source})" for f in policy.filters if f.enabled is False),
        "non_blocking_filters": sorted(
            f"{f.name} ({f.source})" for f in policy.filters if f.enabled is not False and f.blocking is False
        ),
    }


def _per_minute(deployment: Deployment, key: str) -> float | None:
    """The deployment's rate limit for `key`, per minute, as ARM reports it."""
    for limit in deployment.rate_limits:
        if limit.key == key and limit.renewal_period > 0:
            return round(limit.count * 60 / limit.renewal_period, 3)
    if key == "token" and deployment.sku_capacity is not None and (deployment.sku_name or "").endswith("Standard"):
        return float(deployment.sku_capacity * 1000)
    return None


def _lifecycle_view(catalog: Any, model: Mapping[str, Any]) -> Any:
    """When the deployed version retires: the live catalog wins; the knowledge base fills in."""
    retirement = model.get("retirement")
    if isinstance(catalog, Mapping) and catalog.get("deprecation_date"):
        return {
            "retirement_date": catalog["deprecation_date"],
            "days_left": catalog["days_to_deprecation"],
            "source": "live catalog",
            "replacement": catalog.get("replacement")
            or (retirement.get("replacement") if isinstance(retirement, Mapping) else None),
            "status": catalog.get("lifecycle_status"),
            "schedule_stage": retirement.get("status") if isinstance(retirement, Mapping) else None,
        }
    if isinstance(retirement, Mapping) and retirement.get("date"):
        return {
            "retirement_date": retirement["date"],
            "days_left": retirement["days_left"],
            "source": "knowledge base",
            "replacement": retirement.get("replacement"),
            "status": retirement.get("status"),
            "schedule_stage": retirement.get("status"),
        }
    if catalog is UNKNOWN and retirement is UNKNOWN:
        return UNKNOWN
    return {
        "retirement_date": None,
        "days_left": None,
        "source": None,
        "replacement": None,
        "status": None,
        "schedule_stage": None,
    }


def _catalog_sku(entry: CatalogModel | None, sku_name: str | None) -> CatalogSku | None:
    if entry is None or sku_name is None:
        return None
    return next((s for s in entry.skus if s.name.lower() == sku_name.lower()), None)


def _catalog_view(entries: list[CatalogModel] | None, deployment: Deployment, today: date) -> Any:
    if entries is None:
        return UNKNOWN
    entry = next((m for m in entries if m.version == deployment.model_version), None)
    sku = _catalog_sku(entry, deployment.sku_name)
    default = next((m.version for m in entries if m.is_default_version), None)
    deprecation = (
        sku.deprecation_date if sku and sku.deprecation_date else (entry.inference_deprecation if entry else None)
    )
    return {
        "model_offered": bool(entries),
        "version_offered": entry is not None,
        "sku_offered": sku is not None,
        "offered": sku is not None,
        "versions": sorted(m.version for m in entries),
        "skus": sorted(s.name for s in entry.skus) if entry else [],
        "default_version": default,
        "is_default_version": bool(entry and entry.is_default_version),
        "lifecycle_status": entry.lifecycle_status if entry else None,
        "deprecation_date": str(deprecation) if deprecation else None,
        "days_to_deprecation": (deprecation - today).days if deprecation else None,
        "usage_name": sku.usage_name if sku else None,
        "capabilities": dict(entry.capabilities) if entry else {},
        "replacement": f"{entry.replacement_name} {entry.replacement_version or ''}".strip()
        if entry and entry.replacement_name
        else None,
    }


_CATALOG_APIS = {
    "chatCompletion": "chat_completions",
    "responses": "responses",
    "completion": "completions",
    "embeddings": "embeddings",
}


def _int(value: Any) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def _with_catalog(
    model: dict[str, Any], catalog: Any, kb: KnowledgeBase, deployment: Deployment
) -> tuple[dict[str, Any], dict[str, str]]:
    """Let the live catalog win where it reports a fact, and say where the knowledge base disagrees."""
    disagreements: dict[str, str] = {}
    if not isinstance(catalog, Mapping) or not catalog.get("version_offered"):
        return model, disagreements
    caps = catalog.get("capabilities") or {}
    merged = dict(model)
    apis = model.get("apis")
    reported = sorted(api for cap, api in _CATALOG_APIS.items() if str(caps.get(cap, "")).lower() == "true")
    if reported and isinstance(apis, list):
        missing = [api for api in reported if api not in apis]
        if missing:
            merged["apis"] = sorted(set(apis) | set(missing))
            merged["responses_only"] = "responses" in merged["apis"] and "chat_completions" not in merged["apis"]
            disagreements["apis"] = (
                f"the live catalog reports {', '.join(missing)} for {deployment.model_name} {deployment.model_version}; "
                f"the knowledge base lists only {', '.join(apis) or 'none'}"
            )
    elif reported and apis is UNKNOWN:
        merged["apis"] = reported
        merged["responses_only"] = "responses" in reported and "chat_completions" not in reported
    entry = kb.model(deployment.model_name)
    context_fact = entry.facts.get("context_window") if entry else None
    sku_specific = bool(
        context_fact
        and isinstance(context_fact.value, Mapping)
        and deployment.sku_name in (context_fact.value.get("by_sku") or {})
    )
    for cap, key in (("maxContextToken", "context_window"), ("maxOutputToken", "max_output_tokens")):
        live = _int(caps.get(cap))
        if live is None or (key == "context_window" and sku_specific):
            continue
        known = model.get(key)
        merged[key] = live
        if isinstance(known, int) and known != live:
            disagreements[key] = f"the live catalog reports {cap} {live}; the knowledge base says {known}"
    retirement = model.get("retirement")
    live_date = catalog.get("deprecation_date")
    if live_date and isinstance(retirement, Mapping) and retirement.get("date") and retirement["date"] != live_date:
        disagreements["retirement"] = (
            f"the live catalog gives {live_date} as the retirement date of version {deployment.model_version}; "
            f"the knowledge base says {retirement['date']}"
        )
    return merged, disagreements


def _effort_sent(parameters: Mapping[str, Any]) -> Any:
    """The reasoning effort a call sends: the value, "default" when it sends none, UNKNOWN when only the name is known."""
    for key in ("reasoning_effort", "reasoning"):
        if key in parameters:
            value = parameters[key]
            if isinstance(value, Mapping):
                value = value.get("effort")
            return UNKNOWN if value is None else value
    return "default"


def _quota_view(region: Region | None, usage_name: str | None) -> Any:
    if region is None or region.usages is None:
        return UNKNOWN
    usage = next((u for u in region.usages if usage_name and u.name.lower() == usage_name.lower()), None)
    if usage is None:
        return None
    return _usage_numbers(usage.name, usage.localized_name, usage.current_value, usage.limit)


def _usage_numbers(name: str, localized: str | None, current: float, limit: float) -> dict[str, Any]:
    utilization = current / limit if limit > 0 else (1.0 if current > 0 else 0.0)
    return {
        "name": name,
        "localized_name": localized or name,
        "current": current,
        "limit": limit,
        "available": max(limit - current, 0.0),
        "utilization": round(utilization, 4),
        "percent": round(utilization * 100, 1),
    }


def _contract_view(
    calls: Mapping[str, list[ContractCall]] | None, deployment: Deployment, account: Account
) -> dict[str, Any]:
    if calls is None:
        return {"present": False, "file_given": False, "apis": []}
    mine = [c for c in calls.get(deployment.name, ()) if c.account in (None, account.name)]
    return {"present": bool(mine), "file_given": True, "apis": sorted({c.api for c in mine})}


def _suggestions(by_model: Mapping[str, list[str]], call: ContractCall) -> list[str]:
    """Deployments running a model of the name the app used as a deployment name."""
    return sorted(s for s in by_model.get(call.deployment.lower(), ()) if not s.startswith(f"{call.deployment} ("))


def build_subjects(facts: Facts, kb: KnowledgeBase, today: date) -> Iterator[Subject]:
    """Every subject of every kind, in a stable order."""
    from auditor.engine import evidence  # probes, unresolved calls, plans; imports this module

    accounts = {a.id: a for a in facts.accounts}
    counts = Counter(d.account_id for d in facts.deployments)
    account_views = {a.id: _account_view(a, counts[a.id], kb) for a in facts.accounts}
    regions = {(r.subscription_id, r.location): r for r in facts.regions}
    catalog_index: dict[tuple[int, str, str], list[CatalogModel]] = {}
    for region in facts.regions:
        for entry in region.catalog or ():
            catalog_index.setdefault((id(region), entry.kind.lower(), entry.name), []).append(entry)
    model_views: dict[tuple[str | None, str | None, str | None], dict[str, Any]] = {}
    by_model: dict[str, list[str]] = {}
    by_name: dict[str, list[Deployment]] = {}
    calls_by_deployment: dict[str, list[ContractCall]] | None = None if facts.contract is None else {}
    for c in facts.contract or ():
        calls_by_deployment.setdefault(c.deployment, []).append(c)  # type: ignore[union-attr]
    for d in facts.deployments:
        by_name.setdefault(d.name, []).append(d)
        if d.model_name:
            by_model.setdefault(d.model_name.lower(), []).append(f"{d.name} ({accounts[d.account_id].name})")
    for account in facts.accounts:
        yield Subject(
            "account", account.id, account.name, {"account": account_views[account.id]}, account_id=account.id
        )

    checked = kb.checked
    yield Subject(
        "knowledge_base",
        f"knowledge-base:{kb.path}",
        "knowledge base",
        {
            "knowledge": {
                "checked": str(checked) if checked else None,
                "age_days": (today - checked).days if checked else UNKNOWN,
                "models": len(kb.models),
            }
        },
    )

    used_usages: dict[tuple[str, str, str], list[str]] = {}
    probed = evidence.probes_by_deployment(facts.probes)
    shared_views: dict[tuple[Any, ...], tuple[Any, dict[str, Any], dict[str, Any], Any]] = {}
    deployment_docs: dict[str, dict[str, Any]] = {}
    for deployment in facts.deployments:
        account = accounts[deployment.account_id]
        region = regions.get((account.subscription_id, account.location))
        view_key = (deployment.model_name, deployment.model_version, deployment.sku_name)
        # Deployments of one model version, SKU and format in one region and account kind read the same
        # catalog entry and knowledge: those views are made once and shared (documents are read-only).
        shared_key = (id(region), account.kind.lower(), deployment.model_format, *view_key)
        shared = shared_views.get(shared_key)
        if shared is None:
            entries = (
                None
                if region is None or region.catalog is None
                else [
                    m
                    for m in catalog_index.get((id(region), account.kind.lower(), deployment.model_name or ""), ())
                    if deployment.model_format is None or m.format.lower() == deployment.model_format.lower()
                ]
            )
            catalog = _catalog_view(entries, deployment, today)
            if view_key not in model_views:
                model_views[view_key] = model_view(kb, *view_key, today)
            model, disagreements = _with_catalog(model_views[view_key], catalog, kb, deployment)
            knowledge = {"disagreements": disagreements, "checked": str(kb.checked) if kb.checked else None}
            shared = shared_views[shared_key] = (catalog, model, knowledge, _lifecycle_view(catalog, model))
        catalog, model, knowledge, lifecycle = shared
        usage_name = catalog.get("usage_name") if isinstance(catalog, dict) else None
        if usage_name:
            used_usages.setdefault((account.subscription_id, account.location, usage_name.lower()), []).append(
                deployment.name
            )
        mine = probed.get(deployment.id)
        if mine:
            model = evidence.with_probes(model, mine)
            lifecycle = _lifecycle_view(catalog, model)
        document = {
            "account": account_views[account.id],
            "deployment": _deployment_view(deployment),
            "model": model,
            "catalog": catalog,
            "lifecycle": lifecycle,
            "knowledge": knowledge,
            "quota": _quota_view(region, usage_name) if usage_name or catalog is UNKNOWN else None,
            "contract": _contract_view(calls_by_deployment, deployment, account),
            "content_filter": _content_filter_view(facts, deployment),
        }
        deployment_docs[deployment.id] = document
        yield Subject(
            "deployment",
            deployment.id,
            f"{account.name}/{deployment.name}",
            document,
            account_id=account.id,
            deployment=deployment.name,
        )

    for region in facts.regions:
        for usage in region.usages or ():
            users = used_usages.get((region.subscription_id, region.location, usage.name.lower()))
            if not users:
                continue
            numbers = _usage_numbers(usage.name, usage.localized_name, usage.current_value, usage.limit)
            numbers["deployments"] = sorted(users)
            target = (
                f"/subscriptions/{region.subscription_id}/providers/Microsoft.CognitiveServices"
                f"/locations/{region.location}/usages/{usage.name}"
            )
            yield Subject(
                "quota_usage",
                target,
                f"{region.location}/{usage.name}",
                {"usage": numbers, "region": {"subscription_id": region.subscription_id, "location": region.location}},
            )

    for call in facts.contract or ():
        matches = [
            d
            for d in by_name.get(call.deployment, ())
            if call.account is None or accounts[d.account_id].name == call.account
        ]
        call_view = {
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
        }
        suggestions = _suggestions(by_model, call)
        base = {"call": call_view, "suggestions": suggestions, "suggestions_text": ", ".join(suggestions)}
        if not matches:
            document = dict(base, deployment={"exists": False, "name": call.deployment}, model=UNKNOWN, account=UNKNOWN)
            yield Subject(
                "contract_call",
                f"contract:{call.deployment}",
                call.deployment,
                document,
                deployment=call.deployment,
                location=call.location,
            )
            continue
        for deployment in matches:
            account = accounts[deployment.account_id]
            parent = deployment_docs[deployment.id]
            document = dict(
                base,
                deployment=parent["deployment"],
                model=parent["model"],
                account=parent["account"],
                catalog=parent["catalog"],
                quota=parent["quota"],
                lifecycle=parent["lifecycle"],
            )
            name = f"{account.name}/{deployment.name}"
            yield Subject(
                "contract_call",
                deployment.id,
                name,
                document,
                account_id=account.id,
                deployment=deployment.name,
                location=call.location,
            )
            table = parent["model"]["parameters"]
            for param, value in sorted(call.parameters.items()):
                if table is UNKNOWN:
                    spec: Any = UNKNOWN
                else:
                    spec = dict(table.get(param) or {"support": "supported"})
                param_view = {
                    **kb.api_parameter(call.api, param),
                    "name": param,
                    "value": UNKNOWN if value is None else value,
                    "support": UNKNOWN if spec is UNKNOWN else spec.get("support"),
                    "default": UNKNOWN if spec is UNKNOWN else spec.get("default"),
                    "use_instead": UNKNOWN if spec is UNKNOWN else spec.get("use_instead"),
                }
                yield Subject(
                    "contract_parameter",
                    deployment.id,
                    name,
                    dict(document, param=param_view),
                    account_id=account.id,
                    deployment=deployment.name,
                    location=call.location,
                )

    yield from evidence.unresolved_call_subjects(facts)
    yield from evidence.probe_subjects(facts, kb, today, accounts, deployment_docs)
    yield from evidence.planned_subjects(facts, kb, today, accounts)
