"""The observed contract: what callers really send to each deployment, from Azure Monitor.

Azure Monitor's platform metric `AzureOpenAIRequests` (free, on by default, no diagnostic setting needed) has the
dimensions ApiName, OperationName, Region, StreamType, ModelDeploymentName, ModelName, ModelVersion and StatusCode
(MicrosoftDocs/azure-reference-other azure-monitor-ref/supported-metrics/includes/
microsoft-cognitiveservices-accounts-metrics-include.md, commit 28efc11dcc6628ba6a64bcbb6a4ef6bb146a87ec). One
metrics call per account, split by ModelDeploymentName, OperationName, StreamType, StatusCode and ModelVersion,
gives per deployment the operations called, whether they stream, how often, and how Azure answered.

An operation name is the data plane's OpenAPI operationId (Azure/azure-rest-api-specs specification/
cognitiveservices/data-plane/AzureOpenAI/inference/stable/2024-10-21/inference.json, commit
132b90d1f06386034a6c2b34e903dbd3b03f9806: Completions_Create, embeddings_create, ChatCompletions_Create,
Transcriptions_Create, Translations_Create, ImageGenerations_Create); Azure's own 429 text names it ("Requests to
the ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 have exceeded token rate limit",
quoted in public issues), and public monitoring queries filter on it (`OperationName == "ChatCompletions_Create"`,
`in ("ChatCompletions_Create", "Completions_Create")` over AzureDiagnostics / ApiManagementGatewayLogs). The
Responses API's operation is `createResponse` in the v1 preview specification; `Responses_Create` follows the
naming of the others (UNVERIFIED: no public capture). Names are matched without regard to case. An operation
not in the table is kept with `api: None`, listed in the report, and judged by no API rule.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from auditor.model.facts import AccountMonitoring, ContractCall, Facts, ObservedOperation

OPERATIONS: Mapping[str, str] = {
    "chatcompletions_create": "chat_completions",
    "completions_create": "completions",
    "embeddings_create": "embeddings",
    "responses_create": "responses",
    "createresponse": "responses",
    "imagegenerations_create": "images",
    "transcriptions_create": "audio",
    "translations_create": "audio",
}
"""Operation name (lower case) -> the contract's `api` value. Sources: the module docstring."""

SPLIT = ("ModelDeploymentName", "OperationName", "StreamType", "StatusCode", "ModelVersion")
"""The dimensions the traffic read splits AzureOpenAIRequests by (one metrics call per account)."""


def api_of(operation: str) -> str | None:
    """The contract API an operation name means; None for one the auditor does not know."""
    return OPERATIONS.get(operation.strip().lower())


def _dimension(series: Any, name: str) -> str:
    for value in getattr(series, "metadatavalues", None) or ():
        key = getattr(getattr(value, "name", None), "value", None)
        if isinstance(key, str) and key.lower() == name.lower():
            return str(getattr(value, "value", "") or "")
    return ""


MAX_VALUE = 1e15
"""No day of one deployment comes near this many requests (or percent): a larger value is not a reading."""


def metric_value(value: Any, what: str) -> float | None:
    """A metric point's value: None when the point has none; a ValueError (the read becomes a gap, never a
    number) when it is not a finite number from 0 to MAX_VALUE (a negative 429 count would cancel real ones)."""
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


def _total(point: Any) -> float:
    return metric_value(getattr(point, "total", None), "AzureOpenAIRequests") or 0.0


def _streaming(stream_type: str) -> bool:
    """StreamType's values are Streaming and Non-streaming (the metric's description); anything else: not streamed."""
    text = stream_type.strip().lower().replace("-", "").replace(" ", "")
    return text in ("streaming", "stream", "true")


@dataclass
class _Tally:
    requests: float = 0.0
    streaming: float = 0.0
    client_errors: float = 0.0
    throttled: float = 0.0
    server_errors: float = 0.0
    versions: set[str] = field(default_factory=set)
    daily: list[float] = field(default_factory=list)

    def add(self, status: str, stream_type: str, version: str, points: Sequence[float]) -> None:
        count = sum(points)
        if count <= 0:
            return
        self.requests += count
        if _streaming(stream_type):
            self.streaming += count
        code = status.strip()
        if code == "429":
            self.throttled += count
        elif code.startswith("4"):
            self.client_errors += count
        elif code.startswith("5"):
            self.server_errors += count
        if version:
            self.versions.add(version)
        if len(self.daily) < len(points):
            self.daily.extend([0.0] * (len(points) - len(self.daily)))
        for index, value in enumerate(points):
            self.daily[index] += value


