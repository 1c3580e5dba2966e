"""Live probes: classification of recorded Azure answers (pure), probe selection (pure), the probe rules
(table), and the runner against the simulated data plane through the real openai SDK: budgets, 429 retries
that honour the server's hint, timeouts that stay unknown, credentials that never leave allowed hosts."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from auditor.engine.evaluate import evaluate_all
from auditor.model.clouds import CLOUDS, get_cloud
from auditor.model.enums import ProbeOutcome
from auditor.model.facts import ContractCall, Facts, ProbeResult
from auditor.model.results import Status
from auditor.probes import AuthCheck, ProbeOptions
from auditor.probes.classify import classify, retry_hint
from auditor.probes.selection import endpoint_refusal, select_probes
from tests.conftest import ACCOUNT_ID, AZURE_ENV, TODAY, make_deployment, make_facts

DEMO_CONTRACT = Path(__file__).resolve().parents[1] / "auditor" / "demo" / "contract.yaml"

# --- classification of recorded answers (azure-wire.md §3.4) --------------------------------------------

OPERATION_NOT_SUPPORTED = {
    "error": {
        "code": "OperationNotSupported",
        "message": (
            "The chatCompletion operation does not work with the specified model, gpt-5-codex. Please choose different "
            "model and try again. You can learn more about which models can be used with each operation here: "
            "https://go.microsoft.com/fwlink/?linkid=2197993."
        ),
    }
}
DEPLOYMENT_NOT_FOUND = {
    "error": {
        "code": "DeploymentNotFound",
        "message": (
            "The API deployment for this resource does not exist. If you created the deployment within the last 5 "
            "minutes, please wait a moment and try again."
        ),
    }
}
TEMPERATURE = {
    "error": {
        "message": "Unsupported value: 'temperature' does not support 0.7 with this model. Only the "
        "default (1) value is supported.",
        "type": "invalid_request_error",
        "param": "temperature",
        "code": "unsupported_value",
    }
}
MAX_TOKENS = {
    "error": {
        "message": "Unsupported parameter: 'max_tokens' is not supported with this model. Use "
        "'max_completion_tokens' instead.",
        "type": "invalid_request_error",
        "param": "max_tokens",
        "code": "unsupported_parameter",
    }
}
CONTENT_FILTER = {
    "error": {
        "message": "The response was filtered due to the prompt triggering Azure OpenAI's content management policy.",
        "type": None,
        "param": "prompt",
        "code": "content_filter",
        "status": 400,
        "innererror": {
            "code": "ResponsibleAIPolicyViolation",
            "content_filter_result": {
                "hate": {"filtered": False, "severity": "safe"},
                "sexual": {"filtered": True, "severity": "high"},
            },
        },
    }
}
INVALID_KEY = {
    "error": {
        "code": "401",
        "message": "Access denied due to invalid subscription key or wrong API endpoint. "
        "Make sure to provide a valid key for an active subscription and use a correct regional API "
        "endpoint for your resource.",
    }
}
INVALID_KEY_NEW = {
    "error": {"code": "Unauthorized", "message": "Access denied due to invalid subscription key or wrong API endpoint."}
}
INVALID_TOKEN = {
    "statusCode": 401,
    "message": "Unauthorized. Access token is missing, invalid, audience is incorrect "
    "(https://cognitiveservices.azure.com), or have expired.",
}
AUTH_DISABLED = {
    "error": {
        "code": "AuthenticationTypeDisabled",
        "message": "Key based authentication is disabled for this resource.",
    }
}
PERMISSION_DENIED = {
    "error": {
        "code": "PermissionDenied",
        "message": (
            "The principal `redactp-1111-1111-1111-111111111111` lacks the required data action "
            "`Microsoft.CognitiveServices/accounts/OpenAI/deployments/chat/completions/action` to perform "
            "`POST /openai/deployments/{deployment-id}/chat/completions` operation."
        ),
    }
}
PUBLIC_DISABLED = {"error": {"code": "403", "message": "Public access is disabled. Please configure private endpoint."}}
RATE_LIMITED = {
    "error": {"code": "RateLimitReached", "message": "Your requests to gpt-4.1-mini ... Please retry after 43 seconds."}
}


@pytest.mark.parametrize(
    "status,body,headers,outcome,code",
    [
        (200, {"usage": {"total_tokens": 21}}, {}, "success", None),
        (400, OPERATION_NOT_SUPPORTED, {}, "api_not_supported", "OperationNotSupported"),
        (404, DEPLOYMENT_NOT_FOUND, {}, "deployment_not_found", "DeploymentNotFound"),
        (400, TEMPERATURE, {}, "unsupported_value", "unsupported_value"),
        (400, MAX_TOKENS, {}, "unsupported_parameter", "unsupported_parameter"),
        (400, CONTENT_FILTER, {}, "content_filter", "content_filter"),
        (401, INVALID_KEY, {}, "invalid_key", "401"),
        (401, INVALID_KEY_NEW, {}, "invalid_key", "Unauthorized"),
        (401, INVALID_TOKEN, {}, "invalid_token", None),
        (403, AUTH_DISABLED, {}, "local_auth_disabled", "AuthenticationTypeDisabled"),
        (401, PERMISSION_DENIED, {}, "permission_denied", "PermissionDenied"),
        (403, PUBLIC_DISABLED, {}, "network_blocked", "403"),
        (429, RATE_LIMITED, {"Retry-After": "43"}, "rate_limited", "RateLimitReached"),
        (
            500,
            {"error": {"message": "The server had an error", "type": "server_error", "param": None, "code": None}},
            {},
            "server_error",
            None,
        ),
        (503, "upstream connect error", {}, "server_error", None),
        (404, {"error": {"code": "404", "message": "Resource not found"}}, {}, "unexpected", "404"),
        (
            400,
            {"error": {"code": "BadRequest", "message": "API version not supported"}},
            {},
            "unexpected",
            "BadRequest",
        ),
    ],
)
def test_recorded_answers_are_classified(
    status: int, body: Any, headers: dict[str, str], outcome: str, code: str | None
) -> None:
    answer = classify(status, body, headers)
    assert (answer.outcome, answer.error_code) == (outcome, code)
    assert answer.status_code == status


def test_classification_keeps_the_evidence_that_matters() -> None:
    assert classify(200, {"usage": {"total_tokens": 21}}, {}).tokens == 21
    assert classify(400, TEMPERATURE, {}).error_param == "temperature"
    filtered = classify(400, CONTENT_FILTER, {})
    assert "sexual" in (_advice(filtered) or "")
    denied = classify(401, PERMISSION_DENIED, {})
    assert "redactp-1111-1111-1111-111111111111" in (_advice(denied) or "")
    assert "Cognitive Services OpenAI User" in (_advice(denied) or "") and "5e0bd9bd-7b93-4f28-af87-19fc36ad61bd" in (
        _advice(denied) or ""
    )
    assert "disableLocalAuth" in (_advice(classify(403, AUTH_DISABLED, {})) or "")
    limited = classify(
        429,
        RATE_LIMITED,
        {"retry-after": "1", "retry-after-ms": "1500", "x-ratelimit-remaining-requests": "0", "apim-request-id": "x"},
    )
    assert limited.retry_after == 1.5
    assert limited.rate_limit == {"retry-after": "1", "retry-after-ms": "1500", "x-ratelimit-remaining-requests": "0"}
    # a 401 with no label is read by how the call authenticated
    assert classify(401, {"error": {"code": "Other"}}, {}, auth="key").outcome == "invalid_key"
    assert classify(401, {"error": {"code": "Other"}}, {}, auth="entra").outcome == "invalid_token"


def test_retry_hints_prefer_milliseconds_and_read_http_dates() -> None:
    assert retry_hint({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    assert retry_hint({"Retry-After": "2"}) == 2.0
    assert retry_hint({"retry-after": "Sun, 22 Nov 2026 10:00:10 GMT"}, now=1795341600.0) == 10.0
    assert retry_hint({}) is None and retry_hint({"retry-after": "soon"}) is None


# --- where credentials may go ---------------------------------------------------------------------------


def test_credentials_only_go_to_the_clouds_data_plane_hosts() -> None:
    cloud = CLOUDS["AzureCloud"]
    assert endpoint_refusal("https://acct.openai.azure.com/openai/v1/", cloud, ()) is None
    assert endpoint_refusal("https://acct.cognitiveservices.azure.com/openai/v1/", cloud, ()) is None
    refused = endpoint_refusal("https://evil.example.com/openai/v1/", cloud, ())
    assert refused and "evil.example.com" in refused and "--allow-endpoint" in refused
    assert endpoint_refusal("https://openai.azure.com.evil.example/openai/v1/", cloud, ()) is not None
    assert endpoint_refusal("https://evil.example.com/openai/v1/", cloud, ("EVIL.example.com",)) is None
    assert "HTTPS" in (
        endpoint_refusal("http://acct.openai.azure.com/openai/v1/", cloud, ("acct.openai.azure.com",)) or ""
    )
    assert endpoint_refusal("https://acct.openai.azure.us/openai/v1/", CLOUDS["AzureUSGovernment"], ()) is None
    assert endpoint_refusal("https://acct.openai.azure.com/openai/v1/", CLOUDS["AzureUSGovernment"], ()) is not None


# --- what gets probed -----------------------------------------------------------------------------------


def _planned(facts: Facts, **options: Any) -> list[tuple[str, str, str | None, Any, bool]]:
    probes, _ = select_probes(facts, _kb(), TODAY, ProbeOptions(**options))
    return [(p.deployment, p.api, p.parameter, p.value, p.called_by_app) for p in probes]


def _kb():
    from auditor.knowledge.base import load_knowledge

    return load_knowledge()


def _call(deployment: str, api: str = "chat_completions", **params: Any) -> ContractCall:
    return ContractCall(deployment=deployment, api=api, parameters=params)


def test_without_a_contract_both_apis_are_probed_and_nothing_else() -> None:
    facts = make_facts(
        make_deployment("chat"),
        make_deployment("emb", "text-embedding-3-large", "1", "Standard"),
        make_deployment("new", provisioning_state="Creating"),
    )
    assert _planned(facts) == [
        ("chat", "chat_completions", None, None, False),
        ("chat", "responses", None, None, False),
    ]
    _, not_probed = select_probes(facts, _kb(), TODAY, ProbeOptions())
    assert any("emb" in n and "embeddings" in n for n in not_probed)
    assert any("new" in n and "Creating" in n for n in not_probed)


def test_the_contract_decides_the_apis_and_the_doubted_parameters() -> None:
    facts = make_facts(
        make_deployment("r", "o4-mini", "2025-04-16"),
        make_deployment("c"),
        make_deployment("other"),
        contract=(
            _call("r", temperature=0.7, max_completion_tokens=500, top_p=1),
            _call("r", "responses", temperature=1, reasoning_effort="low"),
            _call("c", temperature=0.7),
            _call("ghost"),
        ),
    )
    planned = _planned(facts)
    assert ("r", "chat_completions", None, None, True) in planned
    assert ("r", "chat_completions", "temperature", 0.7, True) in planned  # default_only: 0.7 is doubted
    assert not [p for p in planned if p[2] in ("top_p", "max_completion_tokens", "reasoning_effort")]  # not doubted
    assert not [p for p in planned if p[0] == "r" and p[1] == "responses" and p[2]]  # temperature 1 is the default
    assert not [p for p in planned if p[0] == "c" and p[2]]  # gpt-4o accepts temperature
    assert [p for p in planned if p[0] == "other"] == [
        ("other", "chat_completions", None, None, False),
        ("other", "responses", None, None, False),
    ]
    assert ("ghost", "chat_completions", None, None, True) in planned  # a missing name: DeploymentNotFound on the wire


def test_auth_checks_target_one_probeable_deployment_per_account() -> None:
    facts = make_facts(make_deployment("a"), make_deployment("b"))
    probes, _ = select_probes(
        facts, _kb(), TODAY, ProbeOptions(auth_checks=(AuthCheck("wrong key", api_key="k" * 32),))
    )
    checks = [p for p in probes if p.label]
    assert [(p.deployment, p.auth, p.label) for p in checks] == [("a", "key", "wrong key")]
    assert "k" * 32 not in repr(checks[0])


def _two_account_fleet(contract: tuple[ContractCall, ...] | None) -> Facts:
    """Accounts `b-acct` and `a-acct` (listed out of order), each with deployments `x` and `y`."""
    from tests.conftest import make_account

    accounts, deployments = [], []
    for name in ("b-acct", "a-acct"):
        account = make_account(
            id=ACCOUNT_ID.replace("/acct", f"/{name}"), name=name, endpoint=f"https://{name}.openai.azure.com/"
        )
        accounts.append(account)
        deployments += [
            make_deployment(d, id=f"{account.id}/deployments/{d}", account_id=account.id) for d in ("x", "y")
        ]
    region = make_facts(*deployments).regions[0]
    return Facts(accounts=tuple(accounts), deployments=tuple(deployments), regions=(region,), contract=contract)


class _RecordingPool:
    """A pool that runs nothing and records each unit as (account, deployment, API) in the order it was sent."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str]] = []

    def submit(self, fn: Callable[..., Any], unit: list) -> Future:
        self.sent.append((unit[0].account.name, unit[0].deployment, unit[0].api))
        done: Future = Future()
        done.set_result([])
        return done


