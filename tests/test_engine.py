"""The condition grammar, rule-file validation and contract loading."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from auditor.engine.conditions import OPERATORS, UNKNOWN, compile_condition, evaluate
from auditor.engine.evaluate import render_message
from auditor.engine.rules import load_rule_file, load_rules
from auditor.model.errors import InputError
from auditor.sources.contract import load_contract

DOC = {
    "a": {"n": 5, "s": "Succeeded", "list": ["chat_completions", "responses"], "none": None, "flag": True},
    "u": UNKNOWN,
}


@pytest.mark.parametrize(
    "condition,expected",
    [
        ({"field": "a.s", "equals": "succeeded"}, True),  # case-insensitive, as in Azure Policy
        ({"field": "a.s", "notEquals": "Succeeded"}, False),
        ({"field": "a.n", "greater": 4}, True),
        ({"field": "a.n", "lessOrEquals": 4}, False),
        ({"field": "a.n", "in": [1, 5]}, True),
        ({"field": "a.list", "contains": "responses"}, True),
        ({"field": "a.list", "notContains": "completions"}, True),
        ({"field": "a.list", "containsAny": ["x", "responses"]}, True),
        ({"field": "a.none", "exists": False}, True),
        ({"field": "a.missing", "exists": True}, False),
        ({"field": "a.s", "like": "succ*"}, True),
        ({"field": "a.s", "match": "^Suc"}, True),
        ({"field": "a.flag", "equals": 1}, False),  # booleans are not numbers
        ({"field": "a.n", "equals": {"field": "a.n"}}, True),
        ({"allOf": [{"field": "a.n", "equals": 5}, {"field": "a.flag", "equals": True}]}, True),
        ({"anyOf": [{"field": "a.n", "equals": 1}, {"field": "a.flag", "equals": True}]}, True),
        ({"not": {"field": "a.n", "equals": 5}}, False),
        # three-valued logic: unknown facts propagate, but cannot hide a decided outcome
        ({"field": "u.x", "equals": 1}, UNKNOWN),
        ({"not": {"field": "u.x", "equals": 1}}, UNKNOWN),
        ({"allOf": [{"field": "u.x", "equals": 1}, {"field": "a.n", "equals": 1}]}, False),
        ({"allOf": [{"field": "u.x", "equals": 1}, {"field": "a.n", "equals": 5}]}, UNKNOWN),
        ({"anyOf": [{"field": "u.x", "equals": 1}, {"field": "a.n", "equals": 5}]}, True),
        ({"anyOf": [{"field": "u.x", "equals": 1}, {"field": "a.n", "equals": 1}]}, UNKNOWN),
        ({"field": "a.n", "equals": {"field": "u.y"}}, UNKNOWN),
    ],
)
def test_condition(condition, expected) -> None:
    assert evaluate(condition, DOC) is expected


def test_message_placeholders_are_filled_from_facts_not_evaluated() -> None:
    text = render_message("{a.s} {a.list} {u.x} {a.none} {__import__}", DOC)
    assert text == "Succeeded chat_completions, responses unknown none none"


def _write(tmp_path: Path, text: str, name: str = "rule.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


VALID_RULE = """\
apiVersion: auditor/v1
rules:
  - id: ACME-001
    title: A team rule about deployments
    category: deployment
    severity: warning
    applies_to: deployment
    fails_when: {field: deployment.sku_name, equals: Standard}
    message: "{deployment.name} uses Standard"
    remediation: Use GlobalStandard.
    rationale: Standard deployments are regional and run out of capacity first in busy regions.
    docs: https://example.com/rule
    since: "2026.11"
