"""Shared fixtures: fact factories (fakes of the sources) and the loaded rules and knowledge base."""

from __future__ import annotations

import os
import tempfile
from datetime import date
from typing import Any

import pytest

from auditor.engine.rules import load_rules
from auditor.knowledge.base import load_knowledge
from auditor.model.facts import Account, CatalogModel, CatalogSku, ContractCall, Deployment, Facts, QuotaUsage, Region

# The per-user knowledge overlay (auditor/knowledge/overlay.py) lives in an empty folder of the test run: a
# developer's own overlay never changes a test, and no test writes into the developer's data directory.
os.environ["AOAI_AUDITOR_DATA_DIR"] = tempfile.mkdtemp(prefix="aoai-auditor-data-")

TODAY = date(2026, 11, 22)
SUB = "00000000-0000-4000-8000-0000000000ff"
ACCOUNT_ID = f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/acct"


def make_account(**overrides: Any) -> Account:
    values: dict[str, Any] = {
        "id": ACCOUNT_ID,
        "name": "acct",
        "subscription_id": SUB,
        "resource_group": "rg",
        "location": "eastus2",
        "kind": "OpenAI",
        "sku_name": "S0",
        "endpoint": "https://acct.openai.azure.com/",
        "custom_subdomain": "acct",
        "provisioning_state": "Succeeded",
        "disable_local_auth": True,
        "public_network_access": "Disabled",
        "network_default_action": "Deny",
        "private_endpoint_connections": ("pe1",),
        "identity_type": "SystemAssigned",
        "encryption_key_source": "Microsoft.KeyVault",
        "restrict_outbound_network_access": True,
    }
    values.update(overrides)
    return Account(**values)


def make_deployment(
    name: str = "dep",
    model: str = "gpt-4o",
    version: str = "2024-11-20",
    sku: str = "GlobalStandard",
    capacity: int = 10,
    **overrides: Any,
) -> Deployment:
    values: dict[str, Any] = {
        "id": f"{ACCOUNT_ID}/deployments/{name}",
        "name": name,
        "account_id": ACCOUNT_ID,
        "model_format": "OpenAI",
        "model_name": model,
        "model_version": version,
        "sku_name": sku,
        "sku_capacity": capacity,
        "version_upgrade_option": "OnceNewDefaultVersionAvailable",
        "rai_policy_name": "Microsoft.DefaultV2",
        "provisioning_state": "Succeeded",
        "state": "Running",  # deploymentState, as the enumerator reads it at api-version 2026-03-01
    }
    values.update(overrides)
    return Deployment(**values)


def catalog_for(
    *deployments: Deployment,
    kind: str = "OpenAI",
    deprecation: date | None = None,
    capabilities: dict[str, str] | None = None,
) -> tuple[CatalogModel, ...]:
    """A catalog that offers exactly what the given deployments run."""
    entries = []
    for d in deployments:
        usage = f"OpenAI.{d.sku_name}.{d.model_name}"
        entries.append(
            CatalogModel(
                kind=kind,
                format="OpenAI",
                name=d.model_name or "",
                version=d.model_version or "",
                lifecycle_status="GenerallyAvailable",
                is_default_version=True,
                inference_deprecation=deprecation,
                capabilities=dict(capabilities or {}),
                skus=(CatalogSku(name=d.sku_name or "", usage_name=usage, deprecation_date=deprecation),),
            )
        )
    return tuple(entries)


def make_facts(
    *deployments: Deployment,
    account: Account | None = None,
    catalog: Any = "auto",
    usages: tuple[QuotaUsage, ...] | None = (),
    contract: tuple[ContractCall, ...] | None = None,
) -> Facts:
    account = account or make_account()
    chosen = catalog_for(*deployments) if catalog == "auto" else catalog
    region = Region(account.subscription_id, account.location, chosen, usages)
    return Facts(accounts=(account,), deployments=deployments, regions=(region,), contract=contract)


AZURE_ENV = (
    "AZURE_CLIENT_ID",
    "AZURE_CLIENT_SECRET",
    "AZURE_TENANT_ID",
    "AZURE_CLIENT_CERTIFICATE_PATH",
    "AZURE_FEDERATED_TOKEN_FILE",
    "AZURE_USERNAME",
    "AZURE_SUBSCRIPTION_ID",
    "MSI_ENDPOINT",
    "MSI_SECRET",
    "AZURE_OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "OPENAI_API_KEY",
    "AZURE_OPENAI_CLASSIFIER_DEPLOYMENT",
    "AZURE_OPENAI_REASONER_DEPLOYMENT",
)
"""Whatever could make a test sign in somewhere else, or send a real key: removed for tests that run the CLI."""


def sign_in_to(running: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point DefaultAzureCredential's managed-identity step at a simulated tenant and trust its CA,
    through the environment only, as on a real machine."""
    for name in AZURE_ENV:
        monkeypatch.delenv(name, raising=False)
    for name, value in running.identity_env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", running.ca_path)


@pytest.fixture()
def tenant(monkeypatch: pytest.MonkeyPatch):
    """A fresh simulated tenant the CLI signs in to."""
    from auditor.demo.sim import SimulatedTenant

    with SimulatedTenant() as running:
        sign_in_to(running, monkeypatch)
        yield running


def run_demo(out: Any, *args: str) -> int:
    """`audit --demo` in-process, kept out of a real $GITHUB_STEP_SUMMARY."""
    import os

    from auditor.cli import main

    saved = os.environ.pop("GITHUB_STEP_SUMMARY", None)
    try:
        return main(["--demo", "--out", str(out), "--quiet", *args])
    finally:
        if saved is not None:
            os.environ["GITHUB_STEP_SUMMARY"] = saved


@pytest.fixture(scope="session")
def rules():
    return load_rules()


@pytest.fixture(scope="session")
def kb():
    return load_knowledge()
