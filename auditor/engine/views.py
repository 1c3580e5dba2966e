"""The views subjects share: the documents rules read about an account, a deployment, its catalog entry,
lifecycle, quota line and contract, each joined from the fact model and the knowledge base. Every subject
builder (engine/subjects.py for the inventory, engine/evidence.py for probes and plans) uses these, so a
fact reads the same whichever subject shows it. Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from auditor.engine.compliance import filter_details
from auditor.knowledge.base import KnowledgeBase, with_apis
from auditor.knowledge.capabilities import apis_reported, limits_reported
from auditor.model.clouds import regional_endpoint
from auditor.model.documents import (
    AccountView,
    CatalogView,
    DeploymentContract,
    DeploymentView,
    LifecycleView,
    SkuCapacity,
    UsageView,
)
from auditor.model.facts import (
    Account,
    CatalogModel,
    CatalogSku,
    ContractCall,
    Deployment,
    Facts,
    Region,
    SourceLocation,
    earliest_retirement,
)
from auditor.model.results import Cause
from auditor.model.unknown import UNKNOWN


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
    causes: Mapping[str, tuple[Cause, str]] = field(default_factory=dict)
    """Why a part of the document is unknown, by path prefix (`catalog`: the region's catalog could not be
    read ...); engine/causes.py infers the rest."""


def account_view(account: Account, deployment_count: int, kb: KnowledgeBase) -> AccountView:
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
        # A regional endpoint (no custom subdomain) takes keys only: Entra ID needs a custom subdomain.
        "regional_endpoint": not account.custom_subdomain and regional_endpoint(account.endpoint),
        "public_network_access": account.public_network_access,
        "network_default_action": account.network_default_action,
        "network_ip_rules": list(account.network_ip_rules),
        "private_endpoint_count": _approved_connections(account),
        "private_endpoint_states": dict(account.private_endpoint_states),
        "network_bypass": account.network_bypass,
        "allowed_fqdns": list(account.allowed_fqdns),
        "user_owned_storage": list(account.user_owned_storage),
        "tags": dict(account.tags),
        "tag_names": sorted(account.tags),
        "identity_type": account.identity_type,
        "has_managed_identity": bool(account.identity_type) and account.identity_type != "None",
        "encryption_key_source": account.encryption_key_source,
        "restrict_outbound_network_access": account.restrict_outbound_network_access,
        "responses_api_region": UNKNOWN if regions is None else account.location.lower() in regions,
        "deployment_count": deployment_count,
    }


def _approved_connections(account: Account) -> int:
    """Private endpoint connections that carry traffic: state Approved (Pending, Rejected, Disconnected do not).
    Where no state was read (an id only), the connection is counted as before."""
    states = account.private_endpoint_states
    return sum(
        1
        for c in account.private_endpoint_connections
        if c not in states or states[c] is None or str(states[c]).lower() == "approved"
    )


def deployment_view(deployment: Deployment) -> DeploymentView:
    return {
        "exists": True,
        "id": deployment.id,
        "name": deployment.name,
        "model_format": deployment.model_format,
        "model_name": deployment.model_name,
        "model_version": deployment.model_version,
        "sku_name": deployment.sku_name,
        "sku_capacity": UNKNOWN if deployment.sku_capacity is None else deployment.sku_capacity,
        "version_upgrade_option": _or_unknown(deployment.version_upgrade_option),
        "rai_policy_name": deployment.rai_policy_name,
        "provisioning_state": deployment.provisioning_state,
        "capabilities": dict(deployment.capabilities),
        "tokens_per_minute": _or_unknown(per_minute(deployment, "token")),
        "state": deployment.state or "not paused (no deploymentState)",
        "paused": deployment.paused,
        "fine_tuned": deployment.fine_tuned,
        "current_capacity": deployment.current_capacity,
        "spillover_deployment_name": deployment.spillover_deployment_name,
        "dynamic_throttling_enabled": deployment.dynamic_throttling_enabled,
        "parent_deployment_name": deployment.parent_deployment_name,
        "scale_type": deployment.scale_type,
        "tags": dict(deployment.tags),
        "tag_names": sorted(deployment.tags),
    }


def _or_unknown(value: Any) -> Any:
    return UNKNOWN if value is None else value


BUILTIN_POLICIES = frozenset({"microsoft.default", "microsoft.defaultv2"})
"""Content filter policies every account has (Microsoft.Default, Microsoft.DefaultV2), whether or not its
raiPolicies list names them."""


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
    if policy is None and name.lower() in BUILTIN_POLICIES:
        # Built-in policies need not be in the account's list; they are Microsoft's defaults, filters on.
        return {
            "named": True,
            "found": True,
            "builtin": True,
            "name": name,
            "type": "SystemManaged",
            "mode": None,
            "disabled_filters": [],
            "non_blocking_filters": [],
            **filter_details(None, None, builtin=True),
        }
    if policy is None:
        return {"named": True, "found": False, "name": name, "disabled_filters": [], "non_blocking_filters": []}
    builtin = name.lower() in BUILTIN_POLICIES
    non_blocking = sorted(
        f"{f.name} ({f.source})" for f in policy.filters if f.enabled is not False and f.blocking is False
    )
    if (policy.mode or "").lower() == "asynchronous_filter":
        non_blocking.append("completions: mode Asynchronous_filter streams content before the filters run")
    return {
        "named": True,
        "found": True,
        "builtin": builtin,
        "name": policy.name,
        "type": policy.type,
        "mode": policy.mode,
        "disabled_filters": sorted(f"{f.name} ({f.source})" for f in policy.filters if f.enabled is False),
        "non_blocking_filters": non_blocking,
        # A built-in policy listed without its filters spelled out is still Microsoft's default, not "all off".
        **filter_details(policy.filters or (None if builtin else ()), policy.mode, builtin=builtin),
    }


def per_minute(deployment: Deployment, key: str) -> float | None:
    """The deployment's rate limit for `key`, per minute, as ARM reports it."""
    for limit in deployment.rate_limits:
        if limit.key == key and limit.renewal_period > 0:
            return round(limit.count * 60 / limit.renewal_period, 3)
    if key == "token" and deployment.sku_capacity is not None and (deployment.sku_name or "").endswith("Standard"):
        return float(deployment.sku_capacity * 1000)
    return None


