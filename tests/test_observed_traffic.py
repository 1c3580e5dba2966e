"""The observed contract (issue 28): who calls each deployment, from Azure Monitor's AzureOpenAIRequests split by
deployment, operation, stream type, status code and model version, read through azure-mgmt-monitor against the
simulated tenant; the api-versions from a Log Analytics workspace through azure-monitor-query's LogsQueryClient;
contract entries with provenance; the AOAI-OBS rules and their parameters; the upgrade impact of observed calls."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, ClassVar

import pytest
from azure.mgmt.monitor.v2021_05_01.models import Response

from auditor.demo.sim.monitor import DEMO_WORKSPACE, metrics_json
from auditor.engine.rules import load_rule_file, load_rules
from auditor.model.clouds import get_cloud
from auditor.model.errors import InputError
from auditor.model.facts import AccountMonitoring, CollectionGap, ContractCall, Facts, ObservedOperation
from auditor.model.results import Cause, Status
from auditor.pipeline.audit import audit
from auditor.sources.traffic import SPLIT, api_of, observed_calls, traffic_from_sdk, with_observed_contract
from tests.conftest import make_deployment, make_facts, run_demo

TODAY = date(2026, 12, 7)
NOW = datetime(2026, 12, 7, 12, tzinfo=timezone.utc)


# -- operation names and the metric's shape -------------------------------------------------------------


def test_operation_names_map_to_the_contracts_apis_and_unknown_ones_stay_unknown() -> None:
    assert api_of("ChatCompletions_Create") == "chat_completions"
    assert api_of("chatcompletions_create") == "chat_completions"  # matched without regard to case
    assert api_of("embeddings_create") == "embeddings"  # the spec's own spelling
    assert api_of("Completions_Create") == "completions"
    assert api_of("Responses_Create") == api_of("createResponse") == "responses"
    assert api_of("ImageGenerations_Create") == "images"
    assert api_of("Batch_Create") is None


class _Account:
    """The few fields of a simulated account metrics_json reads."""

    id = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/acct"
    location = "eastus2"
    metrics: ClassVar[dict[str, Any]] = {}

    def __init__(self, traffic: dict[str, Any]) -> None:
        self.traffic = traffic

    def deployment(self, name: str) -> None:
        return None


TRAFFIC = {
    "chat": (
        {"operation": "ChatCompletions_Create", "streaming": 600, "status": {"200": 900, "400": 80, "429": 20}},
        {"operation": "Batch_Create", "status": {"200": 5}},
    ),
    "embed": ({"operation": "Embeddings_Create", "status": {"200": 70, "500": 30}, "modelVersion": "1"},),
    "mini": ({"operation": "Responses_Create", "streaming": 5, "status": {"200": 8, "401": 1, "404": 1}},),
}


def _metrics(account: Any, **query: str) -> Any:
    """The simulator's answer, read through the SDK's own model (Response.deserialize), as the reader gets it."""
    base = {"timespan": "2026-11-30T12:00:00Z/2026-12-07T12:00:00Z", "metricnames": "AzureOpenAIRequests"}
    return Response.deserialize(metrics_json(account, {**base, **query}))


def test_the_split_answer_becomes_one_entry_per_deployment_and_operation() -> None:
    split = " and ".join(f"{d} eq '*'" for d in SPLIT)
    answer = _metrics(_Account(TRAFFIC), **{"$filter": split, "top": "1000"})
    assert answer.value[0].name.value == "AzureOpenAIRequests"
    names = {m.name.value for s in answer.value[0].timeseries for m in s.metadatavalues}
    assert names == {d.lower() for d in SPLIT}  # Azure names split dimensions in lower case
    traffic = {(o.deployment, o.operation): o for o in traffic_from_sdk(answer.value, 7)}
    chat = traffic[("chat", "ChatCompletions_Create")]
    assert (chat.api, round(chat.requests), round(chat.streaming)) == ("chat_completions", 1000, 600)
    assert (round(chat.client_errors), round(chat.throttled), round(chat.server_errors)) == (80, 20, 0)
    assert len(chat.daily) == 7 and round(sum(chat.daily)) == 1000
    assert traffic[("chat", "Batch_Create")].api is None  # listed, never dropped
    embed = traffic[("embed", "Embeddings_Create")]
    assert (round(embed.server_errors), embed.model_versions) == (30, ("1",))
    assert embed.evidence == "observed: 100 Embeddings_Create calls in 7 days"


def test_the_simulator_cuts_at_top_as_azure_does() -> None:
    split = " and ".join(f"{d} eq '*'" for d in SPLIT)
    cut = _metrics(_Account(TRAFFIC), **{"$filter": split})  # no top: Azure's default of 10 series
    whole = _metrics(_Account(TRAFFIC), **{"$filter": split, "top": "1000"})
    assert len(cut.value[0].timeseries) == 10 < len(whole.value[0].timeseries)
    narrowed = _metrics(_Account(TRAFFIC), **{"$filter": "ModelDeploymentName eq 'embed' and StatusCode eq '*'"})
    assert [(s.metadatavalues[0].value, sum(p.total for p in s.data)) for s in narrowed.value[0].timeseries] == [
        ("200", pytest.approx(70, abs=0.1)),
        ("500", pytest.approx(30, abs=0.1)),
    ]


# -- reading the simulated tenant through the SDKs --------------------------------------------------------


@pytest.fixture()
def enumerator(tenant: Any) -> Any:
    from azure.identity import ManagedIdentityCredential

    from auditor.sources.azure import AzureEnumerator

    cloud = replace(get_cloud("AzureCloud", tenant.management_url), logs_endpoint=tenant.logs_endpoint)
    with ManagedIdentityCredential() as credential:
        yield AzureEnumerator(credential, cloud, connection_verify=tenant.ca_path)


def _demo_account(tenant: Any, enumerator: Any, name: str) -> Any:
    from auditor.sources.azure import resolve_accounts

    found, _ = resolve_accounts(enumerator, [name], all_accounts=False, subscriptions=(), resource_group=None)
    (account,) = found
    return account


def test_one_metrics_call_per_account_reads_who_calls_every_deployment(tenant: Any, enumerator: Any) -> None:
    account = _demo_account(tenant, enumerator, "contoso-aoai-eus2")
    tenant.clear_records()
    traffic = enumerator.monitor().traffic(account)
    calls = tenant.requests(plane="arm", path_pattern=r"(?i)/providers/microsoft\.insights/metrics")
    assert len(calls) == 1 and calls[0].method == "GET"
    assert calls[0].query["top"] == "1000" and calls[0].query["interval"] == "P1D"
    assert all(f"{d} eq '*'" in calls[0].query["$filter"] for d in SPLIT)
    by = {(o.deployment, o.operation): o for o in traffic}
    assert round(by[("gpt-5-pro", "ChatCompletions_Create")].client_errors) == 12400
    assert by[("bulk-41mini", "Batch_Create")].api is None
    assert round(by[("bulk-41mini", "ChatCompletions_Create")].throttled) == 5100
    assert by[("ptu-chat", "ChatCompletions_Create")].model_versions == ("2024-08-06",)
    assert all(o.api_versions is None for o in traffic)  # no logs read: unknown, not "none"


def test_a_cut_answer_is_narrowed_per_deployment_with_the_same_totals(tenant: Any, enumerator: Any) -> None:
    account = _demo_account(tenant, enumerator, "contoso-aoai-eus2")
    whole = enumerator.monitor().traffic(account)
    reader = enumerator.monitor()
    reader.series_limit = 6  # fewer than the account's series: the first answer may be cut
    tenant.clear_records()
    narrowed = reader.traffic(account)
    calls = tenant.requests(plane="arm", path_pattern=r"(?i)/providers/microsoft\.insights/metrics")
    deployments = {o.deployment for o in whole}
    assert len(calls) == 2 + len(deployments)  # the cut answer, the deployment names, one per deployment
    assert [(o.deployment, o.operation, round(o.requests)) for o in narrowed] == [
        (o.deployment, o.operation, round(o.requests)) for o in whole
    ]


def test_the_logs_give_each_operations_api_versions_through_logs_query_client(tenant: Any, enumerator: Any) -> None:
    account = _demo_account(tenant, enumerator, "contoso-aoai-eus2")
    tenant.clear_records()
    versions = enumerator.logs(DEMO_WORKSPACE).api_versions(account)
    assert versions[("gpt-5-pro", "chatcompletions_create")] == ["2024-10-21"]
    assert versions[("gpt-5-pro", "responses_create")] == ["2025-04-01-preview"]
    (query,) = tenant.requests(plane="logs")
    assert query.method == "POST" and query.path == f"/loganalytics/v1/workspaces/{DEMO_WORKSPACE}/query"
    with pytest.raises(Exception, match=r"(?i)workspace"):
        enumerator.logs("00000000-0000-4000-8000-00000000dead").api_versions(account)


def test_logs_and_arm_reads_in_parallel_each_keep_their_own_token(tenant: Any, enumerator: Any) -> None:
    """The Log Analytics client and the ARM clients run side by side on one pool: each request must carry its own
    audience's token (a pipeline policy shared between clients once handed them the other one's)."""
    from concurrent.futures import ThreadPoolExecutor

    from auditor.sources.azure import resolve_accounts

    accounts, _ = resolve_accounts(enumerator, [], all_accounts=True, subscriptions=(), resource_group=None)
    logs = enumerator.logs(DEMO_WORKSPACE)
    with ThreadPoolExecutor(8) as pool:
        jobs = [
            job
            for _ in range(3)
            for a in accounts
            for job in (
                pool.submit(logs.api_versions, a),
                pool.submit(enumerator.list_catalog, a.subscription_id, a.location),
                pool.submit(enumerator.list_deployments, a),
            )
        ]
    assert [str(j.exception()) for j in jobs if j.exception()] == []


# -- the observed contract in the fact model -------------------------------------------------------------


def _observed(deployment: str, operation: str, requests: float, **more: Any) -> ObservedOperation:
    return ObservedOperation(deployment, operation, api_of(operation), requests, **more)


def _with_traffic(facts: Facts, *traffic: ObservedOperation, logs: str | None = "no workspace") -> Facts:
    (account,) = facts.accounts
    monitoring = AccountMonitoring(diagnostic_settings=(), activity=(), traffic=traffic, logs=logs)
    return with_observed_contract(replace(facts, monitoring={account.id: monitoring}))


def test_observed_entries_carry_their_provenance_and_evidence() -> None:
    facts = _with_traffic(
        make_facts(make_deployment("chat", "gpt-4o", "2024-11-20")),
        _observed("chat", "ChatCompletions_Create", 12400.0),
        _observed("chat", "Batch_Create", 3.0),
    )
    (call,) = facts.contract or ()
    assert (call.provenance, call.api, call.account) == ("observed", "chat_completions", facts.accounts[0].name)
    assert (
        call.observed is not None
        and call.observed.evidence == "observed: 12,400 ChatCompletions_Create calls in 7 days"
    )
    assert observed_calls(replace(facts, monitoring=None)) == ()
    assert ContractCall("x", "responses").provenance == "declared"  # the default: a contract file


def _findings(facts: Facts, rules: list[Any], kb: Any, *ids: str) -> dict[tuple[str, str], Any]:
    report = audit(facts, [r for r in rules if r.id in ids], kb, today=TODAY, now=NOW)
    return {(f.rule_id, f.target_name): f for f in report.findings}


def test_a_responses_only_model_called_through_chat_completions_fails_with_the_traffic_as_evidence(rules, kb) -> None:
    facts = _with_traffic(
        make_facts(make_deployment("pro", "gpt-5-pro", "2025-10-06")),
        _observed("pro", "ChatCompletions_Create", 12400.0, client_errors=12400.0),
        _observed("pro", "Responses_Create", 3100.0),
    )
    chosen = [r for r in rules if r.id in ("AOAI-API-001", "AOAI-OBS-002")]
    found = list(audit(facts, chosen, kb, today=TODAY, now=NOW).findings)
    failing = sorted((f.rule_id, f.status) for f in found if f.status is Status.FAIL)
    assert failing == [("AOAI-API-001", Status.FAIL), ("AOAI-OBS-002", Status.FAIL)]
    api = next(f for f in found if f.rule_id == "AOAI-API-001" and f.status is Status.FAIL)
    assert "observed: 12,400 ChatCompletions_Create calls in 7 days" in api.message
    assert api.evidence is not None and api.evidence["operation"] == "ChatCompletions_Create"
    passing = [f for f in found if f.rule_id == "AOAI-API-001" and f.status is Status.PASS]
    assert len(passing) == 1 and "responses" in passing[0].message


@pytest.mark.parametrize(
    ("client_errors", "throttled", "status"),
    [(2000.0, 0.0, Status.FAIL), (500.0, 0.0, Status.PASS), (0.0, 5000.0, Status.PASS)],
)
def test_the_4xx_share_rule_fails_on_broken_callers_but_not_on_throttling(
    rules, kb, client_errors: float, throttled: float, status: Status
) -> None:
    facts = _with_traffic(
        make_facts(make_deployment("chat", "gpt-4o", "2024-11-20")),
        _observed("chat", "ChatCompletions_Create", 10000.0, client_errors=client_errors, throttled=throttled),
    )
    (finding,) = _findings(facts, rules, kb, "AOAI-OBS-002").values()
    assert finding.status is status


def test_rule_parameters_are_bound_and_can_be_overridden(rules, kb) -> None:
    facts = _with_traffic(
        make_facts(make_deployment("chat", "gpt-4o", "2024-11-20")),
        _observed("chat", "ChatCompletions_Create", 10000.0, client_errors=500.0),  # 5%
    )
    stricter = load_rules(overrides={"AOAI-OBS-002": {"max_client_error_percent": 2}})
    (finding,) = _findings(facts, stricter, kb, "AOAI-OBS-002").values()
    assert finding.status is Status.FAIL and "more than 2% allowed" in finding.message
    rule = next(r for r in rules if r.id == "AOAI-OBS-002")
    assert rule.parameters["max_client_error_percent"]["default"] == 10
    with pytest.raises(InputError, match="no parameter 'nope'"):
        load_rules(overrides={"AOAI-OBS-002": {"nope": 1}})


def test_a_rule_pack_names_an_undeclared_parameter_with_its_file(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(
        "apiVersion: auditor/v1\nrules:\n  - id: MY-OBS-001\n    title: Too much traffic here\n"
        "    category: deployment\n    severity: info\n    applies_to: deployment\n"
        "    fails_when: {field: traffic.requests, greater: {parameter: most}}\n"
        "    message: m\n    remediation: r\n    docs: https://example.com\n    since: '2026.12'\n"
        "    rationale: A rule whose condition reads a parameter it never declares.\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError, match=r"mine\.yaml:3: MY-OBS-001: no parameter 'most'"):
        load_rule_file(path)


def test_idle_deployments_show_their_ptus_and_an_unread_account_is_unknown_never_idle(rules, kb) -> None:
    ptu = make_deployment("ptu", "gpt-4o", "2024-11-20", "GlobalProvisionedManaged", capacity=15)
    standard = make_deployment("chat", "gpt-4o", "2024-11-20")
    facts = _with_traffic(make_facts(ptu, standard))
    found = _findings(facts, rules, kb, "AOAI-OBS-003", "AOAI-OBS-004")
    idle = {key: f.status for key, f in found.items()}
    assert idle == {
        ("AOAI-OBS-003", "acct/ptu"): Status.FAIL,
        ("AOAI-OBS-004", "acct/chat"): Status.FAIL,
    }
    assert "15 PTUs" in found[("AOAI-OBS-003", "acct/ptu")].message
    (account,) = facts.accounts
    unread = replace(facts, monitoring={account.id: AccountMonitoring((), (), traffic=None)})
    unread = replace(unread, gaps=(CollectionGap(account.id, "Azure Monitor metrics were not read: HTTP 500"),))
    unknown = list(_findings(unread, rules, kb, "AOAI-OBS-003", "AOAI-OBS-004").values())
    assert {f.status for f in unknown} == {Status.UNKNOWN}
    assert all(f.cause is Cause.AZURE and "HTTP 500" in (f.reason or "") for f in unknown)


def test_a_version_seen_in_traffic_other_than_the_configured_one_fails(rules, kb) -> None:
    facts = _with_traffic(
        make_facts(make_deployment("chat", "gpt-4o", "2024-11-20")),
        _observed("chat", "ChatCompletions_Create", 100.0, model_versions=("2024-08-06",)),
    )
    (finding,) = _findings(facts, rules, kb, "AOAI-OBS-005").values()
    assert finding.status is Status.FAIL and "2024-08-06" in finding.message
    same = _with_traffic(
        make_facts(make_deployment("chat", "gpt-4o", "2024-11-20")),
        _observed("chat", "ChatCompletions_Create", 100.0, model_versions=("2024-11-20",)),
    )
    assert {f.status for f in _findings(same, rules, kb, "AOAI-OBS-005").values()} == {Status.PASS}


def test_declared_and_observed_disagreeing_is_a_finding(rules, kb) -> None:
    declared = (ContractCall("chat", "responses", account="acct"),)
    base = make_facts(make_deployment("chat", "gpt-4o", "2024-11-20"), contract=declared)
    facts = _with_traffic(base, _observed("chat", "ChatCompletions_Create", 900.0))
    (finding,) = _findings(facts, rules, kb, "AOAI-OBS-001").values()
    assert finding.status is Status.FAIL
    assert "responses" in finding.message and "observed: 900 ChatCompletions_Create calls" in finding.message
    agreeing = _with_traffic(base, _observed("chat", "Responses_Create", 900.0))
    assert {f.status for f in _findings(agreeing, rules, kb, "AOAI-OBS-001").values()} == {Status.PASS}


def test_api_version_rule_judges_observed_traffic_only_with_logs(rules, kb) -> None:
    deployment = make_deployment("o3", "o3-mini", "2025-01-31")
    with_logs = _with_traffic(
        make_facts(deployment),
        _observed("o3", "ChatCompletions_Create", 50.0, api_versions=("2024-10-21",)),
        logs=None,
    )
    (finding,) = _findings(with_logs, rules, kb, "AOAI-API-021").values()
    assert finding.status is Status.FAIL and "2024-10-21" in finding.message
    without = _with_traffic(make_facts(deployment), _observed("o3", "ChatCompletions_Create", 50.0))
    (unknown,) = _findings(without, rules, kb, "AOAI-API-021").values()
    assert unknown.status is Status.UNKNOWN  # no log read: the api-version is unknown, never passed
    assert unknown.cause is Cause.INPUT and "no workspace" in (unknown.reason or "")


def test_what_if_judges_observed_traffic_on_the_other_model(rules, kb) -> None:
    """`--what-if DEPLOYMENT=MODEL`: the observed Completions traffic fails on a model without Completions."""
    from auditor.engine.upgrade import WhatIf

    facts = _with_traffic(
        make_facts(make_deployment("legacy", "gpt-35-turbo-instruct", "0914", "Standard")),
        _observed("legacy", "Completions_Create", 9800.0),
    )
    chosen = [r for r in rules if r.id == "AOAI-API-001"]
    (today,) = audit(facts, chosen, kb, today=TODAY, now=NOW).findings
    assert today.status is Status.PASS
    what_if = [WhatIf("legacy", "gpt-4o-mini", "2024-07-18")]
    (then,) = audit(facts, chosen, kb, today=TODAY, now=NOW, what_ifs=what_if).findings
    assert then.status is Status.FAIL and "observed: 9,800 Completions_Create calls" in then.message
    assert "what-if: gpt-4o-mini" in then.target_name


def test_observed_entries_do_not_silence_the_warnings_about_parameters(rules, kb) -> None:
    """Traffic says which API is called, not which parameters: a reasoning deployment called only as observed
    still gets AOAI-PARAM-002's warning about what callers must not send."""
    facts = _with_traffic(
        make_facts(make_deployment("r", "o4-mini", "2025-04-16")), _observed("r", "ChatCompletions_Create", 900.0)
    )
    (finding,) = _findings(facts, rules, kb, "AOAI-PARAM-002").values()
    assert finding.status is Status.FAIL


