"""No pass without evidence, no error- or warning-level unknown that Azure's own data settles: the absences and
shapes real Azure sends (issue 25), each pinned at the rule that reads them."""

from __future__ import annotations

from datetime import date

import pytest

from auditor.engine.evaluate import evaluate_all
from auditor.model.clouds import CLOUDS, get_cloud, regional_endpoint
from auditor.model.facts import CatalogModel, CatalogSku, ContractCall, Facts, Region
from auditor.model.results import Cause, Severity, Status
from auditor.probes.selection import endpoint_refusal
from tests.conftest import SUB, make_account, make_deployment

TODAY = date(2026, 12, 3)


def _entry(name: str, version: str, skus: tuple[str, ...] = ("GlobalStandard",), **kw) -> CatalogModel:
    values = {
        "kind": "OpenAI",
        "format": "OpenAI",
        "name": name,
        "version": version,
        "lifecycle_status": "GenerallyAvailable",
        "capabilities": {"chatCompletion": "true"},
        "skus": tuple(CatalogSku(s, f"OpenAI.{s}.{name}") for s in skus),
        **kw,
    }
    return CatalogModel(**values)


def _facts(*deployments, catalog=(), account=None, contract=None, account_models=None) -> Facts:
    account = account or make_account()
    return Facts(
        accounts=(account,),
        deployments=tuple(deployments),
        regions=(Region(SUB, account.location, tuple(catalog), ()),),
        contract=contract,
        content_filter_policies={account.id: ()},
        account_models=account_models or {},
    )


def _one(facts: Facts, rule_id: str, rules, kb):
    (finding,) = list(evaluate_all([r for r in rules if r.id == rule_id], facts, kb, TODAY))
    return finding


def _none(facts: Facts, rule_id: str, rules, kb) -> bool:
    return not list(evaluate_all([r for r in rules if r.id == rule_id], facts, kb, TODAY))


def test_no_deployment_state_is_not_paused_and_paused_is(rules, kb) -> None:
    catalog = [_entry("gpt-4o", "2024-11-20")]
    running = _one(_facts(make_deployment(state=None), catalog=catalog), "AOAI-DEPLOY-006", rules, kb)
    assert running.status is Status.PASS and "no deploymentState" in running.message
    paused = _one(_facts(make_deployment(state="Paused"), catalog=catalog), "AOAI-DEPLOY-006", rules, kb)
    assert paused.status is Status.FAIL


def test_an_absent_version_upgrade_option_is_never_a_pass(rules, kb) -> None:
    retiring = [_entry("gpt-4o", "2024-11-20", inference_deprecation=date(2027, 1, 15))]
    finding = _one(_facts(make_deployment(version_upgrade_option=None), catalog=retiring), "AOAI-LIFE-004", rules, kb)
    assert finding.status is Status.UNKNOWN and finding.cause is Cause.AZURE
    assert finding.severity is Severity.WARNING and "versionUpgradeOption" in (finding.reason or "")
    pinned = _one(
        _facts(make_deployment(version_upgrade_option="NoAutoUpgrade"), catalog=retiring), "AOAI-LIFE-004", rules, kb
    )
    assert pinned.status is Status.FAIL


def test_an_empty_sku_list_is_not_offered_even_when_the_sku_is_unknown(rules, kb) -> None:
    manual = make_deployment(capacity=1, scale_type="Manual", sku_name=None)
    finding = _one(_facts(manual, catalog=[_entry("gpt-4o", "2024-11-20", skus=())]), "AOAI-REGION-001", rules, kb)
    assert finding.status is Status.FAIL
    listed = _one(_facts(manual, catalog=[_entry("gpt-4o", "2024-11-20")]), "AOAI-REGION-001", rules, kb)
    assert listed.status is Status.UNKNOWN  # listed with SKUs, and which one Manual ran under is not said


def test_a_version_missing_from_the_catalog_gets_no_lifecycle_pass(rules, kb) -> None:
    facts = _facts(make_deployment(), catalog=[_entry("gpt-4o", "2024-08-06")])
    assert _one(facts, "AOAI-REGION-001", rules, kb).status is Status.FAIL
    assert _none(facts, "AOAI-LIFE-005", rules, kb)  # not "is none in the catalog"


