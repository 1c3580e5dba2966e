"""A progress bar for long runs, on stderr, only where a person is watching.

The CLI owns it: the pipeline reports through the `auditor.pipeline.options.Progress` protocol (add/advance) and never
writes to the terminal itself.
"""

from __future__ import annotations

import sys
import threading
from types import TracebackType
from typing import Any


class BarProgress:
    """`rich`'s bar behind the pipeline's Progress protocol; thread-safe, one task per kind of work."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self._bar = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(file=sys.stderr),
            transient=True,
        )
        self._tasks: dict[str, Any] = {}
        self._lock = threading.Lock()

    def __enter__(self) -> BarProgress:
        self._bar.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._bar.stop()

    def add(self, total: int, what: str) -> None:
        with self._lock:
            if what in self._tasks:
                task = self._tasks[what]
                self._bar.update(task, total=(self._bar.tasks[task].total or 0) + total)
            else:
                self._tasks[what] = self._bar.add_task(f"Azure {what}", total=total)

    def advance(self, what: str) -> None:
        with self._lock:
            if what in self._tasks:
                self._bar.advance(self._tasks[what])


def wants_bar(quiet: bool) -> bool:
    """A bar only for a person at a terminal: never in CI logs, pipes or with --quiet."""
    return not quiet and sys.stderr.isatty()
