"""A realistic fleet for the simulated tenant: the demo tenant's catalog, quota lines and model
behaviour, with generated subscriptions, accounts and deployments (healthy ones: the benchmark
measures the time of a full audit, not of its failures)."""

from __future__ import annotations

from typing import Any

from auditor.demo.sim import TenantSpec, default_tenant_data

REGIONS = ("eastus2", "swedencentral", "westus3", "francecentral", "japaneast", "uksouth")
MODELS = (  # (model, version, sku) offered in every region below
    ("gpt-4o", "2024-11-20", "GlobalStandard"),
    ("gpt-4.1-mini", "2025-04-14", "GlobalStandard"),
    ("o4-mini", "2025-04-16", "GlobalStandard"),
    ("gpt-5", "2025-08-07", "GlobalStandard"),
    ("gpt-4o-mini", "2024-07-18", "GlobalStandard"),
)


def fleet_spec(*, accounts: int = 20, deployments: int = 500, subscriptions: int = 3) -> TenantSpec:
    """`accounts` accounts over `subscriptions` subscriptions and the six regions, `deployments` in all."""
    demo = default_tenant_data()
    offered = {(m, v) for m, v, _ in MODELS}
    catalog: list[dict[str, Any]] = []
    everywhere: set[tuple[str, str]] = set()
    for entry in demo["catalog"]:  # the demo has one entry per location and version: offer these everywhere, once
        offer = (entry["model"]["name"], str(entry["model"]["version"]))
        if offer in offered:
            if offer in everywhere:
                continue
            everywhere.add(offer)
            entry["offeredIn"] = list(REGIONS)
        catalog.append(entry)
    demo["catalog"] = catalog
    subs: list[dict[str, Any]] = []
    for s in range(subscriptions):
        subs.append(
            {
                "subscriptionId": f"00000000-0000-4000-8000-{s + 1:012d}",
                "displayName": f"fleet-{s + 1}",
                "state": "Enabled",
                "resourceGroups": [{"name": "rg-fleet", "location": REGIONS[0], "accounts": []}],
            }
        )
    for a in range(accounts):
        name = f"fleet-aoai-{a:03d}"
        subs[a % subscriptions]["resourceGroups"][0]["accounts"].append(
            {
                "name": name,
                "kind": "OpenAI",
                "location": REGIONS[a % len(REGIONS)],
                "sku": {"name": "S0"},
                "identity": {"type": "SystemAssigned"},
                "properties": {"customSubDomainName": name, "disableLocalAuth": True, "publicNetworkAccess": "Enabled"},
                "deployments": [],
            }
        )
    every_account = [acct for sub in subs for acct in sub["resourceGroups"][0]["accounts"]]
    for d in range(deployments):
        model, version, sku = MODELS[d % len(MODELS)]
        every_account[d % accounts]["deployments"].append(
            {
                "name": f"dep-{d:04d}",
                "model": {"format": "OpenAI", "name": model, "version": version},
                "sku": {"name": sku, "capacity": 1},
                "versionUpgradeOption": "OnceNewDefaultVersionAvailable",
                "raiPolicyName": "Microsoft.DefaultV2",
            }
        )
    demo["subscriptions"] = subs
    demo["quota"]["limits"] = {"default": dict.fromkeys(demo["quota"]["lines"], 100000)}
    return TenantSpec.from_mapping(demo)
