"""The fields each kind of subject declares: what a rule may read. Rule files are checked against these
when they load, so a typo in a field path (`account.disable_local_authh`) is an input error naming the file,
line and path with a did-you-mean, instead of a rule that silently judges every subject on a value that is
always missing. tests/test_fields.py builds real subjects and checks their documents against the same
declarations, so the two cannot drift apart. The declarations are derived from the documents' types
(auditor/model/documents.py): a rule reading a new fact adds it to the view's TypedDict, and the builder that
fills the view is held to it by mypy.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Mapping
from typing import Annotated, Any, get_args, get_origin, get_type_hints, is_typeddict

from auditor.model.documents import GATE_DOCUMENTS, OPEN, SUBJECT_DOCUMENTS

ANY = "*"
"""A value whose inside a rule may read freely (capabilities, parameter tables, notes keyed by fact)."""

Spec = Mapping[str, Any]  # name -> None (a value), ANY, or a nested Spec


def _spec_of_hint(hint: Any) -> Any:
    """A field's spec from its type: ANY for `Open`, the nested spec for a view (or a view or None), else a value."""
    if get_origin(hint) is Annotated and OPEN in get_args(hint)[1:]:
        return ANY
    if is_typeddict(hint):
        return spec_of(hint)
    views = [arg for arg in get_args(hint) if is_typeddict(arg)]
    return spec_of(views[0]) if views else None


def spec_of(document: type) -> dict[str, Any]:
    """The fields a typed document (auditor/model/documents.py) declares, nested views included."""
    hints = get_type_hints(document, include_extras=True)
    return {name: _spec_of_hint(hint) for name, hint in hints.items()}


SUBJECT_FIELDS: Mapping[str, Spec] = {kind: spec_of(document) for kind, document in SUBJECT_DOCUMENTS.items()}
"""What a rule over each kind of subject the engine builds may read: derived from the documents' types."""
GATE_FIELDS: Mapping[str, Spec] = {kind: spec_of(document) for kind, document in GATE_DOCUMENTS.items()}
"""Documents the gate builds after the audit (the engine builds no subjects of these kinds)."""
RULE_FIELDS: Mapping[str, Spec] = {**SUBJECT_FIELDS, **GATE_FIELDS}
"""What a rule of each `applies_to` kind may read."""


def _paths(spec: Spec, prefix: str = "") -> Iterator[str]:
    for name, inner in spec.items():
        path = f"{prefix}{name}"
        yield path
        if isinstance(inner, Mapping):
            yield from _paths(inner, path + ".")


def declared(kind: str, path: str) -> bool:
    """Whether subjects of `kind` declare `path` (a dotted field path)."""
    node: Any = RULE_FIELDS.get(kind)
    for part in path.split("."):
        if node is ANY:
            return True
        if not isinstance(node, Mapping) or part not in node:
            return False
        node = node[part]
    return True


def suggestion(kind: str, path: str) -> str | None:
    """The declared path closest to a mistyped one."""
    spec = RULE_FIELDS.get(kind)
    if spec is None:
        return None
    close = difflib.get_close_matches(path, list(_paths(spec)), n=1, cutoff=0.6)
    return close[0] if close else None


_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)\}")


def condition_paths(condition: Any) -> Iterator[str]:
    """Every field path a condition reads, its `{field: ...}` operands included."""
    if not isinstance(condition, Mapping):
        return
    for key in ("allOf", "anyOf"):
        for child in condition.get(key) or ():
            yield from condition_paths(child)
    if "not" in condition:
        yield from condition_paths(condition["not"])
    if "field" in condition:
        yield str(condition["field"])
        for value in condition.values():
            if isinstance(value, Mapping) and set(value) == {"field"}:
                yield str(value["field"])


def template_paths(text: str | None) -> Iterator[str]:
    """The field paths a message template fills in."""
    yield from (path for path in _PLACEHOLDER.findall(text or "") if path)  # `{{` is a literal brace
