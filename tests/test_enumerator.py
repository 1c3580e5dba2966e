"""The enumerator replays recorded ARM traffic (vcrpy) and normalises SDK objects into facts.

Re-record with `python -m tests.cassettes` (simulated tenant) or
`python -m tests.cassettes --real --subscription SUB --resource NAME` (a real subscription).
"""

from __future__ import annotations

import re
import time

import pytest
from azure.core.credentials import AccessToken

from auditor.model.clouds import get_cloud
from auditor.model.errors import SignInError
from auditor.pipeline.audit import AuditOptions, gather_facts
from auditor.sources.azure import AccountRef, AzureEnumerator
from tests.cassettes import ENUMERATOR_CASSETTE, recorder

SUBS = ("00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000002")


class ReplayCredential:
    """A TokenCredential for replay: the cassette answers, so the token never leaves the process."""

    def get_token(self, *scopes: str, **kwargs: object) -> AccessToken:
        return AccessToken("replay", int(time.time()) + 3600)


@pytest.fixture(scope="module")
def facts():
    enumerator = AzureEnumerator(ReplayCredential(), get_cloud("AzureCloud"))  # the real endpoint: vcr answers
    with recorder().use_cassette(str(ENUMERATOR_CASSETTE), allow_playback_repeats=False):
        return gather_facts(enumerator, AuditOptions(subscriptions=SUBS, all_accounts=True, concurrency=1))


def test_accounts_are_normalised(facts) -> None:
    by_name = {a.name: a for a in facts.accounts}
    assert set(by_name) == {"contoso-aoai-eus2", "contoso-ai-swc", "fabrikam-aoai-wus"}  # FormRecognizer is ignored
    locked = by_name["contoso-aoai-eus2"]
    assert (locked.kind, locked.location, locked.disable_local_auth) == ("OpenAI", "eastus2", True)
    assert locked.public_network_access == "Disabled" and locked.network_default_action == "Deny"
    assert locked.private_endpoint_connections and locked.identity_type == "SystemAssigned"
    assert locked.resource_group == "rg-ai" and locked.subscription_id == SUBS[0]
    assert by_name["contoso-ai-swc"].kind == "AIServices"


def test_deployments_follow_paging_and_keep_model_and_sku(facts) -> None:
    deployments = {d.name: d for d in facts.deployments}
    assert len(deployments) == 12
    chat = deployments["chat-prod"]
    assert (chat.model_name, chat.model_version, chat.sku_name, chat.model_format) == (
        "gpt-4o",
        "2024-11-20",
        "GlobalStandard",
        "OpenAI",
    )
    assert chat.sku_capacity and chat.rate_limits
    assert deployments["gpt-41-failed"].provisioning_state == "Failed"
    assert deployments["legacy-35"].version_upgrade_option == "NoAutoUpgrade"
    # Listed at api-version 2026-03-01, which carries deploymentState; read off the raw page (the SDK's model
    # of 2025-09-01 drops it).
    assert {d.state for d in deployments.values()} == {"Running"}
    assert chat.current_capacity == chat.sku_capacity == 50


def test_deployments_fall_back_to_the_sdk_api_version_when_arm_refuses_the_newer_one(monkeypatch) -> None:
    """A cloud without 2026-03-01 answers 400 InvalidApiVersionParameter: the SDK's own version is read instead,
    and deploymentState, which that version lacks, stays unknown (None)."""
    from azure.identity import ManagedIdentityCredential

    from auditor.demo.sim import FaultRule, SimulatedTenant

    refused = {
        "error": {
            "code": "InvalidApiVersionParameter",
            "message": "The api-version '2026-03-01' is invalid. The supported versions are '2025-09-01'.",
        }
    }
    with SimulatedTenant(faults=[FaultRule(r"/deployments$", 400, refused, plane="arm")]) as tenant:
        for name, value in tenant.identity_env().items():
            monkeypatch.setenv(name, value)
        cloud = get_cloud("AzureCloud", management_endpoint=tenant.management_url)
        enumerator = AzureEnumerator(ManagedIdentityCredential(), cloud, connection_verify=tenant.ca_path)
        (account,) = [a for a in enumerator.list_accounts("00000000-0000-4000-8000-000000000002") if a.kind == "OpenAI"]
        deployments = enumerator.list_deployments(account)
    versions = [r.query["api-version"] for r in tenant.requests(plane="arm", path_pattern=r"/deployments$")]
    assert versions[0] == "2026-03-01" and set(versions[1:]) == {"2025-09-01"}  # then every page at 2025-09-01
    assert deployments and all(d.state is None for d in deployments)


