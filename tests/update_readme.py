"""Regenerate the README's rule list from the rule files: `python -m tests.update_readme`."""

from pathlib import Path

from auditor.engine.rules import load_rules
from auditor.render.docs import rules_markdown

README = Path(__file__).resolve().parents[1] / "README.md"
START, END = "<!-- rules:start -->\n", "<!-- rules:end -->"

if __name__ == "__main__":
    text = README.read_text()
    head, rest = text.split(START)
    _, tail = rest.split(END)
    README.write_text(head + START + rules_markdown(load_rules()) + END + tail)
    print(f"updated {README}")