def test_scanned_entries_say_so(tmp_path: Path) -> None:
    from auditor.pipeline.audit import AuditOptions, _app_contract

    app = tmp_path / "app.py"
    app.write_text(
        "from openai import AzureOpenAI\nclient = AzureOpenAI()\n"
        "client.chat.completions.create(model='chat-prod', messages=[])\n",
        encoding="utf-8",
    )
    calls, _, _ = _app_contract(AuditOptions(contract_from=tmp_path))
    assert calls and {c.provenance for c in calls} == {"scanned"}


# -- one passing and one failing case per rule (counted by test_rules_builtin's meta-test) -----------------


def _chat(**more: Any) -> Facts:
    return _with_traffic(
        make_facts(make_deployment("chat", "gpt-4o", "2024-11-20")),
        _observed("chat", "ChatCompletions_Create", 1000.0, **more),
    )


def _declared(api: str) -> Facts:
    base = make_facts(make_deployment("chat", "gpt-4o", "2024-11-20"), contract=(ContractCall("chat", api),))
    return _with_traffic(base, _observed("chat", "ChatCompletions_Create", 1000.0))


def _idle(sku: str, requests: float) -> Facts:
    deployment = make_deployment("d", "gpt-4o", "2024-11-20", sku, capacity=15)
    traffic = (_observed("d", "ChatCompletions_Create", requests),) if requests else ()
    return _with_traffic(make_facts(deployment), *traffic)


