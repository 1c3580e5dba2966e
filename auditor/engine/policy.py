"""An organisation's own policy (`audit --policy FILE`): what it allows for models, deployment types, regions,
account settings, content filtering, tags, names and provisioned deployments. Each statement is compiled into an
ordinary rule (category `policy`) in the same condition grammar as the built-in rules, so the engine, waivers,
reports and the gate treat it like any other check. The file is validated against
auditor/schemas/policy.schema.json; any problem names the file and line.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from auditor.engine.compliance import SEVERITY_RANK
from auditor.engine.evaluate import escape_template
from auditor.engine.rules import Rule
from auditor.model.enums import Category
from auditor.model.errors import InputError
from auditor.model.results import Severity
from auditor.util import saferegex
from auditor.util.inputschema import check
from auditor.util.yamlfile import LineDict, line_of, load_yaml

DOCS = "README.md#organisation-policy"
SINCE = "2026.12"
_SHIELDS = {"jailbreak": "Jailbreak", "indirect_attack": "Indirect Attack"}
_MATERIAL = {"text": "Protected Material Text", "code": "Protected Material Code"}


@dataclass(frozen=True)
class Policy:
    """A validated policy document and where it came from."""

    path: Path
    document: Mapping[str, Any]
    name: str = "organisation policy"
    lines: Mapping[str, int] = field(default_factory=dict)

    @property
    def literal(self) -> str:
        """The policy's name as literal text in a message template (`{account.name}` in it is not filled in)."""
        return escape_template(self.name)

    @property
    def needs_monitor(self) -> bool:
        """Whether a statement can only be decided from Azure Monitor (diagnostic settings)."""
        return "diagnostic_logs" in (self.document["policy"].get("accounts") or {})

    def rules(self) -> list[Rule]:
        """Every statement as a rule; ids are stable (POLICY-<AREA>-NNN) so waivers and baselines can name them."""
        return list(_compile(self))


def load_policy(path: Path | str) -> Policy:
    """Parse and validate a policy file; a malformed one is an InputError naming file and line."""
    path = Path(path)
    document = load_yaml(path, what="policy")
    check(document, "policy.schema.json", path, what="policy")
    naming = document["policy"].get("naming") or {}
    for kind in ("accounts", "deployments"):
        if kind in naming:
            try:  # validated exactly as the rule evaluates it: anchored, on RE2
                saferegex.compile_bounded(f"^(?:{naming[kind]})$")
            except saferegex.PatternError as exc:
                line = line_of(document, ("policy", "naming", kind))
                raise InputError(
                    f"{path}:{line}: invalid policy: naming/{kind}: not a regular expression ({exc})"
                ) from None
    lines: dict[str, int] = {}
    policy_block = document["policy"]
    if isinstance(policy_block, LineDict):
        lines = {str(k): int(v) for k, v in policy_block.key_lines.items()}
    return Policy(path=path, document=document, name=str(document.get("name") or "organisation policy"), lines=lines)


def _lit(items: Sequence[str]) -> str:
    """Policy data (names, patterns, tag names) as literal text in a message template: never filled in."""
    return escape_template(", ".join(items))


def _model_match(pattern: str) -> dict[str, Any]:
    name, _, version = pattern.partition(":")
    leaves: list[dict[str, Any]] = [{"field": "deployment.model_name", "like": name}]
    if version:
        leaves.append({"field": "deployment.model_version", "like": version})
    return leaves[0] if len(leaves) == 1 else {"allOf": leaves}


