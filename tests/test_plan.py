"""Preflight of planned deployments: reading the three plan formats with file and line, the ARM expression
subset, the plan rules (table), and `--plan` end to end against the simulated tenant for each format."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from auditor.engine.evaluate import evaluate_all
from auditor.model.errors import InputError
from auditor.model.facts import (
    CatalogModel,
    CatalogSku,
    ContractCall,
    Facts,
    PlannedDeployment,
    QuotaUsage,
    SourceLocation,
)
from auditor.model.results import Status
from auditor.sources.plan import Unresolvable, _Expression, detect_format, load_json, load_plan
from tests.conftest import TODAY, catalog_for, make_deployment, make_facts, sign_in_to

PLANS = Path(__file__).resolve().parent / "fixtures" / "plans"
DEMO_CONTRACT = Path(__file__).resolve().parents[1] / "auditor" / "demo" / "contract.yaml"
SWC_ID = (
    "/subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/rg-ai/providers/"
    "Microsoft.CognitiveServices/accounts/contoso-ai-swc"
)


def _rows(path: Path) -> list[tuple[Any, ...]]:
    return [
        (
            p.location.line if p.location else None,
            p.account,
            p.name,
            p.model_name,
            p.model_version,
            p.sku_name,
            p.sku_capacity,
        )
        for p in load_plan(path)
    ]


# --- reading plans ---------------------------------------------------------------------------------------


def test_yaml_plan() -> None:
    planned = load_plan(PLANS / "deployments.yaml")
    assert _rows(PLANS / "deployments.yaml") == [
        (3, "contoso-aoai-eus2", "chat-v2", "gpt-4o", "2024-11-20", "GlobalStandard", 50),
        (9, "contoso-aoai-eus2", "mini-a", "gpt-4.1-mini", "2025-04-14", "GlobalStandard", 6),
        (15, "contoso-aoai-eus2", "mini-b", "gpt-4.1-mini", "2025-04-14", "GlobalStandard", 6),
        (21, "contoso-aoai-eus2", "gpt-52-b", "gpt-5.2", "2025-12-11", "GlobalStandard", 5),
        (27, "contoso-aoai-eus2", "pro-approved", "gpt-5-pro", "2025-10-06", "GlobalStandard", 5),
        (34, "contoso-aoai-eus2", "summarizer", "gpt-5-pro", "2025-10-06", "GlobalStandard", 5),
        (41, "contoso-aoai-eus2", "chat-pinned", "gpt-4o", "2024-08-06", "GlobalStandard", 10),
        (46, "fabrikam-aoai-wus", "regional-4o", "gpt-4o", "2024-05-13", "Standard", 10),
    ]
    assert [p.registration_approved for p in planned] == [False, False, False, False, True, True, False, False]
    assert {p.source_format for p in planned} == {"yaml"} and not any(p.unresolved for p in planned)


def test_arm_template_resolves_parameter_and_variable_defaults() -> None:
    assert _rows(PLANS / "arm-template.json") == [
        (14, "contoso-aoai-eus2", "chat-arm", "gpt-4o", "2024-11-20", "GlobalStandard", 20),
        (25, "contoso-aoai-eus2", "bulk-41mini-2", "gpt-4.1-mini", "2025-04-14", "GlobalStandard", 250),
        (34, "contoso-aoai-eus2", "codex-2", "gpt-5.1-codex", None, "GlobalStandard", 10),
    ]
    codex = load_plan(PLANS / "arm-template.json")[2]
    assert codex.unresolved == (
        "model.version: parameter 'codexVersion' has no default value (it is given at deployment time)",
    )


def test_bicep_build_output_with_symbolic_resources() -> None:
    assert _rows(PLANS / "bicep-build.json") == [
        (17, "fabrikam-aoai-wus", "pro-west", "gpt-5-pro", "2025-10-06", "GlobalStandard", 10),
        (28, "fabrikam-aoai-wus", "mini-west", "gpt-4o-mini", "2024-07-18", "GlobalStandard", 10),
    ]


def test_terraform_plan_reads_resource_changes_and_skips_no_ops() -> None:
    planned = load_plan(PLANS / "terraform-plan.json")
    assert _rows(PLANS / "terraform-plan.json") == [
        (227, SWC_ID, "chat-swc", "gpt-4o", "2024-11-20", "GlobalStandard", 300),
        (334, "contoso-aoai-new", "chat-new", "gpt-4o", "2024-11-20", "GlobalStandard", 10),
        (376, SWC_ID, "legacy-35b", "gpt-35-turbo", "0125", "Standard", 10),
        (418, SWC_ID, "bulk-swc", "gpt-4o", "2024-11-20", "GlobalStandard", 200),
    ]
    assert "created by this plan (azurerm_cognitive_account.new)" in planned[1].unresolved[0]
    assert all(p.source_format == "terraform" and p.action == "create" for p in planned)


def test_terraform_plan_on_one_line_and_the_old_scale_block(tmp_path: Path) -> None:
    document = json.loads((PLANS / "terraform-plan.json").read_text())
    for change in document["resource_changes"]:
        after = change["change"]["after"]
        if change["type"] == "azurerm_cognitive_deployment" and after:
            after["scale"] = [{"type": after["sku"][0]["name"], "capacity": after["sku"][0]["capacity"]}]
            del after["sku"]
    compact = tmp_path / "plan.json"
    compact.write_text(json.dumps(document))  # what `terraform show -json` really prints: one line
    planned = load_plan(compact)
    assert next((p.location.line, p.name, p.sku_name, p.sku_capacity) for p in planned) == (
        1,
        "chat-swc",
        "GlobalStandard",
        300,
    )


def test_format_is_detected_from_the_content() -> None:
    assert detect_format(load_json(PLANS / "arm-template.json")) == "arm"
    assert detect_format(load_json(PLANS / "terraform-plan.json")) == "terraform"
    assert detect_format([{"account": "a"}]) == "yaml"


@pytest.mark.parametrize(
    "text,words",
    [
        ('{"a": 1,\n "b": }', ":2: invalid JSON in plan file: unexpected character '}'"),
        ('{"resources": [], "x": 1}', ":1: a JSON plan must be an ARM template"),
        ("- {account: a, name: n, model: m, sku: s}\n", ":1: planned deployment is missing capacity"),
        ("- {account: a, name: n, model: m, sku: s, capacity: -3}\n", ":1: capacity must be a whole number"),
        (
            "deployments:\n  - account: a\n    name: n\n    model: m\n    sku: s\n    capacity: 1\n    region: x\n",
            ":7: unknown key 'region'",
        ),
        ("deployments: {a: 1}\n", ":1: a plan is a list of planned deployments"),
        ("- account: a\n  name: [\n", ":3: invalid YAML in plan file"),
        (
            '{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#", "resources": []}',
            ":1: the plan has no Azure OpenAI deployments",
        ),
    ],
)
def test_bad_plans_name_the_file_and_line(tmp_path: Path, text: str, words: str) -> None:
    path = tmp_path / ("plan.json" if text.lstrip().startswith("{") else "plan.yaml")
    path.write_text(text)
    with pytest.raises(InputError) as error:
        load_plan(path)
    assert f"{path}{words}" in str(error.value)


def test_json_comments_are_allowed_as_in_arm(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_text('{\n  // a comment\n  /* another\n  */ "a": [1, {"b": 2}]\n}\n')
    document = load_json(path)
    assert document == {"a": [1, {"b": 2}]} and document.key_lines["a"] == 4 and document["a"].item_lines == [4, 4]


# --- the ARM expression subset ---------------------------------------------------------------------------


TEMPLATE = {
    "parameters": {
        "name": {"defaultValue": "Acct"},
        "env": {"defaultValue": "[toLower(variables('stage'))]"},
        "nodefault": {"type": "string"},
        "loop": {"defaultValue": "[parameters('loop')]"},
        "location": {"defaultValue": "[resourceGroup().location]"},
    },
    "variables": {"stage": "PROD", "model": {"name": "gpt-4o", "versions": ["2024-11-20"]}},
}


@pytest.mark.parametrize(
    "expression,value",
    [
        ("[parameters('name')]", "Acct"),
        ("[format('{0}/{1}-{2}', parameters('name'), 'chat', parameters('env'))]", "Acct/chat-prod"),
        ("[concat(parameters('name'), '/', 'x')]", "Acct/x"),
        ("[variables('model').name]", "gpt-4o"),
        ("[variables('model').versions[0]]", "2024-11-20"),
        ("[toUpper('it''s')]", "IT'S"),
        ("[int('42')]", 42),
        ("[[literal]", "[literal]"),
        ("plain", "plain"),
    ],
)
def test_arm_expressions(expression: str, value: Any) -> None:
    assert _Expression(TEMPLATE).value(expression) == value


@pytest.mark.parametrize(
    "expression,words",
    [
        ("[parameters('nodefault')]", "has no default value"),
        ("[parameters('location')]", "resourceGroup()"),
        ("[uniqueString('seed')]", "uniqueString()"),
        ("[concat('a', resourceGroup().location)]", "resourceGroup()"),
        ("[parameters('loop')]", "refers to itself"),
        ("[parameters('missing')]", "no parameter 'missing'"),
    ],
)
def test_arm_expressions_that_are_only_known_at_deployment(expression: str, words: str) -> None:
    with pytest.raises(Unresolvable, match=words.replace("(", r"\(").replace(")", r"\)")):
        _Expression(TEMPLATE).value(expression)


# --- the plan rules, table-driven ------------------------------------------------------------------------

LOC = SourceLocation("plan.yaml", 7)


def _plan(
    *extra: PlannedDeployment,
    catalog: Any = "auto",
    usages: tuple[QuotaUsage, ...] = (),
    contract: tuple[ContractCall, ...] | None = None,
    **fields: Any,
) -> Facts:
    values: dict[str, Any] = {
        "account": "acct",
        "name": "new",
        "model_name": "gpt-4o",
        "model_version": "2024-11-20",
        "sku_name": "GlobalStandard",
        "sku_capacity": 10,
        "location": LOC,
    }
    values.update(fields)
    offered = [make_deployment("chat")]
    for name, version in (("gpt-5.4", "2026-03-05"), ("gpt-5-pro", "2025-10-06")):
        offered.append(make_deployment(name, name, version))
    chosen = catalog_for(*offered) if catalog == "auto" else catalog
    facts = make_facts(offered[0], catalog=chosen, usages=usages, contract=contract)
    return replace(facts, planned=(PlannedDeployment(**values), *extra))


def _quota(current: float, limit: float = 100.0) -> tuple[QuotaUsage, ...]:
    return (QuotaUsage("OpenAI.GlobalStandard.gpt-4o", "Tokens Per Minute (thousands) - gpt-4o", current, limit),)


def _versions(default: str) -> tuple[CatalogModel, ...]:
    sku = (CatalogSku("GlobalStandard", "OpenAI.GlobalStandard.gpt-4o"),)
    return tuple(
        CatalogModel("OpenAI", "OpenAI", "gpt-4o", v, is_default_version=v == default, skus=sku)
        for v in ("2024-08-06", "2024-11-20")
    )


def _retiring(days: int) -> tuple[CatalogModel, ...]:
    return catalog_for(make_deployment("chat"), deprecation=TODAY + timedelta(days=days))


def _ptu(capacity: int | None) -> Facts:
    """A provisioned SKU with bounds as stable/2025-09-01/examples/ListLocationModels.json gives them (lower-case
    name "provisioned", minimum 50, maximum 2000, step 50, default 100)."""
    sku = CatalogSku("provisioned", "OpenAI.Provisioned.GPT4o", None, 100, 2000, (), 50, 50)
    entry = CatalogModel("OpenAI", "OpenAI", "gpt-4o", "2024-11-20", is_default_version=True, skus=(sku,))
    return _plan(catalog=(entry,), sku_name="Provisioned", sku_capacity=capacity)


RULE_CASES: list[tuple[str, Status, Callable[[], Any]]] = [
    ("AOAI-PLAN-001", Status.FAIL, lambda: _plan(model_name="gpt-4.1", model_version="2025-04-14")),
    ("AOAI-PLAN-001", Status.FAIL, lambda: _plan(sku_name="Standard")),
    ("AOAI-PLAN-001", Status.PASS, lambda: _plan()),
    ("AOAI-PLAN-001", Status.UNKNOWN, lambda: _plan(catalog=None)),
    ("AOAI-PLAN-002", Status.FAIL, lambda: _plan(model_name="gpt-5.4", model_version="2026-03-05")),
    ("AOAI-PLAN-002", Status.PASS, lambda: _plan()),
    ("AOAI-PLAN-003", Status.FAIL, lambda: _plan(catalog=_retiring(10))),
    ("AOAI-PLAN-003", Status.FAIL, lambda: _plan(catalog=_retiring(-3))),
    ("AOAI-PLAN-003", Status.PASS, lambda: _plan(catalog=_retiring(200))),
    ("AOAI-PLAN-009", Status.FAIL, lambda: _ptu(30)),  # below the minimum
    ("AOAI-PLAN-009", Status.FAIL, lambda: _ptu(125)),  # not in steps of 50
    ("AOAI-PLAN-009", Status.FAIL, lambda: _ptu(2050)),  # above the maximum
    ("AOAI-PLAN-009", Status.PASS, lambda: _ptu(150)),
    ("AOAI-PLAN-009", Status.PASS, lambda: _ptu(None)),  # the default, 100
    ("AOAI-PLAN-009", Status.UNKNOWN, lambda: _plan(catalog=None)),
    ("AOAI-PLAN-004", Status.FAIL, lambda: _plan(catalog=_versions(default="2024-08-06"))),
    ("AOAI-PLAN-004", Status.PASS, lambda: _plan(catalog=_versions(default="2024-11-20"))),
    ("AOAI-PLAN-005", Status.FAIL, lambda: _plan(usages=_quota(95), sku_capacity=10)),
    ("AOAI-PLAN-005", Status.PASS, lambda: _plan(usages=_quota(95), sku_capacity=5)),
    (
        "AOAI-PLAN-005",
        Status.FAIL,
        lambda: _plan(
            replace(PlannedDeployment("acct", "second", "gpt-4o", "2024-11-20", "GlobalStandard", 3)),
            usages=_quota(95),
            sku_capacity=3,
        ),
    ),
    (
        "AOAI-PLAN-006",
        Status.FAIL,
        lambda: _plan(
            model_name="gpt-5-pro",
            model_version="2025-10-06",
            name="pro",
            contract=(ContractCall("pro", "chat_completions"),),
        ),
    ),
    (
        "AOAI-PLAN-006",
        Status.PASS,
        lambda: _plan(
            model_name="gpt-5-pro", model_version="2025-10-06", name="pro", contract=(ContractCall("pro", "responses"),)
        ),
    ),
    (
        "AOAI-PLAN-007",
        Status.FAIL,
        lambda: _plan(model_version=None, unresolved=("model.version: parameter 'v' has no default value",)),
    ),
    ("AOAI-PLAN-007", Status.PASS, lambda: _plan()),
    ("AOAI-PLAN-008", Status.FAIL, lambda: _plan(account="no-such-account")),
    ("AOAI-PLAN-008", Status.PASS, lambda: _plan()),
]


@pytest.mark.parametrize(
    "rule_id,expected,build", RULE_CASES, ids=[f"{c[0]}-{c[1].value}-{i}" for i, c in enumerate(RULE_CASES)]
)
def test_plan_rule_case(rule_id: str, expected: Status, build: Callable[[], Facts], rules, kb) -> None:
    rule = next(r for r in rules if r.id == rule_id)
    findings = [f for f in evaluate_all([rule], build(), kb, TODAY) if f.location == LOC]
    assert [f.status for f in findings] == [expected], [(f.status, f.message) for f in findings]
    if expected is Status.FAIL:
        assert "{" not in findings[0].message, "placeholders left unfilled"


def test_quota_counts_only_what_a_change_adds(rules, kb) -> None:
    # An existing deployment "chat" holds 90 of 100; the plan raises it to 95: only +5 is needed.
    rule = next(r for r in rules if r.id == "AOAI-PLAN-005")
    raised = _plan(name="chat", sku_capacity=95, usages=_quota(90))
    facts = replace(raised, deployments=(make_deployment("chat", capacity=90),))
    (finding,) = evaluate_all([rule], facts, kb, TODAY)
    assert finding.status is Status.PASS and "enough for the plan's 5" in finding.message


def test_a_missing_version_means_the_regions_default(rules, kb) -> None:
    rule = next(r for r in rules if r.id == "AOAI-PLAN-001")
    (finding,) = evaluate_all([rule], _plan(model_version=None), kb, TODAY)
    assert finding.status is Status.PASS and "2024-11-20" in finding.message


# --- end to end against the simulated tenant -------------------------------------------------------------


@pytest.fixture(scope="module")
def tenant():
    from auditor.demo.sim import SimulatedTenant

    with SimulatedTenant() as running:
        yield running


@pytest.fixture()
def run(tenant, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    from auditor.cli import main

    sign_in_to(tenant, monkeypatch)

    def go(plan: str, *extra: str) -> tuple[int, dict[str, Any]]:
        tenant.clear_records()
        code = main(
            [
                "--management-endpoint",
                tenant.management_url,
                "--out",
                str(tmp_path),
                "--quiet",
                "--format",
                "json",
                "--plan",
                str(PLANS / plan),
                *extra,
            ]
        )
        report = json.loads((tmp_path / "report.json").read_text())
        assert not tenant.served_writes(), "a preflight must never create anything"
        return code, report

    return go


def _failing(report: dict[str, Any]) -> set[tuple[str, str, int]]:
    return {
        (f["rule_id"], f["target_name"], f["location"]["line"])
        for f in report["findings"]
        if f["category"] == "plan" and f["status"] == "fail"
    }


def test_yaml_plan_against_the_demo_tenant(run) -> None:
    code, report = run("deployments.yaml", "--contract", str(DEMO_CONTRACT))
    assert code == 1
    assert {t["name"] for t in report["targets"]} == {"contoso-aoai-eus2", "fabrikam-aoai-wus"}
    assert _failing(report) == {
        ("AOAI-PLAN-005", "contoso-aoai-eus2/mini-a (planned)", 9),  # 6 + 6 > the 10 left of 200
        ("AOAI-PLAN-005", "contoso-aoai-eus2/mini-b (planned)", 15),
        ("AOAI-PLAN-002", "contoso-aoai-eus2/gpt-52-b (planned)", 21),  # gated, no approval recorded
        # gpt-5.2 2025-12-11 retires 2027-06-08 since the 2026-09-02 schedule (was 2026-12-12): no PLAN-003
        (
            "AOAI-PLAN-006",
            "contoso-aoai-eus2/summarizer (planned)",
            34,
        ),  # the app calls chat; gpt-5-pro is Responses-only
        ("AOAI-PLAN-004", "contoso-aoai-eus2/chat-pinned (planned)", 41),
        ("AOAI-PLAN-001", "fabrikam-aoai-wus/regional-4o (planned)", 46),  # westus3 does not offer it
        ("AOAI-PLAN-003", "fabrikam-aoai-wus/regional-4o (planned)", 46),
    }
    quota = next(f for f in report["findings"] if f["rule_id"] == "AOAI-PLAN-005" and f["status"] == "fail")
    assert "needs 12 units" in quota["message"] and "only 10 of 200 are left" in quota["message"]
    assert quota["location"]["file"].endswith("deployments.yaml")
    passing = {
        f["target_name"] for f in report["findings"] if f["rule_id"] == "AOAI-PLAN-005" and f["status"] == "pass"
    }
    assert "contoso-aoai-eus2/chat-v2 (planned)" in passing


def test_arm_template_against_the_demo_tenant(run) -> None:
    code, report = run("arm-template.json")
    assert code == 1
    assert _failing(report) == {
        ("AOAI-PLAN-005", "contoso-aoai-eus2/bulk-41mini-2 (planned)", 25),
        ("AOAI-PLAN-007", "contoso-aoai-eus2/codex-2 (planned)", 34),
    }
    unknown = {
        f["rule_id"]
        for f in report["findings"]
        if f["target_name"] == "contoso-aoai-eus2/codex-2 (planned)" and f["status"] == "unknown"
    }
    assert {"AOAI-PLAN-001", "AOAI-PLAN-005"} <= unknown, "an unresolved version is unknown, never a pass"


def test_bicep_build_against_the_demo_tenant(run) -> None:
    code, report = run("bicep-build.json")
    assert code == 1
    assert _failing(report) == {("AOAI-PLAN-001", "fabrikam-aoai-wus/pro-west (planned)", 17)}
    message = next(
        f["message"] for f in report["findings"] if f["rule_id"] == "AOAI-PLAN-001" and f["status"] == "fail"
    )
    assert "westus3 does not offer it" in message


def test_terraform_plan_against_the_demo_tenant(run) -> None:
    code, report = run("terraform-plan.json")
    assert code == 1
    assert {t["name"] for t in report["targets"]} == {"contoso-ai-swc"}
    assert _failing(report) == {
        ("AOAI-PLAN-005", "contoso-ai-swc/chat-swc (planned)", 227),  # 300 + 200 > 450 left
        ("AOAI-PLAN-005", "contoso-ai-swc/bulk-swc (planned)", 418),
        ("AOAI-PLAN-003", "contoso-ai-swc/legacy-35b (planned)", 376),  # retired 2025-11-14
        ("AOAI-PLAN-007", "contoso-aoai-new/chat-new (planned)", 334),  # its account is created by the same plan
    }
    # swedencentral's catalog marks no default version of gpt-35-turbo: whether 0125 is the default is unknown,
    # never "the region's default version is None".
    (pin,) = [f for f in report["findings"] if f["rule_id"] == "AOAI-PLAN-004" and "legacy-35b" in f["target_name"]]
    assert pin["status"] == "unknown" and "None" not in pin["message"]


def test_a_plan_naming_a_missing_account_fails_for_that_deployment(run, tmp_path: Path) -> None:
    plan = tmp_path / "p.yaml"
    plan.write_text(
        "- {account: no-such-account, name: x, model: gpt-4o, version: '2024-11-20', sku: GlobalStandard, capacity: 1}\n"
    )
    code, report = run(str(plan))
    assert code == 1 and _failing(report) == {("AOAI-PLAN-008", "no-such-account/x (planned)", 1)}


def test_a_bad_plan_is_exit_2_before_any_azure_call(
    tenant, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys
) -> None:
    from auditor.cli import main

    plan = tmp_path / "p.yaml"
    plan.write_text("- {account: a, name: x, model: gpt-4o, sku: GlobalStandard, capacity: lots}\n")
    tenant.clear_records()
    assert main(["--management-endpoint", tenant.management_url, "--plan", str(plan), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"{plan}:1: capacity must be a whole number" in err and len(err.strip().splitlines()) == 1
    assert not tenant.requests(plane="arm")