AZURE_TENTATIVE = "Azure marks it deprecationStatus Tentative, an estimate that may move"
PREVIEW_NOT_SOONER = (
    "it is a preview, whose scheduled date is a 'not sooner than' date that Microsoft sometimes extends until a "
    "replacement is ready, then force-upgrades or retires it"
)


def lifecycle_view(catalog: Any, model: Mapping[str, Any]) -> Any:
    """When the deployed version retires: the live catalog wins; the knowledge base fills in."""
    retirement = model.get("retirement")
    view: LifecycleView
    if isinstance(catalog, Mapping) and catalog.get("deprecation_date"):
        view = {
            "retirement_date": catalog["deprecation_date"],
            "days_left": catalog["days_to_deprecation"],
            "source": "live catalog",
            "replacement": catalog.get("replacement")
            or (retirement.get("replacement") if isinstance(retirement, Mapping) else None),
            "status": catalog.get("lifecycle_status"),
            "schedule_stage": retirement.get("status") if isinstance(retirement, Mapping) else None,
            "tentative": bool(catalog.get("deprecation_tentative")),
            "tentative_basis": AZURE_TENTATIVE if catalog.get("deprecation_tentative") else None,
        }
    elif isinstance(retirement, Mapping) and retirement.get("date"):
        # A preview's date in the schedule is "not sooner than", sometimes extended; a retired preview is marked
        # Retired (MS-LC), and the live catalog, when read, wins above.
        preview = retirement.get("status") == "Preview"
        view = {
            "retirement_date": retirement["date"],
            "days_left": retirement["days_left"],
            "source": "knowledge base",
            "replacement": retirement.get("replacement"),
            "status": retirement.get("status"),
            "schedule_stage": retirement.get("status"),
            "tentative": preview,
            "tentative_basis": PREVIEW_NOT_SOONER if preview else None,
        }
    elif retirement is UNKNOWN and not (isinstance(catalog, Mapping) and catalog.get("version_offered")):
        # neither the catalog lists the version (with or without a date) nor the knowledge base has its date:
        # "retirement: none" would be a pass without evidence
        return UNKNOWN
    else:
        view = {
            "retirement_date": None,
            "days_left": None,
            "source": None,
            "replacement": None,
            "status": None,
            "schedule_stage": None,
            "tentative": False,
            "tentative_basis": None,
        }
    return view