class _IdleRunner:
    budget = type("B", (), {"calls": 0, "tokens": 0})()

    def run_group(self, unit: list) -> list:
        return []


@pytest.mark.parametrize("contract", [None, (_call("y"), _call("ghost", account="a-acct"))])
def test_streamed_probes_reach_the_pool_in_the_whole_run_order(contract) -> None:
    """Probing while reading must spend the budget in the same order as probing after it: accounts offered
    one by one send their units at once, except, with a contract, the units the app does not call, which
    wait until every account was offered; the names that exist nowhere go ahead of those."""
    from auditor.probes.runner import ProbeSession, _units
    from auditor.probes.selection import probe_order

    facts = _two_account_fleet(contract)
    whole, _ = select_probes(facts, _kb(), TODAY, ProbeOptions())
    expected = [(u[0].account.name, u[0].deployment, u[0].api) for u in _units(whole)]

    pool = _RecordingPool()
    session = ProbeSession(_IdleRunner(), _kb(), TODAY, ProbeOptions(), pool)  # type: ignore[arg-type]
    sent_while_reading = []
    for account in sorted(facts.accounts, key=probe_order):
        mine = tuple(d for d in facts.deployments if d.account_id == account.id)
        session.offer(replace(facts, accounts=(account,), deployments=mine), account)
        sent_while_reading.append(len(pool.sent))
    session.finish(facts)
    assert pool.sent[0][0] == "a-acct"
    if contract is None:
        assert pool.sent == expected
        assert sent_while_reading == [4, 8], "every unit goes as soon as its account is read"
    else:
        critical = [u for u in pool.sent if u[1] in ("y", "ghost")]
        assert pool.sent[: len(critical)] == critical and pool.sent[len(critical) :] == [
            u for u in expected if u[1] == "x"
        ]
        assert sent_while_reading == [1, 2], "only the app's calls go before the whole fleet is read"
        assert pool.sent[2] == ("a-acct", "ghost", "chat_completions")


