"""Safe YAML loading that remembers where each mapping and list came from.

Every input file a person writes (rules, contracts, later plans and waivers) is read here, so that
any complaint about it can name the file and the line.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from auditor.errors import InputError


class LineDict(dict):  # type: ignore[type-arg]
    """A mapping from YAML that knows its 1-based line, and the line of each key."""

    line: int = 0
    key_lines: dict[str, int]


class LineList(list):  # type: ignore[type-arg]
    """A sequence from YAML that knows its 1-based line, and the line of each item."""

    line: int = 0
    item_lines: list[int]


if TYPE_CHECKING:
    _BASE_LOADER = yaml.SafeLoader
else:
    _BASE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    """libyaml's parser where PyYAML was built with it (ten times faster); the safe constructor either way."""


class _LineLoader(_BASE_LOADER):
    """A safe loader whose mappings and sequences carry line numbers; constructs no arbitrary objects."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> LineDict:
        self.flatten_mapping(node)
        result = LineDict()
        result.line = node.start_mark.line + 1
        result.key_lines = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, (str, int, float, bool)) and key is not None:
                raise yaml.constructor.ConstructorError(None, None, "found an unhashable key", key_node.start_mark)
            if key in result:
                raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
            result[key] = self.construct_object(value_node, deep=True)
            result.key_lines[str(key)] = key_node.start_mark.line + 1
        return result

    def construct_sequence(self, node: yaml.SequenceNode, deep: bool = False) -> LineList:
        result = LineList(self.construct_object(child, deep=True) for child in node.value)
        result.line = node.start_mark.line + 1
        result.item_lines = [child.start_mark.line + 1 for child in node.value]
        return result


_LineLoader.add_constructor("tag:yaml.org,2002:map", _LineLoader.construct_mapping)
_LineLoader.add_constructor("tag:yaml.org,2002:seq", _LineLoader.construct_sequence)


def read_input(path: Path | str, *, what: str) -> str:
    """The text of a file a person gave us; a missing or unreadable one is an InputError naming it."""
    path = Path(path)
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: {what} file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read {what} file: {exc}") from None


def load_yaml(path: Path | str, *, what: str) -> Any:
    """Parse one YAML file safely; a syntax error becomes an InputError naming file and line."""
    path = Path(path)
    text = read_input(path, what=what)
    try:
        return yaml.load(text, Loader=_LineLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        problem = exc.problem or exc.context or "invalid YAML"
        raise InputError(f"{path}:{line}: invalid YAML in {what} file: {problem}") from None
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: invalid YAML in {what} file: {exc}") from None


def line_of(document: Any, path: Iterable[Any]) -> int:
    """The line of the deepest node on `path` that has one (for pointing at schema errors)."""
    node = document
    line = getattr(document, "line", 1)
    for step in path:
        if isinstance(node, LineDict) and step in node:
            line = node.key_lines.get(str(step), line)
            node = node[step]
        elif isinstance(node, LineList) and isinstance(step, int) and 0 <= step < len(node):
            line = node.item_lines[step]
            node = node[step]
        else:
            break
    return line


def reject_unknown_keys(path: Path | str, raw: Any, allowed: Iterable[str], *, what: str, line: int) -> None:
    """A mapping a person wrote may use only the keys we know: a typo is an error naming its own line."""
    allowed = set(allowed)
    unknown = sorted(set(map(str, raw)) - allowed)
    if unknown:
        key_line = raw.key_lines.get(unknown[0], line) if isinstance(raw, LineDict) else line
        raise InputError(
            f"{path}:{key_line}: unknown key {unknown[0]!r} {what} (allowed: {', '.join(sorted(allowed))})"
        )
