#!/usr/bin/env python3
"""The complexity gate (issue 22): no function or method above cyclomatic complexity 25, measured by radon.

    python .ci/complexity.py [PATH ...] [--max N]      (default: auditor/, 25)

Prints every function above the limit as `file:line name complexity` and exits 1; otherwise prints a one-line
summary and exits 0. A nested function's complexity counts in the function that holds it (as `radon cc` counts
it). Module size is a smell, not a rule: it is not checked here.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from radon.complexity import cc_visit
from radon.visitors import Function

LIMIT = 25


def _blocks(path: Path) -> Iterator[tuple[str, int, int]]:
    """(name, line, complexity) of every function and method in one file."""
    for block in cc_visit(path.read_text(encoding="utf-8")):  # methods come as functions too (Class.method)
        if isinstance(block, Function):
            yield block.fullname, block.lineno, block.complexity


def _files(paths: Sequence[Path]) -> list[Path]:
    return sorted(f for p in paths for f in ([p] if p.is_file() else p.rglob("*.py")))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("paths", nargs="*", type=Path, default=[Path("auditor")])
    parser.add_argument("--max", type=int, default=LIMIT, help=f"the highest complexity allowed (default {LIMIT})")
    args = parser.parse_args(argv)
    files = _files(args.paths)
    over: list[tuple[Path, int, str, int]] = []
    count, highest = 0, ("", 0)
    for file in files:
        for name, line, complexity in _blocks(file):
            count += 1
            highest = max(highest, (f"{file}:{line} {name}", complexity), key=lambda h: h[1])
            if complexity > args.max:
                over.append((file, line, name, complexity))
    for file, line, name, complexity in sorted(over, key=lambda o: -o[3]):
        print(f"{file}:{line} {name} {complexity}")
    if over:
        print(f"{len(over)} function(s) above cyclomatic complexity {args.max}", file=sys.stderr)
        return 1
    print(
        f"complexity: {count} functions in {len(files)} files, none above {args.max} "
        f"(highest {highest[1]}: {highest[0] or 'none'})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