def catalog_sku(entry: CatalogModel | None, sku_name: str | None) -> CatalogSku | None:
    if entry is None or sku_name is None:
        return None
    return next((s for s in entry.skus if s.name.lower() == sku_name.lower()), None)


def _of(entry: Any, name: str) -> Any:
    """An attribute of a catalog entry or SKU that may be missing (None then)."""
    return getattr(entry, name) if entry is not None else None


def _entry_texts(entry: CatalogModel | None) -> tuple[str | None, str | None]:
    """The entry's replacement ("name version") and the start of its auto-upgrade to it, as text."""
    if entry is None:
        return None, None
    replacement = (
        f"{entry.replacement_name} {entry.replacement_version or ''}".strip() if entry.replacement_name else None
    )
    start = entry.replacement_auto_upgrade_start
    return replacement, str(start) if start else None


def _sku_capacity(sku: CatalogSku | None) -> SkuCapacity | None:
    if sku is None:
        return None
    return {
        "minimum": sku.capacity_minimum,
        "maximum": sku.capacity_maximum,
        "step": sku.capacity_step,
        "default": sku.capacity_default,
    }


def _sku_offered(offered: set[str], sku_name: str | None) -> Any:
    """Whether the version is offered as the deployment's SKU: a version listed with `"skus": []` (or not
    listed) is offered as none, whatever the SKU; an unknown SKU (2021-era Manual scale) is decidable only then."""
    if not offered:
        return False
    return UNKNOWN if sku_name is None else sku_name.lower() in offered


def matches(entry: CatalogModel, deployment: Deployment) -> bool:
    """An entry of the deployment's model (name, and format where the deployment names one), any version."""
    return entry.name.lower() == (deployment.model_name or "").lower() and (
        deployment.model_format is None or entry.format.lower() == deployment.model_format.lower()
    )


def _tentative(entry: CatalogModel | None, sku: CatalogSku | None) -> bool:
    """deprecationStatus Tentative is about the model's dates; a SKU's deprecationDate is definite, and wins when
    it is strictly earlier (a provisioned SKU retired before the model's tentative date)."""
    model_date = entry.inference_deprecation if entry else None
    sku_first = bool(sku and sku.deprecation_date and (model_date is None or sku.deprecation_date < model_date))
    return bool(entry and entry.deprecation_tentative and not sku_first)


def catalog_view(
    entries: list[CatalogModel] | None, deployment: Deployment, today: date, kind: str | None = None
) -> Any:
    """The deployment's entry in the region's catalog. Entries match on format, name, version and SKU (AIServices
    accounts deploy OpenAI-format models listed only under kind OpenAI, and the reverse); the account's kind only
    picks between entries listed under both. The retirement date is the earlier of the SKU's deprecationDate and
    the model's deprecation.inference: either ends inference on that deployment type."""
    if entries is None:
        return UNKNOWN
    wanted = (kind or "").lower()
    same_version = sorted(
        (m for m in entries if m.version == deployment.model_version),
        key=lambda m: (catalog_sku(m, deployment.sku_name) is None, m.kind.lower() != wanted),
    )
    entry = same_version[0] if same_version else None
    sku = catalog_sku(entry, deployment.sku_name)
    defaults = sorted({m.version for m in entries if m.is_default_version})
    deprecation = earliest_retirement(_of(entry, "inference_deprecation"), [_of(sku, "deprecation_date")])
    offered_skus = {s.name.lower() for m in same_version for s in m.skus}
    replacement, auto_upgrade = _entry_texts(entry)
    view: CatalogView = {
        "model_offered": bool(entries),
        "version_offered": entry is not None,
        "sku_offered": _sku_offered(offered_skus, deployment.sku_name),
        "offered": _sku_offered(offered_skus, deployment.sku_name),
        "versions": sorted({m.version for m in entries}),
        "skus": sorted({s.name for m in same_version for s in m.skus}),
        "default_version": ", ".join(defaults) if defaults else "not marked in the catalog",
        "default_versions": defaults,  # the values (the text above is for messages; a fix never writes it)
        "is_default_version": bool(entry and entry.is_default_version) if defaults or not entries else UNKNOWN,
        "lifecycle_status": _of(entry, "lifecycle_status"),
        "deprecation_date": str(deprecation) if deprecation else None,
        "days_to_deprecation": (deprecation - today).days if deprecation else None,
        "deprecation_tentative": _tentative(entry, sku),
        "usage_name": _of(sku, "usage_name"),
        "capabilities": dict(entry.capabilities) if entry else {},
        "replacement": replacement,
        "replacement_auto_upgrade_start": auto_upgrade,
        "replacement_lead_time_days": _of(entry, "replacement_lead_time_days"),
        "max_capacity": _of(entry, "max_capacity"),
        "sku_capacity": _sku_capacity(sku),
    }
    return view


