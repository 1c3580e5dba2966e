"""Following a value back to where the code fixes it: literals, constants (here or in another module of
the project), environment lookups, `if` branches (the Azure one kept, the others recorded), `A or B`,
`A if A else B`, dict keys, attributes assigned once (`self.x`, `bp.x`, `app.config["X"]`), class
constants and pydantic-settings fields (`env_prefix`, `Field(alias=...)`). Never guessed: what cannot be
followed raises `Unresolved` with the reason."""

from __future__ import annotations

import ast
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from auditor.sources.scan.collect import dotted
from auditor.sources.scan.model import Assignment, Branch, ClassInfo, Resolved, Scope, Unresolved

MAX_DEPTH = 12
LIBRARY_SETTINGS = {
    # microsoft/semantic-kernel python/semantic_kernel/agents/azure_ai/azure_ai_agent_settings.py:
    # `env_prefix: ClassVar[str] = "AZURE_AI_AGENT_"`, field model_deployment_name.
    ("semantic_kernel", "AzureAIAgentSettings"): "AZURE_AI_AGENT_",
    # python/semantic_kernel/connectors/ai/open_ai/settings/azure_open_ai_settings.py: env_prefix
    # "AZURE_OPENAI_", fields chat_deployment_name, embedding_deployment_name, ...
    ("semantic_kernel", "AzureOpenAISettings"): "AZURE_OPENAI_",
}
"""pydantic-settings classes of libraries: a field is read from the environment variable prefix + FIELD."""
_AZURE_WORDS = ("azure",)


@dataclass(frozen=True)
class Ctx:
    """Where an expression is read: its module and the scopes around it (innermost last)."""

    module: str
    scopes: tuple[Scope, ...]

    def inner(self, scope: Scope) -> Ctx:
        return Ctx(self.module, (*self.scopes, scope))

    def lookup(self, name: str) -> tuple[int, Scope] | None:
        for index in range(len(self.scopes) - 1, -1, -1):
            scope = self.scopes[index]
            if scope.kind == "class" and index != len(self.scopes) - 1:
                continue  # a class body's names are not visible inside its methods
            if name in scope.params or name in scope.assigned or name in scope.imported:
                return index, scope
        return None

    def origin(self, name: str) -> tuple[str, str] | None:
        """(module, member) a name was imported as, member "" for a module."""
        found = self.lookup(name)
        return found[1].imported.get(name) if found else None


def short(expr: ast.expr | None) -> str:
    if expr is None:
        return "(none)"
    try:
        text = ast.unparse(expr)
    except RecursionError:
        return "(a deeply nested expression)"
    return text if len(text) <= 100 else text[:97] + "..."


def _mentions_azure(text: str) -> bool:
    return "azure" in text.lower()


def test_selects_azure(test: ast.expr) -> bool | None:
    """Whether an `if` test is true on Azure (`API_HOST == "azure"`, `if USE_AZURE`), false, or unknown."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        inner = test_selects_azure(test.operand)
        return None if inner is None else not inner
    if isinstance(test, ast.BoolOp):
        answers = [a for a in map(test_selects_azure, test.values) if a is not None]
        return answers[0] if answers else None
    if isinstance(test, ast.Compare):
        texts = [c.value for c in (test.left, *test.comparators) if isinstance(c, ast.Constant)]
        if any(isinstance(t, str) and _mentions_azure(t) for t in texts):
            return not isinstance(test.ops[0], (ast.NotEq, ast.NotIn, ast.IsNot))
        return None
    if isinstance(test, (ast.Name, ast.Attribute)):
        name = dotted(test) or ""
        return True if _mentions_azure(name.split(".")[-1]) else None
    if isinstance(test, ast.Call):
        words = [a.value for a in test.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
        return True if any(_mentions_azure(w) for w in words) else None
    return None


def block_mentions_azure(body: Sequence[ast.stmt]) -> bool:
    """A branch that builds an Azure client, reads an AZURE_* variable or names an Azure endpoint."""
    for statement in body:
        for node in ast.walk(statement):
            if isinstance(node, ast.Name) and node.id.startswith(("Azure", "AsyncAzure")):
                return True
            if isinstance(node, ast.Attribute) and node.attr.startswith(("Azure", "AsyncAzure", "azure_")):
                return True
            if isinstance(node, ast.keyword) and node.arg and node.arg.startswith("azure_"):
                return True
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and (node.value.startswith("AZURE_") or ".azure.com" in node.value)
            ):
                return True
    return False


def branch_is_azure(branch: Branch | None) -> bool:
    if branch is None:
        return False
    if branch.azure is not None:
        return branch.azure
    selects = test_selects_azure(branch.test)
    if selects is not None:
        return selects != branch.orelse
    return block_mentions_azure(branch.body)


class Lookups(Protocol):
    """The look-ups across the project's modules the resolver needs (project.py's Project provides them):
    declared here so that this module does not import the project's, which imports it."""

    def module_scope_of(self, module: str) -> Scope: ...

    def module_scope(self, importer: str, module: str) -> tuple[str, Scope] | None: ...

    def find_class(self, module: str, name: str) -> ClassInfo | None: ...

    def class_chain(self, cls: ClassInfo) -> list[ClassInfo]: ...

    def class_ctx(self, cls: ClassInfo) -> Ctx: ...

    def attribute_assignments(self, module: str, key: str) -> list[tuple[Assignment, Ctx]]: ...

    def returned(self, module: str, name: str) -> tuple[str, ast.expr, Scope] | None: ...


