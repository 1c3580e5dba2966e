"""Conformance with Azure's published REST examples: every body shape the auditor reads goes through the SDK's
models, the enumerator and the rules, and comes out decided wherever the data decides it.

The bodies below are written for these tests in the shapes of the examples Azure publishes in
Azure/azure-rest-api-specs, specification/cognitiveservices/resource-manager/Microsoft.CognitiveServices/
(file named at each body): field names, nesting, optional fields left out, values typed as there.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from azure.mgmt.cognitiveservices import models as sdk

from auditor.engine.evaluate import evaluate_all
from auditor.engine.subjects import build_subjects
from auditor.knowledge.capabilities import CAPABILITIES, apis_reported, limits_reported
from auditor.model.facts import Facts, Region
from auditor.model.results import Status
from auditor.sources.arm_shapes import (
    account_from_sdk,
    catalog_model_from_sdk,
    deployment_from_sdk,
    rai_policy_from_sdk,
    usage_from_sdk,
)
from tests.conftest import TODAY

SUB = "00000000-1111-2222-3333-444444444444"
RG = "/subscriptions/" + SUB + "/resourceGroups/myResourceGroup/providers/Microsoft.CognitiveServices/accounts/"


def account_body(name: str, kind: str = "AIServices", **properties: Any) -> dict[str, Any]:
    """stable/2025-09-01/examples/GetAccount.json: id, name, type, location, sku, kind, tags, etag, and
    properties with only endpoint and provisioningState."""
    return {
        "id": RG + name,
        "name": name,
        "type": "Microsoft.CognitiveServices/accounts",
        "location": "westus",
        "sku": {"name": "S0"},
        "kind": kind,
        "tags": {"Owner": "felixwa"},
        "etag": "W/\"datetime'2017-04-10T04%3A42%3A19.7067387Z'\"",
        "properties": {
            "endpoint": f"https://{name}.cognitiveservices.azure.com/",
            "provisioningState": "Succeeded",
            **properties,
        },
    }


def connection_body(status: str) -> dict[str, Any]:
    """stable/2025-09-01/examples/ListPrivateEndpointConnections.json (one `value` item)."""
    return {
        "id": RG + "sto288/privateEndpointConnections/{privateEndpointConnectionName}",
        "name": "{privateEndpointConnectionName}",
        "type": "Microsoft.CognitiveServices/accounts/privateEndpointConnections",
        "properties": {
            "privateEndpoint": {
                "id": f"/subscriptions/{SUB}/resourceGroups/res7231/providers/Microsoft.Network/privateEndpoints/petest01"
            },
            "privateLinkServiceConnectionState": {
                "status": status,
                "description": "Auto-Approved",
                "actionsRequired": "None",
            },
        },
    }


def deployment_2025(name: str, model: str, version: str, sku: str, capacity: int, **properties: Any) -> dict[str, Any]:
    """stable/2025-09-01/examples/GetDeployment.json: sku and model, provisioningState, nothing else."""
    return {
        "id": RG + f"acct/deployments/{name}",
        "name": name,
        "type": "Microsoft.CognitiveServices/accounts/deployments",
        "sku": {"name": sku, "capacity": capacity},
        "properties": {
            "model": {"format": "OpenAI", "name": model, "version": version},
            "provisioningState": "Succeeded",
            **properties,
        },
    }


def deployment_2021(name: str) -> dict[str, Any]:
    """stable/2021-10-01/examples/ListDeployments.json: no sku, scaleSettings {scaleType Manual, capacity 1}."""
    return {
        "id": RG + f"acct/deployments/{name}",
        "name": name,
        "type": "Microsoft.CognitiveServices/accounts/deployments",
        "properties": {
            "model": {"format": "OpenAI", "name": "ada", "version": "1"},
            "scaleSettings": {"scaleType": "Manual", "capacity": 1},
            "provisioningState": "Succeeded",
        },
    }


# stable/2025-09-01/examples/ListLocationModels.json: the entries' shapes (old and new capability keys,
# Tentative and Planned, replacementConfig, a lower-case SKU name, entries without isDefaultVersion).
LOCATION_MODELS: list[dict[str, Any]] = [
    {
        "kind": "OpenAI",
        "skuName": "S0",
        "model": {
            "format": "OpenAI",
            "name": "ada",
            "version": "1",
            "maxCapacity": 3,
            "capabilities": {"inference": "false", "scaleType": "Manual", "completion": "true", "search": "true"},
            "deprecation": {
                "fineTune": "2027-06-14T00:00:00Z",
                "inference": "2027-06-14T00:00:00Z",
                "deprecationStatus": "Planned",
            },
            "lifecycleStatus": "Legacy",
            "skus": [
                {
                    "name": "provisioned",
                    "usageName": "OpenAI.Provisioned.Class1",
                    "capacity": {"minimum": 100, "maximum": 1000, "step": 100, "default": 100},
                }
            ],
        },
    },
    {
        "kind": "OpenAI",
        "skuName": "S0",
        "model": {
            "format": "OpenAI",
            "name": "gpt-4o",
            "version": "2024-05-13",
            "maxCapacity": 50,
            "capabilities": {
                "fineTune": "false",
                "inference": "true",
                "scaleType": "Manual,Provisioned",
                "completion": "true",
                "chat": "true",
                "vision": "true",
            },
            "deprecation": {"inference": "2026-12-20T00:00:00Z", "deprecationStatus": "Tentative"},
            "replacementConfig": {
                "targetModelName": "gpt-4.1",
                "targetModelVersion": "2025-04-14",
                "autoUpgradeStartDate": "2026-12-10T07:00:00Z",
                "upgradeOnExpiryLeadTimeDays": 7,
            },
            "lifecycleStatus": "Deprecating",
            "skus": [
                {
                    "name": "provisioned",
                    "usageName": "OpenAI.Provisioned.GPT4o",
                    "capacity": {"minimum": 50, "maximum": 2000, "step": 50, "default": 100},
                }
            ],
        },
    },
    {
        "kind": "AIServices",
        "skuName": "S0",
        "model": {
            "format": "OpenAI",
            "name": "dall-e-3",
            "version": "3.0",
            "isDefaultVersion": True,
            "skus": [
                {
                    "name": "Provisioned",
                    "usageName": "OpenAI.Provisioned.Dalle",
                    "capacity": {"minimum": 300, "maximum": 60000, "step": 100, "default": 300},
                    "deprecationDate": "2027-09-30T00:00:00Z",
                }
            ],
            "maxCapacity": 2,
            "capabilities": {"inference": "true", "imageGenerations": "true"},
            "deprecation": {"inference": "2027-06-30T00:00:00Z", "deprecationStatus": "Tentative"},
            "lifecycleStatus": "GenerallyAvailable",
        },
    },
    {
        "kind": "OpenAI",
        "skuName": "S0",
        "model": {
            "format": "OpenAI",
            "name": "gpt-35-turbo",
            "version": "0301",
            "isDefaultVersion": False,
            "skus": [
                {
                    "name": "Standard",
                    "usageName": "OpenAI.Standard.gpt-35-turbo",
                    "capacity": {"maximum": 1000000, "default": 120},
                    "deprecationDate": "2027-02-13T00:00:00Z",
                }
            ],
            "maxCapacity": 9,
            "capabilities": {
                "scaleType": "Manual,Standard",
                "completion": "true",
                "chatCompletion": "true",
                "maxTotalToken": "4096",
            },
            "deprecation": {"inference": "2027-04-30T00:00:00Z", "deprecationStatus": "Planned"},
            "lifecycleStatus": "Deprecated",
        },
    },
]

# stable/2025-09-01/examples/ListUsages.json (name, currentValue, limit, unit), plus the lines the catalog names.
USAGES: list[dict[str, Any]] = [
    {"name": {"value": "AccountCount", "localizedValue": "Cognitive Services total account limit"}, "currentValue": 3, "limit": 200, "unit": "Count"},
    {"name": {"value": "OpenAI.Provisioned.GPT4o", "localizedValue": "Provisioned GPT4o"}, "currentValue": 100, "limit": 500, "unit": "Count"},
    {"name": {"value": "OpenAI.Standard.gpt-35-turbo", "localizedValue": "Tokens Per Minute (thousands) - GPT-35-Turbo"}, "currentValue": 10, "limit": 200, "unit": "Count"},
]  # fmt: skip

# stable/2025-06-01/examples/ListRaiPolicies.json: one custom policy, mode Asynchronous_filter, the Hate prompt
# filter off; the built-in Microsoft.Default / Microsoft.DefaultV2 are not in the list.
RAI_POLICIES: list[dict[str, Any]] = [
    {
        "name": "raiPolicyName",
        "id": RG + "acct/raiPolicies/raiPolicyName",
        "properties": {
            "basePolicyName": "Microsoft.Default",
            "mode": "Asynchronous_filter",
            "contentFilters": [
                {"name": "Hate", "blocking": False, "enabled": False, "severityThreshold": "High", "source": "Prompt"},
                {"name": "Hate", "blocking": True, "enabled": True, "severityThreshold": "Medium", "source": "Completion"},
                {"name": "Jailbreak", "blocking": True, "source": "Prompt", "enabled": True},
            ],
        },
    }
]  # fmt: skip


def tenant(*deployments: dict[str, Any], account: dict[str, Any] | None = None) -> Facts:
    """The bodies through the SDK's models (14.x, as the enumerator receives them) and the enumerator."""
    acct = account_from_sdk(sdk.Account.deserialize(account or account_body("acct")))
    deps = tuple(deployment_from_sdk(sdk.Deployment.deserialize(d), acct.id) for d in deployments)
    catalog = tuple(m for m in (catalog_model_from_sdk(sdk.Model.deserialize(b)) for b in LOCATION_MODELS) if m)
    usages = tuple(usage_from_sdk(sdk.Usage.deserialize(u)) for u in USAGES)
    policies = tuple(rai_policy_from_sdk(sdk.RaiPolicy.deserialize(p)) for p in RAI_POLICIES)
    return Facts(
        accounts=(acct,),
        deployments=deps,
        regions=(Region(acct.subscription_id, acct.location, catalog, usages),),
        content_filter_policies={acct.id: policies},
    )


