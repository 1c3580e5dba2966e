"""The observed-contract benchmark: what reading who calls 1,000 deployments (--monitor) adds to an audit.

    python -m tests.benchmarks.bench_observed                   # 1,000 deployments in 40 accounts
    python -m tests.benchmarks.bench_observed --deployments 200 # a quick look

One simulated tenant (tests/benchmarks/fleet.py, every deployment with traffic in Azure Monitor: 1-2 operations,
statuses 200/400/429, part streamed), 50 ms per ARM call. Each run is a fresh `audit --all` process at
--concurrency 16, without and with --monitor, alternating `--repeat` times, medians reported. Counted off the
simulator's records: metrics calls per account and per split (the traffic split must be one call per account),
the most requests in flight at once (never more than --concurrency), and what --monitor adds to the wall time.
Results go to tests/benchmarks/results/observed-latest.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from statistics import median
from typing import Any

from auditor.demo.sim import SimulatedTenant, TenantSpec
from tests.benchmarks.bench_fleet import _env
from tests.benchmarks.fleet import fleet_spec

RESULTS = Path(__file__).parent / "results"
SPLIT = "OperationName eq '*'"
"""What only the traffic read's filter holds (activity splits by deployment and status only)."""


def observed_fleet(accounts: int, deployments: int, subscriptions: int) -> TenantSpec:
    """The fleet with traffic on every deployment: Chat Completions (part streamed, some 400s and 429s), and on
    every third deployment Responses too."""
    spec = fleet_spec(accounts=accounts, deployments=deployments, subscriptions=subscriptions)
    accounts_out = []
    for account in spec.accounts:
        traffic: dict[str, tuple[dict[str, Any], ...]] = {}
        for index, deployment in enumerate(account.deployments):
            calls = 1000 + 37 * index
            entries: list[dict[str, Any]] = [
                {
                    "operation": "ChatCompletions_Create",
                    "streaming": calls // 2,
                    "status": {"200": calls - 30, "400": 10, "429": 20},
                }
            ]
            if index % 3 == 0:
                entries.append({"operation": "Responses_Create", "status": {"200": 200}})
            traffic[deployment.name] = tuple(entries)
        accounts_out.append(replace(account, traffic=traffic))
    by_id = {a.id: a for a in accounts_out}
    subscriptions_out = []
    for sub in spec.subscriptions:
        groups = [replace(rg, accounts=tuple(by_id[a.id] for a in rg.accounts)) for rg in sub.resource_groups]
        subscriptions_out.append(replace(sub, resource_groups=tuple(groups)))
    return replace(spec, subscriptions=tuple(subscriptions_out))


def _command(tenant: SimulatedTenant, concurrency: int, out: str, monitor: bool) -> list[str]:
    return [
        sys.executable,
        "-m",
        "auditor",
        "--all",
        *(["--monitor"] if monitor else []),
        "--management-endpoint",
        tenant.management_url,
        "--concurrency",
        str(concurrency),
        "--out",
        out,
        "--format",
        "json",
        "--fail-on",
        "never",
        "--quiet",
    ]


def _sdk_floor(tenant: SimulatedTenant, env: dict[str, str]) -> dict[str, float]:
    """The traffic reads alone, one account after another in this process through azure-mgmt-monitor: their wall
    and CPU time (the SDK's own work: requests, TLS, deserializing the metric's models) is what no reader of
    these SDKs saves, whatever its concurrency."""
    from azure.identity import ManagedIdentityCredential

    from auditor.model.clouds import get_cloud
    from auditor.pipeline.audit import AuditOptions
    from auditor.sources.azure import AzureEnumerator, resolve_accounts

    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        with ManagedIdentityCredential() as credential:
            enumerator = AzureEnumerator(
                credential, get_cloud("AzureCloud", tenant.management_url), connection_verify=tenant.ca_path
            )
            accounts, _ = resolve_accounts(
                enumerator, [], all_accounts=True, subscriptions=AuditOptions().subscriptions, resource_group=None
            )
            reader = enumerator.monitor()
            reader.traffic(accounts[0])  # warm: imports, token, connection
            wall, cpu = time.perf_counter(), time.process_time()
            for account in accounts:
                reader.traffic(account)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return {"accounts": len(accounts), "serial_wall_seconds": round(wall, 3), "cpu_seconds": round(cpu, 3)}


def measure(args: argparse.Namespace) -> dict[str, Any]:
    accounts = max(1, args.deployments // 25)
    spec = observed_fleet(accounts, args.deployments, args.subscriptions)
    result: dict[str, Any] = {
        "size": {"accounts": accounts, "deployments": args.deployments, "subscriptions": args.subscriptions},
        "arm_latency_seconds": args.arm_latency,
        "concurrency": args.concurrency,
        "load_average_before": [round(x, 2) for x in os.getloadavg()],
    }
    walls: dict[bool, list[float]] = {False: [], True: []}
    peaks: dict[bool, int] = {False: 0, True: 0}
    calls: dict[bool, int] = {}
    metrics_paths: Counter[str] = Counter()
    split_calls: Counter[str] = Counter()
    observed_rows = 0
    with SimulatedTenant(spec, arm_latency=args.arm_latency) as tenant, tempfile.TemporaryDirectory() as out:
        env = _env(tenant)
        for _ in range(args.repeat):
            for monitor in (False, True):
                tenant.clear_records()
                started = time.perf_counter()
                done = subprocess.run(
                    _command(tenant, args.concurrency, out, monitor), env=env, capture_output=True, text=True
                )
                walls[monitor].append(time.perf_counter() - started)
                if done.returncode != 0:
                    print(done.stdout[-2000:], done.stderr[-3000:], file=sys.stderr)
                    raise SystemExit(f"the audit failed with exit {done.returncode}")
                records = [r for r in tenant.records if r.plane in ("arm", "graph")]
                calls[monitor] = len(records)
                peaks[monitor] = max(peaks[monitor], tenant.peak_in_flight.get("all", 0))
                if monitor:
                    metrics = [r for r in records if r.path.lower().endswith("/providers/microsoft.insights/metrics")]
                    metrics_paths = Counter(r.path for r in metrics)
                    split_calls = Counter(r.path for r in metrics if SPLIT in (r.query.get("$filter") or ""))
                    report = json.loads(Path(out, "report.json").read_text(encoding="utf-8"))
                    observed_rows = len(report.get("traffic") or ())
        floor = _sdk_floor(tenant, env)
    without, with_monitor = median(walls[False]), median(walls[True])
    result.update(
        {
            "without_monitor": {
                "wall_seconds": round(without, 3),
                "arm_calls": calls[False],
                "peak_in_flight": peaks[False],
            },
            "with_monitor": {
                "wall_seconds": round(with_monitor, 3),
                "arm_calls": calls[True],
                "peak_in_flight": peaks[True],
            },
            "added_seconds": round(with_monitor - without, 3),
            "added_calls": calls[True] - calls[False],
            "metrics_calls_per_account": sorted(set(metrics_paths.values())),
            "traffic_calls_per_account": sorted(set(split_calls.values())),
            "accounts_with_traffic_read": len(split_calls),
            "traffic_rows": observed_rows,
            "sdk_floor": floor,
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
            "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
    )
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deployments", type=int, default=1000)
    parser.add_argument("--subscriptions", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--arm-latency", type=float, default=0.05)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    result = measure(args)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "observed-latest.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    ok = result["traffic_calls_per_account"] == [1] and result["with_monitor"]["peak_in_flight"] <= args.concurrency
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
