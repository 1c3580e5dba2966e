"""The project being scanned: pass-1 summaries of every module and the look-ups across them (a module
named by an import, a class and its project bases, attributes assigned on shared objects)."""

from __future__ import annotations

import ast
import re
from bisect import bisect_left, bisect_right
from dataclasses import replace
from functools import cached_property
from pathlib import Path

from auditor.sources.scan.calls import CALL_NAMES, sdk_shape
from auditor.sources.scan.collect import LazyScope, ModuleSummary, attr_key, class_info, collect, function_scope
from auditor.sources.scan.files import PARSE_FLAGS, read_source
from auditor.sources.scan.model import Assignment, Branch, ClassInfo, Scope
from auditor.sources.scan.recognisers import MARK_SUFFIXES, MARKS
from auditor.sources.scan.resolve import Ctx, branch_is_azure

_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
_CALLED = re.compile(r"([A-Za-z_]\w*)(?:\s|\\)*\(")
_NEWLINE = re.compile(r"\r\n|\r|\n")
_BLOCKS = ("body", "orelse", "finalbody", "handlers", "cases")


def summarize(
    tree: ast.Module, module: str, display: str, is_package: bool, text: str, path: Path | None = None
) -> ModuleSummary:
    """Pass 1 for one module: its scope, imports, classes, attributes set on objects, wrapper functions around
    an SDK call (model= one of their parameters), the names it calls and the lines pass 2 must look at.

    Only statements are walked; calls are found in the text (`name(`), a superset that costs a regex instead
    of a walk of every expression. Functions spanning a line with an SDK-shaped call are walked for wrappers."""
    scope = Scope("<module>", kind="module")
    collect(tree.body, scope)
    summary = ModuleSummary(module, display, is_package, scope, set(), path=path)
    _mark_calls(summary, text)
    walk = _Walk(summary, sorted(summary.lines))
    summary.statements = [_extent(node) for node in tree.body]
    stack: list[tuple[ast.stmt, Scope, str | None, Branch | None]] = [(node, scope, None, None) for node in tree.body]
    while stack:
        stack.extend(walk.visit(*stack.pop()))
    walk.keep_returns()
    walk.keep_constructors()
    _freeze(summary)
    return summary


def _mark_calls(summary: ModuleSummary, text: str) -> None:
    """The names the module calls, with their lines; the lines of calls pass 2 must visit."""
    starts = [0, *(m.end() for m in _NEWLINE.finditer(text))]
    for match in _CALLED.finditer(text):  # `\s*` spans newlines: `.create\n(` is still a call
        name = match.group(1)
        number = bisect_right(starts, match.start())
        summary.called.setdefault(name, []).append(number)
        if name in CALL_NAMES or name in MARKS or name == "partial" or name.endswith(MARK_SUFFIXES):
            summary.lines.add(number)
        elif name == "set_default_openai_api" and "chat_completions" in text[match.end() : match.end() + 80]:
            summary.sets_chat_default = True


_Item = tuple[ast.stmt, Scope, "str | None", "Branch | None"]


