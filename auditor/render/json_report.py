"""The machine-readable report (`report.json`), described by auditor/schemas/report.schema.json.

Everything comes out in the order the report fixed, so two runs over the same tenant give the same file
but for `generated_at`. The result model's dataclasses are laid out as the schema's objects, so orjson
serializes them as they are; long arrays are written in slices, byte for byte as one indented dump
would write them, so a 10,000-deployment report never sits in memory as one string.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from types import MappingProxyType
from typing import Any, BinaryIO

import orjson

from auditor.model.errors import InputError
from auditor.model.results import Drift, Report
from auditor.render.stream import text_of


def passes_form(value: str, report: Report) -> str:
    """`--passes`: full, summary, or auto (summary above SUMMARY_ABOVE deployments). A report merged from
    compact shards has no passing results to list, so it stays compact."""
    if value not in PASSES:
        raise InputError(f"unknown --passes value {value!r}: choose auto, summary or full")
    if report.pass_counts:
        return "summary"
    if value == "auto":
        return "summary" if len(report.deployments) > SUMMARY_ABOVE else "full"
    return value


SCHEMA_VERSION = "1.3"
PASSES = ("auto", "summary", "full")
SUMMARY_ABOVE = 1000
"""`--passes auto` counts passing results instead of listing them above this many deployments: at 10,000
deployments 140,000 of 177,000 results are passes, and at 100,000 the full file is 2.3 GB."""
SLICE = 4096
_OPTIONS = orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS


def _default(value: Any) -> Any:
    if isinstance(value, MappingProxyType):  # a finding's evidence, shared read-only with its subject
        return dict(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _dumps(value: Any) -> bytes:
    return orjson.dumps(value, default=_default, option=_OPTIONS)


def _drift(drift: Drift | None) -> dict[str, Any] | None:
    if drift is None:
        return None
    return {
        "baseline_generated_at": drift.baseline_generated_at,
        "baseline_tool_version": drift.baseline_tool_version,
        "resolved": [dict(asdict(r), severity=r.severity.value, status=r.status.value) for r in drift.resolved],
        "deployment_changes": [asdict(c) for c in drift.changes],
    }


def report_document(report: Report) -> dict[str, Any]:
    """The report as report.json's top-level object; list members are the result model's own objects.
    In the compact form (`passes: summary`) passing results are counted in `pass_counts`, not listed."""
    compact = report.counts_passes
    findings = report.compact_form.listed if compact else report.findings
    document: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "generated_at": report.generated_at.isoformat(),
        "tool_version": report.tool_version,
        "ruleset": report.ruleset,
        "knowledge_checked": report.knowledge_checked,
        "complete": report.complete,
        "summary": report.summary().as_dict(),
        "targets": report.targets,
        "deployments": report.deployments,
        "quota": report.quota,
        "retirements": report.retirements,
        "rules": report.rules,
        "findings": findings,
        "drift": _drift(report.drift),
        "gaps": report.gaps,
        "passes": "summary" if compact else "full",
        "shard": report.shard,
    }
    if compact:
        document["pass_counts"] = report.compact_form.counted
    if report.traffic:
        document["traffic"] = report.traffic
    if report.nightly is not None:
        document["headline"] = report.nightly.headline
    return document


def _indented(text: bytes) -> bytes:
    """A value dumped at the top level, moved one level in (JSON strings hold no raw newline)."""
    return text.replace(b"\n", b"\n  ")


def _write_array(name: str, items: Sequence[Any], out: BinaryIO) -> None:
    """A long top-level array, dumped a slice at a time inside `{name: slice}`, so orjson indents the
    items as the whole document would; the wrapper's first and last lines are cut off.

    Why: one dump of a 10,000-deployment report is a 227 MB bytes object; slices keep the peak at +7 MB
    instead of +427 MB and write in 0.43 s instead of 0.70 s (python -m tests.benchmarks.bench_tricks,
    2026-12-03). test_json_written_in_slices_is_the_one_indented_dump pins the bytes to one dump's."""
    head, tail = b"{\n  " + _dumps(name) + b": [\n", b"\n  ]\n}"
    out.write(b"[\n")
    for start in range(0, len(items), SLICE):
        if start:
            out.write(b",\n")
        dumped = _dumps({name: list(items[start : start + SLICE])})
        out.write(memoryview(dumped)[len(head) : -len(tail)])
    out.write(b"\n  ]")


def write_json(report: Report, out: BinaryIO) -> None:
    """report.json, the same bytes as `orjson.dumps(report_document(report), OPT_INDENT_2)` plus a newline."""
    document = report_document(report)
    out.write(b"{")
    for index, (key, value) in enumerate(document.items()):
        out.write(b"\n  " if index == 0 else b",\n  ")
        out.write(_dumps(key) + b": ")
        if isinstance(value, tuple) and len(value) > SLICE:
            _write_array(key, value, out)
        else:
            out.write(_indented(_dumps(value)))
    out.write(b"\n}\n")


def render_json(report: Report) -> str:
    return text_of(write_json, report)
