"""Whether a condition a parameter is sent under can hold for a deployment.

The code scan records a parameter set only under an `if` with the test's text, the deployment name written
`deployment` when the test is on the name the call sends (`deployment.startswith('o')`). Rules judge such a
parameter only where the condition can hold: a name test evaluated on the deployment's name says yes or no;
any other test (a flag, a setting) cannot be decided here, and a failure is then a warning, never an error.

The text is parsed with `ast` and read by a small grammar (string tests on `deployment`, comparisons, `in`,
`not`, `and`, `or`); nothing is evaluated by Python: a condition is data."""

from __future__ import annotations

import ast
from collections.abc import Callable

_STRING_TESTS: dict[str, Callable[[str, str], bool]] = {
    "startswith": str.startswith,
    "endswith": str.endswith,
    "__contains__": str.__contains__,
}
_NORMALISE: dict[str, Callable[[str], str]] = {"lower": str.lower, "casefold": str.casefold, "strip": str.strip}
_MAX_TEXT = 500


def condition_holds(text: str, deployment: str) -> bool | None:
    """True or False when the condition is a test of the deployment name; None when it cannot be told."""
    if len(text) > _MAX_TEXT:
        return None
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, ValueError, RecursionError):
        return None
    return _truth(tree.body, deployment)


def _truth(node: ast.expr, name: str) -> bool | None:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        inner = _truth(node.operand, name)
        return None if inner is None else not inner
    if isinstance(node, ast.BoolOp):
        return _bool_op(node, name)
    if isinstance(node, ast.Compare) and len(node.ops) == 1:
        return _compare(node.left, node.ops[0], node.comparators[0], name)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _STRING_TESTS:
        subject = _text(node.func.value, name)
        arguments = [_literal(a) for a in node.args]
        if subject is None or len(arguments) != 1 or node.keywords:
            return None
        argument = arguments[0]
        if isinstance(argument, str):
            return _STRING_TESTS[node.func.attr](subject, argument)
        if (
            isinstance(argument, tuple)
            and all(isinstance(a, str) for a in argument)
            and node.func.attr != "__contains__"
        ):
            return any(_STRING_TESTS[node.func.attr](subject, a) for a in argument)
    return None


def _bool_op(node: ast.BoolOp, name: str) -> bool | None:
    answers = [_truth(value, name) for value in node.values]
    if isinstance(node.op, ast.And):
        if False in answers:
            return False
        return None if None in answers else True
    if True in answers:
        return True
    return None if None in answers else False


def _compare(left: ast.expr, op: ast.cmpop, right: ast.expr, name: str) -> bool | None:
    subject, other = _text(left, name), _literal(right)
    if subject is None:  # "o1" in deployment / "o1" == deployment
        subject, other = _text(right, name), _literal(left)
        if isinstance(op, (ast.In, ast.NotIn)) and isinstance(other, str) and subject is not None:
            return (other in subject) == isinstance(op, ast.In)
    if subject is None or other is None:
        return None
    if isinstance(op, (ast.Eq, ast.NotEq)) and isinstance(other, str):
        return (subject == other) == isinstance(op, ast.Eq)
    if isinstance(op, (ast.In, ast.NotIn)) and isinstance(other, (tuple, list, set, frozenset)):
        return (subject in other) == isinstance(op, ast.In)
    return None


def _text(node: ast.expr, name: str) -> str | None:
    """The deployment name, as the test reads it (`deployment`, `deployment.lower()`)."""
    if isinstance(node, ast.Name) and node.id == "deployment":
        return name
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and not node.args:
        inner = _text(node.func.value, name)
        if inner is not None and node.func.attr in _NORMALISE:
            return _NORMALISE[node.func.attr](inner)
    return None


def _literal(node: ast.expr) -> object:
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
        return None
    return value if isinstance(value, (str, tuple, list, set, frozenset)) else None