def _compile(policy: Policy) -> Iterator[Rule]:
    body = policy.document["policy"]
    default = policy.document.get("severity", "error")

    def rule(area: str, number: int, statement: Mapping[str, Any], **fields: Any) -> Rule:
        source = statement.get("source")
        line = policy.lines.get(area, 1)
        return Rule(
            id=f"POLICY-{area.upper().replace('_', '-')}-{number:03d}",
            category=Category.POLICY,
            severity=Severity(statement.get("severity", default)),
            docs=DOCS,
            since=SINCE,
            rationale=f"{policy.name} requires it ({policy.path}:{line}).",
            references=(source,) if source else (),
            labels={"policy": policy.name, "policy_source": f"{policy.path}:{line}"},
            source=f"{policy.path}:{line}",
            **fields,
        )

    models = body.get("models")
    if models and models.get("allowed"):
        allowed = list(models["allowed"])
        yield rule(
            "models",
            1,
            models,
            title="The deployed model is not on the organisation's allowed list",
            applies_to="deployment",
            fails_when={"not": {"anyOf": [_model_match(p) for p in allowed]}},
            message="{account.name}/{deployment.name} runs {deployment.model_name} {deployment.model_version}, "
            f"which {policy.literal} does not allow (allowed: {_lit(allowed)}).",
            pass_message="{deployment.model_name} {deployment.model_version} is on the allowed list.",
            remediation="Redeploy with an allowed model and version, or get the model added to the policy.",
        )
    if models and models.get("denied"):
        denied = list(models["denied"])
        yield rule(
            "models",
            2,
            models,
            title="The deployed model is on the organisation's deny list",
            applies_to="deployment",
            fails_when={"anyOf": [_model_match(p) for p in denied]},
            message="{account.name}/{deployment.name} runs {deployment.model_name} {deployment.model_version}, "
            f"which {policy.literal} denies ({_lit(denied)}).",
            pass_message="{deployment.model_name} {deployment.model_version} is not denied.",
            remediation="Replace the deployment with an allowed model and delete this one.",
        )
    for area, number, subject, path, what in (
        ("deployment_types", 1, "deployment", "deployment.sku_name", "deployment type"),
        ("regions", 1, "account", "account.location", "region"),
    ):
        statement = body.get(area)
        if not statement:
            continue
        allowed = [_norm(a) if area == "regions" else a for a in statement["allowed"]]
        yield rule(
            area,
            number,
            statement,
            title=f"The {what} is not one the organisation allows",
            applies_to=subject,
            fails_when={"field": path, "notIn": allowed},
            message=("{account.name}/{deployment.name}" if subject == "deployment" else "{account.name}")
            + f" uses {what} {{{path}}}; {policy.literal} allows {_lit(allowed)}.",
            pass_message=f"The {what} {{{path}}} is allowed.",
            remediation=f"Move the {subject} to an allowed {what} ({_lit(allowed)}).",
        )
    yield from _account_rules(policy, body.get("accounts") or {}, rule)
    yield from _filter_rules(policy, body.get("content_filtering") or {}, rule)
    yield from _tag_and_name_rules(policy, body, rule)
    provisioned = body.get("provisioned") or {}
    if provisioned.get("spillover") == "required":
        yield rule(
            "provisioned",
            1,
            provisioned,
            title="A provisioned deployment names no spillover deployment",
            applies_to="deployment",
            where={"field": "deployment.sku_name", "like": "*provisioned*"},
            fails_when={"field": "deployment.spillover_deployment_name", "exists": False},
            message="Provisioned deployment {account.name}/{deployment.name} ({deployment.sku_name}) names no "
            "spillover deployment: traffic over its provisioned throughput is refused with 429 instead of "
            f"overflowing to a standard deployment ({policy.literal}).",
            pass_message="{deployment.name} spills over to {deployment.spillover_deployment_name}.",
            remediation="Set properties.spilloverDeploymentName to a Standard or GlobalStandard deployment of the "
            "same model in the account.",
        )