def traffic_from_sdk(
    metrics: Iterable[Any], days: int, deployment_of: Mapping[int, str] | None = None
) -> tuple[ObservedOperation, ...]:
    """Per (deployment, operation): the metric's time series added up, in a stable order. A series read with the
    deployment narrowed to one value (`ModelDeploymentName eq 'x'`, not split) may not name it: `deployment_of`
    gives it by the series' id()."""
    tallies: dict[tuple[str, str], _Tally] = {}
    for metric in metrics:
        for series in getattr(metric, "timeseries", None) or ():
            deployment = _dimension(series, "ModelDeploymentName") or (deployment_of or {}).get(id(series), "")
            if not deployment:
                continue
            operation = _dimension(series, "OperationName") or "(none)"
            points = [_total(p) for p in getattr(series, "data", None) or ()]
            tally = tallies.setdefault((deployment, operation), _Tally())
            tally.add(
                _dimension(series, "StatusCode"),
                _dimension(series, "StreamType"),
                _dimension(series, "ModelVersion"),
                points,
            )
    return tuple(
        ObservedOperation(
            deployment=deployment,
            operation=operation,
            api=api_of(operation),
            requests=tally.requests,
            streaming=tally.streaming,
            client_errors=tally.client_errors,
            throttled=tally.throttled,
            server_errors=tally.server_errors,
            model_versions=tuple(sorted(tally.versions)),
            daily=tuple(tally.daily),
            days=days,
        )
        for (deployment, operation), tally in sorted(tallies.items(), key=lambda i: (i[0][0].lower(), i[0][1]))
        if tally.requests > 0
    )


def with_api_versions(
    traffic: Sequence[ObservedOperation], versions: Mapping[tuple[str, str], Sequence[str]]
) -> tuple[ObservedOperation, ...]:
    """The traffic with the api-versions the RequestResponse logs show per (deployment, operation), lower-cased
    keys. An operation the logs do not mention gets an empty tuple: the logs were read and show none."""
    return tuple(
        replace(o, api_versions=tuple(sorted(versions.get((o.deployment.lower(), o.operation.lower()), ()))))
        for o in traffic
    )


def evidence_text(operation: ObservedOperation) -> str:
    """ "observed: 12,400 ChatCompletions_Create calls in 7 days" — how a finding cites the traffic."""
    return f"observed: {operation.requests:,.0f} {operation.operation} calls in {operation.days} days"


def observed_calls(facts: Facts) -> tuple[ContractCall, ...]:
    """One observed contract entry per account, deployment and known operation with traffic. The lowest api-version
    seen is the entry's (AOAI-API-021 judges the oldest client); an operation the auditor does not know stays in
    the traffic (the report lists it) but makes no contract entry."""
    calls: list[ContractCall] = []
    accounts = {a.id: a for a in facts.accounts}
    for account_id, monitoring in sorted((facts.monitoring or {}).items()):
        account = accounts.get(account_id)
        if account is None or monitoring.traffic is None:
            continue
        for operation in monitoring.traffic:
            if operation.api is None:
                continue
            dated = sorted(v for v in operation.api_versions or () if v[:1].isdigit())
            calls.append(
                ContractCall(
                    deployment=operation.deployment,
                    api=operation.api,
                    account=account.name,
                    api_version=dated[0] if dated else None,
                    provenance="observed",
                    observed=operation,
                )
            )
    return tuple(calls)


def with_observed_contract(facts: Facts) -> Facts:
    """The facts with the observed entries added to the contract (declared and scanned entries kept first)."""
    observed = observed_calls(facts)
    if not observed:
        return facts
    return replace(facts, contract=(*(facts.contract or ()), *observed))


def unread_logs(monitoring: AccountMonitoring | None) -> str | None:
    """Why an account's traffic has no api-versions (None when its RequestResponse logs were read)."""
    if monitoring is None or monitoring.traffic is None:
        return None
    return monitoring.logs
