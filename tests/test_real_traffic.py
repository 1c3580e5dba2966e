"""Recorded real ARM traffic replayed through the management SDK, the enumerator and the rules.

tests/cassettes/real-azure-cli.yaml holds response bodies the Azure CLI's test suite recorded against live
Azure (Azure/azure-cli, src/azure-cli/azure/cli/command_modules/cognitiveservices/tests/latest/recordings/:
test_cognitiveservices_deployment.yaml @ b254ab881383171222cc3df5b1ddd79783ba9ba6, test_cognitiveservices_
aiservices.yaml @ 8514d3b8e31ab096070de9d212bf0b0e5197bcbb, test_cognitiveservices_list_models.yaml @
87e5d559fd26e200b7150f124c15bc4e4a8a656d, test_cognitiveservices_list_usages.yaml @
6fafe0a179170a92bb043a1c5b93fe260e617fd1; and the .NET SDK's session record Azure/azure-sdk-for-net,
sdk/cognitiveservices/Azure.ResourceManager.CognitiveServices/tests/SessionRecords/DeploymentResourceTests/
DeploymentResourceApiTests().json @ 37cc2ca77d3e447a2524399be9bbadde54962c3b; the cassette's header says what
was trimmed). The expectations
below are what those recordings say, not what the simulated tenant does.
"""

from __future__ import annotations

import time
from datetime import date
from typing import Any

import pytest
from azure.core.credentials import AccessToken

from auditor.model.clouds import get_cloud
from auditor.model.facts import Facts, Region
from auditor.model.results import Severity, Status
from auditor.pipeline.audit import AuditOptions, audit, gather_facts
from auditor.probes.selection import data_plane_base, endpoint_refusal
from auditor.sources.azure import AzureEnumerator
from tests.cassettes import CASSETTE_DIR, recorder
from tests.conftest import make_account, make_deployment

CASSETTE = CASSETTE_DIR / "real-azure-cli.yaml"
SUB = "00000000-0000-0000-0000-000000000000"
ACCOUNTS = f"/subscriptions/{SUB}/resourceGroups/clitest.rg000001/providers/Microsoft.CognitiveServices/accounts/"
OPENAI = ACCOUNTS + "cs_cli_test_000002"
AISERVICES = ACCOUNTS + "csclitest_000002"
DOTNET = (
    f"/subscriptions/{SUB}/resourceGroups/testRG-8995/providers/Microsoft.CognitiveServices/accounts/testAccount-7755"
)
TODAY = date(2026, 12, 3)


class ReplayCredential:
    def get_token(self, *scopes: str, **kwargs: object) -> AccessToken:
        return AccessToken("replay", int(time.time()) + 3600)


@pytest.fixture(scope="module")
def replayed() -> tuple[Facts, Any, Any]:
    enumerator = AzureEnumerator(ReplayCredential(), get_cloud("AzureCloud"))
    with recorder().use_cassette(str(CASSETTE), allow_playback_repeats=True):
        facts = gather_facts(enumerator, AuditOptions(resources=(OPENAI, AISERVICES, DOTNET), concurrency=1))
        catalog = enumerator.list_catalog(SUB, "westeurope")
        usages = enumerator.list_usages(SUB, "westeurope")
    return facts, catalog, usages


def test_recorded_accounts_are_read_as_sent(replayed) -> None:
    facts, _, _ = replayed
    by_name = {a.name: a for a in facts.accounts}
    openai, ai = by_name["cs_cli_test_000002"], by_name["csclitest_000002"]
    assert (openai.kind, openai.location, openai.endpoint) == (
        "OpenAI",
        "westus2",
        "https://westus2.api.cognitive.microsoft.com/",
    )
    # "location":"EASTUS" in the recording: one form for every location
    assert (ai.kind, ai.location, ai.endpoint) == (
        "AIServices",
        "eastus",
        "https://eastus.api.cognitive.microsoft.com/",
    )
    # neither recording has customSubDomainName or disableLocalAuth
    assert openai.custom_subdomain is None and ai.custom_subdomain is None
    assert openai.disable_local_auth is None


