"""Fleet-scale behaviour at a small size: one bounded pool, one catalog/quota read per region,
Resource Graph discovery with a fallback, and a fast --help."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from auditor.cli import main
from auditor.demo.sim import FaultRule, SimulatedTenant
from tests.conftest import sign_in_to


@pytest.fixture()
def slow_tenant(monkeypatch: pytest.MonkeyPatch):
    """The demo tenant with latency on every ARM call, so calls overlap when run concurrently."""
    with SimulatedTenant(arm_latency=0.05) as running:
        sign_in_to(running, monkeypatch)
        yield running


def _audit(tenant: SimulatedTenant, out: Path, *args: str) -> int:
    return main(
        [
            "--management-endpoint",
            tenant.management_url,
            "--out",
            str(out),
            "--quiet",
            "--fail-on",
            "never",
            "--format",
            "json",
            *args,
        ]
    )


@pytest.mark.parametrize("bound", [1, 3])
def test_concurrency_stays_under_its_bound_and_regions_are_read_once(
    slow_tenant: SimulatedTenant, tmp_path: Path, bound: int
) -> None:
    assert _audit(slow_tenant, tmp_path, "--all", "--concurrency", str(bound)) == 0
    peak = slow_tenant.peak_in_flight
    assert 1 <= peak["arm"] <= bound, peak
    if bound > 1:
        assert peak["arm"] > 1, "reads should overlap when concurrency allows"
    arm = slow_tenant.requests(plane="arm")
    for kind in ("models", "usages"):
        first = [r for r in arm if re.search(rf"/locations/[^/]+/{kind}$", r.path) and "$skipToken" not in r.query]
        regions = {(r.path.split("/")[2], r.path.split("/")[6]) for r in first}
        assert len(first) == len(regions) == 3


def test_concurrent_run_overlaps_calls_and_finds_the_same(
    slow_tenant: SimulatedTenant, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Concurrency shows as overlapping calls, measured by the server, and changes nothing that is found. How
    much faster that is, is the fleet benchmark's to measure (tests.benchmarks.bench_fleet), not a time limit
    here: on a loaded machine wall time says little."""
    started = time.perf_counter()
    _audit(slow_tenant, tmp_path / "serial", "--all", "--concurrency", "1")
    serial, serial_peak = time.perf_counter() - started, slow_tenant.peak_in_flight["arm"]
    started = time.perf_counter()
    _audit(slow_tenant, tmp_path / "parallel", "--all", "--concurrency", "8")
    parallel, parallel_peak = time.perf_counter() - started, slow_tenant.peak_in_flight["arm"]
    with capsys.disabled():
        print(f"\n[fleet] serial {serial:.2f} s, concurrency 8 {parallel:.2f} s")
    assert serial_peak == 1 and parallel_peak > 1, (serial_peak, parallel_peak)
    same = [json.loads((tmp_path / d / "report.json").read_text())["findings"] for d in ("serial", "parallel")]
    assert same[0] == same[1], "concurrency must not change what is found"


def test_all_discovers_through_resource_graph(slow_tenant: SimulatedTenant, tmp_path: Path) -> None:
    assert _audit(slow_tenant, tmp_path, "--all") == 0
    assert slow_tenant.requests(plane="graph"), "several subscriptions: one Resource Graph query"
    assert not slow_tenant.requests(plane="arm", path_pattern=r"/providers/Microsoft\.CognitiveServices/accounts$")
    names = {t["name"] for t in json.loads((tmp_path / "report.json").read_text())["targets"]}
    assert names == {"contoso-aoai-eus2", "contoso-ai-swc", "fabrikam-aoai-wus"}


def test_falls_back_to_listing_when_resource_graph_is_refused(slow_tenant: SimulatedTenant, tmp_path: Path) -> None:
    refused = {
        "error": {
            "code": "AuthorizationFailed",
            "message": "The client does not have authorization to perform action 'Microsoft.ResourceGraph/resources/read'.",
        }
    }
    slow_tenant.add_fault(FaultRule(r"(?i)resourcegraph", 403, refused, times=None, plane="graph"))
    assert _audit(slow_tenant, tmp_path, "--all") == 0
    listed = slow_tenant.requests(plane="arm", path_pattern=r"/providers/Microsoft\.CognitiveServices/accounts$")
    assert len(listed) == 2, "one listing per subscription"
    names = {t["name"] for t in json.loads((tmp_path / "report.json").read_text())["targets"]}
    assert names == {"contoso-aoai-eus2", "contoso-ai-swc", "fabrikam-aoai-wus"}


def test_help_answers_without_heavy_imports() -> None:
    code = (
        "import sys, auditor.cli\n"
        "try:\n    auditor.cli.main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('azure', 'openai', 'httpx', 'httpx2', 'requests'))\n"
        "sys.stderr.write(repr(heavy))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stderr == "[]", result.stderr
    assert "--concurrency" in result.stdout


def test_probes_stay_under_the_same_bound(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with SimulatedTenant(arm_latency=0.02, data_latency=0.1) as running:
        sign_in_to(running, monkeypatch)
        monkeypatch.setenv("SSL_CERT_FILE", running.ca_path)
        _audit(
            running,
            tmp_path,
            "--all",
            "--probe",
            "--allow-endpoint",
            "127.0.0.1",
            "--concurrency",
            "3",
            "--max-probe-calls",
            "200",
            "--probe-token-budget",
            "20000",
        )
        peak = running.peak_in_flight
    assert 2 <= peak["data"] <= 3, peak
    assert peak["all"] <= 3, "reads and probes together never exceed --concurrency"
