"""The fleet benchmark: the auditor against a naive serial script, in the same run, on the simulated tenant.

    python -m tests.benchmarks.bench_fleet            # 20 accounts, 500 deployments, 6 regions, 3 subscriptions
    python -m tests.benchmarks.bench_fleet --deployments 100 --skip-naive   # a quick look

Both are started the same way (a fresh Python process each) against one simulated tenant with injected
latency (50 ms per ARM call, 200 ms per data-plane call by default). Prints both wall times, their ratio, and
the critical-path bound — the least time the auditor's necessary calls can take at its concurrency,
max(longest chain of dependent calls, total call time / concurrency) — with wall/bound. Floors: the auditor
at least 10x faster than the serial script, and within 1.25x of the bound. Results go to
tests/benchmarks/results/fleet-latest.json for comparison between commits.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

from auditor.demo.sim import SimulatedTenant
from tests.benchmarks import machine, publish
from tests.benchmarks.fleet import fleet_spec

RESULTS = Path(__file__).parent / "results"
_AZURE_ENV = (
    "AZURE_CLIENT_ID",
    "AZURE_CLIENT_SECRET",
    "AZURE_TENANT_ID",
    "AZURE_FEDERATED_TOKEN_FILE",
    "AZURE_SUBSCRIPTION_ID",
    "AZURE_OPENAI_API_KEY",
    "MSI_ENDPOINT",
    "MSI_SECRET",
)


def _env(tenant: SimulatedTenant) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _AZURE_ENV}
    env.update(tenant.identity_env())
    env.update(
        REQUESTS_CA_BUNDLE=tenant.ca_path, SSL_CERT_FILE=tenant.ca_path, BENCH_MANAGEMENT_URL=tenant.management_url
    )
    return env


def _timed(command: list[str], env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=3600)
    return time.perf_counter() - started, result


def critical_path_bound(
    records: list, arm_latency: float, data_latency: float, concurrency: int, deployments: int
) -> dict[str, float]:
    """max(the longest chain of calls that must follow each other, all calls' time spread over the bound)."""
    arm = [r for r in records if r.plane in ("arm", "graph")]
    data = [r for r in records if r.plane == "data"]
    work = len(arm) * arm_latency + len(data) * data_latency
    graph_pages = sum(1 for r in arm if r.plane == "graph")
    subscription_pages = sum(1 for r in arm if re.fullmatch(r"/subscriptions/?", r.path))
    per_account = Counter(r.path for r in arm if r.path.endswith("/deployments"))
    per_region = Counter(r.path for r in arm if re.search(r"/locations/[^/]+/(models|usages)$", r.path))
    # a deployment's probes follow each other; the calls are spread evenly over the deployments
    deployment_calls = -(-len(data) // max(1, deployments))
    discovery = subscription_pages + graph_pages
    reads = max([*per_account.values(), *per_region.values(), 0])
    chain = (discovery + reads) * arm_latency + deployment_calls * data_latency
    return {
        "arm_calls": len(arm),
        "data_calls": len(data),
        "work_seconds": round(work, 3),
        "chain_seconds": round(chain, 3),
        "bound_seconds": round(max(chain, work / concurrency), 3),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=20)
    parser.add_argument("--deployments", type=int, default=500)
    parser.add_argument("--subscriptions", type=int, default=3)
    parser.add_argument("--arm-latency", type=float, default=0.05)
    parser.add_argument("--data-latency", type=float, default=0.2)
    parser.add_argument(
        "--concurrency", type=int, default=16, help="the auditor's --concurrency (default: the CLI default, 16)"
    )
    parser.add_argument("--skip-naive", action="store_true", help="time only the auditor")
    parser.add_argument("--out", type=Path, default=RESULTS / "fleet-latest.json")
    args = parser.parse_args()

    spec = fleet_spec(accounts=args.accounts, deployments=args.deployments, subscriptions=args.subscriptions)
    result: dict = {
        "benchmark": "fleet",
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(),
        "size": {
            "subscriptions": args.subscriptions,
            "accounts": args.accounts,
            "deployments": args.deployments,
            "regions": len({a.location for a in spec.accounts}),
        },
        "latency": {"arm_seconds": args.arm_latency, "data_seconds": args.data_latency},
        "concurrency": args.concurrency,
    }
    with (
        SimulatedTenant(spec, arm_latency=args.arm_latency, data_latency=args.data_latency) as tenant,
        tempfile.TemporaryDirectory() as out,
    ):
        env = _env(tenant)
        audit_cmd = [
            sys.executable,
            "-m",
            "auditor",
            "--all",
            "--probe",
            "--management-endpoint",
            tenant.management_url,
            "--concurrency",
            str(args.concurrency),
            "--max-probe-calls",
            str(4 * args.deployments + 100),
            "--probe-token-budget",
            str(200 * args.deployments + 10_000),
            "--allow-endpoint",
            "127.0.0.1",
            "--out",
            out,
            "--format",
            "json",
            "--fail-on",
            "never",
            "--quiet",
        ]
        wall, done = _timed(audit_cmd, env)
        if done.returncode != 0:
            print(done.stdout, done.stderr, file=sys.stderr)
            raise SystemExit(f"the auditor run failed with exit {done.returncode}")
        records = list(tenant.records)
        report = json.loads(Path(out, "report.json").read_text())
        bound = critical_path_bound(
            records, args.arm_latency, args.data_latency, args.concurrency, len(report["deployments"])
        )
        result["auditor"] = {
            "wall_seconds": round(wall, 3),
            **bound,
            "wall_over_bound": round(wall / bound["bound_seconds"], 3),
            "peak_in_flight": tenant.peak_in_flight,
            "deployments_audited": len(report["deployments"]),
        }
        print(
            f"auditor: {wall:.1f} s for {len(report['deployments'])} deployments "
            f"({bound['arm_calls']} ARM calls, {bound['data_calls']} data-plane calls); "
            f"critical-path bound {bound['bound_seconds']:.1f} s; wall/bound {wall / bound['bound_seconds']:.2f}"
        )
        if not args.skip_naive:
            tenant.clear_records()
            naive_wall, naive = _timed([sys.executable, str(Path(__file__).with_name("naive_serial.py"))], env)
            if naive.returncode != 0:
                print(naive.stderr[-3000:], file=sys.stderr)
                raise SystemExit("the naive script failed")
            result["naive_serial"] = {"wall_seconds": round(naive_wall, 3), "calls": len(tenant.records)}
            result["speedup"] = round(naive_wall / wall, 2)
            print(
                f"naive serial script: {naive_wall:.1f} s ({len(tenant.records)} calls); speedup {naive_wall / wall:.1f}x"
            )
    floors = {"speedup_at_least": 10.0, "wall_over_bound_at_most": 1.25}
    result["floors"] = floors
    result["floors_hold"] = result["auditor"]["wall_over_bound"] <= floors["wall_over_bound_at_most"] and (
        args.skip_naive or result["speedup"] >= floors["speedup_at_least"]
    )
    return publish(result, args.out)


if __name__ == "__main__":
    raise SystemExit(main())
