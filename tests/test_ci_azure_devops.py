"""The Azure DevOps steps template (.azure-pipelines/audit.yml) and the sample pipeline `audit init` writes, checked
offline: expanded as Azure Pipelines expands a template (parameters, `${{ if }}` insertions) and validated against
the Azure Pipelines schema vendored by check-jsonschema; structural checks on the tasks (AzureCLI@2 on a
workload-identity service connection, PublishTestResults@2, PublishPipelineArtifact@1, the run summary); and its
shell steps run, in order, from a scratch directory that is not this repository with the real `audit`."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / ".azure-pipelines" / "audit.yml"
SAMPLE = ROOT / "auditor" / "cli" / "starter" / "azure-devops" / "azure-pipelines.yml"
PARAM = re.compile(r"\$\{\{\s*parameters\.([A-Za-z0-9_]+)\s*\}\}")
CONDITION = re.compile(r"^\$\{\{\s*if\s+(eq|ne)\(parameters\.([A-Za-z0-9_]+),\s*'([^']*)'\)\s*\}\}$")
OUTPUT = re.compile(r"##vso\[task\.setvariable variable=exitCode;isOutput=true\](\d+)")


def _template() -> dict[str, Any]:
    data = yaml.safe_load(TEMPLATE.read_text())
    assert isinstance(data, dict)
    return data


def _expand(node: Any, params: dict[str, str]) -> Any:
    """What Azure Pipelines does with a template at compile time: `${{ parameters.X }}` replaced, `${{ if }}`
    insertions kept or dropped (the two forms this template uses: eq/ne against a string)."""
    if isinstance(node, str):
        return PARAM.sub(lambda m: str(params[m.group(1)]), node)
    if isinstance(node, dict):
        return {key: _expand(value, params) for key, value in node.items()}
    if isinstance(node, list):
        out: list[Any] = []
        for item in node:
            if isinstance(item, dict) and len(item) == 1 and str(next(iter(item))).startswith("${{ if"):
                ((key, body),) = item.items()
                match = CONDITION.match(key)
                assert match, f"unsupported template expression {key}"
                op, name, value = match.groups()
                if (params[name] == value) == (op == "eq"):
                    out.extend(_expand(body, params))
            else:
                out.append(_expand(item, params))
        return out
    return node


def _params(**given: str) -> dict[str, str]:
    params = {p["name"]: str(p.get("default", "")) for p in _template()["parameters"]}
    unknown = set(given) - set(params)
    assert not unknown, unknown
    params.update(given)
    return params


def _steps(**given: str) -> list[dict[str, Any]]:
    return list(_expand(_template()["steps"], _params(**given)))


def _schema_check(tmp_path: Path, documents: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    files = []
    for name, document in documents.items():
        path = tmp_path / name
        path.write_text(yaml.safe_dump(document, sort_keys=False))
        files.append(str(path))
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--regex-variant", "python", "--builtin-schema",
         "vendor.azure-pipelines", *files],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_the_template_and_the_sample_pipeline_are_valid_azure_pipelines(tmp_path: Path) -> None:
    expanded = {
        "signed-in.yml": {"steps": _steps(serviceConnection="aoai-audit", resources="all")},
        "offline.yml": {"steps": _steps()},
        "sample.yml": yaml.safe_load(SAMPLE.read_text()),
    }
    result = _schema_check(tmp_path, expanded)
    assert result.returncode == 0, result.stdout + result.stderr
    broken = {"bad.yml": {"steps": [{"task": "PublishTestResults@2", "inputs": "not a mapping"}]}}
    assert _schema_check(tmp_path, broken).returncode == 1, "the schema check can fail"


def test_parameters_are_declared_used_and_reach_scripts_only_through_env() -> None:
    template = _template()
    declared = {p["name"] for p in template["parameters"]}
    text = TEMPLATE.read_text().split("\nsteps:", 1)[1]
    used = set(PARAM.findall(text)) | {m.group(2) for m in re.finditer(r"(eq|ne)\(parameters\.(\w+)", text)}
    assert used == declared, (declared - used, used - declared)
    for step in _steps(serviceConnection="x"):
        script = step.get("bash") or step.get("inputs", {}).get("inlineScript") or ""
        assert "${{" not in script and "parameters." not in script, step["displayName"]
    for step in _template()["steps"]:
        for script in (step.get("bash"),):
            assert not script or not PARAM.search(script), "parameters reach scripts through env (no injection)"


def test_the_tasks_sign_in_publish_tests_artifact_and_summary() -> None:
    signed_in = _steps(serviceConnection="aoai-audit", out="reports")
    tasks = {s["task"]: s for s in signed_in if "task" in s}
    cli = tasks["AzureCLI@2"]
    assert cli["inputs"]["azureSubscription"] == "aoai-audit" and cli["inputs"]["scriptType"] == "bash"
    assert cli["name"] == "audit" and 'audit "${args[@]}"' in cli["inputs"]["inlineScript"]
    tests = tasks["PublishTestResults@2"]
    assert (
        tests["inputs"]["testResultsFormat"] == "JUnit" and tests["inputs"]["testResultsFiles"] == "reports/junit.xml"
    )
    assert tests["condition"] == "succeededOrFailed()"
    artifact = tasks["PublishPipelineArtifact@1"]
    assert artifact["inputs"]["targetPath"] == "reports" and artifact["condition"] == "succeededOrFailed()"
    gate = signed_in[-1]
    assert "task.uploadsummary" in gate["bash"] and gate["env"]["CODE"] == "$(audit.exitCode)"
    offline = _steps()
    assert not [s for s in offline if s.get("task") == "AzureCLI@2"], "no service connection: no sign-in step"
    assert [s for s in offline if s.get("name") == "audit"], "the offline run has the same step name"


def test_the_sample_pipeline_uses_the_template_with_declared_parameters() -> None:
    sample = yaml.safe_load(SAMPLE.read_text())
    (repo,) = sample["resources"]["repositories"]
    assert repo["name"] == "aoai-auditor/aoai-auditor" and repo["ref"] == "refs/tags/v1"
    (job,) = sample["jobs"]
    step = next(s for s in job["steps"] if "template" in s)
    path, _, alias = step["template"].partition("@")
    assert alias == repo["repository"] and (ROOT / path) == TEMPLATE
    assert set(step["parameters"]) <= {p["name"] for p in _template()["parameters"]}
    assert step["parameters"]["serviceConnection"]


def _run(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def _agent_env(cwd: Path, step: dict[str, Any]) -> dict[str, str]:
    """A Linux agent's environment for one step: its `env:` mapping, the agent's temp directory, the real `audit`."""
    audit = shutil.which("audit") or str(Path(sys.executable).with_name("audit"))
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "IDENTITY_", "GITHUB_"))}
    env = dict(keep, PATH=f"{Path(audit).parent}:{os.environ['PATH']}", TF_BUILD="True")
    env["AGENT_TEMPDIRECTORY"] = str(cwd.parent / "agent-temp")
    env["HOME"] = str(cwd.parent)
    env.update({k: str(v) for k, v in (step.get("env") or {}).items()})
    return env


def _run_pipeline(cwd: Path, steps: list[dict[str, Any]]) -> tuple[int, str]:
    """The template's own steps (not the Microsoft tasks) in order, as the agent runs them; the exit code of the
    last one (the gate) and everything they printed."""
    (cwd.parent / "agent-temp").mkdir(exist_ok=True)
    printed, code = "", 0
    variables: dict[str, str] = {}
    for step in steps:
        script = step.get("bash") or (
            step.get("inputs", {}).get("inlineScript") if step.get("task") == "AzureCLI@2" else None
        )
        if script is None:
            continue
        env = _agent_env(cwd, step)
        env = {k: v.replace("$(audit.exitCode)", variables.get("audit.exitCode", "")) for k, v in env.items()}
        result = _run(script, cwd, env)
        printed += result.stdout + result.stderr
        match = OUTPUT.search(result.stdout)
        if match:
            variables["audit.exitCode"] = match.group(1)
        code = result.returncode
        if code and step is not steps[-1]:
            raise AssertionError(f"{step['displayName']}: exit {code}\n{printed}")
    return code, printed


PLAN = """\
deployments:
  - {account: my-aoai, name: chat-prod, model: o4-mini, version: "2025-04-16", sku: GlobalStandard, capacity: 10}
