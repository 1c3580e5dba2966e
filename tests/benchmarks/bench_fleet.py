"""The fleet benchmark: the auditor against the SDK floor and a naive serial script, in the same run, on the
simulated tenant.

    python -m tests.benchmarks.bench_fleet                        # 100, 500 and 2,000 deployments
    python -m tests.benchmarks.bench_fleet --sizes 100 --skip-naive --skip-serial # a quick look

At each size, against one simulated tenant with injected latency (50 ms per ARM call, 200 ms per data-plane call
by default), each run a fresh Python process:
- the auditor (`--all --probe`, --concurrency 16) and the SDK floor (sdk_floor.py: only the calls the probes
  need, through the same SDKs on the same bounded pool, no rules, knowledge base, catalog, quota or reports),
  alternating `--repeat` times, medians reported: what the auditor costs above what its SDKs cost;
- the same auditor at `--concurrency 1`, which makes exactly the same calls one at a time (so the ratio is what
  concurrency alone buys);
- the naive script as people write it, which also reads catalog and quota again for every deployment (so its
  ratio mixes fewer calls with concurrency).
Also the critical-path bound — the least time the auditor's calls can take at its concurrency, max(longest
chain of dependent calls, total call time / concurrency) — with wall/bound for the auditor and for the SDK
floor (which makes fewer calls: its ratio to the auditor's bound is what no program on these SDKs beats on
this machine), and the most calls in flight at once (token requests included). Floors: wall/bound at most
1.25 and never more calls in flight than --concurrency. The machine's load average is recorded before and after
each size: CPU-bound parts (start-up, the SDKs' own work) slow down on a busy machine. Results go to
tests/benchmarks/results/fleet-latest.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from statistics import median
from typing import Any

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


def _cpu_seconds() -> float:
    """CPU time (user + system) of the finished child processes so far: what a run costs whatever the load."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


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