def test_a_fine_tune_is_judged_on_the_accounts_models_list(rules, kb) -> None:
    ft = make_deployment("ft", "gpt-4o-mini-2024-07-18.ft-abc", "1", "Standard", model_source="/subscriptions/x")
    account = make_account()
    unread = _facts(ft, catalog=[_entry("gpt-4o-mini", "2024-07-18")], account=account)
    region = _one(unread, "AOAI-REGION-001", rules, kb)
    assert region.status is Status.UNKNOWN and "models list of account" in (region.reason or "")
    listed = {account.id: (_entry(ft.model_name or "", "1", ("Standard",), inference_deprecation=date(2026, 10, 1)),)}
    read = _facts(ft, catalog=[_entry("gpt-4o-mini", "2024-07-18")], account=account, account_models=listed)
    assert _one(read, "AOAI-REGION-001", rules, kb).status is Status.PASS
    retired = _one(read, "AOAI-LIFE-001", rules, kb)
    assert retired.status is Status.FAIL and "2026-10-01" in retired.message  # not "retirement: none"


def test_a_definite_sku_date_wins_over_a_tentative_model_date(rules, kb) -> None:
    entry = _entry(
        "gpt-4o",
        "2024-11-20",
        skus=(),
        inference_deprecation=date(2027, 6, 1),
        deprecation_tentative=True,
    )
    entry = CatalogModel(
        **{**entry.__dict__, "skus": (CatalogSku("ProvisionedManaged", "u", deprecation_date=date(2026, 10, 1)),)}
    )
    facts = _facts(make_deployment(sku="ProvisionedManaged"), catalog=[entry])
    assert _one(facts, "AOAI-LIFE-001", rules, kb).status is Status.FAIL
    later = CatalogModel(
        **{**entry.__dict__, "skus": (CatalogSku("ProvisionedManaged", "u", deprecation_date=date(2027, 9, 1)),)}
    )
    tentative = _facts(make_deployment(sku="ProvisionedManaged"), catalog=[later])
    assert _none(tentative, "AOAI-LIFE-001", rules, kb)  # the model's earlier date is tentative: LIFE-006's case
    assert _one(tentative, "AOAI-LIFE-006", rules, kb).status is Status.PASS  # 2027-06-01 is not within 30 days


def test_the_auto_upgrade_is_reported_with_model_version_and_date(rules, kb) -> None:
    entry = _entry(
        "gpt-35-turbo",
        "0125",
        ("Standard",),
        replacement_name="gpt-4.1-mini",
        replacement_version="2025-04-14",
        replacement_auto_upgrade_start=date(2025, 9, 30),
    )
    dep = make_deployment("chat", "gpt-35-turbo", "0125", "Standard")
    finding = _one(_facts(dep, catalog=[entry]), "AOAI-LIFE-008", rules, kb)
    assert finding.status is Status.FAIL
    assert "gpt-4.1-mini 2025-04-14" in finding.message and "2025-09-30" in finding.message
    pinned = make_deployment("chat", "gpt-35-turbo", "0125", "Standard", version_upgrade_option="NoAutoUpgrade")
    assert _one(_facts(pinned, catalog=[entry]), "AOAI-LIFE-008", rules, kb).status is Status.PASS
    assert _none(_facts(make_deployment(), catalog=[_entry("gpt-4o", "2024-11-20")]), "AOAI-LIFE-008", rules, kb)


def test_a_legacy_completions_model_is_read_from_its_catalog_entry(rules, kb) -> None:
    caps = {"completion": "true", "search": "true", "inference": "true"}
    entry = _entry("code-cushman-001", "1", ("Standard",), capabilities=caps)
    dep = make_deployment("cushman", "code-cushman-001", "1", "Standard")
    api = _one(_facts(dep, catalog=[entry]), "AOAI-API-002", rules, kb)
    assert "supports Chat Completions" not in api.message
    assert _none(_facts(dep, catalog=[entry]), "AOAI-PARAM-002", rules, kb)  # decided: not a chat model
    call = ContractCall("cushman", "chat_completions", {"messages": []})
    assert _one(_facts(dep, catalog=[entry], contract=(call,)), "AOAI-API-001", rules, kb).status is Status.FAIL
    explicit = _entry("code-cushman-001", "1", ("Standard",), capabilities={**caps, "chatCompletion": "false"})
    assert _one(_facts(dep, catalog=[explicit], contract=(call,)), "AOAI-API-001", rules, kb).status is Status.FAIL


