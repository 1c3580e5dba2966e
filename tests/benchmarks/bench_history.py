"""Recording a fleet-sized run in the history store (`--history`): the time `nightly_view` adds to a run (record
this run, read the trends back) and how much the SQLite file grows, for a generated 10,000-deployment fleet audited
night after night. Floors: at most 2 s and 5 MB per such run.

    python -m tests.benchmarks.bench_history [--deployments 10000] [--nights 3] [--out FILE]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from auditor.engine.rules import load_rules
from auditor.history.store import open_store
from auditor.knowledge.base import load_knowledge
from auditor.pipeline.audit import audit
from auditor.pipeline.nightly import nightly_view
from tests.benchmarks import machine, publish
from tests.benchmarks.bench_engine import fleet_facts

RESULTS = Path(__file__).parent / "results"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deployments", type=int, default=10_000)
    parser.add_argument("--nights", type=int, default=3)
    parser.add_argument("--out", type=Path, default=RESULTS / "history-latest.json")
    args = parser.parse_args()
    facts = fleet_facts(args.deployments)
    rules, kb = load_rules(), load_knowledge()
    start = date(2026, 12, 1)
    seconds, growth = [], []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "history.sqlite"
        store = open_store(str(path))
        size = path.stat().st_size
        for night in range(args.nights):
            day = start + timedelta(days=night)
            report = audit(
                facts, rules, kb, today=day, now=datetime(day.year, day.month, day.day, 2, tzinfo=timezone.utc)
            )
            report = replace(report, fail_on="error")
            began = time.perf_counter()
            viewed = nightly_view(report, history=store, scope="bench")
            seconds.append(round(time.perf_counter() - began, 3))
            assert viewed.nightly is not None and viewed.nightly.trends is not None
            grown = path.stat().st_size
            growth.append(round((grown - size) / 1e6, 2))
            size = grown
        findings = len(report.not_passing)
        store.close()
    result = {
        "benchmark": "history",
        "deployments": args.deployments,
        "not_passing_findings_per_run": findings,
        "nights": args.nights,
        "seconds_per_run": seconds,
        "median_seconds": statistics.median(seconds),
        "mb_per_run": growth,
        "median_mb": statistics.median(growth),
        "floors": {"seconds": 2.0, "mb": 5.0},
        "floors_hold": statistics.median(seconds) <= 2.0 and max(growth) <= 5.0,
        "machine": machine(),
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    return publish(result, args.out)


if __name__ == "__main__":
    raise SystemExit(main())