def test_the_recorded_2021_deployment_is_read_as_azure_means_it(replayed) -> None:
    facts, _, _ = replayed
    (dpy,) = [d for d in facts.deployments if d.name == "dpy"]
    assert (dpy.name, dpy.model_name, dpy.model_version) == ("dpy", "ada", "1")
    # scaleSettings {Manual, 1}, no sku: capacity from scaleSettings, the SKU stays unknown
    assert (dpy.sku_name, dpy.sku_capacity, dpy.scale_type) == (None, 1, "Manual")
    assert dpy.provisioning_state == "Creating"
    # no deploymentState: not paused; no versionUpgradeOption: not reported (None), never a default
    assert dpy.state is None and not dpy.paused
    assert dpy.version_upgrade_option is None


def test_what_the_recording_does_not_hold_is_a_gap_not_a_pass(replayed) -> None:
    facts, _, _ = replayed
    reasons = " ".join(g.reason for g in facts.gaps)
    assert "could not read the model catalog" in reasons  # westus2 and eastus catalogs were not recorded
    assert any(g.target == AISERVICES and "deployments" in g.reason for g in facts.gaps)


def test_the_recorded_catalog_keeps_every_shape(replayed) -> None:
    _, catalog, _ = replayed
    entries = {(m.name, m.version): m for m in catalog}
    cushman = entries[("code-cushman-fine-tune-002", "1")]
    assert cushman.capabilities["inference"] == "false"  # an explicit false is kept as sent
    turbo = entries[("gpt-35-turbo", "0125")]
    assert {s.name for s in turbo.skus} == {"Standard", "LowPriority", "GlobalBatch", "Provisioned"}
    assert turbo.capabilities["maxOutputToken"] == "4096"
    assert (turbo.replacement_name, turbo.replacement_version) == ("gpt-4.1-mini", "2025-04-14")
    assert turbo.replacement_auto_upgrade_start == date(2025, 9, 30)
    assert turbo.inference_deprecation == date(2025, 11, 11)
    assert not turbo.deprecation_tentative  # deprecationStatus Planned is not Tentative
    assert {s.name for s in entries[("code-cushman-001", "1")].skus} == {"Standard", "Dedicated"}
    assert entries[("gpt-35-turbo-deucalion", "1")].skus[0].deprecation_date is None  # no SKU date sent


def test_the_recorded_usages_keep_every_line(replayed) -> None:
    _, _, usages = replayed
    by_name = {u.name: u for u in usages}
    assert by_name["OpenAI.Standard.whisper"].localized_name == "Requests Per Minute - whisper"
    assert (
        by_name["OpenAI.GlobalStandard.gpt-4o"].current_value == 20
        and by_name["OpenAI.GlobalStandard.gpt-4o"].limit == 450
    )
    assert by_name["OpenAI.S0.AccountCount"].limit == 40  # a line naming no model
    assert by_name["OpenAI.GlobalBatch.gpt-35-turbo"].localized_name == "Enqueued tokens (thousands) - gpt-35-turbo"


def test_probes_may_call_the_recorded_regional_endpoints(replayed) -> None:
    facts, _, _ = replayed
    cloud = get_cloud("AzureCloud")
    for account in facts.accounts:
        base = data_plane_base(account)
        assert base and endpoint_refusal(base, cloud, ()) is None
    assert endpoint_refusal("https://westus2.api.cognitive.microsoft.com.evil.example/openai/v1/", cloud, ())
    assert endpoint_refusal("https://a.b.api.cognitive.microsoft.com/openai/v1/", cloud, ())


def test_the_rules_on_the_recorded_tenant(replayed, rules, kb) -> None:
    facts, _, _ = replayed
    report = audit(facts, rules, kb, today=TODAY)
    got = {(f.rule_id, f.target_name): f for f in report.findings}
    pause = got[("AOAI-DEPLOY-006", "cs_cli_test_000002/dpy")]
    assert pause.status is Status.PASS and "no deploymentState" in pause.message
    for name in ("cs_cli_test_000002", "csclitest_000002", "testAccount-7755"):
        assert got[("AOAI-SEC-013", name)].status is Status.FAIL  # regional endpoint: keys only
        assert ("AOAI-SEC-001", name) not in got or got[("AOAI-SEC-001", name)].status is not Status.FAIL
    # what Azure's data settles is never an error- or warning-level unknown blamed on Azure
    settled = {"AOAI-DEPLOY-006", "AOAI-SEC-013", "AOAI-SEC-001"}
    assert not [f for f in report.findings if f.rule_id in settled and f.status is Status.UNKNOWN]


