"""Views of the observed contract (auditor/sources/traffic.py): per deployment, who calls it and how (operations,
streaming, volume, error shares, model versions served, idle), and per contract entry, where it comes from
(declared, scanned, observed) and its evidence. Pure: no I/O.

A failing read is unknown, never a pass: a deployment whose account's traffic could not be read has UNKNOWN
numbers; an observed entry whose api-version no log showed has an UNKNOWN api-version, so AOAI-API-021 is unknown
on it rather than passed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from auditor.model.facts import ContractCall, Deployment, Facts, ObservedOperation
from auditor.model.results import Category, Cause, Report, Status
from auditor.model.unknown import UNKNOWN


def _percent(part: float, whole: float) -> float:
    return round(100.0 * part / whole, 2) if whole else 0.0


def _count(value: float) -> str:
    return f"{value:,.0f}"


def operation_text(operation: ObservedOperation) -> str:
    """ "ChatCompletions_Create: 12,400 calls, 0% streamed, 100% 4xx" — one row of the who-calls-it summary."""
    parts = [f"{_count(operation.requests)} calls", f"{_percent(operation.streaming, operation.requests):g}% streamed"]
    for label, value in (
        ("4xx", operation.client_errors),
        ("429", operation.throttled),
        ("5xx", operation.server_errors),
    ):
        if value:
            parts.append(f"{_percent(value, operation.requests):g}% {label}")
    return f"{operation.operation}: {', '.join(parts)}"


def _unread(reason: str, deployment: Deployment) -> dict[str, Any]:
    provisioned = "provisioned" in (deployment.sku_name or "").lower()
    return {
        "requested": True,
        "read": False,
        "reason": reason,
        "provisioned": provisioned,
        "ptus": deployment.sku_capacity if provisioned else None,
        **dict.fromkeys(("requests", "idle", "operations", "apis", "unknown_operations", "other_versions"), UNKNOWN),
        **dict.fromkeys(("undeclared_apis", "worst_client_error_percent"), UNKNOWN),
    }


def traffic_view(
    facts: Facts, deployment: Deployment, account_name: str, calls: Sequence[ContractCall] | None
) -> dict[str, Any]:
    """Who calls the deployment over the window; `requested: false` without --monitor."""
    if facts.monitoring is None:
        return {"requested": False}
    monitoring = facts.monitoring.get(deployment.account_id)
    if monitoring is None or monitoring.traffic is None:
        return _unread(
            "Azure Monitor's AzureOpenAIRequests by operation could not be read for this account", deployment
        )
    mine = [o for o in monitoring.traffic if o.deployment.lower() == deployment.name.lower()]
    return {
        "requested": True,
        "read": True,
        "days": monitoring.days,
        **_volume(mine, deployment),
        **_versions(mine, deployment),
        **_apis(mine, calls, account_name),
        "logs": monitoring.logs,
    }


def _volume(mine: Sequence[ObservedOperation], deployment: Deployment) -> dict[str, Any]:
    """How much traffic, whether it streams, the worst 4xx share, and the PTUs an idle provisioned one holds."""
    requests = sum(o.requests for o in mine)
    provisioned = "provisioned" in (deployment.sku_name or "").lower()
    worst = max((_percent(o.client_errors, o.requests) for o in mine), default=0.0)
    return {
        "requests": round(requests),
        "idle": requests == 0,
        "provisioned": provisioned,
        "ptus": deployment.sku_capacity if provisioned else None,
        "operations": [o.operation for o in mine],
        "operations_text": "; ".join(operation_text(o) for o in mine) or "no calls",
        "streaming_percent": _percent(sum(o.streaming for o in mine), requests),
        "worst_client_error_percent": worst,
    }


def _versions(mine: Sequence[ObservedOperation], deployment: Deployment) -> dict[str, Any]:
    """The model versions that served the traffic, and those other than the deployment's."""
    versions = sorted({v for o in mine for v in o.model_versions})
    other = [v for v in versions if deployment.model_version and v != deployment.model_version]
    return {"model_versions": versions, "other_versions": other, "other_versions_text": ", ".join(other)}


