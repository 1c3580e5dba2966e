"""The documents rules read, typed: one TypedDict per view (account, deployment, model, catalog, ...) and one
per subject kind, built from those views. The engine's builders (auditor/engine/subjects.py, views.py,
evidence.py, compliance.py, upgrade.py; auditor/knowledge/base.py for the model) return these types, so mypy
holds every builder to its keys; auditor/engine/fields.py derives what a rule may read from the same types, so
no key list is kept by hand. tests/test_fields.py checks real documents against them at run time.

A fact's value is `Fact`: a value, or UNKNOWN when it could not be determined (auditor/model/unknown.py).
`Open` marks a value whose inside a rule may read freely (capabilities, parameter tables, tags). A view that
can be missing as a whole (`catalog` when the region's catalog was not read) is typed as the view; the
builders may put UNKNOWN or None in its place.
"""

from __future__ import annotations

from typing import Annotated, Any, TypedDict, TypeVar, Union

Fact = Any
"""A fact's value, or UNKNOWN."""
OPEN = "open"
Open = Annotated[Any, OPEN]
"""A value whose inside a rule may read freely: any path below it is declared."""
_View = TypeVar("_View")
Maybe = Union[_View, Any]  # noqa: UP007 (a generic alias: the `|` form cannot take a type variable here)
"""A view in a subject's document, or UNKNOWN (not read) or None (does not apply) in its place."""


class AccountView(TypedDict):
    id: Fact
    name: Fact
    kind: Fact
    location: Fact
    subscription_id: Fact
    resource_group: Fact
    sku_name: Fact
    endpoint: Fact
    custom_subdomain: Fact
    provisioning_state: Fact
    disable_local_auth: Fact
    local_auth_enabled: Fact
    public_network_access: Fact
    network_default_action: Fact
    network_ip_rules: Fact
    private_endpoint_count: Fact
    private_endpoint_states: Open
    identity_type: Fact
    has_managed_identity: Fact
    encryption_key_source: Fact
    restrict_outbound_network_access: Fact
    responses_api_region: Fact
    deployment_count: Fact
    allowed_fqdns: Fact
    network_bypass: Fact
    user_owned_storage: Fact
    tags: Open
    tag_names: Fact
    regional_endpoint: Fact
    """Served at `https://{region}.api.cognitive.microsoft.com/` (no custom subdomain): keys only, no Entra ID."""


class DeploymentView(TypedDict, total=False):
    """A deployment as the rules see it (a probe of a deployment that does not exist has only `exists`, `name`)."""

    exists: Fact
    id: Fact
    name: Fact
    model_format: Fact
    model_name: Fact
    model_version: Fact
    sku_name: Fact
    sku_capacity: Fact
    version_upgrade_option: Fact
    rai_policy_name: Fact
    provisioning_state: Fact
    tokens_per_minute: Fact
    capabilities: Open
    state: Fact
    current_capacity: Fact
    dynamic_throttling_enabled: Fact
    parent_deployment_name: Fact
    scale_type: Fact
    spillover_deployment_name: Fact
    tags: Open
    tag_names: Fact
    paused: Fact
    """deploymentState Paused; an absent deploymentState is not a pause (recorded real traffic)."""
    fine_tuned: Fact


class ModelFacts(TypedDict, total=False):
    """The facts the knowledge base records per model (rules/knowledge/models.yaml, families.yaml)."""

    apis: Fact
    reasoning: Fact
    parameters: Open
    token_limit_parameter: Fact
    rejected_roles: Fact
    streaming: Fact
    parallel_tool_calls: Fact
    reasoning_effort: Open
    context_window: Fact
    max_input_tokens: Fact
    max_output_tokens: Fact
    input_modalities: Fact
    registration: Maybe[Registration]
    retirement: Maybe[Retirement]
    chat_function_tools: Fact
    min_api_version: Fact
    embeddings: Open
    tools: Fact
    structured_outputs: Fact


class Registration(TypedDict):
    required: Fact
    link: Fact
    as_of: Fact


class Retirement(TypedDict):
    date: Fact
    days_left: Fact
    replacement: Fact
    status: Fact


