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

import threading
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from auditor.model.facts import Account, DeploymentActivity, DiagnosticSetting, ObservedOperation
from auditor.sources.traffic import SPLIT, metric_value, traffic_from_sdk

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential

REQUESTS_METRIC = "AzureOpenAIRequests"
UTILIZATION_METRIC = "AzureOpenAIProvisionedManagedUtilizationV2"
LOOK_BACK_DAYS = 7
SERIES_LIMIT = 1000
"""`top` of every split metrics read: the Metrics API answers at most `top` series (default 10) and does not page,
so a read that comes back with `top` series may be cut and is narrowed (one call per deployment) instead."""
LOG_ROWS = 5000
"""The most rows the RequestResponse summary may return (`| take`); more is reported as cut."""


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


def _number(value: Any, what: str) -> float | None:
    """A metric value, validated as every Azure Monitor value is (auditor/sources/traffic.py metric_value)."""
    return metric_value(value, what)


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
    return _activity(totals, _peaks(utilization))


def activity_from_traffic(
    traffic: Iterable[ObservedOperation], utilization: Iterable[Any]
) -> tuple[DeploymentActivity, ...]:
    """The same activity, its requests and 429s added up from the traffic read (its split includes StatusCode),
    so --monitor reads AzureOpenAIRequests once per account."""
    totals: dict[str, list[float]] = {}
    for operation in traffic:
        entry = totals.setdefault(operation.deployment, [0.0, 0.0])
        entry[0] += operation.requests
        entry[1] += operation.throttled
    return _activity(totals, _peaks(utilization))


def _peaks(utilization: Iterable[Any]) -> dict[str, float]:
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
    return peaks


def _activity(totals: Mapping[str, list[float]], peaks: Mapping[str, float]) -> tuple[DeploymentActivity, ...]:
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

    def __init__(
        self,
        credential: TokenCredential,
        client_kwargs: Mapping[str, Any],
        *,
        now: datetime | None = None,
        days: int = LOOK_BACK_DAYS,
        series_limit: int = SERIES_LIMIT,
    ):
        self._credential = credential
        self.days = days
        self.series_limit = series_limit
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

    def timespan(self) -> str:
        """The look-back window, whole hours, as the Metrics API takes it (start/end)."""
        end = (self._now or datetime.now(timezone.utc)).replace(minute=0, second=0, microsecond=0)
        start = end - timedelta(days=self.days)
        return f"{start:%Y-%m-%dT%H:%M:%SZ}/{end:%Y-%m-%dT%H:%M:%SZ}"

    def traffic(self, account: Account) -> tuple[ObservedOperation, ...]:
        """Who calls the account's deployments: AzureOpenAIRequests split by deployment, operation, stream type,
        status code and model version, one point per day, in one call; a cut answer is narrowed per deployment."""
        timespan = self.timespan()
        split = " and ".join(f"{name} eq '*'" for name in SPLIT)
        series = self._requests(account, timespan, split)
        named: dict[int, str] = {}
        if series is None:
            series = self._narrowed(account, timespan, split.split(" and ", 1)[1], named)
        return traffic_from_sdk([_Wrapped(series)], self.days, named)

    def _narrowed(self, account: Account, timespan: str, rest: str, named: dict[int, str]) -> list[Any]:
        """The split read again one deployment at a time (its answer was cut at `top`): one call for the names,
        one per deployment; `named` records which deployment each series is of."""
        deployments = self._requests(account, timespan, "ModelDeploymentName eq '*'")
        if deployments is None:
            raise RuntimeError(f"more than {self.series_limit} deployments with traffic: the read was cut")
        series: list[Any] = []
        for name in sorted({_dimension(s, "ModelDeploymentName") or "" for s in deployments} - {""}):
            escaped = name.replace("'", "''")
            narrowed = self._requests(account, timespan, f"ModelDeploymentName eq '{escaped}' and {rest}")
            if narrowed is None:
                raise RuntimeError(f"deployment {name}: more than {self.series_limit} traffic series: the read was cut")
            named.update((id(s), name) for s in narrowed)
            series.extend(narrowed)
        return series

    def _requests(self, account: Account, timespan: str, split: str) -> list[Any] | None:
        """AzureOpenAIRequests' series under `split`, daily totals; None when the answer holds `top` series."""
        answer = self._client(account.subscription_id).metrics.list(
            account.id,
            timespan=timespan,
            interval="P1D",
            metricnames=REQUESTS_METRIC,
            aggregation="Total",
            top=self.series_limit,
            orderby="Total desc",
            filter=split,
            metricnamespace="Microsoft.CognitiveServices/accounts",
        )
        if answer.value is None:  # `{"value": null}` is no answer, not "no requests"
            raise ValueError(f"Azure Monitor answered {REQUESTS_METRIC} without a value list")
        series = [s for metric in answer.value for s in getattr(metric, "timeseries", None) or ()]
        return None if len(series) >= self.series_limit else series

    def observe(self, account: Account) -> tuple[tuple[DeploymentActivity, ...], tuple[ObservedOperation, ...]]:
        """Activity and traffic from two metrics calls: AzureOpenAIRequests split five ways (requests and 429s
        are added up from it) and the provisioned utilisation."""
        traffic = self.traffic(account)
        utilization = self._metric(
            account, self.timespan(), UTILIZATION_METRIC, "Maximum", "ModelDeploymentName eq '*'"
        )
        return activity_from_traffic(traffic, utilization), traffic

    def activity(self, account: Account) -> tuple[DeploymentActivity, ...]:
        timespan = self.timespan()
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
            top=self.series_limit,
            filter=split,
            metricnamespace="Microsoft.CognitiveServices/accounts",
        )
        if answer.value is None:  # `{"value": null}` is no answer, not "no requests"
            raise ValueError(f"Azure Monitor answered {name} without a value list")
        return tuple(answer.value)