@pytest.mark.parametrize(("value", "expected"), [(4096, Status.PASS), (4097, Status.FAIL)])
def test_the_output_limit_is_not_off_by_one(value: int, expected: Status, rules, kb) -> None:
    caps = {"chatCompletion": "true", "maxOutputToken": "4096"}
    entry = _entry("gpt-35-turbo", "0125", ("Standard",), capabilities=caps)
    call = ContractCall("chat", "chat_completions", {"max_tokens": value})
    facts = _facts(make_deployment("chat", "gpt-35-turbo", "0125", "Standard"), catalog=[entry], contract=(call,))
    finding = _one(facts, "AOAI-PARAM-011", rules, kb)
    assert finding.status is expected and "4,096" in finding.message
    assert "accepts max_tokens" not in _one(facts, "AOAI-PARAM-001", rules, kb).message


def test_regional_endpoints_take_keys_only(rules, kb) -> None:
    regional = make_account(
        endpoint="https://westus2.api.cognitive.microsoft.com/", custom_subdomain=None, disable_local_auth=None
    )
    facts = _facts(catalog=[], account=regional)
    assert _one(facts, "AOAI-SEC-013", rules, kb).status is Status.FAIL
    assert _none(facts, "AOAI-SEC-001", rules, kb)  # disabling keys would lock every caller out
    own = make_account(disable_local_auth=None)
    assert _one(_facts(catalog=[], account=own), "AOAI-SEC-001", rules, kb).status is Status.FAIL
    assert _one(_facts(catalog=[], account=own), "AOAI-SEC-013", rules, kb).status is Status.PASS


@pytest.mark.parametrize(
    ("cloud", "host"),
    [
        ("AzureCloud", "westus2.api.cognitive.microsoft.com"),
        ("AzureCloud", "myres.openai.azure.com"),
        ("AzureCloud", "myres.cognitiveservices.azure.com"),
        ("AzureCloud", "myres.services.ai.azure.com"),
        ("AzureChinaCloud", "chinaeast2.api.cognitive.azure.cn"),
        ("AzureChinaCloud", "myres.openai.azure.cn"),
        ("AzureUSGovernment", "usgovvirginia.api.cognitive.microsoft.us"),
        ("AzureUSGovernment", "myres.openai.azure.us"),
    ],
)
def test_the_allow_list_accepts_every_endpoint_form_azure_issues(cloud: str, host: str) -> None:
    assert endpoint_refusal(f"https://{host}/openai/v1/", get_cloud(cloud), ()) is None


@pytest.mark.parametrize(
    "host",
    [
        "westus2.api.cognitive.microsoft.com.evil.example",
        "a.b.api.cognitive.microsoft.com",
        "api.cognitive.microsoft.com",
        "westus2.api.cognitive.azure.cn",  # another cloud's regional host
        "evil-api.cognitive.microsoft.com",
    ],
)
def test_the_allow_list_accepts_nothing_else(host: str) -> None:
    assert endpoint_refusal(f"https://{host}/openai/v1/", CLOUDS["AzureCloud"], ())


def test_regional_endpoint_is_recognised_in_every_cloud() -> None:
    assert regional_endpoint("https://eastus.api.cognitive.microsoft.com/")
    assert regional_endpoint("https://chinanorth3.api.cognitive.azure.cn/")
    assert not regional_endpoint("https://myres.openai.azure.com/")
    assert not regional_endpoint(None)


def test_a_fine_tune_the_accounts_list_does_not_name_gets_no_retirement_pass(rules, kb) -> None:
    ft = make_deployment("ft", "custom-model-name", "1", "Standard", model_source="/subscriptions/x")
    account = make_account()
    facts = _facts(ft, catalog=[], account=account, account_models={account.id: ()})
    retired = _one(facts, "AOAI-LIFE-001", rules, kb)
    assert retired.status is not Status.PASS  # not "retirement: none"
    assert _one(facts, "AOAI-REGION-001", rules, kb).status is Status.FAIL  # the account does not list it
