"""ARM bodies, as the management SDK deserializes them, into the fact model: one function per body the auditor
reads (account, deployment, content filter policy, location model, quota usage). Every property is optional on
the wire; what Azure leaves out stays None (or empty), never a default that could pass a rule. The shapes are
those of Azure's published REST examples (see tests/test_azure_shapes.py); no I/O here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from auditor.model.errors import InputError
from auditor.model.facts import (
    Account,
    CatalogModel,
    CatalogSku,
    ContentFilter,
    ContentFilterPolicy,
    Deployment,
    QuotaUsage,
    RateLimit,
)


@dataclass(frozen=True)
class AccountRef:
    """Where an account lives, parsed from its ARM id."""

    subscription_id: str
    resource_group: str
    name: str

    @classmethod
    def parse(cls, resource_id: str) -> AccountRef:
        parts = resource_id.strip("/").split("/")
        lowered = [p.lower() for p in parts]
        try:
            sub = parts[lowered.index("subscriptions") + 1]
            rg = parts[lowered.index("resourcegroups") + 1]
            provider = lowered.index("microsoft.cognitiveservices")
            if lowered[provider + 1] != "accounts":
                raise ValueError
            name = parts[provider + 2]
        except (ValueError, IndexError):
            raise InputError(
                f"not an Azure OpenAI account resource ID: {resource_id!r} "
                "(expected /subscriptions/SUB/resourceGroups/RG/providers/Microsoft.CognitiveServices/accounts/NAME)"
            ) from None
        return cls(sub, rg, name)


def _str(value: Any) -> str | None:
    if value is None:
        return None
    return str(getattr(value, "value", value))


def _date(value: Any) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _rate_limits(items: Iterable[Any] | None) -> tuple[RateLimit, ...]:
    return tuple(
        RateLimit(
            key=str(getattr(r, "key", None) or ""),
            count=float(r.count or 0),
            renewal_period=float(r.renewal_period or 0),
        )
        for r in items or ()
        if r is not None and r.count is not None
    )


def _connection_status(connection: Any) -> str | None:
    props = getattr(connection, "properties", None)
    state = getattr(props, "private_link_service_connection_state", None) if props else None
    return _str(getattr(state, "status", None)) if state else None


class _Absent:
    """An SDK sub-object the wire left out (`properties`, `networkAcls`, ...): every attribute of it is None, so
    a missing property reads as None, never a default, without a test at every read."""

    def __getattr__(self, name: str) -> None:
        return None


_ABSENT = _Absent()


def _or_absent(value: Any) -> Any:
    return _ABSENT if value is None else value


def _location(value: Any) -> str:
    """ARM sends locations as `eastus2`, `East US 2` or `EASTUS` (recorded traffic has them): one form."""
    return str(value or "").replace(" ", "").lower()


def account_from_sdk(item: Any) -> Account:
    """Normalise an SDK `Account` into the fact model. Every property is optional on the wire (the published
    GetAccount example has only endpoint and provisioningState), so a missing one stays None, never a default;
    what each absence means is written beside the field in auditor.model.facts.Account."""
    ref = AccountRef.parse(item.id)
    props = _or_absent(item.properties)
    acls = _or_absent(getattr(props, "network_acls", None))
    connections = tuple(props.private_endpoint_connections or ())
    return Account(
        id=item.id,
        name=item.name,
        subscription_id=ref.subscription_id,
        resource_group=ref.resource_group,
        location=_location(item.location),
        kind=item.kind or "",
        sku_name=item.sku.name if item.sku else None,
        endpoint=props.endpoint,
        endpoints=dict(props.endpoints or {}),
        custom_subdomain=props.custom_sub_domain_name,
        provisioning_state=_str(props.provisioning_state),
        disable_local_auth=props.disable_local_auth,
        public_network_access=_str(props.public_network_access),
        network_default_action=_str(acls.default_action),
        network_ip_rules=tuple(r.value for r in (acls.ip_rules or ()) if r.value),
        network_virtual_network_rules=tuple(r.id for r in (acls.virtual_network_rules or ()) if r.id),
        private_endpoint_connections=tuple(c.id or c.name or "" for c in connections),
        private_endpoint_states={c.id or c.name or "": _connection_status(c) for c in connections},
        identity_type=_str(_or_absent(getattr(item, "identity", None)).type),
        encryption_key_source=_str(_or_absent(getattr(props, "encryption", None)).key_source),
        restrict_outbound_network_access=props.restrict_outbound_network_access,
        tags=dict(item.tags or {}),
        network_bypass=_str(getattr(acls, "bypass", None)),
        allowed_fqdns=tuple(getattr(props, "allowed_fqdn_list", None) or ()),
        user_owned_storage=tuple(
            s.resource_id for s in (getattr(props, "user_owned_storage", None) or ()) if getattr(s, "resource_id", None)
        ),
    )


def _sku_of(item: Any, scale: Any) -> tuple[str | None, Any]:
    """The deployment's SKU name and capacity; 2021-era deployments carry them in scaleSettings instead."""
    scale_type = _str(getattr(scale, "scale_type", None))
    sku_name = item.sku.name if item.sku else None
    sku_capacity = item.sku.capacity if item.sku else None
    if sku_name is None and scale_type and scale_type.lower() == "standard":
        sku_name = "Standard"
    if sku_capacity is None:
        sku_capacity = getattr(scale, "capacity", None)
    return sku_name, sku_capacity


