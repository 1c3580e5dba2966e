"""Azure Monitor for the simulated accounts: diagnostic settings as written in the tenant (wire shape of
azure-rest-api-specs monitor preview/2021-05-01-preview/examples/listDiagnosticSettings.json), metrics
(stable/2021-05-01/examples/GetMetric.json) and a Log Analytics workspace's query answer.

Metrics: AzureOpenAIRequests split by any of its dimensions the `$filter` names with `eq '*'` (ModelDeploymentName,
OperationName, StreamType, StatusCode, ModelVersion; narrowed by `eq 'value'`), one series per combination with one
point per day, ordered by total and cut at `top` (default 10) as Azure does: the Metrics API does not page (the
Metrics documentation and its Q&A: "paging is not supported", split the query instead), so a reader that gets `top`
series back must narrow its filter. AzureOpenAIProvisionedManagedUtilizationV2 by ModelDeploymentName.

Logs: `POST /loganalytics/v1/workspaces/{id}/query` answers the auditor's RequestResponse summary (not KQL: the
one question is recognised, as Resource Graph's is) in the Log Analytics query response shape
(`{"tables": [{"name": "PrimaryResult", "columns": [{"name", "type"}], "rows": [[...]]}]}`, Azure/azure-sdk-for-python
sdk/monitor/azure-monitor-query: LogsQueryClient reads `tables`, `columns` and `rows`).
"""

from __future__ import annotations

import json
import re
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


_DIMENSIONS = ("ModelDeploymentName", "OperationName", "StreamType", "StatusCode", "ModelVersion")
_FILTER_TERM = re.compile(r"(\w+)\s+eq\s+'([^']*)'", re.IGNORECASE)
_USUAL_OPERATION = {
    "embeddings": "Embeddings_Create",
    "responses": "Responses_Create",
    "completions": "Completions_Create",
}
_WEEK = (0.6, 1.15, 1.2, 1.1, 1.05, 1.0, 0.55)
"""A week's shape of demo traffic, newest day first (a quiet weekend)."""
DEMO_WORKSPACE = "4b1c2d3e-0000-4000-8000-0000000000a1"
"""The customer id of the demo's Log Analytics workspace (law-ai): `audit --demo --monitor --logs-workspace ID`."""


def _usual_operation(account: Any, deployment: str) -> tuple[str, str]:
    """The operation a deployment without a `traffic` entry is called through, and its model version."""
    spec = account.deployment(deployment)
    if spec is None:
        return "ChatCompletions_Create", ""
    name = spec.model_name.lower()
    kind = "embeddings" if "embedding" in name else "completions" if name.endswith("instruct") else "chat"
    return _USUAL_OPERATION.get(kind, "ChatCompletions_Create"), spec.model_version


def traffic_rows(account: Any) -> list[tuple[dict[str, str], float, Mapping[str, Any]]]:
    """Every (dimension values, requests, entry) of the account's AzureOpenAIRequests over the window."""
    rows: list[tuple[dict[str, str], float, Mapping[str, Any]]] = []
    for deployment in sorted(set(account.metrics) | set(account.traffic)):
        entries = account.traffic.get(deployment)
        if entries is None:
            numbers = account.metrics.get(deployment, {})
            throttled = float(numbers.get("throttled", 0))
            ok = max(float(numbers.get("requests", 0)) - throttled, 0.0)
            operation, version = _usual_operation(account, deployment)
            entries = ({"operation": operation, "status": {"200": ok, "429": throttled}, "modelVersion": version},)
        for entry in entries:
            spec = account.deployment(deployment)
            version = str(entry.get("modelVersion") or (spec.model_version if spec else ""))
            statuses = {str(k): float(v) for k, v in dict(entry.get("status") or {}).items()}
            total = sum(statuses.values()) or 1.0
            streaming_share = min(float(entry.get("streaming", 0)) / total, 1.0)
            for status, count in statuses.items():
                for stream, share in (("Streaming", streaming_share), ("NonStreaming", 1.0 - streaming_share)):
                    value = round(count * share, 3)
                    if value <= 0:
                        continue
                    dims = {
                        "ModelDeploymentName": deployment,
                        "OperationName": str(entry.get("operation")),
                        "StreamType": stream,
                        "StatusCode": status,
                        "ModelVersion": version,
                    }
                    rows.append((dims, value, entry))
    return rows