def findings(facts: Facts, rules: Any, kb: Any) -> dict[tuple[str, str], Any]:
    return {(f.rule_id, f.target_name.split("/")[-1]): f for f in evaluate_all(rules, facts, kb, TODAY)}


def test_catalog_entries_keep_what_azure_sends() -> None:
    """ListLocationModels.json: Tentative, replacementConfig, SKU capacity bounds, maxCapacity."""
    _, gpt4o, dalle, turbo = (catalog_model_from_sdk(sdk.Model.deserialize(b)) for b in LOCATION_MODELS)
    assert gpt4o is not None and dalle is not None and turbo is not None
    assert gpt4o.deprecation_tentative and not turbo.deprecation_tentative
    assert (gpt4o.replacement_name, gpt4o.replacement_version) == ("gpt-4.1", "2025-04-14")
    assert gpt4o.replacement_auto_upgrade_start == date(2026, 12, 10) and gpt4o.replacement_lead_time_days == 7
    assert gpt4o.max_capacity == 50 and not gpt4o.is_default_version  # isDefaultVersion absent
    (ptu,) = gpt4o.skus
    assert (ptu.name, ptu.capacity_minimum, ptu.capacity_maximum, ptu.capacity_step, ptu.capacity_default) == (
        "provisioned",
        50,
        2000,
        50,
        100,
    )


