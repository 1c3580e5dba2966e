"""Pass 2 of the scan: the calls in one file. The openai SDK's call shapes (`chat.completions.create`,
`.with_raw_response.create`, `responses.stream`, `functools.partial(...create, model=...)`), the client each
call goes through (followed back to its constructor: `AzureOpenAI(azure_deployment=...)` routes every call to
that deployment, `api_version=` is recorded), keyword dicts passed as `**params`, and the call sites of
one-level wrappers (`def complete(model, **kw)`). Framework classes and the pre-1.0 SDK are in
`frameworks.py` and `legacy.py`."""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from auditor.sources.scan.collect import collect
from auditor.sources.scan.model import Assignment, Resolved, ScannedCall, Scope, Unresolved
from auditor.sources.scan.resolve import block_mentions_azure, branch_is_azure

METHODS = {
    ("chat", "completions", "create"): "chat_completions",
    ("chat", "completions", "parse"): "chat_completions",
    ("chat", "completions", "stream"): "chat_completions",
    ("responses", "create"): "responses",
    ("responses", "parse"): "responses",
    ("responses", "stream"): "responses",
    ("embeddings", "create"): "embeddings",
    ("completions", "create"): "completions",
    # openai-python 3.3.1 (openai/openai-python src/openai/resources/, commit e43b422, 2026-08-21): every
    # method below takes `model=` (the deployment name on Azure), keyword-only like the ones above.
    ("responses", "compact"): "responses",  # responses/responses.py compact(model=, input=, ...)
    ("images", "generate"): "images",  # images.py generate(prompt=, model=, n=, quality=, size=, style= ...)
    ("images", "edit"): "images",  # images.py edit(image=, prompt=, model=, ...)
    ("images", "create_variation"): "images",  # images.py create_variation(image=, model=, ...)
    ("audio", "transcriptions", "create"): "audio",  # audio/transcriptions.py create(file=, model=, ...)
    ("audio", "translations", "create"): "audio",  # audio/translations.py create(file=, model=, ...)
    ("audio", "speech", "create"): "audio",  # audio/speech.py create(input=, model=, voice=, ...)
    ("realtime", "connect"): "realtime",  # realtime/realtime.py and beta/realtime/realtime.py connect(model=)
    ("videos", "create"): "video",  # videos.py create(prompt=, model=, seconds=, size=)
    ("assistants", "create"): "assistants",  # beta/assistants.py create(model=, instructions=, tools= ...)
    ("batches", "create"): "batch",  # batches.py create(completion_window=, endpoint=, input_file_id=): no model=
    ("fine_tuning", "jobs", "create"): "fine_tuning",  # fine_tuning/jobs/jobs.py create(model=, training_file=)
    ("evals", "create"): "evals",  # evals/evals.py create(data_source_config=, testing_criteria=)
}
NO_MODEL_APIS = {
    "batch": "a batch names its deployment in each request line of its input file (batches.create takes no model=)",
    "fine_tuning": "a fine-tuning job names a base model to train, not a deployment the app calls",
    "evals": "an evaluation names its grader deployments inside testing_criteria, not as model=",
}
"""Call shapes that name no deployment in the call: listed in the contract's notes, never audited as a call."""
LEGACY = {"ChatCompletion": "chat_completions", "Completion": "completions", "Embedding": "embeddings"}
_RAW = ("with_raw_response", "with_streaming_response")
CALL_NAMES = frozenset(
    {"create", "parse", "stream", "acreate", "compact", "generate", "edit", "create_variation", "connect"}
)
"""The last name of every SDK call shape: pass 1 marks the lines of calls ending so for pass 2."""
NOT_PARAMETERS = {"model", "extra_headers", "extra_query", "extra_body", "timeout"}
VALUE_PARAMETERS = {
    "temperature",
    "top_p",
    "max_tokens",
    "max_completion_tokens",
    "max_output_tokens",
    "n",
    "stream",
    "seed",
    "presence_penalty",
    "frequency_penalty",
    "reasoning_effort",
    "verbosity",
    "store",
    "parallel_tool_calls",
    "logprobs",
    "top_logprobs",
    "service_tier",
    "truncation",
    "dimensions",
    "encoding_format",
    "background",
    "tool_choice",
    "size",
    "quality",
    "style",
    "output_format",
    "voice",
    "speed",
    "language",
    "seconds",
}
"""Parameters whose literal value is recorded; every other parameter (messages, input, instructions, prompt,
tools ...) is recorded as present only, so no prompt text of the app is copied into the contract."""
_REASONING_KEYS = ("effort", "summary")
_PLACEHOLDER = re.compile(r"<[^<>]*>|\[[^\[\]]*\]|\{[^{}]*\}|(?i:your[-_ ].*|replace[-_ ].*|x{3,})")
"""Samples' stand-ins for a name (`<DEPLOYMENT_NAME>`, `<your-deployment>`, `YOUR_DEPLOYMENT`): not a name."""


