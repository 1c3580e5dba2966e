"""The app contract: what the application calls, per deployment name, read from a YAML file.

```yaml
deployments:
  chat-prod:                      # the deployment name the app passes as `model=`
    api: chat_completions         # chat_completions | responses | completions | embeddings
    parameters: {temperature: 0.7, max_tokens: 800, stream: true}
    account: contoso-aoai-eus2    # optional: only this account
    min_context_tokens: 100000    # optional
    tokens_per_minute: 60000      # optional
    roles: [system, user]         # optional: the message roles it sends
    api_version: 2024-10-21       # optional: the dated api-version the client uses (leave out on the v1 route)
    inputs_per_call: 16           # optional, embeddings: the most inputs sent in one call
  reasoner:                       # a list when the app calls one deployment in several ways
    - {api: chat_completions, parameters: {reasoning_effort: medium}}   # Chat Completions: a flat string
    - {api: responses, parameters: {reasoning: {effort: medium}}}       # Responses: a mapping (reasoning.effort)
  env:AZURE_OPENAI_DEPLOYMENT:    # a name read from the environment (written by `audit contract scan`)
    - api: chat_completions
      default: chat-prod          # optional: the default the code gives; the audit's own environment wins
      source: app/main.py:42      # optional: where the call is; findings then point there
unresolved:                       # optional: calls whose deployment name is only known at run time
  - {api: responses, source: app/agent.py:17, model: model, why: "the argument `model` of ask()"}
```
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from auditor.model.errors import InputError
from auditor.model.facts import ContractCall, SourceLocation, UnresolvedCall
from auditor.util.yamlfile import LineDict, LineList, load_yaml, reject_unknown_keys

APIS = (
    "chat_completions",
    "responses",
    "completions",
    "embeddings",
    "images",
    "audio",
    "realtime",
    "video",
    "assistants",
    "agents",
)
"""The APIs a call can use: the first four, plus images, audio (transcription, translation, speech), realtime,
video and assistants as openai-python names them, and `agents` (Foundry Agent Service runs on a deployment)."""
_CALL_KEYS = {"api", "parameters", "account", "min_context_tokens", "tokens_per_minute", "roles", "source", "default"}
# written by `audit contract scan`: other values the name takes, the framework or wrapper the call goes
# through, the SDK generation (openai<1), the api-version the client sends, a note on how it was resolved
_SCAN_KEYS = {"alternatives", "via", "sdk", "api_version", "note", "conditions"}
_CALL_KEYS |= _SCAN_KEYS | {"inputs_per_call"}
_UNRESOLVED_KEYS = {"api", "source", "model", "why", "parameters", "via", "sdk", "api_version", "conditions"}
_TOP_KEYS = {"deployments", "application", "unresolved", "unread", "notes"}


def _source(path: Path, raw: Any, line: int) -> SourceLocation | None:
    """`source: FILE:LINE` (where a scanned call is in the app's code), so findings point at the code."""
    value = raw.get("source") if isinstance(raw, Mapping) else None
    if value is None:
        return None
    file, _, number = str(value).rpartition(":")
    if not file or not number.isdigit() or int(number) < 1:
        raise InputError(f"{path}:{line}: source must be FILE:LINE (e.g. app/main.py:42), not {value!r}")
    return SourceLocation(file, int(number))


def _call(path: Path, name: str, raw: Any, line: int) -> ContractCall:
    if not isinstance(raw, Mapping):
        raise InputError(f"{path}:{line}: deployment {name!r} must map to api and parameters")
    line = getattr(raw, "line", line)
    reject_unknown_keys(path, raw, _CALL_KEYS, what=f"for deployment {name!r}", line=line)
    api = raw.get("api")
    if api not in APIS:
        raise InputError(f"{path}:{line}: deployment {name!r}: api must be one of {', '.join(APIS)}, not {api!r}")
    params = raw.get("parameters") or {}
    if isinstance(params, list):
        params = {str(p): None for p in params}
    if not isinstance(params, Mapping):
        raise InputError(f"{path}:{line}: deployment {name!r}: parameters must be a mapping or a list of names")
    params = _reasoning(path, name, params, line)
    for key in ("min_context_tokens", "tokens_per_minute", "inputs_per_call"):
        value = raw.get(key)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
            raise InputError(f"{path}:{line}: deployment {name!r}: {key} must be a whole number, not {value!r}")
    roles = raw.get("roles") or []
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise InputError(
            f"{path}:{line}: deployment {name!r}: roles must be a list of message roles, e.g. [system, user]"
        )
    api_version = raw.get("api_version")
    if api_version is not None:
        api_version = str(api_version)
        if api_version not in ("v1", "latest", "preview") and not re.fullmatch(
            r"\d{4}-\d{2}-\d{2}(-preview)?|env:[A-Za-z_][A-Za-z0-9_]*", api_version
        ):
            raise InputError(
                f"{path}:{line}: deployment {name!r}: api_version must be a dated api-version such as 2024-10-21 "
                f"or 2025-04-01-preview (or v1, or env:NAME), not {api_version!r}"
            )
    account = raw.get("account")
    conditions = raw.get("conditions") or {}
    if not isinstance(conditions, Mapping) or not all(isinstance(v, str) for v in conditions.values()):
        raise InputError(
            f"{path}:{line}: deployment {name!r}: conditions must map parameter names to the condition's text, "
            "e.g. {reasoning: \"deployment.startswith('o')\"}"
        )
    return ContractCall(
        conditions={str(k): str(v) for k, v in conditions.items()},
        deployment=name,
        api=api,
        parameters=dict(params),
        account=str(account) if account is not None else None,
        min_context_tokens=raw.get("min_context_tokens"),
        tokens_per_minute=raw.get("tokens_per_minute"),
        location=_source(path, raw, line) or SourceLocation(str(path), line),
        roles=tuple(roles),
        api_version=api_version,
        inputs_per_call=raw.get("inputs_per_call"),
        sdk=str(raw["sdk"]) if raw.get("sdk") is not None else None,
    )


def _reasoning(path: Path, name: str, params: Mapping[str, Any], line: int) -> dict[str, Any]:
    """Keep the two APIs' reasoning parameters apart, as openai-python's signatures do: Chat Completions
    takes `reasoning_effort: <effort>`, the Responses API `reasoning: {effort: <effort>}` (`reasoning.effort:
    X` is accepted as shorthand for the latter). Either sent to the other API is the app's error, which the
    rules report; a value of the wrong shape is a malformed contract."""
    result = {str(k): v for k, v in params.items() if str(k) != "reasoning.effort"}
    if "reasoning.effort" in params:
        nested = result.get("reasoning")
        if nested is not None and not isinstance(nested, Mapping):
            raise InputError(
                f"{path}:{line}: deployment {name!r}: give reasoning either as reasoning: {{effort: X}} or as reasoning.effort: X"
            )
        result["reasoning"] = {**(nested or {}), "effort": params["reasoning.effort"]}
    reasoning = result.get("reasoning")
    if reasoning is not None and not isinstance(reasoning, Mapping):
        raise InputError(
            f"{path}:{line}: deployment {name!r}: reasoning must be a mapping such as {{effort: {reasoning}}} "
            f"(the Responses API's parameter); Chat Completions takes reasoning_effort: {reasoning}"
        )
    effort = result.get("reasoning_effort")
    if isinstance(effort, (Mapping, list)):
        raise InputError(
            f"{path}:{line}: deployment {name!r}: reasoning_effort is a single value such as medium "
            "(Chat Completions); the Responses API takes reasoning: {effort: medium}"
        )
    return result


def load_contract(path: Path | str) -> tuple[ContractCall, ...]:
    """Read and validate a contract file; problems name the file and line."""
    return load_contract_document(path)[0]


def load_contract_document(
    path: Path | str, environ: Mapping[str, str] | None = None
) -> tuple[tuple[ContractCall, ...], tuple[UnresolvedCall, ...]]:
    """The contract's calls, and the calls whose deployment name cannot be known here: `unresolved:`
    entries, and `env:NAME` deployments when NAME is set neither in `environ` (the audit's environment,
    passed in by the CLI) nor by a `default:`."""
    path = Path(path)
    document = load_yaml(path, what="contract")
    if not isinstance(document, LineDict) or not isinstance(document.get("deployments"), LineDict):
        raise InputError(f"{path}:1: a contract needs a top-level `deployments:` mapping of deployment names")
    extra = sorted(set(map(str, document)) - _TOP_KEYS)
    if extra:
        raise InputError(f"{path}:{document.key_lines.get(extra[0], 1)}: unknown top-level key {extra[0]!r}")
    deployments = document["deployments"]
    calls: list[ContractCall] = []
    unresolved: list[UnresolvedCall] = []
    for name, raw in deployments.items():
        line = deployments.key_lines.get(str(name), 1)
        entries = raw if isinstance(raw, list) else [raw]
        for index, entry in enumerate(entries):
            entry_line = raw.item_lines[index] if isinstance(raw, LineList) else line
            call = _call(path, str(name), entry, entry_line)
            if call.api_version and call.api_version.startswith("env:"):
                # As openai-python does: the variable (OPENAI_API_VERSION) where the audit runs; unset -> not judged.
                call = replace(call, api_version=(environ or {}).get(call.api_version[4:]) or None)
            default = entry.get("default")
            if not str(name).startswith("env:"):
                if default is not None:
                    raise InputError(
                        f"{path}:{_entry_line(entry, entry_line)}: default is only for env: deployment names, not {name!r}"
                    )
                calls.append(call)
                continue
            variable = str(name)[4:]
            value = (environ or {}).get(variable) or (str(default) if default is not None else None)
            if value:
                calls.append(replace(call, deployment=value))
            else:
                unresolved.append(
                    UnresolvedCall(
                        api=call.api,
                        expression=str(name),
                        location=call.location,
                        parameters=dict(call.parameters),
                        why=f"the deployment name comes from environment variable {variable}, which has no default in "
                        "the code and is not set where the audit runs",
                    )
                )
    unresolved.extend(_unresolved(path, document.get("unresolved")))
    return tuple(calls), tuple(unresolved)


def _entry_line(raw: Any, line: int) -> int:
    return getattr(raw, "line", line)


def _unresolved(path: Path, raw: Any) -> list[UnresolvedCall]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise InputError(f"{path}:{getattr(raw, 'line', 1)}: unresolved must be a list of calls")
    found = []
    for index, entry in enumerate(raw):
        line = raw.item_lines[index] if isinstance(raw, LineList) else 1
        if not isinstance(entry, Mapping):
            raise InputError(f"{path}:{line}: an unresolved call needs api, source, model and why")
        reject_unknown_keys(path, entry, _UNRESOLVED_KEYS, what="in an unresolved call", line=line)
        if entry.get("api") not in APIS:
            raise InputError(
                f"{path}:{line}: unresolved call: api must be one of {', '.join(APIS)}, not {entry.get('api')!r}"
            )
        params = entry.get("parameters") or {}
        if isinstance(params, list):
            params = {str(p): None for p in params}
        found.append(
            UnresolvedCall(
                api=str(entry["api"]),
                expression=str(entry.get("model") or "?"),
                why=str(entry.get("why") or "not given"),
                location=_source(path, entry, line) or SourceLocation(str(path), line),
                parameters=dict(params) if isinstance(params, Mapping) else {},
                sdk=str(entry["sdk"]) if entry.get("sdk") is not None else None,
            )
        )
    return found


def load_contract_unread(path: Path | str) -> tuple[str, ...]:
    """The contract's `unread:` list: files of the app the scan that wrote it could not read (each a gap of
    the audit unless the user allows them)."""
    path = Path(path)
    document = load_yaml(path, what="contract")
    raw = document.get("unread") if isinstance(document, Mapping) else None
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        line = document.key_lines.get("unread", 1) if isinstance(document, LineDict) else 1
        raise InputError(f"{path}:{line}: unread must be a list of texts (a file and why it was not read)")
    return tuple(raw)
