"""The tenant as data: subscriptions, accounts, deployments, catalog entries and model behaviour, and their
checking: `TenantSpec.from_mapping` builds a spec from the mapping `auditor.demo.sim.load` reads off the tenant
files (auditor/demo/tenant/); every mistake names its place (`catalog[0].model.capabilities.x`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

_OPENAI_KINDS = frozenset({"openai", "aiservices"})


def _norm_location(location: str) -> str:
    """ARM location names ignore case and spaces ("East US 2" == "eastus2")."""
    return location.replace(" ", "").lower()


@dataclass(frozen=True)
class CallerSpec:
    """The identity the auditor runs as, and whether it sits on the accounts' private network."""

    display_name: str
    principal_id: str
    client_id: str
    network: str = "private"


@dataclass(frozen=True)
class DeploymentSimulation:
    """Data-plane faults of one deployment: its first calls answer 429 (then 5xx) before succeeding."""

    rate_limit_first_calls: int = 0
    retry_after_seconds: int = 1
    server_error_first_calls: int = 0
    content_filter_always: bool = False
    """Demo only: answer every chat/responses prompt with the content-filter 400 (probes never send trigger words)."""
    apis: frozenset[str] | None = None
    """This deployment serves only these operations, whatever its model's behaviour says (a stale knowledge base)."""
    bare_body: bool = False
    """ARM sends only what the published examples carry (model, provisioningState, sku): no capabilities,
    rateLimits or currentCapacity (stable/2025-09-01/examples/GetDeployment.json)."""


@dataclass(frozen=True)
class DeploymentSpec:
    """One deployment: ARM wire fields (`model`, `sku`, extra `properties`) plus data-plane simulation."""

    name: str
    model: Mapping[str, Any]
    sku: Mapping[str, Any]
    properties: Mapping[str, Any] = field(default_factory=dict)
    tags: Mapping[str, str] | None = None
    simulate: DeploymentSimulation = DeploymentSimulation()

    @property
    def model_name(self) -> str:
        """The model name (`properties.model.name`)."""
        return str(self.model.get("name", ""))

    @property
    def model_version(self) -> str:
        """The model version (`properties.model.version`)."""
        return str(self.model.get("version", ""))

    @property
    def model_format(self) -> str:
        """The model format (`properties.model.format`), OpenAI unless stated."""
        return str(self.model.get("format", "OpenAI"))

    @property
    def sku_name(self) -> str:
        """The deployment type, e.g. GlobalStandard."""
        return str(self.sku.get("name", ""))

    @property
    def capacity(self) -> int:
        """Quota units (thousands of TPM for Standard-family SKUs); the 2021-era shape keeps them in scaleSettings."""
        scale = self.properties.get("scaleSettings") or {}
        return int(self.sku.get("capacity") or (scale.get("capacity") if isinstance(scale, Mapping) else 0) or 0)

    @property
    def provisioning_state(self) -> str:
        """ARM provisioning state; only Succeeded deployments answer on the data plane."""
        return str(self.properties.get("provisioningState", "Succeeded"))


@dataclass(frozen=True)
class AccountSpec:
    """One Cognitive Services account with its deployments and data-plane quirks."""

    subscription_id: str
    resource_group: str
    name: str
    kind: str
    location: str
    sku: Mapping[str, Any]
    properties: Mapping[str, Any]
    deployments: tuple[DeploymentSpec, ...] = ()
    tags: Mapping[str, str] | None = None
    identity: Mapping[str, Any] | None = None
    caller_has_data_role: bool = True
    rai_policies: tuple[Mapping[str, Any], ...] = ()
    lists_builtin_policies: bool = False
    """Whether the raiPolicies list names Microsoft.Default/DefaultV2 (UNVERIFIED either way: by default it does
    not, the harder case; a GET of either name answers on every account)."""
    diagnostic_settings: tuple[Mapping[str, Any], ...] | None = ()
    """`Microsoft.Insights/diagnosticSettings` on the account, in wire shape; None: the read answers 403."""
    metrics: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    """Per deployment name: `requests`, `throttled` (429s) and `peakUtilization` (percent) over the last 7 days,
    served as Azure Monitor metrics (AzureOpenAIRequests by StatusCode, ProvisionedManagedUtilizationV2)."""
    traffic: Mapping[str, tuple[Mapping[str, Any], ...]] = field(default_factory=dict)
    """Per deployment name: who calls it, one entry per operation (`operation`, `status` {code: count},
    `streaming` count, `modelVersion`, `apiVersions` {version: count}); served as AzureOpenAIRequests split by
    OperationName, StreamType, StatusCode and ModelVersion, and as RequestResponse log records. A deployment with
    `metrics` and no entry here is called through its model's usual operation (auditor/demo/sim/monitor.py)."""

    @property
    def id(self) -> str:
        """The ARM resource id."""
        return (
            f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group}"
            f"/providers/Microsoft.CognitiveServices/accounts/{self.name}"
        )

    @property
    def is_openai_capable(self) -> bool:
        """Whether the account serves the Azure OpenAI data plane (kind OpenAI or AIServices)."""
        return self.kind.lower() in _OPENAI_KINDS

    @property
    def disable_local_auth(self) -> bool:
        """Whether key auth is refused (403 AuthenticationTypeDisabled)."""
        return bool(self.properties.get("disableLocalAuth"))

    def deployment(self, name: str) -> DeploymentSpec | None:
        """The deployment of that name (deployment names are matched case-insensitively, like Azure)."""
        wanted = name.lower()
        return next((d for d in self.deployments if d.name.lower() == wanted), None)


