"""Pass 1 of the scan: what each module defines, kept small (its scope, classes, attributes set on objects,
the names it calls) so the parsed tree can be dropped — memory stays bounded by the largest file."""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from auditor.sources.scan.model import Assignment, Branch, ClassInfo, Scope


@dataclass
class ModuleSummary:
    """One parsed module, without its tree: enough to resolve names other modules import from it."""

    module: str
    display: str
    is_package: bool
    scope: Scope
    imports: set[str]
    classes: dict[str, ClassInfo] = field(default_factory=dict)
    attrs: dict[str, list[tuple[Assignment, Scope]]] = field(default_factory=dict)  # "bp.model", "app.config[X]"
    called: dict[str, list[int]] = field(default_factory=dict)  # called name -> lines
    lines: set[int] = field(default_factory=set)  # lines of calls pass 2 must look at
    statements: list[tuple[int, int]] = field(default_factory=list)  # top-level statements: first, last line
    wrappers: dict[str, tuple[str, int, bool]] = field(default_factory=dict)  # function -> (param, index, **kw)
    sets_chat_default: bool = False  # agents.set_default_openai_api("chat_completions")
    returns: dict[str, tuple[int, int]] = field(default_factory=dict)  # f -> lines of a function with one `return`
    path: Path | None = None


def target_names(target: ast.expr) -> list[str]:
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [n for element in target.elts for n in target_names(element)]
    if isinstance(target, ast.Starred):
        return target_names(target.value)
    return []


def _short(expr: ast.expr) -> str:
    try:
        text = ast.unparse(expr)
    except RecursionError:
        return "(a deeply nested expression)"
    return text if len(text) <= 80 else text[:77] + "..."


def bind(target: ast.expr, value: ast.expr | None, scope: Scope, branch: Branch | None) -> None:
    """Record `target = value`: names, element-wise tuples, and constant keys set on a dict variable."""
    if isinstance(target, ast.Name):
        scope.add(target.id, Assignment(value, branch))
    elif isinstance(target, (ast.Tuple, ast.List)):
        elements = target.elts
        if (
            isinstance(value, (ast.Tuple, ast.List))
            and len(value.elts) == len(elements)
            and not any(isinstance(e, ast.Starred) for e in (*elements, *value.elts))
        ):
            for element, part in zip(elements, value.elts, strict=True):
                bind(element, part, scope, branch)
            return
        source = _short(value) if value is not None else "a loop or a with statement"
        flat = all(isinstance(e, ast.Name) for e in elements)
        for index, name in enumerate(target_names(target)):
            origin = (value, index) if flat and isinstance(value, ast.Call) else None
            scope.add(name, Assignment(None, branch, "unpacked", source, origin))
    elif isinstance(target, ast.Starred):
        bind(target.value, None, scope, branch)
    elif (
        isinstance(target, ast.Subscript)
        and isinstance(target.value, ast.Name)
        and isinstance(target.slice, ast.Constant)
        and isinstance(target.slice.value, str)
        and value is not None
    ):
        scope.keyed.setdefault(target.value.id, {})[target.slice.value] = value
        if branch is not None:
            scope.keyed_when.setdefault(target.value.id, {})[target.slice.value] = branch.test


def collect(body: Iterable[ast.stmt], scope: Scope, branch: Branch | None = None) -> None:
    """Record the assignments and imports of one scope, not descending into nested functions or classes;
    each assignment remembers the `if` branch it sits in (the model is often chosen per host that way)."""
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            scope.add(node.name, Assignment(None, branch, "definition"))
        elif isinstance(node, ast.If):
            _named(node.test, scope, branch)
            collect(node.body, scope, Branch(node.test, False, tuple(node.body)))
            collect(node.orelse, scope, Branch(node.test, True, tuple(node.orelse)))
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.Import, ast.ImportFrom, ast.Expr)):
            _simple(node, scope, branch)
        else:
            _compound(node, scope, branch)


def _simple(node: ast.stmt, scope: Scope, branch: Branch | None) -> None:
    """Assignments, imports and expressions (a walrus binds a name)."""
    if isinstance(node, ast.Assign):
        for target in node.targets:
            bind(target, node.value, scope, branch)
        _named(node.value, scope, branch)
    elif isinstance(node, ast.AnnAssign):
        bind(node.target, node.value, scope, branch)
    elif isinstance(node, ast.AugAssign):
        for name in target_names(node.target):
            scope.add(name, Assignment(None, branch, "bound", "augmented assignment"))
    elif isinstance(node, ast.Import):
        for alias in node.names:
            root = alias.name.split(".")[0]
            scope.imported[alias.asname or root] = (alias.name if alias.asname else root, "")
    elif isinstance(node, ast.ImportFrom):
        module = "." * node.level + (node.module or "")
        for alias in node.names:
            scope.imported[alias.asname or alias.name] = (module, alias.name)
    elif isinstance(node, ast.Expr):
        _named(node.value, scope, branch)


