"""What the scan finds (calls, results) and the small values it reasons with (resolved values, scopes)."""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ScannedCall:
    """One call to Azure OpenAI in the source: through the openai SDK, a framework class, or the pre-1.0 SDK.

    `deployment` is a name, `env:NAME`, or None when unresolved (`why` says why, `reason` is a short code).
    `alternatives` are the other values the name takes (other branches: OpenAI.com, Ollama ...), `via` the
    framework class or wrapper the call goes through, `sdk` is "openai<1" for the pre-1.0 module API."""

    api: str
    file: str
    line: int
    deployment: str | None
    expression: str
    parameters: Mapping[str, Any] = field(default_factory=dict)
    default: str | None = None
    why: str | None = None
    reason: str | None = None
    alternatives: tuple[str, ...] = ()
    via: str | None = None
    sdk: str | None = None
    api_version: str | None = None
    note: str | None = None
    conditions: Mapping[str, str] = field(default_factory=dict)
    """Parameters sent only under a condition: parameter -> the condition's text (`deployment` stands for the
    deployment name when the test is on the name this call sends, e.g. `deployment.startswith('o')`)."""


@dataclass(frozen=True)
class ScanResult:
    """Every call found; files of the app that were not read (`skipped`: by type, size, encoding, symlink or
    error — the scan is incomplete unless the user allows it); notes (tests left out by policy, and calls
    recognised that name no deployment, such as batches)."""

    calls: tuple[ScannedCall, ...]
    skipped: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


class Unresolved(Exception):
    """A value the scan cannot know without running the app; `reason` is a short code for counting."""

    def __init__(self, why: str, reason: str = "expression") -> None:
        super().__init__(why)
        self.why = why
        self.reason = reason


@dataclass(frozen=True)
class Resolved:
    """A value known from the code: a literal, or an environment lookup (`env`) with its default."""

    kind: str  # "literal" | "env"
    value: Any
    default: Any = None
    alternatives: tuple[str, ...] = ()
    note: str | None = None
    azure: bool = False

    def text(self) -> str:
        return f"env:{self.value}" if self.kind == "env" else str(self.value)

    def described(self) -> str:
        if self.kind == "env" and self.default is not None:
            return f"env:{self.value} (default {self.default})"
        return self.text()


@dataclass(frozen=True)
class Branch:
    """The `if` branch an assignment sits in: the test, whether it is the `else` side, and its statements."""

    test: ast.expr
    orelse: bool
    body: tuple[ast.stmt, ...]
    azure: bool | None = None  # decided once when a summary keeps the assignment (the body is dropped then)


@dataclass(frozen=True)
class Assignment:
    """One value given to a name; `value` None when the scan cannot see it (a loop target, `with ... as`)."""

    value: ast.expr | None
    branch: Branch | None = None
    kind: str = "plain"  # plain | unpacked | definition | bound
    source: str = ""
    unpacked: tuple[ast.Call, int] | None = None  # `client, model = get_client()`: the call and the position


@dataclass
class Scope:
    """A module, class or function: its parameters, the values its names are assigned, its imports and the
    keys set on its dicts (`params["stream"] = True`)."""

    name: str
    kind: str = "function"
    params: set[str] = field(default_factory=set)
    annotations: dict[str, ast.expr] = field(default_factory=dict)
    assigned: dict[str, list[Assignment]] = field(default_factory=dict)
    imported: dict[str, tuple[str, str]] = field(default_factory=dict)  # local name -> (module, name or "")
    keyed: dict[str, dict[str, ast.expr]] = field(default_factory=dict)
    keyed_when: dict[str, dict[str, ast.expr]] = field(default_factory=dict)  # keys set under an `if`: its test
    cls: str | None = None  # the class a method belongs to

    def add(self, name: str, assignment: Assignment) -> None:
        self.assigned.setdefault(name, []).append(assignment)


@dataclass
class ClassInfo:
    """A class of the project: bases, fields (class-level assignments and annotations), attributes set on
    `self` in its methods (with the method's scope), and the env prefix of a pydantic-settings class."""

    name: str
    module: str
    bases: tuple[str, ...]
    fields: dict[str, tuple[ast.expr | None, ast.expr | None]] = field(default_factory=dict)  # annotation, value
    self_attrs: dict[str, list[tuple[Assignment, Scope]]] = field(default_factory=dict)
    env_prefix: str | None = None

    @property
    def is_settings(self) -> bool:
        return any(b.split(".")[-1] in ("BaseSettings", "KernelBaseSettings") for b in self.bases)

    @property
    def is_dataclass_like(self) -> bool:
        return self.is_settings or any(b.split(".")[-1] in ("BaseModel", "NamedTuple", "TypedDict") for b in self.bases)
