"""The GitHub action and workflows, checked offline: against GitHub's published schemas (vendored by
check-jsonschema), for consistency between the action and its callers, and by running the action's
shell steps with a stand-in `audit`."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
GITHUB = ROOT / ".github"
ACTION = GITHUB / "actions" / "audit" / "action.yml"
WORKFLOWS = sorted((GITHUB / "workflows").glob("*.y*ml"))
EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def _load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text())
    assert isinstance(data, dict), path
    return data


def _on(workflow: dict[Any, Any]) -> dict[str, Any]:
    on: dict[str, Any] = workflow["on"] if "on" in workflow else workflow[True]
    return on  # YAML 1.1 reads a bare `on:` key as True


def test_every_file_under_github_is_valid_for_github() -> None:
    files = sorted(p for p in GITHUB.rglob("*") if p.is_file())
    assert (
        ACTION in files and len(WORKFLOWS) >= 3 and {p.name for p in WORKFLOWS} >= {"release-gate.yml", "nightly.yml"}
    )
    assert all(p.suffix in (".yml", ".yaml") for p in files), "unexpected file under .github/"
    actions = [p for p in files if p.name in ("action.yml", "action.yaml")]
    workflows = [p for p in files if p.parent.name == "workflows"]
    assert sorted(actions + workflows) == files, "every file under .github/ is checked"
    for schema, chosen in (("vendor.github-workflows", workflows), ("vendor.github-actions", actions)):
        result = subprocess.run(
            [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, *map(str, chosen)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_can_fail(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n        runs: oops\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows", str(bad)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1


def test_the_action_uses_only_what_it_declares() -> None:
    action = _load(ACTION)
    declared = set(action["inputs"])
    assert {"resources", "contract", "waivers", "fail-on", "formats", "baseline", "upload-sarif"} <= declared
    text = ACTION.read_text()
    used = set(re.findall(r"inputs\.([A-Za-z0-9_-]+)", text))
    assert used <= declared, used - declared
    step_ids = {s["id"] for s in action["runs"]["steps"] if "id" in s}
    assert set(re.findall(r"steps\.([A-Za-z0-9_-]+)\.outputs", text)) <= step_ids
    uses = [s.get("uses", "") for s in action["runs"]["steps"]]
    assert any(u.startswith("actions/upload-artifact@") for u in uses)
    assert any(u.startswith("github/codeql-action/upload-sarif@") for u in uses)
    for step in action["runs"]["steps"]:
        if "run" in step:  # no ${{ }} inside scripts: inputs reach them only through env (no script injection)
            assert not EXPR.search(step["run"]), step["name"]


def test_workflows_call_the_action_with_declared_inputs() -> None:
    declared = set(_load(ACTION)["inputs"])
    callers = 0
    for path in WORKFLOWS:
        for job in _load(path)["jobs"].values():
            for step in job.get("steps", []):
                if step.get("uses") == "./.github/actions/audit":
                    callers += 1
                    assert set(step.get("with", {})) <= declared, path
    assert callers >= 2


def test_release_gate_runs_on_pull_requests_and_tags() -> None:
    workflow = _load(GITHUB / "workflows" / "release-gate.yml")
    on = _on(workflow)
    assert "pull_request" in on and on["push"]["tags"]
    assert workflow["permissions"]["id-token"] == "write" and workflow["permissions"]["security-events"] == "write"
    (job,) = workflow["jobs"].values()
    gate = next(s for s in job["steps"] if s.get("uses") == "./.github/actions/audit")
    assert gate["with"]["upload-sarif"] == "true" and gate["with"]["fail-on"] == "error"


def test_nightly_signs_in_with_oidc_keeps_a_baseline_and_uploads_html() -> None:
    workflow = _load(GITHUB / "workflows" / "nightly.yml")
    on = _on(workflow)
    assert on["schedule"][0]["cron"]
    assert workflow["permissions"]["id-token"] == "write"
    (job,) = workflow["jobs"].values()
    steps = job["steps"]
    login = next(s for s in steps if s.get("uses", "").startswith("azure/login@"))
    assert {"client-id", "tenant-id", "subscription-id"} <= set(login["with"])
    restore = next(s for s in steps if s.get("uses", "").startswith("actions/cache/restore@"))
    save = next(s for s in steps if s.get("uses", "").startswith("actions/cache/save@"))
    audit = next(s for s in steps if s.get("uses") == "./.github/actions/audit")
    assert restore["with"]["path"] == save["with"]["path"] == audit["with"]["baseline"]
    assert restore["with"]["restore-keys"] and steps.index(restore) < steps.index(audit) < steps.index(save)
    assert "always()" in save["if"], "the baseline is kept even when the gate fails"
    html = next(s for s in steps if s.get("uses", "").startswith("actions/upload-artifact@"))
    assert html["with"]["path"].endswith("report.html")


def test_sharded_nightly_audits_each_shard_then_merges_and_gates(tmp_path: Path, fake_audit: Path) -> None:
    workflow = _load(GITHUB / "workflows" / "nightly-sharded.yml")
    assert _on(workflow)["schedule"][0]["cron"] and workflow["permissions"]["id-token"] == "write"
    shard, merge = workflow["jobs"]["shard"], workflow["jobs"]["merge"]
    count = int(workflow["env"]["SHARDS"])
    assert shard["strategy"]["matrix"]["shard"] == list(range(1, count + 1)) and not shard["strategy"]["fail-fast"]
    run = next(s["run"] for s in shard["steps"] if "audit --all" in s.get("run", ""))
    assert '--shard "${{ matrix.shard }}/${SHARDS}"' in run and "--format json" in run and "--fail-on never" in run
    upload = next(s for s in shard["steps"] if s.get("uses", "").startswith("actions/upload-artifact@"))
    assert upload["with"]["path"].endswith("report.json")
    assert merge["needs"] == "shard" and merge["if"] == "always()", "a failed shard still gets merged (incomplete)"
    download = next(s for s in merge["steps"] if s.get("uses", "").startswith("actions/download-artifact@"))
    assert download["with"]["pattern"] == "audit-shard-*"
    merged = next(s for s in merge["steps"] if s.get("id") == "merge")
    assert "audit merge shards/*/report.json" in merged["run"]
    # the shard step stops only on a usage error; the gate is the merge job's
    script = run.replace("${{ matrix.shard }}", "3")
    for code, expected in ((0, 0), (1, 0), (3, 0), (2, 2)):
        env = dict(os.environ, PATH=f"{fake_audit}:{os.environ['PATH']}", SHARDS="4", FAKE_EXIT=str(code))
        env["FAKE_ARGS"] = str(tmp_path / "args")
        result = subprocess.run(["bash", "-c", script], env=env, cwd=tmp_path, capture_output=True, timeout=60)
        assert result.returncode == expected
        assert "3/4" in (tmp_path / "args").read_text().splitlines()


def _script(name: str) -> str:
    step = next(s for s in _load(ACTION)["runs"]["steps"] if s.get("name") == name)
    return step["run"]


@pytest.fixture()
def fake_audit(tmp_path: Path) -> Path:
    """A stand-in `audit` on PATH that records its arguments and exits with $FAKE_EXIT."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "audit"
    script.write_text('#!/usr/bin/env bash\nprintf "%s\\n" "$@" > "$FAKE_ARGS"\nexit "${FAKE_EXIT:-0}"\n')
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return bin_dir