class ModelView(ModelFacts, total=False):
    """The model a deployment runs, as the knowledge base, the live catalog and the probes tell it (an unknown
    model has the facts, all unknown, and `known`, `name`, `kind`, `responses_only`, `disputed`, `gaps`)."""

    known: Fact
    name: Fact
    family: Fact
    kind: Fact
    responses_only: Fact
    rejected_parameters_text: Fact
    reasoning_effort_values: Fact
    gated_features: Fact
    version_known: Fact
    fine_tuned: Fact
    disputed: Open
    gaps: Open


class SkuCapacity(TypedDict):
    minimum: Fact
    maximum: Fact
    step: Fact
    default: Fact


class CatalogView(TypedDict):
    model_offered: Fact
    version_offered: Fact
    sku_offered: Fact
    offered: Fact
    versions: Fact
    skus: Fact
    default_version: Fact
    default_versions: Fact  # the values behind default_version's text (a fix writes a value, never the text)
    is_default_version: Fact
    lifecycle_status: Fact
    deprecation_date: Fact
    days_to_deprecation: Fact
    deprecation_tentative: Fact
    usage_name: Fact
    capabilities: Open
    replacement: Fact
    replacement_auto_upgrade_start: Fact
    replacement_lead_time_days: Fact
    max_capacity: Fact
    sku_capacity: SkuCapacity | None


class LifecycleView(TypedDict):
    retirement_date: Fact
    days_left: Fact
    source: Fact
    replacement: Fact
    status: Fact
    schedule_stage: Fact
    tentative: Fact
    tentative_basis: Fact
    """Why the date may move: Azure's deprecationStatus Tentative, or a preview's "not sooner than" date."""


class UsageView(TypedDict):
    name: Fact
    localized_name: Fact
    unit: Fact
    """What the line counts (tokens per minute x1,000 or x10,000, requests per minute, PTUs, a count)."""
    current: Fact
    limit: Fact
    available: Fact
    utilization: Fact
    percent: Fact


class PlannedUsageView(UsageView, total=False):
    """A quota line a plan draws on, with what the whole plan adds to it."""

    plan_total: Fact
    plan_deployments: Fact


class RegionView(TypedDict):
    subscription_id: Fact
    location: Fact


class QuotaUsageView(UsageView, total=False):
    deployments: Fact


class ResolvedCallView(TypedDict):
    """One call of the app (the contract) whose deployment is known."""

    deployment: Fact
    api: Fact
    parameters: Fact
    account: Fact
    min_context_tokens: Fact
    tokens_per_minute: Fact
    roles: Fact
    resolved: Fact
    source: Fact
    legacy_sdk: Fact
    api_version: Fact
    dated_api_version: Fact
    inputs_per_call: Fact
    function_tools: Fact
    reasoning_effort: Fact
    provenance: Fact
    """declared (a contract file), scanned (the app's code) or observed (Azure Monitor's record of the traffic)."""
    observed: Fact
    evidence: Fact
    """Where the entry comes from, as a finding cites it: "observed: 12,400 ChatCompletions_Create calls in 7 days"."""
    operation: Fact
    requests: Fact


class CallView(ResolvedCallView, total=False):
    """A call whose deployment name only the running app knows: the expression and why it was not followed.
    An observed call (auditor/engine/observed.py) adds the shares of its answers; it sends no parameters, so no
    contract_parameter document has them."""

    expression: Fact
    why: Fact
    client_error_percent: Fact
    throttled_percent: Fact
    server_error_percent: Fact
    streaming_percent: Fact


class ApiParameterFacts(TypedDict):
    """Whether a request parameter belongs to one API only, and the other API's name for it (knowledge base)."""

    chat_only: Fact
    responses_only: Fact
    wrong_api: Fact
    other_api_name: Fact


class ParamRange(TypedDict):
    """A parameter value against its bounds (the model's limits, or the knowledge base's parameter_bounds)."""

    bounded: Fact
    """A numeric value meets a known bound."""
    in_range: Fact
    range_text: Fact


