"""Round 2, `--timeout N` ends the process: an ARM or Monitor read that stalls (no answer) or drips (a byte
at a time, each within the per-read timeout) cannot keep the process alive past the deadline. The command
runs as users run it, in a process of its own, against the simulated tenant on 127.0.0.1."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from auditor.demo.sim import FaultRule, SimulatedTenant

TIMEOUT = 4
GRACE = 10
DEPLOYMENTS = r"/accounts/[^/]+/deployments$"
METRICS = r"(?i)/providers/microsoft\.insights/metrics$"
SLOW = {"stall": (120.0, 0.0), "drip": (0.0, 2.0)}  # (stall, drip) seconds


def _env(tenant: SimulatedTenant) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "IDENTITY_", "MSI_"))}
    env.update(tenant.identity_env(), REQUESTS_CA_BUNDLE=tenant.ca_path)
    env.pop("GITHUB_STEP_SUMMARY", None)
    return env


@pytest.mark.parametrize("where", [DEPLOYMENTS, METRICS])
@pytest.mark.parametrize("how", sorted(SLOW))
def test_the_process_ends_within_the_timeout(tmp_path: Path, how: str, where: str) -> None:
    stall, drip = SLOW[how]
    body = json.dumps({"value": []}) + " " * 200  # dripped: 2 s a byte, over 7 minutes in all
    fault = FaultRule(where, 200, body, {}, None, stall=stall, drip=drip)
    with SimulatedTenant(faults=[fault]) as tenant:
        command = [sys.executable, "-m", "auditor", "--management-endpoint", tenant.management_url, "--all"]
        command += ["--monitor", "--timeout", str(TIMEOUT), "--fail-on", "never", "--out", str(tmp_path / "out")]
        started = time.monotonic()
        done = subprocess.run(command, env=_env(tenant), capture_output=True, text=True, timeout=120)
        elapsed = time.monotonic() - started
    assert elapsed < TIMEOUT + GRACE, (elapsed, done.stderr[-800:])
    assert done.returncode == 3, (done.returncode, done.stderr[-800:])
    assert "Traceback" not in done.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    reasons = [r for t in report["targets"] for r in t["reasons"]] + report["gaps"]
    assert any("--timeout" in r for r in reasons), reasons