def test_an_account_is_probed_before_its_region_is_read_unless_its_plan_needs_the_catalog() -> None:
    """Probes start as soon as an account's deployments are read. The region's catalog matters to the plan only
    for a model the knowledge base does not know (its APIs come from the catalog's capabilities): that account
    waits for `finish` and the whole fleet's facts, and its plan is the same as when the region came first."""
    from auditor.probes.runner import ProbeSession, _units
    from auditor.probes.selection import probe_order
    from tests.conftest import catalog_for, make_account

    known = make_account(id=ACCOUNT_ID.replace("/acct", "/a-known"), name="a-known", endpoint="https://k.example/")
    unknown = make_account(id=ACCOUNT_ID.replace("/acct", "/b-new"), name="b-new", endpoint="https://n.example/")
    deployments = (
        make_deployment("chat", id=f"{known.id}/deployments/chat", account_id=known.id),
        make_deployment("emb", "acme-embed-9", "1", id=f"{unknown.id}/deployments/emb", account_id=unknown.id),
        make_deployment("talk", "acme-chat-9", "1", id=f"{unknown.id}/deployments/talk", account_id=unknown.id),
    )
    catalog = catalog_for(deployments[0]) + tuple(
        replace(
            entry, capabilities={"embeddings": "true"} if entry.name == "acme-embed-9" else {"chatCompletion": "true"}
        )
        for entry in catalog_for(*deployments[1:])
    )
    region = replace(make_facts(*deployments).regions[0], catalog=catalog)
    facts = Facts(accounts=(known, unknown), deployments=deployments, regions=(region,))
    assert known.location == unknown.location == region.location

    pool = _RecordingPool()
    sent = pool.sent
    session = ProbeSession(_IdleRunner(), _kb(), TODAY, ProbeOptions(), pool)  # type: ignore[arg-type]
    sent_while_reading = []
    for account in sorted(facts.accounts, key=probe_order):
        mine = tuple(d for d in deployments if d.account_id == account.id)
        session.offer(Facts(accounts=(account,), deployments=mine, regions=()), account)  # region not read yet
        sent_while_reading.append(len(sent))
    _, summary = session.finish(facts)

    whole, not_probed = select_probes(facts, _kb(), TODAY, ProbeOptions())
    assert sent == [(u[0].account.name, u[0].deployment, u[0].api) for u in _units(whole)]
    assert sent_while_reading == [2, 2], "the known account went at once; the other waited for the catalog"
    assert ("b-new", "talk", "chat_completions") in sent and not any(d == "emb" for _, d, _ in sent)
    assert any("acme-embed-9 serves only embeddings" in n for n in summary.not_probed)
    assert list(summary.not_probed) == not_probed


