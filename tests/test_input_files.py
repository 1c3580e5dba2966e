"""Input files (contract, plan, waivers, policy) are validated one way: against their JSON Schemas in
auditor/schemas/, which editors use too; every YAML file is read by the one bounded loader."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from auditor.gating.waivers import load_waivers
from auditor.model.errors import InputError
from auditor.sources.contract import load_contract, load_contract_document
from auditor.sources.plan import load_plan
from auditor.util.resources import schema_path
from auditor.util.yamlfile import load_yaml

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ("contract", "plan", "waivers", "policy")


@pytest.mark.parametrize("name", SCHEMAS)
def test_each_schema_is_a_valid_draft_2020_12_schema(name: str) -> None:
    schema = json.loads(schema_path(f"{name}.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$id"].endswith(f"/{name}.schema.json") and schema["description"]


def test_the_shipped_examples_are_valid() -> None:
    assert load_contract(ROOT / "auditor" / "demo" / "contract.yaml")
    assert load_plan(ROOT / "tests" / "fixtures" / "plans" / "deployments.yaml")


def _write(tmp_path: Path, text: str, name: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "load,name,text,line,words",
    [
        (load_contract, "c.yaml", "deployments: {}\nextra: 1\n", 2, "unknown top-level key 'extra'"),
        (
            load_contract,
            "c.yaml",
            "deployments:\n  d:\n    - api: responses\n    - api: embeddings\n      input_per_call: 3\n",
            5,
            "unknown key 'input_per_call' for deployment 'd' (allowed: account, alternatives, api,",
        ),
        # what the loader let through before: an unresolved call's parameters of the wrong kind
        (
            load_contract,
            "c.yaml",
            "deployments: {}\nunresolved:\n  - api: responses\n    parameters: 5\n",
            4,
            "invalid contract: unresolved/0/parameters",
        ),
        (
            load_plan,
            "p.yaml",
            "- account: a\n  name: n\n  model: {name: gpt-4.1, format: [x]}\n  sku: s\n  capacity: 1\n",
            3,
            "invalid plan: 0/model",
        ),
        (
            load_waivers,
            "w.yaml",
            "waivers:\n  - rule: R\n    target: t\n    reason: r\n    owner: o\n    expires: 2027-01-01\n    note: x\n",
            7,
            "unknown waiver field 'note' (fields: rule, category, target, reason, owner, expires)",
        ),
    ],
)
def test_schema_errors_are_one_line_naming_file_and_line(
    tmp_path: Path, load, name: str, text: str, line: int, words: str
) -> None:
    path = _write(tmp_path, text, name)
    with pytest.raises(InputError) as caught:
        load(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:{line}: ") and words in message and "\n" not in message, message


def test_scanned_contract_keys_are_in_the_schema(tmp_path: Path) -> None:
    """What `audit contract scan` writes is a contract the schema accepts (the keys it adds included)."""
    path = _write(
        tmp_path,
        "application: app\ndeployments:\n  env:DEP:\n    - api: chat_completions\n      default: chat\n"
        "      source: app/main.py:3\n      via: langchain\n      sdk: openai-v0\n      note: n\n"
        "      alternatives: [a, b]\n      api_version: 2024-10-21\n"
        "unresolved:\n  - {api: responses, source: a.py:1, model: m, why: w, via: v, sdk: s, api_version: v1}\n",
        "scanned.yaml",
    )
    calls, unresolved = load_contract_document(path, {})
    assert [c.deployment for c in calls] == ["chat"] and len(unresolved) == 1


def test_merge_keys_are_overridden_by_a_mappings_own_keys_and_own_duplicates_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "base: &b {a: 1, t: x}\nover: {<<: *b, t: y}\n", "m.yaml")
    assert load_yaml(path, what="test")["over"] == {"a": 1, "t": "y"}
    path = _write(tmp_path, "over: {<<: {t: x}, t: y, t: z}\n", "d.yaml")
    with pytest.raises(InputError, match=r"d\.yaml:1: invalid YAML in test file: duplicate key 't'"):
        load_yaml(path, what="test")


def test_no_yaml_is_read_around_the_bounded_loader() -> None:
    """Every YAML read goes through auditor/util/yamlfile.py (bounds, safe constructor, lines)."""
    offenders = [
        str(p.relative_to(ROOT))
        for p in (ROOT / "auditor").rglob("*.py")
        if p.name != "yamlfile.py"
        and any(call in p.read_text(encoding="utf-8") for call in ("yaml.safe_load", "yaml.load(", "yaml.compose("))
    ]
    assert offenders == []