class _Walk:
    """Pass 1's walk of a module's statements (not its expressions)."""

    def __init__(self, summary: ModuleSummary, wanted: list[int]) -> None:
        self.summary = summary
        self.wanted = wanted
        self.returned: dict[str, list[tuple[ast.expr | None, Scope]]] = {}
        self.top: dict[int, tuple[int, int]] = {}  # module-level functions' scopes -> their lines
        self.self_models: list[tuple[str, str]] = []  # (class, attribute) an SDK call sends as model=self.attr
        self.inits: dict[str, list[str]] = {}  # class -> its __init__'s positional parameters

    def visit(self, node: ast.stmt, unit: Scope, cls: str | None, branch: Branch | None) -> list[_Item]:
        summary = self.summary
        if isinstance(node, _FUNCTIONS):
            inner = LazyScope(node, cls)
            if unit is summary.scope and cls is None:
                self.top[id(inner)] = _extent(node)
            if cls is not None and node.name == "__init__":
                self.inits[cls] = [a.arg for a in (*node.args.posonlyargs, *node.args.args)][1:]
            if self.wanted and statement_spans(node, self.wanted):
                _wrappers(summary, node, self.self_models if cls is not None else None, cls)
            return [(child, inner, cls, None) for child in node.body]
        if isinstance(node, ast.ClassDef):
            summary.classes[node.name] = class_info(node, summary.module)
            return [(child, unit, node.name, None) for child in node.body]
        if isinstance(node, ast.If):
            body: Branch | None = Branch(node.test, False, tuple(node.body))
            orelse: Branch | None = Branch(node.test, True, tuple(node.orelse))
            return [(child, unit, cls, body) for child in node.body] + [
                (child, unit, cls, orelse) for child in node.orelse
            ]
        self.record(node, unit, cls, branch)
        return [(child, unit, cls, branch) for child in _children(node)]

    def record(self, node: ast.stmt, unit: Scope, cls: str | None, branch: Branch | None) -> None:
        summary = self.summary
        if isinstance(node, ast.Import):
            summary.imports.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.module and not node.level:
                summary.imports.add(node.module.split(".")[0])
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                _remember(summary, target, node.value, unit, cls, branch)
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            _remember(summary, node.target, node.value, unit, cls, branch)
        elif isinstance(node, ast.Return) and cls is None and isinstance(unit, LazyScope):
            self.returned.setdefault(unit.name, []).append((node.value, unit))

    def keep_constructors(self) -> None:
        """`class Embedder: def __init__(self, deployment): self.deployment = deployment` and a method calling
        `create(model=self.deployment)`: the class is a wrapper whose constructor's argument is the deployment
        name, so its call sites `Embedder(endpoint, "embed-3")` are followed (one level)."""
        for cls, attr in self.self_models:
            info = self.summary.classes.get(cls)
            assigned = info.self_attrs.get(attr, []) if info is not None else []
            if len(assigned) != 1 or assigned[0][1].name != "__init__" or cls not in self.inits:
                continue
            value = assigned[0][0].value
            if isinstance(value, ast.Name) and value.id in assigned[0][1].params:
                positional = self.inits[cls]
                index = positional.index(value.id) if value.id in positional else -1
                self.summary.wrappers[cls] = (value.id, index, False)

    def keep_returns(self) -> None:
        """`client, model = get_client()`, `args = build_args()` then `**args`: functions with one return."""
        for name, found in self.returned.items():
            value, unit = found[0]
            if (
                len(found) == 1
                and isinstance(value, (ast.Tuple, ast.Dict, ast.Name, ast.Call))
                and id(unit) in self.top
            ):
                self.summary.returns[name] = self.top[id(unit)]


def _children(node: ast.stmt) -> list[ast.stmt]:
    """The statements directly inside a compound statement (blocks, except handlers, match cases)."""
    found: list[ast.stmt] = []
    for block in _BLOCKS:
        for child in getattr(node, block, ()):
            if isinstance(child, ast.stmt):
                found.append(child)
            else:  # an except handler or a match case: their statements
                found.extend(child.body)
    return found


def _frozen(assignment: Assignment) -> Assignment:
    branch = assignment.branch
    if branch is None or branch.azure is not None:
        return assignment
    return replace(assignment, branch=replace(branch, body=(), azure=branch_is_azure(branch)))


def _freeze(summary: ModuleSummary) -> None:
    """Decide now whether each kept assignment's branch is Azure's and drop the branch's statements, so a
    summary holds no more of the tree than the assigned values (memory stays bounded by the largest file)."""
    for name, values in summary.scope.assigned.items():
        summary.scope.assigned[name] = [_frozen(a) for a in values]
    for key, items in summary.attrs.items():
        summary.attrs[key] = [(_frozen(a), scope) for a, scope in items]
    for info in summary.classes.values():
        for attr, items in info.self_attrs.items():
            info.self_attrs[attr] = [(_frozen(a), scope) for a, scope in items]
            for _, scope in items:
                for name, values in scope.assigned.items():
                    scope.assigned[name] = [_frozen(a) for a in values]


def _extent(node: ast.stmt) -> tuple[int, int]:
    """A statement's first line (its decorators included) and last line."""
    first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", ()))])
    return first, node.end_lineno or node.lineno


def statement_spans(node: ast.stmt, lines: list[int]) -> bool:
    """Whether a statement (with its decorators) spans one of the sorted `lines`."""
    return spans(_extent(node), lines)


def spans(extent: tuple[int, int], lines: list[int]) -> bool:
    index = bisect_left(lines, extent[0])
    return index < len(lines) and lines[index] <= extent[1]


def only_statements(text: str, statements: list[tuple[int, int]], lines: list[int]) -> str:
    """The source with only the top-level statements spanning `lines`, the others blanked (line numbers
    kept): pass 2 parses what can hold a call, not the whole file again."""
    source = _NEWLINE.split(text)  # the tokenizer's line ends only (str.splitlines also splits at \f, \x1c ...)
    kept = [""] * len(source)
    for extent in statements:
        if spans(extent, lines):
            kept[extent[0] - 1 : extent[1]] = source[extent[0] - 1 : extent[1]]
    return "\n".join(kept) + "\n"