# --- the probe rules, table-driven ----------------------------------------------------------------------


def _probe(
    outcome: str = "success",
    *,
    deployment: str = "dep",
    model: str = "gpt-4o",
    version: str = "2024-11-20",
    **fields: Any,
) -> Facts:
    dep = make_deployment(deployment, model, version)
    result = ProbeResult(
        account_id=ACCOUNT_ID,
        deployment=deployment,
        deployment_id=dep.id,
        api=fields.pop("api", "chat_completions"),
        outcome=ProbeOutcome(outcome),
        status_code=fields.pop("status_code", 200 if outcome == "success" else 400),
        attempts=fields.pop("attempts", 1),
        **fields,
    )
    return replace(make_facts(dep), probes=(result,))


def _advice(answer: Any) -> str | None:
    """The remediation the probe rules (rules/builtin/probe.yaml) give the failing finding on this answer: the
    advice the classifier's hint held before it moved into the rules' YAML."""
    from auditor.engine.rules import load_rules

    facts = _probe(
        answer.outcome.value,
        status_code=answer.status_code,
        error_code=answer.error_code,
        message=answer.message,
        retry_after=answer.retry_after,
        remedy=answer.remedy,
        principal=answer.principal,
        filtered=answer.filtered,
    )
    report = evaluate_all(load_rules(), facts, _kb(), TODAY)
    failing = [f for f in report if f.status is Status.FAIL and f.category == "probe"]
    return failing[0].remediation if failing else None