RULE_CASES: list[tuple[str, Status, Any]] = [
    ("AOAI-OBS-001", Status.FAIL, lambda: _declared("responses")),
    ("AOAI-OBS-001", Status.PASS, lambda: _declared("chat_completions")),
    ("AOAI-OBS-002", Status.FAIL, lambda: _chat(client_errors=300.0)),
    ("AOAI-OBS-002", Status.PASS, lambda: _chat(client_errors=30.0, throttled=600.0)),
    ("AOAI-OBS-003", Status.FAIL, lambda: _idle("GlobalProvisionedManaged", 0)),
    ("AOAI-OBS-003", Status.PASS, lambda: _idle("GlobalProvisionedManaged", 10)),
    ("AOAI-OBS-004", Status.FAIL, lambda: _idle("GlobalStandard", 0)),
    ("AOAI-OBS-004", Status.PASS, lambda: _idle("GlobalStandard", 10)),
    ("AOAI-OBS-005", Status.FAIL, lambda: _chat(model_versions=("2024-08-06",))),
    ("AOAI-OBS-005", Status.PASS, lambda: _chat(model_versions=("2024-11-20",))),
    ("AOAI-OBS-006", Status.FAIL, lambda: _with_traffic(_chat(), _observed("chat", "Batch_Create", 5.0))),
    ("AOAI-OBS-006", Status.PASS, lambda: _chat()),
]


