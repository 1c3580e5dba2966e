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
  reasoner:                       # a list when the app calls one deployment in several ways
    - {api: responses, parameters: [reasoning_effort]}
```
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from auditor.errors import InputError
from auditor.facts import ContractCall, SourceLocation
from auditor.yamlfile import LineDict, load_yaml

APIS = ("chat_completions", "responses", "completions", "embeddings")
_CALL_KEYS = {"api", "parameters", "account", "min_context_tokens", "tokens_per_minute", "roles"}


def _call(path: Path, name: str, raw: Any, line: int) -> ContractCall:
    if not isinstance(raw, Mapping):
        raise InputError(f"{path}:{line}: deployment {name!r} must map to api and parameters")
    line = getattr(raw, "line", line)
    unknown = sorted(set(map(str, raw)) - _CALL_KEYS)
    if unknown:
        key_line = raw.key_lines.get(unknown[0], line) if isinstance(raw, LineDict) else line
        allowed = ", ".join(sorted(_CALL_KEYS))
        raise InputError(f"{path}:{key_line}: unknown key {unknown[0]!r} for deployment {name!r} (allowed: {allowed})")
    api = raw.get("api")
    if api not in APIS:
        raise InputError(f"{path}:{line}: deployment {name!r}: api must be one of {', '.join(APIS)}, not {api!r}")
    params = raw.get("parameters") or {}
    if isinstance(params, list):
        params = {str(p): None for p in params}
    if not isinstance(params, Mapping):
        raise InputError(f"{path}:{line}: deployment {name!r}: parameters must be a mapping or a list of names")
    for key in ("min_context_tokens", "tokens_per_minute"):
        value = raw.get(key)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
            raise InputError(f"{path}:{line}: deployment {name!r}: {key} must be a whole number, not {value!r}")
    roles = raw.get("roles") or []
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise InputError(f"{path}:{line}: deployment {name!r}: roles must be a list of message roles, e.g. [system, user]")
    account = raw.get("account")
    return ContractCall(
        deployment=name,
        api=api,
        parameters=dict(params),
        account=str(account) if account is not None else None,
        min_context_tokens=raw.get("min_context_tokens"),
        tokens_per_minute=raw.get("tokens_per_minute"),
        location=SourceLocation(str(path), line),
        roles=tuple(roles),
    )


def load_contract(path: Path | str) -> tuple[ContractCall, ...]:
    """Read and validate a contract file; problems name the file and line."""
    path = Path(path)
    document = load_yaml(path, what="contract")
    if not isinstance(document, Mapping) or not isinstance(document.get("deployments"), Mapping):
        raise InputError(f"{path}:1: a contract needs a top-level `deployments:` mapping of deployment names")
    extra = sorted(set(map(str, document)) - {"deployments", "application"})
    if extra:
        raise InputError(f"{path}:{document.key_lines.get(extra[0], 1)}: unknown top-level key {extra[0]!r}")
    deployments = document["deployments"]
    calls: list[ContractCall] = []
    for name, raw in deployments.items():
        line = deployments.key_lines.get(str(name), 1)
        entries = raw if isinstance(raw, list) else [raw]
        for index, entry in enumerate(entries):
            entry_line = raw.item_lines[index] if isinstance(raw, list) else line
            calls.append(_call(path, str(name), entry, entry_line))
    return tuple(calls)
