"""Round 2, `fixes.patch`: the fixer reads through the one bounded reader (regular files inside the working
directory, nothing under .git/), edits the bytes with their own newlines so `git apply` takes the patch on
CRLF and CR files, quotes paths as git does, never hands libcst what CPython's parser refuses, never loops
on an unterminated comment, never writes a display string as a value, and keeps in a finding's evidence
only the call's own changed lines."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import tracemalloc
from dataclasses import replace
from pathlib import Path

import pytest

from auditor.fixes import git_quote, plan_fixes, write_fixes
from auditor.model.facts import SourceLocation
from tests.hostile.test_dos import bounded
from tests.test_fixes import APP, GIT, _audit_app, _repo

pytestmark = pytest.mark.skipif(not Path(GIT).exists() and GIT == "git", reason="git checks the patches")


def _apply_check(root: Path) -> None:
    check = subprocess.run([GIT, "apply", "--check", "out/fixes.patch"], cwd=root, capture_output=True, text=True)
    assert check.returncode == 0, check.stderr


def _swap(root: Path, target: str) -> None:
    """After the scan: app/main.py becomes a symlink to `target`."""
    main = root / "app" / "main.py"
    main.unlink()
    main.symlink_to(target)


@pytest.mark.parametrize("target", ["/dev/zero", "outside"])
def test_a_scanned_file_swapped_for_a_symlink_is_not_read(tmp_path, monkeypatch, rules, kb, target) -> None:
    root = _repo(tmp_path)
    monkeypatch.chdir(root)
    report = _audit_app(root, rules, kb)
    outside = tmp_path / "secret.py"
    outside.write_text(APP.replace("client = OpenAI()", 'client = OpenAI(api_key="sk-outside-secret")'))
    _swap(root, "/dev/zero" if target == "/dev/zero" else str(outside))
    with bounded():
        fixed, summary = write_fixes(report, root / "out", root)
    assert summary.patch is None and not (root / "out" / "fixes.patch").exists()
    assert any("app/main.py" in s and ("outside" in s or "not a regular file" in s) for s in summary.stale)
    assert "sk-outside-secret" not in repr(fixed.findings)


def test_a_symlinked_directory_out_of_the_tree_is_not_read(tmp_path, monkeypatch, rules, kb) -> None:
    root = _repo(tmp_path)
    monkeypatch.chdir(root)
    report = _audit_app(root, rules, kb)
    elsewhere = tmp_path / "elsewhere"
    (root / "app").rename(elsewhere)
    (root / "app").symlink_to(elsewhere)
    _, summary = write_fixes(report, root / "out", root)
    assert summary.patch is None and any("outside" in s for s in summary.stale)


def test_nothing_under_dot_git_is_patched(tmp_path, monkeypatch, rules, kb) -> None:
    root = _repo(tmp_path)
    monkeypatch.chdir(root)
    report = _audit_app(root, rules, kb)
    hook = root / ".git" / "hooks" / "main.py"
    hook.write_text(APP)
    moved = tuple(
        replace(f, location=SourceLocation(".git/hooks/main.py", f.location.line)) if f.location else f
        for f in report.findings
    )
    _, patch, summary = plan_fixes(replace(report, findings=moved), root)
    assert patch == "" and any(".git/" in s for s in summary.stale)


@pytest.mark.parametrize("newline", ["\r\n", "\r"])
def test_patches_apply_with_git_on_crlf_and_cr_files(tmp_path, monkeypatch, rules, kb, newline) -> None:
    root = _repo(tmp_path, APP.replace("\n", newline))
    monkeypatch.chdir(root)
    _, summary = write_fixes(_audit_app(root, rules, kb), root / "out", root)
    assert summary.patch is not None
    _apply_check(root)
    subprocess.run([GIT, "apply", "out/fixes.patch"], cwd=root, check=True)
    fixed = (root / "app" / "main.py").read_bytes()
    assert b"max_completion_tokens=800," in fixed
    assert fixed.count(newline.encode()) == APP.count("\n") - 1  # one argument's line dropped; the rest kept
    if newline == "\r":
        assert b"\n" not in fixed


def test_a_bom_form_feed_and_line_separator_survive(tmp_path, monkeypatch, rules, kb) -> None:
    source = "\ufeff" + APP.replace("client = OpenAI()", "client = OpenAI()  # \x0c page \u2028 break")
    root = _repo(tmp_path, source)
    monkeypatch.chdir(root)
    _, summary = write_fixes(_audit_app(root, rules, kb), root / "out", root)
    assert summary.patch is not None
    _apply_check(root)
    subprocess.run([GIT, "apply", "out/fixes.patch"], cwd=root, check=True)
    fixed = (root / "app" / "main.py").read_text(encoding="utf-8")
    assert fixed.startswith("\ufeff") and "\x0c page \u2028 break" in fixed and "max_completion_tokens" in fixed


@pytest.mark.parametrize("name", ['we"ird\tname.py', "x\n--- evil.py\n+++ evil.py\n.py", "café.py"])
def test_paths_are_quoted_as_git_quotes_them(tmp_path, monkeypatch, rules, kb, name) -> None:
    root = _repo(tmp_path)
    (root / "app" / "main.py").rename(root / "app" / name)
    subprocess.run([GIT, "add", "-A"], cwd=root, check=True)
    monkeypatch.chdir(root)
    _, summary = write_fixes(_audit_app(root, rules, kb), root / "out", root)
    assert summary.patch is not None
    patch = (root / "out" / "fixes.patch").read_text(encoding="utf-8")
    assert "\n--- evil.py" not in patch and "\n+++ evil.py" not in patch
    _apply_check(root)
    subprocess.run([GIT, "apply", "out/fixes.patch"], cwd=root, check=True)
    assert "max_completion_tokens" in (root / "app" / name).read_text(encoding="utf-8")


def test_git_quote_matches_git() -> None:
    assert git_quote("a/plain.py") == "a/plain.py"
    assert git_quote('a/t\tq"n\n\\.py') == '"a/t\\tq\\"n\\n\\\\.py"'
    assert git_quote("a/é") == '"a/\\303\\251"'


def test_evidence_keeps_only_the_calls_own_lines(tmp_path, monkeypatch, rules, kb) -> None:
    secret = 'API_KEY = "sk-kept-out-of-evidence-0123456789"'
    source = APP.replace("def ask(question):\n", f"def ask(question):\n    {secret}\n")
    root = _repo(tmp_path, source)
    monkeypatch.chdir(root)
    report, summary = write_fixes(_audit_app(root, rules, kb), root / "out", root)
    hunks = [f.evidence["patch"] for f in report.findings if f.evidence and f.evidence.get("patch")]
    assert hunks and summary.patch is not None
    assert all("sk-kept-out-of-evidence" not in h for h in hunks)
    assert all(line[:1] in "-+@d\\" for h in hunks for line in h.splitlines() if line), hunks


def test_source_libcst_would_crash_on_is_refused_first(tmp_path: Path) -> None:
    """3,000 nested parentheses: CPython's parser refuses them; libcst's native parser can crash the process."""
    code = (
        "from auditor.fixes.calls import Edit, edit_source\n"
        "src = 'x = ' + '(' * 3000 + '1' + ')' * 3000 + '\\n'\n"
        "try:\n    edit_source(src, {1: (Edit('drop', 'temperature'),)})\n"
        "except Exception as exc:\n    print('refused', type(exc).__name__)\n"
    )
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, (done.returncode, done.stderr[-500:])
    assert done.stdout.startswith("refused") and time.monotonic() - started < 30


def test_an_unterminated_block_comment_ends(tmp_path: Path) -> None:
    from auditor.fixes.iac import PlanEdit, edit_plan_file, find_terraform_block

    text = 'resource "azurerm_cognitive_deployment" "chat" {\n  name = "chat"\n  /* never closed\n'
    (tmp_path / "main.tf").write_text(text)
    with bounded():
        assert find_terraform_block(tmp_path, "chat") is None
        with pytest.raises(ValueError):
            edit_plan_file(text, "terraform-hcl", 1, [PlanEdit("version", None, "1")])
        with pytest.raises((ValueError, IndexError)):
            edit_plan_file('{"a": "never closed\n', "arm", 1, [PlanEdit("version", None, "1")])


def test_the_terraform_search_reads_no_special_or_outside_file(tmp_path: Path) -> None:
    from auditor.fixes.iac import find_terraform_block

    root = tmp_path / "repo"
    root.mkdir()
    outside = tmp_path / "other.tf"
    outside.write_text('resource "azurerm_cognitive_deployment" "c" {\n  name = "chat"\n}\n')
    (root / "zero.tf").symlink_to("/dev/zero")
    (root / "out.tf").symlink_to(outside)
    (root / "linked").symlink_to(tmp_path)
    if hasattr(os, "mkfifo"):
        os.mkfifo(root / "pipe.tf")
    with bounded():
        assert find_terraform_block(root, "chat") is None
    (root / "main.tf").write_text(outside.read_text())
    assert find_terraform_block(root, "chat") == (root / "main.tf", 1)


def test_a_display_string_is_never_written_as_a_version() -> None:
    from auditor.engine.evidence import _plan_fix_evidence
    from auditor.fixes.iac import edits_for
    from auditor.model.facts import PlannedDeployment

    plan = PlannedDeployment("a", "d", "gpt-4o", "2024-05-13", "Standard", 1)
    catalog = {"default_version": "not marked in the catalog", "default_versions": [], "version_offered": False}
    fix = _plan_fix_evidence(plan, {"catalog": catalog}, 1)["fix"]
    assert fix["default_version"] is None
    assert [e for e in edits_for("offered_version_or_sku", fix) if e.field == "version"] == []
    assert edits_for("default_version", fix) == []
    two = {**catalog, "default_version": "2024-08-06, 2024-11-20", "default_versions": ["2024-08-06", "2024-11-20"]}
    assert _plan_fix_evidence(plan, {"catalog": two}, 1)["fix"]["default_version"] is None


@pytest.mark.parametrize("kind", ["dev-zero", "nested-parentheses"])
def test_a_contract_source_the_fixer_must_not_read_ends_cleanly(tmp_path, monkeypatch, capsys, kind) -> None:
    """Through the command: a contract's `source:` names app/x.py, a link to /dev/zero or a file CPython's
    parser refuses; the run writes its reports, warns, and exits by the findings (1), within its bound."""
    from tests.conftest import run_demo

    monkeypatch.chdir(tmp_path)
    (tmp_path / "app").mkdir()
    if kind == "dev-zero":
        (tmp_path / "app" / "x.py").symlink_to("/dev/zero")
    else:
        (tmp_path / "app" / "x.py").write_text("x = " + "(" * 3000 + "1" + ")" * 3000 + "\n")
    (tmp_path / "contract.yaml").write_text(
        "deployments:\n  reasoner:\n    api: chat_completions\n"
        "    parameters: {temperature: 0.7, max_tokens: 100}\n    source: app/x.py:1\n"
    )
    # the breaks: memory exhausted reading /dev/zero; the process crashed (exit 139) in libcst's parser
    tracemalloc.start()
    try:
        code = run_demo(tmp_path / "out", "--contract", "contract.yaml")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 128 * 1024 * 1024, f"peaked at {peak / 1e6:.0f} MB"
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err
    assert (tmp_path / "out" / "report.json").is_file() and not (tmp_path / "out" / "fixes.patch").exists()
    assert "app/x.py" in err
