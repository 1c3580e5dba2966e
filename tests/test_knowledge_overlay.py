"""Knowledge the user owns: an overlay (`--knowledge FILE`, or the per-user one) states facts over the packaged
knowledge base and changes nothing else; `audit kb` shows each fact's layer; `kb refresh --write` writes the
overlay, never the installed package; an older retirement schedule is refused unless --allow-older."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml

from auditor.cli import main
from auditor.knowledge.base import load_knowledge
from auditor.util.resources import data_dir
from tests.conftest import run_demo

ROOT = Path(__file__).resolve().parents[1]
SCHEDULE = ROOT / "tests" / "fixtures" / "kb" / "retirement-schedule-2026-10-05.md"
SOON = date.today() + timedelta(days=20)
# a check newer than the packaged knowledge base's, whatever day the tests run on
CHECKED = max(date.today(), load_knowledge().checked + timedelta(days=1))

OVERLAY = f"""\
checked: {CHECKED}
sources:
  ACME-NOTE: {{title: "Our account team's retirement notice for gpt-4.1", ref: "https://learn.microsoft.com/azure/foundry/openai/concepts/model-retirement-schedule", published: {date.today()}}}
models:
  gpt-4.1:
    facts:
      retirement:
        value:
          "2025-04-14": {{retires: {SOON}, replacement: gpt-5.2, status: Deprecated}}
        sources: [ACME-NOTE]
        checked: {CHECKED}
"""


@pytest.fixture()
def overlay(tmp_path: Path) -> Path:
    path = tmp_path / "overlay.yaml"
    path.write_text(OVERLAY)
    return path


def _facts(kb) -> dict[tuple[str, str], object]:
    return {(m, k): replace(f, layer="") for m, e in kb.models.items() for k, f in e.facts.items()}


def test_the_overlay_changes_the_facts_it_states_and_nothing_else(overlay: Path) -> None:
    packaged, layered = load_knowledge(), load_knowledge(overlay=overlay)
    before, after = _facts(packaged), _facts(layered)
    assert before.keys() == after.keys()
    assert [key for key in before if before[key] != after[key]] == [("gpt-4.1", "retirement")]
    assert layered.models["gpt-4.1"].facts["retirement"].layer == str(overlay)
    assert layered.models["gpt-4.1"].facts["apis"].layer == "packaged"
    assert layered.checked == CHECKED > packaged.checked  # AOAI-LIFE-011 reads the newest layer's date
    assert [layer.name for layer in layered.layers] == ["packaged", str(overlay)]


def test_audit_with_an_overlay_changes_only_the_findings_of_what_it_states(tmp_path: Path, overlay: Path) -> None:
    assert run_demo(tmp_path / "plain", "--format", "json") == 1
    assert run_demo(tmp_path / "layered", "--format", "json", "--knowledge", str(overlay)) == 1
    plain = json.loads((tmp_path / "plain" / "report.json").read_text())
    layered = json.loads((tmp_path / "layered" / "report.json").read_text())

    def findings(report) -> set[tuple[str, object, str, str]]:
        return {
            (f["rule_id"], (f["account_id"], f["deployment"]), f["status"], f["message"]) for f in report["findings"]
        }

    changed = findings(plain) ^ findings(layered)
    assert changed, "the overlay's retirement date must show"
    gpt41 = {(d["account_id"], d["name"]) for d in plain["deployments"] if d["model_name"] == "gpt-4.1"}
    where = {f[1] for f in changed if f[0] != "AOAI-LIFE-011"}  # LIFE-011: the knowledge base's own age
    assert where and where <= gpt41, f"only gpt-4.1's deployments change, not {where - gpt41}"
    assert any(str(SOON) in f[3] for f in findings(layered) - findings(plain))
    assert layered["knowledge_checked"] == str(CHECKED)


def test_audit_kb_shows_the_layer_of_each_fact(overlay: Path, capsys) -> None:
    assert main(["kb", "gpt-4.1", "--knowledge", str(overlay)]) == 0
    out = capsys.readouterr().out
    assert f"layer {overlay}" in out
    line = next(x for x in out.splitlines() if x.strip().startswith("retirement:"))
    assert f"[layer {overlay}]" in line and "ACME-NOTE" in line
    assert main(["kb", "gpt-4.1", "--knowledge", str(overlay), "--format", "json"]) == 0
    facts = json.loads(capsys.readouterr().out)["models"]["gpt-4.1"]["facts"]
    assert facts["retirement"]["layer"] == str(overlay) and facts["apis"]["layer"] == "packaged"


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        (OVERLAY.replace("sources: [ACME-NOTE]", "sources: [NOPE]"), ":10: gpt-4.1.retirement: unknown source 'NOPE'"),
        (
            OVERLAY.replace(f"        checked: {CHECKED}\n", ""),
            ":7: gpt-4.1.retirement: an overlay fact needs `checked",
        ),
        (OVERLAY.replace("      retirement:", "      retirment:"), ":7: gpt-4.1: unknown fact 'retirment'"),
        (OVERLAY + "extra: 1\n", ":12: unknown key 'extra'"),
    ],
)
def test_a_bad_overlay_is_one_line_naming_file_and_line(tmp_path: Path, capsys, text: str, complaint: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    assert main(["kb", "--knowledge", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"audit: error: {path}") and complaint in err and err.count("\n") == 1


def _tree_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(root)).encode() + path.read_bytes())
    return digest.hexdigest()


def test_refresh_write_goes_to_the_per_user_overlay_and_leaves_the_package_untouched(tmp_path: Path, capsys) -> None:
    page = tmp_path / "schedule.md"
    page.write_text(SCHEDULE.read_text().replace("ms.date: 10/05/2026", "ms.date: 12/01/2026"))
    package = data_dir("rules")
    before = _tree_digest(package)
    data = Path(os.environ["AOAI_AUDITOR_DATA_DIR"]) / "knowledge.yaml"
    data.unlink(missing_ok=True)
    try:
        assert main(["kb", "refresh", "--from-docs", str(page), "--write"]) == 0
        out = capsys.readouterr().out
        assert f"Wrote {data}" in out
        assert _tree_digest(package) == before, "the installed package is never written"
        written = yaml.safe_load(data.read_text())
        assert written["sources"]["MS-T5"]["published"] == date(2026, 12, 1)
        assert written["checked"] == date.today()
        # the next audit reads it: the newest check date across layers is the overlay's
        assert load_knowledge(overlay=data).checked == date.today()
        # and the same page again is no longer newer than what the knowledge base cites
        assert main(["kb", "refresh", "--from-docs", str(page), "--write"]) == 0
        again = capsys.readouterr().out
        assert "Wrote" not in again and ("already holds these facts" in again or "already agrees" in again)
    finally:
        data.unlink(missing_ok=True)


def test_an_older_schedule_is_refused_naming_both_revisions_unless_allowed(tmp_path: Path, capsys) -> None:
    page = tmp_path / "old.md"
    page.write_text(SCHEDULE.read_text().replace("ms.date: 10/05/2026", "ms.date: 07/07/2026"))
    overlay = tmp_path / "overlay.yaml"
    args = ["kb", "refresh", "--from-docs", str(page), "--knowledge", str(overlay), "--write"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "revision 2026-07-07" in err and "MS-T5 (revision 2026-10-05)" in err and err.count("\n") == 1
    assert not overlay.exists()
    assert main([*args, "--allow-older", "--checked", "2026-12-07"]) == 0
    out = capsys.readouterr().out
    assert "MS-T5 revision 2026-10-05" in out  # the diff's header names both sides
    assert "revision 2026-07-07" in out