def _compound(node: ast.stmt, scope: Scope, branch: Branch | None) -> None:
    """Loops, `with`, `try` and `match`: the names they bind, and their blocks."""
    if isinstance(node, (ast.For, ast.AsyncFor)):
        for name in target_names(node.target):
            scope.add(name, Assignment(None, branch, "bound", "a loop variable"))
    elif isinstance(node, (ast.With, ast.AsyncWith)):
        for item in node.items:
            for name in target_names(item.optional_vars) if item.optional_vars is not None else ():
                scope.add(name, Assignment(None, branch, "bound", "a with statement"))
    for handler in getattr(node, "handlers", ()):  # try / try*
        if handler.name:
            scope.add(handler.name, Assignment(None, branch, "bound", "an except clause"))
        collect(handler.body, scope, branch)
    for case in getattr(node, "cases", ()):  # match
        collect(case.body, scope, branch)
    for part in ("body", "orelse", "finalbody"):
        block = getattr(node, part, None)
        if isinstance(block, list):
            collect(block, scope, branch)


def _named(expr: ast.expr, scope: Scope, branch: Branch | None) -> None:
    if isinstance(expr, ast.NamedExpr) and isinstance(expr.target, ast.Name):
        scope.add(expr.target.id, Assignment(expr.value, branch))


def function_scope(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda, cls: str | None = None) -> Scope:
    args = node.args
    scope = Scope(name=getattr(node, "name", "<lambda>"), cls=cls)
    for arg in (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg):
        if arg is not None:
            scope.params.add(arg.arg)
            if arg.annotation is not None:
                scope.annotations[arg.arg] = arg.annotation
    if not isinstance(node, ast.Lambda):
        collect(node.body, scope)
    return scope


def dotted(expr: ast.expr) -> str | None:
    """`a.b.c` for a chain of attributes on a name, else None."""
    parts = []
    while isinstance(expr, ast.Attribute):
        parts.append(expr.attr)
        expr = expr.value
    if not isinstance(expr, ast.Name):
        return None
    parts.append(expr.id)
    return ".".join(reversed(parts))


def attr_key(target: ast.expr) -> str | None:
    """The key an assignment target is remembered by: `bp.openai_model`, `app.config[X]`; None for others."""
    if isinstance(target, ast.Attribute):
        return dotted(target)
    if isinstance(target, ast.Subscript) and isinstance(target.slice, ast.Constant):
        base = dotted(target.value)
        if base is not None and "." in base and isinstance(target.slice.value, str):
            return f"{base}[{target.slice.value}]"
    return None


def _settings_prefix(node: ast.ClassDef) -> str | None:
    """pydantic-settings `model_config = SettingsConfigDict(env_prefix=...)`, `class Config: env_prefix`."""
    for statement in node.body:
        value: ast.expr | None = None
        if isinstance(statement, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id in ("model_config", "env_prefix") for t in statement.targets
        ):
            value = statement.value
        elif isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
            if statement.target.id in ("model_config", "env_prefix"):
                value = statement.value
        elif isinstance(statement, ast.ClassDef) and statement.name == "Config":
            return _settings_prefix(statement)
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            return value.value
        if isinstance(value, ast.Call):
            for keyword in value.keywords:
                if keyword.arg == "env_prefix" and isinstance(keyword.value, ast.Constant):
                    return str(keyword.value.value)
        if isinstance(value, ast.Dict):
            for key, item in zip(value.keys, value.values, strict=False):
                if isinstance(key, ast.Constant) and key.value == "env_prefix" and isinstance(item, ast.Constant):
                    return str(item.value)
    return None


def class_info(node: ast.ClassDef, module: str) -> ClassInfo:
    """A class's bases, fields and settings prefix (its methods' `self.x` are added by the caller)."""
    info = ClassInfo(node.name, module, tuple(d for d in map(dotted, node.bases) if d))
    info.env_prefix = _settings_prefix(node)
    for statement in node.body:
        if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
            info.fields[statement.target.id] = (statement.annotation, statement.value)
        elif isinstance(statement, ast.Assign):
            for target in statement.targets:
                if isinstance(target, ast.Name):
                    info.fields[target.id] = (None, statement.value)
    return info


_SCOPE_FIELDS = ("params", "annotations", "assigned", "imported", "keyed", "keyed_when")


class LazyScope(Scope):
    """A function's scope, collected the first time a name is looked up in it: most functions of an app
    never hold a call to Azure OpenAI, and collecting them all would double the scan's time."""

    def __init__(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda, cls: str | None = None) -> None:
        self.name = getattr(node, "name", "<lambda>")
        self.kind = "function"
        self.cls = cls
        self._node = node

    def __getattr__(self, item: str) -> object:
        if item in _SCOPE_FIELDS:
            built = function_scope(self._node, self.cls)
            for name in _SCOPE_FIELDS:
                setattr(self, name, getattr(built, name))
            return getattr(built, item)
        raise AttributeError(item)

    def materialize(self) -> Scope:
        """Collect now and let go of the function's tree (kept summaries must not hold whole functions)."""
        _ = self.assigned
        self.__dict__.pop("_node", None)
        return self
