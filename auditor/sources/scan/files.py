"""Walking the scanned tree safely: regular `.py` files only, never through a symlink (so never out of the
tree), bounded in size, tests left out unless asked for. Reading opens with O_NOFOLLOW and checks the
opened file again, so a file swapped for a link or a FIFO between the walk and the read is not followed."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from auditor.model.errors import InputError
from auditor.util import inputfile

MAX_FILE_BYTES = 2_000_000
"""Larger `.py` files are generated code or data in practice; they are skipped with a note (incomplete)."""

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
    """A file to scan: where it is, how it is shown (relative to the working directory as given), its module."""

    path: Path
    display: str
    module: str


@dataclass
class Walk:
    files: list[SourceFile]
    skipped: list[str]  # not scanned although part of the app: the scan is incomplete
    notes: list[str]  # left out on purpose


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
    parts = list(relative.with_suffix("").parts)
    if parts and parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def walk(root: Path, display_root: str, include_tests: bool = False) -> Walk:
    """The `.py` files under `root` (a directory, or one file), sorted, with what was left out and why."""
    found = Walk([], [], [])
    if root.is_file():
        found.files.append(SourceFile(root, display_root, root.stem))
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
                found.notes.append(f"{_show(display_root, root, here / name)}: a symlinked directory, not followed")
                continue
            kept.append(name)
        dirs[:] = kept
        for name in sorted(files):
            if not name.endswith(".py"):
                continue
            path = here / name
            relative = path.relative_to(root)
            shown = _show(display_root, root, path)
            try:
                info = path.lstat()
            except OSError as exc:
                found.skipped.append(f"{shown}: not scanned ({type(exc).__name__}: {exc})")
                continue
            if stat.S_ISLNK(info.st_mode):
                found.notes.append(f"{shown}: a symlink, not followed")
                continue
            if not stat.S_ISREG(info.st_mode):
                found.notes.append(f"{shown}: not a regular file, not read")
                continue
            if not include_tests and is_test_file(relative.parts):
                tests_left += 1
                continue
            found.files.append(SourceFile(path, shown, _module_name(relative)))
    if tests_left:
        found.notes.append(
            f"{tests_left} test file(s) (tests/, test_*.py, conftest.py) left out; --include-tests keeps them"
        )
    return found


def _show(display_root: str, root: Path, path: Path) -> str:
    return str(Path(display_root) / path.relative_to(root)).replace(os.sep, "/")


def read_source(path: Path, limit: int = MAX_FILE_BYTES) -> str:
    """The file's text, through the one bounded reader (never through a symlink); OSError when it is not a
    regular file (anymore) or larger than `limit` (the scan skips it and says why)."""
    try:
        data = inputfile.read_bytes(path, what="source", max_bytes=limit, nofollow=True)
    except inputfile.Refused as exc:
        raise OSError(f"{exc.reason}; not scanned") from None
    return data.decode("utf-8-sig")
