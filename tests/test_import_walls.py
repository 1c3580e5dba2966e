"""The layers' walls, checked at run time: each layer imported alone in a fresh interpreter loads only what
it may (sources -> facts -> engine -> results -> renderers; only the CLI prints or exits)."""

from __future__ import annotations

import ast
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import auditor

ROOT = Path(auditor.__file__).parent

SDKS = ("azure", "openai")
TERMINAL = ("rich",)
TEMPLATES = ("jinja2",)


def _submodules(package: str) -> list[str]:
    """The package and every module under it, found on disk so that new modules are walled too."""
    path = ROOT.joinpath(*package.split(".")[1:])
    return [package, *(m.name for m in pkgutil.walk_packages([str(path)], prefix=f"{package}."))]


def _loaded(module: str) -> set[str]:
    """sys.modules after importing `module` in a fresh interpreter."""
    code = f"import json, sys; import {module}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT.parent, timeout=120
    )
    return set(json.loads(out.stdout))


def _offending(loaded: set[str], forbidden: tuple[str, ...]) -> list[str]:
    return sorted(m for m in loaded if any(m == f or m.startswith(f + ".") for f in forbidden))


CORE = [
    "auditor.model.facts",
    "auditor.model.results",
    "auditor.knowledge.base",
    *_submodules("auditor.engine"),
]
WALLS = [
    # (modules, what they must not load, why)
    (
        ["auditor"],
        (*SDKS, *TEMPLATES, *TERMINAL, "yaml", "auditor.render", "auditor.pipeline.audit"),
        "the package is lazy",
    ),
    (
        CORE,
        (*SDKS, *TEMPLATES, *TERMINAL, "auditor.render", "auditor.sources", "auditor.cli", "auditor.probes.runner"),
        "the engine, facts and results are pure",
    ),
    (
        _submodules("auditor.render"),
        (*SDKS, *TERMINAL, "auditor.sources", "auditor.cli", "auditor.probes", "auditor.pipeline.audit"),
        "renderers only render",
    ),
    (_submodules("auditor.sources"), ("auditor.render", *TEMPLATES, *TERMINAL, "auditor.cli"), "sources render no"),
    (["auditor.probes.classify"], (*SDKS, *TEMPLATES, *TERMINAL), "classifying an answer is pure"),
]
CASES = [(module, forbidden, why) for modules, forbidden, why in WALLS for module in modules]


@pytest.mark.parametrize(("module", "forbidden", "why"), CASES, ids=[c[0] for c in CASES])
def test_layer_imports_only_what_it_may(module: str, forbidden: tuple[str, ...], why: str) -> None:
    assert _offending(_loaded(module), forbidden) == [], f"{module}: {why}"


def test_version_loads_no_sdk_renderer_or_rule() -> None:
    """`audit --version` answers from the CLI module alone."""
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "auditor", "--version"],
        capture_output=True,
        text=True,
        cwd=ROOT.parent,
        timeout=120,
    )
    assert out.returncode == 0 and out.stdout.strip().endswith(auditor.__version__)
    imported = {line.split("|")[-1].strip() for line in out.stderr.splitlines() if line.startswith("import time:")}
    assert _offending(imported, (*SDKS, *TEMPLATES, *TERMINAL, "yaml", "auditor.render", "auditor.engine")) == []


def test_public_names_resolve_lazily_and_completely() -> None:
    code = (
        "import json, sys, auditor; before = set(sys.modules); "
        "names = {n: type(getattr(auditor, n)).__name__ for n in auditor.__all__}; "
        "from auditor import audit, run_audit, write_reports; "
        "print(json.dumps([sorted(before), names, callable(audit), audit.__module__]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT.parent, timeout=120
    )
    before, names, audit_callable, audit_module = json.loads(out.stdout)
    assert not [m for m in before if m.startswith(("azure", "jinja2", "auditor.render", "auditor.pipeline.audit"))]
    assert set(names) == set(auditor.__all__) and "module" not in names.values()
    assert audit_callable and audit_module == "auditor.pipeline.audit"  # the function, not the submodule of that name
    assert "run_audit" in dir(auditor)
    assert set(auditor.__all__) == {*auditor._HOME, "__version__"}
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        auditor.nope  # noqa: B018


# Only the CLI writes to the terminal or ends the process; everything else returns values or raises.
_TERMINAL_CALLS = {"print", "exit", "quit", "breakpoint"}
_TERMINAL_ATTRIBUTES = {("sys", "exit"), ("os", "_exit"), ("sys", "stdout"), ("sys", "stderr"), ("os", "abort")}


def _terminal_uses(path: Path, base: Path = ROOT.parent) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _TERMINAL_CALLS:
            found.append(f"{path.relative_to(base)}:{node.lineno}: {node.func.id}()")
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            if (node.value.id, node.attr) in _TERMINAL_ATTRIBUTES:
                found.append(f"{path.relative_to(base)}:{node.lineno}: {node.value.id}.{node.attr}")
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
            found.extend(
                f"{path.relative_to(base)}:{node.lineno}: imports {n}" for n in names if n.split(".")[0] == "rich"
            )
    return found


def test_only_the_cli_prints_or_exits() -> None:
    outside = [
        p
        for p in sorted(ROOT.rglob("*.py"))
        if not p.is_relative_to(ROOT / "cli") and not p.is_relative_to(ROOT / "demo") and p.name != "__main__.py"
    ]
    assert len(outside) > 20
    assert [use for p in outside for use in _terminal_uses(p)] == []


def test_the_wall_check_sees_a_print(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("import sys\nimport rich.console\nprint('x')\nsys.stderr.write('y')\n", encoding="utf-8")
    uses = _terminal_uses(sample, base=tmp_path)
    assert sorted(uses) == ["sample.py:2: imports rich.console", "sample.py:3: print()", "sample.py:4: sys.stderr"]
