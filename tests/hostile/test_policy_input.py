"""Round 2, `--policy`: naming patterns run on RE2 (linear time) and are validated in the form they are
evaluated in; a policy's name, tag names and patterns are literal text in messages, never templates."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from auditor.engine.policy import load_policy
from auditor.model.errors import InputError
from tests.conftest import run_demo


def _policy(tmp_path: Path, body: str, name: str = "org") -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(f"apiVersion: auditor/policy/v1\nname: {json.dumps(name)}\npolicy:\n{body}")
    return path


def _messages(out: Path) -> list[str]:
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    return [f["message"] for f in report["findings"] if f["rule_id"].startswith("POLICY-")]


def test_a_catastrophic_naming_pattern_runs_in_linear_time(tmp_path: Path) -> None:
    path = _policy(tmp_path, "  naming:\n    accounts: '(((.*)*)*)*X'\n    deployments: '(((.*)*)*)*X'\n")
    started = time.monotonic()
    code = run_demo(tmp_path / "out", "--policy", str(path), "--timeout", "60")
    assert time.monotonic() - started < 30
    assert code == 1  # the demo's names do not end in X: failing findings, decided
    assert any("naming convention" in m for m in _messages(tmp_path / "out"))


def test_an_inline_flag_validates_and_evaluates(tmp_path: Path) -> None:
    path = _policy(tmp_path, "  naming:\n    accounts: '(?i)[A-Z0-9-]+'\n")
    load_policy(path)
    assert run_demo(tmp_path / "out", "--policy", str(path)) in (0, 1)
    report = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    naming = [f for f in report["findings"] if f["rule_id"] == "POLICY-NAMING-001"]
    assert naming and all(f["status"] != "error" for f in naming)


@pytest.mark.parametrize("pattern", ["a(?=b)", "(a)\\1", "x{1001}"])
def test_a_pattern_re2_refuses_is_an_input_error_naming_its_line(tmp_path: Path, pattern: str) -> None:
    path = _policy(tmp_path, f"  naming:\n    accounts: {json.dumps(pattern)}\n")
    with pytest.raises(InputError) as raised:
        load_policy(path)
    assert str(raised.value).startswith(f"{path}:5: invalid policy: naming/accounts: ")


def test_policy_data_is_never_filled_in_as_a_template(tmp_path: Path) -> None:
    path = _policy(
        tmp_path,
        "  tags:\n    accounts: ['{account.id}']\n  naming:\n    accounts: '{deployment.name}z'\n",
        name="{account.name} policy",
    )
    assert run_demo(tmp_path / "out", "--policy", str(path)) == 1
    messages = _messages(tmp_path / "out")
    tags = [m for m in messages if "lacks a tag" in m]
    assert tags and all("{account.name} policy" in m and "({account.id})" in m for m in tags)
    assert all("/subscriptions/" not in m for m in tags)
    naming = [m for m in messages if "naming convention" in m]
    assert naming and all("({deployment.name}z)" in m for m in naming)