def test_every_capability_key_in_the_examples_has_a_meaning() -> None:
    for body in LOCATION_MODELS:
        for key in body["model"]["capabilities"]:
            assert key in CAPABILITIES, key
    old = LOCATION_MODELS[1]["model"]["capabilities"]  # completion + chat on gpt-4o
    assert apis_reported(old) == ["chat_completions"]  # `completion` next to `chat` is not the legacy API
    assert apis_reported({"completion": "true", "search": "true"}) == ["completions"]  # ada, davinci
    assert limits_reported(LOCATION_MODELS[3]["model"]["capabilities"]) == {"context_window": ("maxTotalToken", 4096)}
    assert limits_reported({"maxTotalToken": "4096", "maxContextToken": "8192"})["context_window"] == (
        "maxContextToken",
        8192,
    )


def test_an_aiservices_account_deploys_a_model_listed_only_under_kind_openai(rules: Any, kb: Any) -> None:
    """gpt-4o 2024-05-13 is listed under kind OpenAI only; the SKU name comes back lower-case."""
    facts = tenant(deployment_2025("ptu", "gpt-4o", "2024-05-13", "Provisioned", 100))
    got = findings(facts, rules, kb)
    assert got[("AOAI-REGION-001", "ptu")].status is Status.PASS
    catalog = next(s for s in build_subjects(facts, kb, TODAY) if s.kind == "deployment").document["catalog"]
    assert catalog["usage_name"] == "OpenAI.Provisioned.GPT4o"
    assert catalog["replacement"] == "gpt-4.1 2025-04-14" and catalog["replacement_lead_time_days"] == 7
    # The catalog's date (2026-12-20) is Tentative: a warning, not the error of a confirmed date.
    assert got[("AOAI-LIFE-006", "ptu")].status is Status.FAIL
    assert ("AOAI-LIFE-002", "ptu") not in got or got[("AOAI-LIFE-002", "ptu")].status is not Status.FAIL


def test_the_earlier_of_sku_and_model_date_is_the_retirement(kb: Any) -> None:
    """dall-e-3: SKU deprecationDate 2027-09-30, model deprecation.inference 2027-06-30; gpt-35-turbo 0301:
    SKU 2027-02-13, model 2027-04-30. Either ends inference on that deployment type."""
    facts = tenant(
        deployment_2025("img", "dall-e-3", "3.0", "Provisioned", 300),
        deployment_2025("turbo", "gpt-35-turbo", "0301", "Standard", 10),
    )
    docs = {s.deployment: s.document for s in build_subjects(facts, kb, TODAY) if s.kind == "deployment"}
    assert docs["img"]["lifecycle"]["retirement_date"] == "2027-06-30"
    assert docs["turbo"]["lifecycle"]["retirement_date"] == "2027-02-13"
    assert docs["turbo"]["model"]["context_window"] == 4096  # maxTotalToken, the older key


