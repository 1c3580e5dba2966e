"""The library and the CLI give the same findings for the same inputs (issue 22): both go through
`auditor.pipeline.run.run_audit`, which owns --policy (and the Azure Monitor reads a policy needs), waivers and
the baseline. Run both on the demo tenant with the baseline policy and compare."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from importlib.resources import files
from pathlib import Path

import pytest

from auditor.demo.sim import SimulatedTenant
from auditor.model.results import Report
from tests.conftest import run_demo

ROOT = Path(__file__).resolve().parent.parent
POLICY = ROOT / "rules" / "policies" / "azure-baseline.yaml"
DEMO_CONTRACT = Path(str(files("auditor.demo").joinpath("contract.yaml")))


@pytest.fixture()
def tenant() -> Iterator[SimulatedTenant]:
    with SimulatedTenant() as running:
        yield running


def _library(tenant: SimulatedTenant, monkeypatch: pytest.MonkeyPatch) -> Report:
    """What a library caller writes: the public API only, signed in the way the demo signs in."""
    from azure.identity import ManagedIdentityCredential

    from auditor import AuditOptions, get_cloud, run_audit

    monkeypatch.setenv("IDENTITY_ENDPOINT", tenant.identity_endpoint)
    monkeypatch.setenv("IDENTITY_HEADER", tenant.identity_header)
    with ManagedIdentityCredential() as credential:
        return run_audit(
            AuditOptions(all_accounts=True, contract=DEMO_CONTRACT, policy=POLICY, concurrency=16),
            credential=credential,
            cloud=get_cloud("AzureCloud", tenant.management_url),
            connection_verify=tenant.ca_path,
        )


def _key(rule_id: str, target: str, status: str, message: str) -> tuple[str, str, str, str]:
    return rule_id, target.lower(), status, message


def test_library_and_cli_agree_on_the_demo_tenant_with_the_baseline_policy(
    tenant: SimulatedTenant, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AZURE_SUBSCRIPTION_ID", raising=False)
    report = _library(tenant, monkeypatch)
    for name in ("IDENTITY_ENDPOINT", "IDENTITY_HEADER"):
        monkeypatch.delenv(name, raising=False)
    code = run_demo(tmp_path, "--policy", str(POLICY), "--format", "json", "--passes", "full")
    cli = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))

    library = sorted(_key(f.rule_id, f.target, f.status.value, f.message) for f in report.findings)
    command = sorted(_key(f["rule_id"], f["target"], f["status"], f["message"]) for f in cli["findings"])
    assert library == command
    assert code == 1 and report.gaps == tuple(cli["gaps"])
    # The pass without evidence the issue found: the policy's diagnostic-logs statement must be decided from
    # Azure Monitor's diagnostic settings, which the library now reads because the policy needs them.
    logs = [f for f in report.findings if f.rule_id == "POLICY-ACCOUNTS-006"]
    assert len(logs) == 3 and sum(f.status.value == "fail" for f in logs) == 2, [(f.status, f.message) for f in logs]
    assert not any("none" in f.message and f.status.value == "pass" for f in logs)
    assert os.environ.get("IDENTITY_ENDPOINT") is None  # the CLI's demo restored the environment it borrowed


def test_library_and_cli_agree_with_waivers_and_a_baseline(
    tenant: SimulatedTenant, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The final steps after the audit (waivers, then drift against a baseline) are the pipeline's too."""
    from datetime import date, timedelta

    monkeypatch.delenv("AZURE_SUBSCRIPTION_ID", raising=False)
    assert run_demo(tmp_path / "before", "--format", "json") == 1
    baseline = tmp_path / "before" / "report.json"
    data = json.loads(baseline.read_text(encoding="utf-8"))
    data["findings"] = [f for f in data["findings"] if f["rule_id"] != "AOAI-DEPLOY-001"]  # "new" today
    baseline.write_text(json.dumps(data), encoding="utf-8")
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(
        "waivers:\n  - category: lifecycle\n    target: '*'\n    reason: upgrades booked\n    owner: platform\n"
        f"    expires: {date.today() + timedelta(days=30)}\n",
        encoding="utf-8",
    )
    from azure.identity import ManagedIdentityCredential

    from auditor import AuditOptions, get_cloud, run_audit

    monkeypatch.setenv("IDENTITY_ENDPOINT", tenant.identity_endpoint)
    monkeypatch.setenv("IDENTITY_HEADER", tenant.identity_header)
    with ManagedIdentityCredential() as credential:
        report = run_audit(
            AuditOptions(all_accounts=True, contract=DEMO_CONTRACT, waivers=waivers, baseline=baseline),
            credential=credential,
            cloud=get_cloud("AzureCloud", tenant.management_url),
            connection_verify=tenant.ca_path,
        )
    for name in ("IDENTITY_ENDPOINT", "IDENTITY_HEADER"):
        monkeypatch.delenv(name)
    run_demo(
        tmp_path / "after",
        "--format",
        "json",
        "--passes",
        "full",
        "--waivers",
        str(waivers),
        "--baseline",
        str(baseline),
    )
    cli = json.loads((tmp_path / "after" / "report.json").read_text(encoding="utf-8"))

    library = sorted((*_key(f.rule_id, f.target, f.status.value, f.message), f.drift or "") for f in report.findings)
    command = sorted(
        (*_key(f["rule_id"], f["target"], f["status"], f["message"]), f["drift"] or "") for f in cli["findings"]
    )
    assert library == command
    assert any(f.status.value == "waived" for f in report.findings)
    assert [f.rule_id for f in report.findings if f.drift == "new"] == ["AOAI-DEPLOY-001"]