@dataclass(frozen=True)
class ResourceGroupSpec:
    """A resource group and the accounts in it."""

    name: str
    location: str
    accounts: tuple[AccountSpec, ...] = ()


@dataclass(frozen=True)
class SubscriptionSpec:
    """A subscription the caller can read."""

    subscription_id: str
    display_name: str
    state: str = "Enabled"
    resource_groups: tuple[ResourceGroupSpec, ...] = ()
    deny: str | None = None
    """`simulate: {deny: AuthorizationFailed}`: the caller may not read it (every ARM read answers 403, Resource
    Graph leaves it out); `SubscriptionNotFound`: it is not there for the caller (404, and not listed)."""

    def resource_group(self, name: str) -> ResourceGroupSpec | None:
        """The resource group of that name (ARM names are case-insensitive)."""
        wanted = name.lower()
        return next((rg for rg in self.resource_groups if rg.name.lower() == wanted), None)

    @property
    def accounts(self) -> tuple[AccountSpec, ...]:
        """All accounts of the subscription, resource group by resource group."""
        return tuple(a for rg in self.resource_groups for a in rg.accounts)


@dataclass(frozen=True)
class CatalogEntry:
    """One model version of the location catalogs (an `AccountModel` block plus where it is offered)."""

    model: Mapping[str, Any]
    skus: tuple[Mapping[str, Any], ...]
    offered_in: Mapping[str, tuple[str, ...] | None]
    kinds: tuple[str, ...]

    @property
    def key(self) -> tuple[str, str, str]:
        """(format, name, version), lower-cased for matching."""
        return (
            str(self.model.get("format", "")).lower(),
            str(self.model.get("name", "")).lower(),
            str(self.model.get("version", "")).lower(),
        )

    def skus_in(self, location: str) -> list[Mapping[str, Any]] | None:
        """The SKUs offered in `location`, or None when the location's catalog does not list this version."""
        loc = _norm_location(location)
        if loc not in self.offered_in:
            return None
        names = self.offered_in[loc]
        if names is None:
            return list(self.skus)
        wanted = {n.lower() for n in names}
        return [s for s in self.skus if str(s.get("name", "")).lower() in wanted]


@dataclass(frozen=True)
class ModelBehaviour:
    """How the simulated data plane treats one model (which APIs it answers, which parameters it rejects)."""

    apis: frozenset[str] = frozenset({"chatCompletion", "responses"})
    temperature: str = "any"  # any | defaultOnly | unsupported
    max_tokens: str = "accepted"  # accepted | unsupported
    system_role: str = "accepted"  # accepted | unsupported
    streaming: bool = True
    reasoning: bool = False
    rejected_parameters: tuple[str, ...] = ()
    min_output_tokens: int | None = None
    embedding_dimensions: int | None = None


@dataclass(frozen=True)
class ContentFilterSpec:
    """Words that make the data plane answer the content-filter 400, and what category it reports."""

    trigger_words: tuple[str, ...] = ("simulate-content-filter",)
    category: str = "sexual"
    severity: str = "high"