class _Wrapped:
    """Series gathered over several calls, in the shape of one metric (what traffic_from_sdk reads)."""

    def __init__(self, timeseries: list[Any]) -> None:
        self.timeseries = timeseries


REQUEST_LOGS_QUERY = """AzureDiagnostics
| where ResourceProvider == "MICROSOFT.COGNITIVESERVICES" and Category == "RequestResponse"
| where _ResourceId =~ "{account_id}"
| extend deployment = tostring(parse_json(properties_s).modelDeploymentName)
| summarize requests = count() by deployment, OperationName, OperationVersion
| take {rows}"""
"""Read-only KQL: per deployment, operation and api-version (AzureDiagnostics' OperationVersion, "the api-version
associated with the operation" in Azure Monitor's resource-log schema) the number of RequestResponse records of
the account over the window. The account id is an ARM id checked to hold no quote before it is placed here."""


class LogsReader:
    """Reads an account's RequestResponse records from a Log Analytics workspace through azure-monitor-query's
    LogsQueryClient (POST {endpoint}/v1/workspaces/{id}/query), bounded in time (the window) and rows."""

    def __init__(
        self,
        credential: TokenCredential,
        workspace_id: str,
        *,
        endpoint: str = "https://api.loganalytics.io",
        days: int = LOOK_BACK_DAYS,
        client_kwargs: Mapping[str, Any] | None = None,
    ) -> None:
        from azure.monitor.query import LogsQueryClient

        self.workspace_id = workspace_id
        self.days = days
        self._client = LogsQueryClient(credential, endpoint=endpoint, **dict(client_kwargs or {}))

    def api_versions(self, account: Account) -> dict[tuple[str, str], list[str]]:
        """(deployment, operation) lower-cased -> the api-versions the account's callers sent."""
        from azure.monitor.query import LogsQueryStatus

        if '"' in account.id or "\\" in account.id:
            raise ValueError(f"account id {account.id!r} cannot be placed in a query")
        query = REQUEST_LOGS_QUERY.format(account_id=account.id, rows=LOG_ROWS)
        result = self._client.query_workspace(self.workspace_id, query, timespan=timedelta(days=self.days))
        if result.status != LogsQueryStatus.SUCCESS:
            raise RuntimeError(f"the Log Analytics query returned part of its answer: {result.partial_error}")
        found: dict[tuple[str, str], list[str]] = {}
        for table in result.tables:
            columns = [str(c) for c in table.columns]
            for row in table.rows:
                record = dict(zip(columns, row, strict=False))
                version = str(record.get("OperationVersion") or "")
                key = (str(record.get("deployment") or "").lower(), str(record.get("OperationName") or "").lower())
                if version and key[0]:
                    found.setdefault(key, []).append(version)
            if len(table.rows) >= LOG_ROWS:
                raise RuntimeError(f"the Log Analytics answer reached its bound of {LOG_ROWS} rows: it may be cut")
        return found
