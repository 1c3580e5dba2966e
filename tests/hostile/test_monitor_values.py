"""Round 2, `--monitor`: Azure Monitor values are validated. A negative 429 count (which would cancel real
ones), a negative or overflowing total (1.7e308 used to kill the audit in round()), `{"value": null}` (read
as "0 requests") and a blank workspace id (read as a log destination) are gaps or nothing, never a pass."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from auditor.cli import main
from auditor.demo.sim import FaultRule

ACCOUNT = "contoso-aoai-eus2"
DEPLOYMENT = "reasoner"


def _series(status: str, values: list[Any], key: str = "total") -> dict[str, Any]:
    dims = {"modeldeploymentname": DEPLOYMENT, "statuscode": status}
    return {
        "metadatavalues": [{"name": {"value": k, "localizedValue": k}, "value": v} for k, v in dims.items()],
        "data": [{"timeStamp": f"2026-11-2{i}T00:00:00Z", key: v} for i, v in enumerate(values)],
    }


def _metrics(timeseries: list[dict[str, Any]] | None) -> dict[str, Any]:
    value = None
    if timeseries is not None:
        value = [
            {
                "id": "x/providers/Microsoft.Insights/metrics/AzureOpenAIRequests",
                "type": "Microsoft.Insights/metrics",
                "name": {"value": "AzureOpenAIRequests", "localizedValue": "AzureOpenAIRequests"},
                "unit": "Count",
                "timeseries": timeseries,
                "errorCode": "Success",
            }
        ]
    return {"cost": 0, "timespan": "2026-11-26T00:00:00Z/2026-12-03T00:00:00Z", "interval": "PT1H", "value": value}


CASES = {
    "negative 429s": [_series("200", [100.0]), _series("429", [50.0]), _series("429", [-50.0])],
    "negative total": [_series("200", [-100.0]), _series("429", [5.0])],
    "overflowing total": [_series("200", [1.7e308, 1.7e308]), _series("429", [1.7e308])],
    "value null": None,
    "negative utilisation": [_series("200", [10.0]), _series("200", [-40.0], key="maximum")],
}


def _run(tenant, out: Path) -> tuple[int, dict[str, Any]]:
    args = ["--management-endpoint", tenant.management_url, "--out", str(out), "--quiet", "--all", "--monitor"]
    code = main([*args, "--format", "json", "--fail-on", "never"])
    return code, json.loads((out / "report.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", sorted(CASES))
def test_an_invalid_series_is_a_gap_not_a_number(tenant, tmp_path: Path, capsys, case: str) -> None:
    path = rf"(?i)/accounts/{ACCOUNT}/providers/microsoft\.insights/metrics$"
    tenant.add_fault(FaultRule(path, 200, _metrics(CASES[case]), {}, None))
    code, report = _run(tenant, tmp_path)
    assert "Traceback" not in capsys.readouterr().err
    assert code == 3
    quota = [f for f in report["findings"] if f["rule_id"] == "AOAI-QUOTA-003" and f["target_name"].startswith(ACCOUNT)]
    assert quota and all(f["status"] != "pass" for f in quota), [(f["target_name"], f["status"]) for f in quota]
    (target,) = [t for t in report["targets"] if t["name"] == ACCOUNT]
    assert target["status"] == "incomplete" and any("Azure Monitor" in r or "metrics" in r for r in target["reasons"])


def test_a_blank_workspace_is_no_destination(tenant, tmp_path: Path, capsys) -> None:
    setting = {
        "id": "x/providers/microsoft.insights/diagnosticSettings/blank",
        "name": "blank",
        "type": "Microsoft.Insights/diagnosticSettings",
        "properties": {
            "workspaceId": " ",
            "logs": [{"categoryGroup": "allLogs", "enabled": True}],
            "metrics": [{"category": "AllMetrics", "enabled": True}],
        },
    }
    path = rf"(?i)/accounts/{ACCOUNT}/providers/microsoft\.insights/diagnosticSettings$"
    tenant.add_fault(FaultRule(path, 200, {"value": [setting]}, {}, None))
    _, report = _run(tenant, tmp_path)
    sec = [f for f in report["findings"] if f["rule_id"] == "AOAI-SEC-009" and f["target_name"].startswith(ACCOUNT)]
    assert sec and all(f["status"] == "fail" for f in sec), [(f["target_name"], f["status"]) for f in sec]
