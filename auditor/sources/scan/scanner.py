"""Pass 2 for one file: visit every call with the scopes around it and record what it sends."""

from __future__ import annotations

import ast
from collections.abc import Iterable
from typing import Any

from auditor.sources.scan import frameworks, legacy
from auditor.sources.scan.calls import (
    NOT_PARAMETERS,
    VALUE_PARAMETERS,
    Found,
    Pending,
    Shape,
    Site,
    choose_assignment,
    result_call,
    scope_for_class,
    sdk_shape,
)
from auditor.sources.scan.collect import LazyScope, collect, dotted
from auditor.sources.scan.model import Resolved, Scope, Unresolved
from auditor.sources.scan.project import Project, statement_spans
from auditor.sources.scan.resolve import MAX_DEPTH, Ctx, Resolver, literal, short

_AZURE_CLIENTS = ("AzureOpenAI", "AsyncAzureOpenAI")


class FileScanner:
    def __init__(self, project: Project, resolver: Resolver, module: str, display: str) -> None:
        self.project = project
        self.resolver = resolver
        self.module = module
        self.display = display
        self.found = Found()
        self.wrappers = project.wrapper_names()
        self.frameworks = frameworks.FrameworkCalls(self)

    def run(self, tree: ast.Module, lines: Iterable[int] | None = None, scope: Scope | None = None) -> Found:
        """Every call in the tree; with `lines` (from pass 1), only statements spanning one of them are visited.
        `scope` is the module's scope from pass 1 (the tree may hold only the statements with calls)."""
        wanted = sorted(lines) if lines is not None else None
        if scope is None:
            scope = Scope("<module>", kind="module")
            collect(tree.body, scope)
        stack: list[tuple[ast.AST, Ctx]] = [(node, Ctx(self.module, (scope,))) for node in reversed(tree.body)]
        while stack:
            node, ctx = stack.pop()
            if wanted is not None and isinstance(node, ast.stmt) and not statement_spans(node, wanted):
                continue
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                owner = ctx.scopes[-1]
                cls = owner.name if owner.kind == "class" else owner.cls
                inner = ctx.inner(LazyScope(node, cls))
                body = [node.body] if isinstance(node, ast.Lambda) else node.body
                stack.extend((child, inner) for child in reversed(body))
                stack.extend((d, ctx) for d in getattr(node, "decorator_list", ()))
                stack.extend((d, ctx) for d in node.args.defaults)
                continue
            if isinstance(node, ast.ClassDef):
                inner = ctx.inner(scope_for_class(node.name, node.body))
                stack.extend((child, inner) for child in reversed(node.body))
                continue
            if isinstance(node, ast.Call):
                self.call(node, ctx)
            stack.extend((child, ctx) for child in reversed(list(ast.iter_child_nodes(node))))
        self.frameworks.finish()
        return self.found

    # -- one call ---------------------------------------------------------------------------------------

    def call(self, node: ast.Call, ctx: Ctx) -> None:
        shape = sdk_shape(node)
        if shape is not None:
            if shape.legacy:
                legacy.record(self, node, shape, ctx)
            else:
                self.sdk_call(node, shape, ctx)
            return
        func = dotted(node.func) or ""
        if func.split(".")[-1] == "partial" and node.args and isinstance(node.args[0], ast.Attribute):
            inner = ast.Call(func=node.args[0], args=[], keywords=node.keywords)
            ast.copy_location(inner, node)
            shape = sdk_shape(inner)
            if shape is not None and not shape.legacy:
                self.sdk_call(inner, shape, ctx, via="functools.partial")
            return
        if self.frameworks.call(node, ctx):
            return
        name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
        if name in self.wrappers:
            self.site(node, name, ctx)

    def keywords(self, node: ast.Call, ctx: Ctx) -> tuple[dict[str, tuple[ast.expr, Ctx]], str | None]:
        """The call's keywords, with those of `**params` dicts the code builds; the text of a `**x` it cannot see."""
        found: dict[str, tuple[ast.expr, Ctx]] = {}
        unseen = None
        for keyword in node.keywords:
            if keyword.arg is not None:
                found[keyword.arg] = (keyword.value, ctx)
                continue
            items = self.resolver.dict_items(keyword.value, ctx, 0)
            if items is None:
                unseen = short(keyword.value)
            else:
                found = {**items, **found}
        return found, unseen

    def parameters(self, api: str, keywords: dict[str, tuple[ast.expr, Ctx]]) -> dict[str, Any]:
        parameters: dict[str, Any] = {}
        for name, (expr, ctx) in keywords.items():
            if name in NOT_PARAMETERS:
                continue
            if name == "text_format" and api == "responses":  # parse()'s helper: sent as text.format on the wire
                parameters["text"] = None
            elif name == "reasoning":
                parameters["reasoning"] = self.reasoning(expr, ctx)
            elif name in VALUE_PARAMETERS:
                parameters[name] = literal(self.resolver, expr, ctx)
            else:
                parameters[name] = None
        extra = keywords.get("extra_body")
        if extra is not None:
            for name, (expr, ctx) in (self.resolver.dict_items(extra[0], extra[1], 0) or {}).items():
                parameters[name] = literal(self.resolver, expr, ctx) if name in VALUE_PARAMETERS else None
        return parameters

    def reasoning(self, expr: ast.expr, ctx: Ctx) -> dict[str, Any] | None:
        """`reasoning={"effort": "medium"}` (or `Reasoning(effort=...)`) as the mapping `{effort: medium}`."""
        items = self.resolver.dict_items(expr, ctx, 0)
        if items is None and isinstance(expr, ast.Call):
            items = {k.arg: (k.value, ctx) for k in expr.keywords if k.arg}
        if not items:
            return None
        found = {k: literal(self.resolver, v, c) for k, (v, c) in items.items() if k in ("effort", "summary")}
        return found or None

    def sdk_call(self, node: ast.Call, shape: Shape, ctx: Ctx, via: str | None = None) -> None:
        keywords, unseen = self.keywords(node, ctx)
        if (
            shape.method == "stream"
            and shape.api == "responses"
            and "response_id" in keywords
            and "model" not in keywords
        ):
            return  # resuming a stored response: no deployment name is sent
        client = self.client_constructor(shape.client, ctx, 0)
        if client is not None and self.foreign(client):
            return
        parameters = self.parameters(shape.api, keywords)
        if shape.method == "stream":
            parameters["stream"] = True
        expression = short(keywords["model"][0]) if "model" in keywords else "(no model=)"
        note = None
        outcome: Resolved | Unresolved
        routed = self.client_keyword(client, "azure_deployment")
        if routed is not None:
            outcome = self.resolve(routed[0], routed[1], "the client's azure_deployment")
            note = (
                f"the AzureOpenAI client's azure_deployment routes the call; model={expression} is not used for routing"
            )
        elif "model" in keywords:
            outcome = self.resolve(*keywords["model"])
        elif unseen is not None:
            outcome = Unresolved(f"the call passes its arguments as **{unseen}, built at run time", "kwargs-unresolved")
        else:
            why = "the call passes no model= keyword (positional or **kwargs): the deployment name is not in the code"
            outcome = Unresolved(why, "no-model-keyword")
        found = result_call(
            api=shape.api,
            file=self.display,
            line=node.lineno,
            expression=expression,
            parameters=parameters,
            outcome=outcome,
            via=via,
            api_version=self.api_version(client),
            note=note,
        )
        function = ctx.scopes[-1]
        if isinstance(outcome, Unresolved) and outcome.reason == "function-argument" and function.kind == "function":
            self.found.pending.append(Pending(self.module, function.name, found))
        self.found.calls.append(found)

    def resolve(self, expr: ast.expr, ctx: Ctx, what: str = "model=") -> Resolved | Unresolved:
        """What an expression in this file evaluates to (a deployment name, an api-version), or why it cannot
        be known: the one resolution the framework and legacy-SDK recognisers (frameworks.py, legacy.py) call."""
        try:
            return self.resolver.resolve(expr, ctx, 0, what)
        except Unresolved as exc:
            return exc

    # -- the client --------------------------------------------------------------------------------------

    def client_constructor(self, expr: ast.expr, ctx: Ctx, depth: int) -> tuple[ast.Call, Ctx] | None:
        """The call that built a client expression: `client`, `self.client`, `bp.openai_client`,
        `clients["openai"]` followed to `AzureOpenAI(...)`; None when the code does not say."""
        if depth > MAX_DEPTH:
            return None
        if isinstance(expr, ast.Await):
            return None
        if isinstance(expr, ast.Call):
            return (expr, ctx)
        items: list[tuple[Any, Ctx]] = []
        if isinstance(expr, ast.Name):
            located = ctx.lookup(expr.id)
            if located is None or expr.id in located[1].params:
                return None
            index, scope = located
            inner = Ctx(ctx.module, ctx.scopes[: index + 1])
            items = [(a, inner) for a in scope.assigned.get(expr.id, [])]
        elif isinstance(expr, ast.Attribute):
            key = dotted(expr)
            if key is not None and key.startswith("self.") and key.count(".") == 1:
                owner = ctx.scopes[-1].cls if ctx.scopes else None
                cls = self.project.find_class(ctx.module, owner) if owner else None
                if cls is not None:
                    for info in self.project.class_chain(cls):
                        for assignment, scope in info.self_attrs.get(expr.attr, []):
                            items.append(
                                (assignment, Ctx(info.module, (self.project.module_scope_of(info.module), scope)))
                            )
            elif key is not None:
                items = list(self.project.attribute_assignments(ctx.module, key))
        elif isinstance(expr, ast.Subscript) and isinstance(expr.slice, ast.Constant):
            found = self.resolver.dict_items(expr.value, ctx, depth + 1)
            if found and isinstance(expr.slice.value, str) and expr.slice.value in found:
                value, inner = found[expr.slice.value]
                return self.client_constructor(value, inner, depth + 1)
        chosen = choose_assignment([item for item in items if item[0].value is not None])
        if chosen is None:
            return None
        assignment, inner = chosen
        return self.client_constructor(assignment.value, inner, depth + 1) if assignment.value is not None else None

    def origin_module(self, client: tuple[ast.Call, Ctx]) -> tuple[str | None, str]:
        """(the module the client's class comes from, None if the code does not say; the class name)."""
        call, ctx = client
        name = dotted(call.func) or ""
        head, _, rest = name.partition(".")
        origin = ctx.origin(head)
        if origin is None:
            return None, name.split(".")[-1]
        module, member = origin
        return (module if member else module + ("." + rest.rsplit(".", 1)[0] if "." in rest else "")), name.split(".")[
            -1
        ]

    def foreign(self, client: tuple[ast.Call, Ctx]) -> bool:
        """A client of another SDK with the same call shape (huggingface_hub's InferenceClient, groq ...)."""
        module, _ = self.origin_module(client)
        if module is None or module.startswith("."):
            return False
        root = module.split(".")[0]
        return root != "openai" and self.project.module_scope(self.module, module) is None

    def client_keyword(self, client: tuple[ast.Call, Ctx] | None, name: str) -> tuple[ast.expr, Ctx] | None:
        if client is None:
            return None
        call, ctx = client
        if self.origin_module(client)[1] not in _AZURE_CLIENTS:
            return None
        value = next((k.value for k in call.keywords if k.arg == name), None)
        if value is None:
            items = next((k.value for k in call.keywords if k.arg is None), None)
            found = self.resolver.dict_items(items, ctx, 0) if items is not None else None
            if found and name in found:
                return found[name]
            return None
        return (value, ctx)

    def api_version(self, client: tuple[ast.Call, Ctx] | None) -> str | None:
        """The api-version an AzureOpenAI client sends: its api_version=, else OPENAI_API_VERSION (openai-python
        reads it when none is passed); none for a client on the v1 endpoint (`.../openai/v1/`)."""
        if client is None or self.origin_module(client)[1] not in _AZURE_CLIENTS:
            return None
        given = self.client_keyword(client, "api_version")
        if given is None:
            base = self.client_keyword(client, "base_url") or self.client_keyword(client, "azure_endpoint")
            if base is not None and "/openai/v1" in short(base[0]):
                return None
            return "env:OPENAI_API_VERSION"
        outcome = self.resolve(given[0], given[1], "api_version=")
        if isinstance(outcome, Unresolved):
            return None
        return outcome.text() if outcome.kind == "env" or outcome.value else None

    # -- wrappers ----------------------------------------------------------------------------------------

    def site(self, node: ast.Call, name: str, ctx: Ctx) -> None:
        candidates = self.project.wrappers_by_name.get(name, [])
        module = None
        if isinstance(node.func, ast.Name):
            origin = ctx.origin(name)
            if origin is not None and origin[1]:
                owner = self.project.module_scope(self.module, origin[0])
                module = owner[0] if owner else None
            elif any(s.module == self.module for s in candidates):
                module = self.module
        if module is None and len(candidates) == 1:
            module = candidates[0].module
        if module is None or module not in self.project.modules:
            return
        param, index, forwards = self.project.modules[module].wrappers[name]
        expr = next((k.value for k in node.keywords if k.arg == param), None)
        if expr is None and 0 <= index < len(node.args) and not isinstance(node.args[index], ast.Starred):
            expr = node.args[index]
        if expr is None:
            outcome: Resolved | Unresolved = Unresolved(
                f"the call of {name}() passes no `{param}` argument (its default, or **kwargs)", "wrapper-default"
            )
        else:
            outcome = self.resolve(expr, ctx)
        parameters: dict[str, Any] = {}
        if forwards:
            keywords, _ = self.keywords(node, ctx)
            parameters = self.parameters("chat_completions", {k: v for k, v in keywords.items() if k != param})
        self.found.sites.append(
            Site(
                module,
                name,
                self.display,
                node.lineno,
                short(expr) if expr is not None else "(none)",
                outcome,
                parameters,
            )
        )
