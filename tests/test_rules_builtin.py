"""Every built-in rule, table-driven: facts that pass and facts that fail."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest

from auditor.engine.evaluate import evaluate_all
from auditor.knowledge.base import KnowledgeBase
from auditor.model.facts import ContractCall, Facts, QuotaUsage, SourceLocation
from auditor.model.results import Status
from tests.conftest import TODAY, make_account, make_deployment, make_facts

LOC = SourceLocation("contract.yaml", 3)


def call(deployment: str, api: str = "chat_completions", **params: object) -> ContractCall:
    return ContractCall(deployment=deployment, api=api, parameters=params, location=LOC)


def call_with(deployment: str, api: str = "chat_completions", **fields: object) -> ContractCall:
    return ContractCall(deployment=deployment, api=api, location=LOC, **fields)  # type: ignore[arg-type]


def usage(current: float, limit: float = 100.0) -> tuple[QuotaUsage, ...]:
    return (QuotaUsage("OpenAI.GlobalStandard.gpt-4o", "Tokens Per Minute (thousands) - gpt-4o", current, limit),)


def healthy() -> Facts:
    return make_facts(make_deployment("chat"))


Build = Callable[[], "Facts | tuple[Facts, KnowledgeBase]"]
"""Facts for a case, or facts with the knowledge base to judge them by."""

CASES: list[tuple[str, Status, Build]] = [
    # api-support
    (
        "AOAI-API-001",
        Status.FAIL,
        lambda: make_facts(make_deployment("pro", "gpt-5-pro", "2025-10-06"), contract=(call("pro"),)),
    ),
    (
        "AOAI-API-001",
        Status.PASS,
        lambda: make_facts(make_deployment("pro", "gpt-5-pro", "2025-10-06"), contract=(call("pro", "responses"),)),
    ),
    (
        "AOAI-API-001",
        Status.FAIL,
        lambda: make_facts(make_deployment("emb", "text-embedding-3-large", "1", "Standard"), contract=(call("emb"),)),
    ),
    ("AOAI-API-002", Status.FAIL, lambda: make_facts(make_deployment("pro", "gpt-5-pro", "2025-10-06"))),
    ("AOAI-API-002", Status.PASS, healthy),
    (
        "AOAI-API-003",
        Status.FAIL,
        lambda: make_facts(
            make_deployment("c", "gpt-5.1-codex", "2025-11-13"), contract=(call("c", "responses", messages=None),)
        ),
    ),
    (
        "AOAI-API-003",
        Status.PASS,
        lambda: make_facts(
            make_deployment("c", "gpt-5.1-codex", "2025-11-13"), contract=(call("c", "responses", input=None),)
        ),
    ),
    (
        "AOAI-API-003",
        Status.FAIL,
        lambda: make_facts(
            make_deployment("c"), contract=(call("c", "responses", response_format={"type": "json_object"}),)
        ),
    ),
    (
        "AOAI-API-004",
        Status.FAIL,
        lambda: make_facts(make_deployment("c"), contract=(call("c", max_output_tokens=100),)),
    ),
    (
        "AOAI-API-004",
        Status.PASS,
        lambda: make_facts(make_deployment("c"), contract=(call("c", max_completion_tokens=100),)),
    ),
    # parameters
    (
        "AOAI-PARAM-001",
        Status.FAIL,
        lambda: make_facts(make_deployment("r", "o4-mini", "2025-04-16"), contract=(call("r", temperature=0.7),)),
    ),
    (
        "AOAI-PARAM-001",
        Status.PASS,
        lambda: make_facts(make_deployment("r", "o4-mini", "2025-04-16"), contract=(call("r", temperature=1),)),
    ),
    (
        "AOAI-PARAM-001",
        Status.FAIL,
        lambda: make_facts(make_deployment("r", "o3-mini", "2025-01-31"), contract=(call("r", temperature=1),)),
    ),
    (
        "AOAI-PARAM-001",
        Status.FAIL,
        lambda: make_facts(make_deployment("r", "o4-mini", "2025-04-16"), contract=(call("r", max_tokens=100),)),
    ),
    ("AOAI-PARAM-001", Status.PASS, lambda: make_facts(make_deployment("c"), contract=(call("c", temperature=0.7),))),
    (
        "AOAI-PARAM-001",
        Status.UNKNOWN,
        lambda: make_facts(make_deployment("r", "o4-mini", "2025-04-16"), contract=(call("r", temperature=None),)),
    ),
    (
        "AOAI-PARAM-004",
        Status.FAIL,
        lambda: make_facts(
            make_deployment("p", "gpt-5-pro", "2025-10-06"), contract=(call("p", "responses", reasoning_effort="low"),)
        ),
    ),
    (
        "AOAI-PARAM-004",
        Status.PASS,
        lambda: make_facts(
            make_deployment("p", "gpt-5-pro", "2025-10-06"), contract=(call("p", "responses", reasoning_effort="high"),)
        ),
    ),
    (
        "AOAI-PARAM-004",
        Status.FAIL,
        lambda: make_facts(
            make_deployment("m", "o1-mini", "2024-09-12"), contract=(call("m", reasoning_effort="low"),)
        ),
    ),
    (
        "AOAI-PARAM-005",
        Status.FAIL,
        lambda: make_facts(
            make_deployment("m", "o1-mini", "2024-09-12"), contract=(call_with("m", roles=("system", "user")),)
        ),
    ),
    (
        "AOAI-PARAM-005",
        Status.PASS,
        lambda: make_facts(
            make_deployment("m", "o4-mini", "2025-04-16"), contract=(call_with("m", roles=("system", "user")),)
        ),
    ),
    (
        "AOAI-PARAM-006",
        Status.FAIL,
        lambda: make_facts(
            make_deployment("p", "gpt-5-pro", "2025-10-06"), contract=(call("p", "responses", stream=True),)
        ),
    ),
    (
        "AOAI-PARAM-006",
        Status.PASS,
        lambda: make_facts(make_deployment("r", "o4-mini", "2025-04-16"), contract=(call("r", stream=True),)),
    ),
    (
        "AOAI-PARAM-007",
        Status.FAIL,
        lambda: make_facts(
            make_deployment("r", "o4-mini", "2025-04-16"), contract=(call("r", parallel_tool_calls=True),)
        ),
    ),
    (
        "AOAI-PARAM-007",
        Status.PASS,
        lambda: make_facts(
            make_deployment("g", "gpt-5", "2025-08-07"), contract=(call("g", parallel_tool_calls=True),)
        ),
    ),
    ("AOAI-PARAM-002", Status.FAIL, lambda: make_facts(make_deployment("r", "o4-mini", "2025-04-16"))),
    ("AOAI-PARAM-002", Status.PASS, healthy),
    (
        "AOAI-PARAM-003",
        Status.FAIL,
        lambda: make_facts(
            make_deployment("big", "gpt-4.1", "2025-04-14", "Standard"),
            contract=(call_with("big", min_context_tokens=500_000),),
        ),
    ),
    (
        "AOAI-PARAM-003",
        Status.PASS,
        lambda: make_facts(
            make_deployment("big", "gpt-4.1", "2025-04-14", "GlobalStandard"),
            contract=(call_with("big", min_context_tokens=500_000),),
        ),
    ),
    # access
    ("AOAI-ACCESS-001", Status.FAIL, lambda: make_facts(make_deployment("g", "gpt-5.4", "2026-03-05"))),
    ("AOAI-ACCESS-001", Status.PASS, healthy),
    # region
    ("AOAI-REGION-001", Status.FAIL, lambda: make_facts(make_deployment("c"), catalog=())),
    ("AOAI-REGION-001", Status.PASS, healthy),
    ("AOAI-REGION-001", Status.UNKNOWN, lambda: make_facts(make_deployment("c"), catalog=None)),
    (
        "AOAI-REGION-002",
        Status.FAIL,
        lambda: make_facts(
            make_deployment("c"), account=make_account(location="westeurope"), contract=(call("c", "responses"),)
        ),
    ),
    ("AOAI-REGION-002", Status.PASS, lambda: make_facts(make_deployment("c"), contract=(call("c", "responses"),))),
    # quota
    ("AOAI-QUOTA-001", Status.FAIL, lambda: make_facts(make_deployment("c"), usages=usage(95))),
    ("AOAI-QUOTA-001", Status.PASS, lambda: make_facts(make_deployment("c"), usages=usage(50))),
    (
        "AOAI-QUOTA-002",
        Status.FAIL,
        lambda: make_facts(make_deployment("c", capacity=10), contract=(call_with("c", tokens_per_minute=50_000),)),
    ),
    (
        "AOAI-QUOTA-002",
        Status.PASS,
        lambda: make_facts(make_deployment("c", capacity=100), contract=(call_with("c", tokens_per_minute=50_000),)),
    ),
    # lifecycle: the live catalog's date wins
    ("AOAI-LIFE-001", Status.FAIL, lambda: _retiring(-5)),
    ("AOAI-LIFE-001", Status.PASS, lambda: _retiring(200)),
    ("AOAI-LIFE-002", Status.FAIL, lambda: _retiring(10)),
    ("AOAI-LIFE-002", Status.PASS, lambda: _retiring(60)),
    ("AOAI-LIFE-003", Status.FAIL, lambda: _retiring(60)),
    ("AOAI-LIFE-003", Status.PASS, lambda: _retiring(200)),
    # deprecationStatus Tentative (stable/2025-09-01/examples/ListLocationModels.json, dall-e-3 and gpt-4o
    # 2024-05-13): a warning, never the error of a confirmed date
    ("AOAI-LIFE-006", Status.FAIL, lambda: _retiring(10, tentative=True)),
    ("AOAI-LIFE-006", Status.FAIL, lambda: _retiring(-10, tentative=True)),
    ("AOAI-LIFE-006", Status.PASS, lambda: _retiring(60, tentative=True)),
    ("AOAI-LIFE-004", Status.FAIL, lambda: _retiring(60, version_upgrade_option="NoAutoUpgrade")),
    ("AOAI-LIFE-004", Status.PASS, lambda: _retiring(60)),
    ("AOAI-LIFE-005", Status.FAIL, lambda: _with_status("Deprecated")),
    ("AOAI-LIFE-005", Status.PASS, lambda: _with_status("GenerallyAvailable")),
    # the 2026-10-05 schedule: gpt-4o 2024-11-20 is Legacy (retires 2027-04-14); gpt-4.1 moved on to Deprecated
    ("AOAI-LIFE-007", Status.FAIL, lambda: make_facts(make_deployment("l", "gpt-4o", "2024-11-20"))),
    ("AOAI-LIFE-007", Status.PASS, lambda: make_facts(make_deployment("d", "gpt-4.1", "2025-04-14"))),
    ("AOAI-LIFE-007", Status.PASS, lambda: make_facts(make_deployment("g", "gpt-5", "2025-08-07"))),
    # gpt-5.6: function tools on Chat Completions only with reasoning_effort none (its default is medium)
    (
        "AOAI-API-020",
        Status.FAIL,
        lambda: make_facts(make_deployment("s", "gpt-5.6-sol", "2026-07-09"), contract=(call("s", tools=[]),)),
    ),
    (
        "AOAI-API-020",
        Status.FAIL,
        lambda: make_facts(
            make_deployment("s", "gpt-5.6-sol", "2026-07-09"), contract=(call("s", tools=[], reasoning_effort="low"),)
        ),
    ),
    (
        "AOAI-API-020",
        Status.PASS,
        lambda: make_facts(
            make_deployment("s", "gpt-5.6-sol", "2026-07-09"), contract=(call("s", tools=[], reasoning_effort="none"),)
        ),
    ),
    (
        "AOAI-API-020",
        Status.PASS,
        lambda: make_facts(make_deployment("g", "gpt-5.4", "2026-03-05"), contract=(call("g", tools=[]),)),
    ),
    # o-series need 2024-12-01-preview or later on the dated route; the v1 route is not judged
    (
        "AOAI-API-021",
        Status.FAIL,
        lambda: make_facts(
            make_deployment("o", "o3-mini", "2025-01-31"), contract=(call_with("o", api_version="2024-10-21"),)
        ),
    ),
    (
        "AOAI-API-021",
        Status.PASS,
        lambda: make_facts(
            make_deployment("o", "o3-mini", "2025-01-31"), contract=(call_with("o", api_version="2025-04-01-preview"),)
        ),
    ),
    (
        "AOAI-EMB-002",
        Status.FAIL,
        lambda: make_facts(
            make_deployment("e", "text-embedding-3-large", "1", "Standard"),
            contract=(call_with("e", "embeddings", inputs_per_call=4096),),
        ),
    ),
    (
        "AOAI-EMB-002",
        Status.PASS,
        lambda: make_facts(
            make_deployment("e", "text-embedding-3-large", "1", "Standard"),
            contract=(call_with("e", "embeddings", inputs_per_call=2048),),
        ),
    ),
    # deployment
    ("AOAI-DEPLOY-001", Status.FAIL, lambda: make_facts(make_deployment("c", provisioning_state="Failed"))),
    ("AOAI-DEPLOY-001", Status.PASS, healthy),
    ("AOAI-DEPLOY-002", Status.FAIL, lambda: make_facts(make_deployment("c", provisioning_state="Creating"))),
    ("AOAI-DEPLOY-002", Status.PASS, healthy),
    ("AOAI-DEPLOY-003", Status.FAIL, lambda: make_facts(make_deployment("chat-prod"), contract=(call("gpt-4o"),))),
    ("AOAI-DEPLOY-003", Status.PASS, lambda: make_facts(make_deployment("chat-prod"), contract=(call("nonexistent"),))),
    ("AOAI-DEPLOY-004", Status.FAIL, lambda: make_facts(make_deployment("chat-prod"), contract=(call("nonexistent"),))),
    ("AOAI-DEPLOY-004", Status.PASS, lambda: make_facts(make_deployment("chat-prod"), contract=(call("gpt-4o"),))),
    ("AOAI-DEPLOY-005", Status.FAIL, lambda: make_facts(make_deployment("c", capacity=0))),
    ("AOAI-DEPLOY-005", Status.PASS, healthy),
    ("AOAI-DEPLOY-006", Status.FAIL, lambda: make_facts(make_deployment("c", state="Paused"))),
    ("AOAI-DEPLOY-006", Status.PASS, lambda: make_facts(make_deployment("c", state="Running"))),
    # recorded real deployments omit deploymentState while running: not a pause, decided
    ("AOAI-DEPLOY-006", Status.PASS, lambda: make_facts(make_deployment("c", state=None))),
    # the recorded westeurope catalog's replacementConfig (gpt-35-turbo 0125 -> gpt-4.1-mini from 2025-09-30)
    ("AOAI-LIFE-008", Status.FAIL, lambda: _moved()),
    ("AOAI-LIFE-008", Status.PASS, lambda: _moved(version_upgrade_option="NoAutoUpgrade")),
    ("AOAI-PARAM-011", Status.FAIL, lambda: make_facts(make_deployment("c"), contract=(call("c", top_logprobs=21),))),
    ("AOAI-PARAM-011", Status.PASS, lambda: make_facts(make_deployment("c"), contract=(call("c", top_logprobs=20),))),
    # security
    (
        "AOAI-SEC-001",
        Status.FAIL,
        lambda: make_facts(make_deployment("c"), account=make_account(disable_local_auth=None)),
    ),
    ("AOAI-SEC-001", Status.PASS, healthy),
    (
        "AOAI-SEC-013",
        Status.FAIL,
        lambda: make_facts(
            make_deployment("c"),
            account=make_account(endpoint="https://westus2.api.cognitive.microsoft.com/", custom_subdomain=None),
        ),
    ),
    ("AOAI-SEC-013", Status.PASS, healthy),
    (
        "AOAI-SEC-002",
        Status.FAIL,
        lambda: make_facts(
            make_deployment("c"), account=make_account(public_network_access="Enabled", network_default_action=None)
        ),
    ),
    (
        "AOAI-SEC-002",
        Status.PASS,
        lambda: make_facts(
            make_deployment("c"), account=make_account(public_network_access="Enabled", network_default_action="Deny")
        ),
    ),
    (
        "AOAI-SEC-003",
        Status.FAIL,
        lambda: make_facts(make_deployment("c"), account=make_account(private_endpoint_connections=())),
    ),
    ("AOAI-SEC-003", Status.PASS, healthy),
    ("AOAI-SEC-004", Status.FAIL, lambda: make_facts(make_deployment("c"), account=make_account(identity_type=None))),
    ("AOAI-SEC-004", Status.PASS, healthy),
    (
        "AOAI-SEC-005",
        Status.FAIL,
        lambda: make_facts(make_deployment("c"), account=make_account(encryption_key_source=None)),
    ),
    ("AOAI-SEC-005", Status.PASS, healthy),
    ("AOAI-SEC-006", Status.FAIL, lambda: make_facts(make_deployment("c", rai_policy_name=None))),
    ("AOAI-SEC-006", Status.PASS, healthy),
    (
        "AOAI-SEC-007",
        Status.FAIL,
        lambda: make_facts(make_deployment("c"), account=make_account(restrict_outbound_network_access=None)),
    ),
    ("AOAI-SEC-007", Status.PASS, healthy),
    ("AOAI-SEC-008", Status.FAIL, lambda: _with_policy(enabled=False)),
    ("AOAI-SEC-008", Status.PASS, lambda: _with_policy(enabled=True)),
    ("AOAI-SEC-008", Status.UNKNOWN, lambda: healthy()),  # policies not read: never a pass
    # the live catalog wins over the knowledge base, and the disagreement is reported
    (
        "AOAI-API-010",
        Status.FAIL,
        lambda: _with_caps(
            make_deployment("t", "gpt-4", "turbo-2024-04-09"), {"chatCompletion": "true", "responses": "true"}
        ),
    ),
    ("AOAI-API-010", Status.PASS, lambda: _with_caps(make_deployment("c"), {"chatCompletion": "true"})),
    ("AOAI-PARAM-010", Status.FAIL, lambda: _with_caps(make_deployment("c"), {"maxContextToken": "64000"})),
    ("AOAI-PARAM-010", Status.PASS, lambda: _with_caps(make_deployment("c"), {"maxContextToken": "128000"})),
    ("AOAI-LIFE-010", Status.FAIL, lambda: _retiring(200)),
    ("AOAI-LIFE-010", Status.PASS, lambda: _retiring_on(date(2027, 4, 14))),  # the knowledge base's date
    ("AOAI-LIFE-011", Status.PASS, healthy),
    ("AOAI-LIFE-011", Status.FAIL, lambda: (healthy(), _stale_kb())),
]


def _with_policy(enabled: bool) -> Facts:
    from auditor.model.facts import ContentFilter, ContentFilterPolicy
    from tests.conftest import ACCOUNT_ID

    policy = ContentFilterPolicy(
        "Microsoft.DefaultV2",
        "SystemManaged",
        "Blocking",
        None,
        (ContentFilter("Violence", "Prompt", enabled, enabled),),
    )
    return replace(healthy(), content_filter_policies={ACCOUNT_ID: (policy,)})


def _with_status(status: str) -> Facts:
    from tests.conftest import catalog_for

    deployment = make_deployment("c")
    (entry,) = catalog_for(deployment)
    return make_facts(deployment, catalog=(replace(entry, lifecycle_status=status),))


def _stale_kb():
    from auditor.knowledge.base import load_knowledge

    return replace(load_knowledge(), checked=TODAY - timedelta(days=91))


def _with_caps(deployment, capabilities) -> Facts:
    from tests.conftest import catalog_for

    return make_facts(deployment, catalog=catalog_for(deployment, capabilities=capabilities))


def _retiring_on(day: date) -> Facts:
    from tests.conftest import catalog_for

    deployment = make_deployment("c")
    return make_facts(deployment, catalog=catalog_for(deployment, deprecation=day))


def _moved(**deployment_fields: Any) -> Facts:
    from tests.conftest import catalog_for

    deployment = make_deployment("c", **deployment_fields)
    catalog = catalog_for(deployment, deprecation=TODAY + timedelta(days=200))
    moved = tuple(
        replace(
            e,
            replacement_name="gpt-4.1-mini",
            replacement_version="2025-04-14",
            replacement_auto_upgrade_start=TODAY + timedelta(days=30),
        )
        for e in catalog
    )
    return make_facts(deployment, catalog=moved)


def _retiring(days: int, tentative: bool = False, **deployment_fields: Any) -> Facts:
    from tests.conftest import catalog_for

    deployment = make_deployment("c", **deployment_fields)
    catalog = catalog_for(deployment, deprecation=TODAY + timedelta(days=days))
    return make_facts(deployment, catalog=tuple(replace(e, deprecation_tentative=tentative) for e in catalog))


@pytest.mark.parametrize("rule_id,expected,build", CASES, ids=[f"{c[0]}-{c[1].value}-{i}" for i, c in enumerate(CASES)])
def test_rule_case(rule_id: str, expected: Status, build: Build, rules, kb) -> None:
    rule = next(r for r in rules if r.id == rule_id)
    built = build()
    facts, knowledge = built if isinstance(built, tuple) else (built, kb)
    findings = evaluate_all([rule], facts, knowledge, TODAY)
    statuses = {f.status for f in findings}
    assert expected in statuses, [(f.status, f.message) for f in findings]
    if expected is Status.FAIL:
        failing = [f for f in findings if f.status is Status.FAIL]
        assert all("{" not in f.message for f in failing), "placeholders left unfilled"


def test_every_builtin_rule_has_a_passing_and_a_failing_case(rules) -> None:
    from tests.rule_cases import extra_cases  # cases run by the feature's own table test (probes, plans, scan)

    covered = {(rule_id, status) for rule_id, status, _ in [*CASES, *extra_cases()]}
    for rule in rules:
        assert (rule.id, Status.FAIL) in covered, f"{rule.id} has no failing case"
        assert (rule.id, Status.PASS) in covered, f"{rule.id} has no passing case"


def test_contract_findings_point_at_the_contract_line(rules, kb) -> None:
    facts = make_facts(make_deployment("r", "o4-mini", "2025-04-16"), contract=(call("r", temperature=0.5),))
    findings = [f for f in evaluate_all(rules, facts, kb, TODAY) if f.rule_id == "AOAI-PARAM-001"]
    assert findings and findings[0].location == LOC
    assert "temperature=0.5" in findings[0].message


def test_disputed_fact_is_named_in_the_message(rules, kb) -> None:
    # gpt-5.2-codex: the KB records the Chat Completions support as disputed between Microsoft pages.
    entry = kb.model("gpt-5.2-codex")
    assert entry is not None and entry.facts["apis"].disputed
    facts = make_facts(make_deployment("c", "gpt-5.2-codex", "2026-01-14"), contract=(call("c"),))
    failing = [
        f for f in evaluate_all(rules, facts, kb, TODAY) if f.rule_id == "AOAI-API-001" and f.status is Status.FAIL
    ]
    assert failing and "disputed" in failing[0].message


def test_unknown_model_is_unknown_not_pass(rules, kb) -> None:
    facts = make_facts(make_deployment("x", "brand-new-model", "1"), contract=(call("x"),))
    api = [f for f in evaluate_all(rules, facts, kb, TODAY) if f.rule_id == "AOAI-API-001"]
    assert [f.status for f in api] == [Status.UNKNOWN]
    assert "model.apis" in (api[0].reason or "")


def test_stale_knowledge_base_is_reported(rules, kb) -> None:
    stale = replace(kb, checked=TODAY - timedelta(days=120))
    rule = next(r for r in rules if r.id == "AOAI-LIFE-011")
    (finding,) = evaluate_all([rule], healthy(), stale, TODAY)
    assert finding.status is Status.FAIL and "120 days ago" in finding.message


def test_live_catalog_wins_over_the_knowledge_base(rules, kb) -> None:
    # The KB says gpt-4 turbo-2024-04-09 is Chat Completions only; the catalog says it serves Responses too.
    deployment = make_deployment("t", "gpt-4", "turbo-2024-04-09")
    facts = _with_caps(deployment, {"chatCompletion": "true", "responses": "true"})
    contract = (call("t", "responses"),)
    facts = replace(facts, contract=contract)
    findings = evaluate_all(rules, facts, kb, TODAY)
    api = [f for f in findings if f.rule_id == "AOAI-API-001"]
    assert [f.status for f in api] == [Status.PASS], "the catalog's answer decides"
    info = [f for f in findings if f.rule_id == "AOAI-API-010"]
    assert info[0].status is Status.FAIL and "knowledge base lists only chat_completions" in info[0].message


def test_a_preview_past_its_scheduled_date_is_a_tentative_warning_not_a_retirement(rules, kb) -> None:
    """A preview's date in the retirement schedule is "not sooner than" (MS-LC): gpt-chat-latest 2026-05-05 is past
    its 2026-08-05 in the knowledge base yet still offered by the 2026-10-05 region matrix, so it is no error-level
    "retired" (a false block); Microsoft marks a preview it retires as Retired, which stays an error."""
    by_rule = {r.id: r for r in rules}
    lifecycle = [by_rule[i] for i in ("AOAI-LIFE-001", "AOAI-LIFE-006")]
    preview = make_facts(make_deployment("p", "gpt-chat-latest", "2026-05-05"))
    statuses = {f.rule_id: f for f in evaluate_all(lifecycle, preview, kb, TODAY)}
    assert "AOAI-LIFE-001" not in statuses, "a tentative date is AOAI-LIFE-006's, never a retirement"
    warning = statuses["AOAI-LIFE-006"]
    assert warning.status is Status.FAIL and "'not sooner than' date" in warning.message
    assert "deprecationStatus" not in warning.message
    retired = make_facts(make_deployment("r", "gpt-5.3-chat", "2026-03-03"))  # Retired 2026-06-29 (MS-T5)
    (failing,) = [f for f in evaluate_all(lifecycle, retired, kb, TODAY) if f.rule_id == "AOAI-LIFE-001"]
    assert failing.status is Status.FAIL


def test_computer_use_preview_is_not_retired(rules, kb) -> None:
    """The newest models page and the 2026-10-05 region matrix still offer it; no schedule row dates it."""
    rule = next(r for r in rules if r.id == "AOAI-LIFE-001")
    facts = make_facts(make_deployment("c", "computer-use-preview", "2025-03-11"))
    assert {f.status for f in evaluate_all([rule], facts, kb, TODAY)} == {Status.PASS}


def test_a_per_version_input_limit_is_read_for_the_deployed_version(kb) -> None:
    """gpt-chat-latest's input limit differs by version (MS-MD): the view gives the deployed version's number."""
    from auditor.knowledge.base import model_view

    assert model_view(kb, "gpt-chat-latest", "2026-08-06", "GlobalStandard", TODAY)["max_input_tokens"] == 272000
    assert model_view(kb, "gpt-chat-latest", "2026-05-05", "GlobalStandard", TODAY)["max_input_tokens"] == 111616
