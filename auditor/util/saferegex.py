"""Regular expressions that come from input (a rule's `match`/`notMatch`, a policy's naming convention) run
on RE2, a linear-time engine: no pattern can backtrack for ever (`(((.*)*)*)*X` matches in microseconds),
and memory is capped. A pattern is validated by compiling it exactly as it will be evaluated, so one that
validates never raises later (RE2 accepts `(?i)` anywhere; it refuses look-around and back-references,
which the validation reports)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import re2

MAX_PATTERN = 1_000
MAX_MEMORY = 8 * 1024 * 1024

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # RE2 would print its own complaint to stderr; ours names the file and line
_OPTIONS.max_mem = MAX_MEMORY


class PatternError(ValueError):
    """A pattern RE2 refuses (or one too long); the message says why."""


@lru_cache(maxsize=512)
def compile_bounded(pattern: str) -> Any:
    """The compiled pattern; PatternError when RE2 refuses it."""
    if len(pattern) > MAX_PATTERN:
        raise PatternError(f"longer than {MAX_PATTERN:,} characters")
    try:
        return re2.compile(pattern, options=_OPTIONS)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        text = reason.decode("utf-8", "replace") if isinstance(reason, bytes) else str(reason)
        raise PatternError(f"{text} (patterns run on RE2: no look-around or back-references)") from None


def search(pattern: str, text: str) -> bool:
    """Whether `pattern` matches anywhere in `text`, in linear time."""
    return compile_bounded(pattern).search(text) is not None


def is_valid(pattern: object) -> bool:
    """For JSON Schema's `format: regex`: valid when RE2 compiles it, as it will be evaluated."""
    if not isinstance(pattern, str):
        return True
    try:
        compile_bounded(pattern)
    except PatternError:
        return False
    return True


def format_checker() -> Any:
    """jsonschema's format checker with `regex` checked by RE2 (the engine that evaluates it)."""
    import jsonschema

    checker = jsonschema.FormatChecker()
    checker.checkers["regex"] = (is_valid, ())
    return checker