def _audit_command(tenant: SimulatedTenant, deployments: int, concurrency: int, out: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "auditor",
        "--all",
        "--probe",
        "--management-endpoint",
        tenant.management_url,
        "--concurrency",
        str(concurrency),
        "--max-probe-calls",
        str(4 * deployments + 100),
        "--probe-token-budget",
        str(200 * deployments + 10_000),
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


def measure_size(args: argparse.Namespace, deployments: int) -> dict[str, Any]:
    """One fleet size: the auditor at --concurrency and the SDK floor (sdk_floor.py: only the calls a probe needs,
    through the same SDKs, nothing else), alternating `--repeat` times on one tenant, medians reported; then the
    same auditor at --concurrency 1 (exactly its calls, one at a time) and the naive script as people write it
    (catalog and quota again for every deployment)."""
    accounts = max(args.accounts, deployments // 25)
    spec = fleet_spec(accounts=accounts, deployments=deployments, subscriptions=args.subscriptions)
    result: dict[str, Any] = {
        "size": {
            "subscriptions": args.subscriptions,
            "accounts": accounts,
            "deployments": deployments,
            "regions": len({a.location for a in spec.accounts}),
        },
        "load_average_before": [round(x, 2) for x in os.getloadavg()],
    }
    with (
        SimulatedTenant(spec, arm_latency=args.arm_latency, data_latency=args.data_latency) as tenant,
        tempfile.TemporaryDirectory() as out,
    ):
        env = _env(tenant)
        walls: list[float] = []
        cpus: list[float] = []
        floor_walls: list[float] = []
        peak: dict[str, int] = {}
        floor_peak: dict[str, int] = {}
        records: list[Any] = []
        floor_records: list[Any] = []
        for _ in range(args.repeat):
            tenant.clear_records()
            cpu = _cpu_seconds()
            wall, done = _timed(_audit_command(tenant, deployments, args.concurrency, out), env)
            cpus.append(_cpu_seconds() - cpu)
            if done.returncode != 0:
                print(done.stdout, done.stderr, file=sys.stderr)
                raise SystemExit(f"the auditor run failed with exit {done.returncode}")
            walls.append(wall)
            records, peak = list(tenant.records), _most(peak, tenant.peak_in_flight)
            tenant.clear_records()
            floor_wall, floor = _timed([sys.executable, str(Path(__file__).with_name("sdk_floor.py"))], env)
            if floor.returncode != 0:
                print(floor.stderr[-3000:], file=sys.stderr)
                raise SystemExit("the SDK floor program failed")
            floor_walls.append(floor_wall)
            floor_records, floor_peak = list(tenant.records), _most(floor_peak, tenant.peak_in_flight)
        report = json.loads(Path(out, "report.json").read_text())
        bound = critical_path_bound(
            records, args.arm_latency, args.data_latency, args.concurrency, len(report["deployments"])
        )
        floor_bound = critical_path_bound(
            floor_records, args.arm_latency, args.data_latency, args.concurrency, len(report["deployments"])
        )
        wall, floor_wall = median(walls), median(floor_walls)
        result["auditor"] = {
            "wall_seconds": round(wall, 3),
            "wall_seconds_runs": [round(w, 3) for w in walls],
            **bound,
            "wall_over_bound": round(wall / bound["bound_seconds"], 3),
            "cpu_seconds": round(median(cpus), 3),
            "peak_in_flight": peak,
            "deployments_audited": len(report["deployments"]),
        }
        result["sdk_floor"] = {
            "wall_seconds": round(floor_wall, 3),
            "wall_seconds_runs": [round(w, 3) for w in floor_walls],
            **floor_bound,
            "wall_over_own_bound": round(floor_wall / floor_bound["bound_seconds"], 3),
            "wall_over_auditor_bound": round(floor_wall / bound["bound_seconds"], 3),
            "peak_in_flight": floor_peak,
        }
        result["auditor_over_sdk_floor"] = round(wall / floor_wall, 3)
        print(
            f"{deployments} deployments: auditor {wall:.2f} s ({bound['arm_calls']} ARM + {bound['data_calls']} "
            f"data-plane calls), bound {bound['bound_seconds']:.2f} s, wall/bound {wall / bound['bound_seconds']:.2f}, "
            f"peak in flight {peak.get('all')}; SDK floor {floor_wall:.2f} s ({floor_bound['arm_calls']} ARM + "
            f"{floor_bound['data_calls']} data-plane calls), floor/bound {floor_wall / bound['bound_seconds']:.2f}; "
            f"auditor/floor {wall / floor_wall:.2f} (medians of {args.repeat})",
            flush=True,
        )
        if not args.skip_serial:
            tenant.clear_records()
            serial_wall, serial = _timed(_audit_command(tenant, deployments, 1, out), env)
            if serial.returncode != 0:
                raise SystemExit(f"the serial auditor run failed with exit {serial.returncode}")
            result["auditor_serial"] = {
                "wall_seconds": round(serial_wall, 3),
                "calls": len(tenant.records),
                "peak_in_flight": tenant.peak_in_flight,
            }
            result["speedup_over_serial"] = round(serial_wall / wall, 2)
            print(f"  same calls at --concurrency 1: {serial_wall:.1f} s; {serial_wall / wall:.1f}x", flush=True)
        if not args.skip_naive:
            tenant.clear_records()
            naive_wall, naive = _timed([sys.executable, str(Path(__file__).with_name("naive_serial.py"))], env)
            if naive.returncode != 0:
                print(naive.stderr[-3000:], file=sys.stderr)
                raise SystemExit("the naive script failed")
            result["naive_serial"] = {"wall_seconds": round(naive_wall, 3), "calls": len(tenant.records)}
            result["speedup_over_naive"] = round(naive_wall / wall, 2)
            print(
                f"  naive script: {naive_wall:.1f} s ({len(tenant.records)} calls); {naive_wall / wall:.1f}x",
                flush=True,
            )
    result["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    return result


def _most(a: dict[str, int], b: dict[str, int]) -> dict[str, int]:
    return {k: max(a.get(k, 0), b.get(k, 0)) for k in {*a, *b}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100,500,2000", help="deployment counts, comma-separated")
    parser.add_argument("--accounts", type=int, default=20, help="at least this many accounts (25 deployments each)")
    parser.add_argument("--subscriptions", type=int, default=3)
    parser.add_argument("--arm-latency", type=float, default=0.05)
    parser.add_argument("--data-latency", type=float, default=0.2)
    parser.add_argument(
        "--concurrency", type=int, default=16, help="the auditor's --concurrency (default: the CLI default, 16)"
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="auditor and SDK floor runs per size, alternating (medians reported)"
    )
    parser.add_argument("--skip-naive", action="store_true", help="leave out the naive script")
    parser.add_argument("--skip-serial", action="store_true", help="leave out the --concurrency 1 run")
    parser.add_argument("--out", type=Path, default=RESULTS / "fleet-latest.json")
    args = parser.parse_args()

    sizes = [int(n) for n in args.sizes.split(",") if n.strip()]
    runs = [measure_size(args, n) for n in sizes]
    result: dict[str, Any] = {
        "benchmark": "fleet",
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(),
        "latency": {"arm_seconds": args.arm_latency, "data_seconds": args.data_latency},
        "concurrency": args.concurrency,
        "runs": runs,
    }
    floors = {"wall_over_bound_at_most": 1.25, "peak_in_flight_at_most": args.concurrency}
    result["floors"] = floors
    for r in runs:
        # Even the SDK floor (fewer calls, no rules, nothing written) over the auditor's bound: above the floor's
        # ratio, no program on these SDKs gets under it on this machine at this size.
        r["wall_over_bound_reachable_here"] = (
            r["sdk_floor"]["wall_over_auditor_bound"] <= floors["wall_over_bound_at_most"]
        )
    result["floors_hold"] = all(
        r["auditor"]["wall_over_bound"] <= floors["wall_over_bound_at_most"]
        and r["auditor"]["peak_in_flight"].get("all", 0) <= args.concurrency
        for r in runs
    )
    return publish(result, args.out)


if __name__ == "__main__":
    raise SystemExit(main())
