"""Pass 2 for one file: visit every call with the scopes around it and record what it sends."""

from __future__ import annotations

import ast
import copy
from collections.abc import Iterable
from typing import Any

from auditor.sources.scan.calls import (
    NO_MODEL_APIS,
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
from auditor.sources.scan.model import Resolved, ScannedCall, Scope, Unresolved
from auditor.sources.scan.project import Project, statement_spans
from auditor.sources.scan.protocol import Recogniser
from auditor.sources.scan.recognisers import MARK_SUFFIXES, RECOGNISERS
from auditor.sources.scan.resolve import MAX_DEPTH, Ctx, Resolver, literal, short

_AZURE_CLIENTS = ("AzureOpenAI", "AsyncAzureOpenAI")


class FileScanner:
    """Pass 2 for one file; the `ScanContext` its recognisers (protocol.py) record through."""

    def __init__(self, project: Project, resolver: Resolver, module: str, display: str) -> None:
        self.project = project
        self.resolver = resolver
        self.module = module
        self.display = display
        self.found = Found()
        self.wrappers = project.wrapper_names()
        self.recognisers = [factory(self) for factory in RECOGNISERS]
        self.by_name: dict[str, list[Recogniser]] = {}  # a call is offered only to the recognisers marking its name
        for recogniser in self.recognisers:
            for mark in recogniser.marks:
                self.by_name.setdefault(mark, []).append(recogniser)

    # -- the ScanContext protocol ------------------------------------------------------------------------

    def resolve(self, expr: ast.expr, ctx: Ctx, what: str = "model=") -> Resolved | Unresolved:
        try:
            return self.resolver.resolve(expr, ctx, 0, what)
        except Unresolved as exc:
            return exc

    def constructor_of(self, expr: ast.expr, ctx: Ctx) -> tuple[ast.Call, Ctx] | None:
        return self.client_constructor(expr, ctx, 0)

    def record(self, call: ScannedCall) -> None:
        self.found.calls.append(call)

    def note(self, line: int, text: str) -> None:
        self.found.notes.append((self.display, line, text))

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
        for recogniser in self.recognisers:
            recogniser.finish()
        return self.found

    # -- one call ---------------------------------------------------------------------------------------

    def call(self, node: ast.Call, ctx: Ctx) -> None:
        shape = sdk_shape(node)
        if shape is not None and not shape.legacy:
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
        name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
        offered = self.by_name.get(name or "", ())
        if name and name.endswith(MARK_SUFFIXES):
            offered = self.recognisers
        if any(recogniser.call(node, ctx) for recogniser in offered):
            return
        if name in self.wrappers:
            self.site(node, name, ctx)

    def keywords(self, node: ast.Call, ctx: Ctx) -> tuple[dict[str, tuple[ast.expr, Ctx]], str | None]:
        """The call's keywords, with those of `**params` dicts the code builds; the text of a `**x` it cannot see."""
        found: dict[str, tuple[ast.expr, Ctx]] = {}
        unseen = None
        for keyword in node.keywords:
            guarded = _guarded(keyword.value)
            value = guarded[0] if guarded is not None else keyword.value  # the value sent when it is sent
            if keyword.arg is not None:
                found[keyword.arg] = (value, ctx)
                continue
            items = self.resolver.dict_items(value, ctx, 0)
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
        if shape.api in NO_MODEL_APIS:
            self.note(node.lineno, f"{short(node.func)}(...): {NO_MODEL_APIS[shape.api]}")
            return
        if "model" not in keywords and "agent_reference" in self._extra_body(keywords):
            self.note(
                node.lineno, f"{short(node.func)}(...): calls a Foundry agent (agent_reference): its model applies"
            )
            return
        parameters = self.parameters(shape.api, keywords)
        if shape.method == "stream":
            parameters["stream"] = True
        expression = short(keywords["model"][0]) if "model" in keywords else "(no model=)"
        outcome, note, named = self._deployment(client, keywords, unseen, expression)
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
            conditions=self.conditions(node, ctx, named, set(parameters)),
        )
        argument = isinstance(outcome, Unresolved) and outcome.reason == "function-argument"
        owner = self._wrapper_of(ctx.scopes[-1], named) if argument else None
        if owner is not None:
            self.found.pending.append(Pending(self.module, owner, found))
        self.found.calls.append(found)

    def _wrapper_of(self, function: Scope, named: ast.expr | None) -> str | None:
        """The wrapper whose call sites give this call its deployment: the function, or the class whose
        constructor's argument `self.attr` holds."""
        if function.kind != "function":
            return None
        is_self_attr = (
            isinstance(named, ast.Attribute) and isinstance(named.value, ast.Name) and named.value.id == "self"
        )
        if is_self_attr and function.cls and function.cls in self.project.modules[self.module].wrappers:
            return function.cls
        return function.name

    def _extra_body(self, keywords: dict[str, tuple[ast.expr, Ctx]]) -> dict[str, tuple[ast.expr, Ctx]]:
        extra = keywords.get("extra_body")
        return (self.resolver.dict_items(extra[0], extra[1], 0) or {}) if extra is not None else {}

    def _deployment(
        self,
        client: tuple[ast.Call, Ctx] | None,
        keywords: dict[str, tuple[ast.expr, Ctx]],
        unseen: str | None,
        expression: str,
    ) -> tuple[Resolved | Unresolved, str | None, ast.expr | None]:
        """The deployment a call reaches (the client's azure_deployment routes it when given), a note, and the
        expression naming it (a condition on that expression is a test of the deployment name)."""
        routed = self.client_keyword(client, "azure_deployment")
        if routed is not None:
            note = (
                f"the AzureOpenAI client's azure_deployment routes the call; model={expression} is not used for routing"
            )
            return self.resolve(routed[0], routed[1], "the client's azure_deployment"), note, routed[0]
        if "model" in keywords:
            return self.resolve(*keywords["model"]), None, keywords["model"][0]
        if unseen is not None:
            why = f"the call passes its arguments as **{unseen}, built at run time"
            return Unresolved(why, "kwargs-unresolved"), None, None
        why = "the call passes no model= keyword (positional or **kwargs): the deployment name is not in the code"
        return Unresolved(why, "no-model-keyword"), None, None

    def conditions(self, node: ast.Call, ctx: Ctx, named: ast.expr | None, sent: set[str]) -> dict[str, str]:
        """The parameters a `**dict` carries only under an `if` (`if name.startswith("o"): kwargs["reasoning"]
        = ...`), each with its test; a test on the expression naming the deployment is written on `deployment`."""
        tests: dict[str, ast.expr] = {}
        for keyword in node.keywords:
            guarded = _guarded(keyword.value)
            if keyword.arg is not None:
                if guarded is not None:  # temperature=0.2 if ... else NOT_GIVEN
                    tests[keyword.arg] = guarded[1]
            elif guarded is not None:  # **({"reasoning": ...} if ... else {})
                tests.update(dict.fromkeys(self.resolver.dict_items(guarded[0], ctx, 0) or {}, guarded[1]))
            else:
                self.resolver.dict_items(keyword.value, ctx, 0, tests)
        return {name: condition_text(test, named) for name, test in tests.items() if name in sent}

    # -- the client --------------------------------------------------------------------------------------

    def client_constructor(self, expr: ast.expr, ctx: Ctx, depth: int) -> tuple[ast.Call, Ctx] | None:
        """The call that built a client expression: `client`, `self.client`, `bp.openai_client`,
        `clients["openai"]` followed to `AzureOpenAI(...)`; None when the code does not say."""
        if depth > MAX_DEPTH or isinstance(expr, ast.Await):
            return None
        if isinstance(expr, ast.Call):
            return (expr, ctx)
        if isinstance(expr, ast.Subscript) and isinstance(expr.slice, ast.Constant):
            found = self.resolver.dict_items(expr.value, ctx, depth + 1)
            if found and isinstance(expr.slice.value, str) and expr.slice.value in found:
                value, inner = found[expr.slice.value]
                return self.client_constructor(value, inner, depth + 1)
            return None
        items = self._assigned(expr, ctx)
        chosen = choose_assignment([item for item in items if item[0].value is not None])
        if chosen is None or chosen[0].value is None:
            return None
        return self.client_constructor(chosen[0].value, chosen[1], depth + 1)

    def _assigned(self, expr: ast.expr, ctx: Ctx) -> list[tuple[Any, Ctx]]:
        """The assignments of a name, of `self.attr` (in the class and its project bases) or of `obj.attr`."""
        if isinstance(expr, ast.Name):
            located = ctx.lookup(expr.id)
            if located is None or expr.id in located[1].params:
                return []
            index, scope = located
            inner = Ctx(ctx.module, ctx.scopes[: index + 1])
            return [(a, inner) for a in scope.assigned.get(expr.id, [])]
        key = dotted(expr) if isinstance(expr, ast.Attribute) else None
        if key is None:
            return []
        if not (key.startswith("self.") and key.count(".") == 1):
            return list(self.project.attribute_assignments(ctx.module, key))
        owner = ctx.scopes[-1].cls if ctx.scopes else None
        cls = self.project.find_class(ctx.module, owner) if owner else None
        if cls is None:
            return []
        attr = key.split(".", 1)[1]
        return [
            (assignment, Ctx(info.module, (self.project.module_scope_of(info.module), scope)))
            for info in self.project.class_chain(cls)
            for assignment, scope in info.self_attrs.get(attr, [])
        ]

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


