"""Views for compliance checks: what a content filter policy really filters (thresholds per category, prompt
shields, protected material, asynchronous mode), where an account's diagnostic logs go, and how a deployment
was used over the last days (throttling, provisioned utilisation). Pure: no I/O.

Content filter names are ARM's (`raiContentFilters`: Hate, Sexual, Violence, Selfharm, Jailbreak,
Indirect Attack, Protected Material Text, Protected Material Code, Profanity — azure-rest-api-specs
Microsoft.CognitiveServices stable/2025-09-01/examples/ListRaiContentFilters.json). What the built-in policy
filters comes from MicrosoftDocs/azure-ai-docs articles/ai-foundry/openai/concepts/default-safety-policies.md
(text models: the four harm categories at Medium on prompts and completions, Jailbreak on prompts, protected
material text and code on completions; indirect attacks are not part of the default).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from auditor.model.documents import ActivityView, ContentFilterView, MonitorView
from auditor.model.facts import Account, ContentFilter, Deployment, Facts
from auditor.model.unknown import UNKNOWN

HARM_CATEGORIES = ("hate", "sexual", "violence", "selfharm")
SEVERITY_RANK = {"low": 1, "medium": 2, "high": 3}
OFF = 4
"""Rank of a category that is not filtered at all (missing, disabled or annotate-only): above every threshold."""
PROMPT_SHIELDS = {"jailbreak": "Jailbreak", "indirectattack": "Indirect Attack"}
PROTECTED_MATERIAL = {
    "protectedmaterialtext": "Protected Material Text",
    "protectedmaterialcode": "Protected Material Code",
}
AUDIT_LOGS = frozenset({"audit", "alllogs"})
REQUEST_LOGS = frozenset({"requestresponse", "alllogs"})

_BUILTIN_FILTERS = (
    *(ContentFilter(c.title(), s, True, True, "Medium") for c in HARM_CATEGORIES for s in ("Prompt", "Completion")),
    ContentFilter("Jailbreak", "Prompt", True, True),
    ContentFilter("Protected Material Text", "Completion", True, True),
    ContentFilter("Protected Material Code", "Completion", True, True),
)


def _key(name: str) -> str:
    return "".join(name.split()).lower()


def filter_details(filters: Iterable[ContentFilter] | None, mode: str | None, builtin: bool) -> ContentFilterView:
    """Per harm category the weakest threshold over prompts and completions (as a rank: 1 Low ... 4 off),
    which prompt shields and protected-material filters block, and whether the policy filters asynchronously."""
    listed = tuple(filters or ())
    chosen = _BUILTIN_FILTERS if builtin and not listed else listed  # a built-in listed without its filters
    blocking = [f for f in chosen if f.enabled is not False and f.blocking is not False]
    ranks: dict[str, int] = {}
    for category in HARM_CATEGORIES:
        per_source = []
        for source in ("prompt", "completion"):
            found = [f for f in blocking if _key(f.name) == category and (f.source or "").lower() == source]
            rank = min((SEVERITY_RANK.get((f.severity_threshold or "").lower(), OFF) for f in found), default=OFF)
            per_source.append(rank)
        ranks[category] = max(per_source)
    names = {_key(f.name) for f in blocking}
    shields = [label for key, label in PROMPT_SHIELDS.items() if key not in names]
    material = [label for key, label in PROTECTED_MATERIAL.items() if key not in names]
    return {
        "threshold_rank": ranks,
        "thresholds": {c: _label(r) for c, r in ranks.items()},
        "thresholds_text": ", ".join(f"{c} {_label(r)}" for c, r in ranks.items()),
        "missing_prompt_shields": shields,
        "missing_protected_material": material,
        "asynchronous": (mode or "").lower() == "asynchronous_filter",
    }


def _label(rank: int) -> str:
    return next((name.title() for name, r in SEVERITY_RANK.items() if r == rank), "off")


def monitor_view(facts: Facts, account: Account) -> MonitorView:
    """Where the account's logs go, from its diagnostic settings; `requested: false` without --monitor."""
    if facts.monitoring is None:
        return {"requested": False}
    monitoring = facts.monitoring.get(account.id)
    settings = monitoring.diagnostic_settings if monitoring else None
    if settings is None:
        return {"requested": True, "read": False, "settings": UNKNOWN, "audit_logs": UNKNOWN, "request_logs": UNKNOWN}
    sending = [s for s in settings if s.destinations]
    logs = {_key(category) for s in sending for category in s.logs}
    return {
        "requested": True,
        "read": True,
        "settings": len(settings),
        "names": sorted(s.name for s in settings),
        "destinations": sorted({d for s in sending for d in s.destinations}),
        "logs": sorted({category for s in sending for category in s.logs}),
        "audit_logs": bool(logs & AUDIT_LOGS),
        "request_logs": bool(logs & REQUEST_LOGS),
    }


def activity_view(facts: Facts, deployment: Deployment) -> ActivityView:
    """The deployment's last days in Azure Monitor: requests, 429s and peak provisioned utilisation."""
    if facts.monitoring is None:
        return {"requested": False}
    monitoring = facts.monitoring.get(deployment.account_id)
    activity = monitoring.activity if monitoring else None
    if activity is None:
        return {
            "requested": True,
            "read": False,
            "requests": UNKNOWN,
            "throttled": UNKNOWN,
            "throttled_percent": UNKNOWN,
            "peak_utilization": UNKNOWN,
        }
    mine = next((a for a in activity if a.deployment.lower() == deployment.name.lower()), None)
    requests = mine.requests if mine else 0.0
    throttled = mine.throttled if mine else 0.0
    provisioned = "provisioned" in (deployment.sku_name or "").lower()
    peak: Any = mine.peak_utilization if mine and mine.peak_utilization is not None else None
    return {
        "requested": True,
        "read": True,
        "days": monitoring.days if monitoring else 7,
        "requests": round(requests),
        "throttled": round(throttled),
        "throttled_percent": round(100 * throttled / requests, 2) if requests else 0.0,
        "provisioned": provisioned,
        "peak_utilization": peak if peak is not None else (UNKNOWN if provisioned and requests else None),
    }
