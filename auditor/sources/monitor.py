"""Azure Monitor's view of an account, read-only through azure-mgmt-monitor: its diagnostic settings
(`GET {account}/providers/Microsoft.Insights/diagnosticSettings`, api-version 2021-05-01-preview) and seven days
of per-deployment activity (`GET {account}/providers/Microsoft.Insights/metrics`, api-version 2021-05-01):
`AzureOpenAIRequests` split by ModelDeploymentName and StatusCode (429s are throttled calls), and
`AzureOpenAIProvisionedManagedUtilizationV2` (percent of provisioned throughput used) per deployment.

Shapes follow Azure/azure-rest-api-specs specification/monitor/resource-manager/Microsoft.Insights:
preview/2021-05-01-preview/examples/listDiagnosticSettings.json and stable/2021-05-01/examples/GetMetric.json;
metric names and dimensions from MicrosoftDocs/azure-reference-other azure-monitor-ref/supported-metrics/
includes/microsoft-cognitiveservices-accounts-metrics-include.md.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from auditor.model.facts import Account, DeploymentActivity, DiagnosticSetting

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential

REQUESTS_METRIC = "AzureOpenAIRequests"
UTILIZATION_METRIC = "AzureOpenAIProvisionedManagedUtilizationV2"
LOOK_BACK_DAYS = 7


def diagnostic_setting_from_sdk(item: Any) -> DiagnosticSetting:
    """One `DiagnosticSettingsResource`: enabled log categories (or category groups) and destinations."""
    logs = tuple(
        str(getattr(log, "category", None) or getattr(log, "category_group", None))
        for log in getattr(item, "logs", None) or ()
        if getattr(log, "enabled", False) and (getattr(log, "category", None) or getattr(log, "category_group", None))
    )
    metrics = any(getattr(m, "enabled", False) for m in getattr(item, "metrics", None) or ())
    destinations = tuple(
        kind
        for kind, attribute in (
            ("workspace", "workspace_id"),
            ("storage", "storage_account_id"),
            ("event_hub", "event_hub_authorization_rule_id"),
            ("partner", "marketplace_partner_id"),
        )
        if str(getattr(item, attribute, None) or "").strip()  # a blank id (" ") is no destination
    )
    return DiagnosticSetting(
        name=str(getattr(item, "name", "") or ""), logs=logs, metrics=metrics, destinations=destinations
    )


def _dimension(series: Any, name: str) -> str | None:
    for value in getattr(series, "metadatavalues", None) or ():
        key = getattr(getattr(value, "name", None), "value", None)
        if isinstance(key, str) and key.lower() == name.lower():
            return str(getattr(value, "value", "") or "")
    return None


MAX_VALUE = 1e15
"""No hour of one deployment comes near this many requests (or percent): a larger value is not a reading."""


def _number(value: Any, what: str) -> float | None:
    """A metric value: None when the point has none; a ValueError (the read becomes a gap, never a number)
    when it is not a finite number from 0 to MAX_VALUE (a negative 429 count would cancel real ones)."""
    if value is None:
        return None
    if (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
        and 0 <= value <= MAX_VALUE
    ):
        return float(value)
    raise ValueError(f"Azure Monitor returned {str(value)[:40]!r} as a {what} value (not a count from 0 to 1e15)")


def activity_from_sdk(requests: Iterable[Any], utilization: Iterable[Any]) -> tuple[DeploymentActivity, ...]:
    """Per deployment: all requests, the 429s among them, and the peak provisioned utilisation."""
    totals: dict[str, list[float]] = {}
    for metric in requests:
        for series in getattr(metric, "timeseries", None) or ():
            deployment = _dimension(series, "ModelDeploymentName")
            if not deployment:
                continue
            status = _dimension(series, "StatusCode") or ""
            points = getattr(series, "data", None) or ()
            count = sum(_number(getattr(point, "total", None), REQUESTS_METRIC) or 0.0 for point in points)
            entry = totals.setdefault(deployment, [0.0, 0.0])
            entry[0] += count
            if status.strip() == "429":
                entry[1] += count
    peaks: dict[str, float] = {}
    for metric in utilization:
        for series in getattr(metric, "timeseries", None) or ():
            deployment = _dimension(series, "ModelDeploymentName")
            if not deployment:
                continue
            for point in getattr(series, "data", None) or ():
                value = _number(getattr(point, "maximum", None), UTILIZATION_METRIC)
                if value is not None:
                    peaks[deployment] = max(peaks.get(deployment, 0.0), value)
    names = sorted(set(totals) | set(peaks), key=str.lower)
    return tuple(
        DeploymentActivity(
            deployment=name,
            requests=totals.get(name, [0.0, 0.0])[0],
            throttled=totals.get(name, [0.0, 0.0])[1],
            peak_utilization=peaks.get(name),
        )
        for name in names
    )


class MonitorReader:
    """Reads Azure Monitor through the management SDK's public client, on the enumerator's connection pool."""

    def __init__(self, credential: TokenCredential, client_kwargs: Mapping[str, Any], *, now: datetime | None = None):
        self._credential = credential
        self._client_kwargs = dict(client_kwargs)
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._now = now

    def _client(self, subscription_id: str) -> Any:
        from azure.mgmt.monitor import MonitorManagementClient

        with self._lock:
            if subscription_id not in self._clients:
                self._clients[subscription_id] = MonitorManagementClient(
                    self._credential, subscription_id, **self._client_kwargs
                )
            return self._clients[subscription_id]

    def diagnostic_settings(self, account: Account) -> tuple[DiagnosticSetting, ...]:
        client = self._client(account.subscription_id)
        return tuple(diagnostic_setting_from_sdk(item) for item in client.diagnostic_settings.list(account.id))

    def activity(self, account: Account) -> tuple[DeploymentActivity, ...]:
        end = (self._now or datetime.now(timezone.utc)).replace(minute=0, second=0, microsecond=0)
        start = end - timedelta(days=LOOK_BACK_DAYS)
        timespan = f"{start:%Y-%m-%dT%H:%M:%SZ}/{end:%Y-%m-%dT%H:%M:%SZ}"
        requests = self._metric(
            account, timespan, REQUESTS_METRIC, "Total", "ModelDeploymentName eq '*' and StatusCode eq '*'"
        )
        utilization = self._metric(account, timespan, UTILIZATION_METRIC, "Maximum", "ModelDeploymentName eq '*'")
        return activity_from_sdk(requests, utilization)

    def _metric(self, account: Account, timespan: str, name: str, aggregation: str, split: str) -> Iterable[Any]:
        """One metric of the account, hourly over `timespan`, split by the dimensions `split` names."""
        answer = self._client(account.subscription_id).metrics.list(
            account.id,
            timespan=timespan,
            interval="PT1H",
            metricnames=name,
            aggregation=aggregation,
            filter=split,
            metricnamespace="Microsoft.CognitiveServices/accounts",
        )
        if answer.value is None:  # `{"value": null}` is no answer, not "no requests"
            raise ValueError(f"Azure Monitor answered {name} without a value list")
        return tuple(answer.value)
