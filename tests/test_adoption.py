"""Adopting the auditor outside this repository: the configuration file, shipped examples by name, `audit init` and
`audit config`, gating on what is new, CI logs, exit codes, first contact without Azure, and --offline."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

import auditor.engine.rules
from auditor.cli import build_parser, main
from auditor.cli.config import config_schema
from auditor.demo.sim import SimulatedTenant
from auditor.model.errors import ExitCode
from auditor.sources.signin import sign_in_message
from auditor.util.resources import schema_path
from tests.conftest import AZURE_ENV, run_demo

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_APP = ROOT / "tests" / "sample_app"
PLAN = """\
deployments:
  - {account: my-aoai, name: chat-prod, model: o4-mini, version: "2025-04-16", sku: GlobalStandard, capacity: 10}
  - {account: my-aoai, name: reasoner, model: o3, version: "2025-04-16", sku: GlobalStandard, capacity: 10}
"""


def _report(out: Path) -> dict:
    return json.loads((out / "report.json").read_text())


def _clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """An environment with no Azure credential of any kind: no variables, no az CLI profile, no IMDS reachable."""
    env = {
        k: v for k, v in os.environ.items() if k not in AZURE_ENV and not k.startswith(("AZURE_", "IDENTITY_", "MSI_"))
    }
    env.pop("GITHUB_ACTIONS", None)
    env.pop("TF_BUILD", None)
    env.pop("GITHUB_STEP_SUMMARY", None)
    env.update(
        HOME=str(tmp_path),
        AZURE_CONFIG_DIR=str(tmp_path / ".azure"),
        PATH=os.path.dirname(sys.executable) + ":/usr/bin:/bin",
    )
    env.update(extra)
    return env


def _audit(cwd: Path, env: dict[str, str], *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "auditor", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


# --- the configuration file ---------------------------------------------------------------------------------------


def test_pyproject_table_is_found_from_a_subdirectory_with_paths_relative_to_it(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "app"\n\n[tool.aoai-auditor]\nfail-on = "never"\nout = "reports/audit"\n'
        'select = ["api-support"]\n'
    )
    sub = tmp_path / "src" / "deep"
    sub.mkdir(parents=True)
    monkeypatch.chdir(sub)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    assert main(["--demo", "--quiet"]) == 0, "fail-on = never came from the file"
    report = _report(tmp_path / "reports" / "audit")  # relative to the file, not to the working directory
    assert {f["category"] for f in report["findings"]} == {"api-support"}


def test_flags_override_the_file_and_audit_config_says_where_each_setting_came_from(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    (tmp_path / ".aoai-audit.toml").write_text('fail-on = "never"\npolicy = "azure-baseline"\nwaivers = "w.yaml"\n')
    monkeypatch.chdir(tmp_path)
    assert main(["config", "--fail-on", "warning"]) == 0
    out = capsys.readouterr().out
    lines = {line.split("=")[0].strip(): line for line in out.splitlines() if "=" in line and not line.startswith("#")}
    assert lines["fail-on"].endswith('"warning"  # command line')
    assert "azure-baseline.yaml" in lines["policy"] and lines["policy"].endswith(str(tmp_path / ".aoai-audit.toml"))
    assert f'"{tmp_path / "w.yaml"}"' in lines["waivers"], "paths are relative to the file"
    assert lines["ruleset"].endswith("# default")
    assert f"# configuration file: {tmp_path / '.aoai-audit.toml'}" in out


def test_history_in_the_file_is_a_path_from_the_file_or_a_url_kept_as_written(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    sub = tmp_path / "src"
    sub.mkdir()
    monkeypatch.chdir(sub)
    (tmp_path / ".aoai-audit.toml").write_text('history = "store/audits.sqlite"\n')
    assert main(["config"]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("history"))
    assert f'"{tmp_path / "store" / "audits.sqlite"}"' in line, "a relative store path is read from the file's folder"
    (tmp_path / ".aoai-audit.toml").write_text('history = "postgresql://auditor@db.example.com/audits"\n')
    assert main(["config"]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("history"))
    assert '"postgresql://auditor@db.example.com/audits"' in line, "a URL is kept as written"


@pytest.mark.parametrize(
    "text,words",
    [
        ('fail_on = "error"\n', "unknown key 'fail_on'"),
        ('concurrency = "8"\n', "key 'concurrency' must be an integer"),
        ("select = [1, 2]\n", "key 'select' must be a list of strings"),
        ('monitor = "yes"\n', "key 'monitor' must be true or false"),
        ('[deployments.chat]\nversion = "1"\n', "key 'deployments.chat' needs a model"),
        ('[deployments.chat]\nmodel = "gpt-4o"\nzone = "x"\n', "unknown key 'deployments.chat.zone'"),
        ("fail-on = \n", "invalid TOML"),
    ],
)
def test_a_bad_configuration_file_is_exit_2_naming_file_and_key(
    tmp_path: Path, monkeypatch, capsys, text, words
) -> None:
    (tmp_path / ".aoai-audit.toml").write_text(text)
    monkeypatch.chdir(tmp_path)
    assert main(["--demo", "--quiet"]) == ExitCode.USAGE
    err = capsys.readouterr().err.strip()
    assert words in err and str(tmp_path / ".aoai-audit.toml") in err and len(err.splitlines()) == 1


def test_config_flag_names_the_file_and_a_missing_one_is_exit_2(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["--demo", "--config", "nowhere.toml"]) == ExitCode.USAGE
    assert "--config nowhere.toml: file not found" in capsys.readouterr().err


def test_the_shipped_schema_is_the_parsers_and_validates_a_starter_file(tmp_path: Path) -> None:
    import jsonschema

    shipped = json.loads(schema_path("config.schema.json").read_text())
    assert shipped == config_schema(build_parser()), (
        "regenerate: audit config --schema > auditor/schemas/config.schema.json"
    )
    keys = set(shipped["properties"])
    assert {"fail-on", "contract", "contract-from", "waivers", "policy", "plan", "select", "ignore", "ruleset"} <= keys
    assert {"format", "out", "monitor", "probe", "only-new", "offline", "deployments"} <= keys
    from auditor.cli.config import read_table

    starter = ROOT / "auditor" / "cli" / "starter" / "aoai-audit.toml"
    jsonschema.validate(read_table(starter), shipped)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"fail_on": "error"}, shipped)


# --- shipped examples, init -----------------------------------------------------------------------------------------


def test_policy_by_name_is_the_shipped_baseline(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert run_demo(tmp_path / "out", "--policy", "azure-baseline", "--fail-on", "never") == 0
    policy = [f for f in _report(tmp_path / "out")["findings"] if f["category"] == "policy"]
    assert policy and any(f["status"] == "fail" for f in policy)


def test_a_name_that_is_neither_a_file_nor_shipped_is_exit_2(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    assert run_demo(tmp_path / "out", "--policy", "no-such-policy") == ExitCode.USAGE
    assert "no-such-policy" in capsys.readouterr().err


def test_init_writes_a_working_starter_and_keeps_existing_files(tmp_path: Path, monkeypatch, capsys) -> None:
    (tmp_path / "audit-waivers.yaml").write_text("waivers: []  # ours\n")
    assert main(["init", str(tmp_path), "--ci", "both"]) == 0
    out = capsys.readouterr().out
    for name in (
        ".aoai-audit.toml",
        "app-contract.yaml",
        ".github/workflows/aoai-audit.yml",
        ".azure-pipelines/aoai-audit.yml",
    ):
        assert (tmp_path / name).is_file() and f"wrote   {tmp_path / name}" in out
    assert (tmp_path / "audit-waivers.yaml").read_text() == "waivers: []  # ours\n" and "kept" in out
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    # the starter configuration names the starter contract and waivers; the demo audits against them
    code = main(["--demo", "--quiet", "--fail-on", "never"])
    assert code == 0 and (tmp_path / "audit-report" / "report.json").is_file()
    assert main(["init", str(tmp_path), "--ci", "travis"]) == ExitCode.USAGE


# --- gate on what is new ------------------------------------------------------------------------------------------


def test_only_new_passes_against_a_baseline_of_the_same_tenant_and_fails_on_a_new_finding(tmp_path: Path) -> None:
    assert run_demo(tmp_path / "before", "--ignore", "parameters") == 1
    baseline = str(tmp_path / "before" / "report.json")
    assert run_demo(tmp_path / "same", "--ignore", "parameters", "--baseline", baseline, "--only-new") == 0
    same = _report(tmp_path / "same")
    assert any(f["status"] == "fail" for f in same["findings"]), "the report still shows every finding"
    # the parameter rules were not in the baseline: their failures are new and fail the gate
    assert run_demo(tmp_path / "more", "--baseline", baseline, "--only-new") == 1
    new = [f for f in _report(tmp_path / "more")["findings"] if f["drift"] == "new" and f["status"] == "fail"]
    assert new and {f["category"] for f in new} == {"parameters"}


def test_only_new_needs_a_baseline(tmp_path: Path, capsys) -> None:
    assert run_demo(tmp_path, "--only-new") == ExitCode.USAGE
    assert "--only-new gates on findings new since a baseline" in capsys.readouterr().err


def test_rewording_every_message_changes_no_finding_key(tmp_path: Path, monkeypatch) -> None:
    assert run_demo(tmp_path / "plain", "--fail-on", "never") == 0
    original = auditor.engine.rules.load_rules

    def reworded(*args, **kwargs):
        return [
            replace(r, message="Reworded: " + r.message[::-1], pass_message="Reworded pass.", remediation="Do X.")
            for r in original(*args, **kwargs)
        ]

    monkeypatch.setattr(auditor.engine.rules, "load_rules", reworded)
    assert run_demo(tmp_path / "reworded", "--fail-on", "never") == 0
    before = _report(tmp_path / "plain")["findings"]
    after = _report(tmp_path / "reworded")["findings"]
    assert len(before) == len(after) > 50
    assert {f["message"] for f in before if f["status"] == "fail"}.isdisjoint({f["message"] for f in after})
    assert sorted(f["key"] for f in before) == sorted(f["key"] for f in after)
    # several findings of one rule on one deployment (one per parameter sent) keep distinct keys
    per_parameter = [f for f in after if f["rule_id"] == "AOAI-PARAM-001" and f["target_name"].endswith("/chat-prod")]
    assert len(per_parameter) >= 2 and len({f["key"] for f in per_parameter}) == len(per_parameter)


# --- CI logs ------------------------------------------------------------------------------------------------------


def test_github_actions_log_has_whole_messages_groups_and_file_annotations(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    env = _clean_env(tmp_path, GITHUB_ACTIONS="true", GITHUB_WORKSPACE=str(tmp_path), GITHUB_STEP_SUMMARY=str(summary))
    contract = tmp_path / "app-contract.yaml"
    contract.write_text((ROOT / "auditor" / "demo" / "contract.yaml").read_text())
    run = _audit(tmp_path, env, "--demo", "--contract", "app-contract.yaml", "--out", "out")
    assert run.returncode == 1, run.stderr
    lines = run.stdout.splitlines()
    assert "::group::Failing findings" in run.stdout and "::endgroup::" in lines
    report = _report(tmp_path / "out")
    for f in (f for f in report["findings"] if f["status"] == "fail"):
        assert any(f["message"] in line for line in lines), f["message"]  # whole: never cut mid-word
    errors = [line for line in lines if line.startswith("::error file=app-contract.yaml,line=")]
    assert 1 <= len(errors) <= 10
    assert all(",title=" in line for line in errors)
    assert "**Failing rules**" in summary.read_text()


def test_azure_pipelines_log_uses_logging_commands(tmp_path: Path) -> None:
    env = _clean_env(tmp_path, TF_BUILD="True")
    (tmp_path / "app-contract.yaml").write_text((ROOT / "auditor" / "demo" / "contract.yaml").read_text())
    run = _audit(tmp_path, env, "--demo", "--contract", "app-contract.yaml", "--out", "out")
    assert run.returncode == 1
    issues = [line for line in run.stdout.splitlines() if line.startswith("##vso[task.logissue type=error;")]
    assert issues and all("sourcepath=app-contract.yaml;linenumber=" in line for line in issues)
    assert "##[group]Failing findings" in run.stdout


def test_annotations_are_capped_with_a_count_of_the_rest() -> None:
    from auditor.cli.ci_log import GITHUB, annotate
    from auditor.model.facts import SourceLocation
    from auditor.model.results import Category, Finding, Severity, Status

    findings = [
        Finding(
            "R-1",
            "t",
            Category.PARAMETERS,
            Severity.ERROR,
            Status.FAIL,
            f"/x/{i}",
            f"x{i}",
            "m, a: b%",
            "r",
            location=SourceLocation("app.py", i + 1),
        )
        for i in range(14)
    ]
    lines = annotate(findings, GITHUB, {})
    assert len([line for line in lines if line.startswith("::error ")]) == 10
    assert lines[-1].startswith("::notice::4 more finding(s)")
    assert lines[0] == "::error file=app.py,line=1,title=R-1 t::R-1 x0: m, a: b%25"


# --- exit codes, first contact ------------------------------------------------------------------------------------


def test_an_internal_error_is_exit_4_with_the_traceback_saved(tmp_path: Path, monkeypatch, capsys) -> None:
    import auditor.render

    def broken(*args, **kwargs):
        raise RuntimeError("a bug in a renderer")

    monkeypatch.setattr(auditor.render, "write_reports", broken)
    out = tmp_path / "out"
    assert run_demo(out) == 4 and int(ExitCode.INTERNAL) == 4
    err = capsys.readouterr().err
    assert "internal error: RuntimeError: a bug in a renderer" in err and str(out / "audit-crash.txt") in err
    assert len(err.strip().splitlines()) == 2
    assert "Traceback (most recent call last)" in (out / "audit-crash.txt").read_text()


def test_ctrl_c_is_exit_130_with_what_was_read_written_as_incomplete(tmp_path: Path) -> None:
    with SimulatedTenant(arm_latency=0.4) as tenant:
        env = _clean_env(tmp_path, REQUESTS_CA_BUNDLE=tenant.ca_path, **tenant.identity_env())
        process = subprocess.Popen(
            [sys.executable, "-m", "auditor", "--all", "--management-endpoint", tenant.management_url, "--out", "out"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 60
        while not tenant.requests(plane="arm") and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130 and int(ExitCode.INTERRUPTED) == 130, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr
    report = _report(tmp_path / "out")
    assert report["complete"] is False
    assert any("interrupted" in gap for gap in report["gaps"]) or any(
        "interrupted" in reason for t in report["targets"] for reason in t.get("reasons", [])
    )


def test_no_credential_is_a_few_short_lines_naming_az_login(tmp_path: Path) -> None:
    run = _audit(tmp_path, _clean_env(tmp_path), "--resource", "contoso", "--out", "out")
    assert run.returncode == ExitCode.USAGE
    lines = (run.stdout + run.stderr).strip().splitlines()
    assert len(lines) <= 8 and all(len(line) <= 300 for line in lines), lines
    assert "az login" in run.stderr and "--demo" in run.stderr and "--verbose" in run.stderr
    assert "Attempted credentials" not in run.stderr and "\\n" not in run.stderr
    verbose = _audit(tmp_path, _clean_env(tmp_path), "--resource", "contoso", "--out", "out", "--verbose")
    assert "EnvironmentCredential" in verbose.stderr, "--verbose shows Azure Identity's own report"


def test_a_network_failure_is_not_reported_as_no_credential(tmp_path: Path) -> None:
    env = _clean_env(
        tmp_path,
        AZURE_CLIENT_ID="00000000-0000-0000-0000-000000000001",
        AZURE_TENANT_ID="00000000-0000-0000-0000-000000000002",
        AZURE_CLIENT_SECRET="not-a-secret",
        HTTPS_PROXY="http://127.0.0.1:9",
    )
    run = _audit(tmp_path, env, "--resource", "contoso", "--out", "out")
    assert run.returncode == ExitCode.USAGE
    assert "network failure" in run.stderr and "no Azure credential" not in run.stderr
    assert len(run.stderr.strip().splitlines()) <= 8


def test_sign_in_message_reads_the_chain_report() -> None:
    chain = (
        "DefaultAzureCredential failed to retrieve a token from the included credentials.\nAttempted credentials:\n"
        "\tEnvironmentCredential: EnvironmentCredential authentication unavailable. Environment variables are not "
        "fully configured.\n\tAzureCliCredential: ERROR: AADSTS700016: Application with identifier 'x' was not found"
    )
    message = sign_in_message(chain)
    assert message.splitlines()[0].startswith("signing in with Azure CLI (az login) failed: ERROR: AADSTS700016")


# --- offline ------------------------------------------------------------------------------------------------------


def test_offline_judges_the_app_against_the_planned_models_and_lists_what_needs_azure(tmp_path: Path) -> None:
    (tmp_path / "deployments.yaml").write_text(PLAN)
    run = _audit(
        tmp_path,
        _clean_env(tmp_path),
        "--offline",
        "--contract-from",
        str(SAMPLE_APP),
        "--plan",
        "deployments.yaml",
        "--out",
        "out",
    )
    assert run.returncode == ExitCode.FINDINGS, run.stderr
    findings = _report(tmp_path / "out")["findings"]
    failing = {(f["rule_id"], f["target_name"]) for f in findings if f["status"] == "fail"}
    # o4-mini and o3 take neither temperature=0.7 nor max_tokens (the sample app sends both)
    assert ("AOAI-PARAM-001", "my-aoai/chat-prod") in failing and ("AOAI-PARAM-001", "my-aoai/reasoner") in failing
    offline = [f for f in findings if f["cause"] == "offline"]
    assert offline and all(f["status"] == "unknown" and "needs Azure" in f["reason"] for f in offline)
    needs = {f["rule_id"] for f in offline}
    assert {"AOAI-PLAN-001", "AOAI-PLAN-005", "AOAI-PLAN-008", "AOAI-DEPLOY-001"} <= needs
    # a name neither planned nor declared: whether the tenant has it is Azure's to say, not a failure
    assert not [f for f in findings if f["rule_id"] == "AOAI-DEPLOY-004" and f["status"] == "fail"]
    assert not [f for f in findings if f["category"] == "security" and f["status"] != "unknown"]


def test_offline_is_chosen_without_a_credential_and_reads_declared_deployments(tmp_path: Path) -> None:
    (tmp_path / ".aoai-audit.toml").write_text(
        f'contract-from = "{SAMPLE_APP}"\n\n[deployments.chat-prod]\nmodel = "gpt-4.1"\nversion = "2025-04-14"\n'
        'sku = "GlobalStandard"\nregion = "eastus2"\n'
    )
    run = _audit(tmp_path, _clean_env(tmp_path), "--out", "out", "--fail-on", "never")
    assert run.returncode == ExitCode.INCOMPLETE, run.stderr  # nothing fails; what needs Azure was not checked
    assert "no Azure credential found: auditing --offline" in run.stderr
    findings = _report(tmp_path / "out")["findings"]
    chat = [f for f in findings if f["target_name"] == "declared/chat-prod" and f["rule_id"] == "AOAI-PARAM-001"]
    assert chat and all(f["status"] == "pass" for f in chat), "gpt-4.1 takes what the app sends to chat-prod"


def test_offline_with_nothing_to_judge_or_with_live_flags_is_exit_2(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["--offline", "--resource", "x"]) == ExitCode.USAGE
    assert "--offline makes no Azure call: drop --resource" in capsys.readouterr().err
