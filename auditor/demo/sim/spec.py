"""The tenant as data: subscriptions, accounts, deployments, catalog entries and model behaviour, parsed from
the tenant files (auditor/demo/tenant/) by `auditor.demo.sim.load`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
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
        from auditor.demo.sim.load import _parse_spec

        return _parse_spec(data)
