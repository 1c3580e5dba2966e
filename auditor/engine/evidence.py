"""Subjects built from evidence rather than inventory: live probe results, calls the code scan could not
resolve, and deployments a plan would create. Pure; they reuse the joins of auditor/engine/views.py (catalog,
knowledge base, quota); kept apart so each source of evidence stays in one place.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import date
from typing import Any, TypedDict

from auditor.engine.views import (
    Subject,
    account_of,
    catalog_entries,
    catalog_view,
    lifecycle_view,
    quota_view,
    with_catalog,
)
from auditor.knowledge.base import KnowledgeBase, model_view, with_apis
from auditor.model.documents import (
    PlanContract,
    PlannedDeploymentDocument,
    PlanView,
    ProbeDocument,
    ProbeView,
)
from auditor.model.facts import (
    PROBE_ANSWERED,
    Account,
    Deployment,
    Facts,
    PlannedDeployment,
    ProbeResult,
    Region,
)
from auditor.model.unknown import UNKNOWN
from auditor.util.textcap import join_capped

_API_NAMES = {
    "chat_completions": "Chat Completions",
    "responses": "Responses",
    "completions": "Completions",
    "embeddings": "Embeddings",
}


def probes_by_deployment(probes: tuple[ProbeResult, ...] | None) -> dict[str, list[ProbeResult]]:
    """Each deployment's probe results, looked up once (a fleet has thousands of both). Labelled auth
    checks say nothing about the model and are left out."""
    index: dict[str, list[ProbeResult]] = {}
    for p in probes or ():
        if p.deployment_id and p.label is None:
            index.setdefault(p.deployment_id, []).append(p)
    return index


def with_probes(model: dict[str, Any], mine: Sequence[ProbeResult]) -> dict[str, Any]:
    """The probe wins: what Azure answered this deployment (`mine`, from probes_by_deployment) overrides
    the knowledge base and the catalog (APIs served, parameters refused)."""
    if not mine:
        return model
    merged = dict(model)
    apis = merged.get("apis")
    if isinstance(apis, list):
        served = set(apis)
        for p in mine:
            if p.parameter is None and p.outcome == "success":
                served.add(p.api)
            elif p.parameter is None and p.outcome == "api_not_supported":
                served.discard(p.api)
        if served != set(apis):
            with_apis(merged, sorted(served))
    table = merged.get("parameters")
    probed = [p for p in mine if p.parameter is not None]
    if table is UNKNOWN and probed:
        # The knowledge base has no table for this model: what the probes answered is all that is known;
        # every other parameter stays unknown ("*").
        table = {"*": {"support": UNKNOWN, "default": UNKNOWN}}
    if isinstance(table, Mapping):
        updated = {k: dict(v) for k, v in table.items()}
        for p in probed:
            spec = updated.setdefault(str(p.parameter), {"support": "supported"})
            support = spec.get("support")
            if p.outcome == "success" and (
                support in (UNKNOWN, "rejected") or (support == "default_only" and p.value != spec.get("default"))
            ):
                spec["support"] = "supported"
            elif p.outcome in ("unsupported_parameter", "unsupported_value") and support in (
                UNKNOWN,
                None,
                "supported",
            ):
                spec["support"] = "rejected"
        if updated != table:
            merged["parameters"] = updated
    return merged


def _short(value: Any) -> str:
    text = "true" if value is True else "false" if value is False else str(value)
    return text if len(text) <= 40 else text[:39] + "…"


def _probe_summary(result: ProbeResult) -> str:
    """One line of evidence: what was sent and what came back."""
    if result.outcome == "skipped":
        return result.message or "not sent"
    attempts = f"{result.attempts} attempt{'s' if result.attempts != 1 else ''}"
    timing = f" in {result.latency_ms:g} ms" if result.latency_ms is not None else ""
    head = f"HTTP {result.status_code}" if result.status_code is not None else result.outcome.replace("_", " ")
    code = f" {result.error_code}" if result.error_code and result.error_code != str(result.status_code) else ""
    throttled = (
        f", throttled {result.throttled}x (retry-after {result.retry_after:g} s)"
        if result.throttled and result.retry_after is not None
        else ""
    )
    message = f": {result.message}" if result.message else ""
    return f"{head}{code}{timing} ({attempts}{throttled}){message}"


def _probe_evidence(result: ProbeResult) -> dict[str, Any]:
    """The finding's evidence: status, error code, message, latency and the retry hints (never a secret)."""
    return {
        "api": result.api,
        "parameter": result.parameter,
        "value": result.value,
        "outcome": result.outcome,
        "status_code": result.status_code,
        "error_code": result.error_code,
        "error_param": result.error_param,
        "message": result.message,
        "latency_ms": result.latency_ms,
        "attempts": result.attempts,
        "throttled": result.throttled,
        "retry_after": result.retry_after,
        "rate_limit": dict(result.rate_limit),
        "tokens": result.tokens,
        "auth": result.auth,
        "label": result.label,
        "endpoint_host": result.endpoint_host,
        "summary": _probe_summary(result),
    }


