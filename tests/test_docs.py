"""The README's rule list is generated from the rule files and kept in sync; `audit rules` and `audit kb` work."""

from __future__ import annotations

from pathlib import Path

from auditor.cli import main
from auditor.engine.rules import load_rules
from auditor.render.docs import rules_markdown

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_rule_list_matches_the_rule_files() -> None:
    text = README.read_text()
    block = text.split("<!-- rules:start -->\n")[1].split("<!-- rules:end -->")[0]
    assert block == rules_markdown(load_rules()), "README rules are stale: regenerate the block from `audit rules`"


def test_audit_rules_lists_every_rule(capsys) -> None:
    assert main(["rules"]) == 0
    out = capsys.readouterr().out
    for rule in load_rules():
        assert f"`{rule.id}`" in out


def test_audit_rules_explain(capsys) -> None:
    assert main(["rules", "explain", "AOAI-PARAM-001"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("AOAI-PARAM-001:") and "remediation:" in out and "docs: https://" in out
    assert main(["rules", "explain", "AOAI-NOPE-999"]) == 2


def test_audit_kb_shows_date_and_coverage(capsys) -> None:
    assert main(["kb"]) == 0
    out = capsys.readouterr().out
    assert "checked: 2026-" in out and "models: " in out and "disputed: " in out
