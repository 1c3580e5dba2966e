"""Input files are validated one way: against their JSON Schema in auditor/schemas/ (contract, plan, waivers,
policy). The same schemas ship in the wheel, so an editor completes and checks those files as they are typed
(docs/reference/input-files.md).

A schema error becomes one line naming the file and the line (util/yamlfile.line_of): an unknown key points at
that key's own line. The loaders keep their own checks of values (they give the specific messages, e.g. "api must
be one of ..."); the schema is the file's shape: which keys exist, what they hold.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from auditor.model.errors import InputError
from auditor.util.resources import schema_path
from auditor.util.yamlfile import line_of

if TYPE_CHECKING:
    import jsonschema

UnknownKey = Callable[[str, Sequence[Any], Sequence[str]], str]
"""The message for an unknown key, given the key, the path of the mapping that holds it and the keys it may have."""


@lru_cache(maxsize=8)
def validator(name: str) -> jsonschema.protocols.Validator:
    """The validator of one of the package's schemas (`contract.schema.json`, ...), built once."""
    import jsonschema  # loaded only when an input file is checked (~0.1 s of start-up otherwise)

    schema = json.loads(schema_path(name).read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema)


def check(document: Any, schema: str, path: Path | str, *, what: str, unknown_key: UnknownKey | None = None) -> None:
    """Raise an InputError, one line naming file and line, for the most relevant way `document` (as loaded by
    util/yamlfile, with lines) breaks `schema`; `unknown_key` words the message for a key the schema does not
    know (default: jsonschema's own message, prefixed with `invalid <what>` and the path)."""
    import jsonschema

    errors = sorted(validator(schema).iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))
    if not errors:
        return
    error = jsonschema.exceptions.best_match(errors)
    at = list(error.absolute_path)
    where = "/".join(str(p) for p in at) or "top level"
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
        extra = sorted((k for k in error.instance if k not in known), key=str)
        if extra:
            line = line_of(document, [*at, extra[0]])
            if unknown_key is not None:
                raise InputError(f"{path}:{line}: {unknown_key(str(extra[0]), at, sorted(known))}")
            raise InputError(f"{path}:{line}: invalid {what}: {where}: {error.message}")
    raise InputError(f"{path}:{line_of(document, at)}: invalid {what}: {where}: {error.message}")