def _probe_vs_kb(
    result: ProbeResult, deployment: Deployment | None, kb: KnowledgeBase, today: date
) -> tuple[str | None, str | None]:
    """What the knowledge base expected of this probe, and the contradiction when the probe disagrees."""
    if deployment is None or result.label is not None:
        return None, None
    view = model_view(kb, deployment.model_name, deployment.model_version, deployment.sku_name, today)
    model = deployment.model_name
    if result.parameter is None:
        apis = view.get("apis")
        if result.outcome not in ("success", "api_not_supported") or not isinstance(apis, list):
            return None, None
        expected, works = result.api in apis, result.outcome == "success"
        said = f"the knowledge base says {model} {'serves' if expected else 'does not serve'} {_API_NAMES[result.api]}"
        if expected == works:
            return said, None
        return said, said + (", but the probe succeeded" if works else ", but Azure answered OperationNotSupported")
    table = view.get("parameters")
    if result.outcome not in ("success", "unsupported_parameter", "unsupported_value") or not isinstance(
        table, Mapping
    ):
        return None, None
    spec = table.get(result.parameter) or {"support": "supported"}
    support = spec.get("support")
    expected = support in (None, "supported") or (support == "default_only" and result.value == spec.get("default"))
    works = result.outcome == "success"
    said = (
        f"the knowledge base says {model} {'accepts' if expected else 'refuses'} "
        f"{result.parameter}={_short(result.value)} on {_API_NAMES[result.api]}"
    )
    if expected == works:
        return said, None
    return said, said + (", but Azure accepted it" if works else f", but Azure answered {result.error_code}")


class _AdviceFacts(TypedDict):
    principal_text: str
    filtered_text: str
    retry_text: str


def _advice_facts(result: ProbeResult) -> _AdviceFacts:
    """The parts of Azure's answer the probe rules' advice names (rules/builtin/probe.yaml, remediation_by)."""
    return {
        "principal_text": f"principal {result.principal}" if result.principal else "the calling identity",
        "filtered_text": f" (filtered: {', '.join(result.filtered)})" if result.filtered else "",
        "retry_text": f"Azure asked to retry after {result.retry_after:g} s. "
        if result.retry_after is not None
        else "",
    }


def probe_subjects(
    facts: Facts,
    kb: KnowledgeBase,
    today: date,
    accounts: Mapping[str, Account],
    deployment_docs: Mapping[str, Mapping[str, Any]],
) -> Iterator[Subject]:
    deployments = {d.id: d for d in facts.deployments}
    for result in facts.probes or ():
        account = accounts.get(result.account_id)
        if account is None:
            continue
        parent = deployment_docs.get(result.deployment_id or "")
        answered = result.outcome in PROBE_ANSWERED
        expected, disagreement = _probe_vs_kb(result, deployments.get(result.deployment_id or ""), kb, today)
        setting = f"{result.parameter}={_short(result.value)}" if result.parameter else ""
        probe: ProbeView = {
            "kind": "parameter" if result.parameter else "api",
            "api": result.api,
            "api_name": _API_NAMES.get(result.api, result.api),
            "parameter": result.parameter,
            "value": result.value,
            "setting": setting,
            "outcome": result.outcome,
            "answered": answered,
            "completed": True if answered else (False if result.outcome == "skipped" else UNKNOWN),
            "status_code": result.status_code,
            "error_code": result.error_code,
            "error_param": result.error_param,
            "message": result.message or "no message",
            "latency_ms": result.latency_ms,
            "attempts": result.attempts,
            "throttled": result.throttled,
            "retry_after": result.retry_after,
            "rate_limit_text": ", ".join(f"{k}: {v}" for k, v in sorted(result.rate_limit.items())) or "none sent",
            "tokens": result.tokens,
            "auth": "an API key" if result.auth == "key" else "an Entra ID token",
            "label": result.label,
            "label_text": f" [{result.label}]" if result.label else "",
            "called_by_app": result.called_by_app,
            "remedy": result.remedy,
            **_advice_facts(result),
            "evidence": _probe_summary(result),
            "kb_expected": expected,
            "kb_disagreement": disagreement,
        }
        document: ProbeDocument = {
            "probe": probe,
            "account": parent["account"] if parent else account_of(account, facts, kb),
            "deployment": parent["deployment"] if parent else {"exists": False, "name": result.deployment},
            "model": parent["model"] if parent else UNKNOWN,
        }
        what = result.api + (f" {setting}" if setting else "")
        label = f", {result.label}" if result.label else ""
        yield Subject(
            "probe",
            result.deployment_id or f"{account.id}/deployments/{result.deployment}",
            f"{account.name}/{result.deployment} ({what} probe{label})",
            document,
            account_id=account.id,
            deployment=result.deployment,
            evidence=_probe_evidence(result),
        )