@pytest.mark.parametrize(("rule_id", "status", "build"), RULE_CASES, ids=[f"{c[0]}-{c[1].value}" for c in RULE_CASES])
def test_rule_cases(rules, kb, rule_id: str, status: Status, build: Any) -> None:
    statuses = {f.status for f in _findings(build(), rules, kb, rule_id).values()}
    assert statuses == {status}


# -- the demo tenant end to end --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("observed-demo")
    assert run_demo(out, "--monitor", "--format", "json,html") == 1
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    report["_html"] = (out / "report.html").read_text(encoding="utf-8")
    return report


def test_demo_monitor_has_observed_entries_for_every_deployment_with_traffic(demo_report: dict[str, Any]) -> None:
    rows = demo_report["traffic"]
    with_traffic = {(r["account_name"], r["deployment"]) for r in rows if r["requests"]}
    judged = {tuple(f["target_name"].split("/", 1)) for f in demo_report["findings"] if f["rule_id"] == "AOAI-OBS-002"}
    assert with_traffic == judged and len(with_traffic) >= 10
    assert not demo_report["gaps"]
    unknown = [r for r in rows if r["api"] is None]
    assert [(r["deployment"], r["operation"]) for r in unknown] == [("bulk-41mini", "Batch_Create")]


def test_demo_monitor_rules_fail_and_pass_where_they_should(demo_report: dict[str, Any]) -> None:
    by: dict[tuple[str, str], set[str]] = {}
    for f in demo_report["findings"]:
        by.setdefault((f["rule_id"], f["target_name"]), set()).add(f["status"])
    expected = {
        ("AOAI-OBS-002", "contoso-aoai-eus2/gpt-5-pro"): {"fail", "pass"},  # Chat Completions all 400; Responses fine
        ("AOAI-OBS-002", "contoso-aoai-eus2/bulk-41mini"): {"pass"},  # 429-heavy is not broken
        ("AOAI-QUOTA-003", "contoso-aoai-eus2/bulk-41mini"): {"fail"},  # ... it is throttled
        ("AOAI-OBS-003", "fabrikam-aoai-wus/ptu-reserve"): {"fail"},  # idle provisioned
        ("AOAI-OBS-003", "contoso-aoai-eus2/ptu-chat"): {"pass"},
        ("AOAI-OBS-005", "contoso-aoai-eus2/ptu-chat"): {"fail"},  # served by 2024-08-06
        ("AOAI-OBS-005", "contoso-aoai-eus2/chat-prod"): {"pass"},
        ("AOAI-OBS-001", "contoso-aoai-eus2/gpt-5-pro"): {"fail"},  # contract: chat; traffic: responses too
        ("AOAI-OBS-001", "contoso-aoai-eus2/chat-prod"): {"pass"},
        ("AOAI-OBS-006", "contoso-aoai-eus2/bulk-41mini"): {"fail"},
    }
    assert {key: by.get(key) for key in expected} == expected
    observed_api = [
        f
        for f in demo_report["findings"]
        if f["rule_id"] == "AOAI-API-001" and f["status"] == "fail" and (f.get("evidence") or {}).get("observed")
    ]
    assert [f["target_name"] for f in observed_api] == ["contoso-aoai-eus2/gpt-5-pro"]