def _apis(mine: Sequence[ObservedOperation], calls: Sequence[ContractCall] | None, account_name: str) -> dict[str, Any]:
    """The APIs called, the operations nobody judges, and the APIs the declared or scanned contract leaves out."""
    known = sorted({o.api for o in mine if o.api})
    unknown = [o for o in mine if o.api is None]
    claimed = [c for c in calls or () if c.provenance != "observed" and c.account in (None, account_name)]
    undeclared = sorted(set(known) - {c.api for c in claimed}) if claimed else []
    return {
        "apis": known,
        "unknown_operations": [o.operation for o in unknown],
        "unknown_operations_text": ", ".join(f"{o.operation} ({_count(o.requests)} calls)" for o in unknown),
        "declared_apis": sorted({c.api for c in claimed}),
        "undeclared_apis": undeclared,
        "undeclared_text": "; ".join(o.evidence for o in mine if o.api in undeclared),
    }


def provenance_fields(call: ContractCall) -> dict[str, Any]:
    """Where a contract entry comes from, and what an observed one saw (the contract_call document's `call`)."""
    observed = call.observed
    where = f"{call.location.file}:{call.location.line}" if call.location else None
    if observed is None:
        return {
            "provenance": call.provenance,
            "observed": False,
            "evidence": f"{call.provenance}: {where}" if where else call.provenance,
            "operation": None,
            "requests": None,
        }
    api_version: Any = call.api_version
    if observed.api_versions is None:
        api_version = UNKNOWN  # no log was read: the api-version callers send is not known, so not judged as met
    return {
        "provenance": "observed",
        "observed": True,
        "evidence": observed.evidence,
        "operation": observed.operation,
        "requests": round(observed.requests),
        "client_error_percent": _percent(observed.client_errors, observed.requests),
        "throttled_percent": _percent(observed.throttled, observed.requests),
        "server_error_percent": _percent(observed.server_errors, observed.requests),
        "streaming_percent": _percent(observed.streaming, observed.requests),
        "api_version": api_version,
        "dated_api_version": UNKNOWN if api_version is UNKNOWN else bool(api_version and api_version[:1].isdigit()),
        "source": observed.evidence,
    }


def observed_by_name(facts: Facts) -> Mapping[str, list[ContractCall]]:
    """Observed entries per deployment name (for the HTML report's who-calls-it table)."""
    found: dict[str, list[ContractCall]] = {}
    for call in facts.contract or ():
        if call.observed is not None:
            found.setdefault(call.deployment, []).append(call)
    return found


def observed_evidence(call: ContractCall) -> dict[str, Any] | None:
    """What an observed entry's findings rest on (the traffic), for the report; None for other entries."""
    observed = call.observed
    if observed is None:
        return None
    return {
        "observed": observed.evidence,
        "operation": observed.operation,
        "requests": round(observed.requests),
        "days": observed.days,
    }


def traffic_causes(facts: Facts, deployment: Deployment, traffic: Mapping[str, Any]) -> dict[str, tuple[Cause, str]]:
    """Why a deployment's traffic is unknown: the account's metrics read failed (the gap's own words)."""
    if traffic.get("read") is not False:
        return {}
    gap = next(
        (g.reason for g in facts.gaps if g.target == deployment.account_id and "Azure Monitor metrics" in g.reason),
        str(traffic.get("reason")),
    )
    return {"traffic": (Cause.AZURE, gap)}


def observed_causes(facts: Facts, call: ContractCall, account_id: str) -> dict[str, tuple[Cause, str]]:
    """Why an observed entry's api-version is unknown: no Log Analytics workspace, or its query failed."""
    if call.observed is None or call.observed.api_versions is not None:
        return {}
    monitoring = (facts.monitoring or {}).get(account_id)
    why = (monitoring.logs if monitoring else None) or "no RequestResponse log was read"
    return {"call.api_version": (Cause.INPUT, why), "call.dated_api_version": (Cause.INPUT, why)}


OBSERVED_BREAKING = frozenset({Category.API_SUPPORT, Category.UPGRADE})


def observed_breaking(report: Report) -> list[str]:
    """Deployments that observed traffic calls in a way that fails now or on their next model (the nightly
    headline, the HTML report): failing api-support and upgrade findings resting on observed traffic."""
    found = {
        f.target_name.split(" (")[0]
        for f in report.not_passing
        if f.status is Status.FAIL
        and f.category in OBSERVED_BREAKING
        and f.evidence is not None
        and f.evidence.get("observed")
    }
    return sorted(found, key=str.lower)
