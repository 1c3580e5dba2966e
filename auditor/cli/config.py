"""The configuration file: `[tool.aoai-auditor]` in pyproject.toml, or `.aoai-audit.toml`, found from the working
directory upwards (the first directory holding either wins, `.aoai-audit.toml` before pyproject.toml, as ruff
looks for its own), or `--config FILE`.

Every long flag has a key of the same name (`fail-on`, `contract`, `select` ...); paths are relative to the file;
a flag given on the command line overrides the file. Unknown keys and wrong types are input errors (exit 2) naming
the file and the key. `deployments` is the one key that is no flag: the deployments `--offline` judges (name ->
model, version, sku, region). The keys and their types come from the parser itself, so a new flag is a new key
and the shipped JSON Schema (auditor/schemas/config.schema.json, checked by a test) follows.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from auditor.model.errors import InputError
from auditor.util import inputfile

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

DOTFILE = ".aoai-audit.toml"
PYPROJECT = "pyproject.toml"
TABLE = "aoai-auditor"
NOT_KEYS = frozenset({"help", "version", "config", "schema"})
"""Flags that make no sense in a file: --config names the file itself; `audit config --schema` prints the schema."""
PATH_KEYS_SHIPPED = {"policy": "policies", "contract": "examples", "waivers": "examples", "plan": "examples"}
"""Keys whose value may name a shipped example (`--policy azure-baseline`) when no such file exists."""
DEPLOYMENT_KEYS = {"model": str, "version": str, "sku": str, "region": str, "capacity": int, "account": str}


@dataclass(frozen=True)
class Option:
    """One key of the file: the flag it mirrors and the type its value must have."""

    key: str
    dest: str
    kind: str  # "bool" | "int" | "number" | "path" | "paths" | "path_or_url" | "string" | "strings"
    help: str


@dataclass
class Settings:
    """The effective settings of a run and where each came from (`audit config` prints them)."""

    args: argparse.Namespace
    file: Path | None
    sources: dict[str, str] = field(default_factory=dict)
    """key -> "command line" | the file's path | "default"."""
    deployments: dict[str, dict[str, Any]] = field(default_factory=dict)


def options(parser: argparse.ArgumentParser) -> list[Option]:
    """The keys a configuration file may hold, read off the parser's long flags."""
    found = []
    for action in parser._actions:  # argparse keeps no public list of its actions
        longs = [o for o in action.option_strings if o.startswith("--")]
        if not longs or longs[0][2:] in NOT_KEYS or action.dest == argparse.SUPPRESS:
            continue
        found.append(Option(longs[0][2:], action.dest, _kind(action), (action.help or "").split(". Example")[0]))
    return found


def path_or_url(value: str) -> str:
    """The argparse type of a flag that takes a file path or a URL (`--history`): in a configuration file a
    relative path is resolved from the file, as every other path key is, and a URL is kept as written."""
    return value


def _kind(action: argparse.Action) -> str:
    if isinstance(action, argparse._StoreTrueAction):
        return "bool"
    if action.type is path_or_url:
        return "path_or_url"
    many = isinstance(action, argparse._AppendAction)
    if action.type is Path:
        return "paths" if many else "path"
    if action.type is int:
        return "int"
    if action.type is float:
        return "number"
    return "strings" if many else "string"


def find_config(start: Path) -> Path | None:
    """The configuration file for a run started in `start`: the nearest directory upwards holding
    `.aoai-audit.toml`, or a pyproject.toml with a `[tool.aoai-auditor]` table."""
    for directory in (start, *start.parents):
        dotfile = directory / DOTFILE
        if dotfile.is_file():
            return dotfile
        pyproject = directory / PYPROJECT
        if pyproject.is_file() and TABLE in _read_toml(pyproject).get("tool", {}):
            return pyproject
    return None