def test_demo_upgrade_impact_names_the_observed_operation_and_its_volume(demo_report: dict[str, Any]) -> None:
    """instruct-legacy is in no contract and no code: only its traffic says it is called through Completions,
    which gpt-4o-mini (its replacement on 2026-12-21) does not serve."""
    (finding,) = [
        f
        for f in demo_report["findings"]
        if f["category"] == "upgrade" and f["status"] == "fail" and f["deployment"] == "instruct-legacy"
    ]
    assert finding["rule_id"] in ("AOAI-UPG-001", "AOAI-UPG-002", "AOAI-UPG-003")
    assert "Completions_Create" in finding["message"] and "9,800" in finding["message"]
    assert "gpt-4o-mini" in finding["message"]
    assert finding["evidence"]["operation"] == "Completions_Create" and finding["evidence"]["requests"] == 9800


def test_demo_html_shows_who_calls_each_deployment_and_the_headline(demo_report: dict[str, Any]) -> None:
    html = demo_report["_html"]
    assert 'id="who-calls"' in html and "<polyline" in html
    assert "2 deployment(s) are called in ways that will break" in html  # the who-calls panel
    headline = demo_report["headline"]  # the nightly headline (report.json and the HTML's headline section)
    assert any(line.startswith("2 deployments are called in ways that will break") for line in headline), headline
    assert 'id="headline"' in html and "2 deployments are called in ways that will break" in html
    assert "Batch_Create" in html and "unknown" in html