@dataclass(frozen=True)
class TenantSpec:
    """Everything the simulator serves, parsed and checked from a tenant YAML file."""

    tenant_id: str
    caller: CallerSpec
    subscriptions: tuple[SubscriptionSpec, ...]
    quota_lines: Mapping[str, str]
    quota_limits: Mapping[str, Mapping[str, float]]
    catalog: tuple[CatalogEntry, ...]
    model_behaviour: Mapping[str, ModelBehaviour]
    content_filter: ContentFilterSpec = ContentFilterSpec()

    @property
    def accounts(self) -> tuple[AccountSpec, ...]:
        """Every account in every subscription."""
        return tuple(a for s in self.subscriptions for a in s.accounts)

    def subscription(self, subscription_id: str) -> SubscriptionSpec | None:
        """The subscription with that id (case-insensitive)."""
        wanted = subscription_id.lower()
        return next((s for s in self.subscriptions if s.subscription_id.lower() == wanted), None)

    def find_account(self, name: str) -> AccountSpec | None:
        """The account with that name anywhere in the tenant (account names are globally unique)."""
        wanted = name.lower()
        return next((a for a in self.accounts if a.name.lower() == wanted), None)

    def behaviour(self, model_name: str) -> ModelBehaviour:
        """The data-plane behaviour of a model; unknown models answer chat and responses with no restrictions."""
        return self.model_behaviour.get(model_name) or self.model_behaviour.get(model_name.lower()) or ModelBehaviour()

    def quota_limit(self, location: str, usage_name: str) -> float | None:
        """The limit of a quota line in a location (location override, else default); None when not served."""
        loc = self.quota_limits.get(_norm_location(location), {})
        if usage_name in loc:
            return float(loc[usage_name])
        default = self.quota_limits.get("default", {})
        return float(default[usage_name]) if usage_name in default else None

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> TenantSpec:
        """Build and check a spec from parsed YAML; raises ValueError naming the offending place."""
        return _parse_spec(data)


