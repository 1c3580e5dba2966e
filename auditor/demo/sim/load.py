"""Reading and checking the tenant files: every mistake names its place (`catalog[0].model.capabilities.x`)."""

from __future__ import annotations

import importlib.resources
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from auditor.demo.sim.spec import (
    AccountSpec,
    CallerSpec,
    CatalogEntry,
    ContentFilterSpec,
    DeploymentSimulation,
    DeploymentSpec,
    ModelBehaviour,
    ResourceGroupSpec,
    SubscriptionSpec,
    TenantSpec,
    _norm_location,
)

if TYPE_CHECKING:
    from importlib.abc import Traversable

_TENANT_PACKAGE = "auditor.demo"
_TENANT_DIR = "tenant"
_TENANT_FILES = ("tenant.yaml", "quota.yaml", "behaviour.yaml")


def load_tenant_spec(path: str | Path) -> TenantSpec:
    """Read a tenant: a directory laid out like auditor/demo/tenant/, or one YAML file holding every key."""
    where = Path(path)
    data = _read_tenant_dir(where) if where.is_dir() else _read_yaml(where.read_text(encoding="utf-8"), str(where))
    try:
        return TenantSpec.from_mapping(data)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None


def default_tenant_data() -> dict[str, Any]:
    """The demo tenant's files merged into one mapping (the shape `TenantSpec.from_mapping` takes), for tests
    and benchmarks that derive their own tenant from the demo's."""
    return _read_tenant_dir(importlib.resources.files(_TENANT_PACKAGE).joinpath(_TENANT_DIR))


def default_tenant_spec() -> TenantSpec:
    """The demo tenant shipped as package data (`auditor/demo/tenant/`)."""
    try:
        return TenantSpec.from_mapping(default_tenant_data())
    except ValueError as exc:
        raise ValueError(f"auditor.demo/tenant: {exc}") from None


def _read_yaml(text: str, where: str) -> dict[str, Any]:
    data = yaml.safe_load(text)
    if not isinstance(data, Mapping):
        raise ValueError(f"{where}: a tenant file must be a YAML mapping")
    return dict(data)


def _read_tenant_dir(root: Traversable) -> dict[str, Any]:
    """Merge tenant.yaml, quota.yaml, behaviour.yaml and catalog/<location>.yaml into one mapping. A catalog file
    is one location's Models_List: `location` and `models` (entries without `offeredIn`); each entry keeps the
    file it came from in `x-where`, so a mistake is reported there."""
    merged: dict[str, Any] = {}
    for name in _TENANT_FILES:
        part = root.joinpath(name)
        if not part.is_file():
            continue
        for key, value in _read_yaml(part.read_text(encoding="utf-8"), name).items():
            if key in merged and not str(key).startswith("x-"):
                raise ValueError(f"{name}: '{key}' is already set by another tenant file")
            merged[key] = value
    catalog: list[Any] = list(_listing(merged.get("catalog"), "catalog"))
    folder = root.joinpath("catalog")
    files = (
        sorted((f for f in folder.iterdir() if f.name.endswith(".yaml")), key=lambda f: f.name)
        if folder.is_dir()
        else []
    )
    for file in files:
        where = f"catalog/{file.name}"
        region = _read_yaml(file.read_text(encoding="utf-8"), where)
        location = str(_need(region, "location", where))
        for i, entry in enumerate(_listing(region.get("models"), f"{where}: models")):
            entry = _mapping(entry, f"{where}: models[{i}]")
            if "offeredIn" in entry:
                raise ValueError(f"{where}: models[{i}]: a location's catalog file lists what it offers; no offeredIn")
            catalog.append({**entry, "offeredIn": [location], "x-where": f"{where}: models[{i}]"})
    merged["catalog"] = catalog
    return merged


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
