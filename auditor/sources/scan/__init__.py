"""The app contract derived from the application's own source (`audit contract scan`): calls to Azure
OpenAI found with the `ast` module — the app is never imported or run.

Two passes, so memory stays bounded by the largest file: pass 1 parses each file and keeps a small summary
(module constants, classes and settings fields, attributes set on shared objects, wrapper functions);
pass 2 parses again each file that can hold a call and records the calls (`scanner.py`), resolving names
against the summaries (`resolve.py`). Notebooks are read as the module their code cells make; Prompty files
are read for their front matter. Layout: files.py (walking the tree safely, notebooks), collect.py and
project.py (pass 1), calls.py (the openai SDK's call shapes), scanner.py (pass 2) and its recognisers behind
protocol.py (recognisers.py lists them: frameworks.py, legacy.py for the pre-1.0 SDK, configs.py, foundry.py,
prompty.py), output.py (the contract)."""

from __future__ import annotations

import ast
import tempfile
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from auditor.model.facts import ContractCall, UnresolvedCall
from auditor.sources.contract import load_contract_document
from auditor.sources.scan.calls import Found, Site, result_call
from auditor.sources.scan.collect import ModuleSummary
from auditor.sources.scan.files import (
    MAX_NOTEBOOK_BYTES,
    PARSE_FLAGS,
    SourceFile,
    notebook_code,
    read_bytes,
    read_source,
    walk,
)
from auditor.sources.scan.model import Resolved, ScannedCall, ScanResult, Unresolved
from auditor.sources.scan.output import contract_document, contract_json, contract_yaml
from auditor.sources.scan.project import Project, only_statements, summarize
from auditor.sources.scan.prompty import prompty_calls
from auditor.sources.scan.recognisers import ROOTS
from auditor.sources.scan.resolve import Resolver
from auditor.sources.scan.scanner import FileScanner

__all__ = [
    "ScanResult",
    "ScannedCall",
    "contract_document",
    "contract_from_code",
    "contract_json",
    "contract_yaml",
    "scan",
]

OTHER_SDKS = frozenset(
    {"groq", "anthropic", "mistralai", "together", "fireworks", "cerebras", "cohere", "litellm", "huggingface_hub"}
)
_SDK_ROOTS = frozenset({"openai", *ROOTS})
_UNREADABLE = (SyntaxError, UnicodeDecodeError, OSError, ValueError, RecursionError, MemoryError)
"""Why a file is not read (a notebook of another language is a ValueError: files.NotPython)."""
MAX_SITES = 50
"""Call sites followed per wrapper function; more are reported as one unresolved call."""


def parse(text: str, display: str) -> ast.Module:
    """Parse Python source (top-level `await` allowed: notebooks use it)."""
    tree = compile(text, display, "exec", PARSE_FLAGS, dont_inherit=True)
    assert isinstance(tree, ast.Module)
    return tree


def _read(source: SourceFile, skipped: list[str], cells: dict[str, list[tuple[int, int]]]) -> str:
    """The Python text of a file; a notebook's code cells with their places kept in `cells`."""
    if source.kind != "notebook":
        return read_source(source.path)
    text, where, problems = notebook_code(read_bytes(source.path, MAX_NOTEBOOK_BYTES).decode("utf-8-sig"))
    cells[source.display] = where
    skipped.extend(f"{source.display}#{problem}" for problem in problems)
    return text


def scan(path: Path | str, include_tests: bool = False) -> ScanResult:
    """Every call to Azure OpenAI under `path` (a directory or one file); file paths are shown as given."""
    root = Path(path)
    display_root = str(path).rstrip("/\\") or "."
    found = walk(root.resolve() if root.is_dir() else root, display_root, include_tests)
    project = Project(root)
    skipped = list(found.skipped)
    notes = list(found.notes)
    cells: dict[str, list[tuple[int, int]]] = {}
    files, declared = _pass_one(found.files, project, skipped, cells)
    results = _pass_two(files, project)
    skipped.extend(results.problems)
    calls = _follow_wrappers(results.found) + declared
    calls = [_in_cell(call, cells) for call in calls]
    calls.sort(key=lambda c: (c.file, c.line, c.api, c.deployment or ""))
    notes.extend(_note_text(note, cells) for note in results.found.notes)
    notes.extend(
        f"{count} {language} source file(s) not read (none mentions openai)" for language, count in found.other.items()
    )
    return ScanResult(tuple(calls), tuple(skipped), tuple(notes))


def _pass_one(
    sources: list[SourceFile], project: Project, skipped: list[str], cells: dict[str, list[tuple[int, int]]]
) -> tuple[list[SourceFile], list[ScannedCall]]:
    """Summaries of the Python files and notebooks; the calls Prompty files declare."""
    files: list[SourceFile] = []
    declared: list[ScannedCall] = []
    for source in sources:
        try:
            if source.kind == "prompty":
                found, problem = prompty_calls(read_source(source.path), source.display)
                declared.extend(found)
                if problem:
                    skipped.append(f"{source.display}: not read ({problem})")
                continue
            text = _read(source, skipped, cells)
            tree = parse(text, source.display)
            summary = summarize(
                tree, source.module, source.display, source.path.name == "__init__.py", text, source.path
            )
        except _UNREADABLE as exc:
            skipped.append(_problem(source.display, exc))
            continue
        del tree, text
        project.add(summary)
        files.append(source)
    return files, declared


