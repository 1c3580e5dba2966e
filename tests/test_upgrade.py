"""Upgrade impact (auditor/engine/upgrade.py, rules/builtin/upgrade.yaml) and --what-if, on facts built directly in the
shapes the enumerator fills (CatalogModel.replacement_* from Models_List's replacementConfig, as in
azure-rest-api-specs stable/2025-09-01/examples/ListLocationModels.json)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from auditor.engine.upgrade import DEFAULT_ROLLOUT_DAYS, next_model, parse_what_if
from auditor.knowledge.base import model_view
from auditor.model.errors import InputError
from auditor.model.facts import ContractCall, Facts, PlannedDeployment, SourceLocation
from auditor.model.results import Cause, Finding, Severity, Status
from auditor.pipeline.audit import audit
from tests.conftest import TODAY, catalog_for, make_account, make_deployment, make_facts

APP = SourceLocation("app/main.py", 7)


def _upgrading(
    days: int | None = 20,
    params: dict[str, Any] | None = None,
    target: tuple[str, str] = ("o4-mini", "2025-04-16"),
    option: str = "OnceCurrentVersionExpired",
    contract: bool = True,
    current: tuple[str, str] = ("gpt-4o-mini", "2024-07-18"),
) -> Facts:
    """A gpt-4o-mini deployment whose catalog entry says Azure moves it to `target` in `days` days."""
    deployment = make_deployment("chat", model=current[0], version=current[1], version_upgrade_option=option)
    offered = make_deployment("other", model=target[0], version=target[1])
    (entry,) = catalog_for(deployment)
    entry = replace(
        entry,
        replacement_name=target[0],
        replacement_version=target[1],
        replacement_auto_upgrade_start=None if days is None else TODAY + timedelta(days=days),
        replacement_lead_time_days=7,
    )
    calls = (
        (ContractCall("chat", "chat_completions", params or {"temperature": 0.7, "max_tokens": 800}, location=APP),)
        if contract
        else None
    )
    return make_facts(deployment, catalog=(entry, *catalog_for(offered)), contract=calls)


def _upgrade_findings(facts: Facts, rules, kb, **kwargs: Any) -> list[Finding]:
    report = audit(facts, rules, kb, today=TODAY, **kwargs)
    return [f for f in report.findings if f.category == "upgrade"]


def test_replacement_config_to_a_reasoning_model_names_call_parameters_target_and_date(rules, kb) -> None:
    (finding,) = [f for f in _upgrade_findings(_upgrading(days=20), rules, kb) if f.status is Status.FAIL]
    assert finding.rule_id == "AOAI-UPG-001" and finding.severity is Severity.ERROR
    assert finding.location == APP and "app/main.py:7" in finding.message
    when = str(TODAY + timedelta(days=20))
    for text in (
        "o4-mini 2025-04-16",
        when,
        "temperature",
        "max_tokens",
        "replacementConfig",
        "gpt-4o-mini 2024-07-18",
    ):
        assert text in finding.message, text
    assert finding.evidence is not None
    assert finding.evidence["upgrade_date"] == when
    assert sorted(b["parameter"] for b in finding.evidence["breaks"]) == ["max_tokens", "temperature"]


@pytest.mark.parametrize(
    ("days", "rule", "severity"),
    [
        (-3, "AOAI-UPG-001", Severity.ERROR),  # the upgrade window has opened
        (30, "AOAI-UPG-001", Severity.ERROR),
        (31, "AOAI-UPG-002", Severity.WARNING),
        (90, "AOAI-UPG-002", Severity.WARNING),
        (91, "AOAI-UPG-003", Severity.INFO),
    ],
)
def test_severity_rises_as_the_date_nears(rules, kb, days: int, rule: str, severity: Severity) -> None:
    failing = [f for f in _upgrade_findings(_upgrading(days=days), rules, kb) if f.status is Status.FAIL]
    assert [(f.rule_id, f.severity) for f in failing] == [(rule, severity)]


def test_without_a_date_the_catalog_retirement_minus_lead_time_is_used(rules, kb) -> None:
    facts = _upgrading(days=None)
    retires = TODAY + timedelta(days=50)
    region = facts.regions[0]
    catalog = list(region.catalog or ())
    catalog[0] = replace(
        catalog[0], inference_deprecation=retires, skus=(replace(catalog[0].skus[0], deprecation_date=None),)
    )
    facts = replace(facts, regions=(replace(region, catalog=tuple(catalog)),))
    (finding,) = [f for f in _upgrade_findings(facts, rules, kb) if f.status is Status.FAIL]
    assert finding.rule_id == "AOAI-UPG-002" and str(retires - timedelta(days=7)) in finding.message


def test_a_call_that_works_on_the_next_model_passes(rules, kb) -> None:
    """No false block: max_completion_tokens and no sampling parameter work on o4-mini."""
    findings = _upgrade_findings(_upgrading(params={"max_completion_tokens": 500}), rules, kb)
    assert [(f.rule_id, f.status) for f in findings] == [("AOAI-UPG-001", Status.PASS)]
    assert "keeps working on o4-mini 2025-04-16" in findings[0].message


def test_what_already_fails_today_is_not_reported_again(rules, kb) -> None:
    """o3-mini already refuses temperature (AOAI-PARAM-001 today); moving to o4-mini adds nothing new."""
    facts = _upgrading(params={"temperature": 0.7}, current=("o3-mini", "2025-01-31"))
    report = audit(facts, rules, kb, today=TODAY)
    assert any(f.rule_id == "AOAI-PARAM-001" and f.status is Status.FAIL for f in report.findings)
    upgrade = [f for f in report.findings if f.category == "upgrade"]
    assert [f.status for f in upgrade] == [Status.PASS]


def test_without_a_contract_callers_are_told_what_to_change(rules, kb) -> None:
    (finding,) = _upgrade_findings(_upgrading(contract=False), rules, kb)
    assert finding.status is Status.FAIL and finding.rule_id == "AOAI-UPG-001"
    assert finding.message.startswith("Callers of chat break on")
    assert "temperature other than 1" in finding.message and "max_tokens (use max_completion_tokens)" in finding.message


def test_a_target_the_knowledge_base_does_not_know_is_unknown_never_a_pass(rules, kb) -> None:
    findings = _upgrade_findings(_upgrading(target=("gpt-99-imaginary", "2030-01-01")), rules, kb)
    assert [f.status for f in findings] == [Status.UNKNOWN]
    assert "gpt-99-imaginary" in findings[0].message
    assert findings[0].cause is Cause.KNOWLEDGE, findings[0].reason  # a knowledge-base gap, not an Azure read


def test_no_auto_upgrade_is_not_moved(rules, kb) -> None:
    assert _upgrade_findings(_upgrading(option="NoAutoUpgrade"), rules, kb) == []


def test_next_default_version_under_once_new_default(kb) -> None:
    deployment = make_deployment("chat", model="gpt-4o", version="2024-08-06")
    old, new = catalog_for(deployment, make_deployment("n", model="gpt-4o", version="2024-11-20"))
    facts = make_facts(deployment, catalog=(replace(old, is_default_version=False), new))
    upcoming = next_model(facts, facts.accounts[0], deployment, kb, TODAY)
    assert upcoming is not None
    assert (upcoming.model_name, upcoming.model_version) == ("gpt-4o", "2024-11-20")
    assert upcoming.when == TODAY + timedelta(days=DEFAULT_ROLLOUT_DAYS)
    # OnceCurrentVersionExpired: the region's default version, on the retirement date of the deployed one
    retires = TODAY + timedelta(days=200)
    facts = make_facts(deployment, catalog=(replace(old, is_default_version=False, inference_deprecation=retires), new))
    pinned = replace(deployment, version_upgrade_option="OnceCurrentVersionExpired")
    later = next_model(facts, facts.accounts[0], pinned, kb, TODAY)
    assert later is not None and (later.model_version, later.when) == ("2024-11-20", retires)


def test_knowledge_base_replacement_when_the_catalog_names_none(kb) -> None:
    """o3-mini's replacement is gpt-5.6-terra in the knowledge base (MS-T5); the catalog's retirement date wins."""
    deployment = make_deployment("r", model="o3-mini", version="2025-01-31")
    retires = TODAY + timedelta(days=120)
    facts = make_facts(
        deployment,
        catalog=(
            *catalog_for(deployment, deprecation=retires),
            *catalog_for(make_deployment("t", model="gpt-5.6-terra", version="2026-07-09")),
        ),
    )
    upcoming = next_model(facts, facts.accounts[0], deployment, kb, TODAY)
    assert upcoming is not None
    assert (upcoming.model_name, upcoming.model_version, upcoming.when) == ("gpt-5.6-terra", "2026-07-09", retires)
    assert "knowledge base" in upcoming.source


def test_a_schedule_that_names_no_replacement_moves_nothing(kb) -> None:
    """The retirement schedule writes "—" where no replacement is named (stored as `none`): that is no model to
    move to, never a model called "none" whose facts are unknown (which made the demo's upgrade unknown)."""
    deployment = make_deployment("r", model="gpt-4.1", version="2025-04-14")
    retirement = model_view(kb, "gpt-4.1", "2025-04-14", "GlobalStandard", TODAY)["retirement"]
    assert retirement["replacement"] == "none"
    facts = make_facts(deployment, catalog=catalog_for(deployment, deprecation=TODAY + timedelta(days=60)))
    assert next_model(facts, facts.accounts[0], deployment, kb, TODAY) is None


# --- --what-if -----------------------------------------------------------------------------------------


def _today_calls() -> Facts:
    deployment = make_deployment("chat", model="gpt-4o", version="2024-11-20")
    others = [
        make_deployment("x", model=m, version=v) for m, v in (("o4-mini", "2025-04-16"), ("gpt-4.1", "2025-04-14"))
    ]
    calls = (ContractCall("chat", "chat_completions", {"temperature": 0.7, "max_tokens": 800}, location=APP),)
    catalog = catalog_for(deployment, *others, deprecation=TODAY + timedelta(days=400))
    return make_facts(deployment, catalog=catalog, contract=calls)


def _errors(report) -> list[Finding]:
    return [f for f in report.findings if f.status is Status.FAIL and f.severity is Severity.ERROR]


def test_what_if_breaks_and_heals(rules, kb) -> None:
    facts = _today_calls()
    assert _errors(audit(facts, rules, kb, today=TODAY)) == []
    broken = _errors(audit(facts, rules, kb, today=TODAY, what_ifs=[parse_what_if("chat=o4-mini")]))
    assert sorted(f.message.split("=")[0].rsplit(" ", 1)[-1] for f in broken if f.rule_id == "AOAI-PARAM-001") == [
        "max_tokens",
        "temperature",
    ]
    assert all(f.target_name == "acct/chat (what-if: o4-mini 2025-04-16)" for f in broken)
    # healing: a reasoning deployment the app calls with temperature, as if it ran gpt-4.1
    reasoning = replace(
        facts, deployments=(replace(facts.deployments[0], model_name="o4-mini", model_version="2025-04-16"),)
    )
    assert _errors(audit(reasoning, rules, kb, today=TODAY))
    healed = audit(reasoning, rules, kb, today=TODAY, what_ifs=[parse_what_if("chat=gpt-4.1:2025-04-14")])
    assert _errors(healed) == []


@pytest.mark.parametrize("value", ["chat", "chat=", "=o4-mini", "chat=o4 mini", "chat=o4-mini:", "chat=o4-mini:a:b"])
def test_bad_what_if_values_are_input_errors(value: str) -> None:
    with pytest.raises(InputError, match="--what-if"):
        parse_what_if(value)


def test_what_if_on_an_unknown_deployment_is_an_input_error(rules, kb) -> None:
    with pytest.raises(InputError, match="no audited or planned deployment is named 'nope'"):
        audit(_today_calls(), rules, kb, today=TODAY, what_ifs=[parse_what_if("nope=o4-mini")])


def test_a_plan_that_deploys_a_reasoning_model_under_a_called_name(rules, kb) -> None:
    """--plan: the planned model is what the app's calls on that name meet once the plan is applied."""
    account = make_account()
    offered = make_deployment("x", model="o4-mini", version="2025-04-16")
    plan = PlannedDeployment(
        account="acct",
        name="chat",
        model_name="o4-mini",
        model_version="2025-04-16",
        sku_name="GlobalStandard",
        sku_capacity=5,
        location=SourceLocation("plan.yaml", 3),
    )
    calls = (ContractCall("chat", "chat_completions", {"temperature": 0.7}, location=APP),)
    facts = replace(make_facts(account=account, catalog=catalog_for(offered), contract=calls), planned=(plan,))
    (finding,) = [f for f in _upgrade_findings(facts, rules, kb) if f.status is Status.FAIL]
    assert finding.rule_id == "AOAI-UPG-001" and "when the plan is applied" in finding.message
    assert "plan.yaml:3" in finding.message and "temperature" in finding.message
    # the same plan, as if it deployed gpt-4.1 instead: nothing breaks
    healed = _upgrade_findings(facts, rules, kb, what_ifs=[parse_what_if("chat=gpt-4.1:2025-04-14")])
    assert [f.status for f in healed] == [Status.PASS]


# --- the rule table (counted by tests/test_rules_builtin.py through tests/rule_cases.py) ----------------

RULE_CASES: list[tuple[str, Status, Callable[[], Facts]]] = [
    ("AOAI-UPG-001", Status.FAIL, lambda: _upgrading(days=10)),
    ("AOAI-UPG-001", Status.PASS, lambda: _upgrading(days=10, params={"max_completion_tokens": 100})),
    ("AOAI-UPG-002", Status.FAIL, lambda: _upgrading(days=60)),
    ("AOAI-UPG-002", Status.PASS, lambda: _upgrading(days=60, params={"stream": True})),
    ("AOAI-UPG-003", Status.FAIL, lambda: _upgrading(days=None)),
    ("AOAI-UPG-003", Status.PASS, lambda: _upgrading(days=200, params={"max_completion_tokens": 100})),
]


@pytest.mark.parametrize(
    "rule_id,expected,build", RULE_CASES, ids=[f"{c[0]}-{c[1].value}-{i}" for i, c in enumerate(RULE_CASES)]
)
def test_upgrade_rule_case(rule_id: str, expected: Status, build: Callable[[], Facts], rules, kb) -> None:
    findings = [f for f in audit(build(), rules, kb, today=TODAY).findings if f.rule_id == rule_id]
    assert [f.status for f in findings] == [expected], [(f.status, f.message) for f in findings]
    if expected is Status.FAIL:
        assert "{" not in findings[0].message, "placeholders left unfilled"


def test_selecting_only_the_upgrade_category_still_judges_with_the_contract_rules(rules, kb) -> None:
    """`--select upgrade`: the contract rules are not reported, but the upgrade impact still uses them."""
    only = [r for r in rules if r.category == "upgrade"]
    report = audit(_upgrading(days=10), only, kb, today=TODAY, impact_rules=rules)
    assert [(f.rule_id, f.status) for f in report.findings] == [("AOAI-UPG-001", Status.FAIL)]
    assert "temperature" in report.findings[0].message
