"""The closed sets of values are defined once (auditor/model/enums.py, auditor/model/results.py); the JSON Schemas, the
rule files and the CLI's messages must list the same values."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import fields
from enum import Enum
from typing import Any

import pytest

from auditor.cli import main
from auditor.model.enums import Category, Discovery, FailOn, ProbeOutcome, TargetStatus
from auditor.model.facts import PROBE_ANSWERED, PROBE_UNANSWERED
from auditor.model.results import DriftCounts, Severity, Status, Summary
from auditor.util.resources import schema_path


def _schema(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(schema_path(name).read_text(encoding="utf-8"))
    return document


def _values(kind: type[Enum]) -> list[str]:
    return [str(member.value) for member in kind]


def _enums(node: Any, path: str = "") -> Iterator[tuple[str, list[Any]]]:
    """Every `enum` in a schema, with the path of property names that leads to it."""
    if isinstance(node, dict):
        if "enum" in node:
            yield path, node["enum"]
        for key, value in node.items():
            yield from _enums(value, f"{path}/{key}" if key not in ("properties", "items", "oneOf", "$defs") else path)
    elif isinstance(node, list):
        for value in node:
            yield from _enums(value, path)


def test_rule_schema_lists_the_enums() -> None:
    rule = _schema("rules.schema.json")["$defs"]["rule"]["properties"]
    assert rule["category"]["enum"] == _values(Category)
    assert rule["severity"]["enum"] == _values(Severity)


# Which enum each leaf of report.schema.json holds, by the last property name on its path.
REPORT_ENUMS: dict[str, type[Enum]] = {
    "status": Status,
    "severity": Severity,
    "category": Category,
}


def test_report_schema_lists_the_enums() -> None:
    seen = set()
    for path, values in _enums(_schema("report.schema.json")):
        name = path.rsplit("/", 1)[-1]
        if path == "/targets/status":
            assert values == _values(TargetStatus)
        elif name in REPORT_ENUMS:
            assert values == _values(REPORT_ENUMS[name]), path
        seen.add(name)
    assert {"status", "severity", "category"} <= seen


def test_report_schema_summary_is_the_typed_summary() -> None:
    summary = _schema("report.schema.json")["properties"]["summary"]
    assert set(summary["properties"]) == {f.name for f in fields(Summary)}
    assert summary["properties"]["by_status"]["required"] == _values(Status)
    assert summary["properties"]["failed_by_severity"]["required"] == _values(Severity)
    assert summary["properties"]["drift"]["required"] == [f.name for f in fields(DriftCounts)]


def test_probe_outcomes_are_answered_unanswered_or_skipped() -> None:
    assert set(PROBE_ANSWERED) | set(PROBE_UNANSWERED) | {ProbeOutcome.SKIPPED} == set(ProbeOutcome)
    assert not set(PROBE_ANSWERED) & set(PROBE_UNANSWERED)


def _leaves(condition: Any) -> Iterator[dict[str, Any]]:
    if isinstance(condition, dict):
        if "field" in condition and isinstance(condition["field"], str):
            yield condition
        for value in condition.values():
            yield from _leaves(value)
    elif isinstance(condition, list):
        for value in condition:
            yield from _leaves(value)


def test_rules_compare_probe_outcomes_that_exist(rules) -> None:
    """A misspelt outcome in a rule would never match: the rule would silently never fire."""
    compared = []
    for rule in rules:
        for leaf in [*_leaves(rule.where), *_leaves(rule.fails_when)]:
            if leaf["field"] != "probe.outcome":
                continue
            for operator, operand in leaf.items():
                if operator != "field":
                    compared += [(rule.id, v) for v in (operand if isinstance(operand, list) else [operand])]
    assert compared
    assert [(rule_id, v) for rule_id, v in compared if v not in set(ProbeOutcome)] == []


def test_enum_members_serialize_as_their_values() -> None:
    import orjson

    document = {"s": Status.FAIL, "c": Category.API_SUPPORT, "o": ProbeOutcome.RATE_LIMITED}
    expected = {"s": "fail", "c": "api-support", "o": "rate_limited"}
    assert json.loads(orjson.dumps(document)) == expected
    assert json.loads(json.dumps(document)) == expected
    assert f"{Category.API_SUPPORT} {ProbeOutcome.RATE_LIMITED}" == "api-support rate_limited"


@pytest.mark.parametrize(("flag", "kind"), [("--fail-on", FailOn), ("--discovery", Discovery)])
def test_cli_names_every_allowed_value(flag: str, kind: type[Enum], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--demo", flag, "sometimes"]) == 2
    err = capsys.readouterr().err
    assert f"unknown {flag} value 'sometimes'" in err
    assert all(value in err for value in _values(kind))