def deployment_from_sdk(item: Any, account_id: str) -> Deployment:
    """Normalise an SDK `Deployment` into the fact model.

    Only `model` and `provisioningState` are sure to be there (the published GetDeployment examples of 2025-09-01
    carry nothing else): rateLimits, capabilities, currentCapacity, versionUpgradeOption and the rest stay None
    when absent. Deployments made with the 2021-era api-versions have `scaleSettings` {scaleType, capacity} and
    no `sku` (stable/2021-10-01/examples/ListDeployments.json): the capacity is read from there, and scaleType
    Standard names the Standard SKU; Manual names none (it is not a deployment type), so the SKU stays unknown.
    What each absence means is written beside the field in auditor.model.facts.Deployment."""
    props = _or_absent(item.properties)
    model = _or_absent(props.model)
    scale = _or_absent(getattr(props, "scale_settings", None))
    sku_name, sku_capacity = _sku_of(item, scale)
    return Deployment(
        id=item.id,
        name=item.name,
        account_id=account_id,
        model_format=model.format,
        model_name=model.name,
        model_version=model.version,
        model_source=model.source,
        sku_name=sku_name,
        sku_capacity=sku_capacity,
        version_upgrade_option=_str(props.version_upgrade_option),
        rai_policy_name=props.rai_policy_name,
        provisioning_state=_str(props.provisioning_state),
        capabilities=dict(props.capabilities or {}),
        rate_limits=_rate_limits(props.rate_limits),
        current_capacity=getattr(props, "current_capacity", None),
        spillover_deployment_name=getattr(props, "spillover_deployment_name", None),
        dynamic_throttling_enabled=getattr(props, "dynamic_throttling_enabled", None),
        parent_deployment_name=getattr(props, "parent_deployment_name", None),
        tags=dict(getattr(item, "tags", None) or {}),
        scale_type=_str(getattr(scale, "scale_type", None)),
        capacity_designated=getattr(_or_absent(getattr(props, "capacity_settings", None)), "designated_capacity", None),
    )


def rai_policy_from_sdk(item: Any) -> ContentFilterPolicy:
    """Normalise an SDK `RaiPolicy` (a content filter policy)."""
    props = item.properties
    return ContentFilterPolicy(
        name=item.name,
        type=_str(props.type) if props else None,
        mode=_str(props.mode) if props else None,
        base_policy_name=props.base_policy_name if props else None,
        filters=tuple(
            ContentFilter(f.name or "", _str(f.source), f.enabled, f.blocking, _str(f.severity_threshold))
            for f in (props.content_filters or ())
            if props
        )
        if props
        else (),
    )


