"""Azure Monitor for the simulated accounts: diagnostic settings as written in the tenant (wire shape of
azure-rest-api-specs monitor preview/2021-05-01-preview/examples/listDiagnosticSettings.json) and metrics
(stable/2021-05-01/examples/GetMetric.json): AzureOpenAIRequests split by ModelDeploymentName and StatusCode,
AzureOpenAIProvisionedManagedUtilizationV2 by ModelDeploymentName, spread over the seven days asked for.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

_NAMESPACE = "Microsoft.CognitiveServices/accounts"
_DAYS = 7


def diagnostic_settings_json(account: Any) -> list[dict[str, Any]]:
    settings = []
    for raw in account.diagnostic_settings or ():
        name = str(raw.get("name", "default"))
        settings.append(
            {
                "id": f"{account.id}/providers/microsoft.insights/diagnosticSettings/{name}",
                "type": "Microsoft.Insights/diagnosticSettings",
                "name": name,
                "properties": dict(raw.get("properties") or {}),
            }
        )
    return settings


def _series(dimensions: Mapping[str, str], stamps: list[str], key: str, values: list[float]) -> dict[str, Any]:
    return {
        "metadatavalues": [
            {"name": {"value": name, "localizedValue": name}, "value": value} for name, value in dimensions.items()
        ],
        "data": [{"timeStamp": stamp, key: value} for stamp, value in zip(stamps, values, strict=True)],
    }


def metrics_json(account: Any, query: Mapping[str, str]) -> dict[str, Any]:
    """The answer to one metrics GET: the metric asked for, one time series per dimension value."""
    timespan = query.get("timespan") or ""
    try:
        start = datetime.strptime(timespan.split("/")[0], "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        start = datetime(2026, 11, 26)
    stamps = [f"{start + timedelta(days=d):%Y-%m-%dT%H:%M:%SZ}" for d in range(_DAYS)]
    name = query.get("metricnames") or ""
    timeseries: list[dict[str, Any]] = []
    for deployment, numbers in sorted(account.metrics.items()):
        if name == "AzureOpenAIRequests":
            throttled = float(numbers.get("throttled", 0))
            ok = max(float(numbers.get("requests", 0)) - throttled, 0.0)
            for status, total in (("200", ok), ("429", throttled)):
                if total:
                    share = [round(total / _DAYS, 3)] * _DAYS
                    dims = {"modeldeploymentname": deployment, "statuscode": status}
                    timeseries.append(_series(dims, stamps, "total", share))
        elif name == "AzureOpenAIProvisionedManagedUtilizationV2" and "peakUtilization" in numbers:
            peak = float(numbers["peakUtilization"])
            values = [round(peak * (0.6 + 0.4 * (d == _DAYS - 2)), 3) for d in range(_DAYS)]
            timeseries.append(_series({"modeldeploymentname": deployment}, stamps, "maximum", values))
    unit = "Percent" if "Utilization" in name else "Count"
    return {
        "cost": 0,
        "timespan": timespan,
        "interval": query.get("interval", "PT1H"),
        "value": [
            {
                "id": f"{account.id}/providers/Microsoft.Insights/metrics/{name}",
                "type": "Microsoft.Insights/metrics",
                "name": {"value": name, "localizedValue": name},
                "unit": unit,
                "timeseries": timeseries,
                "errorCode": "Success",
            }
        ],
        "namespace": _NAMESPACE,
        "resourceregion": account.location,
    }