_NOT_SENT = ("NOT_GIVEN", "omit", "NotGiven", "Omit")


def _not_sent(expr: ast.expr) -> bool:
    """openai-python's NOT_GIVEN / omit (the keyword is left out of the request), None, or an empty dict."""
    if isinstance(expr, ast.Constant) and expr.value is None:
        return True
    if isinstance(expr, ast.Dict) and not expr.keys:
        return True
    target = expr.func if isinstance(expr, ast.Call) and not expr.args else expr
    name = dotted(target) if isinstance(target, (ast.Name, ast.Attribute)) else None
    return name is not None and name.split(".")[-1] in _NOT_SENT


def _guarded(expr: ast.expr) -> tuple[ast.expr, ast.expr] | None:
    """`X if test else NOT_GIVEN` (or None, or `{}` for `**`): (X, the test under which it is sent)."""
    if not isinstance(expr, ast.IfExp):
        return None
    if _not_sent(expr.orelse) and not _not_sent(expr.body):
        return expr.body, expr.test
    if _not_sent(expr.body) and not _not_sent(expr.orelse):
        return expr.orelse, ast.copy_location(ast.UnaryOp(ast.Not(), expr.test), expr.test)
    return None


def condition_text(test: ast.expr, named: ast.expr | None) -> str:
    """The test's text with the expression naming the deployment written `deployment`."""
    wanted = short(named) if named is not None else None

    class _Rename(ast.NodeTransformer):
        def visit(self, node: ast.AST) -> ast.AST:
            if wanted is not None and isinstance(node, ast.expr) and short(node) == wanted:
                return ast.copy_location(ast.Name("deployment", ast.Load()), node)
            visited: ast.AST = super().visit(node)
            return visited

    try:
        return ast.unparse(_Rename().visit(copy.deepcopy(test)))
    except RecursionError:
        return "(a deeply nested condition)"