class Resolver:
    """Resolves expressions against the project's modules (pass-1 summaries) and the current file's scopes."""

    def __init__(self, project: Lookups) -> None:
        self.project = project

    # -- the entry point --------------------------------------------------------------------------------

    def resolve(self, expr: ast.expr | None, ctx: Ctx, depth: int = 0, what: str = "model=") -> Resolved:
        if expr is None or depth > MAX_DEPTH:
            raise Unresolved(f"{what} could not be followed (too many steps)", "too-deep")
        if isinstance(expr, ast.Constant):
            return Resolved("literal", expr.value)
        if (
            isinstance(expr, ast.UnaryOp)
            and isinstance(expr.op, ast.USub)
            and isinstance(expr.operand, ast.Constant)
            and isinstance(expr.operand.value, (int, float))
        ):
            return Resolved("literal", -expr.operand.value)
        if isinstance(expr, ast.JoinedStr):
            raise Unresolved(f"{what} is an f-string ({short(expr)}) built at run time", "f-string")
        env = self.env(expr, ctx, depth, what)
        if env is not None:
            return env
        if isinstance(expr, ast.BoolOp) and isinstance(expr.op, ast.Or):
            return self._fallback(expr.values, ctx, depth, what)
        if isinstance(expr, ast.IfExp):
            return self._if_expression(expr, ctx, depth, what)
        if isinstance(expr, ast.NamedExpr):
            return self.resolve(expr.value, ctx, depth + 1, what)
        if isinstance(expr, ast.Name):
            return self.name(expr.id, ctx, depth, what)
        if isinstance(expr, ast.Attribute):
            return self.attribute(expr, ctx, depth, what)
        if isinstance(expr, ast.Subscript):
            return self.subscript(expr, ctx, depth, what)
        if isinstance(expr, ast.Call):
            return self._call_value(expr, ctx, depth, what)
        raise Unresolved(f"{what} is the expression {short(expr)}, computed at run time", "expression")

    # -- environment ----------------------------------------------------------------------------------

    def env(self, expr: ast.expr, ctx: Ctx, depth: int, what: str = "model=") -> Resolved | None:
        """os.environ["X"], os.environ.get("X", d), os.getenv("X", d), `env = os.environ; env["X"]`."""
        if isinstance(expr, ast.Subscript) and self.is_environ(expr.value, ctx, depth):
            key = expr.slice
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                return Resolved("env", key.value, azure=_mentions_azure(key.value))
            raise Unresolved(f"{what} reads the environment with a computed name ({short(expr)})", "computed-env-name")
        if not isinstance(expr, ast.Call) or not expr.args:
            return None
        func = expr.func
        is_lookup = (
            (isinstance(func, ast.Attribute) and func.attr == "get" and self.is_environ(func.value, ctx, depth))
            or (
                isinstance(func, ast.Attribute)
                and func.attr == "getenv"
                and isinstance(func.value, ast.Name)
                and ctx.origin(func.value.id) == ("os", "")
            )
            or (isinstance(func, ast.Name) and ctx.origin(func.id) == ("os", "getenv"))
        )
        if not is_lookup:
            return None
        key = expr.args[0]
        if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
            raise Unresolved(f"{what} reads the environment with a computed name ({short(expr)})", "computed-env-name")
        default_expr = (
            expr.args[1]
            if len(expr.args) > 1
            else next((k.value for k in expr.keywords if k.arg in ("default", "value")), None)
        )
        default = None
        if default_expr is not None:
            try:
                resolved = self.resolve(default_expr, ctx, depth + 1, what)
                default = resolved.value if resolved.kind == "literal" else None
            except Unresolved:
                default = None
        return Resolved("env", key.value, default, azure=_mentions_azure(key.value))

    def is_environ(self, expr: ast.expr, ctx: Ctx, depth: int = 0) -> bool:
        if isinstance(expr, ast.Attribute) and expr.attr == "environ" and isinstance(expr.value, ast.Name):
            return ctx.origin(expr.value.id) == ("os", "")
        if not isinstance(expr, ast.Name):
            return False
        if ctx.origin(expr.id) == ("os", "environ"):
            return True
        found = ctx.lookup(expr.id)  # env = os.environ
        if found is None or depth > MAX_DEPTH:
            return False
        values = found[1].assigned.get(expr.id, [])
        return (
            len(values) == 1
            and values[0].value is not None
            and self.is_environ(values[0].value, Ctx(ctx.module, ctx.scopes[: found[0] + 1]), depth + 1)
        )

    # -- fallbacks: A or B, A if A else B --------------------------------------------------------------

    def _fallback(self, values: Sequence[ast.expr], ctx: Ctx, depth: int, what: str) -> Resolved:
        first = self.resolve(values[0], ctx, depth + 1, what)
        if first.kind == "literal":
            if first.value:
                return first
            return (
                self._fallback(values[1:], ctx, depth + 1, what)
                if len(values) > 2
                else self.resolve(values[1], ctx, depth + 1, what)
            )
        rest = (
            self._fallback(values[1:], ctx, depth + 1, what)
            if len(values) > 2
            else self.resolve(values[1], ctx, depth + 1, what)
        )
        if first.default is None and rest.kind == "literal":
            return replace(first, default=rest.value)
        if first.default is None and rest.kind == "env":
            return replace(first, default=rest.default, note=f"falls back to env:{rest.value}")
        return first

    def _if_expression(self, expr: ast.IfExp, ctx: Ctx, depth: int, what: str) -> Resolved:
        if short(expr.test) == short(expr.body):  # A if A else B: A or B
            return self._fallback([expr.body, expr.orelse], ctx, depth, what)
        body = self.resolve(expr.body, ctx, depth + 1, what)
        orelse = self.resolve(expr.orelse, ctx, depth + 1, what)
        if body.text() == orelse.text():
            return body
        selects = test_selects_azure(expr.test)
        if selects is None:
            selects = body.azure if body.azure != orelse.azure else None
        if selects is None:
            raise Unresolved(
                f"{what} is {body.described()} or {orelse.described()} depending on {short(expr.test)}, and neither "
                "is recognisably Azure's: not guessed",
                "branches-undecided",
            )
        chosen, other = (body, orelse) if selects else (orelse, body)
        return replace(chosen, alternatives=(other.text(),), azure=True, note=f"the Azure side of {short(expr.test)}")

    # -- names ----------------------------------------------------------------------------------------

    def name(self, name: str, ctx: Ctx, depth: int, what: str = "model=") -> Resolved:
        found = ctx.lookup(name)
        if found is None:
            raise Unresolved(f"{what} is the name {name}, which the scan cannot see defined", "undefined-name")
        index, scope = found
        if name in scope.params:
            raise Unresolved(
                f"{what} is the argument `{name}` of {scope.name}(): the deployment name is only known at run time",
                "function-argument",
            )
        if name in scope.imported:
            module, member = scope.imported[name]
            target = self.project.module_scope(ctx.module, module) if member else None
            if target is None:
                raise Unresolved(
                    f"{what} is {name}, imported from {module or name}, outside the scanned code", "other-module"
                )
            module_name, module_scope = target
            return self.in_module(module_name, module_scope, member, depth, what)
        return self.assignments(
            name, [(a, Ctx(ctx.module, ctx.scopes[: index + 1])) for a in scope.assigned[name]], scope.name, depth, what
        )

    def in_module(self, module: str, scope: Scope, name: str, depth: int, what: str = "model=") -> Resolved:
        values = scope.assigned.get(name)
        if not values:
            if name in scope.imported:
                return self.name(name, Ctx(module, (scope,)), depth + 1, what)
            raise Unresolved(f"{what} is {name} of module {module}, which does not assign it", "other-module")
        return self.assignments(name, [(a, Ctx(module, (scope,))) for a in values], module, depth, what)

    def assignments(
        self, name: str, items: Sequence[tuple[Assignment, Ctx]], where: str, depth: int, what: str = "model="
    ) -> Resolved:
        """One value for a name assigned once, or per `if` branch: the Azure branch kept, the others recorded."""
        results, problems = self._outcomes(name, items, where, depth, what)
        if len(items) == 1:
            if results:
                assignment, value = results[0]
                return replace(value, azure=value.azure or branch_is_azure(assignment.branch))
            raise problems[0][1]
        texts = list(dict.fromkeys(r.described() for _, r in results))
        if not problems and len(texts) == 1:
            return results[0][1]
        shown = ", ".join(texts + ["a run-time value"] * bool(problems))
        if all(a.branch is None for a, _ in (*results, *problems)):
            raise Unresolved(
                f"{what} is {name}, which is assigned more than once in {where} ({shown})", "assigned-several-times"
            )
        chosen = self._azure_branch(name, results, problems)
        if chosen is not None:
            return chosen
        raise Unresolved(
            f"{what} is {name}, which differs by branch ({shown}) and no single branch is recognisably Azure's: not guessed",
            "branches-undecided",
        )

    def _outcomes(
        self, name: str, items: Sequence[tuple[Assignment, Ctx]], where: str, depth: int, what: str
    ) -> tuple[list[tuple[Assignment, Resolved]], list[tuple[Assignment, Unresolved]]]:
        """Each assignment resolved, or why it cannot be."""
        results: list[tuple[Assignment, Resolved]] = []
        problems: list[tuple[Assignment, Unresolved]] = []
        for assignment, ctx in items:
            outcome = self._assigned_value(name, assignment, ctx, where, depth, what)
            if isinstance(outcome, Unresolved):
                problems.append((assignment, outcome))
            else:
                results.append((assignment, outcome))
        return results, problems

    def _assigned_value(
        self, name: str, assignment: Assignment, ctx: Ctx, where: str, depth: int, what: str
    ) -> Resolved | Unresolved:
        if assignment.kind == "definition":
            return Unresolved(f"{what} is {name}, a function or class", "expression")
        if assignment.unpacked is not None:
            followed = self._unpacked(assignment.unpacked, ctx, depth, what)
            if followed is not None:
                return followed
        if assignment.value is None:
            if assignment.kind == "unpacked":
                why = f"{what} is {name}, unpacked from {assignment.source} (a tuple known at run time)"
                return Unresolved(why, "tuple-unpacking")
            why = f"{what} is {name}, bound by {assignment.source or 'a statement'} in {where}"
            return Unresolved(why, "assigned-several-times")
        try:
            return self.resolve(assignment.value, ctx, depth + 1, what)
        except Unresolved as exc:
            return exc

    def _azure_branch(
        self,
        name: str,
        results: list[tuple[Assignment, Resolved]],
        problems: list[tuple[Assignment, Unresolved]],
    ) -> Resolved | None:
        """The value on the one branch recognisably Azure's, with the others as alternatives; None if no such."""
        azure = [(a, r) for a, r in results if r.azure or branch_is_azure(a.branch)]
        chosen_texts = list(dict.fromkeys(r.described() for _, r in azure))
        if len(chosen_texts) != 1 or any(branch_is_azure(a.branch) for a, _ in problems):
            return None
        chosen = azure[0][1]
        others = [r.described() for _, r in results if r.described() != chosen.described()]
        others += ["a run-time value"] * len(problems)
        return replace(
            chosen,
            azure=True,
            alternatives=tuple(dict.fromkeys(others)),
            note=f"{name} differs by branch; the Azure branch is kept",
        )

    def _unpacked(self, origin: tuple[ast.Call, int], ctx: Ctx, depth: int, what: str) -> Resolved | Unresolved | None:
        """`client, model = get_client()` where the project's get_client() returns one tuple: that element,
        resolved in the function (its branches included); None when the function is not the project's."""
        call, index = origin
        if not isinstance(call.func, ast.Name):
            return None
        found = self.project.returned(ctx.module, call.func.id)
        if found is None or not isinstance(found[1], ast.Tuple) or index >= len(found[1].elts):
            return None
        module, returned, scope = found
        elements = returned.elts if isinstance(returned, ast.Tuple) else []
        inner = Ctx(module, (self.project.module_scope_of(module), scope))
        try:
            value = self.resolve(elements[index], inner, depth + 1, what)
        except Unresolved as exc:
            return exc
        return replace(value, note=value.note or f"returned by {call.func.id}()")

    # -- attributes and settings ------------------------------------------------------------------------

    def attribute(self, expr: ast.Attribute, ctx: Ctx, depth: int, what: str = "model=") -> Resolved:
        base = expr.value
        if isinstance(base, ast.Name):
            origin = ctx.origin(base.id)
            if origin is not None:
                module, member = origin
                target = self.project.module_scope(
                    ctx.module,
                    module if not member else (module + member if module.endswith(".") else f"{module}.{member}"),
                )
                if target is not None:
                    return self.in_module(target[0], target[1], expr.attr, depth + 1, what)
        key = dotted(expr)
        if key is not None and not key.startswith("self."):
            items = self.project.attribute_assignments(ctx.module, key)
            if items:
                return self.assignments(key, items, key.split(".")[0], depth, what)
        cls = self.instance_of(base, ctx, depth + 1)
        if cls is not None:
            found = self.member(cls, expr.attr, depth + 1, what)
            if found is not None:
                return found
        library = self._library_settings(base, ctx)
        if library is not None:
            variable = f"{LIBRARY_SETTINGS[library]}{expr.attr}".upper()
            return Resolved("env", variable, azure=True, note=f"settings field {library[1]}.{expr.attr} ({library[0]})")
        raise Unresolved(f"{what} is the attribute {short(expr)}, read at run time", "attribute")

    def _library_settings(self, base: ast.expr, ctx: Ctx) -> tuple[str, str] | None:
        """A library settings object: `AzureAIAgentSettings()`, `AzureAIAgentSettings.create()`, or a name
        assigned one of them once."""
        if isinstance(base, ast.Name):
            found = ctx.lookup(base.id)
            values = found[1].assigned.get(base.id, []) if found else []
            base = values[0].value if len(values) == 1 and values[0].value is not None else base
        if not isinstance(base, ast.Call):
            return None
        func = base.func
        if isinstance(func, ast.Attribute) and func.attr == "create":
            func = func.value
        name = dotted(func)
        origin = ctx.origin(name.split(".")[0]) if name else None
        if name is None or origin is None:
            return None
        key = (origin[0].split(".")[0], name.split(".")[-1])
        return key if key in LIBRARY_SETTINGS else None

    def member(self, cls: ClassInfo, attr: str, depth: int, what: str) -> Resolved | None:
        """A field of a project class: a settings field (its env variable), a class constant, or `self.attr`
        assigned in its methods; base classes of the project are searched too."""
        for info in self.project.class_chain(cls):
            if attr in info.fields:
                _, value = info.fields[attr]
                if info.is_settings:
                    return self._settings_field(info, attr, value, depth, what)
                if value is not None:
                    return self.resolve(value, self.project.class_ctx(info), depth + 1, what)
            if attr in info.self_attrs:
                items = [
                    (a, Ctx(info.module, (self.project.module_scope_of(info.module), s)))
                    for a, s in info.self_attrs[attr]
                ]
                return self.assignments(f"self.{attr}", items, f"class {info.name}", depth, what)
        return None

    def _settings_field(self, info: ClassInfo, attr: str, value: ast.expr | None, depth: int, what: str) -> Resolved:
        prefix = next((i.env_prefix for i in self.project.class_chain(info) if i.env_prefix), "") or ""
        variable = (prefix + attr).upper()
        default_expr = value
        if isinstance(value, ast.Call) and (dotted(value.func) or "").split(".")[-1] == "Field":
            keywords = {k.arg: k.value for k in value.keywords if k.arg}
            for key in ("validation_alias", "alias", "env"):
                alias = keywords.get(key)
                if isinstance(alias, ast.Constant) and isinstance(alias.value, str):
                    variable = alias.value
                    break
            default_expr = keywords.get("default", value.args[0] if value.args else None)
        default = None
        if default_expr is not None:
            try:
                resolved = self.resolve(default_expr, self.project.class_ctx(info), depth + 1, what)
                default = resolved.value if resolved.kind == "literal" else None
            except Unresolved:
                default = None
        return Resolved(
            "env", variable, default, azure=_mentions_azure(variable), note=f"settings field {info.name}.{attr}"
        )

    def instance_of(self, expr: ast.expr, ctx: Ctx, depth: int) -> ClassInfo | None:
        """The project class an expression is an instance (or the class itself) of, when the code says so."""
        if depth > MAX_DEPTH:
            return None
        if isinstance(expr, ast.Name):
            return self._name_instance(expr, ctx, depth)
        if isinstance(expr, ast.Call):
            return self._class_named(expr.func, ctx) or self._returned_instance(expr, ctx, depth)
        if isinstance(expr, ast.Attribute):
            return self._attribute_instance(expr, ctx, depth)
        return None

    def _name_instance(self, expr: ast.Name, ctx: Ctx, depth: int) -> ClassInfo | None:
        if expr.id == "self" and ctx.scopes and ctx.scopes[-1].cls:
            return self.project.find_class(ctx.module, ctx.scopes[-1].cls)
        found = ctx.lookup(expr.id)
        if found is None:
            return None
        scope = found[1]
        if expr.id in scope.annotations:
            return self._class_named(scope.annotations[expr.id], ctx)
        if expr.id in scope.imported:
            return self._imported_instance(scope.imported[expr.id], ctx, depth)
        values = scope.assigned.get(expr.id, [])
        if len(values) == 1 and values[0].kind == "definition":
            return self.project.find_class(ctx.module, expr.id)
        if len(values) == 1 and values[0].value is not None:
            return self.instance_of(values[0].value, Ctx(ctx.module, ctx.scopes[: found[0] + 1]), depth + 1)
        return None

    def _imported_instance(self, origin: tuple[str, str], ctx: Ctx, depth: int) -> ClassInfo | None:
        module, member = origin
        owner = self.project.module_scope(ctx.module, module) if member else None
        if owner is None:
            return None
        cls = self.project.find_class(owner[0], member)
        if cls is not None:
            return cls
        values = owner[1].assigned.get(member, [])
        if len(values) == 1 and values[0].value is not None:
            return self.instance_of(values[0].value, Ctx(owner[0], (owner[1],)), depth + 1)
        return None

    def _attribute_instance(self, expr: ast.Attribute, ctx: Ctx, depth: int) -> ClassInfo | None:
        owner_class = self.instance_of(expr.value, ctx, depth + 1)
        if owner_class is None:
            return None
        for info in self.project.class_chain(owner_class):
            if expr.attr in info.fields:
                annotation, value = info.fields[expr.attr]
                target = annotation if annotation is not None else value
                if target is not None:
                    return self._class_named(target, self.project.class_ctx(info))
            assigned = info.self_attrs.get(expr.attr, [])
            if len(assigned) == 1 and assigned[0][0].value is not None:  # self.env_helper = EnvHelper()
                scope = assigned[0][1]
                inner = Ctx(info.module, (self.project.module_scope_of(info.module), scope))
                return self.instance_of(assigned[0][0].value, inner, depth + 1)
        return None

    def _returned_instance(self, call: ast.Call, ctx: Ctx, depth: int) -> ClassInfo | None:
        """`settings = get_settings()` where the project's (often `@lru_cache`d) get_settings returns `Settings()`."""
        if not isinstance(call.func, ast.Name):
            return None
        found = self.project.returned(ctx.module, call.func.id)
        if found is None:
            return None
        module, value, scope = found
        return self.instance_of(value, Ctx(module, (self.project.module_scope_of(module), scope)), depth + 1)

    def _class_named(self, expr: ast.expr, ctx: Ctx) -> ClassInfo | None:
        if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
            return self.project.find_class(ctx.module, expr.value)
        if isinstance(expr, ast.Call):  # Field(default_factory=...) / a constructor
            return self._class_named(expr.func, ctx)
        if isinstance(expr, ast.Subscript):  # Optional[X]
            return self._class_named(expr.slice, ctx)
        if isinstance(expr, ast.BinOp):  # X | None
            return self._class_named(expr.left, ctx) or self._class_named(expr.right, ctx)
        name = dotted(expr) if isinstance(expr, (ast.Name, ast.Attribute)) else None
        if name is None:
            return None
        last = name.split(".")[-1]
        origin = ctx.origin(name.split(".")[0])
        if origin is not None and origin[1]:
            owner = self.project.module_scope(ctx.module, origin[0])
            if owner is not None:
                return self.project.find_class(owner[0], origin[1])
        return self.project.find_class(ctx.module, last)

    # -- subscripts and dicts -------------------------------------------------------------------------

    def subscript(self, expr: ast.Subscript, ctx: Ctx, depth: int, what: str = "model=") -> Resolved:
        key = expr.slice
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            items = self.dict_items(expr.value, ctx, depth + 1)
            if items is not None and key.value in items:
                value, value_ctx = items[key.value]
                return self.resolve(value, value_ctx, depth + 1, what)
            base = dotted(expr.value)
            if base is not None:
                found = self.project.attribute_assignments(ctx.module, f"{base}[{key.value}]")
                if found:
                    return self.assignments(f"{base}[{key.value!r}]", found, base, depth, what)
        raise Unresolved(f"{what} is looked up in {short(expr)} at run time", "subscript")

    def dict_items(
        self, expr: ast.expr, ctx: Ctx, depth: int, conditions: dict[str, ast.expr] | None = None
    ) -> dict[str, tuple[ast.expr, Ctx]] | None:
        """The constant keys of a dict the code builds: a literal, `dict(k=v)`, a name assigned one of them,
        plus the keys set on it later (`params["stream"] = True`); the keys set under an `if` are added to
        `conditions` with the `if`'s test."""
        if depth > MAX_DEPTH:
            return None
        if isinstance(expr, ast.Dict):
            found: dict[str, tuple[ast.expr, Ctx]] = {}
            for key, value in zip(expr.keys, expr.values, strict=False):
                if key is None:
                    nested = self.dict_items(value, ctx, depth + 1)
                    if nested is None:
                        return None
                    found.update(nested)
                elif isinstance(key, ast.Constant) and isinstance(key.value, str):
                    found[key.value] = (value, ctx)
            return found
        if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name) and expr.func.id == "dict" and not expr.args:
            return {k.arg: (k.value, ctx) for k in expr.keywords if k.arg}
        if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name):  # args = build_args(...): its return
            returned = self.project.returned(ctx.module, expr.func.id)
            if returned is not None:
                module, value, scope = returned
                return self.dict_items(value, Ctx(module, (self.project.module_scope_of(module), scope)), depth + 1)
        if isinstance(expr, ast.Name):
            located = ctx.lookup(expr.id)
            if located is None:
                return None
            index, scope = located
            values = scope.assigned.get(expr.id, [])
            if len(values) != 1 or values[0].value is None:
                return None
            inner = Ctx(ctx.module, ctx.scopes[: index + 1])
            found_items = self.dict_items(values[0].value, inner, depth + 1)
            if found_items is None:
                return None
            for name, item in scope.keyed.get(expr.id, {}).items():
                found_items[name] = (item, inner)
            if conditions is not None:
                conditions.update(scope.keyed_when.get(expr.id, {}))
            return found_items
        return None

    def _call_value(self, expr: ast.Call, ctx: Ctx, depth: int, what: str) -> Resolved:
        func = dotted(expr.func) or ""
        if func.split(".")[-1] in ("str", "strip", "lower") and not expr.args and isinstance(expr.func, ast.Attribute):
            return self.resolve(expr.func.value, ctx, depth + 1, what)
        if func == "str" and len(expr.args) == 1:
            return self.resolve(expr.args[0], ctx, depth + 1, what)
        raise Unresolved(f"{what} is the result of {short(expr)}, computed at run time", "call-result")


def literal(resolver: Resolver, expr: ast.expr, ctx: Ctx) -> Any:
    """A scalar literal value (directly or through constants), else None: the value is not in the code."""
    try:
        resolved = resolver.resolve(expr, ctx, 0, "the value")
    except (Unresolved, RecursionError):
        return None
    if resolved.kind == "literal" and isinstance(resolved.value, (str, int, float, bool)):
        return resolved.value
    return None
