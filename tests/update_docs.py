"""Regenerate what is generated from the rule files, in one command: `python -m tests.update_docs`.

- README.md's rule list (between <!-- rules:start --> and <!-- rules:end -->);
- docs/rules/<ID>.md, one page per built-in rule, the gate's waiver rules included (pages of rules that no longer
  exist are removed);
- docs/reference/rule-fields.md, the fields a rule can read per subject kind (from auditor/model/documents.py).

tests/test_docs.py fails, naming this command, whenever either is stale.
"""

from __future__ import annotations

from pathlib import Path

from auditor.engine.rules import every_rule, load_rules
from auditor.render.docs import fields_reference, rule_pages, rules_markdown

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PAGES = ROOT / "docs" / "rules"
FIELDS = ROOT / "docs" / "reference" / "rule-fields.md"
START, END = "<!-- rules:start -->\n", "<!-- rules:end -->"
COMMAND = "python -m tests.update_docs"


def readme_text(text: str) -> str:
    head, rest = text.split(START)
    _, tail = rest.split(END)
    return head + START + rules_markdown(load_rules()) + END + tail


def update() -> list[Path]:
    """Write what changed; returns the files written or removed."""
    touched = []
    text = README.read_text(encoding="utf-8")
    if readme_text(text) != text:
        README.write_text(readme_text(text), encoding="utf-8")
        touched.append(README)
    PAGES.mkdir(parents=True, exist_ok=True)
    pages = rule_pages(every_rule())
    for name, page in pages.items():
        path = PAGES / name
        if not path.is_file() or path.read_text(encoding="utf-8") != page:
            path.write_text(page, encoding="utf-8")
            touched.append(path)
    FIELDS.parent.mkdir(parents=True, exist_ok=True)
    if not FIELDS.is_file() or FIELDS.read_text(encoding="utf-8") != fields_reference():
        FIELDS.write_text(fields_reference(), encoding="utf-8")
        touched.append(FIELDS)
    for stale in sorted(PAGES.glob("*.md")):
        if stale.name not in pages:
            stale.unlink()
            touched.append(stale)
    return touched


if __name__ == "__main__":
    for path in update():
        print(f"updated {path.relative_to(ROOT)}")
