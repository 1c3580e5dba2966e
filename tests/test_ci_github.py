"""The GitHub action (action.yml at the root: `uses: aoai-auditor/aoai-auditor@v1`), this repository's workflows and
the consumer workflows `audit init` writes, checked offline: against GitHub's published schemas (vendored by
check-jsonschema), every third-party action pinned to a commit, the action's inputs, and the action's shell steps
run from a scratch directory that is not this repository, with a stand-in `audit` and with the real one."""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
GITHUB = ROOT / ".github"
ACTION = ROOT / "action.yml"
OWN_WORKFLOWS = sorted((GITHUB / "workflows").glob("*.y*ml"))
STARTER = ROOT / "auditor" / "cli" / "starter" / "github"
SAMPLES = sorted(STARTER.glob("*.yml"))
WORKFLOWS = [*OWN_WORKFLOWS, *SAMPLES]
EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
PINNED = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")
OUR_ACTION = "aoai-auditor/aoai-auditor@v1"


def _load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text())
    assert isinstance(data, dict), path
    return data


def _on(workflow: dict[Any, Any]) -> dict[str, Any]:
    on: dict[str, Any] = workflow["on"] if "on" in workflow else workflow[True]
    return on  # YAML 1.1 reads a bare `on:` key as True


def _steps(path: Path) -> list[dict[str, Any]]:
    data = _load(path)
    if path == ACTION:
        return list(data["runs"]["steps"])
    return [s for job in data["jobs"].values() for s in job.get("steps", [])]