RULE_CASES: list[tuple[str, Status, Callable[[], Any]]] = [
    (
        "AOAI-PROBE-001",
        Status.FAIL,
        lambda: _probe(
            "api_not_supported",
            model="gpt-5-pro",
            version="2025-10-06",
            error_code="OperationNotSupported",
            called_by_app=True,
        ),
    ),
    ("AOAI-PROBE-001", Status.PASS, lambda: _probe(called_by_app=True)),
    (
        "AOAI-PROBE-002",
        Status.FAIL,
        lambda: _probe("deployment_not_found", status_code=404, error_code="DeploymentNotFound"),
    ),
    ("AOAI-PROBE-002", Status.PASS, lambda: _probe()),
    (
        "AOAI-PROBE-003",
        Status.FAIL,
        lambda: _probe(
            "unsupported_value",
            model="o4-mini",
            version="2025-04-16",
            parameter="temperature",
            value=0.7,
            called_by_app=True,
        ),
    ),
    (
        "AOAI-PROBE-003",
        Status.PASS,
        lambda: _probe(model="o4-mini", version="2025-04-16", parameter="temperature", value=1, called_by_app=True),
    ),
    (
        "AOAI-PROBE-004",
        Status.FAIL,
        lambda: _probe("permission_denied", status_code=401, error_code="PermissionDenied"),
    ),
    ("AOAI-PROBE-004", Status.FAIL, lambda: _probe("invalid_key", status_code=401, auth="key")),
    ("AOAI-PROBE-004", Status.FAIL, lambda: _probe("invalid_token", status_code=401)),
    ("AOAI-PROBE-004", Status.FAIL, lambda: _probe("local_auth_disabled", status_code=403, auth="key")),
    ("AOAI-PROBE-004", Status.PASS, lambda: _probe()),
    (
        "AOAI-PROBE-005",
        Status.FAIL,
        lambda: _probe(
            attempts=2, throttled=1, retry_after=1.0, rate_limit={"retry-after": "1", "retry-after-ms": "1000"}
        ),
    ),
    (
        "AOAI-PROBE-005",
        Status.FAIL,
        lambda: _probe("rate_limited", status_code=429, attempts=3, throttled=3, retry_after=40.0),
    ),
    ("AOAI-PROBE-005", Status.PASS, lambda: _probe()),
    ("AOAI-PROBE-006", Status.FAIL, lambda: _probe("content_filter", error_code="content_filter")),
    ("AOAI-PROBE-006", Status.PASS, lambda: _probe()),
    (
        "AOAI-PROBE-007",
        Status.FAIL,
        lambda: _probe(
            "skipped",
            status_code=None,
            attempts=0,
            message="not sent: the probe call limit (50, --max-probe-calls) was reached",
        ),
    ),
    ("AOAI-PROBE-007", Status.PASS, lambda: _probe()),
    ("AOAI-PROBE-007", Status.UNKNOWN, lambda: _probe("server_error", status_code=500, attempts=3)),
    (
        "AOAI-PROBE-007",
        Status.UNKNOWN,
        lambda: _probe("timeout", status_code=None, attempts=3, message="no answer within 30 s"),
    ),
    (
        "AOAI-PROBE-008",
        Status.FAIL,
        lambda: _probe("api_not_supported", api="responses", model="gpt-35-turbo", version="0125"),
    ),
    ("AOAI-PROBE-008", Status.PASS, lambda: _probe(api="responses")),
    (
        "AOAI-PROBE-010",
        Status.FAIL,
        lambda: _probe("api_not_supported", api="responses"),
    ),  # the KB says gpt-4o serves it
    (
        "AOAI-PROBE-010",
        Status.FAIL,
        lambda: _probe(model="o4-mini", version="2025-04-16", parameter="temperature", value=0.5),
    ),
    ("AOAI-PROBE-010", Status.PASS, lambda: _probe()),
]


