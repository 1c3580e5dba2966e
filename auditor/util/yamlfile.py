"""Safe YAML loading that remembers where each mapping and list came from.

Every YAML file the auditor reads goes through `load_yaml` (or `parse_yaml` for text already read): input files a
person writes (rules, contracts, plans, waivers, policies), the knowledge base and its sources, the demo tenant.
One loader, so every file is read safely (no arbitrary objects), within bounds (size, alias expansion, nesting),
and any complaint about it can name the file and the line.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from auditor.model.errors import InputError
from auditor.util import inputfile


class LineDict(dict):  # type: ignore[type-arg]
    """A mapping from YAML that knows its 1-based line, and the line of each key."""

    line: int = 0
    key_lines: dict[str, int]


class LineList(list):  # type: ignore[type-arg]
    """A sequence from YAML that knows its 1-based line, and the line of each item."""

    line: int = 0
    item_lines: list[int]


for _dumper in {yaml.SafeDumper, getattr(yaml, "CSafeDumper", yaml.SafeDumper)}:
    # what was loaded here can be written back as plain YAML (a refreshed knowledge-base overlay, for one)
    _dumper.add_representer(LineDict, yaml.representer.SafeRepresenter.represent_dict)
    _dumper.add_representer(LineList, yaml.representer.SafeRepresenter.represent_list)


if TYPE_CHECKING:
    _BASE_LOADER = yaml.SafeLoader
else:
    _BASE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    """libyaml's parser where PyYAML was built with it (ten times faster); the safe constructor either way."""


class _LineLoader(_BASE_LOADER):
    """A safe loader whose mappings and sequences carry line numbers; constructs no arbitrary objects."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> LineDict:
        written = {id(key_node) for key_node, _ in node.value}
        self.flatten_mapping(node)  # merge keys (`<<: *anchor`) first, so the mapping's own keys override them
        result = LineDict()
        result.line = node.start_mark.line + 1
        result.key_lines = {}
        own: set[Any] = set()
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, (str, int, float, bool)) and key is not None:
                raise yaml.constructor.ConstructorError(None, None, "found an unhashable key", key_node.start_mark)
            if id(key_node) in written and key in own:
                raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
            if id(key_node) in written:
                own.add(key)
            result[key] = self.construct_object(value_node, deep=True)
            result.key_lines[str(key)] = key_node.start_mark.line + 1
        return result

    def construct_sequence(self, node: yaml.SequenceNode, deep: bool = False) -> LineList:
        result = LineList(self.construct_object(child, deep=True) for child in node.value)
        result.line = node.start_mark.line + 1
        result.item_lines = [child.start_mark.line + 1 for child in node.value]
        return result

    def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> Any:
        """A date that does not exist (2099-13-45) is a marked error, not a crash."""
        try:
            return super().construct_yaml_timestamp(node)
        except (ValueError, OverflowError) as exc:
            raise yaml.constructor.ConstructorError(
                None, None, f"{node.value!r} is not a valid date ({exc})", node.start_mark
            ) from None

    def construct_yaml_int(self, node: yaml.ScalarNode) -> Any:
        """A number too long to convert (Python refuses over 4,300 digits) is a marked error."""
        try:
            return super().construct_yaml_int(node)
        except ValueError as exc:
            raise yaml.constructor.ConstructorError(
                None, None, f"not a usable number ({exc})", node.start_mark
            ) from None


_LineLoader.add_constructor("tag:yaml.org,2002:timestamp", _LineLoader.construct_yaml_timestamp)
_LineLoader.add_constructor("tag:yaml.org,2002:int", _LineLoader.construct_yaml_int)
_LineLoader.add_constructor("tag:yaml.org,2002:map", _LineLoader.construct_mapping)
_LineLoader.add_constructor("tag:yaml.org,2002:seq", _LineLoader.construct_sequence)


MAX_INPUT_BYTES = 16 * 1024 * 1024
"""No contract, plan, waivers file, baseline or rule file a person writes comes near this; a larger one
is refused before it is read into memory."""
MAX_NODES = 200_000
"""YAML nodes after alias expansion: an alias bomb (a few lines that expand to billions) stops here."""
MAX_DEPTH = 100
"""Nesting depth of a YAML document (every reader walks it recursively)."""


def read_input(path: Path | str, *, what: str, max_bytes: int = MAX_INPUT_BYTES) -> str:
    """The text of a file a person gave us, through the one bounded reader (auditor/util/inputfile.py): a
    regular file of at most `max_bytes`, UTF-8. A missing, unreadable or special one (a FIFO, /dev/zero) is
    an InputError naming it, never a hang."""
    return inputfile.read_text(path, what=what, max_bytes=max_bytes)


def _check_bounds(root: yaml.Node, path: Path, what: str) -> None:
    """Refuse a document whose expansion (aliases followed) exceeds MAX_NODES or whose nesting exceeds
    MAX_DEPTH, before anything is constructed; a recursive alias is refused too. Sizes of shared nodes
    are computed once, so the check itself stays linear in the file."""
    sizes: dict[int, int] = {}
    stack: list[tuple[yaml.Node, int, bool]] = [(root, 1, False)]
    open_nodes: set[int] = set()
    while stack:
        node, depth, done = stack.pop()
        key = id(node)
        children = _children(node)
        if done:
            open_nodes.discard(key)
            total = 1 + sum(sizes[id(c)] for c in children)
            sizes[key] = total
            if total > MAX_NODES:
                raise InputError(
                    f"{path}:{node.start_mark.line + 1}: the {what} file expands to more than {MAX_NODES:,} "
                    "values (YAML aliases repeated within aliases); refusing to expand it"
                )
            continue
        if key in sizes:
            continue
        if key in open_nodes:
            raise InputError(f"{path}:{node.start_mark.line + 1}: a YAML alias in the {what} file refers to itself")
        if depth > MAX_DEPTH:
            raise InputError(f"{path}:{node.start_mark.line + 1}: the {what} file nests deeper than {MAX_DEPTH} levels")
        open_nodes.add(key)
        stack.append((node, depth, True))
        stack.extend((child, depth + 1, False) for child in children if id(child) not in sizes)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def load_yaml(path: Path | str, *, what: str, trusted: bool = False) -> Any:
    """Parse one YAML file safely and within bounds (size, alias expansion, nesting); a syntax error, an
    impossible date or a bound exceeded becomes an InputError naming file and line. `trusted` (the package's
    own files, held to the bounds by the tests) skips the walk over the nodes that checks expansion and depth."""
    path = Path(path)
    return parse_yaml(read_input(path, what=what), source=path, what=what, trusted=trusted)


def parse_yaml(text: str, *, source: Path | str, what: str, trusted: bool = False) -> Any:
    """`load_yaml` for text already read (package data read through importlib.resources, a file read with
    its own size cap); `source` names it in errors."""
    path = Path(source)
    loader = _LineLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if not trusted:
            _check_bounds(node, path, what)
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        problem = exc.problem or exc.context or "invalid YAML"
        raise InputError(f"{path}:{line}: invalid YAML in {what} file: {problem}") from None
    except yaml.YAMLError as exc:
        raise InputError(f"{path}:1: invalid YAML in {what} file: {exc}") from None
    finally:
        loader.dispose()


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