def test_a_failed_traffic_read_is_a_gap_and_the_rules_unknown_never_passed(tenant: Any, tmp_path: Path) -> None:
    from auditor.demo.sim import FaultRule

    error = {"error": {"code": "InternalServerError", "message": "Something went wrong."}}
    tenant.add_fault(
        FaultRule(r"(?i)/accounts/fabrikam-aoai-wus/providers/microsoft\.insights/metrics", 500, error, times=None)
    )
    code = run_demo_against(tenant, tmp_path, "--resource", "fabrikam-aoai-wus", "--monitor", "--fail-on", "never")
    assert code == 3  # incomplete
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert any("Azure Monitor metrics" in g for g in report["gaps"])
    observed = [f for f in report["findings"] if f["rule_id"] in ("AOAI-OBS-003", "AOAI-OBS-004")]
    assert observed and {f["status"] for f in observed} == {"unknown"}
    assert not report.get("traffic")  # nothing read, nothing shown as read


def test_a_failed_logs_read_is_a_gap_and_the_api_versions_stay_unknown(tmp_path: Path) -> None:
    workspace = "00000000-0000-4000-8000-0000000000ff"  # not the demo's: Log Analytics answers WorkspaceNotFound
    args = ("--format", "json", "--resource", "contoso-aoai-eus2", "--logs-workspace", workspace, "--fail-on", "never")
    assert run_demo(tmp_path, *args) == 3  # incomplete
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert any("RequestResponse logs" in g for g in report["gaps"])
    assert report["traffic"] and all(row["api_versions"] is None for row in report["traffic"])


