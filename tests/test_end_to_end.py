"""The `audit` command end to end against the simulated tenant, through the real SDK clients.

The credential is the real DefaultAzureCredential, signing in through its managed-identity step against
the tenant's token endpoint; TLS is trusted through REQUESTS_CA_BUNDLE, as behind a corporate proxy.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from auditor.cli import main
from auditor.demo.sim import FaultRule, SimulatedTenant

DEMO_CONTRACT = str(Path(__file__).resolve().parents[1] / "auditor" / "demo" / "contract.yaml")


def _run(tenant: SimulatedTenant, out: Path, *args: str) -> int:
    return main(["--management-endpoint", tenant.management_url, "--out", str(out), "--quiet", *args])


def test_full_audit_reads_only_and_reads_each_region_once(tenant: SimulatedTenant, tmp_path: Path) -> None:
    code = _run(tenant, tmp_path, "--all", "--contract", DEMO_CONTRACT)
    assert code == 1
    report = json.loads((tmp_path / "report.json").read_text())
    failing = {f["category"] for f in report["findings"] if f["status"] == "fail"}
    assert {"api-support", "parameters", "quota", "deployment"} <= failing
    assert any(f["status"] == "pass" for f in report["findings"])
    assert {t["name"] for t in report["targets"]} == {"contoso-aoai-eus2", "contoso-ai-swc", "fabrikam-aoai-wus"}

    arm = tenant.requests(plane="arm")
    assert arm, "the audit must have gone through the simulated ARM"
    assert {r.method for r in arm} == {"GET"}, "the management plane saw a write"
    assert not [r for r in tenant.records if "listkeys" in r.path.lower()]
    # catalog and quota: one first-page read per (subscription, location), however many deployments
    for kind in ("models", "usages"):
        first_pages = [
            r for r in arm if re.search(rf"/locations/[^/]+/{kind}$", r.path) and "$skipToken" not in r.query
        ]
        per_region = {(r.path.split("/")[2], r.path.split("/")[6]) for r in first_pages}
        assert len(first_pages) == len(per_region) == 3, [r.path for r in first_pages]
    # paging was followed
    model_pages = [r for r in arm if r.path.endswith("/models")]
    assert len(model_pages) > 3


def test_resource_by_name_and_by_id(tenant: SimulatedTenant, tmp_path: Path) -> None:
    account_id = next(a.id for a in tenant.spec.accounts if a.name == "contoso-ai-swc")
    assert _run(tenant, tmp_path / "a", "--resource", "fabrikam-aoai-wus", "--fail-on", "never") == 0
    names = {t["name"] for t in json.loads((tmp_path / "a" / "report.json").read_text())["targets"]}
    assert names == {"fabrikam-aoai-wus"}
    assert _run(tenant, tmp_path / "b", "--resource", account_id, "--fail-on", "never") == 0
    names = {t["name"] for t in json.loads((tmp_path / "b" / "report.json").read_text())["targets"]}
    assert names == {"contoso-ai-swc"}


def test_unknown_name_is_exit_2_naming_the_subscriptions(tenant: SimulatedTenant, tmp_path: Path, capsys) -> None:
    assert _run(tenant, tmp_path, "--resource", "no-such-account") == 2
    err = capsys.readouterr().err.strip()
    assert "no-such-account" in err and "00000000-0000-4000-8000-000000000001" in err
    assert len(err.splitlines()) == 1 and "Traceback" not in err


def test_missing_resource_id_is_exit_2(tenant: SimulatedTenant, tmp_path: Path, capsys) -> None:
    missing = "/subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/rg-ai/providers/Microsoft.CognitiveServices/accounts/gone"
    assert _run(tenant, tmp_path, "--resource", missing) == 2
    err = capsys.readouterr().err
    assert "gone" in err and "ResourceNotFound" in err


def test_arm_throttling_is_retried_honouring_retry_after(tenant: SimulatedTenant, tmp_path: Path) -> None:
    tenant.add_fault(FaultRule.arm_throttled(r"/deployments$", retry_after=1, times=2))
    assert _run(tenant, tmp_path, "--resource", "fabrikam-aoai-wus", "--fail-on", "never") == 0
    throttled = [r for r in tenant.requests(plane="arm", path_pattern=r"/deployments$") if r.status == 429]
    assert len(throttled) == 2
    assert json.loads((tmp_path / "report.json").read_text())["targets"][0]["status"] == "complete"


def test_persistent_5xx_makes_the_target_incomplete_not_passing(tenant: SimulatedTenant, tmp_path: Path) -> None:
    tenant.add_fault(FaultRule.server_error(r"/locations/westus3/models$", times=None, plane="arm"))
    code = _run(tenant, tmp_path, "--resource", "fabrikam-aoai-wus", "--fail-on", "never")
    assert code == 3
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["targets"][0]["status"] == "incomplete"
    assert "model catalog" in report["targets"][0]["reasons"][0]
    region = [f for f in report["findings"] if f["rule_id"] == "AOAI-REGION-001"]
    assert region and {f["status"] for f in region} == {"unknown"}
    assert report["deployments"], "what was gathered before the fault is kept"


def test_bad_contract_is_exit_2_before_any_azure_call(tenant: SimulatedTenant, tmp_path: Path, capsys) -> None:
    contract = tmp_path / "contract.yaml"
    contract.write_text("deployments:\n  chat:\n    api: chat_completion\n")
    assert _run(tenant, tmp_path, "--all", "--contract", str(contract)) == 2
    err = capsys.readouterr().err
    assert f"{contract}:3:" in err and "api must be one of" in err
    assert not tenant.requests(plane="arm")


def test_ca_bundle_is_trusted_for_arm_and_probes(
    tenant: SimulatedTenant, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REQUESTS_CA_BUNDLE")
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    code = _run(
        tenant,
        tmp_path,
        "--resource",
        "contoso-aoai-eus2",
        "--ca-bundle",
        tenant.ca_path,
        "--probe",
        "--allow-endpoint",
        "127.0.0.1",
        "--fail-on",
        "never",
    )
    assert code == 0
    report = json.loads((tmp_path / "report.json").read_text())
    probes = [f for f in report["findings"] if f["category"] == "probe" and f["evidence"]]
    assert any(f["evidence"]["outcome"] == "success" for f in probes), "the data plane was reached over TLS"
    assert _run(tenant, tmp_path, "--all", "--ca-bundle", str(tmp_path / "missing.pem")) == 2


def test_paused_deployment_is_read_off_the_wire(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from auditor.demo.sim import TenantSpec, default_tenant_data
    from tests.conftest import sign_in_to

    data = default_tenant_data()
    for sub in data["subscriptions"]:
        for group in sub["resourceGroups"]:
            for account in group["accounts"]:
                for deployment in account.get("deployments") or ():
                    if deployment["name"] == "dev-mini":
                        deployment["deploymentState"] = "Paused"
    with SimulatedTenant(TenantSpec.from_mapping(data)) as running:
        sign_in_to(running, monkeypatch)
        assert (
            _run(
                running,
                tmp_path,
                "--resource",
                "fabrikam-aoai-wus",
                "--fail-on",
                "never",
                "--select",
                "AOAI-DEPLOY-006",
            )
            == 0
        )
    findings = json.loads((tmp_path / "report.json").read_text())["findings"]
    paused = [f for f in findings if f["rule_id"] == "AOAI-DEPLOY-006"]
    # Listed at api-version 2026-03-01, every deployment reports deploymentState (Running unless paused).
    assert sorted((f["deployment"], f["status"]) for f in paused) == [
        ("chat-regional", "pass"),
        ("dev-mini", "fail"),
        ("instruct-legacy", "pass"),
        ("ptu-batch", "pass"),
        ("ptu-reserve", "pass"),
    ]


def test_audit_demo_goes_through_the_sdk_clients_to_the_simulator_and_only_reads(tmp_path: Path) -> None:
    from tests.conftest import run_demo

    assert run_demo(tmp_path, "--format", "json", "--probe") == 1
    served = SimulatedTenant.latest
    assert served is not None
    planes = {r.plane for r in served.records}
    assert {"token", "arm", "graph", "data"} <= planes, planes  # credential, management SDK, Resource Graph, openai
    assert not served.served_writes(), "the management plane saw a write"
    assert not served.list_keys_called()
    assert {r.method for r in served.records if r.plane == "arm"} == {"GET"}
    deployments = json.loads((tmp_path / "report.json").read_text())["deployments"]
    assert len(deployments) == len([r for r in served.spec.accounts if r.is_openai_capable for _ in r.deployments])
