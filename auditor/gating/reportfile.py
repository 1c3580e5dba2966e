"""Reading report.json back: the one reader, with the same bounds and checks for every report.json the auditor
reads (a `--baseline`, the shards of `audit merge`).

A regular file of at most MAX_REPORT_BYTES (util/yamlfile.read_input), parsed by orjson, checked against the part
of report.json that every 1.x report has (READ_SCHEMA) plus the top-level keys the caller needs; anything that is
not a report.json is an InputError naming the file and line. Its writer is the renderer's
(render/json_report.write_json: streamed, the same bytes as one indented dump); tests/test_report_codec.py reads
back what it writes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from auditor.model.errors import InputError
from auditor.model.results import Severity, Status
from auditor.util.yamlfile import read_input

if TYPE_CHECKING:
    import jsonschema

MAX_REPORT_BYTES = 1024 * 1024 * 1024
"""A report.json is a whole fleet's (a 10,000-deployment fleet writes about 230 MB)."""
MAX_DEPTH = 64
"""A report.json nests about 8 levels (a probe's evidence a few more); anything far deeper is not one."""


def _depth_ok(data: Any) -> bool:
    """Whether the document nests at most MAX_DEPTH levels (walked without recursion)."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            return False
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)
    return True


_STR = {"type": "string"}
_OPT_STR = {"type": ["string", "null"]}
# The part of report.json drift and merge rely on; any 1.x report (older ones too) has it.
READ_SCHEMA: Mapping[str, Any] = {
    "type": "object",
    "required": ["schema_version", "generated_at", "tool_version", "targets", "deployments", "findings"],
    "properties": {
        "schema_version": {"type": "string", "pattern": r"^1\."},
        "generated_at": _STR,
        "tool_version": _STR,
        "targets": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "name", "status"],
                "properties": {"id": _STR, "name": _STR, "status": _STR},
            },
        },
        "deployments": {
            "type": "array",
            "items": {
                "type": "object",
                "required": [
                    "account_id",
                    "account_name",
                    "name",
                    "model_name",
                    "model_version",
                    "sku_name",
                    "sku_capacity",
                ],
                "properties": {
                    "account_id": _STR,
                    "account_name": _STR,
                    "name": _STR,
                    "model_name": _OPT_STR,
                    "model_version": _OPT_STR,
                    "sku_name": _OPT_STR,
                    "sku_capacity": {"type": ["integer", "null"]},
                },
            },
        },
        "findings": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["rule_id", "title", "severity", "status", "target", "target_name", "message"],
                "properties": {
                    "rule_id": _STR,
                    "title": _STR,
                    "target": _STR,
                    "target_name": _STR,
                    "message": _STR,
                    "account_id": _OPT_STR,
                    "severity": {"enum": [s.value for s in Severity]},
                    "status": {"enum": [s.value for s in Status]},
                },
            },
        },
    },
}


def _line_of_error(path: Path, error: jsonschema.ValidationError, what: str) -> int:
    """JSON is YAML: re-read with line numbers only to point at the complaint."""
    from auditor.util.yamlfile import line_of, load_yaml

    try:
        return line_of(load_yaml(path, what=what), error.absolute_path)
    except InputError:
        return 1


def read_report(
    path: Path | str, *, what: str = "report", require: Sequence[str] = (), lines: bool = True
) -> dict[str, Any]:
    """A report.json as its top-level object, checked: within MAX_REPORT_BYTES, valid JSON, a 1.x report with
    what READ_SCHEMA describes and the top-level keys in `require`. `what` names the file's role in errors;
    `lines=False` names the file alone (as `audit merge` names the shard in all its errors)."""
    path = Path(path)
    text = read_input(path, what=what, max_bytes=MAX_REPORT_BYTES)
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError as exc:  # nesting beyond orjson's limit and numbers out of range land here too
        where = f"{path}:{exc.lineno}" if lines else str(path)
        raise InputError(f"{where}: {what} is not valid JSON: {exc.msg}") from None
    if not _depth_ok(data):
        raise InputError(f"{path}: {what} nests deeper than {MAX_DEPTH} levels; not an audit report.json")
    import jsonschema  # only when a report is read back: its import is ~0.1 s of every run's start-up

    schema: Mapping[str, Any] = READ_SCHEMA
    if require:
        schema = {**READ_SCHEMA, "required": [*READ_SCHEMA["required"], *require]}
    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(data))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "top level"
        at = f"{path}:{_line_of_error(path, error, what)}" if lines else str(path)
        raise InputError(f"{at}: not an audit report.json: {where}: {error.message}")
    return dict(data)
