"""A rule's behaviour is data in its YAML (issue 22): its fix (the edit kind auditor/fixes makes), its probe
advice (remediation_by cases) and the gate's waiver rules; every rule a report can name has a page without
placeholders and `audit rules explain` answers for it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from auditor.cli import main
from auditor.engine.policy import load_policy
from auditor.engine.rules import every_rule, load_rules
from auditor.fixes import _CODE_EDITS
from auditor.fixes.iac import IAC_EDITS
from auditor.render.docs import rule_page
from tests.update_docs import PAGES

ROOT = Path(__file__).resolve().parents[1]
BASELINE_POLICY = ROOT / "rules" / "policies" / "azure-baseline.yaml"
PLACEHOLDER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*\}")


def _prose(page: str) -> str:
    """The page without its fenced code examples (code may hold braces of its own)."""
    return re.sub(r"^```.*?^```", "", page, flags=re.MULTILINE | re.DOTALL)


def test_no_generated_page_shows_a_placeholder() -> None:
    pages = sorted(PAGES.glob("*.md"))
    assert len(pages) >= len(every_rule())
    shown = {p.name: PLACEHOLDER.findall(_prose(p.read_text(encoding="utf-8"))) for p in pages}
    assert {name: found for name, found in shown.items() if found} == {}


def test_policy_rule_pages_show_no_placeholder_either() -> None:
    for rule in load_policy(BASELINE_POLICY).rules():
        assert PLACEHOLDER.findall(_prose(rule_page(rule))) == [], rule.id


def _report_rule_ids() -> list[str]:
    """Every rule id a report can contain: the built-in rules (probe rules among them), the gate's waiver rules,
    and the rules a policy compiles to."""
    return sorted({r.id for r in every_rule()} | {r.id for r in load_policy(BASELINE_POLICY).rules()})


def test_the_report_rule_ids_cover_every_kind() -> None:
    ids = _report_rule_ids()
    assert {"AOAI-WAIVER-001", "AOAI-WAIVER-002", "AOAI-PROBE-004", "AOAI-API-001"} <= set(ids)
    assert any(i.startswith("POLICY-") for i in ids)


@pytest.mark.parametrize("rule_id", _report_rule_ids())
def test_audit_rules_explain_answers_for_every_rule_a_report_can_name(rule_id: str, capsys) -> None:
    assert main(["rules", "explain", rule_id, "--policy", str(BASELINE_POLICY)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"# {rule_id}: ")
    assert PLACEHOLDER.findall(_prose(out)) == []


def test_waiver_rules_explain_without_a_policy(capsys) -> None:
    assert main(["rules", "explain", "AOAI-WAIVER-001"]) == 0
    assert (PAGES / "AOAI-WAIVER-001.md").read_text(encoding="utf-8") == capsys.readouterr().out


def test_waiver_rules_are_not_audit_rules() -> None:
    """They judge the waivers file after the audit: `audit rules` and the README list only the audit's rules."""
    assert not any(r.id.startswith("AOAI-WAIVER-") for r in load_rules())


def test_declared_fix_kinds_are_the_ones_fixes_makes() -> None:
    declared = [(r.id, r.fix) for r in every_rule() if r.fix]
    assert {kind for _, fix in declared for key, kind in fix.items() if key == "code"} == set(_CODE_EDITS)
    assert {kind for _, fix in declared for key, kind in fix.items() if key == "iac"} == set(IAC_EDITS)


def test_no_rule_id_in_the_fixes_package() -> None:
    for path in (ROOT / "auditor" / "fixes").glob("*.py"):
        assert re.findall(r"AOAI-[A-Z]+-\d+", path.read_text(encoding="utf-8")) == [], path.name


def test_probe_advice_lives_in_the_rules_not_in_the_classifier() -> None:
    classifier = (ROOT / "auditor" / "probes" / "classify.py").read_text(encoding="utf-8")
    assert "Cognitive Services OpenAI User" not in classifier and "hint=" not in classifier
    (auth,) = [r for r in load_rules() if r.id == "AOAI-PROBE-004"]
    assert auth.remediation_by is not None and auth.remediation_by["field"] == "probe.remedy"


def test_the_waiver_document_carries_exactly_the_declared_fields() -> None:
    from datetime import date

    from auditor.engine.fields import GATE_FIELDS
    from auditor.gating.waivers import Waiver, _document

    waiver = Waiver("t/*", "why", "me@example.com", date(2026, 1, 1), "w.yaml", 3, rule="AOAI-LIFE-001")
    document = _document(waiver, date(2026, 12, 1), used=False, covered=2)
    assert sorted(document["waiver"]) == sorted(GATE_FIELDS["waiver"]["waiver"]) and list(document) == ["waiver"]


def test_the_contributing_guides_example_rule_loads(tmp_path: Path) -> None:
    """The worked example in CONTRIBUTING.md is a valid rule: schema, fields and all."""
    from textwrap import dedent

    from auditor.engine.rules import load_rule_file

    text = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    block = text.split("   ```yaml\n", 1)[1].split("   ```\n", 1)[0]
    pack = tmp_path / "example.yaml"
    pack.write_text(
        "apiVersion: auditor/v1\nrules:\n" + "".join("  " + line for line in dedent(block).splitlines(True))
    )
    (rule,) = load_rule_file(pack)
    assert rule.id == "AOAI-DEPLOY-007" and rule.applies_to == "account"


def test_the_fields_reference_page_is_current() -> None:
    from auditor.render.docs import fields_reference
    from tests.update_docs import COMMAND, FIELDS

    assert FIELDS.read_text(encoding="utf-8") == fields_reference(), (
        f"docs/reference/rule-fields.md is stale: run `{COMMAND}`"
    )
    assert "- `model.retirement.days_left`" in fields_reference() and "## waiver" in fields_reference()