_ACCOUNT_STATEMENTS: Mapping[tuple[str, str], tuple[str, dict[str, Any], str, str]] = {
    ("local_auth", "disabled"): (
        "Key (local) authentication is enabled where the organisation forbids it",
        {"field": "account.local_auth_enabled", "equals": True},
        "{account.name} accepts API keys (disableLocalAuth is not true).",
        "Set properties.disableLocalAuth to true and use Entra ID.",
    ),
    ("public_network", "disabled"): (
        "Public network access is not disabled",
        {"field": "account.public_network_access", "notEquals": "Disabled"},
        "{account.name} has publicNetworkAccess {account.public_network_access}; the policy requires Disabled.",
        "Set properties.publicNetworkAccess to Disabled and reach the account through a private endpoint.",
    ),
    ("public_network", "restricted"): (
        "Public network access is neither disabled nor restricted by a firewall",
        {
            "allOf": [
                {"field": "account.public_network_access", "notEquals": "Disabled"},
                {"field": "account.network_default_action", "notEquals": "Deny"},
            ]
        },
        "{account.name} is open to every network (publicNetworkAccess {account.public_network_access}, "
        "default action {account.network_default_action}).",
        "Disable public network access, or set networkAcls.defaultAction to Deny with explicit rules.",
    ),
    ("private_endpoint", "approved"): (
        "The account has no approved private endpoint",
        {"field": "account.private_endpoint_count", "equals": 0},
        "{account.name} has no private endpoint connection in state Approved.",
        "Create a private endpoint to the account and approve its connection.",
    ),
    ("customer_managed_keys", "required"): (
        "Data at rest is not encrypted with a customer-managed key",
        {"field": "account.encryption_key_source", "notEquals": "Microsoft.KeyVault"},
        "{account.name} uses key source {account.encryption_key_source}; the policy requires Microsoft.KeyVault.",
        "Configure encryption with a key in Azure Key Vault (keySource Microsoft.KeyVault).",
    ),
    ("managed_identity", "required"): (
        "The account has no managed identity",
        {"field": "account.has_managed_identity", "equals": False},
        "{account.name} has no managed identity (identity type {account.identity_type}).",
        "Enable a system-assigned or user-assigned managed identity.",
    ),
    ("diagnostic_logs", "audit"): (
        "The account does not send its audit logs anywhere",
        {"field": "monitor.audit_logs", "equals": False},
        "{account.name} has no diagnostic setting sending Audit logs (settings: {monitor.names}).",
        "Add a diagnostic setting that sends the Audit category (or allLogs) to a Log Analytics workspace, "
        "storage account or event hub.",
    ),
    ("diagnostic_logs", "audit_and_requests"): (
        "The account does not send its audit and request logs anywhere",
        {
            "anyOf": [
                {"field": "monitor.audit_logs", "equals": False},
                {"field": "monitor.request_logs", "equals": False},
            ]
        },
        "{account.name} does not send both Audit and RequestResponse logs (categories sent: {monitor.logs}).",
        "Add a diagnostic setting with the Audit and RequestResponse categories (or allLogs) and a destination.",
    ),
}


def _account_rules(policy: Policy, accounts: Mapping[str, Any], rule: Any) -> Iterator[Rule]:
    number = 0
    for key in ("local_auth", "public_network", "private_endpoint", "customer_managed_keys", "managed_identity"):
        number += 1
        if key not in accounts:
            continue
        title, condition, message, remediation = _ACCOUNT_STATEMENTS[(key, accounts[key])]
        yield rule(
            "accounts",
            number,
            accounts,
            title=title,
            applies_to="account",
            fails_when=condition,
            message=f"{message} ({policy.literal})",
            pass_message="{account.name} meets the policy.",
            remediation=remediation,
        )
    if "diagnostic_logs" in accounts:
        title, condition, message, remediation = _ACCOUNT_STATEMENTS[("diagnostic_logs", accounts["diagnostic_logs"])]
        yield rule(
            "accounts",
            6,
            accounts,
            title=title,
            applies_to="account",
            fails_when=condition,
            message=f"{message} ({policy.literal})",
            pass_message="{account.name} sends its logs to: {monitor.destinations}.",
            remediation=remediation,
        )