def _wrappers(
    summary: ModuleSummary,
    function: ast.FunctionDef | ast.AsyncFunctionDef,
    self_models: list[tuple[str, str]] | None = None,
    cls: str | None = None,
) -> None:
    stack: list[ast.AST] = list(function.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (*_FUNCTIONS, ast.ClassDef, ast.Lambda)):
            continue
        if isinstance(node, ast.Call):
            _wrapper(summary, node, function)
            if self_models is not None and cls is not None:
                model = next((k.value for k in node.keywords if k.arg == "model"), None)
                if isinstance(model, ast.Attribute) and _on_self(model) and sdk_shape(node) is not None:
                    self_models.append((cls, model.attr))
        stack.extend(ast.iter_child_nodes(node))


def _remember(
    summary: ModuleSummary, target: ast.expr, value: ast.expr, scope: Scope, cls: str | None, branch: Branch | None
) -> None:
    if isinstance(target, ast.Name) or not isinstance(target, (ast.Attribute, ast.Subscript)):
        return
    if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == "self":
        if cls is not None and cls in summary.classes and scope.kind != "module":
            kept = scope.materialize() if isinstance(scope, LazyScope) else scope
            summary.classes[cls].self_attrs.setdefault(target.attr, []).append((Assignment(value, branch), kept))
        return
    key = attr_key(target)
    if key is not None:
        kept = scope.materialize() if isinstance(scope, LazyScope) else scope
        summary.attrs.setdefault(key, []).append((Assignment(value, branch), kept))


def _on_self(expr: ast.expr | None) -> bool:
    """`self.attr`."""
    return isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name) and expr.value.id == "self"