def unresolved_call_subjects(facts: Facts) -> Iterator[Subject]:
    """Calls whose deployment name the code scan could not know: one `contract_call` each, with no deployment
    (deployment.exists is neither true nor false), so only the rule about unchecked calls applies to them."""
    for call in facts.contract_unresolved:
        where = f"{call.location.file}:{call.location.line}" if call.location else "unknown place"
        view = {
            "deployment": None,
            "api": call.api,
            "parameters": sorted(call.parameters),
            "resolved": False,
            "legacy_sdk": call.sdk == "openai<1",
            "expression": call.expression,
            "why": call.why,
            "source": where,
        }
        document = {
            "call": view,
            "deployment": {"exists": None, "name": None},
            "model": UNKNOWN,
            "account": UNKNOWN,
            "suggestions": [],
            "suggestions_text": "",
        }
        yield Subject(
            "contract_call", f"contract:unresolved:{where}", f"{where} ({call.api})", document, location=call.location
        )


def _find_account(facts: Facts, reference: str | None) -> Account | None:
    if not reference:
        return None
    wanted = reference.lower().rstrip("/")
    return next((a for a in facts.accounts if wanted in (a.name.lower(), a.id.lower())), None)


_PLAN_FIELDS = ("account", "name", "model.format", "model.name", "model.version", "sku.name", "sku.capacity")


def _plan_view(plan: PlannedDeployment, account: Account | None, unresolved: set[str]) -> PlanView:
    """The plan's own fields; a field the plan file could not resolve (an expression, a variable) is unknown."""

    def given(name: str, value: Any) -> Any:
        return value if name not in unresolved else UNKNOWN

    return {
        "name": given("name", plan.name),
        "account": given("account", plan.account),
        "account_found": given("account", account is not None),
        "model_name": given("model.name", plan.model_name),
        "model_version": given("model.version", plan.model_version),
        "version_given": plan.model_version is not None,
        "sku_name": given("sku.name", plan.sku_name),
        "sku_capacity": given("sku.capacity", plan.sku_capacity),
        "registration_approved": plan.registration_approved,
        "action": plan.action,
        "format": plan.source_format,
        "unresolved": list(plan.unresolved),
        "unresolved_text": "; ".join(plan.unresolved) or "none",
    }


_Row = tuple[PlannedDeployment, PlannedDeploymentDocument, tuple[str, str, str] | None, float]


def _plan_quota(
    facts: Facts,
    today: date,
    plan: PlannedDeployment,
    account: Account,
    catalog: Any,
    document: PlannedDeploymentDocument,
) -> tuple[tuple[str, str, str] | None, float]:
    """The quota line the planned deployment draws on (document["quota"]) and the capacity it adds to it."""
    region = facts.region_of(account)
    usage_name = catalog.get("usage_name") if isinstance(catalog, Mapping) else None
    if isinstance(catalog, Mapping) and not usage_name:
        document["quota"] = None
    elif (
        usage_name
        and region is not None
        and region.usages is not None
        and not any(u.name.lower() == usage_name.lower() for u in region.usages)
    ):
        usage_name = None  # the catalog names a quota line the usages list lacks: unknown
    if not (usage_name and region is not None and region.usages is not None):
        return None, 0.0
    delta = float(plan.sku_capacity or 0) - _existing_capacity(facts, region, account, plan, usage_name, today)
    document["quota"] = quota_view(region, usage_name)
    return (account.subscription_id, account.location, usage_name.lower()), delta


