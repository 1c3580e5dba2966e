"""Upgrade impact, --what-if and fixes.patch end to end: `audit --demo` through the SDK clients against the
simulated tenant, whose dev-mini deployment (gpt-4o-mini 2024-07-18) has a catalog replacementConfig to gpt-5-mini."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_demo

GIT = shutil.which("git") or "git"

APP = """\
from openai import OpenAI

client = OpenAI()


def draft(topic):
    return client.chat.completions.create(
        model="dev-mini",
        messages=[{"role": "user", "content": topic}],
        temperature=0.5,  # a little variety
        max_tokens=500,
    )
"""


def _report(out: Path) -> dict[str, Any]:
    return json.loads((out / "report.json").read_text(encoding="utf-8"))


def _failing(report: dict[str, Any], deployment: str, severity: str = "error") -> list[dict[str, Any]]:
    return [
        f
        for f in report["findings"]
        if f["status"] == "fail" and f["severity"] == severity and f["deployment"] == deployment
    ]


def test_demo_reports_the_upgrade_of_dev_mini_to_a_reasoning_model(tmp_path: Path) -> None:
    assert run_demo(tmp_path) == 1
    upgrade = [f for f in _report(tmp_path)["findings"] if f["deployment"] == "dev-mini" and f["category"] == "upgrade"]
    assert [f["status"] for f in upgrade] == ["fail"]
    message = upgrade[0]["message"]
    for text in ("gpt-5-mini 2025-08-07", "temperature", "max_tokens", "replacementConfig", "contract.yaml"):
        assert text in message, text
    # westus3's catalog: replacementConfig.autoUpgradeStartDate 2026-12-28 (auditor/demo/tenant/catalog/westus3.yaml)
    assert upgrade[0]["evidence"]["upgrade_date"] == "2026-12-28" and "2026-12-28" in message
    assert upgrade[0]["rule_id"] == "AOAI-UPG-001" and upgrade[0]["severity"] == "error"  # within 30 days of today
    assert "AOAI-UPG-001" in (tmp_path / "summary.md").read_text(encoding="utf-8")


def test_what_if_breaks_one_deployment_and_heals_another(tmp_path: Path) -> None:
    assert run_demo(tmp_path / "before") == 1
    before = _report(tmp_path / "before")
    assert _failing(before, "dev-mini") == [] or all(f["category"] == "upgrade" for f in _failing(before, "dev-mini"))
    assert any(f["rule_id"] == "AOAI-API-001" for f in _failing(before, "gpt-5-pro"))

    assert run_demo(tmp_path / "after", "--what-if", "dev-mini=o4-mini", "--what-if", "gpt-5-pro=gpt-5") == 1
    after = _report(tmp_path / "after")
    broken = [f for f in _failing(after, "dev-mini") if f["rule_id"] == "AOAI-PARAM-001"]
    assert len(broken) == 2 and all("(what-if: o4-mini 2025-04-16)" in f["target_name"] for f in broken)
    assert {"temperature", "max_tokens"} == {f["message"].split("=")[0].rsplit(" ", 1)[-1] for f in broken}
    assert [f for f in _failing(after, "gpt-5-pro") if f["rule_id"] == "AOAI-API-001"] == []


def test_bad_what_if_is_exit_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_demo(tmp_path, "--what-if", "dev-mini") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--what-if 'dev-mini'" in err[0] and "DEPLOYMENT=MODEL" in err[0]
    assert run_demo(tmp_path, "--what-if", "nope=o4-mini") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no audited or planned deployment is named 'nope'" in err[0]


@pytest.mark.skipif(shutil.which("git") is None, reason="git applies the patch as users do")
def test_fixes_patch_of_the_scanned_app_applies_and_the_reaudit_is_clean(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:

    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "writer.py").write_text(APP, encoding="utf-8")
    subprocess.run([GIT, "init", "-q"], cwd=tmp_path, check=True)
    monkeypatch.chdir(tmp_path)
    run_demo(Path("out"), "--contract-from", "app")
    call = [f for f in _report(tmp_path / "out")["findings"] if f["location"] == {"file": "app/writer.py", "line": 7}]
    upgrade = [f for f in call if f["category"] == "upgrade" and f["status"] == "fail"]
    assert (
        len(upgrade) == 1
        and "gpt-5-mini" in upgrade[0]["message"]
        and "-        temperature=0.5" in upgrade[0]["evidence"]["patch"]
    )
    assert "git apply fixes.patch" in (tmp_path / "out" / "summary.md").read_text(encoding="utf-8")
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "+        max_completion_tokens=500," in html
    check = subprocess.run([GIT, "apply", "--check", "out/fixes.patch"], cwd=tmp_path, capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    subprocess.run([GIT, "apply", "out/fixes.patch"], cwd=tmp_path, check=True)
    assert "temperature" not in (tmp_path / "app" / "writer.py").read_text(encoding="utf-8")
    run_demo(Path("again"), "--contract-from", "app")
    again = [
        f for f in _report(tmp_path / "again")["findings"] if f["location"] == {"file": "app/writer.py", "line": 7}
    ]
    assert again and [f for f in again if f["status"] == "fail" and f["severity"] == "error"] == []
    assert [f["status"] for f in again if f["category"] == "upgrade"] == ["pass"]


def test_what_if_works_with_a_plan(tmp_path: Path) -> None:
    """The demo plan deploys summarizer as gpt-5-pro (Responses only); the demo app calls it with Chat
    Completions and temperature. As if the plan deployed gpt-4.1 instead, both errors go."""
    plan = str(Path(__file__).resolve().parent / "fixtures" / "plans" / "deployments.yaml")
    run_demo(tmp_path / "plan", "--plan", plan)
    as_planned = {f["rule_id"] for f in _failing(_report(tmp_path / "plan"), "summarizer")}
    assert {"AOAI-PLAN-006", "AOAI-UPG-001"} <= as_planned
    upgrade = [f for f in _failing(_report(tmp_path / "plan"), "summarizer") if f["rule_id"] == "AOAI-UPG-001"]
    assert "when the plan is applied" in upgrade[0]["message"] and "gpt-5-pro" in upgrade[0]["message"]
    run_demo(tmp_path / "whatif", "--plan", plan, "--what-if", "summarizer=gpt-4.1")
    as_if = {f["rule_id"] for f in _failing(_report(tmp_path / "whatif"), "summarizer")}
    assert not as_if & {"AOAI-PLAN-006", "AOAI-UPG-001"}
