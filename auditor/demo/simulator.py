"""A simulated Azure tenant that the real Azure SDKs and the openai SDK talk to without modification.

Why: the auditor must be demonstrable and testable without an Azure subscription, and its tests must
exercise the same SDK code paths (paging, retries, error mapping, credential chain) that run against
real Azure. So instead of mocking SDK internals, this module serves the wire protocol itself:

* ARM (management plane) over HTTPS on 127.0.0.1 — subscriptions, Cognitive Services accounts,
  deployments, location model catalogs and quota usages, with `nextLink` paging, ARM error bodies and
  ARM headers;
* Azure Resource Graph (`POST /providers/Microsoft.ResourceGraph/resources`) with `$skipToken` paging;
* the Azure OpenAI data plane (`/aoai/<account>/openai/v1/...` and the legacy deployment paths) with
  Azure's success bodies, error envelopes, auth failures, content filter and 429 headers;
* the App Service managed-identity token endpoint (plain HTTP on loopback), which is what
  `azure.identity.ManagedIdentityCredential` / `DefaultAzureCredential` use when `IDENTITY_ENDPOINT` and
  `IDENTITY_HEADER` are set.

Every wire shape, error code and message follows /work/shared/reference/azure-wire.md. Where the reference
marks a detail UNVERIFIED, the choice made here is noted in a comment at the place it is made.

The tenant itself (subscriptions, accounts, deployments, catalogs, quota, per-model behaviour) is data:
`auditor/demo/tenant.yaml`, loaded by `load_tenant_spec` / `default_tenant_spec`.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import hashlib
import importlib.resources
import json
import logging
import math
import re
import secrets
import shutil
import socket
import ssl
import string
import struct
import tempfile
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar, NamedTuple
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

import trustme
import yaml

__all__ = [
    "AccountSpec",
    "CallerSpec",
    "CatalogEntry",
    "ContentFilterSpec",
    "DeploymentSimulation",
    "DeploymentSpec",
    "FaultRule",
    "ModelBehaviour",
    "ResourceGroupSpec",
    "ServedRequest",
    "SimulatedTenant",
    "SubscriptionSpec",
    "TenantSpec",
    "default_tenant_spec",
    "load_tenant_spec",
]

_LOG = logging.getLogger(__name__)

#: The data-plane token audience (resource) Azure OpenAI accepts.
COGNITIVE_SERVICES_RESOURCE = "https://cognitiveservices.azure.com"
#: Audiences real ARM accepts besides the simulator's own URL (listed in ARM's wrong-audience message).
_ARM_AUDIENCES = (
    "https://management.core.windows.net/",
    "https://management.core.windows.net",
    "https://management.azure.com/",
    "https://management.azure.com",
)
_OPENAI_KINDS = frozenset({"openai", "aiservices"})
_TOKEN_LIFETIME_SECONDS = 24 * 3600

# ---------------------------------------------------------------------------------------------------------
# Tenant description (parsed from tenant.yaml)
# ---------------------------------------------------------------------------------------------------------


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
        """Quota units (thousands of TPM for Standard-family SKUs)."""
        return int(self.sku.get("capacity") or 0)

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


def load_tenant_spec(path: str | Path) -> TenantSpec:
    """Read a tenant YAML file (shape: see auditor/demo/tenant.yaml)."""
    text = Path(path).read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    if not isinstance(data, Mapping):
        raise ValueError(f"{path}: a tenant spec must be a YAML mapping")
    try:
        return TenantSpec.from_mapping(data)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None


def default_tenant_spec() -> TenantSpec:
    """The demo tenant shipped as package data (`auditor.demo/tenant.yaml`)."""
    resource = importlib.resources.files("auditor.demo").joinpath("tenant.yaml")
    data = yaml.safe_load(resource.read_text(encoding="utf-8"))
    try:
        return TenantSpec.from_mapping(data)
    except ValueError as exc:
        raise ValueError(f"auditor.demo/tenant.yaml: {exc}") from None


def _norm_location(location: str) -> str:
    """ARM location names ignore case and spaces ("East US 2" == "eastus2")."""
    return location.replace(" ", "").lower()


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
        subscriptions.append(
            SubscriptionSpec(
                sub_id, str(sub_raw.get("displayName", sub_id)), str(sub_raw.get("state", "Enabled")), tuple(groups)
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
        _parse_catalog_entry(_mapping(e, f"catalog[{i}]"), f"catalog[{i}]")
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
            sku=_mapping(_need(dep_raw, "sku", dep_where), f"{dep_where}.sku"),
            properties=extra,
            tags=dep_raw.get("tags"),
            simulate=DeploymentSimulation(
                rate_limit_first_calls=int(sim.get("rateLimitFirstCalls", 0)),
                retry_after_seconds=int(sim.get("retryAfterSeconds", 1)),
                server_error_first_calls=int(sim.get("serverErrorFirstCalls", 0)),
                content_filter_always=bool(sim.get("contentFilterAlways", False)),
                apis=_simulated_apis(sim.get("apis"), f"{dep_where}.simulate.apis"),
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
        rai_policies=tuple(
            _mapping(p, f"{where}.raiPolicies") for p in _listing(raw.get("raiPolicies"), f"{where}.raiPolicies")
        ),
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


# ---------------------------------------------------------------------------------------------------------
# Records and fault injection
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServedRequest:
    """One answered request. Deliberately holds no header values, so no token or key can leak into it."""

    method: str
    path: str
    query: Mapping[str, str]
    status: int
    plane: str  # arm | graph | data | token
    timestamp: float


@dataclass(frozen=True)
class FaultRule:
    """Answer the next `times` requests whose path matches `path_pattern` (re.search) with a canned reply.

    `times=None` means every matching request. `body` may be a dict (sent as compact JSON) or a str.
    Used by tests (ARM 429 with Retry-After, 500s) and by benchmarks.
    """

    path_pattern: str
    status: int
    body: Mapping[str, Any] | str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    times: int | None = 1
    method: str | None = None
    plane: str | None = None

    @classmethod
    def arm_throttled(
        cls,
        path_pattern: str,
        *,
        retry_after: int = 1,
        times: int | None = 1,
        subscription_id: str = "00000000-0000-0000-0000-000000000000",
    ) -> FaultRule:
        """ARM's subscription read throttling: 429 SubscriptionRequestsThrottled with Retry-After (§1.9)."""
        body = {
            "error": {
                "code": "SubscriptionRequestsThrottled",
                "message": (
                    f"Number of 'read' requests for subscription '{subscription_id}' actor "
                    f"'00000000-0000-0000-0000-000000000000' exceeded. Please try again after '{retry_after}' seconds "
                    "after additional tokens are available. Refer to https://aka.ms/arm-throttling for additional "
                    "information."
                ),
            }
        }
        return cls(path_pattern, 429, body, {"Retry-After": str(retry_after)}, times, plane="arm")

    @classmethod
    def server_error(
        cls, path_pattern: str, *, status: int = 500, times: int | None = 1, plane: str | None = None
    ) -> FaultRule:
        """A generic 5xx in ARM's error envelope."""
        body = {
            "error": {
                "code": "InternalServerError",
                "message": (
                    "Encountered internal server error. Diagnostic information: timestamp "
                    f"'{_utc_stamp()}', tracking id '{uuid.uuid4()}'."
                ),
            }
        }
        return cls(path_pattern, status, body, {}, times, plane=plane)


class _Reply(NamedTuple):
    status: int
    body: bytes
    headers: dict[str, str]
    reason: str | None = None