def test_with_the_workspace_the_report_shows_each_operations_api_versions(tmp_path: Path) -> None:
    code = run_demo(tmp_path, "--format", "json", "--resource", "contoso-aoai-eus2", "--logs-workspace", DEMO_WORKSPACE)
    assert code == 1  # --logs-workspace alone turns --monitor on; the tenant's findings fail the gate
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert not report["gaps"]
    versions = {(r["deployment"], r["operation"]): r["api_versions"] for r in report["traffic"]}
    assert versions[("gpt-5-pro", "Responses_Create")] == ["2025-04-01-preview"]
    assert versions[("bulk-41mini", "Batch_Create")] == []  # read: the logs show none


def test_the_nightly_headline_speaks_of_observed_traffic_only_when_it_was_read(rules, kb) -> None:
    from auditor.pipeline.nightly import nightly_view

    facts = _with_traffic(
        make_facts(make_deployment("pro", "gpt-5-pro", "2025-10-06")), _observed("pro", "ChatCompletions_Create", 50.0)
    )
    with_traffic = nightly_view(audit(facts, rules, kb, today=TODAY, now=NOW)).nightly
    assert with_traffic is not None
    assert "1 deployment is called in ways that will break (Azure Monitor's record of who calls them): acct/pro." in (
        with_traffic.headline
    )
    without = nightly_view(audit(replace(facts, monitoring=None, contract=None), rules, kb, today=TODAY, now=NOW))
    assert without.nightly is not None and not any("called in ways" in line for line in without.nightly.headline)