"""


def test_a_valid_rule_file_loads(tmp_path: Path) -> None:
    (rule,) = load_rule_file(_write(tmp_path, VALID_RULE))
    assert rule.id == "ACME-001" and rule.source.endswith("rule.yaml:3")


@pytest.mark.parametrize(
    "broken,line,words",
    [
        (VALID_RULE.replace("severity: warning", "severity: fatal"), 6, "fatal"),
        (
            VALID_RULE.replace(
                "fails_when: {field: deployment.sku_name, equals: Standard}",
                "fails_when: {field: deployment.sku_name, eq: Standard}",
            ),
            8,
            "not a valid condition",
        ),
        (VALID_RULE.replace("    docs: https://example.com/rule\n", ""), 3, "docs"),
        (VALID_RULE.replace("title: A team", "title: [A team"), 5, "invalid YAML"),
        (
            VALID_RULE.replace(
                "fails_when: {field: deployment.sku_name, equals: Standard}",
                "fails_when: \"__import__('os').system('x')\"",
            ),
            8,
            "not of type 'object'",
        ),
    ],
)
def test_a_malformed_rule_names_file_line_and_problem(tmp_path: Path, broken: str, line: int, words: str) -> None:
    path = _write(tmp_path, broken)
    with pytest.raises(InputError) as info:
        load_rule_file(path)
    message = str(info.value)
    assert message.startswith(f"{path}:{line}:"), message
    assert words in message
    assert "\n" not in message


def test_duplicate_rule_ids_are_refused(tmp_path: Path) -> None:
    _write(tmp_path, VALID_RULE, "a.yaml")
    _write(tmp_path, VALID_RULE, "b.yaml")
    with pytest.raises(InputError, match="duplicate rule id ACME-001"):
        load_rules([tmp_path], builtin=False)


def test_extra_rule_packs_add_to_the_builtin_rules(tmp_path: Path) -> None:
    _write(tmp_path, VALID_RULE)
    ids = [r.id for r in load_rules([tmp_path])]
    assert "ACME-001" in ids and "AOAI-API-001" in ids


def test_contract_loads_values_and_lines(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "deployments:\n  chat:\n    api: chat_completions\n    parameters: {temperature: 0.2}\n"
        "  reasoner:\n    - {api: responses, parameters: [reasoning_effort]}\n",
        "c.yaml",
    )
    calls = load_contract(path)
    assert [(c.deployment, c.api, dict(c.parameters), c.location.line) for c in calls] == [
        ("chat", "chat_completions", {"temperature": 0.2}, 3),
        ("reasoner", "responses", {"reasoning_effort": None}, 6),
    ]


@pytest.mark.parametrize(
    "text,line,words",
    [
        ("deployments:\n  chat:\n    api: chat\n", 3, "api must be one of"),
        ("deployments:\n  chat:\n    api: responses\n    temprature: 1\n", 4, "unknown key 'temprature'"),
        ("deployment:\n  chat: {}\n", 1, "deployments"),
        ("deployments:\n  chat:\n    api: responses\n    tokens_per_minute: lots\n", 3, "whole number"),
        ("deployments: [\n", 2, "invalid YAML"),
    ],
)
def test_a_malformed_contract_names_file_and_line(tmp_path: Path, text: str, line: int, words: str) -> None:
    path = _write(tmp_path, text, "contract.yaml")
    with pytest.raises(InputError) as info:
        load_contract(path)
    assert str(info.value).startswith(f"{path}:{line}:"), str(info.value)
    assert words in str(info.value)


def test_yaml_is_loaded_safely(tmp_path: Path) -> None:
    path = _write(tmp_path, "deployments: !!python/object/apply:os.system ['echo owned']\n", "evil.yaml")
    with pytest.raises(InputError, match="invalid YAML"):
        load_contract(path)


def test_ruleset_pin_keeps_only_rules_that_version_had(tmp_path: Path) -> None:
    from dataclasses import replace

    from auditor.pipeline.audit import select_rules

    rules = load_rules()
    newer = [replace(r, id="AOAI-NEW-001", since="2027.03") for r in rules[:1]]
    assert "AOAI-NEW-001" not in [r.id for r in select_rules(rules + newer, ruleset="2026.11")]
    assert "AOAI-NEW-001" in [r.id for r in select_rules(rules + newer, ruleset="latest")]
    quota = [r.id for r in select_rules(rules, select=["quota"])]
    assert quota and all(i.startswith("AOAI-QUOTA-") for i in quota) and "AOAI-QUOTA-001" in quota
    assert "AOAI-SEC-001" not in [r.id for r in select_rules(rules, ignore=["security"])]
    with pytest.raises(InputError, match="--ruleset must be"):
        select_rules(rules, ruleset="newest")


def test_fast_finding_equals_the_dataclass_constructor() -> None:
    from auditor.engine.evaluate import _new_finding, _Prepared
    from auditor.engine.views import Subject
    from auditor.model.results import Finding, Severity, Status

    rule = load_rules()[0]
    subject = Subject("deployment", "/x", "x", {}, account_id="/a", deployment="d")
    fast = _new_finding(_Prepared.of(rule), subject, Status.FAIL, "m", "r", "why", None)
    slow = Finding(
        rule_id=rule.id,
        title=rule.title,
        category=rule.category,
        severity=rule.severity,
        status=Status.FAIL,
        target="/x",
        target_name="x",
        message="m",
        remediation="r",
        docs=rule.help_url,
        account_id="/a",
        deployment="d",
        reason="why",
    )
    assert type(fast) is Finding and fast == slow and fast.key == slow.key and fast.severity is Severity(rule.severity)
    assert dataclasses.astuple(fast) == dataclasses.astuple(slow)
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.message = "changed"  # type: ignore[misc]  # still frozen


@pytest.mark.parametrize("name", ["equals", "notEquals", "in", "notIn"])
@pytest.mark.parametrize("literal", ["Running", "", ["Running", "SUCCEEDED"], [], ("a",)])
def test_text_literal_fast_path_decides_as_the_operators(name: str, literal: Any) -> None:
    """compile_condition's case-folded literal path gives what the generic operators give, on every kind of value."""
    values: list[Any] = [
        "running",
        "RUNNING",
        "Succeeded",
        "",
        "other",
        None,
        True,
        False,
        0,
        1,
        1.5,
        [],
        {},
        ["running"],
    ]
    for value in values:
        compiled = compile_condition({"field": "x", name: literal})({"x": value})
        assert compiled == OPERATORS[name](value, literal), (name, literal, value)


