"""The two speed tricks in the hottest code, each measured against the plain way it replaces:

- the `Finding` built as a mutable draft and then given its class (auditor/engine/evaluate.py `_new_finding`)
  against the frozen dataclass's `__init__`, per finding of a 10,000-deployment fleet;
- report.json written in slices (auditor/render/json_report.py `write_json`) against one `orjson.dumps` of the
  whole document: time and peak memory, each in a fresh process so the peaks do not mix.

    python -m tests.benchmarks.bench_tricks [--deployments 10000]

A trick stays while its figure shows it pays; the equivalence tests are test_fast_finding_equals_the_dataclass_
constructor and test_json_written_in_slices_is_the_one_indented_dump.
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import subprocess
import sys
import time
import timeit
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from tests.benchmarks import machine

RESULTS = Path(__file__).parent / "results"
TODAY, NOW = date(2026, 11, 22), datetime(2026, 11, 22, tzinfo=timezone.utc)


def _fleet_report(deployments: int) -> Any:
    from auditor.engine.rules import load_rules
    from auditor.knowledge.base import load_knowledge
    from auditor.pipeline.audit import audit
    from tests.benchmarks.bench_engine import fleet_facts

    return audit(fleet_facts(deployments), load_rules(), load_knowledge(), today=TODAY, now=NOW)


def finding_constructor(findings: int) -> dict[str, float]:
    """Seconds to build `findings` findings each way (best of 5)."""
    from auditor.engine.evaluate import _new_finding, _Prepared
    from auditor.engine.rules import load_rules
    from auditor.engine.subjects import Subject
    from auditor.model.results import Finding, Status

    rule = load_rules()[0]
    prepared = _Prepared.of(rule)
    subject = Subject("deployment", "/subscriptions/s/deployments/d", "a/d", {}, account_id="/a", deployment="d")
    message = "Deployment d retires on 2026-12-12, in 20 days"

    def fast() -> Finding:
        return _new_finding(prepared, subject, Status.FAIL, message, "r", None, None)

    def plain() -> Finding:
        return Finding(
            rule_id=rule.id,
            title=rule.title,
            category=rule.category,
            severity=rule.severity,
            status=Status.FAIL,
            target=subject.target,
            target_name=subject.target_name,
            message=message,
            remediation="r",
            docs=rule.docs,
            account_id=subject.account_id,
            deployment=subject.deployment,
            location=subject.location,
        )

    return {
        name: round(min(timeit.repeat(build, number=findings, repeat=5)), 3)
        for name, build in (("draft_then_class", fast), ("dataclass_init", plain))
    }


def json_once(mode: str, deployments: int) -> dict[str, float]:
    """Write report.json one way, in this process; seconds and how much the peak RSS grew."""
    import orjson

    from auditor.render import json_report

    report = _fleet_report(deployments)
    gc.collect()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    with open("/dev/null", "wb", buffering=1 << 20) as out:
        if mode == "sliced":
            json_report.write_json(report, out)
        else:
            document = json_report.report_document(report)
            out.write(orjson.dumps(document, default=json_report._default, option=json_report._OPTIONS) + b"\n")
    seconds = time.perf_counter() - started
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - before
    return {"seconds": round(seconds, 3), "peak_growth_mb": round(grown, 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deployments", type=int, default=10000)
    parser.add_argument("--json-mode", choices=("sliced", "whole"), help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=RESULTS / "tricks-latest.json")
    args = parser.parse_args()
    if args.json_mode:
        print(json.dumps(json_once(args.json_mode, args.deployments)))
        return 0
    findings = len(_fleet_report(args.deployments).findings)
    json_figures = {}
    for mode in ("sliced", "whole"):
        command = [sys.executable, "-m", "tests.benchmarks.bench_tricks", "--json-mode", mode]
        run = subprocess.run([*command, "--deployments", str(args.deployments)], capture_output=True, text=True)
        json_figures[mode] = json.loads(run.stdout)
    result = {
        "benchmark": "tricks",
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(),
        "deployments": args.deployments,
        "findings": findings,
        "finding_constructor_seconds": finding_constructor(findings),
        "report_json": json_figures,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