def test_catalog_and_quota_are_read_per_region(facts) -> None:
    regions = {(r.subscription_id, r.location): r for r in facts.regions}
    assert set(regions) == {(SUBS[0], "eastus2"), (SUBS[0], "swedencentral"), (SUBS[1], "westus3")}
    eastus2 = regions[(SUBS[0], "eastus2")]
    assert eastus2.catalog and {m.kind for m in eastus2.catalog} >= {"OpenAI", "AIServices"}
    assert any(s.usage_name == "OpenAI.GlobalStandard.gpt4.1-mini" for m in eastus2.catalog for s in m.skus)
    usage = {u.name: u for u in eastus2.usages or ()}["OpenAI.GlobalStandard.gpt4.1-mini"]
    assert usage.current_value / usage.limit >= 0.9
    assert not facts.gaps


def test_account_ids_parse_and_bad_ids_are_input_errors() -> None:
    ref = AccountRef.parse("/subscriptions/s/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/a")
    assert (ref.subscription_id, ref.resource_group, ref.name) == ("s", "rg", "a")
    with pytest.raises(Exception, match="not an Azure OpenAI account resource ID"):
        AccountRef.parse("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/a")


def test_no_credential_gives_the_sign_in_help() -> None:
    from azure.identity import EnvironmentCredential

    enumerator = AzureEnumerator(EnvironmentCredential(), get_cloud("AzureCloud", "https://127.0.0.1:9"))
    with pytest.raises(SignInError, match="az login"):
        enumerator.list_accounts(SUBS[0])


SECRET_PATTERNS = [
    r"(?i)authorization",
    r"(?i)bearer\s",
    r"(?i)api-key",
    r"(?i)access_token",
    r"(?i)x-identity-header",
    r"eyJ[A-Za-z0-9_-]{10,}",  # JWT
    r"(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])",  # Azure OpenAI keys are 32 hex characters
    r"127\.0\.0\.1",
]


def test_cassettes_hold_no_secret_or_real_subscription() -> None:
    text = ENUMERATOR_CASSETTE.read_text()
    for pattern in SECRET_PATTERNS:
        assert not re.search(pattern, text), f"cassette matches {pattern}"
    subscriptions = set(re.findall(r"/subscriptions/([0-9a-fA-F-]{36})", text))
    assert subscriptions and all(s.startswith("00000000-0000-4000-8000-") for s in subscriptions)


def test_a_2026_03_01_body_the_sdk_models_cannot_read_falls_back_to_their_own_version(monkeypatch) -> None:
    """Should 2026-03-01 ever change a field's type, the SDK's models (2025-09-01) could not deserialize it: the
    deployments are then read at the version those models were made for."""
    from azure.identity import ManagedIdentityCredential

    from auditor.demo.sim import FaultRule, SimulatedTenant

    unreadable = {"value": [{"id": "x", "name": "x", "sku": "a string where an object belongs"}]}
    with SimulatedTenant(faults=[FaultRule(r"/deployments$", 200, unreadable, plane="arm")]) as tenant:
        for name, value in tenant.identity_env().items():
            monkeypatch.setenv(name, value)
        cloud = get_cloud("AzureCloud", management_endpoint=tenant.management_url)
        enumerator = AzureEnumerator(ManagedIdentityCredential(), cloud, connection_verify=tenant.ca_path)
        (account,) = [a for a in enumerator.list_accounts("00000000-0000-4000-8000-000000000002") if a.kind == "OpenAI"]
        deployments = enumerator.list_deployments(account)
    assert {d.name for d in deployments} == {"chat-regional", "dev-mini", "instruct-legacy", "ptu-batch", "ptu-reserve"}