def test_builtin_rule_files_pass_the_checks_they_skip() -> None:
    """The package's own rule files and knowledge base load without the schema and the YAML bounds on every run;
    here each is held to both, and the trusted load gives the same rules as the checked one."""
    from auditor.util.resources import data_dir
    from auditor.util.yamlfile import load_yaml

    root = data_dir("rules")
    files = sorted((root / "builtin").rglob("*.yaml"))
    assert len(files) >= 10
    for path in files:
        checked = load_rule_file(path)  # schema and bounds, as for any rule pack a person writes
        trusted = load_rule_file(path, builtin=True)
        assert [dataclasses.replace(r, page=None) for r in trusted] == checked, path
    for path in sorted((root / "knowledge").glob("*.yaml")):
        assert load_yaml(path, what="knowledge-base") == load_yaml(path, what="knowledge-base", trusted=True), path


def test_a_user_rule_pack_is_still_held_to_the_schema_and_bounds(tmp_path: Path) -> None:
    (tmp_path / "deep.yaml").write_text("rules: " + "[" * 150 + "]" * 150 + "\n")
    with pytest.raises(InputError, match=r"deep\.yaml:1: the rule file nests deeper than 100 levels"):
        load_rules([tmp_path], builtin=False)
    (tmp_path / "deep.yaml").unlink()
    (tmp_path / "bad.yaml").write_text("rules:\n  - id: X-1\n    title: no other field\n")
    with pytest.raises(InputError, match=r"bad.yaml:\d+: invalid rule"):
        load_rules([tmp_path], builtin=False)