def _read_toml(path: Path) -> dict[str, Any]:
    text = inputfile.read_text(path, what="configuration")  # the one bounded reader: no FIFO, no /dev/zero
    try:
        document: dict[str, Any] = tomllib.loads(text)
        return document
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: invalid TOML: {exc}") from None
    except RecursionError:
        raise InputError(f"{path}: invalid TOML: nested too deeply") from None


def read_table(path: Path) -> dict[str, Any]:
    """The auditor's settings in a configuration file: the whole of a .aoai-audit.toml (or any file given with
    --config that has no `[tool.aoai-auditor]` table), the table in a pyproject.toml."""
    document = _read_toml(path)
    tool = document.get("tool")
    if isinstance(tool, dict) and TABLE in tool:
        table = tool[TABLE]
        if not isinstance(table, dict):
            raise InputError(f"{path}: [tool.{TABLE}] must be a table")
        return table
    if path.name == PYPROJECT:
        raise InputError(f"{path}: no [tool.{TABLE}] table")
    return document


def _type_error(path: Path, key: str, wanted: str, value: Any) -> InputError:
    return InputError(f"{path}: key '{key}' must be {wanted}, not {type(value).__name__} {value!r}")


def _convert(path: Path, option: Option, value: Any) -> Any:
    """A file value as the parser would have produced it from the flag; paths relative to the file."""
    base = path.parent
    kind = option.kind
    if kind == "bool":
        if not isinstance(value, bool):
            raise _type_error(path, option.key, "true or false", value)
        return value
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise _type_error(path, option.key, "an integer", value)
        return value
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _type_error(path, option.key, "a number", value)
        return float(value)
    if kind in ("string", "path", "path_or_url"):
        if option.key == "format" and isinstance(value, list) and all(isinstance(v, str) for v in value):
            value = ",".join(value)
        if not isinstance(value, str):
            raise _type_error(path, option.key, "a string", value)
        if kind == "path_or_url" and "://" not in value:
            return str(_relative(base, option.key, value))
        return _relative(base, option.key, value) if kind == "path" else value
    if isinstance(value, str):  # one value where a list is expected: `select = "api-support"`
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _type_error(path, option.key, "a list of strings", value)
    return [_relative(base, option.key, v) for v in value] if kind == "paths" else list(value)


def _relative(base: Path, key: str, value: str) -> Path:
    """A path from the file, relative to the file's directory; a shipped example's bare name stays as it is."""
    candidate = Path(value).expanduser()
    if candidate.is_absolute():
        return candidate
    resolved = base / candidate
    if key in PATH_KEYS_SHIPPED and not resolved.exists() and _is_bare_name(value):
        return candidate
    return resolved


def _is_bare_name(value: str) -> bool:
    return "/" not in value and "\\" not in value and "." not in value


def _deployments(path: Path, value: Any) -> dict[str, dict[str, Any]]:
    """`[deployments.NAME]` tables: model (required), version, sku, region, capacity, account."""
    if not isinstance(value, dict):
        raise _type_error(path, "deployments", "a table of deployment name -> {model, version, sku, region}", value)
    result: dict[str, dict[str, Any]] = {}
    for name, spec in value.items():
        where = f"deployments.{name}"
        if not isinstance(spec, dict):
            raise _type_error(path, where, "a table (model, version, sku, region)", spec)
        for key, item in spec.items():
            wanted = DEPLOYMENT_KEYS.get(key)
            if wanted is None:
                raise InputError(f"{path}: unknown key '{where}.{key}': choose {', '.join(DEPLOYMENT_KEYS)}")
            if isinstance(item, bool) or not isinstance(item, wanted):
                raise _type_error(path, f"{where}.{key}", "an integer" if wanted is int else "a string", item)
        if "model" not in spec:
            raise InputError(f"{path}: key '{where}' needs a model")
        result[str(name)] = dict(spec)
    return result


def _given(parser: argparse.ArgumentParser, argv: Sequence[str]) -> set[str]:
    """The destinations the command line set itself: the parse again with every default suppressed."""
    saved = [(action, action.default) for action in parser._actions]
    try:
        for action, _ in saved:
            action.default = argparse.SUPPRESS
        namespace, _ = parser.parse_known_args(argv)
    finally:
        for action, default in saved:
            action.default = default
    return set(vars(namespace))