def _plain(value: Any) -> Any:
    """YAML dates become ISO strings and mappings plain dicts, so everything is JSON-ready."""
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return f"{value.isoformat()}T00:00:00Z"
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _need(data: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in data or data[key] is None:
        raise ValueError(f"{where}: missing '{key}'")
    return data[key]


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValueError(f"{where}: expected a mapping")
    return dict(value)


def _listing(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueError(f"{where}: expected a list")
    return value


_DEPLOYMENT_OWN_KEYS = {"name", "model", "sku", "tags", "simulate", "properties"}
_BEHAVIOUR_CHOICES = {
    "temperature": {"any", "defaultOnly", "unsupported"},
    "maxTokens": {"accepted", "unsupported"},
    "systemRole": {"accepted", "unsupported"},
}
_APIS = {"chatCompletion", "responses", "embeddings"}
_DENIALS = {"AuthorizationFailed", "SubscriptionNotFound"}


def _parse_spec(raw: Mapping[str, Any]) -> TenantSpec:
    data = _plain(raw)
    tenant_id = str(_need(data, "tenantId", "tenant"))
    caller_raw = _mapping(_need(data, "caller", "tenant"), "caller")
    caller = CallerSpec(
        display_name=str(caller_raw.get("displayName", "auditor")),
        principal_id=str(_need(caller_raw, "principalId", "caller")),
        client_id=str(_need(caller_raw, "clientId", "caller")),
        network=str(caller_raw.get("network", "private")),
    )
    if caller.network not in {"private", "public"}:
        raise ValueError("caller.network: must be 'private' or 'public'")

    subscriptions: list[SubscriptionSpec] = []
    seen_accounts: set[str] = set()
    for i, sub_raw in enumerate(_listing(data.get("subscriptions"), "subscriptions")):
        where = f"subscriptions[{i}]"
        sub_raw = _mapping(sub_raw, where)
        sub_id = str(_need(sub_raw, "subscriptionId", where))
        groups: list[ResourceGroupSpec] = []
        for j, rg_raw in enumerate(_listing(sub_raw.get("resourceGroups"), f"{where}.resourceGroups")):
            rg_where = f"{where}.resourceGroups[{j}]"
            rg_raw = _mapping(rg_raw, rg_where)
            rg_name = str(_need(rg_raw, "name", rg_where))
            accounts: list[AccountSpec] = []
            for k, acc_raw in enumerate(_listing(rg_raw.get("accounts"), f"{rg_where}.accounts")):
                acc = _parse_account(
                    _mapping(acc_raw, f"{rg_where}.accounts[{k}]"), sub_id, rg_name, rg_raw, f"{rg_where}.accounts[{k}]"
                )
                if acc.name.lower() in seen_accounts:
                    raise ValueError(f"{rg_where}.accounts[{k}]: account name '{acc.name}' is used twice")
                seen_accounts.add(acc.name.lower())
                accounts.append(acc)
            groups.append(ResourceGroupSpec(rg_name, str(rg_raw.get("location", "")), tuple(accounts)))
        deny = _mapping(sub_raw.get("simulate"), f"{where}.simulate").get("deny")
        if deny is not None and deny not in _DENIALS:
            raise ValueError(f"{where}.simulate.deny: must be one of {sorted(_DENIALS)}")
        subscriptions.append(
            SubscriptionSpec(
                sub_id,
                str(sub_raw.get("displayName", sub_id)),
                str(sub_raw.get("state", "Enabled")),
                tuple(groups),
                deny=None if deny is None else str(deny),
            )
        )

    quota_raw = _mapping(data.get("quota"), "quota")
    quota_lines = {str(k): str(v) for k, v in _mapping(quota_raw.get("lines"), "quota.lines").items()}
    quota_limits: dict[str, dict[str, float]] = {}
    for loc, limits in _mapping(quota_raw.get("limits"), "quota.limits").items():
        limits_map = _mapping(limits, f"quota.limits.{loc}")
        for name in limits_map:
            if name not in quota_lines:
                raise ValueError(f"quota.limits.{loc}: '{name}' is not declared under quota.lines")
        quota_limits[loc if loc == "default" else _norm_location(loc)] = {
            str(k): float(v) for k, v in limits_map.items()
        }

    catalog = tuple(
        _parse_catalog_entry(_mapping(e, f"catalog[{i}]"), _entry_place(e, i))
        for i, e in enumerate(_listing(data.get("catalog"), "catalog"))
    )

    behaviour: dict[str, ModelBehaviour] = {}
    for name, beh_raw in _mapping(data.get("modelBehaviour"), "modelBehaviour").items():
        if name.startswith("x-"):  # anchors only
            continue
        behaviour[name] = _parse_behaviour(_mapping(beh_raw, f"modelBehaviour.{name}"), f"modelBehaviour.{name}")

    cf_raw = _mapping(data.get("contentFilter"), "contentFilter")
    content_filter = ContentFilterSpec(
        trigger_words=tuple(str(w) for w in cf_raw.get("triggerWords", ContentFilterSpec.trigger_words)),
        category=str(cf_raw.get("category", "sexual")),
        severity=str(cf_raw.get("severity", "high")),
    )
    return TenantSpec(
        tenant_id, caller, tuple(subscriptions), quota_lines, quota_limits, catalog, behaviour, content_filter
    )


def _entry_place(entry: Any, index: int) -> str:
    place = entry.get("x-where") if isinstance(entry, Mapping) else None
    return str(place) if place else f"catalog[{index}]"


def _parse_account(raw: dict[str, Any], sub_id: str, rg: str, rg_raw: Mapping[str, Any], where: str) -> AccountSpec:
    name = str(_need(raw, "name", where))
    deployments: list[DeploymentSpec] = []
    for i, dep_raw in enumerate(_listing(raw.get("deployments"), f"{where}.deployments")):
        dep_where = f"{where}.deployments[{i}]"
        dep_raw = _mapping(dep_raw, dep_where)
        extra = {k: v for k, v in dep_raw.items() if k not in _DEPLOYMENT_OWN_KEYS}
        extra.update(_mapping(dep_raw.get("properties"), f"{dep_where}.properties"))
        sim = _mapping(dep_raw.get("simulate"), f"{dep_where}.simulate")
        model = _mapping(_need(dep_raw, "model", dep_where), f"{dep_where}.model")
        for key in ("name", "version"):
            _need(model, key, f"{dep_where}.model")
        model = {k: str(v) for k, v in model.items()}
        model.setdefault("format", "OpenAI")
        dep = DeploymentSpec(
            name=str(_need(dep_raw, "name", dep_where)),
            model=model,
            sku=_mapping(
                dep_raw.get("sku") if "scaleSettings" in extra else _need(dep_raw, "sku", dep_where), f"{dep_where}.sku"
            ),
            properties=extra,
            tags=dep_raw.get("tags"),
            simulate=DeploymentSimulation(
                rate_limit_first_calls=int(sim.get("rateLimitFirstCalls", 0)),
                retry_after_seconds=int(sim.get("retryAfterSeconds", 1)),
                server_error_first_calls=int(sim.get("serverErrorFirstCalls", 0)),
                content_filter_always=bool(sim.get("contentFilterAlways", False)),
                apis=_simulated_apis(sim.get("apis"), f"{dep_where}.simulate.apis"),
                bare_body=bool(sim.get("bareBody", False)),
            ),
        )
        if any(d.name.lower() == dep.name.lower() for d in deployments):
            raise ValueError(f"{dep_where}: deployment name '{dep.name}' is used twice in account '{name}'")
        deployments.append(dep)
    sim = _mapping(raw.get("simulate"), f"{where}.simulate")
    return AccountSpec(
        subscription_id=sub_id,
        resource_group=rg,
        name=name,
        kind=str(_need(raw, "kind", where)),
        location=_norm_location(str(raw.get("location") or rg_raw.get("location") or "")),
        sku=_mapping(raw.get("sku") or {"name": "S0"}, f"{where}.sku"),
        properties=_mapping(raw.get("properties"), f"{where}.properties"),
        deployments=tuple(deployments),
        tags=raw.get("tags"),
        identity=raw.get("identity"),
        caller_has_data_role=bool(sim.get("callerHasDataRole", True)),
        lists_builtin_policies=bool(sim.get("listsBuiltInPolicies", False)),
        rai_policies=tuple(
            _mapping(p, f"{where}.raiPolicies") for p in _listing(raw.get("raiPolicies"), f"{where}.raiPolicies")
        ),
        diagnostic_settings=None
        if sim.get("diagnosticSettingsDenied")
        else tuple(
            _mapping(d, f"{where}.diagnosticSettings")
            for d in _listing(raw.get("diagnosticSettings"), f"{where}.diagnosticSettings")
        ),
        metrics={
            str(name): {str(k): float(v) for k, v in _mapping(values, f"{where}.metrics.{name}").items()}
            for name, values in _mapping(raw.get("metrics"), f"{where}.metrics").items()
        },
        traffic={
            str(name): tuple(
                _mapping(e, f"{where}.traffic.{name}") for e in _listing(entries, f"{where}.traffic.{name}")
            )
            for name, entries in _mapping(raw.get("traffic"), f"{where}.traffic").items()
        },
    )


def _simulated_apis(raw: Any, where: str) -> frozenset[str] | None:
    if raw is None:
        return None
    apis = frozenset(str(a) for a in _listing(raw, where))
    if not apis <= _APIS:
        raise ValueError(f"{where}: unknown API {sorted(apis - _APIS)}; use {sorted(_APIS)}")
    return apis


def _parse_catalog_entry(raw: dict[str, Any], where: str) -> CatalogEntry:
    model = _mapping(_need(raw, "model", where), f"{where}.model")
    for key in ("format", "name", "version"):
        model[key] = str(_need(model, key, f"{where}.model"))
    for key, value in _mapping(model.get("capabilities"), f"{where}.model.capabilities").items():
        if not isinstance(value, str):  # Azure sends every capability value as a string
            raise ValueError(f"{where}.model.capabilities.{key}: capability values must be strings (quote them)")
    skus = tuple(_mapping(s, f"{where}.skus[{i}]") for i, s in enumerate(_listing(raw.get("skus"), f"{where}.skus")))
    for i, sku in enumerate(skus):
        _need(sku, "name", f"{where}.skus[{i}]")
    offered_raw = _need(raw, "offeredIn", where)
    offered: dict[str, tuple[str, ...] | None] = {}
    if isinstance(offered_raw, list):
        offered = {_norm_location(str(loc)): None for loc in offered_raw}
    elif isinstance(offered_raw, Mapping):
        for loc, names in offered_raw.items():
            offered[_norm_location(str(loc))] = None if names in (None, "all") else tuple(str(n) for n in names)
    else:
        raise ValueError(f"{where}.offeredIn: expected a list of locations or a mapping location -> SKU names")
    kinds = raw.get("kinds")
    if kinds is None:
        kinds = ["OpenAI", "AIServices"] if model["format"] == "OpenAI" else ["AIServices", "MaaS"]
    return CatalogEntry(model=model, skus=skus, offered_in=offered, kinds=tuple(str(k) for k in kinds))


def _parse_behaviour(raw: dict[str, Any], where: str) -> ModelBehaviour:
    apis = frozenset(str(a) for a in raw.get("apis", ["chatCompletion", "responses"]))
    if not apis <= _APIS:
        raise ValueError(f"{where}.apis: unknown API {sorted(apis - _APIS)}; use {sorted(_APIS)}")
    for key, choices in _BEHAVIOUR_CHOICES.items():
        if key in raw and raw[key] not in choices:
            raise ValueError(f"{where}.{key}: must be one of {sorted(choices)}")
    min_out = raw.get("minOutputTokens")
    dims = raw.get("embeddingDimensions")
    return ModelBehaviour(
        apis=apis,
        temperature=str(raw.get("temperature", "any")),
        max_tokens=str(raw.get("maxTokens", "accepted")),
        system_role=str(raw.get("systemRole", "accepted")),
        streaming=bool(raw.get("streaming", True)),
        reasoning=bool(raw.get("reasoning", False)),
        rejected_parameters=tuple(str(p) for p in raw.get("rejectedParameters", ())),
        min_output_tokens=int(min_out) if min_out is not None else None,
        embedding_dimensions=int(dims) if dims is not None else None,
    )