def test_deployment_bodies_without_optional_fields(rules: Any, kb: Any) -> None:
    """GetDeployment.json (2025-09-01) has no rateLimits, capabilities, currentCapacity, versionUpgradeOption or
    deploymentState; the 2021-10-01 shape has scaleSettings and no sku."""
    facts = tenant(deployment_2025("bare", "gpt-35-turbo", "0301", "Standard", 1), deployment_2021("old"))
    bare, old = facts.deployments
    assert (bare.sku_capacity, bare.rate_limits, bare.state, bare.version_upgrade_option) == (1, (), None, None)
    assert (old.sku_name, old.sku_capacity, old.scale_type) == (None, 1, "Manual")
    got = findings(facts, rules, kb)
    # What the data decides is decided ...
    assert got[("AOAI-REGION-001", "bare")].status is Status.PASS
    assert got[("AOAI-DEPLOY-002", "old")].status is Status.PASS  # capacity 1, from scaleSettings
    # An absent deploymentState is how Azure reports a deployment that is not paused (recorded real traffic:
    # tests/cassettes/real-deployments.yaml), so the rule passes and says why.
    assert got[("AOAI-DEPLOY-006", "bare")].status is Status.PASS
    assert "no deploymentState" in got[("AOAI-DEPLOY-006", "bare")].message
    # ... and what it cannot is unknown, never a silent pass: no SKU in 2021 (ada 1 is in the catalog, but under
    # which deployment type scaleType Manual ran is not said), no versionUpgradeOption at all.
    assert got[("AOAI-REGION-001", "old")].status is Status.UNKNOWN


def test_security_facts_from_the_published_shapes(rules: Any, kb: Any) -> None:
    pending = account_body("acct", privateEndpointConnections=[connection_body("Pending")])
    facts = tenant(
        deployment_2025("builtin", "gpt-35-turbo", "0301", "Standard", 1, raiPolicyName="Microsoft.DefaultV2"),
        deployment_2025("custom", "gpt-35-turbo", "0301", "Standard", 1, raiPolicyName="raiPolicyName"),
        account=pending,
    )
    got = findings(facts, rules, kb)
    assert got[("AOAI-SEC-003", "acct")].status is Status.FAIL  # a Pending connection carries no traffic
    approved = tenant(account=account_body("acct", privateEndpointConnections=[connection_body("Approved")]))
    assert findings(approved, rules, kb)[("AOAI-SEC-003", "acct")].status is Status.PASS
    # Microsoft.DefaultV2 is not in the list, and is not "filters off".
    assert got[("AOAI-SEC-008", "builtin")].status is Status.PASS
    custom = got[("AOAI-SEC-008", "custom")]
    assert custom.status is Status.FAIL
    assert "Hate (Prompt)" in custom.message and "Asynchronous_filter" in custom.message


def test_usages_read_with_and_without_status() -> None:
    line = usage_from_sdk(
        sdk.Usage.deserialize({**USAGES[0], "status": "InOverage", "nextResetTime": "2026-12-04T00:00:00Z"})
    )
    assert (line.status, line.next_reset_time, line.limit) == ("InOverage", "2026-12-04T00:00:00Z", 200.0)
    assert usage_from_sdk(sdk.Usage.deserialize(USAGES[0])).status is None


@pytest.mark.parametrize("body", [deployment_2025("bare", "ada", "1", "Standard", 1), deployment_2021("old")])
def test_no_rule_on_an_example_deployment_is_unknown_for_a_reason_the_body_decides(
    body: dict[str, Any], rules: Any, kb: Any
) -> None:
    """Every unknown on a published deployment shape names a field the body does not carry (or the knowledge
    base does not know the model): none comes from a field the enumerator dropped."""
    facts = tenant(body)
    decidable = {"deployment.sku_capacity", "deployment.sku_name", "catalog.offered", "catalog.sku_offered"}
    for finding in evaluate_all(rules, facts, kb, TODAY):
        if finding.status is not Status.UNKNOWN:
            continue
        text = finding.message
        if body["properties"].get("scaleSettings"):
            decidable -= {"catalog.offered", "catalog.sku_offered"}  # no SKU in the 2021 shape
        assert not any(field in text for field in decidable), (finding.rule_id, text)
