"""Measure `audit contract scan` on a corpus of real applications checked out OUTSIDE the repository
(nothing of theirs is copied here): per app, calls found, deployment names resolved, unresolved by reason.

    python -m tests.benchmarks.scan_corpus CORPUS            # every directory under it is one app
    python -m tests.benchmarks.scan_corpus CORPUS --scanner OLD/code_scan.py   # an older scanner
    python -m tests.benchmarks.scan_corpus CORPUS --manifest tests/benchmarks/scan_corpus_manifest.yaml

`--scanner` loads `scan()` from another file (e.g. `git show main:auditor/sources/scan/`), so the
before/after figures come from the same counting. `--manifest` checks the scan against a reviewed manifest
of every call of each app (scan_corpus_manifest.yaml): calls found + calls noted = all calls, no wrong
deployment name, the share resolved right; it exits 1 when a call is missing or a name is wrong. Not part of
the test suite (the apps are not in this repository); tests/test_scan_corpus_manifest.py checks the manifest.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

_REASONS = [  # (pattern in an older scanner's why:, reason code) — the new scanner gives the code itself
    (r"no model= keyword", "no-model-keyword"),
    (r"argument `", "function-argument"),
    (r"attribute", "attribute"),
    (r"assigned more than once|computed in", "assigned-several-times"),
    (r"f-string", "f-string"),
    (r"outside the scanned code|another module", "other-module"),
    (r"cannot see defined", "undefined-name"),
    (r"computed name", "computed-env-name"),
    (r"not a deployment name", "not-a-name"),
    (r"expression", "expression"),
]


def _reason(call: Any) -> str:
    code = getattr(call, "reason", None)
    if code:
        return str(code)
    why = call.why or ""
    return next((code for pattern, code in _REASONS if re.search(pattern, why)), "other")


def _kind(call: Any) -> str:
    """openai SDK call, pre-1.0 SDK, framework class (its package), a wrapper's call site, or a partial."""
    via = getattr(call, "via", None)
    if getattr(call, "sdk", None):
        return str(call.sdk)
    if not via:
        return "openai"
    if via == "functools.partial" or "()" in via:
        return "wrapper"
    return str(via).split(".")[0]


def _load_scanner(path: str | None) -> Callable[..., Any]:
    if path is None:
        from auditor.sources.scan import scan

        return scan
    spec = importlib.util.spec_from_file_location("_scanner_under_test", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module.scan


def measure(app: Path, scan: Callable[..., Any]) -> dict[str, Any]:
    result = scan(app)
    calls = list(result.calls)
    literal = sum(1 for c in calls if c.deployment and not c.deployment.startswith("env:"))
    env = sum(1 for c in calls if c.deployment and c.deployment.startswith("env:"))
    unresolved = Counter(_reason(c) for c in calls if c.deployment is None)
    kinds = Counter(_kind(c) for c in calls)
    return {
        "app": app.name,
        "calls": len(calls),
        "resolved_literal": literal,
        "resolved_env": env,
        "unresolved": sum(unresolved.values()),
        "unresolved_by_reason": dict(unresolved.most_common()),
        "with_alternatives": sum(1 for c in calls if getattr(c, "alternatives", ())),
        "by_kind": dict(kinds.most_common()),
        "skipped_files": len(result.skipped),
    }


def check(corpus: Path, manifest: dict[str, Any], scan: Callable[..., Any]) -> dict[str, Any]:
    """The scan of each app of the manifest against its reviewed calls."""
    rows = []
    for app in manifest["apps"]:
        root = corpus / app["directory"]
        result = scan(root)
        prefix = f"{root}/"
        scanned = {(c.file.removeprefix(prefix) + f":{c.line}", c.api): c for c in result.calls}
        notes = [n.removeprefix(prefix) for n in result.notes]
        row: dict[str, Any] = {"app": app["repository"], "calls": len(app["calls"]), "notes": len(app["notes"])}
        row.update(found=0, noted=0, resolved_right=0, answered_right=0, wrong_deployment=[], missing=[])
        for expected in app["calls"]:
            got = scanned.pop((expected["at"], expected["api"]), None)
            if got is None:
                row["missing"].append(expected["at"])
                continue
            row["found"] += 1
            if "deployment" in expected:
                right = got.deployment == expected["deployment"] and got.default == expected.get("default")
                row["resolved_right"] += right
                row["answered_right"] += right
                if got.deployment is not None and not right:
                    row["wrong_deployment"].append(
                        f"{expected['at']}: {got.deployment} (expected {expected['deployment']})"
                    )
            elif got.deployment is not None:
                row["wrong_deployment"].append(f"{expected['at']}: {got.deployment} (expected unresolved)")
            else:
                row["answered_right"] += got.reason == expected["unresolved"]
        for note in app["notes"]:
            if note in notes:
                row["noted"] += 1
            else:
                row["missing"].append(note)
        row["extra"] = sorted(at for at, _ in scanned)
        rows.append(row)
    return {"apps": rows, "total": _totals(rows)}


def _totals(rows: list[dict[str, Any]]) -> dict[str, Any]:
    total: dict[str, Any] = {key: sum(r[key] for r in rows) for key in ("calls", "notes", "found", "noted")}
    total.update({key: sum(r[key] for r in rows) for key in ("resolved_right", "answered_right")})
    for key in ("missing", "wrong_deployment", "extra"):
        total[key] = sum(len(r[key]) for r in rows)
    total["all"] = total["calls"] + total["notes"]
    total["resolved_right_share"] = round(total["resolved_right"] / max(1, total["calls"]), 3)
    total["answered_right_share"] = round(total["answered_right"] / max(1, total["calls"]), 3)
    return total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", type=Path, help="a directory holding one checked-out app per subdirectory")
    parser.add_argument("--scanner", help="a code_scan.py file to load scan() from (default: this checkout)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--manifest", type=Path, help="check against a reviewed manifest of every call")
    args = parser.parse_args(argv)
    scan = _load_scanner(args.scanner)
    if args.manifest is not None:
        import yaml

        checked = check(args.corpus, yaml.safe_load(args.manifest.read_text(encoding="utf-8")), scan)
        print(json.dumps(checked, indent=2))
        summary = checked["total"]
        return 1 if summary["missing"] or summary["wrong_deployment"] else 0
    rows = [measure(app, scan) for app in sorted(p for p in args.corpus.iterdir() if p.is_dir())]
    total: dict[str, Any] = {"app": "TOTAL", "unresolved_by_reason": Counter(), "by_kind": Counter()}
    for row in rows:
        for key, value in row.items():
            if isinstance(value, int):
                total[key] = total.get(key, 0) + value
        total["unresolved_by_reason"].update(row["unresolved_by_reason"])
        total["by_kind"].update(row["by_kind"])
    total["unresolved_by_reason"] = dict(total["unresolved_by_reason"].most_common())
    total["by_kind"] = dict(total["by_kind"].most_common())
    rows.append(total)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(f"{'app':58} {'calls':>5} {'lit':>4} {'env':>4} {'unres':>5} {'alt':>3}  unresolved by reason")
    for row in rows:
        reasons = ", ".join(f"{k} {v}" for k, v in row["unresolved_by_reason"].items())
        print(
            f"{row['app']:58} {row['calls']:>5} {row['resolved_literal']:>4} {row['resolved_env']:>4} "
            f"{row['unresolved']:>5} {row['with_alternatives']:>3}  {reasons}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