def _parse_filter(text: str) -> tuple[list[str], dict[str, str]]:
    """The dimensions split on (`eq '*'`) and the ones narrowed to a value (lower-case names)."""
    split: list[str] = []
    narrowed: dict[str, str] = {}
    for name, value in _FILTER_TERM.findall(text or ""):
        canonical = next((d for d in _DIMENSIONS if d.lower() == name.lower()), name)
        if value == "*":
            split.append(canonical)
        else:
            narrowed[canonical.lower()] = value.lower()
    return split, narrowed


def _requests_series(account: Any, query: Mapping[str, str], stamps: list[str]) -> list[dict[str, Any]]:
    split, narrowed = _parse_filter(query.get("$filter") or query.get("filter") or "")
    grouped: dict[tuple[str, ...], float] = {}
    for dims, value, _ in traffic_rows(account):
        if any(
            dims.get(next((d for d in _DIMENSIONS if d.lower() == k), k), "").lower() != v for k, v in narrowed.items()
        ):
            continue
        key = tuple(dims[d] for d in split)
        grouped[key] = grouped.get(key, 0.0) + value
    top = int(query.get("top") or 10)
    ordered = sorted(grouped.items(), key=lambda item: (-item[1], item[0]))[: max(top, 0)]
    shape = [_WEEK[(len(stamps) - 1 - d) % len(_WEEK)] for d in range(len(stamps))]  # weekdays busier
    weights = [w / sum(shape) for w in shape]
    return [
        _series(
            {name.lower(): value for name, value in zip(split, key, strict=True)},
            stamps,
            "total",
            [round(total * w, 3) for w in weights],
        )
        for key, total in ordered
    ]


def metrics_json(account: Any, query: Mapping[str, str]) -> dict[str, Any]:
    """The answer to one metrics GET: the metric asked for, one time series per dimension value."""
    timespan = query.get("timespan") or ""
    try:
        start, end = (datetime.strptime(part, "%Y-%m-%dT%H:%M:%SZ") for part in timespan.split("/"))
        days = max(1, round((end - start) / timedelta(days=1)))
    except ValueError:
        start, days = datetime(2026, 11, 26), _DAYS
    stamps = [f"{start + timedelta(days=d):%Y-%m-%dT%H:%M:%SZ}" for d in range(days)]
    name = query.get("metricnames") or ""
    timeseries: list[dict[str, Any]] = []
    if name == "AzureOpenAIRequests":
        timeseries = _requests_series(account, query, stamps)
    elif name == "AzureOpenAIProvisionedManagedUtilizationV2":
        for deployment, numbers in sorted(account.metrics.items()):
            if "peakUtilization" in numbers:
                peak = float(numbers["peakUtilization"])
                values = [round(peak * (0.6 + 0.4 * (d == days - 2)), 3) for d in range(days)]
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


_RESOURCE_ID = re.compile(r"_ResourceId\s*=~\s*\"([^\"]+)\"")


def logs_json(accounts: Any, body: bytes) -> dict[str, Any] | None:
    """The Log Analytics answer to the auditor's RequestResponse summary: per deployment, operation and
    api-version (AzureDiagnostics' OperationVersion) the number of records. None: the body is not a query."""
    try:
        request = json.loads(body or b"{}")
    except ValueError:
        return None
    text = str(request.get("query") or "") if isinstance(request, dict) else ""
    if not text.strip():
        return None
    match = _RESOURCE_ID.search(text)
    merged: dict[tuple[str, str, str], int] = {}
    for account in accounts:
        if match is None or account.id.lower() != match.group(1).lower():
            continue
        for deployment, entries in account.traffic.items():
            for entry in entries:
                for version, count in dict(entry.get("apiVersions") or {}).items():
                    key = (deployment, str(entry.get("operation")), str(version))
                    merged[key] = merged.get(key, 0) + int(count)
    return {
        "tables": [
            {
                "name": "PrimaryResult",
                "columns": [
                    {"name": "deployment", "type": "string"},
                    {"name": "OperationName", "type": "string"},
                    {"name": "OperationVersion", "type": "string"},
                    {"name": "requests", "type": "long"},
                ],
                "rows": [[*key, count] for key, count in sorted(merged.items())],
            }
        ]
    }
