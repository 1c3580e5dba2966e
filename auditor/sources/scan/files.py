"""Walking the scanned tree safely: regular files only, never through a symlink (so never out of the
tree), bounded in size, tests left out unless asked for. Reading opens with O_NOFOLLOW and checks the
opened file again, so a file swapped for a link or a FIFO between the walk and the read is not followed.

What is read: Python (`.py`), notebooks (`.ipynb`, nbformat 4: the code cells, magics and shell lines
blanked) and Prompty files (`.prompty`). Everything of the app left unread is said, with why: a symlink, a
special file, a file too large or not UTF-8, a notebook of another language, and a source file in another
language that mentions openai (the scan reads Python only)."""

from __future__ import annotations

import ast
import json
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from auditor.model.errors import InputError
from auditor.util import inputfile

MAX_FILE_BYTES = 2_000_000
"""Larger `.py` files are generated code or data in practice; they are skipped with a note (incomplete)."""
MAX_NOTEBOOK_BYTES = 20_000_000
"""Notebooks carry their outputs (images): larger ones are skipped with a note; only code cells are kept."""
KINDS = {".py": "python", ".ipynb": "notebook", ".prompty": "prompty"}
OTHER_LANGUAGES = {
    ".js": "JavaScript",
    ".mjs": "JavaScript",
    ".ts": "TypeScript",
    ".tsx": "TypeScript",
    ".cs": "C#",
    ".java": "Java",
    ".go": "Go",
    ".csx": "C#",
}
"""Source files of other languages: not read, but listed as unread when they mention openai."""
_MENTIONS_OPENAI = re.compile(rb"openai", re.I)

SKIP_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".venv",
        "venv",
        "env",
        ".env",
        "__pycache__",
        "node_modules",
        "site-packages",
        ".tox",
        ".nox",
        ".mypy_cache",
        ".pytest_cache",
        "build",
        "dist",
        ".eggs",
    }
)
TEST_DIRS = frozenset({"tests", "test", "testing"})


@dataclass(frozen=True)
class SourceFile:
    """A file to scan: where it is, how it is shown (relative to the working directory as given), its module,
    and its kind (python, notebook, prompty)."""

    path: Path
    display: str
    module: str
    kind: str = "python"


@dataclass
class Walk:
    files: list[SourceFile]
    skipped: list[str]  # not read although part of the app: the scan is incomplete
    notes: list[str]  # left out on purpose
    other: dict[str, int] = field(default_factory=dict)  # other-language sources not mentioning openai, by language


def is_test_file(parts: tuple[str, ...]) -> bool:
    """tests/ (or test/, testing/) directories, test_*.py, *_test.py and conftest.py: not calls of the app."""
    *dirs, name = parts
    return (
        any(d in TEST_DIRS for d in dirs)
        or name.startswith("test_")
        or name.endswith("_test.py")
        or name == "conftest.py"
    )


def _module_name(relative: Path) -> str:
    if relative.suffix != ".py":  # a notebook or prompty file is no importable module
        return relative.as_posix()
    parts = list(relative.with_suffix("").parts)
    if parts and parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def walk(root: Path, display_root: str, include_tests: bool = False) -> Walk:
    """The `.py` files under `root` (a directory, or one file), sorted, with what was left out and why."""
    found = Walk([], [], [])
    if root.is_file():
        if root.suffix.lower() in KINDS or not root.suffix:
            found.files.append(SourceFile(root, display_root, root.stem, KINDS.get(root.suffix.lower(), "python")))
        else:
            found.skipped.append(f"{display_root}: not read (the scan reads .py, .ipynb and .prompty files)")
        return found
    if not root.is_dir():
        raise InputError(f"{display_root}: no such file or directory to scan")
    tests_left = 0
    for directory, dirs, files in os.walk(root, followlinks=False):
        here = Path(directory)
        kept = []
        for name in sorted(dirs):
            if name in SKIP_DIRS or name.endswith(".egg-info"):
                continue
            if (here / name).is_symlink():
                found.skipped.append(
                    f"{_show(display_root, root, here / name)}: not read (a symlinked directory, not followed)"
                )
                continue
            kept.append(name)
        dirs[:] = kept
        for name in sorted(files):
            suffix = os.path.splitext(name)[1].lower()
            if suffix not in KINDS and suffix not in OTHER_LANGUAGES:
                continue
            path = here / name
            relative = path.relative_to(root)
            if not include_tests and is_test_file(relative.parts):
                tests_left += suffix in KINDS
                continue
            _add(found, path, _show(display_root, root, path), _module_name(relative), suffix)
    if tests_left:
        found.notes.append(
            f"{tests_left} test file(s) (tests/, test_*.py, conftest.py) left out; --include-tests keeps them"
        )
    return found


