"""ARM documents as Azure sends them: subscriptions, resource groups, accounts (with private endpoint
connections), deployments, the location model catalog, quota usages and content filter (RAI) policies.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from auditor.demo.sim.core import BackendCore
from auditor.demo.sim.spec import (
    AccountSpec,
    CatalogEntry,
    DeploymentSpec,
    ResourceGroupSpec,
    SubscriptionSpec,
    _norm_location,
)
from auditor.demo.sim.wire import (
    _stable_uuid,
)


def _default_filters() -> list[dict[str, Any]]:
    return [
        {"name": name, "blocking": True, "enabled": True, "severityThreshold": "Medium", "source": source}
        for source in ("Prompt", "Completion")
        for name in ("Hate", "Sexual", "Violence", "Selfharm")
    ] + [{"name": "Jailbreak", "blocking": True, "enabled": True, "source": "Prompt"}]


# The built-in policies every account can name. Whether Azure lists them under an account's raiPolicies is
# UNVERIFIED: no public capture; the simulator leaves them out of the list unless an account says
# `simulate: {listsBuiltInPolicies: true}` (the harder case for the auditor), and answers a GET of either name.
_SYSTEM_RAI_POLICIES: tuple[Mapping[str, Any], ...] = (
    {"name": "Microsoft.Default", "type": "SystemManaged", "mode": "Blocking", "contentFilters": _default_filters()},
    {"name": "Microsoft.DefaultV2", "type": "SystemManaged", "mode": "Blocking", "contentFilters": _default_filters()},
)

_FILTER_NAME = re.compile(r"name\.value\s+eq\s+'([^']*)'", re.IGNORECASE)


#: The first api-version whose deployments carry `deploymentState` (stable/2026-03-01/examples/GetDeployment.json).
DEPLOYMENT_STATE_SINCE = "2026-03-01"


class ArmDocuments(BackendCore):
    """Builds the JSON bodies ARM answers with, from the tenant spec."""

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
            if fallback[0] is None or (fallback[1] is None and sku is not None):
                fallback = (entry, sku)
        return fallback

    def _deployment_json(
        self, account: AccountSpec, deployment: DeploymentSpec, api_version: str = DEPLOYMENT_STATE_SINCE
    ) -> dict[str, Any]:
        """A deployment as the requested api-version shapes it: `deploymentState` only from 2026-03-01 (it is
        in that version's GetDeployment.json example and not in the 2025-09-01 schema), Running unless set."""
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
        props: dict[str, Any] = {"model": dict(deployment.model), "provisioningState": deployment.provisioning_state}
        if not deployment.simulate.bare_body:
            props.update(capabilities=capabilities, rateLimits=rate_limits, currentCapacity=deployment.capacity)
        props.update({k: copy.deepcopy(v) for k, v in deployment.properties.items() if k != "provisioningState"})
        if api_version >= DEPLOYMENT_STATE_SINCE:
            props.setdefault("deploymentState", "Running")
        else:
            props.pop("deploymentState", None)
        dep_id = f"{account.id}/deployments/{deployment.name}"
        doc: dict[str, Any] = {
            "id": dep_id,
            "name": deployment.name,
            "type": "Microsoft.CognitiveServices/accounts/deployments",
            "etag": f'"{_stable_uuid(dep_id, "etag")}"',
            "sku": dict(deployment.sku) if deployment.sku else None,
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
        if not deployment.sku:
            del doc["sku"]  # the 2021-era shape: scaleSettings instead
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