def _plan_model(
    facts: Facts,
    kb: KnowledgeBase,
    today: date,
    plan: PlannedDeployment,
    account: Account,
    unresolved: set[str],
    document: PlannedDeploymentDocument,
) -> tuple[tuple[str, str, str] | None, float]:
    """The region's catalog, the model, its lifecycle, capacity bounds and quota for a planned deployment on a
    known account (document updated in place); the quota line and the capacity the plan adds to it."""
    view = document["plan"]
    probe_deployment = Deployment(
        id=f"{account.id}/deployments/{plan.name}",
        name=plan.name or "",
        account_id=account.id,
        model_format=plan.model_format,
        model_name=plan.model_name,
        model_version=plan.model_version,
        sku_name=plan.sku_name,
        sku_capacity=plan.sku_capacity,
    )
    entries = catalog_entries(facts.region_of(account), account, probe_deployment)
    default_entry = next((m for m in entries or () if m.is_default_version), None)
    view["default_version_skus"] = sorted(s.name for s in default_entry.skus) if default_entry else []
    if plan.model_version is None and "model.version" not in unresolved and entries:
        default = next((m.version for m in entries if m.is_default_version), None)
        probe_deployment = replace(probe_deployment, model_version=default)
        view["model_version"] = default if default else UNKNOWN
    if unresolved & {"model.name", "sku.name", "model.format", "model.version"}:
        return None, 0.0
    catalog = catalog_view(entries, probe_deployment, today, account.kind)
    known = model_view(kb, plan.model_name, probe_deployment.model_version, plan.sku_name, today)
    model, _, _ = with_catalog(known, catalog, kb, probe_deployment)
    document["catalog"], document["model"] = catalog, model
    document["lifecycle"] = lifecycle_view(catalog, model)
    document["capacity"] = _capacity_fit(catalog, view["sku_capacity"])
    return _plan_quota(facts, today, plan, account, catalog, document)


def _plan_contract(facts: Facts, plan: PlannedDeployment, account: Account, model: Any) -> PlanContract:
    """The app's calls on the planned deployment, and the APIs among them the planned model does not serve."""
    calls = [c for c in facts.contract or () if c.deployment == plan.name and c.account in (None, account.name)]
    apis = sorted({c.api for c in calls})
    model_apis = model.get("apis") if isinstance(model, Mapping) else UNKNOWN
    return {
        "present": bool(calls),
        "apis": apis,
        "unsupported_apis": UNKNOWN if not isinstance(model_apis, list) else [a for a in apis if a not in model_apis],
    }


def _planned_row(facts: Facts, kb: KnowledgeBase, today: date, plan: PlannedDeployment) -> _Row:
    """One planned deployment's document, the quota line it draws on and the capacity it adds (NaN: unresolved)."""
    unresolved = {entry.split(":", 1)[0].strip() for entry in plan.unresolved}
    account = _find_account(facts, plan.account)
    document: PlannedDeploymentDocument = {
        "plan": _plan_view(plan, account, unresolved),
        "account": UNKNOWN,
        "model": UNKNOWN,
        "catalog": UNKNOWN,
        "lifecycle": UNKNOWN,
        "quota": UNKNOWN,
        "contract": UNKNOWN,
        "capacity": UNKNOWN,
    }
    usage_key: tuple[str, str, str] | None = None
    delta = 0.0
    if account is not None:
        document["account"] = account_of(account, facts, kb)
        usage_key, delta = _plan_model(facts, kb, today, plan, account, unresolved, document)
        document["contract"] = _plan_contract(facts, plan, account, document["model"])
    elif "account" not in unresolved and plan.account is not None:
        document["contract"] = {"present": False, "apis": [], "unsupported_apis": []}
    return plan, document, usage_key, delta if "sku.capacity" not in unresolved else float("nan")


def planned_subjects(
    facts: Facts, kb: KnowledgeBase, today: date, accounts: Mapping[str, Account]
) -> Iterator[Subject]:
    """Planned deployments, checked before they exist: region offer, registration, lifecycle, the app's APIs,
    and quota summed per usage line across the whole plan against what is left (limit - current)."""
    rows = [_planned_row(facts, kb, today, plan) for plan in facts.planned or ()]
    totals: dict[tuple[str, str, str], list[tuple[PlannedDeployment, float]]] = {}
    for plan, _, key, delta in rows:
        if key is not None:
            totals.setdefault(key, []).append((plan, delta))
    for plan, document, key, _ in rows:
        quota = document["quota"]
        if key is not None and isinstance(quota, Mapping):
            members = totals[key]
            total = sum(d for _, d in members)
            quota = dict(quota)
            quota["plan_total"] = UNKNOWN if math.isnan(total) else total  # NaN: a capacity the plan left unresolved
            quota["plan_deployments"] = join_capped([f"{p.name} ({_short(p.sku_capacity)})" for p, _ in members])
            document["quota"] = quota
        account = _find_account(facts, plan.account)
        name = plan.name or "?"
        target = f"{account.id}/deployments/{name}" if account else f"plan:{plan.account}/{name}"
        yield Subject(
            "planned_deployment",
            target,
            f"{account.name if account else plan.account or '?'}/{name} (planned)",
            document,
            account_id=account.id if account else None,
            deployment=plan.name,
            location=plan.location,
            evidence=_plan_fix_evidence(plan, document, len(totals.get(key, ())) if key else 0),
        )