def _add(found: Walk, path: Path, shown: str, module: str, suffix: str) -> None:
    """One file of the tree: kept to read, or listed as unread with why."""
    try:
        info = path.lstat()
    except OSError as exc:
        found.skipped.append(f"{shown}: not read ({type(exc).__name__}: {exc})")
        return
    if stat.S_ISLNK(info.st_mode):
        found.skipped.append(
            f"{shown}: not read (a symlink, not followed: its target is read only if it is in the tree)"
        )
        return
    if not stat.S_ISREG(info.st_mode):
        found.skipped.append(f"{shown}: not read (not a regular file)")
        return
    if suffix in KINDS:
        found.files.append(SourceFile(path, shown, module, KINDS[suffix]))
        return
    language = OTHER_LANGUAGES[suffix]
    try:
        mentions = _MENTIONS_OPENAI.search(read_bytes(path, MAX_FILE_BYTES)) is not None
    except OSError:
        mentions = True  # unreadable: it may hold calls
    if mentions:
        found.skipped.append(f"{shown}: not read (a {language} source that mentions openai; the scan reads Python)")
    else:
        found.other[language] = found.other.get(language, 0) + 1


def _show(display_root: str, root: Path, path: Path) -> str:
    return str(Path(display_root) / path.relative_to(root)).replace(os.sep, "/")


def read_source(path: Path, limit: int = MAX_FILE_BYTES) -> str:
    """The file's text (a notebook's: its Python code cells, see `notebook_code`); OSError when it is not a
    regular file (anymore) or larger than `limit`."""
    if path.suffix == ".ipynb":
        return notebook_code(read_bytes(path, MAX_NOTEBOOK_BYTES).decode("utf-8-sig"))[0]
    if path.suffix == ".prompty":
        return read_bytes(path, limit).decode("utf-8-sig")
    return read_bytes(path, limit).decode("utf-8-sig")


def read_bytes(path: Path, limit: int) -> bytes:
    """The file's bytes through the one bounded reader (auditor/util/inputfile.py), never through a link; the
    reason it is refused as an OSError (the scan skips the file and says why)."""
    try:
        return inputfile.read_bytes(path, what="source", max_bytes=limit, nofollow=True)
    except inputfile.Refused as exc:
        raise OSError(f"{exc.reason}; not scanned") from None


class NotPython(ValueError):
    """A notebook (or cell) in another language: not read, and said so."""


_CELL_LANGUAGE_KEYS = (
    ("vscode", "languageId"),
    ("dotnet_interactive", "language"),
    ("polyglot_notebook", "kernelName"),
)


def notebook_code(raw: str) -> tuple[str, list[tuple[int, int]], list[str]]:
    """A notebook's code cells as one Python text (settings of earlier cells are seen by later ones, as in a
    module); per line of that text, (cell number from 1 counting every cell, line in the cell); and the code
    cells left out, with why. Magics (`%...`, `%%...` cells) and shell lines (`!...`) are blank; cells in
    another language, and cells that do not parse, are left out (and said)."""
    data = json.loads(raw)
    if not isinstance(data, dict) or data.get("nbformat") != 4 or not isinstance(data.get("cells"), list):
        raise ValueError(
            f"not an nbformat 4 notebook (nbformat {data.get('nbformat') if isinstance(data, dict) else '?'})"
        )
    metadata = _mapping(data.get("metadata"))
    kernel = _mapping(metadata.get("kernelspec")).get("language") or _mapping(metadata.get("language_info")).get("name")
    if kernel and str(kernel).lower() not in ("python", "python3", "ipython"):
        raise NotPython(f"a {kernel} notebook; the scan reads Python")
    lines: list[str] = []
    where: list[tuple[int, int]] = []
    problems: list[str] = []
    for number, cell in enumerate(data["cells"], start=1):
        kept, problem = _cell_lines(cell)
        if problem:
            problems.append(f"cell-{number}: not read ({problem})")
        for offset, text in enumerate(kept, start=1):
            lines.append(text)
            where.append((number, offset))
    return "\n".join(lines) + "\n", where, problems


def _mapping(value: object) -> dict[str, object]:
    return value if isinstance(value, dict) else {}


def _cell_lines(cell: object) -> tuple[list[str], str | None]:
    if not isinstance(cell, dict) or cell.get("cell_type") != "code":
        return [], None
    source = cell.get("source", "")
    text = "".join(source) if isinstance(source, list) else str(source)
    lines = text.splitlines()
    meta = _mapping(cell.get("metadata"))
    language = next((str(_mapping(meta.get(a))[b]) for a, b in _CELL_LANGUAGE_KEYS if b in _mapping(meta.get(a))), "")
    if language and language.lower() not in ("python", "pwsh-python"):
        return [""] * len(lines), f"a {language} cell; the scan reads Python"
    if lines and lines[0].lstrip().startswith("%%") and not lines[0].lstrip().startswith("%%python"):
        return [""] * len(lines), None  # a cell magic (%%bash, %%writefile ...): not Python
    kept = ["" if line.lstrip().startswith(("%", "!")) or line.rstrip().endswith("?") else line for line in lines]
    try:
        compile("\n".join(kept) + "\n", "<cell>", "exec", PARSE_FLAGS, dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        return [""] * len(lines), f"{type(exc).__name__}: {exc}"  # work in progress: left out, said, not fatal
    return kept, None


PARSE_FLAGS = ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
"""Notebooks `await` at the top level; a module cannot, so the flag changes nothing for `.py` files."""
