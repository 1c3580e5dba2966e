"""The installed wheel carries its rules, templates and demo: `audit --demo` works away from the source tree."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def unpacked_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    given = os.environ.get("AUDITOR_WHEEL")  # the release workflow tests the wheel it is about to publish
    if given:
        site = out / "site"
        with zipfile.ZipFile(given) as archive:
            archive.extractall(site)
        return site
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            str(ROOT),
            "-w",
            str(out),
        ],
        check=True,
    )
    (wheel,) = out.glob("*.whl")
    site = out / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    return site


def _run(site: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(site))
    return subprocess.run(
        [sys.executable, "-m", "auditor", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def test_wheel_contains_rules_templates_and_demo(unpacked_wheel: Path) -> None:
    package = unpacked_wheel / "auditor"
    assert (package / "_data" / "rules" / "builtin" / "api-support.yaml").is_file()
    assert (package / "_data" / "rules" / "knowledge" / "models.yaml").is_file()
    assert (package / "_data" / "reports" / "report.html.j2").is_file()
    assert (package / "demo" / "tenant" / "tenant.yaml").is_file() and (package / "demo" / "contract.yaml").is_file()
    assert (package / "demo" / "tenant" / "catalog" / "eastus2.yaml").is_file()
    assert (package / "schemas" / "rules.schema.json").is_file()


def test_demo_from_the_wheel_fails_for_the_right_reasons(unpacked_wheel: Path, tmp_path: Path) -> None:
    result = _run(unpacked_wheel, tmp_path, "--demo", "--out", "demo-out")
    assert result.returncode == 1, result.stderr
    where = _run(unpacked_wheel, tmp_path, "--version")
    assert where.returncode == 0
    out = tmp_path / "demo-out"
    assert {p.name for p in out.iterdir()} >= {"report.html", "junit.xml", "report.json"}
    report = json.loads((out / "report.json").read_text())
    failing = {f["category"] for f in report["findings"] if f["status"] == "fail"}
    assert {"api-support", "parameters", "quota", "deployment"} <= failing
    assert any(f["status"] == "pass" for f in report["findings"])
    assert "Result: failed" in result.stdout
    assert (
        str(unpacked_wheel)
        in subprocess.run(
            [sys.executable, "-c", "import auditor, sys; sys.stdout.write(auditor.__file__)"],
            env=dict(os.environ, PYTHONPATH=str(unpacked_wheel)),
            cwd=tmp_path,
            capture_output=True,
            text=True,
        ).stdout
    )


@pytest.mark.parametrize(
    "args,words",
    [
        (["--demo", "--fail-on", "sometimes"], "unknown --fail-on value 'sometimes'"),
        (["--demo", "--format", "pdf"], "unknown --format value 'pdf'"),
        (["--demo", "--cloud", "Mars"], "unknown cloud 'Mars'"),
        ([], "say what to audit"),
        (["--demo", "--rules", "no-such-dir"], "no-such-dir: rules directory not found"),
    ],
)
def test_usage_errors_are_one_line_exit_2(unpacked_wheel: Path, tmp_path: Path, args: list[str], words: str) -> None:
    result = _run(unpacked_wheel, tmp_path, *args)
    assert result.returncode == 2
    assert words in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_wheel_carries_the_adoption_files(unpacked_wheel: Path) -> None:
    package = unpacked_wheel / "auditor"
    assert (package / "_data" / "rules" / "policies" / "azure-baseline.yaml").is_file()
    for example in ("app-contract", "audit-waivers", "deployments"):
        assert (package / "_data" / "rules" / "examples" / f"{example}.yaml").is_file()
    assert (package / "schemas" / "config.schema.json").is_file()
    assert (package / "cli" / "starter" / "aoai-audit.toml").is_file()
    assert (package / "cli" / "starter" / "github" / "release-gate.yml").is_file()
    assert (package / "cli" / "starter" / "azure-devops" / "azure-pipelines.yml").is_file()
    assert (package / "_scm_version.py").is_file(), "the version from the git tag (hatch-vcs)"


def test_adopting_from_the_wheel_outside_this_repository(unpacked_wheel: Path, tmp_path: Path) -> None:
    """The Done-when of issue 23, from the wheel in a directory that is not this repository (.ci/wheel-check does
    the same from a fresh venv in CI and the release workflow)."""
    policy = _run(unpacked_wheel, tmp_path, "--demo", "--policy", "azure-baseline", "--out", "policy", "--quiet")
    assert policy.returncode == 1, policy.stderr
    assert any(
        f["category"] == "policy" for f in json.loads((tmp_path / "policy" / "report.json").read_text())["findings"]
    )

    init = _run(unpacked_wheel, tmp_path, "init", "app", "--ci", "both")
    assert init.returncode == 0, init.stderr
    assert (tmp_path / "app" / ".github" / "workflows" / "aoai-audit.yml").is_file()
    (tmp_path / "app" / ".aoai-audit.toml").unlink()
    (tmp_path / "app" / "pyproject.toml").write_text(
        '[project]\nname = "app"\n\n[tool.aoai-auditor]\nfail-on = "never"\nout = "build/audit"\n'
    )
    sub = tmp_path / "app" / "src" / "pkg"
    sub.mkdir(parents=True)
    found = _run(unpacked_wheel, sub, "--demo", "--quiet")
    assert found.returncode == 0, found.stderr
    assert (tmp_path / "app" / "build" / "audit" / "report.json").is_file()

    first = _run(unpacked_wheel, tmp_path, "--demo", "--out", "first", "--quiet")
    assert first.returncode == 1
    again = _run(unpacked_wheel, tmp_path, "--demo", "--baseline", "first/report.json", "--only-new", "--out", "again")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "only the 0 new can fail the gate" in again.stdout