def _plan_fix_evidence(plan: PlannedDeployment, document: Mapping[str, Any], sharing: int) -> dict[str, Any]:
    """What auditor/fixes needs to edit the plan file (version, SKU, capacity), carried onto the finding."""
    catalog, quota = document.get("catalog"), document.get("quota")
    catalog = catalog if isinstance(catalog, Mapping) else {}
    quota = quota if isinstance(quota, Mapping) else {}
    total, available = quota.get("plan_total"), quota.get("available")
    excess = total - available if isinstance(total, (int, float)) and isinstance(available, (int, float)) else None
    return {
        "fix": {
            "plan_format": plan.source_format,
            "name": plan.name,
            "model_version": plan.model_version,
            "sku_name": plan.sku_name,
            "sku_capacity": plan.sku_capacity,
            "default_version": _single(catalog.get("default_versions")),  # a value, never the display text
            "version_offered": catalog.get("version_offered"),
            "skus": list(catalog.get("skus") or ()),
            "default_version_skus": list((document.get("plan") or {}).get("default_version_skus") or ()),
            "quota_excess": excess,
            "quota_sharing": sharing,
        }
    }


def _single(values: Any) -> str | None:
    """The one value of a typed list (None when there are none or several: no fix can choose)."""
    return str(values[0]) if isinstance(values, list) and len(values) == 1 else None


def _capacity_fit(catalog: Any, capacity: Any) -> Any:
    """The planned capacity against the catalog SKU's `capacity` {minimum, maximum, step, default}
    (stable/2025-09-01/examples/ListLocationModels.json): PTU types have a minimum and a step, Standard types a
    maximum. No bounds in the catalog: nothing to check (`bounded` false)."""
    if not isinstance(catalog, Mapping):
        return UNKNOWN
    bounds = catalog.get("sku_capacity")
    if not isinstance(bounds, Mapping):
        return {"bounded": False} if catalog.get("sku_offered") is False else UNKNOWN
    low, high, step = bounds.get("minimum"), bounds.get("maximum"), bounds.get("step")
    if low is None and high is None and step is None:
        return {"bounded": False}
    allowed = ", ".join(
        part
        for part in (
            f"minimum {low}" if low is not None else "",
            f"maximum {high}" if high is not None else "",
            f"step {step}" if step else "",
            f"default {bounds.get('default')}" if bounds.get("default") is not None else "",
        )
        if part
    )
    if capacity is None and bounds.get("default") is not None:
        capacity = bounds["default"]  # a plan without a capacity gets the type's default
    if not isinstance(capacity, int):
        return {"bounded": True, "fits": UNKNOWN, "allowed": allowed, "problem": UNKNOWN}
    problems = []
    if low is not None and capacity < low:
        problems.append(f"below the minimum {low}")
    if high is not None and capacity > high:
        problems.append(f"above the maximum {high}")
    if step and (capacity - (low or 0)) % step:
        problems.append(f"not in steps of {step}")
    return {"bounded": True, "fits": not problems, "allowed": allowed, "problem": "; ".join(problems) or "none"}


def _existing_capacity(
    facts: Facts, region: Region, account: Account, plan: PlannedDeployment, usage_name: str, today: date
) -> float:
    """Capacity a same-named deployment already holds on the same quota line: a plan that changes it only
    adds the difference."""
    for deployment in facts.deployments:
        if deployment.account_id != account.id or deployment.name != plan.name:
            continue
        catalog = catalog_view(catalog_entries(region, account, deployment), deployment, today, account.kind)
        if isinstance(catalog, Mapping) and (catalog.get("usage_name") or "").lower() == usage_name.lower():
            return float(deployment.sku_capacity or 0)
    return 0.0