"""
CONTRACT = """\
deployments:
  chat-prod:
    api: chat_completions
    parameters: {temperature: 0.7}
"""


def test_without_a_service_connection_the_steps_audit_offline_from_a_scratch_directory(tmp_path: Path) -> None:
    scratch = tmp_path / "consumer-repo"
    scratch.mkdir()
    (scratch / "deployments.yaml").write_text(PLAN)
    (scratch / "app-contract.yaml").write_text(CONTRACT)
    steps = _steps(plan="deployments.yaml", contract="app-contract.yaml", waivers="audit-waivers.yaml")
    code, printed = _run_pipeline(scratch, steps[2:])  # after UsePythonVersion and the pip install
    assert code == 1, printed
    assert "##vso[task.logissue type=warning]--waivers audit-waivers.yaml: no such file yet" in printed
    assert "##vso[task.logissue type=error;sourcepath=app-contract.yaml;linenumber=" in printed
    assert f"##vso[task.uploadsummary]{scratch / 'audit-report' / 'summary.md'}" in printed
    assert (scratch / "audit-report" / "junit.xml").is_file(), "what PublishTestResults@2 publishes"
    assert "--offline" in (tmp_path / "agent-temp" / "aoai-audit.args").read_text().split()


@pytest.mark.parametrize("fail_on,expected", [("error", 1), ("never", 0)])
def test_with_a_service_connection_the_azure_cli_step_runs_the_audit(
    tmp_path: Path, fail_on: str, expected: int
) -> None:
    scratch = tmp_path / "consumer-repo"
    scratch.mkdir()
    # AzureCLI@2 signs `az` in before its script; here the demo tenant stands in for the subscription
    steps = _steps(serviceConnection="aoai-audit", args="--demo --quiet", failOn=fail_on)
    code, printed = _run_pipeline(scratch, steps[2:])
    assert code == expected, printed
    assert "--offline" not in (tmp_path / "agent-temp" / "aoai-audit.args").read_text().split()
    assert (scratch / "audit-report" / "report.html").is_file()
