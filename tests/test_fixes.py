"""fixes.patch (auditor/fixes): the mechanical edits, checked with the real `git apply`, and a re-audit of the
patched app; values through variables or **kwargs are left to people; a changed file is reported, not patched."""

from __future__ import annotations

import shutil
import subprocess
import textwrap
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from auditor.fixes import write_fixes
from auditor.fixes.calls import Edit, edit_source
from auditor.model.facts import Facts
from auditor.model.results import Severity, Status
from auditor.pipeline.audit import audit
from auditor.sources.scan import contract_from_code
from tests.conftest import TODAY, catalog_for, make_deployment, make_facts

GIT = shutil.which("git") or "git"
pytestmark = pytest.mark.skipif(
    shutil.which("git") is None, reason="git is needed to check the patch the way users apply it"
)

APP = """\
from openai import OpenAI

client = OpenAI()
SETTINGS = {"temperature": 0.2}


def ask(question):
    reply = client.chat.completions.create(
        model="chat",  # the deployment
        messages=[{"role": "user", "content": question}],
        temperature=0.7,  # creative
        max_tokens=800,
    )
    return reply


def summarize(text):
    return client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": text}])


def think(problem, effort):
    return client.responses.create(model="reasoner", input=problem, reasoning_effort=effort)


def tuned(question):
    return client.chat.completions.create(model="chat", messages=[], **SETTINGS)
"""


def _repo(tmp_path: Path, source: str = APP) -> Path:
    root = tmp_path / "repo"
    (root / "app").mkdir(parents=True)
    (root / "app" / "main.py").write_text(source, encoding="utf-8")
    subprocess.run([GIT, "init", "-q"], cwd=root, check=True)
    subprocess.run([GIT, "add", "."], cwd=root, check=True)
    return root


def _tenant(contract: tuple) -> Facts:
    """chat: gpt-4o-mini, moved to o4-mini in 20 days (replacementConfig); reasoner: o4-mini."""
    chat = make_deployment("chat", model="gpt-4o-mini", version="2024-07-18")
    reasoner = make_deployment("reasoner", model="o4-mini", version="2025-04-16")
    far = TODAY + timedelta(days=400)
    entries = catalog_for(chat, reasoner, make_deployment("x", model="gpt-4o", version="2024-11-20"), deprecation=far)
    entries = (
        replace(
            entries[0],
            replacement_name="o4-mini",
            replacement_version="2025-04-16",
            replacement_auto_upgrade_start=TODAY + timedelta(days=20),
        ),
        *entries[1:],
    )
    gpt4o = make_deployment("summary-prod", model="gpt-4o", version="2024-11-20")
    return make_facts(chat, reasoner, gpt4o, catalog=entries, contract=contract)


def _audit_app(root: Path, rules, kb):
    calls, _, _ = contract_from_code(Path("app"))
    return audit(_tenant(calls), rules, kb, today=TODAY)


