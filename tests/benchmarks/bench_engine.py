"""A generated fleet (facts in memory, no network) through every built-in rule and every report format, as the
CLI writes them (`--passes auto`: passes counted above 1,000 deployments). Floors per 1,000 deployments, from
10,000 deployments up (below that the fixed cost — interpreter, rules, knowledge base, ~65 MB — dominates):
at most 0.5 s and 50 MB of peak memory. The curve also gives the marginal cost between sizes, and the CPU time
(what the run costs whatever else the machine is doing; wall time on a busy machine is several times more).

    python -m tests.benchmarks.bench_engine [--deployments 10000] [--out FILE]
    python -m tests.benchmarks.bench_engine --sizes 1000,10000,100000     # the curve, one process per size

Prints the figures and writes them as JSON (tests/benchmarks/results/engine-latest.json, or engine-curve.json
for --sizes) so they can be compared between commits.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import date, datetime, timezone
from itertools import pairwise
from pathlib import Path

from auditor.engine.rules import load_rules
from auditor.knowledge.base import load_knowledge
from auditor.model.facts import (
    Account,
    CatalogModel,
    CatalogSku,
    ContentFilter,
    ContentFilterPolicy,
    ContractCall,
    Deployment,
    Facts,
    QuotaUsage,
    Region,
)
from auditor.pipeline.audit import audit
from auditor.render import FORMATS, write_reports
from auditor.render.json_report import passes_form
from tests.benchmarks import machine, publish

RESULTS = Path(__file__).parent / "results"
MODELS = [
    ("gpt-4o", "2024-11-20", "GlobalStandard"),
    ("o4-mini", "2025-04-16", "GlobalStandard"),
    ("gpt-5-pro", "2025-10-06", "GlobalStandard"),
    ("gpt-4.1-mini", "2025-04-14", "GlobalStandard"),
    ("gpt-35-turbo", "0125", "Standard"),
    ("o3-mini", "2025-01-31", "GlobalStandard"),
    ("gpt-5.1-codex", "2025-11-13", "GlobalStandard"),
    ("text-embedding-3-large", "1", "Standard"),
    ("gpt-5.2", "2025-12-11", "GlobalStandard"),
    ("brand-new-model", "1", "GlobalStandard"),
]
LOCATIONS = ["eastus2", "swedencentral", "westus3", "francecentral", "japaneast", "uksouth"]


def fleet_facts(deployments: int, accounts: int = 200, subscriptions: int = 3) -> Facts:
    """A big, varied tenant: every rule has something to pass, fail or not know."""
    accts = []
    for i in range(accounts):
        sub = f"00000000-0000-4000-8000-{i % subscriptions:012d}"
        name = f"acct-{i:04d}"
        accts.append(
            Account(
                id=f"/subscriptions/{sub}/resourceGroups/rg-{i % 7}/providers/Microsoft.CognitiveServices/accounts/{name}",
                name=name,
                subscription_id=sub,
                resource_group=f"rg-{i % 7}",
                location=LOCATIONS[i % len(LOCATIONS)],
                kind="OpenAI" if i % 3 else "AIServices",
                sku_name="S0",
                endpoint=f"https://{name}.openai.azure.com/",
                disable_local_auth=bool(i % 2),
                public_network_access="Enabled" if i % 4 == 0 else "Disabled",
                network_default_action="Deny" if i % 5 else None,
                identity_type="SystemAssigned" if i % 2 else None,
            )
        )
    deps = []
    for j in range(deployments):
        account = accts[j % accounts]
        model, version, sku = MODELS[j % len(MODELS)]
        deps.append(
            Deployment(
                id=f"{account.id}/deployments/dep-{j:05d}",
                name=f"dep-{j:05d}",
                account_id=account.id,
                model_format="OpenAI",
                model_name=model,
                model_version=version,
                sku_name=sku,
                sku_capacity=(j % 50) + 1,
                version_upgrade_option="NoAutoUpgrade" if j % 6 == 0 else "OnceNewDefaultVersionAvailable",
                rai_policy_name=None if j % 9 == 0 else "Microsoft.DefaultV2",
                provisioning_state="Failed" if j % 97 == 0 else "Succeeded",
                state="Running",  # deploymentState, as the enumerator reads it at api-version 2026-03-01
            )
        )
    catalog = tuple(
        CatalogModel(
            kind=kind,
            format="OpenAI",
            name=m,
            version=v,
            lifecycle_status="GenerallyAvailable",
            is_default_version=True,
            capabilities={"chatCompletion": "true"},
            inference_deprecation=date(2027, 1, 1) if m != "gpt-35-turbo" else date(2025, 11, 14),
            skus=(CatalogSku(name=s, usage_name=f"OpenAI.{s}.{m}", deprecation_date=None),),
        )
        for m, v, s in MODELS[:-2]
        for kind in ("OpenAI", "AIServices")
    )
    usage_names = {f"OpenAI.{s}.{m}" for m, _, s in MODELS}
    regions = tuple(
        Region(
            f"00000000-0000-4000-8000-{k:012d}",
            loc,
            catalog,
            tuple(QuotaUsage(u, u, float(100 + k * 10), 200.0) for u in sorted(usage_names)),
        )
        for k in range(subscriptions)
        for loc in LOCATIONS
    )
    contract = (
        *tuple(
            ContractCall(
                deployment=f"dep-{j:05d}",
                api="chat_completions" if j % 2 else "responses",
                parameters={"temperature": 0.7, "max_tokens": 100, "stream": True},
            )
            for j in range(0, deployments, 10)
        ),
        ContractCall(deployment="gpt-4o", api="chat_completions"),
    )
    policy = ContentFilterPolicy(
        "Microsoft.DefaultV2", "SystemManaged", "Blocking", None, (ContentFilter("Hate", "Prompt", True, True),)
    )
    return Facts(
        accounts=tuple(accts),
        deployments=tuple(deps),
        regions=regions,
        contract=contract,
        content_filter_policies={a.id: (policy,) for a in accts},
    )


PER_1K_SECONDS = 0.5
PER_1K_MB = 50.0


def run_one(deployments: int) -> dict[str, object]:
    rules = load_rules()
    kb = load_knowledge()
    facts = fleet_facts(deployments, accounts=max(20, deployments // 50))
    cpu_started = time.process_time()
    started = time.perf_counter()
    report = audit(facts, rules, kb, today=date(2026, 11, 22), now=datetime(2026, 11, 22, tzinfo=timezone.utc))
    report = replace(report, passes=passes_form("auto", report))
    evaluated = time.perf_counter()
    per_format: dict[str, float] = {}
    sizes: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in FORMATS:
            began = time.perf_counter()
            (path,) = write_reports(report, Path(tmp), (name,))
            per_format[name] = round(time.perf_counter() - began, 3)
            sizes[path.name] = path.stat().st_size
    rendered = time.perf_counter()
    cpu = time.process_time() - cpu_started
    rss_peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    total = rendered - started
    return {
        "benchmark": "engine",
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "deployments": deployments,
        "rules": len(rules),
        "findings": len(report.findings),
        "passes": report.passes,
        "formats": sorted(sizes),
        "report_bytes": sizes,
        "evaluate_seconds": round(evaluated - started, 3),
        "render_seconds": round(rendered - evaluated, 3),
        "render_seconds_by_format": per_format,
        "total_seconds": round(total, 3),
        "cpu_seconds": round(cpu, 3),
        "cpu_seconds_per_1k_deployments": round(cpu / deployments * 1000, 3),
        "rss_peak_mb": round(rss_peak_mb, 1),
        "seconds_per_1k_deployments": round(total / deployments * 1000, 3),
        "peak_mb_per_1k_deployments": round(rss_peak_mb / deployments * 1000, 1),
        "floors": {"seconds_per_1k_deployments": PER_1K_SECONDS, "peak_mb_per_1k_deployments": PER_1K_MB},
        "floors_hold": deployments < 10_000
        or (total / deployments * 1000 <= PER_1K_SECONDS and rss_peak_mb / deployments * 1000 <= PER_1K_MB),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deployments", type=int, default=10_000)
    parser.add_argument("--sizes", help="several sizes, comma-separated, each in its own process (the curve)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if not args.sizes:
        return publish(run_one(args.deployments), args.out or RESULTS / "engine-latest.json")
    points = []
    for size in (int(n) for n in args.sizes.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "point.json"
            command = [
                sys.executable,
                "-m",
                "tests.benchmarks.bench_engine",
                "--deployments",
                str(size),
                "--out",
                str(out),
            ]
            subprocess.run(command, check=False, stdout=subprocess.DEVNULL, timeout=7200)
            points.append(json.loads(out.read_text()))
    curve = {
        "benchmark": "engine-curve",
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(),
        "points": [
            {
                k: p[k]
                for k in (
                    "deployments",
                    "findings",
                    "passes",
                    "total_seconds",
                    "cpu_seconds",
                    "cpu_seconds_per_1k_deployments",
                    "evaluate_seconds",
                    "render_seconds",
                    "rss_peak_mb",
                    "seconds_per_1k_deployments",
                    "peak_mb_per_1k_deployments",
                    "report_bytes",
                    "load_average",
                )
            }
            for p in points
        ],
        "marginal": [
            {
                "from": a["deployments"],
                "to": b["deployments"],
                "seconds_per_1k_deployments": round(
                    (b["total_seconds"] - a["total_seconds"]) / (b["deployments"] - a["deployments"]) * 1000, 3
                ),
                "cpu_seconds_per_1k_deployments": round(
                    (b["cpu_seconds"] - a["cpu_seconds"]) / (b["deployments"] - a["deployments"]) * 1000, 3
                ),
                "mb_per_1k_deployments": round(
                    (b["rss_peak_mb"] - a["rss_peak_mb"]) / (b["deployments"] - a["deployments"]) * 1000, 1
                ),
            }
            for a, b in pairwise(points)
        ],
        "floors_hold": all(p["floors_hold"] for p in points),
    }
    return publish(curve, args.out or RESULTS / "engine-curve.json")


if __name__ == "__main__":
    raise SystemExit(main())
