"""Mechanical edits of one openai SDK call's keyword arguments, through libcst's concrete syntax tree: only
the call's own arguments change; formatting, comments and the rest of the file stay byte for byte."""

from __future__ import annotations

import ast
from collections.abc import Mapping, Sequence

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from auditor.fixes.edit import Edit as Edit

_SDK_METHODS = {"create", "parse", "stream"}


class CallNotFound(Exception):
    """No SDK call starts at the given line: the file changed since the scan."""


class ByHand(Exception):
    """The edit cannot be made mechanically (a value through a variable or **kwargs): say what to do."""


def _is_sdk_call(node: cst.Call) -> bool:
    return isinstance(node.func, cst.Attribute) and node.func.attr.value in _SDK_METHODS


def _keyword(call: cst.Call, name: str) -> cst.Arg | None:
    return next((a for a in call.args if a.keyword is not None and a.keyword.value == name), None)


def _has_kwargs(call: cst.Call) -> bool:
    return any(a.star == "**" for a in call.args)


def _without(call: cst.Call, arg: cst.Arg) -> cst.Call:
    """The call without one argument, keeping the trailing-comma style of the original last argument."""
    args = list(call.args)
    index = args.index(arg)
    was_last = index == len(args) - 1
    del args[index]
    if was_last and args:
        args[-1] = args[-1].with_changes(comma=arg.comma)
    return call.with_changes(args=args)


def _effort_of(value: cst.BaseExpression) -> cst.BaseExpression | None:
    """X from {"effort": X} (a dict with that one key), else None."""
    if not isinstance(value, cst.Dict) or len(value.elements) != 1:
        return None
    element = value.elements[0]
    if (
        isinstance(element, cst.DictElement)
        and isinstance(element.key, cst.SimpleString)
        and element.key.evaluated_value == "effort"
    ):
        return element.value
    return None


def apply_edit(call: cst.Call, edit: Edit) -> cst.Call:
    """`call` with one edit made; ByHand when the argument is not the call's own or its value is not literal."""
    if edit.kind == "set_model":
        arg = _keyword(call, "model")
        if arg is None or not isinstance(arg.value, cst.SimpleString):
            raise ByHand(f"model= is not a string literal in the call: set it to {edit.new!r} where it is defined")
        if arg.value.evaluated_value != edit.parameter:
            raise CallNotFound(f"model= is no longer {edit.parameter!r}")
        quote = arg.value.quote
        return call.with_deep_changes(arg, value=cst.SimpleString(f"{quote}{edit.new}{quote}"))
    if edit.kind == "reasoning_to_effort":
        arg = _keyword(call, "reasoning")
        if arg is None:
            raise ByHand("reasoning= comes through **kwargs or extra_body: send reasoning_effort= instead by hand")
        effort = _effort_of(arg.value)
        if effort is None:
            raise ByHand('reasoning= is not a literal {"effort": ...}: send reasoning_effort= instead by hand')
        return call.with_deep_changes(arg, keyword=cst.Name("reasoning_effort"), value=effort)
    arg = _keyword(call, edit.parameter)
    if arg is None:
        if edit.kind == "effort_to_reasoning" and _keyword(call, "reasoning") is not None:
            return call  # already written reasoning={"effort": ...}
        how = "**kwargs" if _has_kwargs(call) else "extra_body or another argument"
        raise ByHand(f"{edit.parameter} comes through {how}, not a keyword of the call: {edit.describe()} by hand")
    if edit.kind == "drop":
        return _without(call, arg)
    if edit.kind == "rename":
        return call.with_deep_changes(arg, keyword=cst.Name(edit.new or edit.parameter))
    if edit.kind == "effort_to_reasoning":
        value = cst.Dict([cst.DictElement(cst.SimpleString('"effort"'), arg.value)])
        return call.with_deep_changes(arg, keyword=cst.Name("reasoning"), value=value)
    raise ValueError(f"unknown edit {edit.kind}")


class _Editor(cst.CSTTransformer):
    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, edits: Mapping[int, Sequence[Edit]]) -> None:
        super().__init__()
        self.edits = edits
        self.done: set[int] = set()
        self.calls: set[int] = set()
        self.by_hand: dict[int, list[str]] = {}

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        line = self.get_metadata(PositionProvider, original).start.line
        self.calls.add(line)
        if line not in self.edits or line in self.done or not _is_sdk_call(original):
            return updated
        self.done.add(line)
        for edit in self.edits[line]:
            try:
                updated = apply_edit(updated, edit)
            except ByHand as exc:
                self.by_hand.setdefault(line, []).append(str(exc))
            except CallNotFound:
                self.done.discard(line)
                return original
        return updated


def edit_source(source: str, edits: Mapping[int, Sequence[Edit]]) -> tuple[str, dict[int, list[str]], set[int]]:
    """The source with the edits made to the SDK calls starting at the given lines; what must be done by hand,
    per line; and the lines where no such call was found (the file changed since the scan).

    The source is parsed with `ast` first: what CPython's own parser refuses (3,000 nested parentheses) is
    never handed to libcst's native parser, which can crash the process on it. A byte-order mark is kept."""
    bom = "\ufeff" if source.startswith("\ufeff") else ""
    source = source[len(bom) :]
    ast.parse(source)  # SyntaxError, RecursionError or MemoryError: the caller reports "does not parse"
    wrapper = MetadataWrapper(cst.parse_module(source))
    editor = _Editor(edits)
    module = wrapper.visit(editor)
    for line in (set(edits) - editor.done) & editor.calls:  # a framework's constructor, functools.partial ...
        editor.by_hand.setdefault(line, []).append(
            "the call here is not an openai SDK create/parse/stream call (a framework or a wrapper sends the "
            "request): " + "; ".join(e.describe() for e in edits[line]) + " where it is configured, by hand"
        )
    code = module.code
    if source.endswith("\r") and not code.endswith("\r"):
        code += "\r"  # libcst drops the last line ending of a CR-only file
    return bom + code, editor.by_hand, set(edits) - editor.done - editor.calls