def _merge_apis(
    model: Mapping[str, Any],
    merged: dict[str, Any],
    caps: Mapping[str, Any],
    deployment: Deployment,
    compared: list[str],
    disagreements: dict[str, str],
) -> list[str]:
    """The catalog's APIs join the knowledge base's (a disagreement when it lists one the knowledge base lacks);
    they stand alone when the knowledge base has none. Returns the APIs the catalog reports."""
    apis = model.get("apis")
    reported = apis_reported(caps)
    if reported and isinstance(apis, list):
        compared.append("apis")
        missing = [api for api in reported if api not in apis]
        if missing:
            with_apis(merged, sorted(set(apis) | set(missing)))
            disagreements["apis"] = (
                f"the live catalog reports {', '.join(missing)} for {deployment.model_name} {deployment.model_version}; "
                f"the knowledge base lists only {', '.join(apis) or 'none'}"
            )
    elif reported and apis is UNKNOWN:
        with_apis(merged, reported)
    return reported


def _merge_limits(
    model: Mapping[str, Any],
    merged: dict[str, Any],
    caps: Mapping[str, Any],
    kb: KnowledgeBase,
    deployment: Deployment,
    compared: list[str],
    disagreements: dict[str, str],
) -> None:
    """The catalog's token limits win; a context window the knowledge base gives per SKU stays its own."""
    entry = kb.model(deployment.model_name)
    context_fact = entry.facts.get("context_window") if entry else None
    sku_specific = bool(
        context_fact
        and isinstance(context_fact.value, Mapping)
        and deployment.sku_name in (context_fact.value.get("by_sku") or {})
    )
    for key, (cap, live) in sorted(limits_reported(caps).items()):
        if key == "context_window" and sku_specific:
            continue
        known = model.get(key)
        merged[key] = live
        if isinstance(known, int):
            compared.append(key)
            if known != live:
                disagreements[key] = f"the live catalog reports {cap} {live}; the knowledge base says {known}"


def with_catalog(
    model: dict[str, Any], catalog: Any, kb: KnowledgeBase, deployment: Deployment
) -> tuple[dict[str, Any], dict[str, str], Any]:
    """Let the live catalog win where it reports a fact; say where the knowledge base disagrees, and which
    facts were compared at all (UNKNOWN when the catalog could not be read): agreement needs both sides."""
    disagreements: dict[str, str] = {}
    if catalog is UNKNOWN:
        return model, disagreements, UNKNOWN
    if not isinstance(catalog, Mapping) or not catalog.get("version_offered"):
        return model, disagreements, []
    compared: list[str] = []
    caps = catalog.get("capabilities") or {}
    merged = dict(model)
    reported = _merge_apis(model, merged, caps, deployment, compared, disagreements)
    if model.get("kind") is UNKNOWN and reported in (["embeddings"], ["completions"]):
        # the catalog says what an unknown model is for: an embeddings model, or a legacy Completions model
        # (ada, davinci, code-cushman: `completion` + `search`, no chat key, in the recorded westeurope catalog)
        merged["kind"] = reported[0]
        if reported == ["completions"]:
            merged["reasoning"] = False
    _merge_limits(model, merged, caps, kb, deployment, compared, disagreements)
    retirement = model.get("retirement")
    live_date = catalog.get("deprecation_date")
    if live_date and isinstance(retirement, Mapping) and retirement.get("date"):
        compared.append("retirement")
        if retirement["date"] != live_date:
            disagreements["retirement"] = (
                f"the live catalog gives {live_date} as the retirement date of version {deployment.model_version}; "
                f"the knowledge base says {retirement['date']}"
            )
    return merged, disagreements, compared