def test_observed_days_set_the_window(tmp_path: Path) -> None:
    assert run_demo(tmp_path, "--format", "json", "--resource", "fabrikam-aoai-wus", "--observed", "14") == 1
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert report["traffic"] and {(r["days"], len(r["daily"])) for r in report["traffic"]} == {(14, 14)}
    idle = [f for f in report["findings"] if f["rule_id"] == "AOAI-OBS-003" and f["status"] == "fail"]
    assert [f["message"].split(": ")[0] for f in idle] == [
        "Provisioned deployment ptu-reserve (GlobalProvisionedManaged, 15 PTUs) received 0 calls in 14 days"
    ]


def test_bad_observed_flags_exit_2_naming_the_value(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_demo(tmp_path, "--observed", "0") == 2
    assert "--observed 0" in capsys.readouterr().err
    assert run_demo(tmp_path, "--logs-workspace", "law-ai") == 2
    assert "--logs-workspace 'law-ai'" in capsys.readouterr().err
    assert run_demo(tmp_path, "--rule-param", "AOAI-OBS-999.x=1") == 2
    assert "AOAI-OBS-999" in capsys.readouterr().err


def run_demo_against(tenant: Any, out: Path, *args: str) -> int:
    """`audit` in-process against a running simulated tenant, as the CLI signs in (the tenant fixture's identity)."""
    from auditor.cli import main

    return main(
        ["--management-endpoint", tenant.management_url, "--out", str(out), "--quiet", "--format", "json", *args]
    )


def test_a_fleet_costs_one_traffic_call_per_account_within_the_concurrency(tmp_path: Path, monkeypatch) -> None:
    """200 deployments in 8 accounts, every one called: one split metrics call per account (plus utilisation),
    never more requests in flight than --concurrency (the 1,000-deployment figure: tests/benchmarks/bench_observed)."""
    from auditor.demo.sim import SimulatedTenant
    from tests.benchmarks.bench_observed import SPLIT as TRAFFIC_ONLY
    from tests.benchmarks.bench_observed import observed_fleet
    from tests.conftest import sign_in_to

    with SimulatedTenant(observed_fleet(8, 200, 2)) as fleet:
        sign_in_to(fleet, monkeypatch)
        args = ["--all", "--monitor", "--concurrency", "4", "--fail-on", "never"]
        assert run_demo_against(fleet, tmp_path, *args) == 0
        metrics = fleet.requests(plane="arm", path_pattern=r"(?i)/providers/microsoft\.insights/metrics$")
        peak = fleet.peak_in_flight["all"]
    per_account = {r.path for r in metrics}
    assert len(per_account) == 8 and len(metrics) == 16  # traffic and utilisation, once per account
    assert sum(TRAFFIC_ONLY in (r.query.get("$filter") or "") for r in metrics) == 8
    assert peak <= 4
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert {r["deployment"] for r in report["traffic"]} == {d["name"] for d in report["deployments"]}