def catalog_model_from_sdk(item: Any) -> CatalogModel | None:
    """Normalise one entry of `models.list(location)` (Models_List; shapes: stable/2025-09-01/examples/
    ListLocationModels.json and the recorded westeurope catalog in tests/cassettes/real-catalog.yaml). Azure sends
    SKU names in either case ("provisioned", "Provisioned"), entries without isDefaultVersion, deprecation with or
    without deprecationStatus (Tentative, Planned), one model under kinds OpenAI and AIServices with one id, and
    replacementConfig on models Azure will move to another model; all of it is kept as sent (matching ignores
    case)."""
    return model_entry_from_sdk(item.model, item.kind or "")


def account_model_from_sdk(item: Any, kind: str) -> CatalogModel | None:
    """Normalise one entry of an account's own models list (Accounts_ListModels): the model's fields sit at the
    top level (no `model` wrapper), and fine-tuned models of the account are listed beside the base ones."""
    return model_entry_from_sdk(item, kind)


def _deadline(value: Any) -> date | None:
    """A deprecation date; the catalog's placeholder far-future dates (2099-12-31) mean no date is set."""
    day = _date(value)
    return None if day is None or day.year >= 2099 else day


def model_entry_from_sdk(model: Any, kind: str) -> CatalogModel | None:
    """One model version with its SKUs, capabilities, deprecation and replacement, from either list."""
    if model is None or not model.name:
        return None
    deprecation = model.deprecation
    replacement = getattr(model, "replacement_config", None)
    skus = tuple(
        CatalogSku(
            name=sku.name or "",
            usage_name=sku.usage_name,
            deprecation_date=_deadline(sku.deprecation_date),
            capacity_default=sku.capacity.default if sku.capacity else None,
            capacity_maximum=sku.capacity.maximum if sku.capacity else None,
            rate_limits=_rate_limits(sku.rate_limits),
            capacity_minimum=getattr(sku.capacity, "minimum", None) if sku.capacity else None,
            capacity_step=getattr(sku.capacity, "step", None) if sku.capacity else None,
        )
        for sku in model.skus or ()
    )
    status = _str(getattr(deprecation, "deprecation_status", None)) if deprecation else None
    return CatalogModel(
        kind=kind,
        format=model.format or "",
        name=model.name,
        version=model.version or "",
        lifecycle_status=_str(model.lifecycle_status),
        is_default_version=bool(model.is_default_version),
        capabilities={str(k): str(v) for k, v in (model.capabilities or {}).items()},
        inference_deprecation=_deadline(deprecation.inference) if deprecation else None,
        fine_tune_deprecation=_deadline(deprecation.fine_tune) if deprecation else None,
        skus=skus,
        replacement_name=getattr(replacement, "target_model_name", None) if replacement else None,
        replacement_version=getattr(replacement, "target_model_version", None) if replacement else None,
        replacement_auto_upgrade_start=_date(getattr(replacement, "auto_upgrade_start_date", None))
        if replacement
        else None,
        replacement_lead_time_days=getattr(replacement, "upgrade_on_expiry_lead_time_days", None)
        if replacement
        else None,
        deprecation_tentative=(status or "").lower() == "tentative",
        max_capacity=getattr(model, "max_capacity", None),
    )


def usage_from_sdk(item: Any) -> QuotaUsage:
    """Normalise one entry of `usages.list(location)` (stable/2025-09-01/examples/ListUsages.json: name,
    currentValue, limit, unit; status and nextResetTime only where Azure sends them)."""
    name = item.name
    reset = getattr(item, "next_reset_time", None)
    return QuotaUsage(
        name=(name.value if name else "") or "",
        localized_name=name.localized_value if name else None,
        current_value=float(item.current_value or 0),
        limit=float(item.limit or 0),
        unit=_str(item.unit),
        status=_str(getattr(item, "status", None)),
        next_reset_time=str(reset) if reset else None,
    )
