"""The app contract derived from the application's own source (`audit contract scan`): calls to Azure
OpenAI found with the `ast` module — the app is never imported or run.

Two passes, so memory stays bounded by the largest file: pass 1 parses each file and keeps a small summary
(module constants, classes and settings fields, attributes set on shared objects, wrapper functions);
pass 2 parses again each file that can hold a call and records the calls (`scanner.py`), resolving names
against the summaries (`resolve.py`). Layout: files.py (walking the tree safely), collect.py and project.py
(pass 1), calls.py (the openai SDK's call shapes), frameworks.py, legacy.py (pre-1.0 SDK), output.py."""

from __future__ import annotations

import ast
import tempfile
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from auditor.sources.scan.calls import Found, Site, result_call
from auditor.sources.scan.collect import ModuleSummary
from auditor.sources.scan.files import read_source, walk
from auditor.sources.scan.frameworks import ROOTS
from auditor.sources.scan.model import Resolved, ScannedCall, ScanResult, Unresolved
from auditor.sources.scan.output import contract_document, contract_yaml
from auditor.sources.scan.project import Project, only_statements, summarize
from auditor.sources.scan.resolve import Resolver
from auditor.sources.scan.scanner import FileScanner

__all__ = ["ScanResult", "ScannedCall", "contract_document", "contract_from_code", "contract_yaml", "scan"]

OTHER_SDKS = frozenset(
    {"groq", "anthropic", "mistralai", "together", "fireworks", "cerebras", "cohere", "litellm", "huggingface_hub"}
)
_SDK_ROOTS = frozenset({"openai", *ROOTS})
_UNREADABLE = (SyntaxError, UnicodeDecodeError, OSError, ValueError, RecursionError, MemoryError)
MAX_SITES = 50
"""Call sites followed per wrapper function; more are reported as one unresolved call."""


def _parse(path: Path, display: str) -> tuple[ast.Module, str]:
    text = read_source(path)
    return ast.parse(text, filename=display), text


def scan(path: Path | str, include_tests: bool = False) -> ScanResult:
    """Every call to Azure OpenAI under `path` (a directory or one file); file paths are shown as given."""
    root = Path(path)
    display_root = str(path).rstrip("/\\") or "."
    found = walk(root.resolve() if root.is_dir() else root, display_root, include_tests)
    project = Project(root)
    skipped = list(found.skipped)
    files = []
    for source in found.files:
        try:
            tree, text = _parse(source.path, source.display)
            summary = summarize(
                tree, source.module, source.display, source.path.name == "__init__.py", text, source.path
            )
        except _UNREADABLE as exc:
            skipped.append(_problem(source.display, exc))
            continue
        del tree, text
        project.add(summary)
        files.append(source)
    uses_openai = any(s.imports & _SDK_ROOTS for s in project.modules.values())
    wrappers = project.wrapper_names()
    resolver = Resolver(project)
    results = Found()
    for source in files:
        summary = project.modules[source.module]
        if not _relevant(summary, uses_openai, wrappers):
            continue
        try:
            lines = sorted(summary.lines.union(*(summary.called[name] for name in summary.called.keys() & wrappers)))
            text = only_statements(read_source(source.path), summary.statements, lines)
            tree = ast.parse(text, filename=source.display)
            scanned = FileScanner(project, resolver, source.module, source.display).run(tree, lines, summary.scope)
        except _UNREADABLE as exc:
            skipped.append(_problem(source.display, exc))
            continue
        results.calls.extend(scanned.calls)
        results.sites.extend(scanned.sites)
        results.pending.extend(scanned.pending)
    calls = _follow_wrappers(results)
    calls.sort(key=lambda c: (c.file, c.line, c.api, c.deployment or ""))
    return ScanResult(tuple(calls), tuple(skipped), tuple(found.notes))


def _problem(display: str, exc: BaseException) -> str:
    if isinstance(exc, RecursionError):
        return f"{display}: not scanned (nested too deeply to analyse)"
    if isinstance(exc, MemoryError):
        return f"{display}: not scanned (too large to analyse)"
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
) -> tuple[tuple[Any, ...], tuple[Any, ...], tuple[str, ...]]:
    """Scan, write the contract and read it back exactly as `--contract` would: (calls, unresolved, skipped
    files). One path of truth, so `--contract-from PATH` and `contract scan` + `--contract` cannot differ."""
    from auditor.sources.contract import load_contract_document

    result = scan(path, include_tests=include_tests)
    with tempfile.TemporaryDirectory(prefix="audit-contract-") as directory:
        written = Path(directory) / "contract.yaml"
        written.write_text(contract_yaml(result, str(path)), encoding="utf-8")
        calls, unresolved = load_contract_document(written, environ)
    return calls, unresolved, result.skipped
