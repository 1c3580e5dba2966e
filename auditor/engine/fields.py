"""The fields each kind of subject declares: what a rule may read. Rule files are checked against these
when they load, so a typo in a field path (`account.disable_local_authh`) is an input error naming the file,
line and path with a did-you-mean, instead of a rule that silently judges every subject on a value that is
always missing. tests/test_fields.py builds real subjects and checks their documents against the same
declarations, so the two cannot drift apart. A rule reading a new fact declares it here.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Mapping
from typing import Any

from auditor.knowledge.base import MODEL_FACTS

ANY = "*"
"""A value whose inside a rule may read freely (capabilities, parameter tables, notes keyed by fact)."""

Spec = Mapping[str, Any]  # name -> None (a value), ANY, or a nested Spec


def _leaves(*names: str) -> dict[str, Any]:
    return dict.fromkeys(names)


ACCOUNT = _leaves(
    "id", "name", "kind", "location", "subscription_id", "resource_group", "sku_name", "endpoint",
    "custom_subdomain", "provisioning_state", "disable_local_auth", "local_auth_enabled", "public_network_access",
    "network_default_action", "network_ip_rules", "private_endpoint_count", "identity_type", "has_managed_identity",
    "encryption_key_source", "restrict_outbound_network_access", "responses_api_region", "deployment_count",
    "allowed_fqdns", "network_bypass", "user_owned_storage", "tag_names",
) | {"private_endpoint_states": ANY, "tags": ANY}  # fmt: skip
DEPLOYMENT = {
    **_leaves(
        "exists", "id", "name", "model_format", "model_name", "model_version", "sku_name", "sku_capacity",
        "version_upgrade_option", "rai_policy_name", "provisioning_state", "tokens_per_minute", "state",
        "current_capacity", "dynamic_throttling_enabled", "parent_deployment_name", "scale_type",
        "spillover_deployment_name", "tag_names",
    ),
    "capabilities": ANY,
    "tags": ANY,
}  # fmt: skip
MODEL = {
    **_leaves(*MODEL_FACTS),
    **_leaves(
        "known", "name", "family", "kind", "responses_only", "rejected_parameters_text", "reasoning_effort_values",
        "gated_features", "version_known", "fine_tuned",
    ),
    "parameters": ANY,
    "reasoning_effort": ANY,
    "registration": _leaves("required", "link", "as_of"),
    "retirement": _leaves("date", "days_left", "replacement", "status"),
    "disputed": ANY,
    "gaps": ANY,
    "embeddings": ANY,  # {dimensions, max_inputs, max_input_tokens, output_dimensions} on embeddings models
}  # fmt: skip
CATALOG = {
    **_leaves(
        "model_offered", "version_offered", "sku_offered", "offered", "versions", "skus", "default_version", "default_versions",
        "is_default_version", "lifecycle_status", "deprecation_date", "days_to_deprecation", "usage_name",
        "replacement", "deprecation_tentative", "max_capacity", "replacement_auto_upgrade_start",
        "replacement_lead_time_days",
    ),
    "capabilities": ANY,
    "sku_capacity": _leaves("default", "maximum", "minimum", "step"),
}  # fmt: skip
LIFECYCLE = _leaves("retirement_date", "days_left", "source", "replacement", "status", "tentative", "schedule_stage")
USAGE = _leaves("name", "localized_name", "current", "limit", "available", "utilization", "percent")
CALL = _leaves(
    "deployment", "api", "parameters", "account", "min_context_tokens", "tokens_per_minute", "roles", "resolved",
    "expression", "why", "source", "legacy_sdk", "api_version", "dated_api_version", "inputs_per_call",
    "function_tools", "reasoning_effort",
)  # fmt: skip
PARAM = {
    **_leaves(
        "chat_only", "responses_only", "wrong_api", "other_api_name", "name", "effort", "support", "default",
        "use_instead",
    ),
    "value": ANY,  # what the app sends, a mapping for some parameters (reasoning, response_format)
}  # fmt: skip
PROBE = {**_leaves(
    "kind", "api", "api_name", "parameter", "setting", "outcome", "answered", "completed", "status_code",
    "error_code", "error_param", "message", "latency_ms", "attempts", "throttled", "retry_after", "rate_limit_text",
    "tokens", "auth", "label", "label_text", "called_by_app", "hint", "evidence", "kb_expected", "kb_disagreement",
), "value": ANY}  # fmt: skip
PLAN = _leaves(
    "name", "account", "account_found", "model_name", "model_version", "version_given", "sku_name", "sku_capacity",
    "registration_approved", "action", "format", "unresolved", "unresolved_text", "default_version_skus",
)  # fmt: skip
_HARMS = ("hate", "sexual", "violence", "selfharm")
CONTENT_FILTER = {
    **_leaves(
        "named", "found", "name", "type", "mode", "disabled_filters", "non_blocking_filters", "builtin",
        "asynchronous", "missing_prompt_shields", "missing_protected_material", "thresholds_text",
    ),
    "threshold_rank": _leaves(*_HARMS),
    "thresholds": _leaves(*_HARMS),
}  # fmt: skip
MONITOR = _leaves(
    "requested", "read", "settings", "names", "destinations", "logs", "audit_logs", "request_logs"
)  # fmt: skip
ACTIVITY = _leaves(
    "requested", "read", "days", "requests", "throttled", "throttled_percent", "provisioned", "peak_utilization"
)  # fmt: skip

_CALL_DOCUMENT = {
    "call": CALL,
    "suggestions": None,
    "suggestions_text": None,
    "deployment": DEPLOYMENT,
    "model": MODEL,
    "account": ACCOUNT,
    "catalog": CATALOG,
    "quota": USAGE,
    "lifecycle": LIFECYCLE,
}

_RESOLVED_CALL = {k: v for k, v in CALL.items() if k not in ("expression", "why")}

SUBJECT_FIELDS: Mapping[str, Spec] = {
    "account": {"account": ACCOUNT, "monitor": MONITOR},
    "knowledge_base": {"knowledge": _leaves("checked", "age_days", "models")},
    "deployment": {
        "account": ACCOUNT,
        "deployment": DEPLOYMENT,
        "model": MODEL,
        "catalog": CATALOG,
        "lifecycle": LIFECYCLE,
        "knowledge": {"disagreements": ANY, "compared": None, "checked": None},
        "quota": USAGE,
        "contract": _leaves("present", "file_given", "apis"),
        "content_filter": CONTENT_FILTER,
        "activity": ACTIVITY,
    },
    "quota_usage": {"usage": {**USAGE, "deployments": None}, "region": _leaves("subscription_id", "location")},
    "contract_call": _CALL_DOCUMENT,
    "contract_parameter": {**_CALL_DOCUMENT, "call": _RESOLVED_CALL, "param": PARAM},
    "probe": {"probe": PROBE, "account": ACCOUNT, "deployment": DEPLOYMENT, "model": MODEL},
    "planned_deployment": {
        "plan": PLAN,
        "account": ACCOUNT,
        "model": MODEL,
        "catalog": CATALOG,
        "lifecycle": LIFECYCLE,
        "quota": {**USAGE, "plan_total": None, "plan_deployments": None},
        "capacity": _leaves("bounded", "fits", "allowed", "problem"),
        "contract": _leaves("present", "apis", "unsupported_apis"),
    },
    "upgrade": {  # auditor/engine/upgrade.py: one call (or the deployment's callers) against the deployment's next model
        "deployment": _leaves("name", "model_name", "model_version", "version_upgrade_option"),
        "account": _leaves("name", "location"),
        "upgrade": _leaves("from", "to", "model_name", "model_version", "date", "when", "days_left", "source"),
        "call": _leaves("present", "source", "api", "breaks_text", "works_text"),
        "impact": _leaves("breaks", "breaks_text", "affected", "remediation_text", "unknown_text"),
    },
}


def _paths(spec: Spec, prefix: str = "") -> Iterator[str]:
    for name, inner in spec.items():
        path = f"{prefix}{name}"
        yield path
        if isinstance(inner, Mapping):
            yield from _paths(inner, path + ".")


def declared(kind: str, path: str) -> bool:
    """Whether subjects of `kind` declare `path` (a dotted field path)."""
    node: Any = SUBJECT_FIELDS.get(kind)
    for part in path.split("."):
        if node is ANY:
            return True
        if not isinstance(node, Mapping) or part not in node:
            return False
        node = node[part]
    return True


def suggestion(kind: str, path: str) -> str | None:
    """The declared path closest to a mistyped one."""
    spec = SUBJECT_FIELDS.get(kind)
    if spec is None:
        return None
    close = difflib.get_close_matches(path, list(_paths(spec)), n=1, cutoff=0.6)
    return close[0] if close else None


_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)\}")


def condition_paths(condition: Any) -> Iterator[str]:
    """Every field path a condition reads, its `{field: ...}` operands included."""
    if not isinstance(condition, Mapping):
        return
    for key in ("allOf", "anyOf"):
        for child in condition.get(key) or ():
            yield from condition_paths(child)
    if "not" in condition:
        yield from condition_paths(condition["not"])
    if "field" in condition:
        yield str(condition["field"])
        for value in condition.values():
            if isinstance(value, Mapping) and set(value) == {"field"}:
                yield str(value["field"])


def template_paths(text: str | None) -> Iterator[str]:
    """The field paths a message template fills in."""
    yield from (path for path in _PLACEHOLDER.findall(text or "") if path)  # `{{` is a literal brace
