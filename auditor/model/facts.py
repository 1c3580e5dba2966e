"""The fact model: everything the auditor knows about a tenant, in one typed, immutable shape.

Sources of facts (the Azure enumerator, a contract file, later plans and probes) produce these
objects; the rule engine reads only these. Nothing here knows an SDK type or a wire name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from auditor.model.enums import ProbeOutcome


@dataclass(frozen=True)
class SourceLocation:
    """Where a fact was written down by a person: a file and a 1-based line."""

    file: str
    line: int


@dataclass(frozen=True)
class RateLimit:
    """One throttling rule: `count` calls or tokens per `renewal_period` seconds."""

    key: str
    count: float
    renewal_period: float


@dataclass(frozen=True)
class Account:
    """An Azure OpenAI (`OpenAI`) or Azure AI services (`AIServices`) account."""

    id: str
    name: str
    subscription_id: str
    resource_group: str
    location: str
    kind: str
    sku_name: str | None = None
    endpoint: str | None = None
    endpoints: Mapping[str, str] = field(default_factory=dict)
    custom_subdomain: str | None = None
    """`customSubDomainName`; absent on accounts created without one (all four recorded OpenAI/AIServices
    accounts): their endpoint is the regional `https://{region}.api.cognitive.microsoft.com/`, which takes keys
    but no Entra ID token."""
    provisioning_state: str | None = None
    disable_local_auth: bool | None = None
    """`disableLocalAuth`; absent on recorded accounts that accept keys: None means keys are accepted."""
    public_network_access: str | None = None
    network_default_action: str | None = None
    network_ip_rules: tuple[str, ...] = ()
    network_virtual_network_rules: tuple[str, ...] = ()
    private_endpoint_connections: tuple[str, ...] = ()
    identity_type: str | None = None
    encryption_key_source: str | None = None
    restrict_outbound_network_access: bool | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    private_endpoint_states: Mapping[str, str | None] = field(default_factory=dict)
    """Per private endpoint connection id: `privateLinkServiceConnectionState.status` (Approved, Pending,
    Rejected, Disconnected); only Approved connections carry traffic."""
    network_bypass: str | None = None
    """`networkAcls.bypass` (AzureServices or None): trusted Azure services pass the firewall."""
    allowed_fqdns: tuple[str, ...] = ()
    """`allowedFqdnList`: where the account may call out when restrictOutboundNetworkAccess is true."""
    user_owned_storage: tuple[str, ...] = ()
    """`userOwnedStorage[].resourceId`: customer storage accounts the service writes to."""


@dataclass(frozen=True)
class Deployment:
    """A model deployment inside an account, as ARM reports it.

    What an absent field means was decided from recorded real traffic (Azure/azure-cli's
    cognitiveservices recordings, tests/cassettes/real-*.yaml) and Azure's published examples, and is written
    beside each field: some absences are Azure's way of saying something (a deployment that is not paused has
    no `deploymentState`), others are simply not reported (None: unknown)."""

    id: str
    name: str
    account_id: str
    model_format: str | None
    model_name: str | None
    model_version: str | None
    sku_name: str | None
    """`sku.name`; absent on 2021-era deployments (they carry `scaleSettings` instead): None, unknown, unless
    scaleType Standard names it."""
    sku_capacity: int | None
    version_upgrade_option: str | None = None
    """`versionUpgradeOption`; absent on deployments made with api-versions that predate it (the recorded 2021
    deployment has none) and not filled with a default by ARM: None means *not reported*, so whether Azure
    upgrades the deployment at retirement is unknown, never assumed."""
    rai_policy_name: str | None = None
    provisioning_state: str | None = None
    capabilities: Mapping[str, str] = field(default_factory=dict)
    """`capabilities`; absent on older bodies: empty, which says nothing (rules read the catalog instead)."""
    rate_limits: tuple[RateLimit, ...] = ()
    state: str | None = None
    """`deploymentState` (Running or Paused). Recorded real deployments that serve traffic omit it, even at
    api-versions that define it: None means *not paused* (Azure reports the field when a deployment is paused),
    and only Paused is a pause."""
    current_capacity: int | None = None
    spillover_deployment_name: str | None = None
    dynamic_throttling_enabled: bool | None = None
    parent_deployment_name: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    scale_type: str | None = None
    """`scaleSettings.scaleType` of the 2021-era shape (no `sku`): Standard or Manual."""
    capacity_designated: int | None = None
    """`capacitySettings.designatedCapacity`."""
    model_source: str | None = None
    """`model.source`: the ARM id of the account a fine-tuned model was trained in; absent on base models."""

    @property
    def paused(self) -> bool:
        """Whether Azure reports the deployment paused; an absent deploymentState is not a pause."""
        return (self.state or "").lower() == "paused"

    @property
    def fine_tuned(self) -> bool:
        """A fine-tuned model: `model.source` set, or a `.ft-` / `ft-` model name or version (the location
        catalog never lists these; the account's own models list does)."""
        marks = (self.model_name or "").lower(), (self.model_version or "").lower()
        return bool(self.model_source) or any(".ft-" in m or m.startswith("ft-") for m in marks)


@dataclass(frozen=True)
class ContentFilter:
    """One filter of a content filter (RAI) policy, for prompts or completions."""

    name: str
    source: str | None
    enabled: bool | None
    blocking: bool | None
    severity_threshold: str | None = None


@dataclass(frozen=True)
class ContentFilterPolicy:
    """A content filter (RAI) policy an account's deployments can name."""

    name: str
    type: str | None
    mode: str | None
    base_policy_name: str | None
    filters: tuple[ContentFilter, ...] = ()


PLACEHOLDER_YEAR = 2099
"""Catalog dates in this year or later (2099-12-31) are placeholders for "no date announced", not dates."""


def earliest_retirement(model_date: date | None, sku_dates: Iterable[date | None] = ()) -> date | None:
    """When a catalog model version stops serving: the earlier of its SKU dates and its model date, placeholders
    left out. The audit (a deployment's SKU) and `kb refresh --from-catalog` (every SKU) read dates this one way."""
    dates = [d for d in (model_date, *sku_dates) if d is not None and d.year < PLACEHOLDER_YEAR]
    return min(dates) if dates else None


@dataclass(frozen=True)
class CatalogSku:
    """A deployment type (SKU) under which the location offers a model version."""

    name: str
    usage_name: str | None
    deprecation_date: date | None = None
    capacity_default: int | None = None
    capacity_maximum: int | None = None
    rate_limits: tuple[RateLimit, ...] = ()
    capacity_minimum: int | None = None
    capacity_step: int | None = None


@dataclass(frozen=True)
class CatalogModel:
    """One model version in a location's live catalog (`models.list(location)`), for one account kind."""

    kind: str
    format: str
    name: str
    version: str
    lifecycle_status: str | None = None
    is_default_version: bool = False
    capabilities: Mapping[str, str] = field(default_factory=dict)
    """`capabilities`, strings as sent: an explicit "false" is a *no* (code-cushman-fine-tune-002's
    `inference: "false"` in the recorded westeurope catalog), a capability the map leaves out is not offered
    by this entry, and `{}` says nothing."""
    inference_deprecation: date | None = None
    """`deprecation.inference`; placeholder dates far in the future (2099-12-31) mean no date is set."""
    fine_tune_deprecation: date | None = None
    skus: tuple[CatalogSku, ...] = ()
    """`skus`; an entry with `"skus": []` is listed but offered under no deployment type: not offered."""
    replacement_name: str | None = None
    replacement_version: str | None = None
    replacement_auto_upgrade_start: date | None = None
    """`replacementConfig.autoUpgradeStartDate`: when Azure starts moving deployments to the replacement."""
    replacement_lead_time_days: int | None = None
    """`replacementConfig.upgradeOnExpiryLeadTimeDays`."""
    deprecation_tentative: bool = False
    """`deprecationStatus: Tentative`: the retirement dates are announced, not final."""
    max_capacity: int | None = None


@dataclass(frozen=True)
class QuotaUsage:
    """One quota line of a subscription in a location (`usages.list(location)`)."""

    name: str
    localized_name: str | None
    current_value: float
    limit: float
    unit: str | None = None
    status: str | None = None
    """`status` where ARM reports it (Included, Blocked, InOverage, ...)."""
    next_reset_time: str | None = None


@dataclass(frozen=True)
class Region:
    """What one (subscription, location) offers and has left. `None` means it could not be read."""

    subscription_id: str
    location: str
    catalog: tuple[CatalogModel, ...] | None
    usages: tuple[QuotaUsage, ...] | None


@dataclass(frozen=True)
class ObservedOperation:
    """What Azure Monitor recorded for one deployment and one operation over the look-back window
    (AzureOpenAIRequests split by ModelDeploymentName, OperationName, StreamType, StatusCode, ModelVersion).

    `api` is the contract's API the operation name maps to (auditor/sources/traffic.py), None when the auditor
    does not know the operation (it is listed, never dropped)."""

    deployment: str
    operation: str
    api: str | None
    requests: float
    streaming: float = 0.0
    client_errors: float = 0.0
    """Requests answered 4xx other than 429 (something the caller sends is wrong)."""
    throttled: float = 0.0
    """Requests answered 429."""
    server_errors: float = 0.0
    model_versions: tuple[str, ...] = ()
    """The model versions the traffic was served by (the ModelVersion dimension)."""
    api_versions: tuple[str, ...] | None = None
    """The api-versions callers sent, from the RequestResponse logs; None when no logs were read."""
    daily: tuple[float, ...] = ()
    """Requests per day, oldest first (the HTML report's sparkline)."""
    days: int = 7

    @property
    def evidence(self) -> str:
        """How a finding cites the traffic: "observed: 12,400 ChatCompletions_Create calls in 7 days"."""
        return f"observed: {self.requests:,.0f} {self.operation} calls in {self.days} days"


@dataclass(frozen=True)
class ContractCall:
    """What the application sends to one deployment name: the API and the request parameters."""

    deployment: str
    api: str
    parameters: Mapping[str, Any] = field(default_factory=dict)
    account: str | None = None
    min_context_tokens: int | None = None
    tokens_per_minute: int | None = None
    location: SourceLocation | None = None
    roles: tuple[str, ...] = ()
    api_version: str | None = None  # the dated data-plane api-version; None on the v1 route or when not known
    inputs_per_call: int | None = None  # embeddings: the most inputs the app sends in one call
    sdk: str | None = None  # "openai<1": the call uses the pre-1.0 SDK's module API (found by the code scan)
    conditions: Mapping[str, str] = field(default_factory=dict)
    """Parameters sent only when a condition holds: name -> the condition's text, `deployment` standing for
    the deployment name (`deployment.startswith('o')`). Rules judge such a parameter only where the condition
    can hold (engine/conditional.py)."""
    provenance: str = "declared"
    """Where the entry comes from: "declared" (a contract file), "scanned" (the app's source) or "observed"
    (Azure Monitor's record of the traffic; `observed` then holds the evidence)."""
    observed: ObservedOperation | None = None


@dataclass(frozen=True)
class UnresolvedCall:
    """A call found in the application's source whose deployment name the scan could not know
    (a function argument, a runtime expression): reported as unchecked rather than guessed."""

    api: str
    expression: str
    why: str
    location: SourceLocation | None = None
    parameters: Mapping[str, Any] = field(default_factory=dict)
    sdk: str | None = None


PROBE_ANSWERED = (
    ProbeOutcome.SUCCESS,
    ProbeOutcome.API_NOT_SUPPORTED,
    ProbeOutcome.DEPLOYMENT_NOT_FOUND,
    ProbeOutcome.UNSUPPORTED_PARAMETER,
    ProbeOutcome.UNSUPPORTED_VALUE,
    ProbeOutcome.INVALID_KEY,
    ProbeOutcome.INVALID_TOKEN,
    ProbeOutcome.LOCAL_AUTH_DISABLED,
    ProbeOutcome.PERMISSION_DENIED,
    ProbeOutcome.NETWORK_BLOCKED,
    ProbeOutcome.RATE_LIMITED,
    ProbeOutcome.CONTENT_FILTER,
)
"""Probe outcomes that are Azure's definite answer about a deployment."""
PROBE_UNANSWERED = (
    ProbeOutcome.SERVER_ERROR,
    ProbeOutcome.TIMEOUT,
    ProbeOutcome.CONNECTION_ERROR,
    ProbeOutcome.UNEXPECTED,
)
"""Probe outcomes that tell nothing about the deployment: unknown, never a pass."""


@dataclass(frozen=True)
class ProbeResult:
    """What one minimal live call to a deployment's data plane showed, classified into an outcome.

    `outcome` is an answer Azure gave (PROBE_ANSWERED), no usable answer (PROBE_UNANSWERED: unknown), or
    skipped (not sent, see `message`).
    Never holds a token or a key."""

    account_id: str
    deployment: str
    api: str
    outcome: ProbeOutcome
    parameter: str | None = None
    value: Any = None
    deployment_id: str | None = None
    status_code: int | None = None
    error_code: str | None = None
    error_param: str | None = None
    message: str | None = None
    latency_ms: float | None = None
    attempts: int = 0
    throttled: int = 0
    retry_after: float | None = None
    rate_limit: Mapping[str, str] = field(default_factory=dict)
    tokens: int = 0
    auth: str = "entra"
    called_by_app: bool = False
    label: str | None = None
    remedy: str | None = None
    """Which advice fits the answer: a case of the probe rules' `remediation_by` (auditor/probes/classify.py)."""
    principal: str | None = None
    filtered: tuple[str, ...] = ()
    endpoint_host: str | None = None

    @property
    def retries(self) -> int:
        """Attempts after the first."""
        return max(self.attempts - 1, 0)


@dataclass(frozen=True)
class ProbeSummary:
    """What a probe run spent against its limits (every HTTP attempt counts as a call)."""

    calls: int
    tokens: int
    max_calls: int
    token_budget: int
    probes: int
    skipped: int
    not_probed: tuple[str, ...] = ()


@dataclass(frozen=True)
class PlannedDeployment:
    """A deployment a plan file (YAML, ARM/Bicep JSON, Terraform plan) would create or change.

    Fields the plan leaves unresolvable (an ARM expression without a default, a Terraform value known
    only after apply) are None and named in `unresolved`; `model_version` None means the region's default."""

    account: str | None
    name: str | None
    model_name: str | None
    model_version: str | None
    sku_name: str | None
    sku_capacity: int | None
    model_format: str | None = "OpenAI"
    registration_approved: bool = False
    location: SourceLocation | None = None
    unresolved: tuple[str, ...] = ()
    action: str = "create"
    source_format: str = "yaml"


@dataclass(frozen=True)
class DiagnosticSetting:
    """One diagnostic setting of an account (`Microsoft.Insights/diagnosticSettings`): which log categories
    (or category groups) it sends, and where."""

    name: str
    logs: tuple[str, ...] = ()
    """Enabled log categories and category groups, as ARM names them (Audit, RequestResponse, allLogs, ...)."""
    metrics: bool = False
    destinations: tuple[str, ...] = ()
    """Kinds of destination set: workspace, storage, event_hub, partner."""


@dataclass(frozen=True)
class DeploymentActivity:
    """What Azure Monitor recorded for one deployment over the look-back window (AzureOpenAIRequests split by
    StatusCode; AzureOpenAIProvisionedManagedUtilizationV2 for provisioned deployments)."""

    deployment: str
    requests: float
    throttled: float
    """Requests answered with HTTP 429."""
    peak_utilization: float | None = None
    """Highest per-minute utilisation in percent (provisioned deployments only)."""


@dataclass(frozen=True)
class AccountMonitoring:
    """Azure Monitor's view of one account. `None` in a field means it could not be read (a gap says why)."""

    diagnostic_settings: tuple[DiagnosticSetting, ...] | None
    activity: tuple[DeploymentActivity, ...] | None
    days: int = 7
    traffic: tuple[ObservedOperation, ...] | None = None
    """Per deployment and operation, what callers sent (--monitor); None when it was not read (a gap says why)."""
    logs: str | None = None
    """Why the api-versions of the traffic are unknown (no Log Analytics workspace, or the query failed); None
    when the RequestResponse logs were read."""


@dataclass(frozen=True)
class CollectionGap:
    """Something that could not be read: the audit is incomplete for `target`, for `reason`."""

    target: str
    reason: str


@dataclass(frozen=True)
class Facts:
    """Everything gathered for one run: the single input of the rule engine."""

    accounts: tuple[Account, ...] = ()
    deployments: tuple[Deployment, ...] = ()
    regions: tuple[Region, ...] = ()
    contract: tuple[ContractCall, ...] | None = None
    gaps: tuple[CollectionGap, ...] = ()
    subscriptions_searched: tuple[str, ...] = ()
    content_filter_policies: Mapping[str, tuple[ContentFilterPolicy, ...] | None] = field(default_factory=dict)
    """Per account id: its content filter policies, or None when they could not be read."""
    contract_unresolved: tuple[UnresolvedCall, ...] = ()
    probes: tuple[ProbeResult, ...] | None = None
    """Live probe results; None when probes did not run (--probe not given)."""
    probe_summary: ProbeSummary | None = None
    planned: tuple[PlannedDeployment, ...] | None = None
    """Deployments a plan file would create; None when no plan was given."""
    account_models: Mapping[str, tuple[CatalogModel, ...] | None] = field(default_factory=dict)
    """Per account id: the account's own models list (`accounts/{name}/models`), read only for accounts with
    fine-tuned deployments (the location catalog lists base models only); None when it could not be read."""
    monitoring: Mapping[str, AccountMonitoring] | None = None
    """Per account id: diagnostic settings and recent activity from Azure Monitor; None when not read
    (--monitor not given)."""

    def region_of(self, account: Account) -> Region | None:
        """The region facts for the account's subscription and location, if they were gathered."""
        for region in self.regions:
            if region.subscription_id == account.subscription_id and region.location == account.location:
                return region
        return None