@dataclass(frozen=True)
class Shape:
    """An SDK call: its API, the method (create / parse / stream) and the client expression it is made on."""

    api: str
    method: str
    client: ast.expr
    legacy: bool = False


def sdk_shape(call: ast.Call) -> Shape | None:
    """The openai SDK call shape of `call`, whatever the client expression (a name, `self.client`,
    `clients["openai"]`, `OpenAI()`); `with_raw_response` / `with_streaming_response` are seen through."""
    attrs: list[tuple[str, ast.expr]] = []
    func = call.func
    while isinstance(func, ast.Attribute):
        attrs.insert(0, (func.attr, func.value))
        func = func.value
    kept = [(name, owner) for name, owner in attrs if name not in _RAW]
    names = tuple(name for name, _ in kept)
    for length in (3, 2):
        suffix = names[-length:]
        if len(names) < length or suffix not in METHODS:
            continue
        if length == 2 and suffix[0] == "completions" and len(names) >= 3 and names[-3] == "chat":
            continue
        start = len(kept) - length
        if start > 0 and names[start - 1] == "beta":
            start -= 1
        return Shape(METHODS[suffix], suffix[-1], kept[start][1])
    if names and names[-1] in ("create", "acreate"):
        if len(names) >= 2 and names[-2] in LEGACY:
            return Shape(LEGACY[names[-2]], "create", kept[-2][1], legacy=True)
        if len(names) == 1 and isinstance(func, ast.Name) and func.id in LEGACY:
            return Shape(LEGACY[func.id], "create", func, legacy=True)
    return None


@dataclass(frozen=True)
class Site:
    """A call of a wrapper function: where, and what it passes as the deployment name and parameters."""

    module: str
    function: str
    file: str
    line: int
    expression: str
    deployment: Resolved | Unresolved
    parameters: Mapping[str, Any]


@dataclass
class Pending:
    """An SDK call whose model= is a parameter of its function: replaced by one call per call site found."""

    module: str
    function: str
    call: ScannedCall


@dataclass
class Found:
    calls: list[ScannedCall] = field(default_factory=list)
    sites: list[Site] = field(default_factory=list)
    pending: list[Pending] = field(default_factory=list)
    notes: list[tuple[str, int, str]] = field(default_factory=list)  # (file, line, text): calls naming no deployment


def choose_assignment(values: list[tuple[Assignment, Any]]) -> tuple[Assignment, Any] | None:
    """Of several values a name or attribute is given, the one on the Azure branch, or the only one."""
    if len(values) == 1:
        return values[0]
    azure = [
        item
        for item in values
        if branch_is_azure(item[0].branch)
        or (item[0].value is not None and block_mentions_azure([ast.Expr(item[0].value)]))
    ]
    return azure[0] if len(azure) == 1 else None


def result_call(
    *,
    api: str,
    file: str,
    line: int,
    expression: str,
    parameters: Mapping[str, Any],
    outcome: Resolved | Unresolved,
    via: str | None = None,
    sdk: str | None = None,
    api_version: str | None = None,
    note: str | None = None,
    conditions: Mapping[str, str] | None = None,
) -> ScannedCall:
    """A ScannedCall from the outcome of resolving its deployment name."""
    call = partial(  # typed: mypy checks partial's arguments against ScannedCall
        ScannedCall,
        api=api,
        file=file,
        line=line,
        expression=expression,
        parameters=dict(sorted(parameters.items())),
        via=via,
        sdk=sdk,
        api_version=api_version,
        conditions=dict(sorted((conditions or {}).items())),
    )
    if isinstance(outcome, Unresolved):
        return call(deployment=None, why=outcome.why, reason=outcome.reason, note=note)
    if outcome.kind == "env":
        default = None if outcome.default is None else str(outcome.default)
        return call(
            deployment=f"env:{outcome.value}",
            default=default,
            alternatives=outcome.alternatives,
            note=note or outcome.note,
        )
    if isinstance(outcome.value, str) and _PLACEHOLDER.fullmatch(outcome.value):
        why = f"the deployment name is the placeholder {outcome.value!r}, to be filled in before the code runs"
        return call(deployment=None, why=why, reason="placeholder", note=note)
    if isinstance(outcome.value, str) and outcome.value:
        return call(deployment=outcome.value, alternatives=outcome.alternatives, note=note or outcome.note)
    why = f"the deployment name is {outcome.value!r}, not a deployment name"
    return call(deployment=None, why=why, reason="not-a-name", note=note)


def scope_for_class(name: str, body: list[ast.stmt]) -> Scope:
    scope = Scope(name, kind="class")
    collect(body, scope)
    return scope