@pytest.mark.parametrize(
    "rule_id,expected,build", RULE_CASES, ids=[f"{c[0]}-{c[1].value}-{i}" for i, c in enumerate(RULE_CASES)]
)
def test_probe_rule_case(rule_id: str, expected: Status, build: Callable[[], Facts], rules, kb) -> None:
    rule = next(r for r in rules if r.id == rule_id)
    findings = evaluate_all([rule], build(), kb, TODAY)
    assert [f.status for f in findings] == [expected], [(f.status, f.message) for f in findings]
    if expected is Status.FAIL:
        evidence, probes = findings[0].evidence, build().probes
        assert "{" not in findings[0].message, "placeholders left unfilled"
        assert evidence is not None and probes is not None and evidence["outcome"] == probes[0].outcome


@pytest.mark.parametrize("outcome", ["permission_denied", "invalid_token", "rate_limited", "server_error", "skipped"])
def test_a_probe_that_could_not_tell_never_passes_the_api_rules(outcome: str, rules, kb) -> None:
    facts = _probe(outcome, called_by_app=True, status_code=401)
    chosen = [
        r
        for r in rules
        if r.id in ("AOAI-PROBE-001", "AOAI-PROBE-003", "AOAI-PROBE-006", "AOAI-PROBE-008", "AOAI-PROBE-010")
    ]
    assert not [f for f in evaluate_all(chosen, facts, kb, TODAY) if f.status is Status.PASS]


def test_unknown_probe_finding_carries_the_evidence(rules, kb) -> None:
    rule = next(r for r in rules if r.id == "AOAI-PROBE-007")
    facts = _probe("server_error", status_code=500, attempts=3, message="The server had an error", latency_ms=12.0)
    (finding,) = evaluate_all([rule], facts, kb, TODAY)
    assert finding.status is Status.UNKNOWN and finding.evidence is not None
    assert "HTTP 500" in finding.message and "3 attempts" in finding.message
    assert finding.evidence["status_code"] == 500 and finding.evidence["attempts"] == 3


def test_the_probe_wins_over_the_knowledge_base(rules, kb) -> None:
    # The KB says gpt-4o serves Responses; the probe got OperationNotSupported: a Responses call now fails.
    facts = replace(
        _probe("api_not_supported", api="responses", called_by_app=True), contract=(ContractCall("dep", "responses"),)
    )
    api = [f for f in evaluate_all(rules, facts, kb, TODAY) if f.rule_id == "AOAI-API-001"]
    assert [f.status for f in api] == [Status.FAIL]


# --- the runner against the simulated data plane --------------------------------------------------------


@pytest.fixture()
def credential(tenant):
    from azure.identity import ManagedIdentityCredential

    with ManagedIdentityCredential() as managed:
        yield managed


def _facts(
    tenant, credential, *, contract: tuple[ContractCall, ...] | None = None, only: tuple[str, ...] = ()
) -> Facts:
    from auditor.pipeline.audit import AuditOptions, gather_facts
    from auditor.sources.azure import AzureEnumerator

    cloud = get_cloud("AzureCloud", tenant.management_url)
    facts = gather_facts(
        AzureEnumerator(credential, cloud, connection_verify=tenant.ca_path), AuditOptions(all_accounts=True)
    )
    if only:
        facts = replace(facts, deployments=tuple(d for d in facts.deployments if d.name in only))
    tenant.clear_records()
    return replace(facts, contract=contract)


def _run(tenant, credential, facts: Facts, **options: Any):
    from auditor.probes.runner import run_probes

    options.setdefault("allow_endpoints", ("127.0.0.1",))
    cloud = get_cloud("AzureCloud", tenant.management_url)
    return run_probes(
        facts,
        _kb(),
        TODAY,
        credential=credential,
        cloud=cloud,
        options=ProbeOptions(**options),
        connection_verify=tenant.ca_path,
    )