def _wrapper(summary: ModuleSummary, call: ast.Call, function: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
    """`def complete(model, **kw): client.chat.completions.create(model=model, **kw)`: remember which
    parameter carries the deployment name, so call sites can be followed (one level)."""
    if sdk_shape(call) is None:
        return
    model = next((k.value for k in call.keywords if k.arg == "model"), None)
    if not isinstance(model, ast.Name):
        return
    positional = [a.arg for a in (*function.args.posonlyargs, *function.args.args)]
    names = positional + [a.arg for a in function.args.kwonlyargs]
    if model.id not in names:
        return
    index = positional.index(model.id) if model.id in positional else -1
    if positional and positional[0] in ("self", "cls") and index > 0:
        index -= 1
    forwards = function.args.kwarg is not None and any(
        k.arg is None and isinstance(k.value, ast.Name) and k.value.id == function.args.kwarg.arg for k in call.keywords
    )
    summary.wrappers[function.name] = (model.id, index, forwards)


class Project:
    """Every module's summary, keyed by module name."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.modules: dict[str, ModuleSummary] = {}
        self._returns: dict[tuple[str, str], tuple[str, ast.expr, Scope] | None] = {}

    def add(self, summary: ModuleSummary) -> None:
        self.modules[summary.module] = summary

    def module_scope_of(self, module: str) -> Scope:
        summary = self.modules.get(module)
        return summary.scope if summary else Scope("<module>", kind="module")

    def _absolute(self, importer: str, module: str) -> str:
        if not module.startswith("."):
            return module
        level = len(module) - len(module.lstrip("."))
        summary = self.modules.get(importer)
        base = importer.split(".") if importer else []
        base = base if summary is not None and summary.is_package else base[:-1]
        base = base[: len(base) - (level - 1)] if level > 1 else base
        rest = module.lstrip(".")
        return ".".join([p for p in base if p] + ([rest] if rest else []))

    def module_scope(self, importer: str, module: str) -> tuple[str, Scope] | None:
        """The module named by an import in `importer` (relative imports resolved; the scan root may sit
        inside the package, so a unique match on the last part of the name is accepted)."""
        name = self._absolute(importer, module)
        summary = self.modules.get(name)
        if summary is None:
            matches = self._by_last_part.get(name.split(".")[-1], [])
            summary = self.modules.get(matches[0]) if len(matches) == 1 else None
        return (summary.module, summary.scope) if summary else None

    def find_class(self, module: str, name: str) -> ClassInfo | None:
        summary = self.modules.get(module)
        if summary is not None and name in summary.classes:
            return summary.classes[name]
        if summary is not None and name in summary.scope.imported:
            source, member = summary.scope.imported[name]
            owner = self.module_scope(module, source)
            if owner is not None and member and owner[0] != module:
                found = self.modules[owner[0]].classes.get(member)
                if found is not None:
                    return found
        matches = self._classes.get(name, [])
        return matches[0] if len(matches) == 1 else None

    def class_chain(self, cls: ClassInfo) -> list[ClassInfo]:
        """The class and its bases defined in the project, nearest first."""
        chain = [cls]
        index = 0
        while index < len(chain) and len(chain) < 16:
            for base in chain[index].bases:
                found = self.find_class(chain[index].module, base.split(".")[-1])
                if found is not None and found not in chain:
                    chain.append(found)
            index += 1
        return chain

    def class_ctx(self, cls: ClassInfo) -> Ctx:
        return Ctx(cls.module, (self.module_scope_of(cls.module),))

    def attribute_assignments(self, module: str, key: str) -> list[tuple[Assignment, Ctx]]:
        """Assignments to `bp.openai_model` / `app.config[X]`: in this module, in the module the base name
        is imported from, else (for config-style keys) anywhere in the project when the key is unique."""

        def located(summary: ModuleSummary, wanted: str) -> list[tuple[Assignment, Ctx]]:
            return [
                (
                    assignment,
                    Ctx(summary.module, (summary.scope,) if scope.kind == "module" else (summary.scope, scope)),
                )
                for assignment, scope in summary.attrs.get(wanted, [])
            ]

        summary = self.modules.get(module)
        if summary is not None:
            found = located(summary, key)
            if found:
                return found
            head, _, rest = key.partition(".")
            origin = summary.scope.imported.get(head)
            if origin is not None and origin[1] and rest:
                owner = self.module_scope(module, origin[0])
                if owner is not None and owner[0] != module:
                    found = located(self.modules[owner[0]], f"{origin[1]}.{rest}")
                    if found:
                        return found
        if "[" in key:
            suffix = "." + key.split("[")[0].split(".")[-1] + "[" + key.split("[", 1)[1]
            everywhere = self._config_keys.get(suffix, [])
            if len({w for _, w in everywhere}) == 1:
                return [item for other, wanted in everywhere for item in located(other, wanted)]
        return []

    # indexes, built once after pass 1 (looking through every module per look-up would be quadratic)

    @cached_property
    def _by_last_part(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for module in self.modules:
            found.setdefault(module.split(".")[-1], []).append(module)
        return found

    @cached_property
    def _classes(self) -> dict[str, list[ClassInfo]]:
        found: dict[str, list[ClassInfo]] = {}
        for summary in self.modules.values():
            for name, info in summary.classes.items():
                found.setdefault(name, []).append(info)
        return found

    @cached_property
    def _config_keys(self) -> dict[str, list[tuple[ModuleSummary, str]]]:
        """`.config[X]` -> the modules and full keys assigning it (`app.config[X]`, `current_app.config[X]`)."""
        found: dict[str, list[tuple[ModuleSummary, str]]] = {}
        for summary in self.modules.values():
            for key in summary.attrs:
                if "[" in key:
                    base, _, rest = key.partition("[")
                    found.setdefault("." + base.split(".")[-1] + "[" + rest, []).append((summary, key))
        return found

    @cached_property
    def wrappers_by_name(self) -> dict[str, list[ModuleSummary]]:
        found: dict[str, list[ModuleSummary]] = {}
        for summary in self.modules.values():
            for name in summary.wrappers:
                found.setdefault(name, []).append(summary)
        return found

    def returned(self, module: str, name: str) -> tuple[str, ast.expr, Scope] | None:
        """What a project function returns (its one `return a, b` / `return {...}` / `return args`), by the
        name it has in `module`. Its module is read again for just that function, the first time it is asked."""
        summary = self.modules.get(module)
        if summary is None:
            return None
        if name not in summary.returns:
            origin = summary.scope.imported.get(name)
            owner = self.module_scope(module, origin[0]) if origin is not None and origin[1] else None
            if origin is None or owner is None or owner[0] == module:
                return None
            summary, name = self.modules[owner[0]], origin[1]
            if name not in summary.returns:
                return None
        key = (summary.module, name)
        if key not in self._returns:
            self._returns[key] = self._read_return(summary, name)
        return self._returns[key]

    def _read_return(self, summary: ModuleSummary, name: str) -> tuple[str, ast.expr, Scope] | None:
        extent = summary.returns[name]
        if summary.path is None:
            return None
        try:
            text = only_statements(read_source(summary.path), [extent], [extent[0]])
            tree = compile(text, summary.display, "exec", PARSE_FLAGS, dont_inherit=True)
        except (SyntaxError, UnicodeDecodeError, OSError, ValueError, RecursionError):
            return None
        function = next((n for n in tree.body if isinstance(n, _FUNCTIONS) and n.name == name), None)
        if function is None:
            return None
        stack: list[ast.AST] = list(function.body)
        while stack:
            node = stack.pop()
            if isinstance(node, ast.Return) and node.value is not None:
                return summary.module, node.value, function_scope(function)
            if not isinstance(node, (*_FUNCTIONS, ast.ClassDef, ast.Lambda)):
                stack.extend(
                    child for child in ast.iter_child_nodes(node) if isinstance(child, ast.stmt | ast.excepthandler)
                )
        return None

    def wrapper_names(self) -> set[str]:
        return set(self.wrappers_by_name)

    @cached_property
    def _chat_default(self) -> bool:
        return any(s.sets_chat_default for s in self.modules.values())

    def chat_default(self) -> bool:
        return self._chat_default