def _run_step(tmp_path: Path, bin_dir: Path, env: dict[str, str], code: int) -> tuple[list[str], str]:
    output = tmp_path / "github-output"
    output.write_text("")
    args_file = tmp_path / "args"
    full = dict(
        os.environ,
        PATH=f"{bin_dir}:{os.environ['PATH']}",
        GITHUB_OUTPUT=str(output),
        FAKE_ARGS=str(args_file),
        FAKE_EXIT=str(code),
        RESOURCES="all",
        SUBSCRIPTIONS="",
        CONTRACT="",
        WAIVERS="",
        POLICY="",
        MONITOR="false",
        LOGS_WORKSPACE="",
        BASELINE="",
        HISTORY="",
        OWNER_TAGS="",
        FAIL_ON="error",
        FORMATS="all",
        OUT="audit-report",
    )
    full.update(env)
    result = subprocess.run(
        ["bash", "-c", _script("Run the audit")], env=full, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr  # the step itself never fails: the Gate step does
    return args_file.read_text().splitlines(), output.read_text()


def test_action_run_step_builds_the_command_line(tmp_path: Path, fake_audit: Path) -> None:
    (tmp_path / "previous.json").write_text("{}")
    args, output = _run_step(
        tmp_path,
        fake_audit,
        {
            "RESOURCES": "contoso-aoai, /subscriptions/S/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/b\nthird",
            "SUBSCRIPTIONS": "sub-1,sub-2",
            "CONTRACT": "app-contract.yaml",
            "WAIVERS": "w.yaml",
            "POLICY": "org-policy.yaml",
            "MONITOR": "true",
            "LOGS_WORKSPACE": "4b1c2d3e-0000-4000-8000-0000000000a1",
            "BASELINE": "previous.json",
            "HISTORY": "history/audit-history.sqlite",
            "OWNER_TAGS": "owner, cost-center",
            "FAIL_ON": "warning",
            "FORMATS": "json,sarif",
        },
        code=1,
    )
    assert args == [
        "--out",
        "audit-report",
        "--format",
        "json,sarif",
        "--fail-on",
        "warning",
        "--resource",
        "contoso-aoai",
        "--resource",
        "/subscriptions/S/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/b",
        "--resource",
        "third",
        "--subscription",
        "sub-1",
        "--subscription",
        "sub-2",
        "--contract",
        "app-contract.yaml",
        "--waivers",
        "w.yaml",
        "--policy",
        "org-policy.yaml",
        "--monitor",
        "--logs-workspace",
        "4b1c2d3e-0000-4000-8000-0000000000a1",
        "--baseline",
        "previous.json",
        "--history",
        "history/audit-history.sqlite",
        "--owner-tag",
        "owner",
        "--owner-tag",
        "cost-center",
    ]
    assert (tmp_path / "history").is_dir()  # made for the SQLite file
    assert output == "exit-code=1\n"


def test_action_run_step_with_all_and_no_baseline_yet(tmp_path: Path, fake_audit: Path) -> None:
    args, output = _run_step(tmp_path, fake_audit, {"BASELINE": "baseline/report.json"}, code=0)
    assert args == ["--out", "audit-report", "--format", "all", "--fail-on", "error", "--all"]
    assert output == "exit-code=0\n"


@pytest.mark.parametrize("code,expected", [("0", 0), ("1", 1), ("2", 2), ("3", 3), ("", 2)])
def test_action_gate_step_exits_with_the_audit_code(code: str, expected: int) -> None:
    result = subprocess.run(
        ["bash", "-c", _script("Gate")], env=dict(os.environ, CODE=code), capture_output=True, text=True, timeout=60
    )
    assert result.returncode == expected


def test_every_run_script_is_valid_bash() -> None:
    for path in [ACTION, *WORKFLOWS]:
        data = _load(path)
        steps = (
            data["runs"]["steps"] if path == ACTION else [s for j in data["jobs"].values() for s in j.get("steps", [])]
        )
        for step in steps:
            if "run" in step:
                script = EXPR.sub("X", step["run"])
                result = subprocess.run(["bash", "-n", "-c", script], capture_output=True, text=True, timeout=60)
                assert result.returncode == 0, f"{path.name}: {step.get('name')}: {result.stderr}"