def test_the_call_limit_is_never_exceeded(tenant, credential) -> None:
    facts = _facts(tenant, credential)
    results, summary = _run(tenant, credential, facts, max_calls=5, concurrency=4)
    data_calls = tenant.requests(plane="data")
    assert len(data_calls) == summary.calls == 5
    skipped = [r for r in results if r.outcome == "skipped"]
    assert skipped and all("call limit (5, --max-probe-calls)" in (r.message or "") for r in skipped)
    assert summary.probes == len(results) and summary.skipped == len(skipped)


def test_the_token_budget_is_never_exceeded(tenant, credential) -> None:
    facts = _facts(tenant, credential, only=("chat-prod", "reasoner", "codex", "legacy-35"))
    results, summary = _run(tenant, credential, facts, token_budget=120)
    assert 0 < summary.tokens <= 120
    assert summary.tokens == sum(r.tokens for r in results)
    skipped = [r for r in results if r.outcome == "skipped"]
    assert skipped and all("token budget (120, --probe-token-budget)" in (r.message or "") for r in skipped)


def test_429_is_retried_after_the_servers_hint(tenant, credential) -> None:
    # bulk-41mini's first data-plane call answers 429 with retry-after: 1 / retry-after-ms: 1000.
    facts = _facts(
        tenant, credential, contract=(ContractCall("bulk-41mini", "chat_completions"),), only=("bulk-41mini",)
    )
    started = time.perf_counter()
    (result,), summary = _run(tenant, credential, facts)
    elapsed = time.perf_counter() - started
    assert result.outcome == "success" and result.throttled == 1 and result.attempts == 2
    assert result.retry_after == 1.0 and result.rate_limit["retry-after-ms"] == "1000"
    assert elapsed >= 1.0, "the retry did not wait for the server's hint"
    assert [r.status for r in tenant.requests(plane="data")] == [429, 200]
    assert summary.calls == 2


def test_retry_after_ms_wins_and_a_long_hint_is_not_waited_for(tenant, credential) -> None:
    from auditor.demo.sim import FaultRule

    facts = _facts(tenant, credential, contract=(ContractCall("chat-prod", "chat_completions"),), only=("chat-prod",))
    tenant.add_fault(
        FaultRule(
            r"/chat/completions$",
            429,
            {"error": {"code": "429", "message": "Rate limit is exceeded."}},
            {"retry-after-ms": "1500", "retry-after": "5"},
            times=1,
            plane="data",
        )
    )
    started = time.perf_counter()
    (result,), _ = _run(tenant, credential, facts)
    assert 1.5 <= time.perf_counter() - started < 4.5
    assert (result.outcome, result.throttled, result.retry_after) == ("success", 1, 1.5)

    tenant.clear_records()
    tenant.add_fault(
        FaultRule(
            r"/chat/completions$",
            429,
            {"error": {"code": "429", "message": "Try again later."}},
            {"retry-after": "120"},
            times=None,
            plane="data",
        )
    )
    started = time.perf_counter()
    (result,), _ = _run(tenant, credential, facts, max_retry_wait=10)
    assert time.perf_counter() - started < 5
    assert result.outcome == "rate_limited" and result.retry_after == 120 and "not retried" in (result.message or "")
    assert len(tenant.requests(plane="data")) == 1


def test_timeouts_and_server_errors_stay_unknown(monkeypatch: pytest.MonkeyPatch, rules, kb) -> None:
    from azure.identity import ManagedIdentityCredential

    from auditor.demo.sim import SimulatedTenant
    from auditor.pipeline.audit import audit

    with SimulatedTenant(data_latency=0.6) as slow:
        for name, value in slow.identity_env().items():
            monkeypatch.setenv(name, value)
        with ManagedIdentityCredential() as managed:
            facts = _facts(
                slow, managed, contract=(ContractCall("chat-prod", "chat_completions"),), only=("chat-prod",)
            )
            (result,), summary = _run(slow, managed, facts, timeout=0.2, max_retries=1)
    assert result.outcome == "timeout" and result.attempts == 2 and summary.calls == 2
    report = audit(replace(facts, probes=(result,)), [r for r in rules if r.category == "probe"], kb, today=TODAY)
    assert {f.status for f in report.findings} == {Status.UNKNOWN}
    assert "no answer within 0.2 s" in report.findings[0].message


def test_endpoints_outside_the_clouds_domains_get_no_credential(tenant, credential) -> None:
    facts = _facts(tenant, credential, only=("chat-prod",))
    results, summary = _run(tenant, credential, facts, allow_endpoints=())
    assert results and {r.outcome for r in results} == {"skipped"}
    assert all("127.0.0.1 is not under the AzureCloud data-plane domains" in (r.message or "") for r in results)
    assert not tenant.requests(plane="data") and summary.calls == 0