def apply_config(parser: argparse.ArgumentParser, argv: Sequence[str], cwd: Path | None = None) -> Settings:
    """Parse the command line, then fill what it did not set from the configuration file."""
    args = parser.parse_args(argv)
    explicit = getattr(args, "config", None)
    path = explicit if explicit is not None else find_config(Path.cwd() if cwd is None else cwd)
    if explicit is not None and not explicit.is_file():
        raise InputError(f"--config {explicit}: file not found")
    settings = Settings(args, path)
    given = _given(parser, argv)
    table = read_table(path) if path is not None else {}
    by_key = {o.key: o for o in options(parser)}
    for key in table:
        if key != "deployments" and key not in by_key:
            raise InputError(
                f"{path}: unknown key '{key}' (the keys are the long flags of `audit`: see `audit config`)"
            )
    if "deployments" in table and path is not None:
        settings.deployments = _deployments(path, table["deployments"])
        settings.sources["deployments"] = str(path)
    for option in by_key.values():
        if option.dest in given:
            settings.sources[option.key] = "command line"
        elif option.key in table and path is not None:
            setattr(args, option.dest, _convert(path, option, table[option.key]))
            settings.sources[option.key] = str(path)
        else:
            settings.sources[option.key] = "default"
    args.deployments = settings.deployments
    resolve_shipped_examples(args)
    return settings


def resolve_shipped_examples(args: argparse.Namespace) -> None:
    """`--policy azure-baseline`: a bare name that is no file names a shipped example (see PATH_KEYS_SHIPPED)."""
    from auditor.util.resources import shipped_example

    for key, kind in PATH_KEYS_SHIPPED.items():
        dest = key.replace("-", "_")
        value = getattr(args, dest, None)
        if value is not None and not Path(value).exists() and _is_bare_name(str(value)):
            found = shipped_example(kind, str(value))
            if found is not None:
                setattr(args, dest, found)


def effective(settings: Settings, parser: argparse.ArgumentParser) -> Iterator[tuple[str, Any, str]]:
    """(key, value, source) for every key, in the parser's order: what `audit config` prints."""
    for option in options(parser):
        value = getattr(settings.args, option.dest, None)
        yield option.key, _shown(value), settings.sources.get(option.key, "default")
    if settings.deployments:
        yield "deployments", settings.deployments, settings.sources["deployments"]


def _shown(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, list):
        return [_shown(v) for v in value]
    return value


def config_schema(parser: argparse.ArgumentParser) -> dict[str, Any]:
    """The JSON Schema of the configuration table, from the parser (shipped as config.schema.json)."""
    kinds: Mapping[str, Any] = {
        "bool": {"type": "boolean"},
        "int": {"type": "integer"},
        "number": {"type": "number"},
        "path": {"type": "string"},
        "path_or_url": {"type": "string"},
        "string": {"type": "string"},
        "paths": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
        "strings": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
    }
    properties: dict[str, Any] = {}
    for option in options(parser):
        spec = dict(kinds[option.kind])
        if option.key == "format":
            spec = {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}
        spec["description"] = option.help
        properties[option.key] = spec
    properties["deployments"] = {
        "description": "Deployments --offline judges when there is no plan: name -> model, version, sku, region.",
        "type": "object",
        "additionalProperties": {
            "type": "object",
            "required": ["model"],
            "additionalProperties": False,
            "properties": {
                key: {"type": "integer" if kind is int else "string"} for key, kind in DEPLOYMENT_KEYS.items()
            },
        },
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://github.com/aoai-auditor/aoai-auditor/blob/main/auditor/schemas/config.schema.json",
        "title": "aoai-auditor configuration ([tool.aoai-auditor] in pyproject.toml, or .aoai-audit.toml)",
        "type": "object",
        "additionalProperties": False,
        "properties": properties,
    }
