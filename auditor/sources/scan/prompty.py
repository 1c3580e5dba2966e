"""Prompty files and the Python that runs them.

A `.prompty` file declares its model in YAML front matter (between `---` lines). Prompty 1.x
(Azure-Samples/contoso-chat src/api/contoso_chat/chat.prompty): `model: {api: chat|completion, configuration:
{type: azure_openai, azure_deployment: ..., api_version: ...}, parameters: {max_tokens: ..., temperature: ...}}`;
Prompty 2 (microsoft/prompty runtime/python/prompty/prompty/core/loader.py, commit 75e4d0e): `model: {id: ...,
provider: azure|foundry, apiType: chat|responses, options: {...}}`. Values written `${env:NAME}` or
`${env:NAME:default}` (the protocol in any case) are read from the environment, as prompty's loader does.

Each file becomes one call located at the file. In Python, `prompty.execute(path, configuration={...})` and
promptflow's `Prompty.load(path, model={"configuration": {...}})` run a file: when the override names its own
`azure_deployment`, that is a call of its own at the Python line (an `AzureOpenAIModelConfiguration(...)` is
recorded where it is built, by configs.py)."""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from typing import Any

import yaml

from auditor.sources.scan.calls import VALUE_PARAMETERS, result_call
from auditor.sources.scan.collect import dotted
from auditor.sources.scan.model import Resolved, ScannedCall, Unresolved
from auditor.sources.scan.protocol import ScanContext
from auditor.sources.scan.resolve import Ctx, short

_FRONT = re.compile(r"\A\ufeff?---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.S)
_REFERENCE = re.compile(r"\A\$\{([A-Za-z]+):([^:}]*)(?::([^}]*))?\}\Z")
_APIS = {"chat": "chat_completions", "completion": "completions", "responses": "responses", "embedding": "embeddings"}
_V2_OPTIONS = {"temperature": "temperature", "topP": "top_p", "maxOutputTokens": "max_tokens", "seed": "seed"}
MAX_FRONT_MATTER = 64_000


def prompty_calls(text: str, display: str) -> tuple[list[ScannedCall], str | None]:
    """The call a `.prompty` file declares, or why none can be read from it (a problem for the notes)."""
    match = _FRONT.match(text)
    if match is None:
        return [], "no front matter (--- ... ---) naming a model"
    front = match.group(1)
    if len(front) > MAX_FRONT_MATTER:
        return [], f"front matter larger than {MAX_FRONT_MATTER:,} characters"
    try:
        data = yaml.safe_load(front)
    except yaml.YAMLError as exc:
        return [], f"front matter is not valid YAML ({str(exc).splitlines()[0]})"
    model = data.get("model") if isinstance(data, Mapping) else None
    if not isinstance(model, Mapping):
        return [], None  # no model: the caller's configuration applies (prompty.execute(..., configuration=))
    given = model.get("configuration")
    configuration: Mapping[str, Any] = given if isinstance(given, Mapping) else {}
    kind = str(configuration.get("type") or model.get("provider") or "azure_openai").lower()
    if not kind.startswith(("azure", "foundry")):
        return [], None  # OpenAI.com, serverless ...: not an Azure OpenAI deployment
    name = configuration.get("azure_deployment") or model.get("id")
    api = _APIS.get(str(model.get("api") or model.get("apiType") or "chat").lower(), "chat_completions")
    line = _line_of(front, "azure_deployment" if "azure_deployment" in configuration else "id")
    outcome: Resolved | Unresolved
    if name is None:
        outcome = Unresolved(
            "the prompty file names no azure_deployment: the caller's configuration applies", "prompty-default"
        )
    else:
        outcome = _value(str(name))
    version = configuration.get("api_version")
    api_version = _value(str(version)).text() if version is not None else None
    return [
        result_call(
            api=api,
            file=display,
            line=line,
            expression=str(name) if name is not None else "(none)",
            parameters=_parameters(model),
            outcome=outcome,
            via="prompty",
            api_version=api_version if api_version and not api_version.startswith("${") else None,
        )
    ], None


def _value(text: str) -> Resolved:
    reference = _REFERENCE.match(text.strip())
    if reference is not None and reference.group(1).lower() == "env":
        return Resolved("env", reference.group(2), reference.group(3) or None, azure=True)
    return Resolved("literal", text)


def _parameters(model: Mapping[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    given = model.get("parameters")
    for key, value in given.items() if isinstance(given, Mapping) else ():
        found[str(key)] = value if str(key) in VALUE_PARAMETERS and isinstance(value, (str, int, float, bool)) else None
    options = model.get("options")
    for key, value in options.items() if isinstance(options, Mapping) else ():
        name = _V2_OPTIONS.get(str(key))
        if name is not None:
            found[name] = value if isinstance(value, (str, int, float, bool)) else None
    return found


def _line_of(front: str, key: str) -> int:
    """The line of `key:` in the file (the front matter starts on line 2)."""
    for number, text in enumerate(front.splitlines(), start=2):
        if text.strip().startswith(f"{key}:"):
            return number
    return 1


class PromptyCalls:
    """The recogniser of Python code running prompty files with a configuration of its own."""

    roots = frozenset({"prompty", "promptflow"})
    """Modules whose importers may hold these calls (pass 2 reads them)."""
    marks = frozenset({"execute", "load", "prepare"})

    def __init__(self, scan: ScanContext) -> None:
        self.scan = scan

    def call(self, node: ast.Call, ctx: Ctx) -> bool:
        name = dotted(node.func) or ""
        head, _, last = name.rpartition(".")
        if last not in ("execute", "load", "prepare") or not head:
            return False
        origin = ctx.origin(head.split(".")[0])
        if origin is None or not (origin[0] + "." + origin[1]).startswith(("prompty", "promptflow")):
            return False
        override = next((k.value for k in node.keywords if k.arg in ("configuration", "model")), None)
        items = self.scan.resolver.dict_items(override, ctx, 0) if override is not None else None
        if items and "configuration" in items:
            items = self.scan.resolver.dict_items(*items["configuration"], 0)
        if not items or "azure_deployment" not in items:
            return True  # the file's own model applies: its entry stands for this call
        expr, where = items["azure_deployment"]
        source = short(node.args[0]) if node.args else "a prompty file"
        self.scan.record(
            result_call(
                api="chat_completions",
                file=self.scan.display,
                line=node.lineno,
                expression=short(expr),
                parameters={},
                outcome=self.scan.resolve(expr, where, "azure_deployment="),
                via=f"prompty {source} with its configuration overridden",
            )
        )
        return True

    def finish(self) -> None:
        return None