def _compact(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _pretty(obj: Any) -> bytes:
    # The OpenAI-engine parameter errors are sent pretty-printed with 2-space indent, no trailing newline
    # (azure-wire.md §3.4(e): content-length 221 matches exactly that form).
    return json.dumps(obj, indent=2, ensure_ascii=False).encode("utf-8")


def _utc_stamp() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f0Z")


def _stable_uuid(*parts: str) -> str:
    """Deterministic GUIDs for ids, etags and internal ids, so served documents are reproducible."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join(parts)))


def _opaque_token(offset: int) -> str:
    """A `$skipToken`: opaque to clients, URL-safe (the SDK re-quotes nextLink query values)."""
    return base64.urlsafe_b64encode(f"skip:{offset}".encode()).decode().rstrip("=")


def _read_token(token: str | None) -> int:
    if not token:
        return 0
    try:
        padded = token + "=" * (-len(token) % 4)
        prefix, _, number = base64.urlsafe_b64decode(padded.encode()).decode().partition(":")
        return int(number) if prefix == "skip" and int(number) >= 0 else -1
    except (ValueError, UnicodeDecodeError):
        return -1


# ---------------------------------------------------------------------------------------------------------
# Wire texts (azure-wire.md)
# ---------------------------------------------------------------------------------------------------------

# §3.4(b); the space after "message": reproduces the 198-byte content-length of the real capture.
_DEPLOYMENT_NOT_FOUND = (
    b'{"error":{"code":"DeploymentNotFound","message": "The API deployment for this resource does not exist. '
    b'If you created the deployment within the last 5 minutes, please wait a moment and try again."}}'
)
# §3.1 / §3.4(l)
_RESOURCE_NOT_FOUND = b'{"error":{"code":"404","message": "Resource not found"}}'
# §3.4(g)
_AUTH_TYPE_DISABLED = (
    b'{"error":{"code":"AuthenticationTypeDisabled","message": "Key based authentication is disabled for this '
    b'resource."}}'
)
# §3.4(h): compact, 224 bytes.
_INVALID_KEY = _compact(
    {
        "error": {
            "code": "401",
            "message": (
                "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for "
                "an active subscription and use a correct regional API endpoint for your resource."
            ),
        }
    }
)
# §3.4(i): non-standard envelope, no "error" key.
_INVALID_TOKEN = _compact(
    {
        "statusCode": 401,
        "message": (
            "Unauthorized. Access token is missing, invalid, audience is incorrect "
            "(https://cognitiveservices.azure.com), or have expired."
        ),
    }
)
# Not in the reference: real Azure text for a public call to an account with publicNetworkAccess Disabled,
# as quoted in public issues (Azure-Samples/azure-search-openai-demo#1157, TabularEditor3#1557).
_PUBLIC_ACCESS_DISABLED = (
    b'{"error":{"code":"403","message": "Public access is disabled. Please configure private endpoint."}}'
)
# §3.1: dated api-version on /openai/v1.
_API_VERSION_NOT_SUPPORTED = _compact({"error": {"code": "BadRequest", "message": "API version not supported"}})
_OPERATION_NOT_SUPPORTED = (
    "The {operation} operation does not work with the specified model, {model}. Please choose different model "
    "and try again. You can learn more about which models can be used with each operation here: "
    "https://go.microsoft.com/fwlink/?linkid=2197993."
)
_CONTENT_FILTER_MESSAGE = (
    "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please "
    "modify your prompt and retry. To learn more about our content filtering policies please read our "
    "documentation: https://go.microsoft.com/fwlink/?linkid=2198766"
)
# Not in the reference (UNVERIFIED): the OpenAI-engine 500 text commonly quoted for Azure OpenAI.
_SERVER_ERROR_MESSAGE = (
    "The server had an error while processing your request. Sorry about that! You can retry your request, or "
    "contact us through an Azure support request at: https://go.microsoft.com/fwlink/?linkid=2213926 if you "
    "keep seeing this error. (Please include the request ID {request_id} in your email.)"
)
# Data actions named by PermissionDenied (§3.4(j)); the path in the message is templated, like Azure's.
# The chat text is verbatim; the responses/embeddings ones follow the same pattern (UNVERIFIED).
_DATA_ACTIONS = {
    "chatCompletion": (
        "Microsoft.CognitiveServices/accounts/OpenAI/deployments/chat/completions/action",
        "POST /openai/deployments/{deployment-id}/chat/completions",
    ),
    "responses": ("Microsoft.CognitiveServices/accounts/OpenAI/responses/write", "POST /openai/responses"),
    "embeddings": (
        "Microsoft.CognitiveServices/accounts/OpenAI/deployments/embeddings/action",
        "POST /openai/deployments/{deployment-id}/embeddings",
    ),
}
_OPERATION_IDS = {
    "chatCompletion": "ChatCompletions_Create",
    "responses": "Responses_Create",
    "embeddings": "Embeddings_Create",
}
_REGION_NAMES = {
    "australiaeast": "Australia East",
    "brazilsouth": "Brazil South",
    "canadacentral": "Canada Central",
    "canadaeast": "Canada East",
    "centralus": "Central US",
    "eastus": "East US",
    "eastus2": "East US 2",
    "francecentral": "France Central",
    "germanywestcentral": "Germany West Central",
    "italynorth": "Italy North",
    "japaneast": "Japan East",
    "koreacentral": "Korea Central",
    "northcentralus": "North Central US",
    "northeurope": "North Europe",
    "norwayeast": "Norway East",
    "polandcentral": "Poland Central",
    "southafricanorth": "South Africa North",
    "southcentralus": "South Central US",
    "southeastasia": "Southeast Asia",
    "southindia": "South India",
    "spaincentral": "Spain Central",
    "swedencentral": "Sweden Central",
    "switzerlandnorth": "Switzerland North",
    "uaenorth": "UAE North",
    "uksouth": "UK South",
    "westeurope": "West Europe",
    "westus": "West US",
    "westus2": "West US 2",
    "westus3": "West US 3",
}
_SAFE = {"filtered": False, "severity": "safe"}
_NOT_DETECTED = {"filtered": False, "detected": False}


def _region_name(location: str) -> str:
    return _REGION_NAMES.get(location, location)


def _openai_error(
    message: str, param: str | None, code: str | None, error_type: str | None = "invalid_request_error"
) -> bytes:
    return _pretty({"error": {"message": message, "type": error_type, "param": param, "code": code}})


def _arm_error(code: str, message: str) -> bytes:
    return _compact({"error": {"code": code, "message": message}})


# ---------------------------------------------------------------------------------------------------------
# Tokens
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    resource: str
    expires_on: float


def _norm_resource(resource: str) -> str:
    resource = resource.strip()
    if resource.endswith("/.default"):
        resource = resource[: -len("/.default")]
    return resource.rstrip("/").lower()


class _TokenStore:
    """Opaque bearer tokens issued by the simulated identity endpoint, with their audience and expiry."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens: dict[str, _Token] = {}

    def issue(self, resource: str, lifetime: float = _TOKEN_LIFETIME_SECONDS) -> tuple[str, int]:
        # 64 hex characters: opaque and never JWT-looking ("eyJ..."), so nothing can be decoded from it.
        token = secrets.token_hex(32)
        expires_on = int(time.time() + lifetime)
        with self._lock:
            self._tokens[token] = _Token(_norm_resource(resource), expires_on)
        return token, expires_on

    def get(self, token: str) -> _Token | None:
        with self._lock:
            return self._tokens.get(token)

    def expire_all(self) -> None:
        with self._lock:
            self._tokens = {t: _Token(v.resource, time.time() - 60) for t, v in self._tokens.items()}

    def values(self) -> list[str]:
        with self._lock:
            return list(self._tokens)


# ---------------------------------------------------------------------------------------------------------
# The backend: pure request -> reply logic, shared by both listening servers
# ---------------------------------------------------------------------------------------------------------

_SUB = r"/subscriptions/(?P<sub>[^/]+)"
_RG = _SUB + r"/resourcegroups/(?P<rg>[^/]+)"
_CS = r"/providers/microsoft\.cognitiveservices"
_ACCT = _RG + _CS + r"/accounts/(?P<acct>[^/]+)"
_ARM_ROUTES: list[tuple[str, re.Pattern[str]]] = [
    (name, re.compile(pattern + r"/?$", re.IGNORECASE))
    for name, pattern in [
        ("subscriptions", r"^/subscriptions"),
        ("subscription", r"^" + _SUB),
        ("resource_groups", r"^" + _SUB + r"/resourcegroups"),
        ("resource_group", r"^" + _RG),
        ("accounts", r"^" + _SUB + _CS + r"/accounts"),
        ("accounts_rg", r"^" + _RG + _CS + r"/accounts"),
        ("account", r"^" + _ACCT),
        ("deployments", r"^" + _ACCT + r"/deployments"),
        ("deployment", r"^" + _ACCT + r"/deployments/(?P<dep>[^/]+)"),
        ("account_models", r"^" + _ACCT + r"/models"),
        ("rai_policies", r"^" + _ACCT + r"/raiPolicies"),
        ("rai_policy", r"^" + _ACCT + r"/raiPolicies/(?P<policy>[^/]+)"),
        ("models", r"^" + _SUB + _CS + r"/locations/(?P<loc>[^/]+)/models"),
        ("usages", r"^" + _SUB + _CS + r"/locations/(?P<loc>[^/]+)/usages"),
    ]
]


def _default_filters() -> list[dict[str, Any]]:
    return [
        {"name": name, "blocking": True, "enabled": True, "severityThreshold": "Medium", "source": source}
        for source in ("Prompt", "Completion")
        for name in ("Hate", "Sexual", "Violence", "Selfharm")
    ] + [{"name": "Jailbreak", "blocking": True, "enabled": True, "source": "Prompt"}]


# The built-in policies every account can name. Whether Azure lists them under an account's raiPolicies is
# UNVERIFIED in the reference; the simulator lists them so that deployments naming them resolve.
_SYSTEM_RAI_POLICIES: tuple[Mapping[str, Any], ...] = (
    {"name": "Microsoft.Default", "type": "SystemManaged", "mode": "Blocking", "contentFilters": _default_filters()},
    {"name": "Microsoft.DefaultV2", "type": "SystemManaged", "mode": "Blocking", "contentFilters": _default_filters()},
)

_GRAPH_PATH = re.compile(r"^/providers/microsoft\.resourcegraph/resources/?$", re.IGNORECASE)
_DATA_PATH = re.compile(r"^/aoai/(?P<acct>[^/]+)/(?P<rest>.*)$")
_V1_ROUTES = {
    "openai/v1/chat/completions": "chatCompletion",
    "openai/v1/responses": "responses",
    "openai/v1/embeddings": "embeddings",
}
_LEGACY_DEPLOYMENT_ROUTE = re.compile(r"^openai/deployments/(?P<dep>[^/]+)/(?P<op>chat/completions|embeddings)$")
_FILTER_NAME = re.compile(r"name\.value\s+eq\s+'([^']*)'", re.IGNORECASE)


class _Backend:
    """Turns (method, path, query, headers, body) into a reply, records it, injects faults and latency."""

    def __init__(
        self,
        spec: TenantSpec,
        *,
        arm_latency: float,
        data_latency: float,
        faults: Iterable[FaultRule],
        page_size: int,
        deployments_page_size: int,
    ) -> None:
        self.spec = spec
        self.arm_latency = arm_latency
        self.data_latency = data_latency
        self.page_size = max(1, page_size)
        self.deployments_page_size = max(1, deployments_page_size)
        self.management_url = ""
        self.identity_header = secrets.token_hex(16)
        self.tokens = _TokenStore()
        self.keys: dict[str, tuple[str, str]] = {
            a.name.lower(): (secrets.token_hex(16), secrets.token_hex(16)) for a in spec.accounts
        }
        self._key_owner = {k: name for name, pair in self.keys.items() for k in pair}
        self._lock = threading.Lock()
        self._records: list[ServedRequest] = []
        self._in_flight: dict[str, int] = {}
        self._in_flight_total = 0
        self.peak_in_flight: dict[str, int] = {}
        """The most requests served at once, per plane and over "all": how a test sees a client's concurrency."""
        self._faults: list[list[Any]] = [[rule, rule.times] for rule in faults]
        self._calls: dict[tuple[str, str], int] = {}
        self._window: dict[tuple[str, str], deque[tuple[float, int]]] = {}
        self._reads: dict[str, int] = {}

    # -- bookkeeping ------------------------------------------------------------------------------------

    @property
    def records(self) -> tuple[ServedRequest, ...]:
        with self._lock:
            return tuple(self._records)

    def clear_records(self) -> None:
        with self._lock:
            self._records.clear()
            self.peak_in_flight.clear()

    def add_fault(self, rule: FaultRule) -> None:
        with self._lock:
            self._faults.append([rule, rule.times])

    def reset_counters(self) -> None:
        with self._lock:
            self._calls.clear()
            self._window.clear()

    def _take_fault(self, method: str, path: str, plane: str) -> FaultRule | None:
        with self._lock:
            for entry in self._faults:
                rule: FaultRule = entry[0]
                remaining: int | None = entry[1]
                if remaining is not None and remaining <= 0:
                    continue
                if rule.plane and rule.plane != plane:
                    continue
                if rule.method and rule.method.upper() != method:
                    continue
                if not re.search(rule.path_pattern, path):
                    continue
                if remaining is not None:
                    entry[1] = remaining - 1
                return rule
        return None

    def dispatch(
        self, listener: str, method: str, path: str, query: dict[str, str], headers: Mapping[str, str], body: bytes
    ) -> _Reply:
        """Entry point of both servers; `listener` is "https" (ARM, graph, data) or "token"."""
        if listener == "token":
            plane = "token"
        elif _GRAPH_PATH.match(path):
            plane = "graph"
        elif path.startswith("/aoai/"):
            plane = "data"
        else:
            plane = "arm"
        with self._lock:
            self._in_flight[plane] = self._in_flight.get(plane, 0) + 1
            self._in_flight_total += 1
            self.peak_in_flight[plane] = max(self.peak_in_flight.get(plane, 0), self._in_flight[plane])
            self.peak_in_flight["all"] = max(self.peak_in_flight.get("all", 0), self._in_flight_total)
        try:
            return self._dispatch_counted(plane, method, path, query, headers, body)
        finally:
            with self._lock:
                self._in_flight[plane] -= 1
                self._in_flight_total -= 1

    def _dispatch_counted(
        self, plane: str, method: str, path: str, query: dict[str, str], headers: Mapping[str, str], body: bytes
    ) -> _Reply:
        latency = self.data_latency if plane == "data" else self.arm_latency if plane in ("arm", "graph") else 0.0
        if latency > 0:
            time.sleep(latency)
        try:
            rule = self._take_fault(method, path, plane)
            if rule is not None:
                reply = self._fault_reply(rule, plane, path)
            elif plane == "token":
                reply = self._token(method, path, query, headers)
            elif plane == "graph":
                reply = self._graph(method, path, query, headers, body)
            elif plane == "data":
                reply = self._data(method, path, query, headers, body)
            else:
                reply = self._arm(method, path, query, headers)
        except Exception:  # a simulator bug must surface as a 500, not a hung client
            _LOG.exception("simulator failed on %s %s", method, path)
            reply = _Reply(
                500,
                _arm_error("InternalServerError", "The simulator failed on this request."),
                {"Content-Type": "application/json; charset=utf-8"},
            )
        with self._lock:
            self._records.append(ServedRequest(method, path, dict(query), reply.status, plane, time.time()))
        return reply

    def _fault_reply(self, rule: FaultRule, plane: str, path: str) -> _Reply:
        if isinstance(rule.body, str):
            body = rule.body.encode("utf-8")
        elif rule.body is None:
            body = b""
        else:
            body = _compact(rule.body)
        headers = self._arm_headers(path) if plane in ("arm", "graph") else self._data_headers(None, None)
        headers.update(rule.headers)
        return _Reply(rule.status, body, headers)

    # -- ARM ------------------------------------------------------------------------------------------

    def _arm_headers(self, path: str) -> dict[str, str]:
        request_id = str(uuid.uuid4())
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Cache-Control": "no-cache",
            "Pragma": "no-cache",
            "Expires": "-1",
            "x-ms-request-id": request_id,
            "x-ms-correlation-request-id": request_id,
            "x-ms-routing-request-id": f"EASTUS2:{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}:{request_id}",
            "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
            "X-Content-Type-Options": "nosniff",
        }
        match = re.match(r"^/subscriptions/([^/]+)/.+", path, re.IGNORECASE)
        with self._lock:
            scope = match.group(1).lower() if match else "tenant"
            remaining = max(0, self._reads.get(scope, 12000) - 1)
            self._reads[scope] = remaining
        if match:
            headers["x-ms-ratelimit-remaining-subscription-reads"] = str(remaining)
        else:
            headers["x-ms-ratelimit-remaining-tenant-reads"] = str(remaining)
        return headers

    def _arm_reply(self, status: int, body: bytes, path: str, extra: Mapping[str, str] | None = None) -> _Reply:
        headers = self._arm_headers(path)
        if extra:
            headers.update(extra)
        return _Reply(status, body, headers)

    def _arm_auth(self, headers: Mapping[str, str], path: str) -> _Reply | None:
        """ARM's 401s for a missing, malformed, unknown, expired or wrong-audience bearer token."""
        authorization = headers.get("authorization")

        def unauthorized(code: str, message: str) -> _Reply:
            challenge = (
                f'Bearer authorization_uri="https://login.microsoftonline.com/{self.spec.tenant_id}", '
                f'error="invalid_token", error_description="{message}"'
            )
            return self._arm_reply(401, _arm_error(code, message), path, {"WWW-Authenticate": challenge})

        if not authorization:
            return unauthorized("AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.")
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            return unauthorized(
                "AuthenticationFailed",
                "Authentication failed. The 'Authorization' header is provided in an invalid format.",
            )
        token = self.tokens.get(value.strip())
        if token is None:
            return unauthorized("InvalidAuthenticationToken", "The access token is invalid.")
        now = time.time()
        if token.expires_on <= now:
            fmt = "%m/%d/%Y %I:%M:%S %p"
            expiry = datetime.fromtimestamp(token.expires_on, timezone.utc).strftime(fmt)
            current = datetime.fromtimestamp(now, timezone.utc).strftime(fmt)
            return unauthorized(
                "ExpiredAuthenticationToken",
                f"The access token expiry UTC time '{expiry}' is earlier than current UTC time '{current}'.",
            )
        allowed = {_norm_resource(a) for a in (*_ARM_AUDIENCES, self.management_url)}
        if token.resource not in allowed:
            audiences = ",".join(f"'{a}'" for a in _ARM_AUDIENCES)
            return unauthorized(
                "InvalidAuthenticationTokenAudience",
                f"The access token has been obtained for wrong audience or resource "
                f"'{token.resource}'. It should exactly match with one of the allowed audiences "
                f"{audiences}.",
            )
        return None

    def _arm(self, method: str, path: str, query: dict[str, str], headers: Mapping[str, str]) -> _Reply:
        denied = self._arm_auth(headers, path)
        if denied is not None:
            return denied
        if "api-version" not in query:
            return self._arm_reply(
                400,
                _arm_error(
                    "MissingApiVersionParameter",
                    "The api-version query parameter (?api-version=) is required for all requests.",
                ),
                path,
            )
        if method != "GET":
            return self._arm_write(method, path)
        route, match = self._route(path)
        if route is None or match is None:
            return self._arm_reply(
                404,
                _arm_error(
                    "InvalidResourceType",
                    f"The resource type could not be found for api version "
                    f"'{query.get('api-version')}'. Path: '{path}'.",
                ),
                path,
            )
        groups = match.groupdict()
        if route == "subscriptions":
            return self._page(
                path,
                query,
                [self._subscription_json(s) for s in self.spec.subscriptions],
                self.page_size,
                tenant_level=True,
            )
        sub = self.spec.subscription(groups["sub"])
        if sub is None:
            return self._arm_reply(
                404, _arm_error("SubscriptionNotFound", f"The subscription '{groups['sub']}' could not be found."), path
            )
        if route == "subscription":
            return self._arm_reply(200, _compact(self._subscription_json(sub)), path)
        if route == "resource_groups":
            return self._page(path, query, [self._rg_json(sub, rg) for rg in sub.resource_groups], self.page_size)
        if route == "accounts":
            return self._page(path, query, [self._account_json(a) for a in sub.accounts], self.page_size)
        if route == "models":
            return self._page(path, query, self._models_json(groups["loc"]), self.page_size)
        if route == "usages":
            return self._page(path, query, self._usages_json(sub, groups["loc"], query.get("$filter")), self.page_size)
        rg = sub.resource_group(groups["rg"])
        if rg is None:
            # ResourceGroupNotFound text is standard ARM (UNVERIFIED in the reference, §1.9).
            return self._arm_reply(
                404, _arm_error("ResourceGroupNotFound", f"Resource group '{groups['rg']}' could not be found."), path
            )
        if route == "resource_group":
            return self._arm_reply(200, _compact(self._rg_json(sub, rg)), path)
        if route == "accounts_rg":
            return self._page(path, query, [self._account_json(a) for a in rg.accounts], self.page_size)
        account = next((a for a in rg.accounts if a.name.lower() == groups["acct"].lower()), None)
        if account is None:
            return self._arm_reply(
                404,
                _arm_error(
                    "ResourceNotFound",
                    (
                        f"The Resource 'Microsoft.CognitiveServices/accounts/{groups['acct']}' under resource group "
                        f"'{groups['rg']}' was not found. For more details please go to "
                        "https://aka.ms/ARMResourceNotFoundFix"
                    ),
                ),
                path,
            )
        if route == "account":
            return self._arm_reply(200, _compact(self._account_json(account)), path)
        if route == "deployments":
            return self._page(
                path,
                query,
                [self._deployment_json(account, d) for d in account.deployments],
                self.deployments_page_size,
            )
        if route == "account_models":
            return self._page(
                path,
                query,
                [m["model"] for m in self._models_json(account.location) if m["kind"].lower() == account.kind.lower()],
                self.page_size,
            )
        if route in ("rai_policies", "rai_policy"):
            policies = [self._rai_policy_json(account, p) for p in _SYSTEM_RAI_POLICIES + account.rai_policies]
            if route == "rai_policies":
                return self._page(path, query, policies, self.page_size)
            found = next((p for p in policies if p["name"].lower() == groups["policy"].lower()), None)
            if found is None:
                return self._arm_reply(
                    404, _arm_error("NotFound", f"Specified resource '{path.rstrip('/')}' cannot be found."), path
                )
            return self._arm_reply(200, _compact(found), path)
        deployment = account.deployment(groups["dep"])
        if deployment is None:
            return self._arm_reply(
                404, _arm_error("NotFound", f"Specified resource '{path.rstrip('/')}' cannot be found."), path
            )
        return self._arm_reply(200, _compact(self._deployment_json(account, deployment)), path)

    @staticmethod
    def _rai_policy_json(account: AccountSpec, policy: Mapping[str, Any]) -> dict[str, Any]:
        """A content filter (RAI) policy as Accounts' raiPolicies list/get return it."""
        name = str(policy["name"])
        return {
            "id": f"{account.id}/raiPolicies/{name}",
            "name": name,
            "type": "Microsoft.CognitiveServices/accounts/raiPolicies",
            "etag": f'"{_stable_uuid(account.id, name)}"',
            "properties": {k: v for k, v in policy.items() if k != "name"},
        }

    @staticmethod
    def _route(path: str) -> tuple[str | None, re.Match[str] | None]:
        for name, pattern in _ARM_ROUTES:
            match = pattern.match(path)
            if match:
                return name, match
        return None, None

    def _arm_write(self, method: str, path: str) -> _Reply:
        """The caller is a Reader: every write and listKeys is refused with ARM's AuthorizationFailed (§1.9)."""
        trimmed = path.rstrip("/")
        namespace, _, rest = trimmed.partition("/providers/")
        if rest:
            parts = rest.split("/")
            ns, segments = parts[0], parts[1:]
            types = segments[0::2]
            scope = trimmed
            if len(segments) % 2 == 1:  # .../accounts/{name}/listKeys -> an action on the account
                action = f"{ns}/{'/'.join(types)}/action"
                scope = trimmed.rsplit("/", 1)[0]
            else:
                verb = "delete" if method == "DELETE" else "action" if method == "POST" else "write"
                action = f"{ns}/{'/'.join(types)}/{verb}"
        else:
            verb = "delete" if method == "DELETE" else "write"
            action = f"Microsoft.Resources/subscriptions/resourceGroups/{verb}"
            scope = namespace or trimmed
        message = (
            f"The client '{self.spec.caller.client_id}' with object id '{self.spec.caller.principal_id}' does not "
            f"have authorization to perform action '{action}' over scope '{scope}' or the scope is invalid. If "
            "access was recently granted, please refresh your credentials."
        )
        return self._arm_reply(403, _arm_error("AuthorizationFailed", message), path)

    def _page(
        self, path: str, query: Mapping[str, str], items: list[Any], size: int, tenant_level: bool = False
    ) -> _Reply:
        """`{"value": [...], "nextLink": ...}`; nextLink is an absolute URL carrying an opaque `$skipToken`."""
        offset = _read_token(query.get("$skipToken"))
        if offset < 0:
            return self._arm_reply(400, _arm_error("InvalidSkipToken", "The provided skip token is invalid."), path)
        page: dict[str, Any] = {"value": items[offset : offset + size]}
        if offset + size < len(items):
            params = {k: v for k, v in query.items() if k != "$skipToken"}
            params["$skipToken"] = _opaque_token(offset + size)
            page["nextLink"] = f"{self.management_url}{path}?{urlencode(params)}"
        if tenant_level:
            page["count"] = {"type": "Total", "value": len(items)}
        return self._arm_reply(200, _compact(page), path)

    # -- ARM documents --------------------------------------------------------------------------------

    def _subscription_json(self, sub: SubscriptionSpec) -> dict[str, Any]:
        return {
            "id": f"/subscriptions/{sub.subscription_id}",
            "authorizationSource": "RoleBased",
            "managedByTenants": [],
            "subscriptionId": sub.subscription_id,
            "tenantId": self.spec.tenant_id,
            "displayName": sub.display_name,
            "state": sub.state,
            "subscriptionPolicies": {
                "locationPlacementId": "Public_2014-09-01",
                "quotaId": "PayAsYouGo_2014-09-01",
                "spendingLimit": "Off",
            },
        }

    @staticmethod
    def _rg_json(sub: SubscriptionSpec, rg: ResourceGroupSpec) -> dict[str, Any]:
        return {
            "id": f"/subscriptions/{sub.subscription_id}/resourceGroups/{rg.name}",
            "name": rg.name,
            "type": "Microsoft.Resources/resourceGroups",
            "location": rg.location,
            "properties": {"provisioningState": "Succeeded"},
        }

    def data_endpoint(self, account: AccountSpec) -> str:
        return f"{self.management_url}/aoai/{account.name}/"

    def _account_json(self, account: AccountSpec) -> dict[str, Any]:
        endpoint = self.data_endpoint(account)
        kind = account.kind.lower()
        if kind == "openai":
            endpoint_keys = [
                "OpenAI Language Model Instance API",
                "OpenAI Dall-E API",
                "OpenAI Whisper API",
                "OpenAI Model Scaleset API",
                "OpenAI Realtime API",
                "Token Service API",
            ]
        elif kind == "aiservices":
            endpoint_keys = [
                "OpenAI Language Model Instance API",
                "OpenAI Dall-E API",
                "OpenAI Whisper API",
                "OpenAI Realtime API",
                "AI Foundry API",
                "Azure AI Model Inference API",
                "FormRecognizer",
                "Token Service API",
            ]
        else:
            endpoint_keys = [account.kind, "Token Service API"]
        props: dict[str, Any] = copy.deepcopy(dict(account.properties))
        props.setdefault("provisioningState", "Succeeded")
        props.setdefault("publicNetworkAccess", "Enabled")
        props["endpoint"] = endpoint
        props["endpoints"] = dict.fromkeys(endpoint_keys, endpoint)
        props["internalId"] = _stable_uuid(account.id, "internal").replace("-", "")
        props["dateCreated"] = "2025-03-14T09:26:53.4185126Z"
        props["isMigrated"] = False
        props["capabilities"] = [
            {"name": "VirtualNetworks"},
            {"name": "CustomerManagedKey"},
            {
                "name": "TrustedServices",
                "value": "Microsoft.CognitiveServices,Microsoft.MachineLearningServices,Microsoft.Search",
            },
        ]
        if account.is_openai_capable:
            props["callRateLimit"] = {
                "rules": [
                    {
                        "key": "openai",
                        "renewalPeriod": 1,
                        "count": 30,
                        "matchPatterns": [{"path": "openai/*", "method": "*"}],
                    },
                    {
                        "key": "default",
                        "renewalPeriod": 1,
                        "count": 30,
                        "matchPatterns": [{"path": "*", "method": "*"}],
                    },
                ]
            }
        connections = []
        for conn in props.get("privateEndpointConnections") or []:
            conn = dict(conn)
            conn.setdefault("id", f"{account.id}/privateEndpointConnections/{conn.get('name', 'pe')}")
            conn.setdefault("type", "Microsoft.CognitiveServices/accounts/privateEndpointConnections")
            conn.setdefault("location", account.location)
            connections.append(conn)
        props["privateEndpointConnections"] = connections
        doc: dict[str, Any] = {
            "id": account.id,
            "name": account.name,
            "type": "Microsoft.CognitiveServices/accounts",
            "etag": f'"{_stable_uuid(account.id, "etag")}"',
            "location": account.location,
            "kind": account.kind,
            "sku": dict(account.sku),
            "tags": dict(account.tags or {}),
            "systemData": {
                "createdBy": "admin@contoso.com",
                "createdByType": "User",
                "createdAt": "2025-03-14T09:26:52.8832179Z",
                "lastModifiedBy": "admin@contoso.com",
                "lastModifiedByType": "User",
                "lastModifiedAt": "2025-06-02T14:05:11.0917243Z",
            },
            "properties": props,
        }
        if account.identity:
            identity = dict(account.identity)
            if "SystemAssigned" in str(identity.get("type", "")):
                identity.setdefault("principalId", _stable_uuid(account.id, "principal"))
                identity.setdefault("tenantId", self.spec.tenant_id)
            doc["identity"] = identity
        return doc

    def _catalog_match(
        self, account: AccountSpec, deployment: DeploymentSpec
    ) -> tuple[CatalogEntry | None, Mapping[str, Any] | None]:
        """The catalog entry and SKU of a deployment: its own location first, else any location (usage names
        are global patterns, so a deployment whose version left the local catalog still maps to its line)."""
        key = (deployment.model_format.lower(), deployment.model_name.lower(), deployment.model_version.lower())
        fallback: tuple[CatalogEntry | None, Mapping[str, Any] | None] = (None, None)
        for entry in self.spec.catalog:
            if entry.key != key:
                continue
            sku = next((s for s in entry.skus if str(s.get("name", "")).lower() == deployment.sku_name.lower()), None)
            local = entry.skus_in(account.location)
            if local is not None and any(s is sku for s in local):
                return entry, sku
            if fallback[0] is None:
                fallback = (entry, sku)
        return fallback

    def _deployment_json(self, account: AccountSpec, deployment: DeploymentSpec) -> dict[str, Any]:
        entry, sku = self._catalog_match(account, deployment)
        capabilities = (
            {k: v for k, v in (entry.model.get("capabilities") or {}).items() if not k.startswith("FineTune")}
            if entry
            else {}
        )
        rate_limits = [
            {
                "key": r.get("key"),
                "renewalPeriod": float(r.get("renewalPeriod", 60)),
                "count": float(r.get("count", 0)) * deployment.capacity,
            }
            for r in ((sku or {}).get("rateLimits") or [])
        ]
        props: dict[str, Any] = {
            "model": dict(deployment.model),
            "provisioningState": deployment.provisioning_state,
            "capabilities": capabilities,
            "rateLimits": rate_limits,
            "currentCapacity": deployment.capacity,
        }
        props.update({k: copy.deepcopy(v) for k, v in deployment.properties.items() if k != "provisioningState"})
        dep_id = f"{account.id}/deployments/{deployment.name}"
        doc: dict[str, Any] = {
            "id": dep_id,
            "name": deployment.name,
            "type": "Microsoft.CognitiveServices/accounts/deployments",
            "etag": f'"{_stable_uuid(dep_id, "etag")}"',
            "sku": dict(deployment.sku),
            "systemData": {
                "createdBy": "admin@contoso.com",
                "createdByType": "User",
                "createdAt": "2025-06-02T14:11:40.3373015Z",
                "lastModifiedBy": "admin@contoso.com",
                "lastModifiedByType": "User",
                "lastModifiedAt": "2025-06-02T14:11:40.3373015Z",
            },
            "properties": props,
        }
        if deployment.tags:
            doc["tags"] = dict(deployment.tags)
        return doc

    def _models_json(self, location: str) -> list[dict[str, Any]]:
        """Models_List: every entry offered here, once per kind (OpenAI + AIServices, or AIServices + MaaS)."""
        out: list[dict[str, Any]] = []
        for entry in self.spec.catalog:
            skus = entry.skus_in(location)
            if skus is None:
                continue
            model = copy.deepcopy(dict(entry.model))
            inference = (model.get("deprecation") or {}).get("inference")
            model["skus"] = [self._sku_json(s, inference) for s in skus]
            version = str(model.get("version", ""))
            created = f"{version}T00:00:00Z" if re.fullmatch(r"\d{4}-\d{2}-\d{2}", version) else "2024-01-01T00:00:00Z"
            model["systemData"] = {
                "createdBy": "Microsoft",
                "createdByType": "Application",
                "createdAt": created,
                "lastModifiedBy": "Microsoft",
                "lastModifiedByType": "Application",
                "lastModifiedAt": created,
            }
            for kind in entry.kinds:
                out.append({"kind": kind, "skuName": "S0", "model": copy.deepcopy(model)})
        return out

    @staticmethod
    def _sku_json(sku: Mapping[str, Any], inference: str | None) -> dict[str, Any]:
        doc = {k: copy.deepcopy(v) for k, v in sku.items()}
        deprecation = doc.get("deprecationDate") or inference
        if deprecation:
            doc["deprecationDate"] = str(deprecation).replace("Z", "+00:00")
        if doc.get("rateLimits"):
            doc["rateLimits"] = [
                {
                    "key": r.get("key"),
                    "renewalPeriod": float(r.get("renewalPeriod", 60)),
                    "count": float(r.get("count", 0)),
                }
                for r in doc["rateLimits"]
            ]
        return doc

    def _usage_current(self, sub: SubscriptionSpec, location: str) -> dict[str, float]:
        """currentValue per usage name: deployment capacities summed on their catalog SKU's usageName,
        account counts on the *AccountCount lines - as Azure computes them."""
        loc = _norm_location(location)
        totals: dict[str, float] = {}
        accounts = [a for a in sub.accounts if a.location == loc]
        totals["AccountCount"] = float(len(accounts))
        totals["OpenAI.S0.AccountCount"] = float(sum(1 for a in accounts if a.kind.lower() == "openai"))
        totals["AIServices.S0.AccountCount"] = float(sum(1 for a in accounts if a.kind.lower() == "aiservices"))
        for account in accounts:
            for deployment in account.deployments:
                _, sku = self._catalog_match(account, deployment)
                usage_name = (sku or {}).get("usageName")
                if usage_name:
                    totals[usage_name] = totals.get(usage_name, 0.0) + deployment.capacity
        return totals

    def _usages_json(self, sub: SubscriptionSpec, location: str, odata_filter: str | None) -> list[dict[str, Any]]:
        current = self._usage_current(sub, location)
        wanted = None
        if odata_filter:
            wanted = {n.lower() for n in _FILTER_NAME.findall(unquote(odata_filter))}
        out = []
        for name, localized in self.spec.quota_lines.items():
            limit = self.spec.quota_limit(location, name)
            if limit is None or (wanted is not None and name.lower() not in wanted):
                continue
            out.append(
                {
                    "name": {"value": name, "localizedValue": localized},
                    "currentValue": current.get(name, 0.0),
                    "limit": limit,
                    "unit": "Count",
                }
            )
        return out

    # -- Resource Graph -------------------------------------------------------------------------------

    def _graph(self, method: str, path: str, query: dict[str, str], headers: Mapping[str, str], body: bytes) -> _Reply:
        denied = self._arm_auth(headers, path)
        if denied is not None:
            return denied
        if method != "POST":
            return self._arm_reply(
                405,
                _arm_error("MethodNotAllowed", f"The requested resource does not support http method '{method}'."),
                path,
            )
        if "api-version" not in query:
            return self._arm_reply(
                400,
                _arm_error(
                    "MissingApiVersionParameter",
                    "The api-version query parameter (?api-version=) is required for all requests.",
                ),
                path,
            )
        try:
            request = json.loads(body or b"{}")
        except ValueError:
            return self._arm_reply(400, _arm_error("InvalidRequestContent", "The request content was invalid."), path)
        text = str(request.get("query") or "")
        if not text.strip():
            return self._arm_reply(400, _arm_error("BadRequest", "Please provide a query."), path)
        options = request.get("options") or {}
        subscriptions = [s.lower() for s in (request.get("subscriptions") or [])]
        # Not KQL: recognise the one question the auditor asks (the Cognitive Services accounts) and filter
        # by the requested subscriptions. Any other query gets an empty result.
        rows: list[dict[str, Any]] = []
        if re.search(r"microsoft\.cognitiveservices/accounts", text, re.IGNORECASE):
            for account in self.spec.accounts:
                if subscriptions and account.subscription_id.lower() not in subscriptions:
                    continue
                rows.append(self._graph_row(account))
        offset = _read_token(options.get("$skipToken"))
        if offset < 0:
            return self._arm_reply(400, _arm_error("InvalidSkipToken", "The provided skip token is invalid."), path)
        offset += int(options.get("$skip") or 0)
        size = int(options.get("$top") or self.page_size)
        page = rows[offset : offset + size]
        result: dict[str, Any] = {"totalRecords": len(rows), "count": len(page)}
        if str(options.get("resultFormat", "objectArray")).lower() == "table":
            columns = [
                "id",
                "name",
                "type",
                "tenantId",
                "kind",
                "location",
                "resourceGroup",
                "subscriptionId",
                "managedBy",
                "sku",
                "plan",
                "properties",
                "tags",
                "identity",
                "zones",
                "extendedLocation",
            ]
            object_columns = {"sku", "plan", "properties", "tags", "identity", "zones", "extendedLocation"}
            result["data"] = {
                "columns": [{"name": c, "type": "object" if c in object_columns else "string"} for c in columns],
                "rows": [[row.get(c) for c in columns] for row in page],
            }
        else:
            result["data"] = page
        result["facets"] = []
        result["resultTruncated"] = "false"
        if offset + size < len(rows):
            result["$skipToken"] = _opaque_token(offset + size)
        return self._arm_reply(
            200, _compact(result), path, {"x-ms-user-quota-remaining": "14", "x-ms-user-quota-resets-after": "00:00:05"}
        )

    def _graph_row(self, account: AccountSpec) -> dict[str, Any]:
        doc = self._account_json(account)
        return {
            "id": doc["id"],
            "name": doc["name"],
            "type": "microsoft.cognitiveservices/accounts",  # Resource Graph lower-cases the type
            "tenantId": self.spec.tenant_id,
            "kind": doc["kind"],
            "location": doc["location"],
            "resourceGroup": account.resource_group.lower(),
            "subscriptionId": account.subscription_id,
            "managedBy": "",
            "sku": doc["sku"],
            "plan": None,
            "properties": doc["properties"],
            "tags": doc["tags"],
            "identity": doc.get("identity"),
            "zones": None,
            "extendedLocation": None,
        }

    # -- managed identity token endpoint (App Service protocol) -------------------------------------

    def _token(self, method: str, path: str, query: dict[str, str], headers: Mapping[str, str]) -> _Reply:
        json_headers = {"Content-Type": "application/json; charset=utf-8"}

        def refuse(status: int, message: str) -> _Reply:
            # App Service answers errors as {"statusCode", "message"}; msal turns that into "invalid_scope".
            return _Reply(status, _compact({"statusCode": status, "message": message}), json_headers)

        if method != "GET" or path.rstrip("/").lower() != "/msi/token":
            return refuse(404, "Not found")
        if headers.get("x-identity-header") != self.identity_header:
            return refuse(401, "The X-IDENTITY-HEADER header is missing or invalid.")
        if query.get("api-version") != "2019-08-01":
            return refuse(400, "Unsupported api-version. Expected 2019-08-01.")
        resource = query.get("resource")
        if not resource:
            return refuse(400, "The 'resource' query parameter is required.")
        caller = self.spec.caller
        for param, expected in (("client_id", caller.client_id), ("object_id", caller.principal_id)):
            if query.get(param) and query[param].lower() != expected.lower():
                return refuse(400, "No managed identity found for the specified ClientId/ResourceId/PrincipalId.")
        if query.get("mi_res_id"):
            return refuse(400, "No managed identity found for the specified ClientId/ResourceId/PrincipalId.")
        token, expires_on = self.tokens.issue(resource)
        body = {
            "access_token": token,
            "expires_on": str(expires_on),
            "resource": resource,
            "token_type": "Bearer",
            "client_id": caller.client_id,
        }
        return _Reply(200, _compact(body), json_headers)

    # -- Azure OpenAI data plane ----------------------------------------------------------------------

    def _data_headers(self, account: AccountSpec | None, request_id: str | None = None) -> dict[str, str]:
        request_id = request_id or str(uuid.uuid4())
        headers = {
            "Content-Type": "application/json",
            "apim-request-id": request_id,
            "x-request-id": request_id,
            "x-ms-client-request-id": request_id,
            "Strict-Transport-Security": "max-age=31536000; includeSubDomains; preload",
            "X-Content-Type-Options": "nosniff",
        }
        if account is not None:
            headers["x-ms-region"] = _region_name(account.location)
        return headers

    def _rate_headers(self, account: AccountSpec, deployment: DeploymentSpec, tokens_used: int) -> dict[str, str]:
        _, sku = self._catalog_match(account, deployment)
        requests_per_minute = 0
        tokens_per_minute = 0
        for rule in (sku or {}).get("rateLimits") or []:
            per_minute = float(rule.get("count", 0)) * deployment.capacity * 60.0 / float(rule.get("renewalPeriod", 60))
            if rule.get("key") == "request":
                requests_per_minute = int(per_minute)
            elif rule.get("key") == "token":
                tokens_per_minute = int(per_minute)
        key = (account.name.lower(), deployment.name.lower())
        now = time.time()
        with self._lock:
            window = self._window.setdefault(key, deque())
            while window and window[0][0] < now - 60:
                window.popleft()
            if tokens_used:
                window.append((now, tokens_used))
            used_requests = len(window)
            used_tokens = sum(t for _, t in window)
        return {
            "x-ratelimit-limit-requests": str(requests_per_minute),
            "x-ratelimit-limit-tokens": str(tokens_per_minute),
            "x-ratelimit-remaining-requests": str(max(0, requests_per_minute - used_requests)),
            "x-ratelimit-remaining-tokens": str(max(0, tokens_per_minute - used_tokens)),
        }

    def _data(self, method: str, path: str, query: dict[str, str], headers: Mapping[str, str], body: bytes) -> _Reply:
        match = _DATA_PATH.match(path)
        account = self.spec.find_account(match.group("acct")) if match else None
        if account is None or match is None or not account.is_openai_capable:
            return _Reply(404, _RESOURCE_NOT_FOUND, self._data_headers(None))
        base_headers = self._data_headers(account)

        def reply(
            status: int, payload: bytes, reason: str | None = None, extra: Mapping[str, str] | None = None
        ) -> _Reply:
            out = dict(base_headers)
            if extra:
                out.update(extra)
            return _Reply(status, payload, out, reason)

        rest = match.group("rest").rstrip("/")
        api_version = query.get("api-version")
        path_deployment: str | None = None
        legacy = False
        operation = _V1_ROUTES.get(rest)
        if operation is None:
            legacy_match = _LEGACY_DEPLOYMENT_ROUTE.match(rest)
            if legacy_match:
                path_deployment = unquote(legacy_match.group("dep"))
                operation = "chatCompletion" if legacy_match.group("op") == "chat/completions" else "embeddings"
                legacy = True
            elif rest == "openai/responses":
                operation, legacy = "responses", True
        if operation is None or method != "POST" or (legacy and not api_version):
            return reply(404, _RESOURCE_NOT_FOUND)

        if account.properties.get("publicNetworkAccess") == "Disabled" and self.spec.caller.network == "public":
            return reply(403, _PUBLIC_ACCESS_DISABLED)
        denied = self._data_auth(account, headers, operation)
        if denied is not None:
            status, payload, reason = denied
            return reply(status, payload, reason)
        if not legacy and api_version not in (None, "v1", "preview", "latest"):
            return reply(400, _API_VERSION_NOT_SUPPORTED)

        try:
            request = json.loads(body or b"{}")
            if not isinstance(request, dict):
                raise ValueError
        except ValueError:
            return reply(
                400,
                _openai_error(
                    "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your "
                    "HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid "
                    "JSON.)",
                    None,
                    None,
                ),
            )
        deployment_name = path_deployment or request.get("model")
        if not deployment_name:
            return reply(
                400, _openai_error("Missing required parameter: 'model'.", "model", "missing_required_parameter")
            )
        deployment = account.deployment(str(deployment_name))
        if deployment is None or deployment.provisioning_state != "Succeeded":
            return reply(404, _DEPLOYMENT_NOT_FOUND, "Not Found")

        fault = self._deployment_fault(account, deployment, operation, api_version)
        if fault is not None:
            status, payload, extra = fault
            return reply(status, payload, None, extra)

        behaviour = self.spec.behaviour(deployment.model_name)
        if operation not in (deployment.simulate.apis or behaviour.apis):
            # "chatCompletion" is verbatim (§3.4a); "responses"/"embeddings" follow the template (UNVERIFIED).
            message = _OPERATION_NOT_SUPPORTED.format(operation=operation, model=deployment.model_name)
            return reply(400, _arm_error("OperationNotSupported", message))
        if operation == "chatCompletion":
            problem = self._check_chat(request, behaviour)
        elif operation == "responses":
            problem = self._check_responses(request, behaviour)
        else:
            problem = self._check_embeddings(request)
        if problem is not None:
            return reply(400, problem, "model_error")
        if operation != "embeddings" and (
            deployment.simulate.content_filter_always or self._trips_content_filter(request)
        ):
            return reply(400, self._content_filter_body(), "model_error")

        if operation == "chatCompletion":
            payload, used, stream = self._chat_success(request, deployment, behaviour)
        elif operation == "responses":
            payload, used, stream = self._responses_success(request, deployment, behaviour)
        else:
            payload, used, stream = self._embeddings_success(request, deployment, behaviour)
        extra = self._rate_headers(account, deployment, used)
        extra["azureml-model-session"] = "d041-20251105091512"
        if stream:
            extra["Content-Type"] = "text/event-stream; charset=utf-8"
            extra["Cache-Control"] = "no-cache"
        return reply(200, payload, None, extra)

    def _data_auth(
        self, account: AccountSpec, headers: Mapping[str, str], operation: str
    ) -> tuple[int, bytes, str | None] | None:
        """Key vs Entra auth, in the order Azure applies it (§3.4 g/h/i/j)."""
        api_key = headers.get("api-key")
        bearer = None
        scheme, _, value = (headers.get("authorization") or "").partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            bearer = value.strip()
        if api_key is None and bearer is not None and bearer in self._key_owner:
            api_key, bearer = bearer, None  # v1 accepts a key sent as "Authorization: Bearer <key>" (§3.2)
        if api_key is not None:
            if account.disable_local_auth:
                return 403, _AUTH_TYPE_DISABLED, "Forbidden"
            if api_key not in self.keys.get(account.name.lower(), ()):
                return 401, _INVALID_KEY, "PermissionDenied"
            return None  # keys bypass RBAC
        token = self.tokens.get(bearer) if bearer else None
        if (
            token is None
            or token.expires_on <= time.time()
            or token.resource != _norm_resource(COGNITIVE_SERVICES_RESOURCE)
        ):
            return 401, _INVALID_TOKEN, "Unauthorized"
        if not account.caller_has_data_role:
            action, operation_text = _DATA_ACTIONS[operation]
            message = (
                f"The principal `{self.spec.caller.principal_id}` lacks the required data action `{action}` "
                f"to perform `{operation_text}` operation."
            )
            return 401, _arm_error("PermissionDenied", message), "PermissionDenied"
        return None

    def _deployment_fault(
        self, account: AccountSpec, deployment: DeploymentSpec, operation: str, api_version: str | None
    ) -> tuple[int, bytes, dict[str, str]] | None:
        """The deployment's scripted first calls: 429 RateLimitReached, then 5xx, then normal service."""
        sim = deployment.simulate
        if not sim.rate_limit_first_calls and not sim.server_error_first_calls:
            return None
        key = (account.name.lower(), deployment.name.lower())
        with self._lock:
            count = self._calls.get(key, 0) + 1
            self._calls[key] = count
        if count <= sim.rate_limit_first_calls:
            seconds = sim.retry_after_seconds
            tier = "AIServices" if account.kind.lower() == "aiservices" else "OpenAI"
            model_id = _model_id(deployment)
            # §3.4(f) newest wording; "{deployment} for {model}" ordering is UNVERIFIED in the reference.
            message = (
                f"Your requests to {deployment.name} for {model_id} in {_region_name(account.location)} have "
                f"exceeded the token rate limit for your current {tier} S0 pricing tier. This request was for "
                f"{_OPERATION_IDS[operation]} under Azure OpenAI API version {api_version or 'v1'}. Please retry "
                f"after {seconds} seconds. To increase your default rate limit, visit: "
                "https://aka.ms/oai/quotaincrease."
            )
            headers = self._rate_headers(account, deployment, 0)
            headers["x-ratelimit-remaining-requests"] = "0"
            headers["x-ratelimit-remaining-tokens"] = "0"
            headers["retry-after"] = str(seconds)
            headers["retry-after-ms"] = str(seconds * 1000)
            return 429, _arm_error("RateLimitReached", message), headers
        if count <= sim.rate_limit_first_calls + sim.server_error_first_calls:
            message = _SERVER_ERROR_MESSAGE.format(request_id=uuid.uuid4())
            return 500, _openai_error(message, None, None, "server_error"), {}
        return None

    # -- data-plane validation ------------------------------------------------------------------------

    @staticmethod
    def _check_sampling(request: Mapping[str, Any], behaviour: ModelBehaviour) -> bytes | None:
        if request.get("stream") is True and not behaviour.streaming:
            return _openai_error(
                "Unsupported value: 'stream' does not support true with this model. Supported values are: false.",
                "stream",
                "unsupported_value",
            )
        temperature = request.get("temperature")
        if temperature is not None:
            if behaviour.temperature == "unsupported":
                return _openai_error(
                    "Unsupported parameter: 'temperature' is not supported with this model.",
                    "temperature",
                    "unsupported_parameter",
                )
            if behaviour.temperature == "defaultOnly" and temperature != 1:
                # The number is echoed as sent: 0.7 -> 0.7, 0 -> 0, 0.0 -> 0.0 (§3.4c).
                return _openai_error(
                    f"Unsupported value: 'temperature' does not support {json.dumps(temperature)} "
                    "with this model. Only the default (1) value is supported.",
                    "temperature",
                    "unsupported_value",
                )
        for name in behaviour.rejected_parameters:
            if request.get(name) is not None:
                return _openai_error(
                    f"Unsupported parameter: '{name}' is not supported with this model.", name, "unsupported_parameter"
                )
        return None

    def _check_chat(self, request: Mapping[str, Any], behaviour: ModelBehaviour) -> bytes | None:
        messages = request.get("messages")
        if not isinstance(messages, list) or not messages:
            return _openai_error("Missing required parameter: 'messages'.", "messages", "missing_required_parameter")
        problem = self._check_sampling(request, behaviour)
        if problem is not None:
            return problem
        if request.get("max_tokens") is not None and behaviour.max_tokens == "unsupported":
            return _openai_error(
                "Unsupported parameter: 'max_tokens' is not supported with this model. Use "
                "'max_completion_tokens' instead.",
                "max_tokens",
                "unsupported_parameter",
            )
        floor = behaviour.min_output_tokens
        max_completion = request.get("max_completion_tokens")
        if floor and isinstance(max_completion, int) and max_completion < floor:
            return _openai_error(
                f"Invalid 'max_completion_tokens': integer below minimum value. Expected a value >= "
                f"{floor}, but got {max_completion} instead.",
                "max_completion_tokens",
                "integer_below_min_value",
            )
        if behaviour.system_role == "unsupported":
            for index, message in enumerate(messages):
                role = message.get("role") if isinstance(message, Mapping) else None
                if role in ("system", "developer"):
                    return _openai_error(
                        f"Unsupported value: 'messages[{index}].role' does not support '{role}' with this model.",
                        f"messages[{index}].role",
                        "unsupported_value",
                    )
        return None

    def _check_responses(self, request: Mapping[str, Any], behaviour: ModelBehaviour) -> bytes | None:
        for name in ("messages", "max_tokens", "max_completion_tokens"):
            if name in request:  # the Responses API takes `input` and `max_output_tokens`
                return _openai_error(f"Unknown parameter: '{name}'.", name, "unknown_parameter")
        if request.get("input") is None and not request.get("previous_response_id"):
            return _openai_error("Missing required parameter: 'input'.", "input", "missing_required_parameter")
        problem = self._check_sampling(request, behaviour)
        if problem is not None:
            return problem
        max_output = request.get("max_output_tokens")
        if isinstance(max_output, int) and max_output < 16:  # §4.3: floor of 16 for every model
            return _openai_error(
                "Invalid 'max_output_tokens': integer below minimum value. Expected a value >= 16, "
                f"but got {max_output} instead.",
                "max_output_tokens",
                "integer_below_min_value",
            )
        return None

    @staticmethod
    def _check_embeddings(request: Mapping[str, Any]) -> bytes | None:
        if request.get("input") in (None, "", []):
            return _openai_error("Missing required parameter: 'input'.", "input", "missing_required_parameter")
        return None

    def _trips_content_filter(self, request: Mapping[str, Any]) -> bool:
        text = " ".join(_texts(request.get("messages"))) + " " + " ".join(_texts(request.get("input")))
        text += " " + str(request.get("instructions") or "")
        lowered = text.lower()
        return any(word.lower() in lowered for word in self.spec.content_filter.trigger_words)

    def _content_filter_body(self) -> bytes:
        """§3.4(k): the hybrid envelope with `innererror.content_filter_result` (singular)."""
        spec = self.spec.content_filter
        results: dict[str, Any] = {name: dict(_SAFE) for name in ("hate", "self_harm", "sexual", "violence")}
        if spec.category == "jailbreak":
            results["jailbreak"] = {"filtered": True, "detected": True}
        else:
            results[spec.category] = {"filtered": True, "severity": spec.severity}
        return _compact(
            {
                "error": {
                    "message": _CONTENT_FILTER_MESSAGE,
                    "type": None,
                    "param": "prompt",
                    "code": "content_filter",
                    "status": 400,
                    "innererror": {"code": "ResponsibleAIPolicyViolation", "content_filter_result": results},
                }
            }
        )

    # -- data-plane success bodies --------------------------------------------------------------------

    def _chat_success(
        self, request: Mapping[str, Any], deployment: DeploymentSpec, behaviour: ModelBehaviour
    ) -> tuple[bytes, int, bool]:
        """§4.1 body (or the §4.2 stream), with tiny usage numbers."""
        prompt_tokens = _estimate_tokens(_texts(request.get("messages")))
        budget = request.get("max_completion_tokens") or request.get("max_tokens")
        reasoning = 16 if behaviour.reasoning else 0
        content = f"Hello from the simulated deployment {deployment.name}."
        completion = 9
        finish = "stop"
        if isinstance(budget, int) and budget < reasoning + completion:
            # Reasoning models spend the budget on reasoning first, as real ones do.
            reasoning = min(reasoning, budget)
            completion = max(0, budget - reasoning)
            content = content[: completion * 4] if completion else ""
            finish = "length"
        model_id = _model_id(deployment)
        created = int(time.time())
        completion_id = "chatcmpl-" + _random_alnum(29)
        fingerprint = "fp_" + secrets.token_hex(5)
        usage: dict[str, Any] = {
            "completion_tokens": completion + reasoning,
            "prompt_tokens": prompt_tokens,
            "total_tokens": prompt_tokens + completion + reasoning,
            "completion_tokens_details": {
                "accepted_prediction_tokens": 0,
                "audio_tokens": 0,
                "reasoning_tokens": reasoning,
                "rejected_prediction_tokens": 0,
            },
            "prompt_tokens_details": {"audio_tokens": 0, "cached_tokens": 0},
        }
        choice_filter = {
            "hate": _SAFE,
            "protected_material_code": _NOT_DETECTED,
            "protected_material_text": _NOT_DETECTED,
            "self_harm": _SAFE,
            "sexual": _SAFE,
            "violence": _SAFE,
        }
        prompt_filter = [
            {
                "prompt_index": 0,
                "content_filter_results": {
                    "hate": _SAFE,
                    "jailbreak": _NOT_DETECTED,
                    "self_harm": _SAFE,
                    "sexual": _SAFE,
                    "violence": _SAFE,
                },
            }
        ]
        used = int(usage["total_tokens"])
        if request.get("stream"):
            include_usage = bool((request.get("stream_options") or {}).get("include_usage"))
            common = {
                "created": created,
                "id": completion_id,
                "model": model_id,
                "object": "chat.completion.chunk",
                "system_fingerprint": fingerprint,
            }
            events: list[dict[str, Any]] = [
                {
                    "choices": [],
                    "created": 0,
                    "id": "",
                    "model": "",
                    "object": "",
                    "prompt_filter_results": prompt_filter,
                },
                {
                    "choices": [
                        {
                            "content_filter_results": {},
                            "delta": {"content": "", "refusal": None, "role": "assistant"},
                            "finish_reason": None,
                            "index": 0,
                            "logprobs": None,
                        }
                    ],
                    **common,
                    "usage": None,
                },
                {
                    "choices": [
                        {
                            "content_filter_results": choice_filter,
                            "delta": {"content": content},
                            "finish_reason": None,
                            "index": 0,
                            "logprobs": None,
                        }
                    ],
                    **common,
                    "usage": None,
                },
                {
                    "choices": [
                        {
                            "content_filter_results": {},
                            "delta": {},
                            "finish_reason": finish,
                            "index": 0,
                            "logprobs": None,
                        }
                    ],
                    **common,
                    "usage": None,
                },
            ]
            if include_usage:
                events.append({"choices": [], **common, "usage": usage})
            stream = b"".join(b"data: " + _compact(e) + b"\n\n" for e in events) + b"data: [DONE]\n\n"
            return stream, used, True
        body = {
            "choices": [
                {
                    "content_filter_results": choice_filter,
                    "finish_reason": finish,
                    "index": 0,
                    "logprobs": None,
                    "message": {"annotations": [], "content": content, "refusal": None, "role": "assistant"},
                }
            ],
            "created": created,
            "id": completion_id,
            "model": model_id,
            "object": "chat.completion",
            "prompt_filter_results": prompt_filter,
            "system_fingerprint": fingerprint,
            "usage": usage,
        }
        return _compact(body), used, False

    def _responses_success(
        self, request: Mapping[str, Any], deployment: DeploymentSpec, behaviour: ModelBehaviour
    ) -> tuple[bytes, int, bool]:
        """§4.3 body; `model` echoes the deployment name (likely per the reference, not fully verified)."""
        input_tokens = _estimate_tokens([*_texts(request.get("input")), str(request.get("instructions") or "")])
        reasoning_tokens = 16 if behaviour.reasoning else 0
        text = f"Hello from the simulated deployment {deployment.name}."
        output_tokens = 9 + reasoning_tokens
        created = int(time.time())
        response_id = "resp_" + secrets.token_hex(24)
        output: list[dict[str, Any]] = []
        if behaviour.reasoning:
            output.append({"id": "rs_" + secrets.token_hex(24), "summary": [], "type": "reasoning"})
        output.append(
            {
                "id": "msg_" + secrets.token_hex(24),
                "content": [{"annotations": [], "text": text, "type": "output_text"}],
                "role": "assistant",
                "status": "completed",
                "type": "message",
            }
        )
        body: dict[str, Any] = {
            "id": response_id,
            "created_at": created,
            "error": None,
            "incomplete_details": None,
            "instructions": request.get("instructions"),
            "metadata": request.get("metadata") or {},
            "model": str(request.get("model") or deployment.name),
            "object": "response",
            "output": output,
            "parallel_tool_calls": True,
            "temperature": float(request.get("temperature") or 1.0),
            "tool_choice": "auto",
            "tools": [],
            "top_p": 1.0,
            "background": False,
            "max_output_tokens": request.get("max_output_tokens"),
            "previous_response_id": request.get("previous_response_id"),
            "reasoning": {"effort": (request.get("reasoning") or {}).get("effort") or "medium", "summary": None}
            if behaviour.reasoning
            else {"effort": None, "summary": None},
            "service_tier": "default",
            "status": "completed",
            "text": {"format": {"type": "text"}},
            "truncation": "disabled",
            "usage": {
                "input_tokens": input_tokens,
                "input_tokens_details": {"cached_tokens": 0},
                "output_tokens": output_tokens,
                "output_tokens_details": {"reasoning_tokens": reasoning_tokens},
                "total_tokens": input_tokens + output_tokens,
            },
            "user": None,
            "store": True,
        }
        used = input_tokens + output_tokens
        if request.get("stream"):
            in_progress = dict(body, status="in_progress", output=[], usage=None)
            events = [
                ("response.created", {"response": in_progress}),
                ("response.in_progress", {"response": in_progress}),
                (
                    "response.output_text.delta",
                    {
                        "item_id": output[-1]["id"],
                        "output_index": len(output) - 1,
                        "content_index": 0,
                        "delta": text,
                        "logprobs": [],
                    },
                ),
                ("response.completed", {"response": body}),
            ]
            chunks = []
            for number, (event_type, data) in enumerate(events):
                payload = {"type": event_type, "sequence_number": number, **data}
                chunks.append(f"event: {event_type}\n".encode() + b"data: " + _compact(payload) + b"\n\n")
            return b"".join(chunks), used, True
        return _compact(body), used, False

    def _embeddings_success(
        self, request: Mapping[str, Any], deployment: DeploymentSpec, behaviour: ModelBehaviour
    ) -> tuple[bytes, int, bool]:
        inputs = request.get("input")
        items = inputs if isinstance(inputs, list) and inputs and not isinstance(inputs[0], int) else [inputs]
        dimensions = int(request.get("dimensions") or behaviour.embedding_dimensions or 1536)
        data = []
        for index, item in enumerate(items):
            seed = hashlib.sha256(str(item).encode()).digest()
            vector = [((seed[i % len(seed)] / 255.0) - 0.5) / 10.0 for i in range(dimensions)]
            if request.get("encoding_format") == "base64":
                embedding: Any = base64.b64encode(struct.pack(f"<{dimensions}f", *vector)).decode()
            else:
                embedding = vector
            data.append({"object": "embedding", "index": index, "embedding": embedding})
        tokens = _estimate_tokens([str(i) for i in items])
        body = {
            "object": "list",
            "data": data,
            "model": deployment.model_name,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }
        return _compact(body), tokens, False