def _filter_rules(policy: Policy, filtering: Mapping[str, Any], rule: Any) -> Iterator[Rule]:
    applies = {"field": "content_filter.found", "equals": True}
    thresholds = filtering.get("severity_thresholds") or {}
    if thresholds:
        wanted = ", ".join(f"{c} {t} or stricter" for c, t in sorted(thresholds.items()))
        yield rule(
            "content_filtering",
            1,
            filtering,
            title="The content filter is less strict than the organisation requires",
            applies_to="deployment",
            where=applies,
            fails_when={
                "anyOf": [
                    {"field": f"content_filter.threshold_rank.{category}", "greater": SEVERITY_RANK[level.lower()]}
                    for category, level in sorted(thresholds.items())
                ]
            },
            message="Content filter {content_filter.name} on {account.name}/{deployment.name} filters at "
            f"{{content_filter.thresholds_text}}; {policy.literal} requires {_lit([wanted])}.",
            pass_message="{content_filter.name} filters at {content_filter.thresholds_text}.",
            remediation="Lower the severity thresholds (and turn the filters on and blocking) in the policy, or "
            "assign a policy that meets them.",
        )
    for number, key, labels, what in (
        (2, "prompt_shields", _SHIELDS, "content_filter.missing_prompt_shields"),
        (3, "protected_material", _MATERIAL, "content_filter.missing_protected_material"),
    ):
        if key not in filtering:
            continue
        required = [labels[item] for item in filtering[key]]
        yield rule(
            "content_filtering",
            number,
            filtering,
            title="A required prompt shield is missing or not blocking"
            if key == "prompt_shields"
            else "A required protected-material filter is missing or not blocking",
            applies_to="deployment",
            where=applies,
            fails_when={"field": what, "containsAny": required},
            message="Content filter {content_filter.name} on {account.name}/{deployment.name} does not block with "
            f"{{{what}}}; {policy.literal} requires {_lit(required)}.",
            pass_message=f"{{content_filter.name}} blocks with {_lit(required)}.",
            remediation=f"Turn on {_lit(required)} in blocking mode in the deployment's content filter policy.",
        )
    if filtering.get("asynchronous_filter") == "forbidden":
        yield rule(
            "content_filtering",
            4,
            filtering,
            title="The content filter runs asynchronously",
            applies_to="deployment",
            where=applies,
            fails_when={"field": "content_filter.asynchronous", "equals": True},
            message="Content filter {content_filter.name} on {account.name}/{deployment.name} uses mode "
            f"Asynchronous_filter: completions stream before the filters run ({policy.literal} forbids it).",
            pass_message="{content_filter.name} filters before content is returned.",
            remediation="Set the content filter policy's mode to Blocking (or Default).",
        )


def _tag_and_name_rules(policy: Policy, body: Mapping[str, Any], rule: Any) -> Iterator[Rule]:
    tags = body.get("tags") or {}
    for number, kind, path in ((1, "accounts", "account"), (2, "deployments", "deployment")):
        names: Sequence[str] = tags.get(kind) or ()
        if not names:
            continue
        label = "{account.name}" if kind == "accounts" else "{account.name}/{deployment.name}"
        yield rule(
            "tags",
            number,
            tags,
            title=f"A required tag is missing on the {path}",
            applies_to=path,
            fails_when={"anyOf": [{"field": f"{path}.tags", "notContains": name} for name in names]},
            message=f"{label} lacks a tag {policy.literal} requires ({_lit(names)}); it has: {{{path}.tag_names}}.",
            pass_message=f"{label} has every required tag.",
            remediation=f"Add the tags {_lit(names)} to the {path}.",
        )
    naming = body.get("naming") or {}
    for number, kind, path in ((1, "accounts", "account"), (2, "deployments", "deployment")):
        if kind not in naming:
            continue
        pattern = naming[kind]
        yield rule(
            "naming",
            number,
            naming,
            title=f"The {path} name does not follow the naming convention",
            applies_to=path,
            fails_when={"field": f"{path}.name", "notMatch": f"^(?:{pattern})$"},
            message=f"{{{path}.name}} does not match {policy.literal}'s naming convention for {kind} ({_lit([pattern])}).",
            pass_message=f"{{{path}.name}} follows the naming convention.",
            remediation=f"Name {kind} to match {_lit([pattern])} (a rename means a new resource: plan the move).",
        )


def _norm(location: str) -> str:
    return "".join(location.split()).lower()