def test_a_key_is_sent_as_the_api_key_header_only(tenant, credential) -> None:
    facts = _facts(tenant, credential, contract=(ContractCall("legacy-35", "chat_completions"),), only=("legacy-35",))
    key = tenant.account_keys("contoso-ai-swc")[0]
    (result,), _ = _run(tenant, credential, facts, api_key=key)
    assert (result.outcome, result.auth) == ("success", "key")
    assert key not in repr(result) and key not in json.dumps(result.__dict__, default=str)


def test_demo_probe_covers_every_class_and_leaks_no_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from auditor.cli import main

    for name in AZURE_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "a-real-key-that-must-never-reach-the-simulator")
    secrets: list[str] = []

    from auditor.demo import sim as simulator

    class Watched(simulator.SimulatedTenant):
        def stop(self) -> None:
            secrets.extend(self.handed_out_secrets())
            data = [r for r in self.records if r.plane == "data"]
            secrets.append(f"DATA_CALLS={len(data)}")
            super().stop()

    monkeypatch.setattr(simulator, "SimulatedTenant", Watched)
    assert main(["--demo", "--probe", "--out", str(tmp_path), "--quiet", "--format", "json,html,junit"]) == 1
    report = json.loads((tmp_path / "report.json").read_text())
    probes = [f for f in report["findings"] if f["category"] == "probe"]
    failing = {f["rule_id"] for f in probes if f["status"] == "fail"}
    assert {
        "AOAI-PROBE-001",
        "AOAI-PROBE-002",
        "AOAI-PROBE-003",
        "AOAI-PROBE-004",
        "AOAI-PROBE-005",
        "AOAI-PROBE-006",
        "AOAI-PROBE-008",
        "AOAI-PROBE-010",
    } <= failing
    assert {f["rule_id"] for f in probes if f["status"] == "unknown"} == {"AOAI-PROBE-007"}
    refused = " ".join(f["message"] for f in probes if f["rule_id"] == "AOAI-PROBE-004" and f["status"] == "fail")
    for outcome in ("invalid_key", "invalid_token", "local_auth_disabled", "permission_denied"):
        assert outcome in refused
    assert "[demo: a deliberately wrong API key]" in refused
    spent = report["summary"]["probes"]
    data_calls = int(next(s for s in secrets if s.startswith("DATA_CALLS=")).split("=")[1])
    assert 0 < data_calls <= spent["calls"] <= spent["max_calls"] == 50  # every attempt counted; none over
    assert 0 < spent["tokens"] <= spent["token_budget"] == 2000
    written = "".join(p.read_text() for p in tmp_path.iterdir())
    assert not [s for s in secrets if not s.startswith("DATA_CALLS=") and s in written]
    assert "a-real-key-that-must-never-reach-the-simulator" not in written


def test_demo_without_probe_sends_nothing_to_the_data_plane(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from auditor.cli import main
    from auditor.demo import sim as simulator

    seen: list[int] = []

    class Watched(simulator.SimulatedTenant):
        def stop(self) -> None:
            seen.append(len([r for r in self.records if r.plane == "data"]))
            super().stop()

    monkeypatch.setattr(simulator, "SimulatedTenant", Watched)
    assert main(["--demo", "--out", str(tmp_path), "--quiet", "--format", "json"]) == 1
    report = json.loads((tmp_path / "report.json").read_text())
    assert not [f for f in report["findings"] if f["category"] == "probe"] and "probes" not in report["summary"]
    assert seen == [0]


@pytest.mark.parametrize(
    "args,words",
    [
        (["--demo", "--max-probe-calls", "5"], "--max-probe-calls limits live probes: add --probe"),
        (["--demo", "--probe", "--probe-token-budget", "-1"], "--probe-token-budget must be 0 or more"),
        (["--demo", "--allow-endpoint", "x.example"], "--allow-endpoint only matters for live probes"),
    ],
)
def test_probe_flag_errors_are_one_line_exit_2(args: list[str], words: str, capsys) -> None:
    from auditor.cli import main

    assert main(args) == 2
    err = capsys.readouterr().err
    assert words in err and len(err.strip().splitlines()) == 1


def test_help_documents_the_probe_options(capsys) -> None:
    from auditor.cli import main

    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    for flag in (
        "--probe",
        "--max-probe-calls",
        "--probe-token-budget",
        "--allow-endpoint",
        "--contract-from",
        "--plan",
        "audit --demo --probe",
        "audit contract scan",
    ):
        assert flag in text
