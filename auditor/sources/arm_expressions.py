"""The small, pure part of the ARM template language a plan needs: parameters(), variables(), concat(),
format(), toLower(), toUpper(), string(), int(), string and number literals, and `.property` / `[index]`.

A template comes from a pull request, so evaluation is bounded: each variable and parameter is evaluated
once (a `variables()` doubling chain is not re-evaluated exponentially), every value is at most
MAX_VALUE long, calls nest at most MAX_DEPTH deep and a template gets MAX_STEPS evaluation steps in all.
Going past a bound, or calling a function on arguments it cannot take (`int('x')`, `format('{3}')`), is
an ExpressionError, which the plan reader reports as bad input naming the file and line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

MAX_VALUE = 1_000_000
"""Characters (or list items) in one evaluated value."""
MAX_DEPTH = 128
"""Nested function calls, counted through the variables they refer to."""
MAX_VARIABLE_DEPTH = 64
"""Variables (and parameters) referring to variables."""
MAX_STEPS = 200_000
"""Function calls and literals evaluated for the whole template."""
MAX_PRODUCED = 20_000_000
"""Characters (and list items) all function calls of a template may produce together."""


class Unresolvable(Exception):
    """An ARM expression this reader does not evaluate; the message says which."""


class ExpressionError(Exception):
    """An ARM expression that is wrong or too large to evaluate: bad input, not an unknown value."""


_TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:[^']|'')*')|(?P<number>-?\d+)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<punct>[(),.\[\]]))"
)
_FORMAT_ITEM = re.compile(r"\{(\d+)(?::[^}]*)?\}")
_MISSING = object()


class Expression:
    """Evaluates expressions of one template; variables and parameter defaults are evaluated once each."""

    def __init__(self, template: Mapping[str, Any]) -> None:
        parameters = template.get("parameters") or {}
        variables = template.get("variables") or {}
        self.parameters = parameters if isinstance(parameters, Mapping) else {}
        self.variables = variables if isinstance(variables, Mapping) else {}
        self._stack: list[str] = []
        self._memo: dict[tuple[str, str], Any] = {}
        self._steps = 0
        self._depth = 0
        self._produced = 0

    def value(self, raw: Any) -> Any:
        if isinstance(raw, str) and raw.startswith("[") and raw.endswith("]") and not raw.startswith("[["):
            return self.expression(raw[1:-1].strip(), raw)
        if isinstance(raw, str) and raw.startswith("[["):
            return raw[1:]
        if isinstance(raw, Mapping):
            return {k: self.value(v) for k, v in raw.items()}
        if isinstance(raw, list):
            return [self.value(v) for v in raw]
        return raw

    def expression(self, text: str, original: str) -> Any:
        tokens = [(m.lastgroup, m.group(m.lastgroup or 0)) for m in _TOKEN.finditer(text)]
        if "".join(t[1] for t in tokens).replace(" ", "") != text.replace(" ", ""):
            raise Unresolvable(f"{_short(original)} is not an expression this reader understands")
        self._tokens, self._pos, self._original = tokens, 0, original
        result = self._call_or_literal()
        if self._pos != len(tokens):
            raise Unresolvable(f"{_short(original)} is not an expression this reader understands")
        return result

    def _peek(self) -> tuple[str | None, str | None]:
        return self._tokens[self._pos] if self._pos < len(self._tokens) else (None, None)

    def _take(self, expected: str | None = None) -> str:
        _kind, text = self._peek()
        if text is None or (expected is not None and text != expected):
            raise Unresolvable(f"{_short(self._original)} is not an expression this reader understands")
        self._pos += 1
        return text

    def _step(self) -> None:
        self._steps += 1
        if self._steps > MAX_STEPS:
            raise ExpressionError(f"the template's expressions take more than {MAX_STEPS:,} steps to evaluate")

    def _call_or_literal(self) -> Any:
        self._step()
        kind, text = self._peek()
        if kind == "string" and text is not None:
            self._pos += 1
            return text[1:-1].replace("''", "'")
        if kind == "number" and text is not None:
            self._pos += 1
            return _int(text)
        if kind != "name":
            raise Unresolvable(f"{_short(self._original)} is not an expression this reader understands")
        spelled = self._take()
        name = spelled.lower()
        if name in ("true", "false") and self._peek()[1] != "(":
            return name == "true"
        self._take("(")
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise ExpressionError(f"{_short(self._original)} nests function calls more than {MAX_DEPTH} deep")
            args = []
            while self._peek()[1] != ")":
                args.append(self._call_or_literal())
                if self._peek()[1] == ",":
                    self._take(",")
            self._take(")")
            result = self._bounded(self._apply(name, args, spelled))
        finally:
            self._depth -= 1
        while self._peek()[1] in (".", "["):
            if self._take() == ".":
                prop = self._take()
                if not isinstance(result, Mapping) or prop not in result:
                    raise Unresolvable(f"{_short(self._original)}: no property {prop!r}")
                result = result[prop]
            else:
                index = self._call_or_literal()
                self._take("]")
                try:
                    result = result[index]
                except (KeyError, IndexError, TypeError):
                    raise Unresolvable(f"{_short(self._original)}: no element {_short(repr(index))}") from None
        return result

    def _apply(self, name: str, args: list[Any], spelled: str) -> Any:
        if name == "parameters":
            return self._named(
                self.parameters,
                args,
                "parameter",
                _parameter_default,
            )
        if name == "variables":
            return self._named(self.variables, args, "variable", lambda spec: spec)
        if name == "concat":
            if all(isinstance(a, list) for a in args):
                _fits(sum(len(a) for a in args), self._original)
                return [x for a in args for x in a]
            _fits(sum(len(str(a)) for a in args if isinstance(a, str)), self._original)
            return "".join(_text(a, self._original) for a in args)
        if name == "format" and args:
            return _format(args, self._original)
        if name in ("tolower", "toupper") and len(args) == 1:
            text = _text(args[0], self._original)
            return text.lower() if name == "tolower" else text.upper()
        if name == "string" and len(args) == 1:
            return _text(args[0], self._original)
        if name == "int" and len(args) == 1:
            try:
                return _int(args[0])
            except (TypeError, ValueError, OverflowError):
                raise ExpressionError(
                    f"{_short(self._original)}: int() of {_short(repr(args[0]))} is not a number"
                ) from None
        raise Unresolvable(f"{_short(self._original)} uses {spelled}(), which is only known at deployment time")

    def _bounded(self, value: Any) -> Any:
        if isinstance(value, (str, list)):
            _fits(len(value), self._original)
            self._produced += len(value)
            if self._produced > MAX_PRODUCED:
                raise ExpressionError(
                    f"the template's expressions produce more than {MAX_PRODUCED:,} characters in all"
                )
        return value

    def _named(self, table: Mapping[str, Any], args: list[Any], what: str, pick: Callable[[Any], Any]) -> Any:
        if len(args) != 1 or not isinstance(args[0], str):
            raise Unresolvable(f"{_short(self._original)}: {what}s() needs one name")
        key = next((k for k in table if str(k).lower() == args[0].lower()), None)
        if key is None:
            raise Unresolvable(f"{_short(self._original)}: the template has no {what} {_short(repr(args[0]))}")
        memo = self._memo.get((what, key), _MISSING)
        if isinstance(memo, Unresolvable):
            raise memo
        if memo is not _MISSING:
            return memo
        raw = pick(table[key])
        if raw is None:
            raise Unresolvable(f"{what} {key!r} has no default value (it is given at deployment time)")
        if key in self._stack:
            raise Unresolvable(f"{what} {key!r} refers to itself")
        if len(self._stack) >= MAX_VARIABLE_DEPTH:
            raise ExpressionError(f"{what}s refer to {what}s more than {MAX_VARIABLE_DEPTH} deep")
        self._stack.append(key)
        saved = (self._tokens, self._pos, self._original)
        try:
            result = self.value(raw)
        except Unresolvable as exc:
            self._memo[(what, key)] = exc
            raise
        finally:
            self._tokens, self._pos, self._original = saved
            self._stack.pop()
        self._memo[(what, key)] = result
        return result


def _short(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _fits(size: int, original: str) -> None:
    if size > MAX_VALUE:
        raise ExpressionError(f"{_short(original)} evaluates to more than {MAX_VALUE:,} characters or items")


def _text(value: Any, original: str) -> str:
    """str() of a value, bounded before it is built (a huge int or a nested structure is refused)."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**1000:
        raise ExpressionError(f"{_short(original)}: a number too long to write out")
    if isinstance(value, (Mapping, list)):
        raise Unresolvable(f"{_short(original)}: an object or array where text is expected")
    return str(value)


def _int(value: Any) -> int:
    if isinstance(value, str) and len(value.strip()) > 1000:
        raise ValueError("too many digits")
    return int(value)


def _format(args: list[Any], original: str) -> str:
    template = _text(args[0], original)

    def item(match: re.Match[str]) -> str:
        index = int(match.group(1)) + 1 if len(match.group(1)) < 6 else len(args)
        if index >= len(args):
            raise ExpressionError(f"{_short(original)}: format() has no argument {{{match.group(1)}}}")
        return _text(args[index], original)

    result = _FORMAT_ITEM.sub(item, template)
    _fits(len(result), original)
    return result


_SECURE = {"securestring", "secureobject"}


def _parameter_default(spec: Any) -> Any:
    """A parameter's default value; a secure one's (securestring, secureobject) is never read, so it can
    never reach a name, a message or a report."""
    if not isinstance(spec, Mapping):
        return None
    if str(spec.get("type") or "").lower() in _SECURE:
        raise Unresolvable("the parameter is secure (its value is given at deployment time and never printed)")
    return spec.get("defaultValue")
