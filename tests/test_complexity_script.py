"""`.ci/complexity.py`: the complexity gate (no function above cyclomatic complexity 25, measured by radon)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / ".ci" / "complexity.py"

SIMPLE = "def simple(x):\n    if x:\n        return 1\n    return 0\n"


def _branchy(name: str, branches: int, indent: str = "") -> str:
    """A function of complexity 1 + branches (one `if` each)."""
    body = "".join(f"{indent}    if x == {i}:\n{indent}        return {i}\n" for i in range(branches))
    return f"{indent}def {name}(x):\n{body}{indent}    return -1\n"


def _run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True, timeout=120, check=False
    )


def test_a_function_above_25_is_listed_with_file_line_and_complexity_and_fails(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(SIMPLE + "\n\n" + _branchy("at_limit", 24) + "\n\nclass K:\n" + _branchy("tangled", 30, "    "))
    result = _run(tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    line = 1 + (SIMPLE + "\n\n" + _branchy("at_limit", 24) + "\n\nclass K:\n").count("\n")
    assert result.stdout.splitlines() == [f"{sample}:{line} K.tangled 31"]


def test_nothing_above_the_limit_is_one_summary_line_and_passes(tmp_path: Path) -> None:
    (tmp_path / "sample.py").write_text(SIMPLE + "\n\n" + _branchy("at_limit", 24))
    result = _run(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == [
        f"complexity: 2 functions in 1 files, none above 25 (highest 25: {tmp_path / 'sample.py'}:7 at_limit)"
    ]
    assert _run(tmp_path, "--max", "24").returncode == 1