class ParamView(ApiParameterFacts, ParamRange):
    name: Fact
    value: Open
    effort: Fact
    support: Fact
    default: Fact
    use_instead: Fact
    condition: Fact  # the condition the app sends it under (None: always sent); engine/conditional.py
    condition_decided: Fact  # whether that condition was decided (true) on the deployment's name


class ProbeView(TypedDict):
    kind: Fact
    api: Fact
    api_name: Fact
    parameter: Fact
    value: Open
    setting: Fact
    outcome: Fact
    answered: Fact
    completed: Fact
    status_code: Fact
    error_code: Fact
    error_param: Fact
    message: Fact
    latency_ms: Fact
    attempts: Fact
    throttled: Fact
    retry_after: Fact
    rate_limit_text: Fact
    tokens: Fact
    auth: Fact
    label: Fact
    label_text: Fact
    called_by_app: Fact
    remedy: Fact
    principal_text: Fact
    filtered_text: Fact
    retry_text: Fact
    evidence: Fact
    kb_expected: Fact
    kb_disagreement: Fact


class PlanView(TypedDict, total=False):
    name: Fact
    account: Fact
    account_found: Fact
    model_name: Fact
    model_version: Fact
    version_given: Fact
    sku_name: Fact
    sku_capacity: Fact
    registration_approved: Fact
    action: Fact
    format: Fact
    unresolved: Fact
    unresolved_text: Fact
    default_version_skus: Fact


class Harms(TypedDict):
    hate: Fact
    sexual: Fact
    violence: Fact
    selfharm: Fact


class ContentFilterView(TypedDict, total=False):
    named: Fact
    found: Fact
    name: Fact
    type: Fact
    mode: Fact
    disabled_filters: Fact
    non_blocking_filters: Fact
    builtin: Fact
    asynchronous: Fact
    missing_prompt_shields: Fact
    missing_protected_material: Fact
    thresholds_text: Fact
    threshold_rank: Maybe[Harms]  # built per harm category (engine/compliance.HARM_CATEGORIES)
    thresholds: Maybe[Harms]


class MonitorView(TypedDict, total=False):
    requested: Fact
    read: Fact
    settings: Fact
    names: Fact
    destinations: Fact
    logs: Fact
    audit_logs: Fact
    request_logs: Fact


class ActivityView(TypedDict, total=False):
    requested: Fact
    read: Fact
    days: Fact
    requests: Fact
    throttled: Fact
    throttled_percent: Fact
    provisioned: Fact
    peak_utilization: Fact


class TrafficView(TypedDict, total=False):
    """Who calls a deployment over the Azure Monitor window (auditor/engine/observed.py: traffic_view)."""

    requested: Fact
    read: Fact
    reason: Fact
    days: Fact
    requests: Fact
    idle: Fact
    provisioned: Fact
    ptus: Fact
    operations: Fact
    operations_text: Fact
    apis: Fact
    unknown_operations: Fact
    unknown_operations_text: Fact
    streaming_percent: Fact
    model_versions: Fact
    other_versions: Fact
    other_versions_text: Fact
    declared_apis: Fact
    undeclared_apis: Fact
    undeclared_text: Fact
    worst_client_error_percent: Fact
    logs: Fact


class KnowledgeView(TypedDict):
    checked: Fact
    age_days: Fact
    models: Fact


class ComparedView(TypedDict):
    """What the live catalog and the knowledge base were compared on, and where they disagree."""

    disagreements: Open
    compared: Fact
    checked: Fact


class DeploymentContract(TypedDict):
    present: Fact
    file_given: Fact
    apis: Fact


class PlanContract(TypedDict):
    present: Fact
    apis: Fact
    unsupported_apis: Fact


class CapacityFit(TypedDict, total=False):
    bounded: Fact
    fits: Fact
    allowed: Fact
    problem: Fact


class UpgradeDeployment(TypedDict):
    name: Fact
    model_name: Fact
    model_version: Fact
    version_upgrade_option: Fact


class UpgradeAccount(TypedDict):
    name: Fact
    location: Fact


UpgradeView = TypedDict(
    "UpgradeView",
    {
        "from": Fact,
        "to": Fact,
        "model_name": Fact,
        "model_version": Fact,
        "date": Fact,
        "when": Fact,
        "days_left": Fact,
        "source": Fact,
    },
)