def _model_id(deployment: DeploymentSpec) -> str:
    """Chat bodies name the underlying model (+ version when it is a date), not the deployment (§4.1)."""
    version = deployment.model_version
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", version):
        return f"{deployment.model_name}-{version}"
    return deployment.model_name


def _texts(value: Any) -> list[str]:
    """Every text fragment inside chat `messages` or a Responses `input`."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [t for item in value for t in _texts(item)]
    if isinstance(value, Mapping):
        out: list[str] = []
        for key in ("content", "text", "input_text"):
            if key in value:
                out.extend(_texts(value[key]))
        return out
    return []


def _estimate_tokens(texts: Sequence[str]) -> int:
    words = sum(len(t.split()) for t in texts)
    return max(1, math.ceil(words * 4 / 3)) + 7


def _random_alnum(length: int) -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(length))


# ---------------------------------------------------------------------------------------------------------
# HTTP plumbing
# ---------------------------------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    """Thin HTTP/1.1 adapter: read the request, ask the backend, write the reply."""

    protocol_version = "HTTP/1.1"
    server_version = "SimulatedAzure/1.0"
    sys_version = ""
    timeout = 30
    server: _Server

    def setup(self) -> None:
        # Headers and body go out in separate writes; without TCP_NODELAY, Nagle's algorithm and the
        # client's delayed ACK hold every keep-alive answer back ~40 ms, which Azure's front doors do not.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if isinstance(self.request, ssl.SSLSocket):
            # The handshake runs here, in the connection's own thread, not in the accept loop.
            self.request.settimeout(10)
            self.request.do_handshake()
        super().setup()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the backend records every request instead."""

    def _serve(self) -> None:
        parts = urlsplit(self.path)
        path = unquote(parts.path)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        headers = {key.lower(): value for key, value in self.headers.items()}
        reply = self.server.backend.dispatch(self.server.listener, self.command, path, query, headers, body)
        self.send_response(reply.status, reply.reason)
        for key, value in reply.headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(reply.body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve


class _Server(ThreadingHTTPServer):
    """A threading HTTP(S) server whose stop() closes keep-alive connections and joins every thread."""

    daemon_threads = False
    block_on_close = True

    def __init__(self, backend: _Backend, listener: str, context: ssl.SSLContext | None) -> None:
        self.backend = backend
        self.listener = listener
        self._context = context
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, address = super().get_request()
        if self._context is not None:
            sock = self._context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        with self._open_lock:
            self._open.add(sock)
        return sock, address

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Dropped connections and failed handshakes are normal for a test server; stay quiet."""
        _LOG.debug("connection from %s ended with an error", client_address, exc_info=True)

    def close_connections(self) -> None:
        with self._open_lock:
            sockets = list(self._open)
        for sock in sockets:
            with contextlib.suppress(OSError):
                socket.socket.shutdown(sock, socket.SHUT_RDWR)  # bypass TLS: just wake the reader


# ---------------------------------------------------------------------------------------------------------
# Public entry point
# ---------------------------------------------------------------------------------------------------------


class SimulatedTenant:
    """An Azure tenant on 127.0.0.1: ARM + Resource Graph + Azure OpenAI over HTTPS, token endpoint over HTTP.

    Use as a context manager, or call start()/stop(). Point the SDKs at it with `management_url`
    (`base_url=` and `credential_scopes=[management_url + "/.default"]`), trust `ca_path`, and export
    `IDENTITY_ENDPOINT` / `IDENTITY_HEADER` (see `identity_env()`) so azure-identity's managed identity
    credential gets its tokens here.
    """

    def __init__(
        self,
        spec: TenantSpec | None = None,
        *,
        arm_latency: float = 0.0,
        data_latency: float = 0.0,
        faults: Iterable[FaultRule] = (),
        page_size: int = 10,
        deployments_page_size: int = 4,
    ) -> None:
        self.spec = spec if spec is not None else default_tenant_spec()
        self._backend = _Backend(
            self.spec,
            arm_latency=arm_latency,
            data_latency=data_latency,
            faults=faults,
            page_size=page_size,
            deployments_page_size=deployments_page_size,
        )
        self._servers: list[tuple[_Server, threading.Thread]] = []
        self._tempdir: str | None = None
        self._ca_path: str | None = None
        self._identity_endpoint: str | None = None

    # -- lifecycle ------------------------------------------------------------------------------------

    latest: ClassVar[SimulatedTenant | None] = None
    """The tenant started last in this process, so a test of `audit --demo` can read what it served."""

    def start(self) -> SimulatedTenant:
        """Generate a CA and a 127.0.0.1 certificate, bind two random free ports and serve."""
        if self._servers:
            return self
        SimulatedTenant.latest = self
        authority = trustme.CA()
        certificate = authority.issue_cert("127.0.0.1", "localhost")
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        certificate.configure_cert(context)
        self._tempdir = tempfile.mkdtemp(prefix="simulated-azure-")
        self._ca_path = str(Path(self._tempdir) / "ca.pem")
        authority.cert_pem.write_to_path(self._ca_path)
        https = _Server(self._backend, "https", context)
        self._backend.management_url = f"https://127.0.0.1:{https.server_address[1]}"
        token = _Server(self._backend, "token", None)
        self._identity_endpoint = f"http://127.0.0.1:{token.server_address[1]}/msi/token"
        for server, name in ((https, "simulated-azure-https"), (token, "simulated-azure-identity")):
            thread = threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=name, daemon=True
            )
            thread.start()
            self._servers.append((server, thread))
        return self

    def stop(self) -> None:
        """Stop serving, close open connections, join every thread and delete the CA file."""
        servers, self._servers = self._servers, []
        for server, _ in servers:
            server.shutdown()
        for server, thread in servers:
            server.close_connections()
            server.server_close()  # joins the per-connection threads (block_on_close)
            thread.join()
        if self._tempdir is not None:
            shutil.rmtree(self._tempdir, ignore_errors=True)
            self._tempdir = None

    def __enter__(self) -> SimulatedTenant:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    # -- where things are -----------------------------------------------------------------------------

    def _running(self, value: str | None, what: str) -> str:
        if value is None or not self._servers:
            raise RuntimeError(f"{what} is only known while the simulated tenant runs; call start() first")
        return value

    @property
    def management_url(self) -> str:
        """ARM base URL, e.g. https://127.0.0.1:PORT (no trailing slash); also the Resource Graph host."""
        return self._running(self._backend.management_url or None, "management_url")

    @property
    def management_scope(self) -> str:
        """The token scope to pass as `credential_scopes=[...]`."""
        return self.management_url + "/.default"

    @property
    def ca_path(self) -> str:
        """PEM file of the CA that signed the server certificate (pass as connection_verify / cafile)."""
        return self._running(self._ca_path, "ca_path")

    @property
    def identity_endpoint(self) -> str:
        """Value for IDENTITY_ENDPOINT (App Service managed identity protocol, plain HTTP on loopback)."""
        return self._running(self._identity_endpoint, "identity_endpoint")

    @property
    def identity_header(self) -> str:
        """Value for IDENTITY_HEADER (the secret the token endpoint checks in X-IDENTITY-HEADER)."""
        return self._backend.identity_header

    def identity_env(self) -> dict[str, str]:
        """The two environment variables azure-identity needs to get tokens from this tenant."""
        return {"IDENTITY_ENDPOINT": self.identity_endpoint, "IDENTITY_HEADER": self.identity_header}

    def data_endpoint(self, account_name: str) -> str:
        """An account's `properties.endpoint` (ends with "/"), e.g. https://127.0.0.1:PORT/aoai/<name>/."""
        account = self.spec.find_account(account_name)
        if account is None:
            raise KeyError(account_name)
        return self._running(self._backend.management_url or None, "data_endpoint") + f"/aoai/{account.name}/"

    def account_keys(self, account_name: str) -> tuple[str, str]:
        """key1/key2 of an account (what listKeys would return; the server itself refuses listKeys)."""
        return self._backend.keys[account_name.lower()]

    def issue_token(self, resource: str, *, lifetime: float = _TOKEN_LIFETIME_SECONDS) -> str:
        """A bearer token for `resource` (or scope), as if fetched elsewhere; for negative tests."""
        return self._backend.tokens.issue(resource, lifetime)[0]

    def expire_tokens(self) -> None:
        """Make every issued token expired (ARM then answers ExpiredAuthenticationToken)."""
        self._backend.tokens.expire_all()

    # -- faults and observations ---------------------------------------------------------------------

    def add_fault(self, rule: FaultRule) -> None:
        """Inject a fault rule at run time (applies to the next matching requests)."""
        self._backend.add_fault(rule)

    def reset_counters(self) -> None:
        """Forget per-deployment call counts, so scripted 429s/5xx fire again."""
        self._backend.reset_counters()

    @property
    def records(self) -> tuple[ServedRequest, ...]:
        """Every request answered so far, in order (no header values, hence no secrets)."""
        return self._backend.records

    def clear_records(self) -> None:
        """Forget the recorded requests (and the peak concurrency seen)."""
        self._backend.clear_records()

    @property
    def peak_in_flight(self) -> dict[str, int]:
        """The most requests in flight at once, per plane ("arm", "graph", "data", "token") and "all"."""
        return dict(self._backend.peak_in_flight)

    def requests(
        self, *, plane: str | None = None, path_pattern: str | None = None, method: str | None = None
    ) -> list[ServedRequest]:
        """Recorded requests filtered by plane, path regex (re.search) and method."""
        return [
            r
            for r in self.records
            if (plane is None or r.plane == plane)
            and (method is None or r.method == method.upper())
            and (path_pattern is None or re.search(path_pattern, r.path))
        ]

    def served_writes(self) -> list[ServedRequest]:
        """Requests that would change the tenant or read secrets: PUT/PATCH/DELETE anywhere, and any POST on
        ARM (listKeys, regenerateKey ...). Resource Graph queries and data-plane calls are not writes."""
        return [
            r
            for r in self.records
            if r.method in ("PUT", "PATCH", "DELETE") or (r.method == "POST" and r.plane == "arm")
        ]

    def list_keys_called(self) -> bool:
        """Whether anything asked ARM for an account's keys."""
        return any(r.plane == "arm" and r.path.rstrip("/").lower().endswith("/listkeys") for r in self.records)

    def handed_out_secrets(self) -> Iterator[str]:
        """Every token and key this tenant handed out (for tests proving none of them leaked anywhere)."""
        yield self.identity_header
        yield from self._backend.tokens.values()
        for pair in self._backend.keys.values():
            yield from pair
