"""The views subjects share: the documents rules read about an account, a deployment, its catalog entry,
lifecycle, quota line and contract, each joined from the fact model and the knowledge base. Every subject
builder (engine/subjects.py for the inventory, engine/evidence.py for probes and plans) uses these, so a
fact reads the same whichever subject shows it. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from auditor.facts import Account, CatalogModel, CatalogSku, ContractCall, Deployment, Facts, Region, SourceLocation
from auditor.knowledge import KnowledgeBase
from auditor.unknown import UNKNOWN


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


def account_view(account: Account, deployment_count: int, kb: KnowledgeBase) -> dict[str, Any]:
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


def deployment_view(deployment: Deployment) -> dict[str, Any]:
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
        "tokens_per_minute": per_minute(deployment, "token"),
        "state": deployment.state,
    }


def content_filter_view(facts: Facts, deployment: Deployment) -> Any:
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


def per_minute(deployment: Deployment, key: str) -> float | None:
    """The deployment's rate limit for `key`, per minute, as ARM reports it."""
    for limit in deployment.rate_limits:
        if limit.key == key and limit.renewal_period > 0:
            return round(limit.count * 60 / limit.renewal_period, 3)
    if key == "token" and deployment.sku_capacity is not None and (deployment.sku_name or "").endswith("Standard"):
        return float(deployment.sku_capacity * 1000)
    return None


def lifecycle_view(catalog: Any, model: Mapping[str, Any]) -> Any:
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


def catalog_sku(entry: CatalogModel | None, sku_name: str | None) -> CatalogSku | None:
    if entry is None or sku_name is None:
        return None
    return next((s for s in entry.skus if s.name.lower() == sku_name.lower()), None)


def catalog_view(entries: list[CatalogModel] | None, deployment: Deployment, today: date) -> Any:
    if entries is None:
        return UNKNOWN
    entry = next((m for m in entries if m.version == deployment.model_version), None)
    sku = catalog_sku(entry, deployment.sku_name)
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


def with_catalog(
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


def quota_view(region: Region | None, usage_name: str | None) -> Any:
    if region is None or region.usages is None:
        return UNKNOWN
    usage = next((u for u in region.usages if usage_name and u.name.lower() == usage_name.lower()), None)
    if usage is None:
        return None
    return usage_numbers(usage.name, usage.localized_name, usage.current_value, usage.limit)


def usage_numbers(name: str, localized: str | None, current: float, limit: float) -> dict[str, Any]:
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


def contract_view(
    calls: Mapping[str, list[ContractCall]] | None, deployment: Deployment, account: Account
) -> dict[str, Any]:
    if calls is None:
        return {"present": False, "file_given": False, "apis": []}
    mine = [c for c in calls.get(deployment.name, ()) if c.account in (None, account.name)]
    return {"present": bool(mine), "file_given": True, "apis": sorted({c.api for c in mine})}


def suggestions(by_model: Mapping[str, list[str]], call: ContractCall) -> list[str]:
    """Deployments running a model of the name the app used as a deployment name."""
    return sorted(s for s in by_model.get(call.deployment.lower(), ()) if not s.startswith(f"{call.deployment} ("))


def catalog_entries(region: Region | None, account: Account, deployment: Deployment) -> list[CatalogModel] | None:
    """The region's catalog entries for the deployment's model and the account's kind (None: not read)."""
    if region is None or region.catalog is None:
        return None
    return [
        m
        for m in region.catalog
        if m.kind.lower() == account.kind.lower()
        and m.name == deployment.model_name
        and (deployment.model_format is None or m.format.lower() == deployment.model_format.lower())
    ]


def account_of(account: Account, facts: Facts, kb: KnowledgeBase) -> dict[str, Any]:
    """The account view when no deployment document carries it already."""
    return account_view(account, sum(1 for d in facts.deployments if d.account_id == account.id), kb)