class UpgradeCall(TypedDict):
    present: Fact
    source: Fact
    api: Fact
    breaks_text: Fact
    works_text: Fact


class ImpactView(TypedDict):
    breaks: Fact
    breaks_text: Fact
    affected: Fact
    remediation_text: Fact
    unknown_text: Fact


class WaiverView(TypedDict):
    subject: Fact
    target: Fact
    owner: Fact
    reason: Fact
    expires: Fact
    expired: Fact
    used: Fact
    covered: Fact


# -- one document per subject kind ------------------------------------------------------------------------


class AccountDocument(TypedDict):
    account: Maybe[AccountView]
    monitor: Maybe[MonitorView]


class KnowledgeBaseDocument(TypedDict):
    knowledge: Maybe[KnowledgeView]


class DeploymentDocument(TypedDict):
    account: Maybe[AccountView]
    deployment: Maybe[DeploymentView]
    model: Maybe[ModelView]
    catalog: Maybe[CatalogView]
    lifecycle: Maybe[LifecycleView]
    knowledge: Maybe[ComparedView]
    quota: Maybe[UsageView]
    contract: Maybe[DeploymentContract]
    content_filter: Maybe[ContentFilterView]
    activity: Maybe[ActivityView]
    traffic: Maybe[TrafficView]


class QuotaUsageDocument(TypedDict):
    usage: Maybe[QuotaUsageView]
    region: Maybe[RegionView]


class _DeploymentParts(TypedDict, total=False):
    """What a call reads of the deployment it reaches (a name that reaches no deployment has none of it)."""

    catalog: Maybe[CatalogView]
    quota: Maybe[UsageView]
    lifecycle: Maybe[LifecycleView]


class ContractCallDocument(_DeploymentParts):
    """A call of the app on one deployment (or on a name that reaches none)."""

    call: Maybe[CallView]
    suggestions: Fact
    suggestions_text: Fact
    deployment: Maybe[DeploymentView]
    model: Maybe[ModelView]
    account: Maybe[AccountView]


class ContractParameterDocument(_DeploymentParts):
    """One parameter a call sends, on a deployment the call reaches."""

    call: Maybe[ResolvedCallView]
    suggestions: Fact
    suggestions_text: Fact
    deployment: Maybe[DeploymentView]
    model: Maybe[ModelView]
    account: Maybe[AccountView]
    param: Maybe[ParamView]


class ProbeDocument(TypedDict):
    probe: Maybe[ProbeView]
    account: Maybe[AccountView]
    deployment: Maybe[DeploymentView]
    model: Maybe[ModelView]


class PlannedDeploymentDocument(TypedDict):
    plan: Maybe[PlanView]
    account: Maybe[AccountView]
    model: Maybe[ModelView]
    catalog: Maybe[CatalogView]
    lifecycle: Maybe[LifecycleView]
    quota: Maybe[PlannedUsageView]
    capacity: Maybe[CapacityFit]
    contract: Maybe[PlanContract]


class UpgradeDocument(TypedDict):
    deployment: Maybe[UpgradeDeployment]
    account: Maybe[UpgradeAccount]
    upgrade: Maybe[UpgradeView]
    call: Maybe[UpgradeCall]
    impact: Maybe[ImpactView]


class WaiverDocument(TypedDict):
    waiver: Maybe[WaiverView]


SUBJECT_DOCUMENTS: dict[str, type] = {
    "account": AccountDocument,
    "knowledge_base": KnowledgeBaseDocument,
    "deployment": DeploymentDocument,
    "quota_usage": QuotaUsageDocument,
    "contract_call": ContractCallDocument,
    "contract_parameter": ContractParameterDocument,
    "probe": ProbeDocument,
    "planned_deployment": PlannedDeploymentDocument,
    "upgrade": UpgradeDocument,
}
"""The document of each subject kind the engine builds (auditor/engine/subjects.py and the modules it calls)."""
GATE_DOCUMENTS: dict[str, type] = {"waiver": WaiverDocument}
"""The documents the gate builds after the audit (auditor/gating/waivers.py): the waiver rules read them."""
