"""The nightly compliance checks: an organisation's policy file, Azure Monitor (diagnostic settings and
per-deployment activity) and content filter completeness. Wire shapes follow azure-rest-api-specs
(monitor preview/2021-05-01-preview/examples/listDiagnosticSettings.json, stable/2021-05-01/examples/GetMetric.json;
cognitiveservices stable/2025-09-01/examples/ListRaiContentFilters.json for filter names)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from auditor.engine.evaluate import evaluate_all
from auditor.engine.policy import load_policy
from auditor.engine.rules import Rule
from auditor.knowledge.base import KnowledgeBase
from auditor.model.errors import InputError
from auditor.model.facts import (
    AccountMonitoring,
    ContentFilter,
    ContentFilterPolicy,
    DeploymentActivity,
    DiagnosticSetting,
    Facts,
)
from auditor.model.results import Status
from auditor.sources.monitor import activity_from_sdk, diagnostic_setting_from_sdk
from tests.conftest import ACCOUNT_ID, TODAY, make_account, make_deployment, make_facts

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "rules" / "policies" / "azure-baseline.yaml"
ALL_LOGS = DiagnosticSetting("to-law", ("allLogs",), True, ("workspace",))


def monitored(facts: Facts, settings: Any = (ALL_LOGS,), activity: Any = ()) -> Facts:
    return replace(facts, monitoring={ACCOUNT_ID: AccountMonitoring(settings, activity)})


def with_filters(*filters: ContentFilter, mode: str = "Blocking", name: str = "custom") -> Facts:
    policy = ContentFilterPolicy(name, "UserManaged", mode, "Microsoft.DefaultV2", filters)
    facts = make_facts(make_deployment("c", rai_policy_name=name))
    return replace(facts, content_filter_policies={ACCOUNT_ID: (policy,)})


def full_filters(threshold: str = "Medium", *, shields: bool = True) -> tuple[ContentFilter, ...]:
    harms = tuple(
        ContentFilter(c, s, True, True, threshold)
        for c in ("Hate", "Sexual", "Violence", "Selfharm")
        for s in ("Prompt", "Completion")
    )
    extra = (ContentFilter("Jailbreak", "Prompt", True, True),) if shields else ()
    return harms + extra


def throttled(requests: float, rejected: float, sku: str = "GlobalStandard", peak: float | None = None) -> Facts:
    facts = make_facts(make_deployment("c", sku=sku))
    return monitored(facts, activity=(DeploymentActivity("c", requests, rejected, peak),))


RULE_CASES: list[tuple[str, Status, Callable[[], Facts]]] = [
    # diagnostic logs: judged only when Azure Monitor was read; a failed read is unknown, never a pass
    ("AOAI-SEC-009", Status.PASS, lambda: monitored(make_facts(make_deployment("c")))),
    ("AOAI-SEC-009", Status.FAIL, lambda: monitored(make_facts(make_deployment("c")), settings=())),
    (
        "AOAI-SEC-009",
        Status.FAIL,
        lambda: monitored(
            make_facts(make_deployment("c")), settings=(DiagnosticSetting("a", ("Audit",), False, ("storage",)),)
        ),
    ),
    (
        "AOAI-SEC-009",
        Status.FAIL,  # logs chosen but sent nowhere
        lambda: monitored(make_facts(make_deployment("c")), settings=(DiagnosticSetting("x", ("allLogs",)),)),
    ),
    ("AOAI-SEC-009", Status.UNKNOWN, lambda: monitored(make_facts(make_deployment("c")), settings=None)),
    ("AOAI-SEC-010", Status.PASS, lambda: make_facts(make_deployment("c"))),
    (
        "AOAI-SEC-010",
        Status.FAIL,  # a deny-by-default firewall passes SEC-002 but is still a public endpoint
        lambda: make_facts(make_deployment("c"), account=make_account(public_network_access="Enabled")),
    ),
    # the built-in Microsoft.DefaultV2, absent from the account's raiPolicies list: its filters are documented
    (
        "AOAI-SEC-011",
        Status.PASS,
        lambda: replace(make_facts(make_deployment("c")), content_filter_policies={ACCOUNT_ID: ()}),
    ),
    ("AOAI-SEC-011", Status.PASS, lambda: with_filters(*full_filters())),
    ("AOAI-SEC-011", Status.FAIL, lambda: with_filters(*full_filters(shields=False))),
    (
        "AOAI-SEC-011",
        Status.FAIL,  # present but only annotating
        lambda: with_filters(*full_filters(shields=False), ContentFilter("Jailbreak", "Prompt", True, False)),
    ),
    ("AOAI-SEC-012", Status.PASS, lambda: with_filters(*full_filters("Low"))),
    ("AOAI-SEC-012", Status.FAIL, lambda: with_filters(*full_filters("High"))),
    ("AOAI-SEC-012", Status.FAIL, lambda: with_filters(*full_filters()[2:])),  # hate filtered on neither side
    ("AOAI-QUOTA-003", Status.PASS, lambda: throttled(10_000, 20)),
    ("AOAI-QUOTA-003", Status.FAIL, lambda: throttled(10_000, 500)),
    ("AOAI-QUOTA-003", Status.PASS, lambda: monitored(make_facts(make_deployment("c")))),  # no traffic recorded
    ("AOAI-QUOTA-003", Status.UNKNOWN, lambda: monitored(make_facts(make_deployment("c")), activity=None)),
    ("AOAI-QUOTA-004", Status.FAIL, lambda: throttled(10_000, 0, "GlobalProvisionedManaged", 97.0)),
    ("AOAI-QUOTA-004", Status.PASS, lambda: throttled(10_000, 0, "GlobalProvisionedManaged", 60.0)),
    ("AOAI-QUOTA-004", Status.UNKNOWN, lambda: throttled(10_000, 0, "GlobalProvisionedManaged", None)),
]


def _status(rule_id: str, facts: Facts, rules: list[Rule], kb: KnowledgeBase) -> list[Status]:
    chosen = [r for r in rules if r.id == rule_id]
    assert chosen, rule_id
    return [f.status for f in evaluate_all(chosen, facts, kb, TODAY) if f.rule_id == rule_id]


@pytest.mark.parametrize(("rule_id", "expected", "build"), RULE_CASES, ids=lambda v: getattr(v, "value", v))
def test_compliance_rule_cases(rule_id: str, expected: Status, build: Callable[[], Facts], rules, kb) -> None:
    assert _status(rule_id, build(), rules, kb) == [expected]


@pytest.mark.parametrize(
    ("rule_id", "facts"),
    [
        # without --monitor nothing was asked of Azure Monitor: no finding, neither pass nor unknown
        ("AOAI-SEC-009", make_facts(make_deployment("c"))),
        ("AOAI-QUOTA-003", make_facts(make_deployment("c"))),
        # utilisation is a provisioned-throughput metric: a standard deployment gets no finding
        ("AOAI-QUOTA-004", throttled(10_000, 0, "GlobalStandard", None)),
        # a managed identity matters where the account reaches a customer key or its own storage
        (
            "AOAI-SEC-004",
            make_facts(
                make_deployment("c"),
                account=make_account(identity_type=None, encryption_key_source="Microsoft.CognitiveServices"),
            ),
        ),
        # no content filter policy named: AOAI-SEC-006 says so; the completeness checks do not pile on
        ("AOAI-SEC-011", make_facts(make_deployment("c", rai_policy_name=None))),
    ],
)
def test_rules_that_do_not_apply_make_no_finding(rule_id: str, facts: Facts, rules, kb) -> None:
    assert _status(rule_id, facts, rules, kb) == []


def test_managed_identity_is_required_for_user_owned_storage(rules, kb) -> None:
    account = make_account(
        identity_type=None, encryption_key_source="Microsoft.CognitiveServices", user_owned_storage=("/sa/1",)
    )
    assert _status("AOAI-SEC-004", make_facts(make_deployment("c"), account=account), rules, kb) == [Status.FAIL]


# -- Azure Monitor wire shapes through the SDK's own models ---------------------------------------------


def test_diagnostic_settings_are_read_from_the_published_shape() -> None:
    from azure.mgmt.monitor.v2021_05_01_preview.models import DiagnosticSettingsResourceCollection

    body = {  # listDiagnosticSettings.json (2021-05-01-preview), trimmed to one setting
        "value": [
            {
                "id": "/subscriptions/s/resourcegroups/rg/providers/microsoft.cognitiveservices/accounts/a"
                "/providers/microsoft.insights/diagnosticSettings/mysetting",
                "type": "Microsoft.Insights/diagnosticSettings",
                "name": "mysetting",
                "properties": {
                    "storageAccountId": "/subscriptions/s/resourceGroups/apptest/providers/Microsoft.Storage/storageAccounts/x",
                    "eventHubAuthorizationRuleId": "/subscriptions/s/resourceGroups/r/providers/Microsoft.EventHub/namespaces/n/authorizationrules/RootManageSharedAccessKey",
                    "workspaceId": "",
                    "metrics": [
                        {"category": "AllMetrics", "enabled": True, "retentionPolicy": {"enabled": False, "days": 0}}
                    ],
                    "logs": [
                        {"categoryGroup": "allLogs", "enabled": True, "retentionPolicy": {"enabled": False, "days": 0}},
                        {"category": "Trace", "enabled": False},
                    ],
                },
            }
        ]
    }
    (setting,) = [diagnostic_setting_from_sdk(i) for i in DiagnosticSettingsResourceCollection.deserialize(body).value]
    assert setting == DiagnosticSetting("mysetting", ("allLogs",), True, ("storage", "event_hub"))


def test_metrics_are_split_by_deployment_and_status_code() -> None:
    from azure.mgmt.monitor.v2021_05_01.models import Response

    def series(dims: dict[str, str], key: str, values: list[float | None]) -> dict[str, Any]:
        return {
            "metadatavalues": [{"name": {"value": k, "localizedValue": k}, "value": v} for k, v in dims.items()],
            "data": [{"timeStamp": f"2026-11-2{i}T00:00:00Z", key: v} for i, v in enumerate(values)],
        }

    def metric(name: str, timeseries: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "cost": 0,
            "timespan": "2026-11-26T00:00:00Z/2026-12-03T00:00:00Z",
            "interval": "PT1H",
            "value": [
                {
                    "id": f"x/providers/Microsoft.Insights/metrics/{name}",
                    "type": "Microsoft.Insights/metrics",
                    "name": {"value": name, "localizedValue": name},
                    "unit": "Count",
                    "timeseries": timeseries,
                    "errorCode": "Success",
                }
            ],
            "namespace": "Microsoft.CognitiveServices/accounts",
            "resourceregion": "eastus2",
        }

    requests = Response.deserialize(
        metric(
            "AzureOpenAIRequests",
            [
                series({"modeldeploymentname": "chat", "statuscode": "200"}, "total", [100.0, None, 50.0]),
                series({"modeldeploymentname": "chat", "statuscode": "429"}, "total", [7.0, 3.0]),
                series({"modeldeploymentname": "ptu", "statuscode": "200"}, "total", [10.0]),
            ],
        )
    )
    utilisation = Response.deserialize(
        metric(
            "AzureOpenAIProvisionedManagedUtilizationV2",
            [series({"modeldeploymentname": "ptu"}, "maximum", [40.0, 99.5, None])],
        )
    )
    assert activity_from_sdk(requests.value, utilisation.value) == (
        DeploymentActivity("chat", 160.0, 10.0, None),
        DeploymentActivity("ptu", 10.0, 0.0, 99.5),
    )


# -- the policy file ------------------------------------------------------------------------------------


def test_example_policy_compiles_into_rules_with_their_source() -> None:
    policy = load_policy(BASELINE)
    compiled = policy.rules()
    assert policy.needs_monitor
    assert len({r.id for r in compiled}) == len(compiled) >= 18
    assert {r.category for r in compiled} == {"policy"}
    assert all(r.source.startswith(str(BASELINE)) and r.references for r in compiled)


@pytest.mark.parametrize(
    ("text", "line", "says"),
    [
        ("apiVersion: auditor/policy/v1\npolicy:\n  models:\n    alowed: [gpt-4o]\n", 4, "alowed"),
        ("apiVersion: auditor/policy/v1\npolicy:\n  accounts:\n    local_auth: maybe\n", 4, "maybe"),
        ("apiVersion: auditor/policy/v1\npolicy:\n  naming:\n    accounts: '[a-z'\n", 4, "regular expression"),
        ("apiVersion: auditor/policy/v1\npolicy: {}\n", 2, "policy"),
        ("apiVersion: auditor/policy/v2\npolicy:\n  regions: {allowed: [eastus]}\n", 1, "auditor/policy/v1"),
        ("apiVersion: auditor/policy/v1\npolicy:\n  regions: [eastus\n", 4, "YAML"),
        (
            "apiVersion: auditor/policy/v1\npolicy:\n  content_filtering:\n    severity_thresholds: {hate: Extreme}\n",
            4,
            "Extreme",
        ),
    ],
)
def test_a_malformed_policy_names_file_and_line(tmp_path: Path, text: str, line: int, says: str) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_policy(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:{line}:"), message
    assert says in message and "\n" not in message


def test_cli_refuses_a_bad_policy_before_any_azure_call(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from auditor.cli import main

    path = tmp_path / "policy.yaml"
    path.write_text("apiVersion: auditor/policy/v1\npolicy:\n  tags: {accounts: owner}\n", encoding="utf-8")
    assert main(["--resource", "x", "--policy", str(path), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"{path}:3" in err[0] and "Traceback" not in err[0]


def _policy_rules(tmp_path: Path, body: str) -> list[Rule]:
    path = tmp_path / "policy.yaml"
    path.write_text("apiVersion: auditor/policy/v1\nname: org\npolicy:\n" + body, encoding="utf-8")
    return load_policy(path).rules()


def _results(rules: list[Rule], facts: Facts, kb: KnowledgeBase) -> dict[str, list[Status]]:
    found: dict[str, list[Status]] = {}
    for finding in evaluate_all(rules, facts, kb, TODAY):
        found.setdefault(finding.rule_id, []).append(finding.status)
    return found


def test_a_compliant_tenant_passes_every_statement(tmp_path: Path, kb) -> None:
    """No false block: an account and deployment that meet every statement get passes only."""
    rules = _policy_rules(tmp_path, BASELINE.read_text(encoding="utf-8").split("\npolicy:\n", 1)[1])
    account = make_account(name="aoai-prod", tags={"owner": "platform", "env": "prod"}, location="swedencentral")
    deployment = make_deployment(
        "chat", "gpt-4.1", "2025-04-14", "DataZoneStandard", rai_policy_name="strict", tags={"owner": "app"}
    )
    policy = ContentFilterPolicy(
        "strict",
        "UserManaged",
        "Blocking",
        None,
        (
            *full_filters("Low"),
            ContentFilter("Indirect Attack", "Prompt", True, True),
            ContentFilter("Protected Material Text", "Completion", True, True),
            ContentFilter("Protected Material Code", "Completion", True, True),
        ),
    )
    facts = replace(monitored(make_facts(deployment, account=account)), content_filter_policies={ACCOUNT_ID: (policy,)})
    results = _results(rules, facts, kb)
    assert results and all(statuses == [Status.PASS] for statuses in results.values()), results
    assert "POLICY-PROVISIONED-001" not in results  # not provisioned: the statement does not apply


def test_each_statement_fails_on_what_it_forbids(tmp_path: Path, kb) -> None:
    rules = _policy_rules(
        tmp_path,
        "  models: {allowed: ['gpt-4.1*'], denied: ['gpt-4o:2024-05-13']}\n"
        "  deployment_types: {allowed: [DataZoneStandard]}\n"
        "  regions: {allowed: [swedencentral]}\n"
        "  accounts: {local_auth: disabled, public_network: disabled, managed_identity: required}\n"
        "  tags: {deployments: [cost-center]}\n"
        "  naming: {deployments: 'app-[a-z]+'}\n"
        "  provisioned: {spillover: required}\n",
    )
    account = make_account(disable_local_auth=False, public_network_access="Enabled", identity_type="None")
    deployment = make_deployment("Chat_1", "gpt-4o", "2024-05-13", "ProvisionedManaged")
    results = _results(rules, make_facts(deployment, account=account), kb)
    assert {rule_id for rule_id, statuses in results.items() if statuses == [Status.FAIL]} == {
        "POLICY-MODELS-001",
        "POLICY-MODELS-002",
        "POLICY-DEPLOYMENT-TYPES-001",
        "POLICY-REGIONS-001",
        "POLICY-ACCOUNTS-001",
        "POLICY-ACCOUNTS-002",
        "POLICY-ACCOUNTS-005",
        "POLICY-TAGS-002",
        "POLICY-NAMING-002",
        "POLICY-PROVISIONED-001",
    }


def test_a_statement_that_needs_monitor_data_is_unknown_without_it(tmp_path: Path, kb) -> None:
    rules = _policy_rules(tmp_path, "  accounts: {diagnostic_logs: audit}\n")
    facts = monitored(make_facts(make_deployment("c")), settings=None)
    assert _results(rules, facts, kb) == {"POLICY-ACCOUNTS-006": [Status.UNKNOWN]}


def test_policy_rules_are_never_dropped_by_a_pinned_ruleset(tmp_path: Path) -> None:
    from auditor.pipeline.audit import select_rules

    rules = _policy_rules(tmp_path, "  regions: {allowed: [eastus]}\n")
    assert [r.id for r in select_rules(rules, ruleset="2026.11")] == ["POLICY-REGIONS-001"]


# -- the demo tenant, end to end through the SDK clients ----------------------------------------------------


def test_demo_with_monitor_and_the_example_policy(tmp_path: Path) -> None:
    from tests.conftest import run_demo

    assert run_demo(tmp_path, "--format", "json", "--monitor", "--policy", str(BASELINE)) == 1
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    by = {(f["rule_id"], f["target_name"]): f["status"] for f in report["findings"]}
    expected = {
        ("AOAI-SEC-009", "contoso-aoai-eus2"): "pass",
        ("AOAI-SEC-009", "contoso-ai-swc"): "fail",
        ("AOAI-SEC-009", "fabrikam-aoai-wus"): "fail",
        ("AOAI-QUOTA-003", "contoso-aoai-eus2/chat-prod"): "pass",
        ("AOAI-QUOTA-003", "contoso-aoai-eus2/bulk-41mini"): "fail",
        ("AOAI-QUOTA-004", "contoso-aoai-eus2/ptu-chat"): "fail",
        ("AOAI-SEC-011", "fabrikam-aoai-wus/dev-mini"): "fail",
        ("AOAI-SEC-011", "contoso-aoai-eus2/chat-prod"): "pass",
        ("AOAI-SEC-012", "fabrikam-aoai-wus/dev-mini"): "fail",
        ("AOAI-SEC-012", "contoso-aoai-eus2/ptu-chat"): "pass",
        ("POLICY-CONTENT-FILTERING-004", "contoso-aoai-eus2/ptu-chat"): "fail",
        ("POLICY-CONTENT-FILTERING-004", "contoso-aoai-eus2/chat-prod"): "pass",
        ("POLICY-PROVISIONED-001", "contoso-aoai-eus2/ptu-chat"): "fail",
        ("POLICY-TAGS-001", "contoso-aoai-eus2"): "pass",
        ("POLICY-TAGS-001", "contoso-ai-swc"): "fail",
        ("POLICY-ACCOUNTS-006", "contoso-aoai-eus2"): "pass",
        ("POLICY-ACCOUNTS-006", "fabrikam-aoai-wus"): "fail",
        ("POLICY-MODELS-002", "contoso-ai-swc/legacy-35"): "fail",
        ("POLICY-MODELS-002", "contoso-aoai-eus2/chat-prod"): "pass",
        ("AOAI-QUOTA-004", "fabrikam-aoai-wus/ptu-batch"): "pass",
        ("POLICY-PROVISIONED-001", "fabrikam-aoai-wus/ptu-batch"): "pass",
        ("AOAI-SEC-004", "contoso-aoai-eus2"): "pass",
        ("AOAI-SEC-004", "contoso-ai-swc"): "fail",
        ("POLICY-REGIONS-001", "fabrikam-aoai-wus"): "fail",
        ("POLICY-REGIONS-001", "contoso-ai-swc"): "pass",
    }
    assert ("AOAI-SEC-004", "fabrikam-aoai-wus") not in by  # neither a key in Key Vault nor its own storage
    assert {key: by.get(key) for key in expected} == expected
    assert not report.get("gaps")


def test_monitor_reads_only_get_and_a_failed_read_is_unknown_with_its_gap(tenant, tmp_path: Path) -> None:
    """Azure Monitor answers 500 on every diagnostic-settings read (after the SDK's retries): the accounts are
    incomplete with the reason, AOAI-SEC-009 is unknown everywhere, the metrics that were read still decide
    AOAI-QUOTA-003, and nothing is written to Azure."""
    from auditor.cli import main
    from auditor.demo.sim import FaultRule

    error = {"error": {"code": "InternalServerError", "message": "Something went wrong."}}
    tenant.add_fault(FaultRule(r"(?i)/providers/microsoft\.insights/diagnosticSettings", 500, error, times=None))
    code = main(
        [
            "--management-endpoint",
            tenant.management_url,
            "--out",
            str(tmp_path),
            "--quiet",
            "--all",
            "--monitor",
            "--format",
            "json",
            "--fail-on",
            "never",
        ]
    )
    assert code == 3  # incomplete, and nothing else failed at the gate
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    sec = {f["target_name"]: f for f in report["findings"] if f["rule_id"] == "AOAI-SEC-009"}
    assert set(sec) == {"contoso-aoai-eus2", "contoso-ai-swc", "fabrikam-aoai-wus"}
    assert {f["status"] for f in sec.values()} == {"unknown"}
    assert all("diagnostic settings" in g for g in report["gaps"]) and len(report["gaps"]) == 3
    throttled = [f for f in report["findings"] if f["rule_id"] == "AOAI-QUOTA-003" and f["status"] == "fail"]
    assert {f["target_name"] for f in throttled} == {"contoso-aoai-eus2/bulk-41mini", "fabrikam-aoai-wus/dev-mini"}
    insights = tenant.requests(plane="arm", path_pattern=r"(?i)microsoft\.insights")
    assert insights and {r.method for r in insights} == {"GET"}