def test_patch_applies_with_git_and_the_reaudit_has_no_error_on_the_call(tmp_path, monkeypatch, rules, kb) -> None:
    root = _repo(tmp_path)
    monkeypatch.chdir(root)
    report = _audit_app(root, rules, kb)
    upgrade = [f for f in report.findings if f.rule_id == "AOAI-UPG-001" and f.status is Status.FAIL]
    assert sorted(f.location.line for f in upgrade if f.location) == [8, 26]  # 26: temperature via **SETTINGS
    report, summary = write_fixes(report, root / "out", root)
    (by_hand,) = [f for f in report.findings if f.rule_id == "AOAI-UPG-001" and f.location and f.location.line == 26]
    assert by_hand.evidence is not None and "patch" not in by_hand.evidence
    assert "temperature comes through **kwargs" in by_hand.evidence["fix_by_hand"]
    patch = (root / "out" / "fixes.patch").read_text(encoding="utf-8")
    assert summary.patch is not None and summary.files == ["app/main.py"] and summary.stale == []
    assert "--- a/app/main.py" in patch and "+++ b/app/main.py" in patch
    check = subprocess.run([GIT, "apply", "--check", "out/fixes.patch"], cwd=root, capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    subprocess.run([GIT, "apply", "out/fixes.patch"], cwd=root, check=True)
    fixed = (root / "app" / "main.py").read_text(encoding="utf-8")
    assert "temperature=0.7" not in fixed and "max_completion_tokens=800," in fixed
    assert 'model="chat",  # the deployment' in fixed  # formatting and comments kept
    assert 'model="summary-prod"' in fixed  # the model name the app passed, replaced by the deployment serving it
    assert 'reasoning={"effort": effort}' in fixed  # Responses takes reasoning.effort
    # unchanged: the call through **SETTINGS
    assert "**SETTINGS)" in fixed and 'SETTINGS = {"temperature": 0.2}' in fixed
    after = _audit_app(root, rules, kb)
    errors = [f for f in after.findings if f.status is Status.FAIL and f.severity is Severity.ERROR]
    assert [f for f in errors if f.location and f.location.line in (8, 18, 22)] == []
    assert [
        f.status for f in after.findings if f.rule_id == "AOAI-UPG-001" and f.location and f.location.line == 8
    ] == [Status.PASS]


def test_each_finding_carries_its_hunk(tmp_path, monkeypatch, rules, kb) -> None:
    root = _repo(tmp_path)
    monkeypatch.chdir(root)
    report, summary = write_fixes(_audit_app(root, rules, kb), root / "out", root)
    hunks = {f.rule_id: f.evidence["patch"] for f in report.findings if f.evidence and f.evidence.get("patch")}
    assert "-        max_tokens=800," in hunks["AOAI-UPG-001"]
    assert '+    return client.chat.completions.create(model="summary-prod"' in hunks["AOAI-DEPLOY-003"]
    assert summary.calls_fixed == 3 and (report.summary().fixes or {})["apply"] == "git apply fixes.patch"


def test_a_parameter_through_kwargs_is_left_to_people(tmp_path, monkeypatch, rules, kb) -> None:
    source = APP.replace("**SETTINGS)", "**SETTINGS)  # noqa").replace(
        'model="chat", messages=[], **SETTINGS', 'model="reasoner", messages=[], **SETTINGS'
    )
    source = source.replace('SETTINGS = {"temperature": 0.2}', 'SETTINGS = {"temperature": 0.2}\nKW = {}')
    root = _repo(tmp_path, source)
    monkeypatch.chdir(root)
    edited, by_hand, missing = edit_source(source, {27: (Edit("drop", "temperature"),)})
    assert edited == source and missing == set()
    assert "temperature comes through **kwargs" in by_hand[27][0]


def test_a_file_changed_since_the_scan_is_reported_not_patched(tmp_path, monkeypatch, rules, kb) -> None:
    root = _repo(tmp_path)
    monkeypatch.chdir(root)
    report = _audit_app(root, rules, kb)
    (root / "app" / "main.py").write_text("# rewritten\n\n\n" + APP, encoding="utf-8")  # every call moved down
    report, summary = write_fixes(report, root / "out", root)
    assert summary.patch is None and not (root / "out" / "fixes.patch").exists()
    assert any("app/main.py:8: no SDK call starts there any more" in s for s in summary.stale)
    assert (report.summary().fixes or {})["stale"] == summary.stale


def test_edits_keep_everything_else_byte_for_byte() -> None:
    source = textwrap.dedent(
        """\
        r = client.chat.completions.create(model="m", temperature=0.7, top_p=0.9)  # keep me
        s = client.chat.completions.create(
            model="m",
            logit_bias={1: 2},
        )
        t = client.chat.completions.create(model="m", reasoning={"effort": "low"})
        """
    )
    edits = {
        1: (Edit("drop", "temperature"), Edit("drop", "top_p")),
        2: (Edit("drop", "logit_bias"),),
        6: (Edit("reasoning_to_effort", "reasoning"),),
    }
    edited, by_hand, missing = edit_source(source, edits)
    assert (by_hand, missing) == ({}, set())
    assert edited == textwrap.dedent(
        """\
        r = client.chat.completions.create(model="m")  # keep me
        s = client.chat.completions.create(
            model="m",
        )
        t = client.chat.completions.create(model="m", reasoning_effort="low")
        """
    )


def test_a_model_name_through_a_constant_is_left_to_people() -> None:
    source = 'NAME = "gpt-4o"\nclient.chat.completions.create(model=NAME)\n'
    edited, by_hand, _ = edit_source(source, {2: (Edit("set_model", "gpt-4o", "summary-prod"),)})
    assert edited == source and "set it to 'summary-prod' where it is defined" in by_hand[2][0]


# --- plan files ------------------------------------------------------------------------------------------

PLANS = Path(__file__).resolve().parent / "fixtures" / "plans"


def test_plan_edits_from_what_the_rule_judged(rules) -> None:
    from auditor.fixes.iac import PlanEdit
    from auditor.fixes.iac import edits_for as edits_of_kind

    def edits_for(rule_id: str, fix: dict) -> list[PlanEdit]:  # the edit kind each rule declares in its YAML
        return edits_of_kind(next(r for r in rules if r.id == rule_id).fix.get("iac"), fix)

    fix = {
        "model_version": "2024-08-06",
        "default_version": "2024-11-20",
        "version_offered": True,
        "sku_name": "Standard",
        "skus": ["GlobalStandard", "DataZoneStandard"],
        "sku_capacity": 50,
        "quota_excess": 12.5,
        "quota_sharing": 1,
    }
    assert edits_for("AOAI-PLAN-004", fix) == [PlanEdit("version", "2024-08-06", "2024-11-20")]
    assert edits_for("AOAI-PLAN-001", fix) == [PlanEdit("sku", "Standard", "GlobalStandard")]
    assert edits_for("AOAI-PLAN-001", dict(fix, version_offered=False)) == [
        PlanEdit("version", "2024-08-06", "2024-11-20")
    ]
    assert edits_for("AOAI-PLAN-005", fix) == [PlanEdit("capacity", "50", "37")]
    assert edits_for("AOAI-PLAN-005", dict(fix, quota_sharing=2)) == []  # which one to shrink is a choice for people
    assert edits_for("AOAI-PLAN-002", fix) == []


def test_arm_json_and_terraform_blocks_are_edited_in_place(tmp_path: Path) -> None:
    from auditor.fixes.iac import PlanEdit, edit_plan_file, find_terraform_block

    arm = (PLANS / "arm-template.json").read_text(encoding="utf-8")
    line = arm.splitlines().index("    {", 20) + 1  # the gpt-4.1-mini resource (sku capacity is a parameter)
    edited, by_hand = edit_plan_file(
        arm, "arm", line, [PlanEdit("version", "2025-04-14", "2025-05-01"), PlanEdit("capacity", "250", "10")]
    )
    assert edited.replace('"version": "2025-05-01"', '"version": "2025-04-14"', 1) == arm
    assert by_hand == [
        "the capacity is the ARM expression [parameters('miniCapacity')]: set the capacity to 10 (was 250) by hand"
    ]
    tf = tmp_path / "infra" / "main.tf"
    tf.parent.mkdir()
    tf.write_text(
        textwrap.dedent(
            """\
            resource "azurerm_cognitive_deployment" "chat" {
              name                 = "chat-swc" # the app's deployment
              cognitive_account_id = azurerm_cognitive_account.ai.id
              model {
                format  = "OpenAI"
                name    = "gpt-4o"
                version = "2024-05-13"
              }
              sku {
                name     = "Standard"
                capacity = var.capacity
              }
            }
            """
        ),
        encoding="utf-8",
    )
    found = find_terraform_block(tmp_path, "chat-swc")
    assert found == (tf, 1)
    text = tf.read_text(encoding="utf-8")
    edited, by_hand = edit_plan_file(
        text,
        "terraform-hcl",
        1,
        [
            PlanEdit("version", "2024-05-13", "2024-11-20"),
            PlanEdit("sku", "Standard", "GlobalStandard"),
            PlanEdit("capacity", "30", "20"),
        ],
    )
    assert 'version = "2024-11-20"' in edited and 'name     = "GlobalStandard"' in edited
    assert "capacity = var.capacity" in edited and by_hand == [
        "the capacity comes from var.capacity: set the capacity to 20 (was 30) by hand"
    ]
    assert find_terraform_block(tmp_path, "other") is None


def test_yaml_plan_patch_applies_and_the_reaudit_clears_the_version_findings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conftest import run_demo

    shutil.copy(PLANS / "deployments.yaml", tmp_path / "deployments.yaml")
    subprocess.run([GIT, "init", "-q"], cwd=tmp_path, check=True)
    monkeypatch.chdir(tmp_path)
    run_demo(Path("out"), "--plan", "deployments.yaml")
    patch = (tmp_path / "out" / "fixes.patch").read_text(encoding="utf-8")
    assert '-    version: "2024-05-13"' in patch and '+    version: "2024-11-20"' in patch
    assert "2024-08-06" not in patch  # chat-pinned is only info (AOAI-PLAN-004): pinning may be deliberate
    assert "-    sku: Standard\n" in patch and "+    sku: GlobalStandard\n" in patch  # what 2024-11-20 offers there
    check = subprocess.run([GIT, "apply", "--check", "out/fixes.patch"], cwd=tmp_path, capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    subprocess.run([GIT, "apply", "out/fixes.patch"], cwd=tmp_path, check=True)
    run_demo(Path("again"), "--plan", "deployments.yaml")
    import json

    again = json.loads((tmp_path / "again" / "report.json").read_text(encoding="utf-8"))
    regional = [
        f["rule_id"]
        for f in again["findings"]
        if f["target_name"].endswith("regional-4o (planned)") and f["status"] == "fail"
    ]
    assert "AOAI-PLAN-003" not in regional and "AOAI-PLAN-001" not in regional, regional


def test_html_shows_each_hunk_under_its_finding_escaped(tmp_path, monkeypatch, rules, kb) -> None:
    from auditor.render.markdown import render_markdown
    from auditor.render.templates import render_html

    root = _repo(tmp_path, APP.replace("# creative", "# <script>alert(1)</script>"))
    monkeypatch.chdir(root)
    report, _ = write_fixes(_audit_app(root, rules, kb), root / "out", root)
    html = render_html(report)
    assert "Fix in fixes.patch (git apply)" in html
    from tests.test_reports_html import page_data

    patches = [row[11] for row in page_data(html)["findings"] if row[11]]  # the page shows them as text
    assert any("-        temperature=0.7,  # <script>alert(1)</script>" in p for p in patches)
    assert "<script>alert(1)" not in html
    assert "fixes.patch" in render_markdown(report) and "git apply fixes.patch" in render_markdown(report)


def test_a_framework_call_is_left_to_people_not_called_stale() -> None:
    source = 'llm = AzureChatOpenAI(azure_deployment="chat", temperature=0.7)\n'
    edited, by_hand, missing = edit_source(source, {1: (Edit("drop", "temperature"),)})
    assert edited == source and missing == set()
    assert "not an openai SDK create/parse/stream call" in by_hand[1][0] and "drop temperature=" in by_hand[1][0]