def test_the_rules_on_the_recorded_westeurope_catalog(replayed, rules, kb) -> None:
    """A deployment of gpt-35-turbo 0125 (Standard) in the recorded westeurope catalog and quota."""
    _, catalog, usages = replayed
    account = make_account(
        location="westeurope",
        endpoint="https://westeurope.api.cognitive.microsoft.com/",
        custom_subdomain=None,
        subscription_id=SUB,
    )
    turbo = make_deployment("chat", "gpt-35-turbo", "0125", "Standard", 10, state=None, account_id=account.id)
    facts = Facts(
        accounts=(account,),
        deployments=(turbo,),
        regions=(Region(SUB, "westeurope", tuple(catalog), tuple(usages)),),
        content_filter_policies={account.id: ()},
    )
    report = audit(facts, rules, kb, today=TODAY)
    got = {f.rule_id: f for f in report.findings}
    assert got["AOAI-REGION-001"].status is Status.PASS
    retired = got["AOAI-LIFE-001"]
    assert retired.status is Status.FAIL and "2025-11-11" in retired.message and "gpt-4.1-mini" in retired.message
    assert got["AOAI-DEPLOY-006"].status is Status.PASS
    quota = got["AOAI-QUOTA-001"]
    assert quota.status is not Status.UNKNOWN  # OpenAI.Standard.gpt-35-turbo: 0 of 480
    assert not [
        f
        for f in report.findings
        if f.status is Status.UNKNOWN
        and f.severity in (Severity.ERROR, Severity.WARNING)
        and f.rule_id.startswith(("AOAI-REGION", "AOAI-DEPLOY"))
    ]


def test_each_recorded_quota_line_says_what_it_counts(replayed) -> None:
    from auditor.engine.views import usage_unit

    _, _, usages = replayed
    units = {u.name: usage_unit(u.localized_name) for u in usages}
    assert units["OpenAI.Standard.gpt-35-turbo"] == "tokens per minute (x1,000)"
    assert units["OpenAI.Standard.whisper"] == "requests per minute"
    assert units["OpenAI.GlobalBatch.gpt-35-turbo"] == "enqueued tokens (x1,000)"
    assert units["OpenAI.DataZoneBatch.gpt-4o"] == "enqueued prompt tokens (x1,000)"
    assert units["OpenAI.Provisioned.gpt-35-turbo"] == "provisioned throughput units"
    assert units["OpenAI.S0.AccountCount"] == "count"  # a line naming no model
    assert units["OpenAI.Standard.o1-mini"] == "tokens per minute (x10,000)"  # "Ten Thousand Tokens Per Minute"
    assert units["OpenAI.DataZoneStandard.o1"] == "tokens per minute (x6,000)"
    assert units["OpenAI.GlobalStandard.o3"] == "tokens per minute (x1,000)"  # "One Thousand ..."
    assert units["OpenAI.GlobalStandard.o4-mini"] == "tokens per minute (x1,000)"  # "Thousand ..."
    assert units["OpenAI.GlobalBatch.o3"] == "enqueued prompt tokens (x10,000)"
    assert units["OpenAI.Provisioned.o1"] == "provisioned throughput units"  # names TPM, counts PTUs
    assert units["AIServices.GlobalStandard.FLUX-1.1-pro"] == "requests per minute"
    assert units["AccountCount"] == units["AIServices.GlobalStandard.MaaS"] == "count"


def test_the_recorded_2022_deployment_names_its_sku_by_scale_type(replayed) -> None:
    """The .NET SDK's recording (api-version 2022-12-01): scaleSettings {scaleType: Standard} and no capacity,
    capabilities {completion, search} on the deployment itself."""
    facts, _, _ = replayed
    (ada,) = [d for d in facts.deployments if d.name == "testDeployment-2100"]
    assert (ada.model_name, ada.sku_name, ada.sku_capacity, ada.scale_type) == (
        "text-ada-001",
        "Standard",
        None,
        "Standard",
    )
    assert dict(ada.capabilities) == {"completion": "true", "search": "true"}
    assert ada.state is None and not ada.paused and ada.provisioning_state == "Succeeded"
    (account,) = [a for a in facts.accounts if a.name == "testAccount-7755"]
    assert (
        account.endpoint == "https://southcentralus.api.cognitive.microsoft.com/" and account.custom_subdomain is None
    )
