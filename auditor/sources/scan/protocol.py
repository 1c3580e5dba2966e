"""The small protocol between the scanner and its recognisers (plug-ins).

The scanner (`scanner.py`) visits every call of a file and offers it to each recogniser in turn; a recogniser
(frameworks, the pre-1.0 SDK, Prompty, AutoGen component configs, azure-ai-evaluation model configs, Foundry
agents) answers whether the call is one of its own and records what it found through the `ScanContext` it
was built with. Recognisers depend on this module, on the value model (`model.py`) and the shared helpers
(`calls.py`, `collect.py`, `resolve.py`) only — never on the scanner — so the modules depend one way:
scanner -> recognisers -> protocol."""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any, Protocol

from auditor.sources.scan.model import Assignment, Resolved, ScannedCall, Unresolved
from auditor.sources.scan.resolve import Ctx, Resolver

Keywords = dict[str, tuple[ast.expr, Ctx]]


class ProjectView(Protocol):
    """What a recogniser may ask of the project (project.py's Project), without importing it."""

    def attribute_assignments(self, module: str, key: str) -> list[tuple[Assignment, Ctx]]:
        """Assignments to `obj.attr` / `app.config[X]` seen from `module`."""
        ...

    def chat_default(self) -> bool:
        """Whether the app sets the Agents SDK's default API to Chat Completions."""
        ...


class ScanContext(Protocol):
    """What a recogniser may ask of the scan of one file."""

    resolver: Resolver
    module: str
    display: str

    @property
    def project(self) -> ProjectView:
        """The project's modules, for look-ups across them."""
        ...

    def resolve(self, expr: ast.expr, ctx: Ctx, what: str = "model=") -> Resolved | Unresolved:
        """The value of an expression, or why it is only known at run time."""
        ...

    def keywords(self, node: ast.Call, ctx: Ctx) -> tuple[Keywords, str | None]:
        """A call's keywords, `**dict`s the code builds included; the text of a `**x` it cannot see."""
        ...

    def parameters(self, api: str, keywords: Keywords) -> dict[str, Any]:
        """The request parameters a call's keywords send (literal values where the contract keeps them)."""
        ...

    def reasoning(self, expr: ast.expr, ctx: Ctx) -> dict[str, Any] | None:
        """`reasoning={"effort": ...}` as a mapping."""
        ...

    def constructor_of(self, expr: ast.expr, ctx: Ctx) -> tuple[ast.Call, Ctx] | None:
        """The call that built the object an expression names (a client, a settings object), if the code says."""
        ...

    def api_version(self, client: tuple[ast.Call, Ctx] | None) -> str | None:
        """The api-version an AzureOpenAI client built by `client` sends."""
        ...

    def record(self, call: ScannedCall) -> None:
        """A call to Azure OpenAI found in the file."""
        ...

    def note(self, line: int, text: str) -> None:
        """A call recognised but naming no deployment (batch input files, vector stores ...): listed, not audited."""
        ...


class Recogniser(Protocol):
    """A plug-in that recognises calls of one library. Its class also names `marks`, the names whose calls
    pass 1 must keep for pass 2 (a call `Name(` or `.name(` on a line marks the line), and `roots`, the
    top-level modules whose importers may hold its calls (recognisers.py gathers both); a call is offered to
    the recognisers whose `marks` name it (or, for names ending like an evaluator's, to all)."""

    marks: frozenset[str]

    def call(self, node: ast.Call, ctx: Ctx) -> bool:
        """Record `node` if it is this recogniser's; True when it was (no other recogniser is asked then)."""
        ...

    def finish(self) -> None:
        """The file is visited: record what was held back (constructors no agent used ...)."""
        ...


RecogniserFactory = Callable[[ScanContext], Recogniser]