class _PassTwo:
    def __init__(self) -> None:
        self.found = Found()
        self.problems: list[str] = []


def _pass_two(files: list[SourceFile], project: Project) -> _PassTwo:
    uses_openai = any(s.imports & _SDK_ROOTS for s in project.modules.values())
    wrappers = project.wrapper_names()
    resolver = Resolver(project)
    results = _PassTwo()
    for source in files:
        summary = project.modules[source.module]
        if not _relevant(summary, uses_openai, wrappers):
            continue
        try:
            lines = sorted(summary.lines.union(*(summary.called[name] for name in summary.called.keys() & wrappers)))
            text = only_statements(read_source(source.path), summary.statements, lines)
            tree = parse(text, source.display)
            scanned = FileScanner(project, resolver, source.module, source.display).run(tree, lines, summary.scope)
        except _UNREADABLE as exc:
            results.problems.append(_problem(source.display, exc))
            continue
        results.found.calls.extend(scanned.calls)
        results.found.sites.extend(scanned.sites)
        results.found.pending.extend(scanned.pending)
        results.found.notes.extend(scanned.notes)
    return results


def _in_cell(call: ScannedCall, cells: dict[str, list[tuple[int, int]]]) -> ScannedCall:
    """A call in a notebook, located as `notebook.ipynb#cell-N` line M (the cell's own line)."""
    if call.via and " at " in call.via:  # a wrapper's call site: name where its inner call is, in its cell too
        head, _, place = call.via.rpartition(" at ")
        file, _, number = place.rpartition(":")
        inner = cells.get(file)
        if inner is not None and number.isdigit() and 0 < int(number) <= len(inner):
            cell, line = inner[int(number) - 1]
            call = replace(call, via=f"{head} at {file}#cell-{cell}:{line}")
    where = cells.get(call.file)
    if where is None or not 0 < call.line <= len(where):
        return call
    cell, line = where[call.line - 1]
    return replace(call, file=f"{call.file}#cell-{cell}", line=line)


def _note_text(note: tuple[str, int, str], cells: dict[str, list[tuple[int, int]]]) -> str:
    file, line, text = note
    where = cells.get(file)
    if where is not None and 0 < line <= len(where):
        file, line = f"{file}#cell-{where[line - 1][0]}", where[line - 1][1]
    return f"{file}:{line}: {text}"


def _problem(display: str, exc: BaseException) -> str:
    if isinstance(exc, RecursionError):
        return f"{display}: not scanned (nested too deeply to analyse)"
    if isinstance(exc, MemoryError):
        return f"{display}: not scanned (too large to analyse)"
    if isinstance(exc, UnicodeDecodeError):
        return f"{display}: not scanned (not UTF-8 text: {exc.reason} at byte {exc.start})"
    return f"{display}: not scanned ({type(exc).__name__}: {exc})"


def _relevant(summary: ModuleSummary, uses_openai: bool, wrappers: set[str]) -> bool:
    if summary.imports & _SDK_ROOTS:
        return True
    if summary.called.keys() & wrappers:
        return True
    return uses_openai and not summary.imports & OTHER_SDKS


def _follow_wrappers(found: Found) -> list[ScannedCall]:
    """Replace each SDK call whose model= is a wrapper's parameter by one call per call site (one level)."""
    by_wrapper: dict[tuple[str, str], list[Site]] = {}
    for site in found.sites:
        by_wrapper.setdefault((site.module, site.function), []).append(site)
    replaced: dict[int, list[ScannedCall]] = {}
    for pending in found.pending:
        sites = by_wrapper.get((pending.module, pending.function), [])
        if not sites or len(sites) > MAX_SITES:
            continue
        call = pending.call
        replaced[id(call)] = [_at_site(call, site) for site in sites]
    calls: list[ScannedCall] = []
    for call in found.calls:
        calls.extend(replaced.get(id(call), [call]))
    return calls


def _at_site(call: ScannedCall, site: Site) -> ScannedCall:
    outcome: Resolved | Unresolved = site.deployment
    made = result_call(
        api=call.api,
        file=site.file,
        line=site.line,
        expression=site.expression,
        parameters={**call.parameters, **site.parameters},
        outcome=outcome,
        via=f"{site.function}() at {call.file}:{call.line}",
        sdk=call.sdk,
        api_version=call.api_version,
    )
    return replace(made, note=call.note) if call.note and not made.note else made


def contract_from_code(
    path: Path | str, environ: Mapping[str, str] | None = None, include_tests: bool = False
) -> tuple[tuple[ContractCall, ...], tuple[UnresolvedCall, ...], tuple[str, ...]]:
    """Scan, write the contract and read it back exactly as `--contract` would: (calls, unresolved, skipped
    files). One path of truth, so `--contract-from PATH` and `contract scan` + `--contract` cannot differ."""
    result = scan(path, include_tests=include_tests)
    with tempfile.TemporaryDirectory(prefix="audit-contract-") as directory:
        written = Path(directory) / "contract.yaml"
        written.write_text(contract_yaml(result, str(path)), encoding="utf-8")
        calls, unresolved = load_contract_document(written, environ)
    return calls, unresolved, result.skipped
