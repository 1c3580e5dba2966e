"""The condition grammar, after Azure Policy's: `allOf`/`anyOf`/`not` over `field` + operator leaves.

Conditions are data. They are evaluated with three-valued logic: a field whose source could not be
read is UNKNOWN, and UNKNOWN propagates (Kleene), so an unreadable fact never turns into a pass.
String comparisons ignore case, as Azure Policy's do.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from auditor.model.unknown import UNKNOWN as UNKNOWN
from auditor.model.unknown import Unknown
from auditor.util import saferegex

Truth = bool | Unknown
_UNDECIDED: Truth = UNKNOWN


def resolve(subject: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted path; a missing key is None, an unknown branch is UNKNOWN."""
    return resolve_keys(subject, path.split("."))


def resolve_keys(subject: Mapping[str, Any], keys: Sequence[str]) -> Any:
    """`resolve` with the path already split: the hot loop of rule evaluation."""
    node: Any = subject
    for part in keys:
        if type(node) is dict or isinstance(node, dict):
            node = node.get(part)
        elif node is UNKNOWN:
            return UNKNOWN
        else:
            return None
    return node


def _fold(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value


def _equals(actual: Any, expected: Any) -> bool:
    if isinstance(actual, bool) or isinstance(expected, bool):
        return type(actual) is type(expected) and actual == expected
    if isinstance(actual, (int, float)) and isinstance(expected, (int, float)):
        return float(actual) == float(expected)
    return bool(_fold(actual) == _fold(expected))


def _contains(actual: Any, expected: Any) -> bool:
    if actual is None:
        return False
    if isinstance(actual, str):
        return isinstance(expected, str) and expected.casefold() in actual.casefold()
    if isinstance(actual, dict):
        return any(_equals(key, expected) for key in actual)
    if isinstance(actual, (list, tuple, set, frozenset)):
        return any(_equals(item, expected) for item in actual)
    return False


def _in(actual: Any, expected: Any) -> bool:
    if not isinstance(expected, (list, tuple)):
        return False
    return any(_equals(actual, item) for item in expected)


def _like(actual: Any, pattern: Any) -> bool:
    return isinstance(actual, str) and fnmatch.fnmatchcase(actual.casefold(), str(pattern).casefold())


def _match(actual: Any, pattern: Any) -> bool:
    return isinstance(actual, str) and saferegex.search(str(pattern), actual)  # RE2: linear time


def _ordered(compare: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    def check(actual: Any, expected: Any) -> bool:
        if actual is None or expected is None or isinstance(actual, bool):
            return False
        try:
            return compare(actual, expected)
        except TypeError:
            return False

    return check


def _exists(actual: Any, expected: Any) -> bool:
    present = actual is not None and actual != [] and actual != {}
    return present if expected else not present


def _intersects(actual: Any, expected: Any) -> bool:
    if not isinstance(actual, (list, tuple)) or not isinstance(expected, (list, tuple)):
        return False
    return any(_in(item, expected) for item in actual)


OPERATORS: Mapping[str, Callable[[Any, Any], bool]] = {
    "equals": _equals,
    "notEquals": lambda a, e: not _equals(a, e),
    "in": _in,
    "notIn": lambda a, e: not _in(a, e),
    "contains": _contains,
    "notContains": lambda a, e: not _contains(a, e),
    "containsAny": _intersects,
    "containsNone": lambda a, e: not _intersects(a, e),
    "like": _like,
    "notLike": lambda a, e: not _like(a, e),
    "match": _match,
    "notMatch": lambda a, e: not _match(a, e),
    "exists": _exists,
    "greater": _ordered(lambda a, e: a > e),
    "greaterOrEquals": _ordered(lambda a, e: a >= e),
    "less": _ordered(lambda a, e: a < e),
    "lessOrEquals": _ordered(lambda a, e: a <= e),
}

LOGICAL = ("allOf", "anyOf", "not")


def _against_text(name: str, raw: Any) -> Callable[[Any], bool] | None:
    """`equals`/`in` and their negations against literal text, with the literal case-folded once: what
    `_equals` and `_in` decide (only text equals text, ignoring case), without their per-call type checks.
    None for any other operator or operand."""
    if isinstance(raw, str) and name in ("equals", "notEquals"):
        folded = raw.casefold()

        def equals(actual: Any) -> bool:
            return isinstance(actual, str) and actual.casefold() == folded

        return equals if name == "equals" else lambda actual: not equals(actual)
    if isinstance(raw, (list, tuple)) and all(isinstance(v, str) for v in raw) and name in ("in", "notIn"):
        members = frozenset(v.casefold() for v in raw)

        def among(actual: Any) -> bool:
            return isinstance(actual, str) and actual.casefold() in members

        return among if name == "in" else lambda actual: not among(actual)
    return None


def _operand(subject: Mapping[str, Any], raw: Any) -> Any:
    """A literal, or `{field: path}` to compare against another fact."""
    if isinstance(raw, dict) and set(raw) == {"field"}:
        return resolve(subject, str(raw["field"]))
    return raw


def evaluate(condition: Mapping[str, Any], subject: Mapping[str, Any]) -> Truth:
    """Evaluate a validated condition against one subject document (rules keep theirs compiled)."""
    return compile_condition(condition)(subject)


def unknown_fields(condition: Mapping[str, Any], subject: Mapping[str, Any]) -> list[str]:
    """The field paths in a condition whose values are unknown: the reason behind an UNKNOWN."""
    if "allOf" in condition or "anyOf" in condition:
        key = "allOf" if "allOf" in condition else "anyOf"
        return [p for c in condition[key] for p in unknown_fields(c, subject)]
    if "not" in condition:
        return unknown_fields(condition["not"], subject)
    paths = [str(condition["field"])]
    for key, raw in condition.items():
        if key in OPERATORS and isinstance(raw, dict) and "field" in raw:
            paths.append(str(raw["field"]))
    return [p for p in paths if resolve(subject, p) is UNKNOWN]


Compiled = Callable[[Mapping[str, Any]], Truth]


def compile_condition(condition: Mapping[str, Any]) -> Compiled:
    """Turn a validated condition into a closure with its paths split and operators looked up once:
    the one implementation of the grammar, evaluated with three-valued (Kleene) logic."""
    if "allOf" in condition or "anyOf" in condition:
        every = "allOf" in condition
        parts = [compile_condition(c) for c in condition["allOf" if every else "anyOf"]]
        decisive, other = (False, True) if every else (True, False)

        def combine(subject: Mapping[str, Any]) -> Truth:
            unknown = False
            for part in parts:
                result = part(subject)
                if result is decisive:
                    return decisive
                if result is UNKNOWN:
                    unknown = True
            return UNKNOWN if unknown else other

        return combine
    if "not" in condition:
        inner = compile_condition(condition["not"])

        def negate(subject: Mapping[str, Any]) -> Truth:
            result = inner(subject)
            return UNKNOWN if result is UNKNOWN else not result

        return negate
    keys = str(condition["field"]).split(".")
    (name,) = [key for key in condition if key in OPERATORS]
    operator = OPERATORS[name]
    raw = condition[name]
    if isinstance(raw, dict) and set(raw) == {"field"}:
        other_keys = str(raw["field"]).split(".")

        def compare_fields(subject: Mapping[str, Any]) -> Truth:
            actual = resolve_keys(subject, keys)
            expected = resolve_keys(subject, other_keys)
            if actual is UNKNOWN or expected is UNKNOWN:
                return _UNDECIDED
            return operator(actual, expected)

        return compare_fields
    against = _against_text(name, raw)
    if against is not None:

        def compare_text(subject: Mapping[str, Any]) -> Truth:
            actual = resolve_keys(subject, keys)
            if actual is UNKNOWN:
                return _UNDECIDED
            return against(actual)

        return compare_text

    def compare(subject: Mapping[str, Any]) -> Truth:
        actual = resolve_keys(subject, keys)
        if actual is UNKNOWN:
            return _UNDECIDED
        return operator(actual, raw)

    return compare
