"""Regenerate what is generated for the documentation site, in one command: `python -m tests.update_docs`.

- docs/rules/<ID>.md, one page per built-in rule, the gate's waiver rules included (pages of rules that no longer
  exist are removed);
- docs/rules/index.md, the rule list by category, each id linking its page;
- docs/reference/cli.md, every command's arguments, from the argparse parsers;
- docs/reference/rule-fields.md, the fields a rule can read per subject kind (from auditor/model/documents.py).

tests/test_docs.py fails, naming this command, whenever any of them is stale.
"""

from __future__ import annotations

from pathlib import Path

from auditor.cli.reference import cli_reference
from auditor.engine.rules import every_rule, load_rules
from auditor.render.docs import fields_reference, rule_pages, rules_markdown

ROOT = Path(__file__).resolve().parents[1]
PAGES = ROOT / "docs" / "rules"
INDEX = PAGES / "index.md"
CLI = ROOT / "docs" / "reference" / "cli.md"
FIELDS = ROOT / "docs" / "reference" / "rule-fields.md"
COMMAND = "python -m tests.update_docs"


def rules_index() -> str:
    return (
        "# Rules\n\n"
        "<!-- Generated from the rule files by `python -m tests.update_docs`; edit the rules, not this page. -->\n\n"
        "Every built-in rule, by category. Each page says what the rule checks, why it matters, how to fix it and how "
        "to waive it; `audit rules explain ID` prints the same page, and the HTML report shows it inline.\n\n"
        + rules_markdown(load_rules(), linked=True).replace("\n### ", "\n## ").replace("### ", "## ", 1)
    )


def generated() -> dict[Path, str]:
    """Every generated file and its current text."""
    files = {PAGES / name: text for name, text in rule_pages(every_rule()).items()}
    files[INDEX] = rules_index()
    files[CLI] = cli_reference()
    files[FIELDS] = fields_reference()
    return files


def update() -> list[Path]:
    """Write what changed; returns the files written or removed."""
    touched = []
    files = generated()
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            touched.append(path)
    for stale in sorted(PAGES.glob("*.md")):
        if stale not in files:
            stale.unlink()
            touched.append(stale)
    return touched


if __name__ == "__main__":
    for path in update():
        print(f"updated {path.relative_to(ROOT)}")
