"""Why a fact a rule needs is unknown, and so how a user settles it: the knowledge base does not record
it, Azure did not answer a read, a probe got no usable answer, or the contract, plan or code leaves it
open. Subject builders name the causes they know (a region's catalog that could not be read); the rest
follow from where the path points. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from auditor.engine.conditions import resolve
from auditor.model.results import Cause
from auditor.model.unknown import UNKNOWN

PRIORITY = (Cause.OFFLINE, Cause.AZURE, Cause.INPUT, Cause.PROBE, Cause.KNOWLEDGE)
"""Which cause to settle first when several facts are missing."""
"""When several facts are missing, the cause to settle first: a read that failed may answer the rest."""

_PARAMETER_FACTS = {"support": "parameters", "default": "parameters", "use_instead": "parameters"}
_VIEW_FACTS = {
    "responses_only": "apis",
    "reasoning_effort_values": "reasoning_effort",
    "rejected_parameters_text": "parameters",
    "gated_features": "registration",
}

SETTLE = {
    Cause.KNOWLEDGE: "add the fact with its source to rules/knowledge/ (models.yaml or families.yaml), run with "
    "--probe where a probe can answer it (the APIs a deployment serves, each parameter the app sends: the probe "
    "sends exactly that parameter), or waive the finding",
    Cause.AZURE: "give the identity read access (Reader; Cognitive Services Usages Reader for quota) and run again, "
    "or waive the finding",
    Cause.PROBE: "run --probe again (the service gave no usable answer), or waive the finding",
    Cause.INPUT: "give the value in the contract or plan (a literal the audit can read), or waive the finding",
    Cause.OFFLINE: "run the audit signed in to Azure (az login, or a federated credential in CI) without --offline",
}


def model_fact(path: str) -> str | None:
    """The knowledge-base fact a rule path reads (`model.streaming` -> streaming, `param.support` ->
    parameters), None for a path that reads no model fact."""
    root, _, rest = path.partition(".")
    if root == "param":
        return _PARAMETER_FACTS.get(rest)
    if root != "model" or not rest:
        return None
    key = rest.split(".", 1)[0]
    return _VIEW_FACTS.get(key, key)


def _default(path: str, document: Mapping[str, Any]) -> tuple[Cause, str]:
    root = path.split(".", 1)[0]
    model = document.get("model")
    name = model.get("name") if isinstance(model, Mapping) else None
    fact = model_fact(path)
    if fact is not None:
        if isinstance(model, Mapping) and model.get("known") is False:
            return Cause.KNOWLEDGE, f"{name or 'the model'} is not in the knowledge base"
        gap = model.get("gaps", {}).get(fact) if isinstance(model, Mapping) else None
        if gap:
            return Cause.KNOWLEDGE, f"the knowledge base leaves {fact} of {name} unverified: {gap}"
        return Cause.KNOWLEDGE, f"the knowledge base records no {fact} for {name or 'this model'}"
    if root == "param":
        param = document.get("param") or {}
        return Cause.INPUT, f"the contract gives no readable value for {param.get('name', 'the parameter')}"
    if root == "plan":
        plan = document.get("plan") or {}
        return Cause.INPUT, f"the plan leaves it open ({plan.get('unresolved_text', 'unresolved')})"
    if root == "probe":
        probe = document.get("probe") or {}
        return Cause.PROBE, f"the probe got no usable answer ({probe.get('evidence', 'no answer')})"
    if root in ("knowledge", "account") and path != "knowledge.compared":
        return Cause.KNOWLEDGE, "the knowledge base does not record it"
    return Cause.AZURE, "Azure did not report it"


def explain(
    paths: Iterable[str], document: Mapping[str, Any], causes: Mapping[str, tuple[Cause, str]]
) -> tuple[Cause, str]:
    """The cause to settle first and one line naming each missing fact and why it is missing."""
    found: list[tuple[Cause, str]] = []
    seen: set[str] = set()
    for path in paths:
        if path in seen or resolve(document, path) is not UNKNOWN:
            continue
        seen.add(path)
        parts = path.split(".")
        known = next(
            (causes[".".join(parts[:n])] for n in range(len(parts), 0, -1) if ".".join(parts[:n]) in causes), None
        )
        cause, why = known or _default(path, document)
        found.append((cause, f"{path} ({why})"))
    if not found:
        return Cause.AZURE, "not reported"
    first = min(found, key=lambda item: PRIORITY.index(item[0]))[0]
    return first, "; ".join(text for _, text in found)
