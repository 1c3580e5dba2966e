"""The app contract derived from the application's own source: calls through the openai SDK, found with
the `ast` module (the app is never imported or run).

Found: `<client>.chat.completions.create|parse|stream`, `<client>.beta.chat.completions.parse|stream`,
`<client>.responses.create|parse|stream`, `<client>.embeddings.create` and `<client>.completions.create`,
whatever the client (OpenAI, AzureOpenAI, their async variants, awaited or not), in modules that import
openai, or in any module of a project that imports openai unless the module imports another SDK with the
same call shape (groq, anthropic, mistralai ...).

`model=` is resolved when it is a literal, a constant (module-level, function-local, or imported from
another module of the project) or an environment lookup (`os.environ[...]`, `os.environ.get`,
`os.getenv`, optionally `or "default"`), which is written as `env:NAME` with its default. Anything else
(a function argument, an attribute, an f-string) is reported as unresolved with the reason: not guessed.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from auditor.errors import InputError

_SKIP_DIRS = {
    ".git",
    ".hg",
    ".svn",
    ".venv",
    "venv",
    "env",
    ".env",
    "__pycache__",
    "node_modules",
    "site-packages",
    ".tox",
    ".nox",
    ".mypy_cache",
    ".pytest_cache",
    "build",
    "dist",
    ".eggs",
}
_OTHER_SDKS = {"groq", "anthropic", "mistralai", "together", "fireworks", "cerebras", "cohere", "litellm"}
_METHODS = {
    ("chat", "completions", "create"): "chat_completions",
    ("chat", "completions", "parse"): "chat_completions",
    ("chat", "completions", "stream"): "chat_completions",
    ("responses", "create"): "responses",
    ("responses", "parse"): "responses",
    ("responses", "stream"): "responses",
    ("embeddings", "create"): "embeddings",
    ("completions", "create"): "completions",
}
_NOT_PARAMETERS = {"model", "extra_headers", "extra_query", "extra_body", "timeout"}
_MAX_DEPTH = 12


@dataclass(frozen=True)
class ScannedCall:
    """One SDK call in the source. `deployment` is a name, `env:NAME`, or None when unresolved (`why`)."""

    api: str
    file: str
    line: int
    deployment: str | None
    expression: str
    parameters: Mapping[str, Any] = field(default_factory=dict)
    default: str | None = None
    why: str | None = None


@dataclass(frozen=True)
class ScanResult:
    """Every call found, and the files that could not be parsed."""

    calls: tuple[ScannedCall, ...]
    skipped: tuple[str, ...] = ()


@dataclass
class _Scope:
    """A module or a function: its parameters and the values its names are assigned."""

    name: str
    params: set[str] = field(default_factory=set)
    assigned: dict[str, list[ast.expr | None]] = field(default_factory=dict)
    imported: dict[str, tuple[str, str]] = field(default_factory=dict)  # local name -> (module, name or "")


class _Unresolved(Exception):
    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


@dataclass(frozen=True)
class _Resolved:
    kind: str  # "literal" | "env"
    value: Any
    default: Any = None


# --- files and modules -------------------------------------------------------------------------------


def _python_files(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    if not root.is_dir():
        raise InputError(f"{root}: no such file or directory to scan")
    found: list[Path] = []
    for directory, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS and not d.endswith(".egg-info"))
        found.extend(Path(directory) / f for f in sorted(files) if f.endswith(".py"))
    return found


def _module_name(root: Path, path: Path) -> str:
    relative = path.relative_to(root) if root.is_dir() else Path(path.name)
    parts = list(relative.with_suffix("").parts)
    if parts and parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _collect(body: Iterable[ast.stmt], scope: _Scope) -> None:
    """Record the assignments and imports of one scope, not descending into nested functions or classes."""
    stack = list(body)
    while stack:
        node = stack.pop(0)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            scope.assigned.setdefault(node.name, []).append(None)
            continue
        if isinstance(node, ast.Assign):
            for target in node.targets:
                value = node.value if isinstance(target, ast.Name) else None
                for name in _target_names(target):
                    scope.assigned.setdefault(name, []).append(value)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            scope.assigned.setdefault(node.target.id, []).append(node.value)
        elif isinstance(node, (ast.AugAssign, ast.For, ast.AsyncFor)):
            for name in _target_names(node.target):
                scope.assigned.setdefault(name, []).append(None)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                scope.imported[alias.asname or alias.name.split(".")[0]] = (
                    alias.name if alias.asname else alias.name.split(".")[0],
                    "",
                )
        elif isinstance(node, ast.ImportFrom):
            for alias in node.names:
                module = "." * node.level + (node.module or "")
                scope.imported[alias.asname or alias.name] = (module, alias.name)
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.stmt):
                stack.append(child)
            elif isinstance(child, ast.NamedExpr) and isinstance(child.target, ast.Name):
                scope.assigned.setdefault(child.target.id, []).append(child.value)
            elif isinstance(child, ast.withitem) and child.optional_vars is not None:
                for name in _target_names(child.optional_vars):
                    scope.assigned.setdefault(name, []).append(None)
            elif isinstance(child, ast.ExceptHandler) and child.name:
                scope.assigned.setdefault(child.name, []).append(None)


def _target_names(target: ast.expr) -> list[str]:
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [n for element in target.elts for n in _target_names(element)]
    if isinstance(target, ast.Starred):
        return _target_names(target.value)
    return []


def _imports_of(tree: ast.Module) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            roots.add(node.module.split(".")[0])
    return roots


# --- the scanner -------------------------------------------------------------------------------------


class _Project:
    """Every parsed module of the scan, so a constant imported from another module can be resolved."""

    def __init__(self, root: Path, display_root: str) -> None:
        self.root = root
        self.display_root = display_root
        self.modules: dict[str, tuple[Path, ast.Module, _Scope]] = {}
        self.skipped: list[str] = []

    def load(self) -> None:
        for path in _python_files(self.root):
            try:
                tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            except (SyntaxError, UnicodeDecodeError, OSError) as exc:
                self.skipped.append(f"{self.display(path)}: not scanned ({type(exc).__name__}: {exc})")
                continue
            scope = _Scope(name="<module>")
            _collect(tree.body, scope)
            self.modules[_module_name(self.root, path)] = (path, tree, scope)

    def display(self, path: Path) -> str:
        if self.root.is_file():
            return self.display_root
        return str(Path(self.display_root) / path.relative_to(self.root)).replace(os.sep, "/")

    def module_scope(self, importer: str, module: str) -> _Scope | None:
        """The scope of a project module named by an import in `importer` (relative imports resolved)."""
        if module.startswith("."):
            level = len(module) - len(module.lstrip("."))
            base = importer.split(".")
            is_package = self.modules.get(importer, (Path(""),))[0].name == "__init__.py"
            base = base if is_package else base[:-1]
            base = base[: len(base) - (level - 1)] if level > 1 else base
            rest = module.lstrip(".")
            module = ".".join([p for p in base if p] + ([rest] if rest else []))
        entry = self.modules.get(module)
        if entry is None:  # the scan root may sit inside the package: try the module's last parts
            matches = [m for m in self.modules if m == module.split(".")[-1] or m.endswith("." + module.split(".")[-1])]
            entry = self.modules.get(matches[0]) if len(matches) == 1 else None
        return entry[2] if entry else None

    def scan(self) -> list[ScannedCall]:
        uses_openai = any("openai" in _imports_of(tree) for _, tree, _ in self.modules.values())
        calls: list[ScannedCall] = []
        for name, (path, tree, scope) in sorted(self.modules.items(), key=lambda m: str(m[1][0])):
            imports = _imports_of(tree)
            if "openai" not in imports and (not uses_openai or imports & _OTHER_SDKS):
                continue
            calls.extend(_FileScanner(self, name, self.display(path), scope).run(tree))
        return calls


class _FileScanner:
    def __init__(self, project: _Project, module: str, display: str, module_scope: _Scope) -> None:
        self.project = project
        self.module = module
        self.display = display
        self.module_scope = module_scope
        self.found: list[ScannedCall] = []

    def run(self, tree: ast.Module) -> list[ScannedCall]:
        self._visit(tree.body, [(self.module, self.module_scope)])
        return self.found

    def _visit(self, nodes: Iterable[ast.AST], scopes: list[tuple[str, _Scope]]) -> None:
        for node in nodes:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                scope = _Scope(name=node.name)
                args = node.args
                for arg in (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg):
                    if arg is not None:
                        scope.params.add(arg.arg)
                _collect(node.body, scope)
                self._visit(node.decorator_list, scopes)
                self._visit(node.body, [*scopes, (self.module, scope)])
                continue
            if isinstance(node, ast.Lambda):
                scope = _Scope(name="<lambda>", params={a.arg for a in node.args.args})
                self._visit([node.body], [*scopes, (self.module, scope)])
                continue
            if isinstance(node, ast.Call):
                self._call(node, scopes)
            self._visit(ast.iter_child_nodes(node), scopes)

    def _call(self, node: ast.Call, scopes: list[tuple[str, _Scope]]) -> None:
        chain: list[str] = []
        func: ast.expr = node.func
        while isinstance(func, ast.Attribute):
            chain.insert(0, func.attr)
            func = func.value
        api = None
        for length in (3, 2):
            if len(chain) >= length and tuple(chain[-length:]) in _METHODS:
                if length == 2 and chain[-2] == "completions" and len(chain) >= 3 and chain[-3] == "chat":
                    continue
                api = _METHODS[tuple(chain[-length:])]
                break
        if api is None:
            return
        keywords = {k.arg: k.value for k in node.keywords if k.arg}
        parameters = self._parameters(api, keywords, scopes)
        if chain[-1] == "stream":
            parameters["stream"] = True
        expression = ast.unparse(keywords["model"]) if "model" in keywords else "(no model=)"

        def call(deployment: str | None, *, why: str | None = None, default: str | None = None) -> ScannedCall:
            return ScannedCall(api, self.display, node.lineno, deployment, expression, parameters, default, why)

        if "model" not in keywords:
            why = "the call passes no model= keyword (positional or **kwargs): the deployment name is not in the code"
            self.found.append(call(None, why=why))
            return
        try:
            resolved = self._resolve(keywords["model"], scopes, 0)
        except _Unresolved as exc:
            self.found.append(call(None, why=exc.why))
            return
        if resolved.kind == "env":
            default = None if resolved.default is None else str(resolved.default)
            self.found.append(call(f"env:{resolved.value}", default=default))
        elif isinstance(resolved.value, str) and resolved.value:
            self.found.append(call(resolved.value))
        else:
            self.found.append(call(None, why=f"model= is {resolved.value!r}, not a deployment name"))

    def _parameters(
        self, api: str, keywords: Mapping[str, ast.expr], scopes: list[tuple[str, _Scope]]
    ) -> dict[str, Any]:
        parameters: dict[str, Any] = {}
        for name, expr in keywords.items():
            if name in _NOT_PARAMETERS:
                continue
            if name == "text_format" and api == "responses":  # parse()'s helper: sent as text.format on the wire
                parameters["text"] = None
                continue
            if name == "reasoning" and isinstance(expr, ast.Dict):
                for key, value in zip(expr.keys, expr.values, strict=False):
                    if isinstance(key, ast.Constant) and key.value == "effort":
                        parameters["reasoning_effort"] = self._literal(value, scopes)
                continue
            parameters[name] = self._literal(expr, scopes)
        extra = keywords.get("extra_body")
        if isinstance(extra, ast.Dict):
            for key, value in zip(extra.keys, extra.values, strict=False):
                if isinstance(key, ast.Constant) and isinstance(key.value, str):
                    parameters[key.value] = self._literal(value, scopes)
        return dict(sorted(parameters.items()))

    def _literal(self, expr: ast.expr, scopes: list[tuple[str, _Scope]]) -> Any:
        """A scalar literal value (directly or through constants), else None: the value is not in the code."""
        try:
            resolved = self._resolve(expr, scopes, 0)
        except _Unresolved:
            return None
        if resolved.kind == "literal" and isinstance(resolved.value, (str, int, float, bool)):
            return resolved.value
        return None

    # -- resolving an expression to a literal or an environment lookup ------------------------------

    def _resolve(self, expr: ast.expr | None, scopes: list[tuple[str, _Scope]], depth: int) -> _Resolved:
        if expr is None or depth > _MAX_DEPTH:
            raise _Unresolved("the value could not be followed")
        if isinstance(expr, ast.Constant):
            return _Resolved("literal", expr.value)
        if (
            isinstance(expr, ast.UnaryOp)
            and isinstance(expr.op, ast.USub)
            and isinstance(expr.operand, ast.Constant)
            and isinstance(expr.operand.value, (int, float))
        ):
            return _Resolved("literal", -expr.operand.value)
        if isinstance(expr, ast.JoinedStr):
            raise _Unresolved(f"model= is an f-string ({ast.unparse(expr)}) built at run time")
        env = self._env(expr, scopes, depth)
        if env is not None:
            return env
        if isinstance(expr, ast.BoolOp) and isinstance(expr.op, ast.Or) and len(expr.values) == 2:
            first = self._env(expr.values[0], scopes, depth)
            if first is not None and first.default is None:
                fallback = self._resolve(expr.values[1], scopes, depth + 1)
                if fallback.kind == "literal":
                    return _Resolved("env", first.value, fallback.value)
        if isinstance(expr, ast.Name):
            return self._name(expr.id, scopes, depth)
        if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name):
            module = self._imported_module(expr.value.id, scopes)
            if module is not None:
                return self._in_module(module, expr.attr, depth)
            raise _Unresolved(f"model= is the attribute {ast.unparse(expr)}, read at run time")
        raise _Unresolved(f"model= is the expression {ast.unparse(expr)}, computed at run time")

    def _env(self, expr: ast.expr, scopes: list[tuple[str, _Scope]], depth: int) -> _Resolved | None:
        """os.environ["X"], os.environ.get("X", d), os.getenv("X", d), environ.get / getenv imported from os."""
        if isinstance(expr, ast.Subscript) and self._is_environ(expr.value, scopes):
            key = expr.slice
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                return _Resolved("env", key.value)
            raise _Unresolved(f"model= reads the environment with a computed name ({ast.unparse(expr)})")
        if not isinstance(expr, ast.Call) or not expr.args:
            return None
        func = expr.func
        is_lookup = (
            (isinstance(func, ast.Attribute) and func.attr == "get" and self._is_environ(func.value, scopes))
            or (
                isinstance(func, ast.Attribute)
                and func.attr == "getenv"
                and isinstance(func.value, ast.Name)
                and self._is_module(func.value.id, "os", scopes)
            )
            or (isinstance(func, ast.Name) and self._imported_from(func.id, scopes) == ("os", "getenv"))
        )
        if not is_lookup:
            return None
        key = expr.args[0]
        if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
            raise _Unresolved(f"model= reads the environment with a computed name ({ast.unparse(expr)})")
        default_expr = (
            expr.args[1]
            if len(expr.args) > 1
            else next((k.value for k in expr.keywords if k.arg in ("default", "value")), None)
        )
        default = None
        if default_expr is not None:
            try:
                resolved = self._resolve(default_expr, scopes, depth + 1)
                default = resolved.value if resolved.kind == "literal" else None
            except _Unresolved:
                default = None
        return _Resolved("env", key.value, default)

    def _is_environ(self, expr: ast.expr, scopes: list[tuple[str, _Scope]]) -> bool:
        if isinstance(expr, ast.Attribute) and expr.attr == "environ" and isinstance(expr.value, ast.Name):
            return self._is_module(expr.value.id, "os", scopes)
        return isinstance(expr, ast.Name) and self._imported_from(expr.id, scopes) == ("os", "environ")

    def _lookup(self, name: str, scopes: list[tuple[str, _Scope]]) -> tuple[int, _Scope] | None:
        for index in range(len(scopes) - 1, -1, -1):
            scope = scopes[index][1]
            if name in scope.params or name in scope.assigned or name in scope.imported:
                return index, scope
        return None

    def _is_module(self, name: str, module: str, scopes: list[tuple[str, _Scope]]) -> bool:
        found = self._lookup(name, scopes)
        return found is not None and found[1].imported.get(name) == (module, "")

    def _imported_from(self, name: str, scopes: list[tuple[str, _Scope]]) -> tuple[str, str] | None:
        found = self._lookup(name, scopes)
        return found[1].imported.get(name) if found else None

    def _imported_module(self, name: str, scopes: list[tuple[str, _Scope]]) -> _Scope | None:
        origin = self._imported_from(name, scopes)
        if origin is None:
            return None
        module, member = origin
        if not member:
            return self.project.module_scope(self.module, module)
        return self.project.module_scope(self.module, module + member if module.endswith(".") else f"{module}.{member}")

    def _name(self, name: str, scopes: list[tuple[str, _Scope]], depth: int) -> _Resolved:
        found = self._lookup(name, scopes)
        if found is None:
            raise _Unresolved(f"model= is the name {name}, which the scan cannot see defined")
        index, scope = found
        if name in scope.params:
            raise _Unresolved(
                f"model= is the argument `{name}` of {scope.name}(): the deployment name is only known at run time"
            )
        if name in scope.imported:
            module, member = scope.imported[name]
            target = self.project.module_scope(self.module, module) if member else None
            if target is None:
                raise _Unresolved(f"model= is {name}, imported from {module or name}, outside the scanned code")
            return self._in_module(target, member, depth)
        values = scope.assigned[name]
        if len(values) != 1 or values[0] is None:
            raise _Unresolved(f"model= is {name}, which is assigned more than once or computed in {scope.name}")
        return self._resolve(values[0], scopes[: index + 1], depth + 1)

    def _in_module(self, scope: _Scope, name: str, depth: int) -> _Resolved:
        values = scope.assigned.get(name)
        if not values or len(values) != 1 or values[0] is None:
            raise _Unresolved(f"model= is {name} of another module, not a single constant there")
        return self._resolve(values[0], [(self.module, scope)], depth + 1)


# --- public API --------------------------------------------------------------------------------------


def scan(path: Path | str) -> ScanResult:
    """Every openai SDK call under `path` (a directory or one file); file paths are shown as given."""
    root = Path(path)
    project = _Project(root.resolve(), str(path).rstrip("/\\") or ".")
    project.load()
    calls = sorted(project.scan(), key=lambda c: (c.file, c.line, c.api))
    return ScanResult(tuple(calls), tuple(project.skipped))


def contract_document(result: ScanResult, application: str | None = None) -> dict[str, Any]:
    """The contract (auditor/sources/contract.py's format) for the scanned calls."""
    deployments: dict[str, list[dict[str, Any]]] = {}
    unresolved: list[dict[str, Any]] = []
    for call in result.calls:
        if call.deployment is None:
            entry: dict[str, Any] = {
                "api": call.api,
                "source": f"{call.file}:{call.line}",
                "model": call.expression,
                "why": call.why,
            }
            if call.parameters:
                entry["parameters"] = dict(call.parameters)
            unresolved.append(entry)
            continue
        entry = {"api": call.api}
        if call.default is not None:
            entry["default"] = call.default
        if call.parameters:
            entry["parameters"] = dict(call.parameters)
        entry["source"] = f"{call.file}:{call.line}"
        deployments.setdefault(call.deployment, []).append(entry)
    document: dict[str, Any] = {}
    if application:
        document["application"] = application
    document["deployments"] = {name: deployments[name] for name in sorted(deployments)}
    if unresolved:
        document["unresolved"] = unresolved
    return document


_HEADER = """\
# App contract generated by `audit contract scan {path}` from the application's source (nothing was run).
# Each call names the file and line it is made at (source:). Deployment names read from the environment are
# written env:NAME; the audit resolves them from its own environment, else from the default in the code.
# Calls whose deployment name is only known at run time are listed under `unresolved:` and reported as
# unchecked. Review before relying on it: --contract FILE uses it, --contract-from PATH rescans each time.
"""


def contract_yaml(result: ScanResult, scanned: str, application: str | None = None) -> str:
    """The contract as YAML text, with a header saying where it came from."""
    body = yaml.safe_dump(
        contract_document(result, application), sort_keys=False, default_flow_style=None, allow_unicode=True, width=110
    )
    return _HEADER.format(path=scanned) + body


def contract_from_code(
    path: Path | str, environ: Mapping[str, str] | None = None
) -> tuple[tuple[Any, ...], tuple[Any, ...], tuple[str, ...]]:
    """Scan, write the contract and read it back exactly as `--contract` would: (calls, unresolved, skipped
    files). One path of truth, so `--contract-from PATH` and `contract scan` + `--contract` cannot differ."""
    import tempfile

    from auditor.sources.contract import load_contract_document

    result = scan(path)
    with tempfile.TemporaryDirectory(prefix="audit-contract-") as directory:
        written = Path(directory) / "contract.yaml"
        written.write_text(contract_yaml(result, str(path)), encoding="utf-8")
        calls, unresolved = load_contract_document(written, environ)
    return calls, unresolved, result.skipped
