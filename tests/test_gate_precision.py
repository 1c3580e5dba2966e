"""No pass without evidence, no finding where a rule does not apply: the false blocks and false passes a new
user hit (issue 11), each pinned, and the pieces that enforce the principle (applicability by model kind,
field paths checked at load, causes of unknowns, the empty scope)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from auditor.cli import main
from auditor.engine.evaluate import evaluate_all
from auditor.engine.rules import load_rule_file, load_rules
from auditor.gating.verdict import gate
from auditor.knowledge.base import load_knowledge
from auditor.model.enums import ProbeOutcome
from auditor.model.errors import InputError
from auditor.model.facts import CollectionGap, ContractCall, Facts, RateLimit
from auditor.model.results import Cause, Status
from auditor.pipeline.audit import audit
from auditor.sources.contract import load_contract
from tests.conftest import SUB, make_account, make_deployment, make_facts

_CHECKED = load_knowledge().checked
assert _CHECKED is not None
TODAY = _CHECKED
REGION = f"/subscriptions/{SUB}/providers/Microsoft.CognitiveServices/locations/eastus2"


def _findings(facts: Facts, rule_id: str, rules, kb):
    return list(evaluate_all([r for r in rules if r.id == rule_id], facts, kb, TODAY))


def test_an_embeddings_deployment_gets_no_sampling_parameter_finding(rules, kb) -> None:
    facts = make_facts(make_deployment("embed", "text-embedding-3-large", "1"))
    assert _findings(facts, "AOAI-PARAM-002", rules, kb) == []
    chat = make_facts(make_deployment("reasoner", "o4-mini", "2025-04-16"))
    assert [f.status for f in _findings(chat, "AOAI-PARAM-002", rules, kb)] == [Status.FAIL]


def test_streaming_and_parallel_tool_calls_on_gpt_4o_pass_on_family_facts(rules, kb) -> None:
    call = ContractCall("dep", "chat_completions", {"stream": True, "parallel_tool_calls": True, "temperature": 0.2})
    facts = make_facts(make_deployment(), contract=(call,))
    for rule_id in ("AOAI-PARAM-006", "AOAI-PARAM-007", "AOAI-PARAM-001"):
        statuses = {f.status for f in _findings(facts, rule_id, rules, kb)}
        assert statuses == {Status.PASS}, rule_id
    assert kb.model("gpt-4o").facts["streaming"].family == "gpt-4o", "stated once, for the family"


def test_a_model_the_knowledge_base_does_not_know_is_unknown_with_its_cause(rules, kb) -> None:
    call = ContractCall("dep", "chat_completions", {"stream": True})
    facts = make_facts(make_deployment("dep", "gpt-9-preview", "2027-01-01"), contract=(call,))
    (finding,) = _findings(facts, "AOAI-PARAM-006", rules, kb)
    assert finding.status is Status.UNKNOWN and finding.cause is Cause.KNOWLEDGE
    assert "gpt-9-preview is not in the knowledge base" in (finding.reason or "")


def test_an_unread_catalog_never_agrees_with_the_knowledge_base(rules, kb) -> None:
    gap = CollectionGap(REGION, "could not read the model catalog: HTTP 403 AuthorizationFailed")
    facts = replace(make_facts(make_deployment(), catalog=None), gaps=(gap,))
    for rule_id in ("AOAI-API-010", "AOAI-PARAM-010", "AOAI-LIFE-010"):
        (finding,) = _findings(facts, rule_id, rules, kb)
        assert finding.status is Status.UNKNOWN, (rule_id, finding.message)
        assert finding.cause is Cause.AZURE and "AuthorizationFailed" in (finding.reason or "")


def test_a_catalog_without_the_fact_makes_no_agreement_claim(rules, kb) -> None:
    facts = make_facts(make_deployment())  # the catalog entry reports no capabilities, no token limits
    for rule_id in ("AOAI-API-010", "AOAI-PARAM-010"):
        assert _findings(facts, rule_id, rules, kb) == [], rule_id


def test_unread_quota_usages_are_unknown_for_the_deployments_there(rules, kb) -> None:
    gap = CollectionGap(REGION, "could not read quota usages: HTTP 500 InternalServerError")
    facts = replace(make_facts(make_deployment("chat"), usages=None), gaps=(gap,))
    (finding,) = _findings(facts, "AOAI-QUOTA-001", rules, kb)
    assert finding.status is Status.UNKNOWN and finding.cause is Cause.AZURE
    assert (
        "InternalServerError" in (finding.reason or "")
        and finding.target_name == "eastus2/OpenAI.GlobalStandard.gpt-4o"
    )
    report = audit(facts, rules, kb, today=TODAY)
    assert not report.quota, "no picture drawn from numbers that were not read"


def test_an_unread_catalog_leaves_the_quota_line_unknown_too(rules, kb) -> None:
    facts = make_facts(make_deployment("chat"), catalog=None)
    (finding,) = _findings(facts, "AOAI-QUOTA-001", rules, kb)
    assert finding.status is Status.UNKNOWN and "which quota line applies is unknown" in (finding.reason or "")


def test_no_tokens_per_minute_figure_is_not_enough(rules, kb) -> None:
    call = ContractCall("ptu", "chat_completions", {}, tokens_per_minute=500000)
    provisioned = make_deployment("ptu", sku="ProvisionedManaged", capacity=50)
    (finding,) = _findings(make_facts(provisioned, contract=(call,)), "AOAI-QUOTA-002", rules, kb)
    assert finding.status is Status.UNKNOWN and finding.cause is Cause.AZURE
    assert "ProvisionedManaged" in (finding.reason or "")
    limited = replace(provisioned, rate_limits=(RateLimit("token", 600000, 60),))
    (finding,) = _findings(make_facts(limited, contract=(call,)), "AOAI-QUOTA-002", rules, kb)
    assert finding.status is Status.PASS


def test_reasoning_effort_on_each_api_is_read_where_that_api_sends_it(rules, kb) -> None:
    calls = (
        ContractCall("dep", "responses", {"reasoning": {"effort": "medium"}}),
        ContractCall("dep", "chat_completions", {"reasoning_effort": "medium"}),
    )
    facts = make_facts(make_deployment("dep", "gpt-5", "2025-08-07"), contract=calls)
    for rule_id in ("AOAI-API-003", "AOAI-API-004", "AOAI-PARAM-004"):
        assert {f.status for f in _findings(facts, rule_id, rules, kb)} <= {Status.PASS}, rule_id
    wrong = make_facts(
        make_deployment("dep", "gpt-5", "2025-08-07"),
        contract=(ContractCall("dep", "responses", {"reasoning_effort": "medium"}),),
    )
    assert [f.status for f in _findings(wrong, "AOAI-API-003", rules, kb)] == [Status.FAIL]


def test_the_contract_keeps_the_two_reasoning_parameters_apart(tmp_path: Path) -> None:
    path = tmp_path / "contract.yaml"
    path.write_text("deployments:\n  r:\n    api: responses\n    parameters: {reasoning.effort: low, store: false}\n")
    (call,) = load_contract(path)
    assert call.parameters == {"reasoning": {"effort": "low"}, "store": False}
    path.write_text("deployments:\n  r:\n    api: responses\n    parameters: {reasoning: medium}\n")
    with pytest.raises(InputError, match=r"contract.yaml:3: .*reasoning must be a mapping such as \{effort: medium\}"):
        load_contract(path)


def test_a_field_path_typo_is_a_load_error_with_a_suggestion(tmp_path: Path) -> None:
    source = Path(__file__).resolve().parents[1] / "rules" / "builtin" / "security.yaml"
    text = source.read_text().replace("AOAI-SEC-", "MY-SEC-")
    text = text.replace(
        "{field: account.local_auth_enabled, equals: true}", "{field: account.disable_local_authh, equals: true}"
    )
    (tmp_path / "rules").mkdir()
    bad = tmp_path / "rules" / "sec.yaml"
    bad.write_text(text)
    line = next(n for n, t in enumerate(text.splitlines(), 1) if "disable_local_authh" in t)
    with pytest.raises(InputError) as raised:
        load_rule_file(bad)
    message = str(raised.value)
    assert message.startswith(f"{bad}:{line}: MY-SEC-001: unknown field account.disable_local_authh")
    assert "did you mean account.disable_local_auth?" in message
    assert main(["--demo", "--rules", str(tmp_path / "rules"), "--out", str(tmp_path / "out"), "--quiet"]) == 2


def test_a_typo_in_a_message_placeholder_is_caught_too(tmp_path: Path) -> None:
    source = Path(__file__).resolve().parents[1] / "rules" / "builtin" / "quota.yaml"
    text = source.read_text().replace("AOAI-QUOTA-", "MY-QUOTA-").replace("{usage.percent}%", "{usage.precent}%")
    bad = tmp_path / "quota.yaml"
    bad.write_text(text)
    with pytest.raises(
        InputError, match=r"unknown field usage.precent for quota_usage subjects; did you mean usage.percent"
    ):
        load_rule_file(bad)


def test_every_builtin_rule_reads_only_declared_fields() -> None:
    assert load_rules()  # loading checks every path


def test_an_audit_of_nothing_is_incomplete(rules, kb) -> None:
    facts = Facts(subscriptions_searched=("sub-a", "sub-b"))
    report = audit(facts, rules, kb, today=TODAY)
    assert gate(report, "error") == 3 and gate(report, "never") == 3
    assert report.gaps == ("audited nothing: no Azure OpenAI or AI Services account in subscription(s) sub-a, sub-b",)


def test_an_empty_subscription_exits_3_through_the_cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys) -> None:
    from auditor.demo.sim import SimulatedTenant, TenantSpec, default_tenant_data
    from tests.conftest import sign_in_to

    data = default_tenant_data()
    empty = "00000000-0000-4000-8000-0000000000e0"
    data["subscriptions"].append(
        {"subscriptionId": empty, "displayName": "sandbox", "state": "Enabled", "resourceGroups": []}
    )
    with SimulatedTenant(TenantSpec.from_mapping(data)) as running:
        sign_in_to(running, monkeypatch)
        code = main(
            ["--management-endpoint", running.management_url, "--out", str(tmp_path), "--all", "--subscription", empty]
        )
    assert code == 3
    out = capsys.readouterr().out
    assert f"audited nothing: no Azure OpenAI or AI Services account in subscription(s) {empty}" in out
    assert json.loads((tmp_path / "report.json").read_text())["complete"] is False


def test_the_console_lists_unknowns_at_the_gate_with_how_to_settle(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys
) -> None:
    from auditor.demo.sim import FaultRule, SimulatedTenant
    from tests.conftest import sign_in_to

    contract = tmp_path / "contract.yaml"
    contract.write_text("deployments:\n  chat-prod:\n    api: chat_completions\n    tokens_per_minute: 1000\n")
    with SimulatedTenant() as running:
        sign_in_to(running, monkeypatch)
        running.add_fault(
            FaultRule(
                r"/locations/eastus2/models$",
                403,
                {"error": {"code": "AuthorizationFailed", "message": "no"}},
                times=None,
            )
        )
        running.add_fault(
            FaultRule(
                r"/locations/eastus2/usages$",
                403,
                {"error": {"code": "AuthorizationFailed", "message": "no"}},
                times=None,
            )
        )
        main(
            [
                "--management-endpoint",
                running.management_url,
                "--out",
                str(tmp_path / "out"),
                "--resource",
                "contoso-aoai-eus2",
                "--contract",
                str(contract),
                "--select",
                "AOAI-REGION-001",
                "--format",
                "json",
            ]
        )
    out = capsys.readouterr().out
    assert "UNKNOWN ERROR   AOAI-REGION-001" in out and "[azure read]" in out
    assert "settle: give the identity read access" in out


def test_a_probe_settles_a_parameter_the_knowledge_base_does_not_know(rules, kb) -> None:
    from auditor.model.facts import ProbeResult

    # gpt-oss-120b: a known reasoning model whose parameter table no source read here gives
    deployment = make_deployment("dep", "gpt-oss-120b", "1")
    call = ContractCall("dep", "chat_completions", {"temperature": 0.5, "top_p": 0.9})
    facts = make_facts(deployment, contract=(call,))
    assert {f.status for f in _findings(facts, "AOAI-PARAM-001", rules, kb)} == {Status.UNKNOWN}
    answered = ProbeResult(
        make_account().id, "dep", "chat_completions", ProbeOutcome.SUCCESS, parameter="temperature", value=0.5,
        deployment_id=deployment.id, called_by_app=True,
    )  # fmt: skip
    by_param = {
        f.message.split("=")[0].rsplit(" ", 1)[-1] if f.status is Status.PASS else f.reason: f.status
        for f in _findings(replace(facts, probes=(answered,)), "AOAI-PARAM-001", rules, kb)
    }
    assert Status.PASS in by_param.values(), "Azure accepted temperature=0.5: that is evidence"
    assert Status.UNKNOWN in by_param.values(), "top_p was not probed: still unknown, not assumed supported"


def test_probes_are_planned_for_parameters_the_knowledge_base_does_not_know(kb) -> None:
    from auditor.probes.selection import _doubted

    unknown_model = make_deployment("dep", "gpt-9-preview", "2027-01-01")
    assert _doubted(kb, unknown_model, "chat_completions", "temperature", 0.5, TODAY)
    assert not _doubted(kb, make_deployment(), "chat_completions", "temperature", 0.5, TODAY)


def test_a_scanned_responses_call_with_reasoning_effort_is_not_blocked(tmp_path: Path) -> None:
    """The false block as a new user met it: responses.create(reasoning={"effort": ...}) scanned from the code,
    audited against the demo tenant's o4-mini deployment."""
    from tests.conftest import run_demo

    app = tmp_path / "app"
    app.mkdir()
    (app / "main.py").write_text(
        "from openai import OpenAI\n\nclient = OpenAI()\n"
        'client.responses.create(model="reasoner", input="hi", reasoning={"effort": "medium"}, max_output_tokens=500)\n'
    )
    run_demo(tmp_path / "out", "--contract-from", str(app), "--format", "json")
    findings = json.loads((tmp_path / "out" / "report.json").read_text())["findings"]
    mine = {
        (f["rule_id"], f["status"])
        for f in findings
        if f["target_name"] == "contoso-aoai-eus2/reasoner" and f["rule_id"] in ("AOAI-API-003", "AOAI-PARAM-004")
    }
    assert mine == {("AOAI-API-003", "pass"), ("AOAI-PARAM-004", "pass")}