def quota_view(region: Region | None, usage_name: str | None) -> Any:
    if region is None or region.usages is None:
        return UNKNOWN
    usage = next((u for u in region.usages if usage_name and u.name.lower() == usage_name.lower()), None)
    if usage is None:
        return None
    return usage_numbers(usage.name, usage.localized_name, usage.current_value, usage.limit)


_WORD_NUMBERS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
}
_THOUSANDS = re.compile(r"(?:\b(one|two|three|four|five|six|seven|eight|nine|ten) )?thousand tokens per minute")


def usage_unit(localized: str | None) -> str:
    """What a quota line counts, from its localized name (ARM's `unit` is only ever "Count"). The recorded
    westeurope usages (Azure/azure-cli test_cognitiveservices_list_usages.yaml) name "Tokens Per Minute
    (thousands)", "Ten / Six / One Thousand Tokens Per Minute", "Requests Per Minute", "Enqueued (prompt) tokens
    (thousands)", "Enqueued prompt Ten Thousand Tokens Per Minute", "Provisioned Throughput Unit - Six Thousand
    Tokens Per Minute - o1" (a PTU line), "Dedicated Unit", and lines naming no model ("Maximum Resources per
    Region", "Default Quota for Model-as-a-Service Models") that count things."""
    lowered = " ".join((localized or "").lower().split())
    if "throughput unit" in lowered:
        return "provisioned throughput units"
    if "dedicated unit" in lowered:
        return "dedicated units"
    if "requests per minute" in lowered:
        return "requests per minute"
    queued = (
        "enqueued prompt tokens"
        if "enqueued prompt" in lowered
        else "enqueued tokens"
        if "enqueued" in lowered
        else None
    )
    match = _THOUSANDS.search(lowered)
    if match or "(thousands)" in lowered:
        scale = _WORD_NUMBERS.get(match.group(1), 1) * 1000 if match and match.group(1) else 1000
        return f"{queued or 'tokens per minute'} (x{scale:,})"
    return "count"


def usage_numbers(name: str, localized: str | None, current: float, limit: float) -> UsageView:
    utilization = current / limit if limit > 0 else (1.0 if current > 0 else 0.0)
    return {
        "name": name,
        "localized_name": localized or name,
        "unit": usage_unit(localized),
        "current": current,
        "limit": limit,
        "available": max(limit - current, 0.0),
        "utilization": round(utilization, 4),
        "percent": round(utilization * 100, 1),
    }


def contract_view(
    calls: Mapping[str, list[ContractCall]] | None, deployment: Deployment, account: Account
) -> DeploymentContract:
    if calls is None:
        return {"present": False, "file_given": False, "apis": []}
    # Observed entries (--monitor) say which APIs are called, nothing about parameters: the app's own contract is
    # still absent where only they exist, so the "callers must not" warnings stay (auditor/engine/observed.py).
    mine = [c for c in calls.get(deployment.name, ()) if c.account in (None, account.name) and c.observed is None]
    return {"present": bool(mine), "file_given": True, "apis": sorted({c.api for c in mine})}


def suggestions(by_model: Mapping[str, list[str]], call: ContractCall) -> list[str]:
    """Deployments running a model of the name the app used as a deployment name."""
    return sorted(s for s in by_model.get(call.deployment.lower(), ()) if not s.startswith(f"{call.deployment} ("))


def catalog_entries(region: Region | None, account: Account, deployment: Deployment) -> list[CatalogModel] | None:
    """The region's catalog entries for the deployment's model, under any account kind (None: not read)."""
    if region is None or region.catalog is None:
        return None
    return [
        m
        for m in region.catalog
        if m.name == deployment.model_name
        and (deployment.model_format is None or m.format.lower() == deployment.model_format.lower())
    ]


def account_of(account: Account, facts: Facts, kb: KnowledgeBase) -> AccountView:
    """The account view when no deployment document carries it already."""
    return account_view(account, sum(1 for d in facts.deployments if d.account_id == account.id), kb)