def _check(schema: str, files: list[Path]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, *map(str, files)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_every_github_file_is_valid_for_github() -> None:
    files = sorted(p for p in GITHUB.rglob("*") if p.is_file())
    assert {p.name for p in OWN_WORKFLOWS} >= {"ci.yml", "release.yml"}
    assert {p.name for p in SAMPLES} >= {"release-gate.yml", "nightly.yml", "nightly-sharded.yml"}
    assert sorted([*OWN_WORKFLOWS, GITHUB / "dependabot.yml"]) == files, "every file under .github/ is checked"
    for schema, chosen in (
        ("vendor.github-workflows", WORKFLOWS),
        ("vendor.github-actions", [ACTION]),
        ("vendor.dependabot", [GITHUB / "dependabot.yml"]),
    ):
        result = _check(schema, chosen)
        assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_can_fail(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n        runs: oops\n"
    )
    assert _check("vendor.github-workflows", [bad]).returncode == 1


def test_third_party_actions_are_pinned_to_commits_named_by_tag() -> None:
    """Every `uses:` of another repository's action is a full commit SHA with its tag in a comment above it (what
    Dependabot updates, .github/dependabot.yml); the action and the shipped workflows pin each action to one commit."""
    pins: dict[str, set[str]] = {}
    for path in [ACTION, *WORKFLOWS]:
        lines = path.read_text().splitlines()
        for index, line in enumerate(lines):
            match = re.match(r"^\s*(?:- )?uses:\s*(\S+)", line)
            if not match or match.group(1).startswith("./") or match.group(1) == "./":
                continue
            ref = match.group(1)
            if ref == OUR_ACTION:
                continue
            assert PINNED.match(ref), f"{path.name}:{index + 1}: {ref} is not pinned to a commit"
            action = ref.split("@")[0]
            trailing = line.split("#", 1)[1].strip() if "#" in line else ""
            comment = trailing or lines[index - 1].strip().lstrip("# ")
            assert re.search(r"v\d+(\.\d+)*", comment), f"{path.name}:{index + 1}: name the tag of {ref} in a comment"
            if path == ACTION or path in SAMPLES:  # what consumers get: one commit per action, as Dependabot keeps it
                pins.setdefault("/".join(action.split("/")[:2]), set()).add(ref.split("@")[1])
    assert all(len(shas) == 1 for shas in pins.values()), pins
    assert "github/codeql-action" in pins and "azure/login" in pins
    release = (GITHUB / "workflows" / "release.yml").read_text()
    assert "pypa/gh-action-pypi-publish@ed0c53931b1dc9bd32cbe73a98c7f6766f8a527e" in release
    lines = ACTION.read_text().splitlines()
    sarif = next(i for i, line in enumerate(lines) if "github/codeql-action/upload-sarif@" in line)
    assert re.search(r"github/codeql-action v4\.", lines[sarif - 1]), "upload-sarif v4 (v3 is deprecated)"
    dependabot = _load(GITHUB / "dependabot.yml")
    assert any(u["package-ecosystem"] == "github-actions" for u in dependabot["updates"])


def test_the_release_workflow_builds_checks_then_publishes_with_trusted_publishing() -> None:
    workflow = _load(GITHUB / "workflows" / "release.yml")
    assert _on(workflow)["push"]["tags"] == ["v*"]
    jobs = workflow["jobs"]
    assert jobs["check"]["needs"] == "build" and jobs["publish"]["needs"] == "check"
    assert jobs["github-release"]["needs"] == "publish"
    assert workflow["permissions"] == {"contents": "read"}, "nothing may write but the jobs that must"
    assert jobs["publish"]["permissions"] == {"id-token": "write"} and jobs["publish"]["environment"]["name"] == "pypi"
    publish = [s for s in jobs["publish"]["steps"] if "gh-action-pypi-publish" in s.get("uses", "")]
    assert publish and "with" not in publish[0], "no password: trusted publishing"
    assert "fetch-depth" in jobs["build"]["steps"][0]["with"], "the version comes from the tag"
    check = "\n".join(s.get("run", "") for s in jobs["check"]["steps"])
    assert ".ci/wheel-check" in check and "python -m pytest" in check and "ln -s" in check
    assert any("gh release create" in s.get("run", "") for s in jobs["github-release"]["steps"])
    ci = _load(GITHUB / "workflows" / "ci.yml")
    assert any(".ci/wheel-check" in s.get("run", "") for s in ci["jobs"]["wheel"]["steps"])
    assert any(s.get("uses") == "./" for s in ci["jobs"]["action"]["steps"]), "CI runs the root action"


def test_the_action_uses_only_what_it_declares_and_reaches_every_flag() -> None:
    action = _load(ACTION)
    declared = set(action["inputs"])
    assert {"config", "ruleset", "plan", "contract-from", "probe", "select", "ignore", "args", "offline"} <= declared
    assert {
        "resources",
        "contract",
        "waivers",
        "fail-on",
        "formats",
        "baseline",
        "only-new",
        "upload-sarif",
    } <= declared
    text = ACTION.read_text()
    used = set(re.findall(r"inputs\.([A-Za-z0-9_-]+)", text))
    assert used <= declared, used - declared
    step_ids = {s["id"] for s in action["runs"]["steps"] if "id" in s}
    assert set(re.findall(r"steps\.([A-Za-z0-9_-]+)\.outputs", text)) <= step_ids
    for step in action["runs"]["steps"]:
        if "run" in step:  # no ${{ }} inside scripts: inputs reach them only through env (no script injection)
            assert not EXPR.search(step["run"]), step["name"]
    install = next(s for s in action["runs"]["steps"] if s.get("name") == "Install the auditor")
    assert "$ACTION_PATH" in install["run"] and install["env"]["ACTION_PATH"] == "${{ github.action_path }}"


def test_workflows_call_the_action_with_declared_inputs() -> None:
    declared = set(_load(ACTION)["inputs"])
    callers = 0
    for path in WORKFLOWS:
        for step in _steps(path):
            if step.get("uses") in ("./", OUR_ACTION):
                callers += 1
                assert set(step.get("with", {})) <= declared, path
    assert callers >= 3
    for path in SAMPLES:  # written for a consumer repository: nothing of this one's layout
        text = path.read_text()
        assert "./.github/actions" not in text and "rules/policies" not in text and "pip install ." not in text


def test_release_gate_runs_on_pull_requests_and_tags_and_goes_offline_for_forks() -> None:
    workflow = _load(STARTER / "release-gate.yml")
    on = _on(workflow)
    assert "pull_request" in on and on["push"]["tags"]
    assert workflow["permissions"]["id-token"] == "write" and workflow["permissions"]["security-events"] == "write"
    (job,) = workflow["jobs"].values()
    login = next(s for s in job["steps"] if s.get("uses", "").startswith("azure/login@"))
    assert "fork" in login["if"]
    gate = next(s for s in job["steps"] if s.get("uses") == OUR_ACTION)
    assert gate["with"]["fail-on"] == "error" and "steps.login.outcome" in gate["with"]["offline"]


def test_nightly_signs_in_with_oidc_keeps_a_baseline_and_uploads_html() -> None:
    workflow = _load(STARTER / "nightly.yml")
    assert _on(workflow)["schedule"][0]["cron"] and workflow["permissions"]["id-token"] == "write"
    (job,) = workflow["jobs"].values()
    steps = job["steps"]
    login = next(s for s in steps if s.get("uses", "").startswith("azure/login@"))
    assert {"client-id", "tenant-id", "subscription-id"} <= set(login["with"])
    restore = next(s for s in steps if s.get("uses", "").startswith("actions/cache/restore@"))
    save = next(s for s in steps if s.get("uses", "").startswith("actions/cache/save@"))
    audit = next(s for s in steps if s.get("uses") == OUR_ACTION)
    assert restore["with"]["path"] == save["with"]["path"] == audit["with"]["baseline"]
    assert audit["with"]["policy"] == "azure-baseline", "the shipped policy, by name"
    assert restore["with"]["restore-keys"] and steps.index(restore) < steps.index(audit) < steps.index(save)
    assert "always()" in save["if"], "the baseline is kept even when the gate fails"


def test_sharded_nightly_audits_each_shard_then_merges_and_gates(tmp_path: Path, fake_audit: Path) -> None:
    workflow = _load(STARTER / "nightly-sharded.yml")
    shard, merge = workflow["jobs"]["shard"], workflow["jobs"]["merge"]
    count = int(workflow["env"]["SHARDS"])
    assert shard["strategy"]["matrix"]["shard"] == list(range(1, count + 1)) and not shard["strategy"]["fail-fast"]
    run = next(s["run"] for s in shard["steps"] if "audit --all" in s.get("run", ""))
    assert '--shard "${{ matrix.shard }}/${SHARDS}"' in run and "--format json" in run and "--fail-on never" in run
    assert merge["needs"] == "shard" and merge["if"] == "always()", "a failed shard still gets merged (incomplete)"
    merged = next(s for s in merge["steps"] if s.get("id") == "merge")
    assert "audit merge shards/*/report.json" in merged["run"]
    script = run.replace("${{ matrix.shard }}", "3")
    for code, expected in ((0, 0), (1, 0), (3, 0), (2, 2), (4, 4)):
        env = dict(os.environ, PATH=f"{fake_audit}:{os.environ['PATH']}", SHARDS="4", FAKE_EXIT=str(code))
        env["FAKE_ARGS"] = str(tmp_path / "args")
        result = subprocess.run(["bash", "-c", script], env=env, cwd=tmp_path, capture_output=True, timeout=60)
        assert result.returncode == expected
        assert "3/4" in (tmp_path / "args").read_text().splitlines()


def _script(name: str) -> str:
    step = next(s for s in _load(ACTION)["runs"]["steps"] if s.get("name") == name)
    return str(step["run"])


@pytest.fixture()
def fake_audit(tmp_path: Path) -> Path:
    """A stand-in `audit` on PATH that records its arguments and exits with $FAKE_EXIT."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "audit"
    script.write_text('#!/usr/bin/env bash\nprintf "%s\\n" "$@" > "$FAKE_ARGS"\nexit "${FAKE_EXIT:-0}"\n')
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return bin_dir


INPUT_ENV = {
    "CONFIG": "",
    "RESOURCES": "",
    "SUBSCRIPTIONS": "",
    "CONTRACT": "",
    "CONTRACT_FROM": "",
    "PLAN": "",
    "WAIVERS": "",
    "POLICY": "",
    "RULESET": "",
    "SELECT": "",
    "IGNORE": "",
    "PROBE": "false",
    "MONITOR": "false",
    "LOGS_WORKSPACE": "",
    "OFFLINE": "false",
    "BASELINE": "",
    "ONLY_NEW": "false",
    "HISTORY": "",
    "OWNER_TAGS": "",
    "FAIL_ON": "",
    "FORMATS": "",
    "EXTRA_ARGS": "",
    "OUT": "audit-report",
}


def _run_step(cwd: Path, path_dir: Path | None, env: dict[str, str], code: int = 0) -> tuple[list[str], str, str]:
    output = cwd / "github-output"
    output.write_text("")
    args_file = cwd / "args"
    full = dict(os.environ, GITHUB_OUTPUT=str(output), FAKE_ARGS=str(args_file), FAKE_EXIT=str(code), **INPUT_ENV)
    if path_dir is not None:
        full["PATH"] = f"{path_dir}:{os.environ['PATH']}"
    full.pop("GITHUB_STEP_SUMMARY", None)
    full.update(env)
    result = subprocess.run(
        ["bash", "-c", _script("Run the audit")], env=full, cwd=cwd, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr  # the step itself never fails: the Gate step does
    args = args_file.read_text().splitlines() if args_file.exists() else []
    return args, output.read_text(), result.stdout


def test_action_run_step_builds_the_command_line(tmp_path: Path, fake_audit: Path) -> None:
    for name in ("previous.json", "app-contract.yaml", "plan.json", "audit.toml"):
        (tmp_path / name).write_text("{}")
    (tmp_path / "src").mkdir()
    args, output, _ = _run_step(
        tmp_path,
        fake_audit,
        {
            "CONFIG": "audit.toml",
            "RESOURCES": "contoso-aoai, /subscriptions/S/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/b\nthird",
            "SUBSCRIPTIONS": "sub-1,sub-2",
            "CONTRACT_FROM": "src",
            "PLAN": "plan.json",
            "POLICY": "azure-baseline",
            "RULESET": "2026.11",
            "SELECT": "api-support, parameters",
            "IGNORE": "security",
            "PROBE": "true",
            "MONITOR": "true",
            "LOGS_WORKSPACE": "4b1c2d3e-0000-4000-8000-0000000000a1",
            "BASELINE": "previous.json",
            "ONLY_NEW": "true",
            "FAIL_ON": "warning",
            "FORMATS": "json,sarif",
            "EXTRA_ARGS": "--timeout 300 --what-if 'chat-prod=o4-mini'",
            "HISTORY": "history/audit-history.sqlite",
            "OWNER_TAGS": "owner, cost-center",
        },
        code=1,
    )
    assert args == [
        "--out", "audit-report",
        "--config", "audit.toml",
        "--contract-from", "src",
        "--plan", "plan.json",
        "--policy", "azure-baseline",
        "--baseline", "previous.json",
        "--resource", "contoso-aoai",
        "--resource", "/subscriptions/S/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/b",
        "--resource", "third",
        "--subscription", "sub-1", "--subscription", "sub-2",
        "--select", "api-support", "--select", "parameters",
        "--ignore", "security",
        "--owner-tag", "owner", "--owner-tag", "cost-center",
        "--history", "history/audit-history.sqlite",
        "--ruleset", "2026.11",
        "--fail-on", "warning",
        "--format", "json,sarif",
        "--probe", "--monitor",
        "--logs-workspace", "4b1c2d3e-0000-4000-8000-0000000000a1",
        "--only-new",
        "--timeout", "300", "--what-if", "chat-prod=o4-mini",
    ]  # fmt: skip
    assert output == "exit-code=1\n"
    assert (tmp_path / "history").is_dir()  # made for the SQLite file


def test_missing_optional_files_are_skipped_with_a_notice(tmp_path: Path, fake_audit: Path) -> None:
    args, output, stdout = _run_step(
        tmp_path,
        fake_audit,
        {"RESOURCES": "all", "WAIVERS": "audit-waivers.yaml", "BASELINE": "baseline/report.json", "ONLY_NEW": "true",
         "CONTRACT": "app-contract.yaml", "POLICY": "policies/org.yaml"},
    )  # fmt: skip
    assert args == ["--out", "audit-report", "--all"]
    for name in ("audit-waivers.yaml", "baseline/report.json", "app-contract.yaml", "policies/org.yaml"):
        assert "::notice::--" in stdout and f" {name}: no such file yet" in stdout
    assert output == "exit-code=0\n"


@pytest.mark.parametrize("code,expected", [("0", 0), ("1", 1), ("2", 2), ("3", 3), ("4", 4), ("130", 130), ("", 2)])
def test_action_gate_step_exits_with_the_audit_code(code: str, expected: int) -> None:
    result = subprocess.run(
        ["bash", "-c", _script("Gate")], env=dict(os.environ, CODE=code), capture_output=True, text=True, timeout=60
    )
    assert result.returncode == expected


def test_the_action_runs_the_real_auditor_from_a_scratch_directory(tmp_path: Path) -> None:
    """The action's run step, as a consumer's job runs it: a directory that is not this repository, the installed
    `audit` on PATH, the embedded demo tenant; the reports are written and the exit code handed to the Gate."""
    scratch = tmp_path / "consumer-repo"
    scratch.mkdir()
    (scratch / ".aoai-audit.toml").write_text('fail-on = "warning"\n')
    audit_bin = Path(shutil.which("audit") or Path(sys.executable).with_name("audit")).parent
    env = {"EXTRA_ARGS": "--demo --quiet", "WAIVERS": "audit-waivers.yaml", "GITHUB_ACTIONS": "true"}
    env.update({k: v for k, v in os.environ.items() if k.startswith("PYTHON")})
    _, output, stdout = _run_step(scratch, audit_bin, env)
    assert output == "exit-code=1\n"
    assert (scratch / "audit-report" / "report.json").is_file() and (scratch / "audit-report" / "junit.xml").is_file()
    assert "::notice::--waivers audit-waivers.yaml" in stdout
    assert not (ROOT / "audit-report" / "report.json").exists() or (scratch / "audit-report").resolve() != ROOT


def test_every_run_script_is_valid_bash() -> None:
    for path in [ACTION, *WORKFLOWS]:
        for step in _steps(path):
            if "run" in step:
                script = EXPR.sub("X", step["run"])
                result = subprocess.run(["bash", "-n", "-c", script], capture_output=True, text=True, timeout=60)
                assert result.returncode == 0, f"{path.name}: {step.get('name')}: {result.stderr}"
