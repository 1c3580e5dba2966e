"""Everything shipped cites public sources only: no path into the team's workbench (shared/), no seed
documents, no machine paths. Checked over the package, the rules and knowledge base, the report templates,
README and the documentation site."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = (
    "auditor",
    "rules",
    "reports",
    "docs",
    "README.md",
    "CONTRIBUTING.md",
    "CHANGELOG.md",
    "mkdocs.yml",
    "pyproject.toml",
)
TEXT = {".py", ".yaml", ".yml", ".json", ".j2", ".html", ".md", ".txt", ".toml", ".css", ".js"}
FORBIDDEN = re.compile(
    r"(?<![\w.-])shared/"  # the workbench folder (shared/reference/..., shared/seeds/...)
    r"|\bseeds?/"  # seed documents
    r"|\bseed (?:guide|document|compat|note)s?\b"
    r"|(?-i:\bSEED(?:-R)?\b)"  # the knowledge base's old source keys for them
    r"|azure-wire\b"  # the workbench's wire reference
    r"|/work/|/home/\w|/Users/\w|/root/|[A-Za-z]:\\\\Users",  # machine paths
    re.IGNORECASE,
)


def _shipped() -> list[Path]:
    files: list[Path] = []
    for name in SHIPPED:
        path = ROOT / name
        if path.is_file():
            files.append(path)
        elif path.is_dir():
            files += [p for p in path.rglob("*") if p.is_file() and p.suffix in TEXT and "__pycache__" not in p.parts]
    return files


def test_nothing_shipped_refers_to_the_workbench_seeds_or_machine_paths() -> None:
    files = _shipped()
    assert len(files) > 100  # the walk found the package, not an empty folder
    hits = []
    for path in files:
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            match = FORBIDDEN.search(line)
            if match:
                hits.append(f"{path.relative_to(ROOT)}:{number}: {match.group(0)!r} in {line.strip()[:120]}")
    assert hits == [], "references to non-public material:\n" + "\n".join(hits)


def test_the_pattern_catches_what_it_is_for() -> None:
    for text in (
        "see shared/reference/models.md",
        "ref: shared/seeds/compat-guide.md",
        "The seed guide's own calling pattern",
        "follows /work/shared/reference/azure-wire.md",
        "sources: [SEED]",
        "/home/alice/notes.md",
    ):
        assert FORBIDDEN.search(text), text
    for text in ("seed: {}", "random.Random(seed)", "the request's seed parameter", "tests/shared_app/x.py"):
        assert not FORBIDDEN.search(text), text
