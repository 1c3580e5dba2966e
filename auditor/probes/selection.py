"""Which probes to send, decided from the facts alone. Pure: no I/O, so the choice is testable.

Per deployment: the APIs the contract says the app calls (Chat Completions and/or Responses), or both
when no contract names the deployment; then one call per contract parameter the knowledge base doubts
(rejected, or only its default accepted) with the value the app sends. Deployments that are not
Succeeded, and embeddings-only models, are not probed (noted, not guessed). Contract deployment names
that do not exist are probed once on the app's account(s) to confirm DeploymentNotFound on the wire.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from auditor.knowledge.base import KnowledgeBase, model_view
from auditor.model.clouds import Cloud
from auditor.model.facts import Account, ContractCall, Deployment, Facts
from auditor.model.unknown import UNKNOWN
from auditor.probes import AuthCheck, ProbeOptions

PROBED_APIS = ("chat_completions", "responses")
PROMPT = "ping"
"""The whole input of every probe: one neutral word, never user data."""

# Parameters a probe can send on their own, and the value to send when the contract gives none.
_SAMPLE_VALUES: Mapping[str, Any] = {
    "temperature": 0.5,
    "top_p": 0.5,
    "presence_penalty": 0.0,
    "frequency_penalty": 0.0,
    "seed": 1,
    "logprobs": True,
    "logit_bias": {},
    "reasoning_effort": "low",
    "max_tokens": 16,
    "max_completion_tokens": 16,
}
TOKEN_LIMIT_PARAMETERS = ("max_tokens", "max_completion_tokens", "max_output_tokens")
_RESPONSES_PARAMETERS = ("temperature", "top_p", "reasoning_effort")
_DOUBTED = ("rejected", "default_only")


@dataclass(frozen=True)
class PlannedProbe:
    """One probe to send. `api_key` is the only secret and is never printed."""

    account: Account
    deployment: str
    api: str
    deployment_id: str | None = None
    parameter: str | None = None
    value: Any = None
    called_by_app: bool = False
    reasoning: bool | None = None
    label: str | None = None
    api_key: str | None = field(default=None, repr=False)
    token_scope: str | None = None

    @property
    def auth(self) -> str:
        return "key" if self.api_key else "entra"

    @property
    def group(self) -> tuple[str, str]:
        """The deployment a probe is about (the runner keeps each API's probes of it in order)."""
        return (self.account.id.lower(), self.deployment.lower())


def data_plane_base(account: Account) -> str | None:
    """The v1 base URL of an account, from the endpoint ARM reports (`{endpoint}openai/v1/`)."""
    if not account.endpoint:
        return None
    return account.endpoint.rstrip("/") + "/openai/v1/"


def endpoint_refusal(base_url: str, cloud: Cloud, allowed: Iterable[str]) -> str | None:
    """Why credentials must not be sent to this URL, or None when its host is a data-plane host of the
    cloud (or explicitly allowed). Tokens and keys never go anywhere else."""
    if any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in base_url):
        # urlsplit silently drops a TAB or newline (WHATWG), httpx then refuses the URL: refuse it first
        return f"the endpoint {base_url!r} holds whitespace or control characters: not a URL, nothing sent"
    parts = urlsplit(base_url)
    host = (parts.hostname or "").lower()
    if parts.scheme != "https":
        return f"the endpoint {base_url} is not HTTPS: no credential is sent over plain HTTP"
    if host in {a.strip().lower() for a in allowed}:
        return None
    if any(host == d or host.endswith("." + d) for d in cloud.data_plane_domains) or cloud.is_regional(host):
        return None
    return (
        f"the endpoint host {host} is not under the {cloud.name} data-plane domains "
        f"({', '.join(cloud.data_plane_domains)}) nor a regional endpoint (REGION.{cloud.regional_domain}), so no "
        "token or key was sent to it "
        f"(allow it with --allow-endpoint {host} if it is yours)"
    )


def _known_apis(kb: KnowledgeBase, deployment: Deployment, today: date) -> list[str] | None:
    """The APIs the knowledge base says the model serves, or None when it does not say."""
    apis = model_view(kb, deployment.model_name, deployment.model_version, deployment.sku_name, today).get("apis")
    return apis if isinstance(apis, list) else None


def _apis(kb: KnowledgeBase, facts: Facts, account: Account, deployment: Deployment, today: date) -> Any:
    """The APIs the model serves: the knowledge base, else the live catalog's capabilities, else UNKNOWN."""
    known = _known_apis(kb, deployment, today)
    if known is not None:
        return known
    region = facts.region_of(account)
    for entry in (region.catalog or ()) if region else ():
        if entry.name == deployment.model_name and entry.version == deployment.model_version:
            caps = {k: str(v).lower() for k, v in entry.capabilities.items()}
            named = {"chatCompletion": "chat_completions", "responses": "responses", "embeddings": "embeddings"}
            return sorted(api for cap, api in named.items() if caps.get(cap.lower()) == "true")
    return UNKNOWN


def needs_catalog(facts: Facts, kb: KnowledgeBase, today: date, account: Account) -> bool:
    """Whether planning this account's probes reads its region's model catalog: only for a deployment whose
    APIs the knowledge base does not know (see _apis). Otherwise the plan is the same with or without it."""
    return any(_known_apis(kb, d, today) is None for d in facts.deployments if d.account_id == account.id)


def _doubted(kb: KnowledgeBase, deployment: Deployment | None, api: str, name: str, value: Any, today: date) -> bool:
    """Whether the knowledge base doubts that this parameter (with this value) is accepted."""
    if deployment is None or name not in _SAMPLE_VALUES or value is UNKNOWN:
        return False
    if api == "responses" and name not in _RESPONSES_PARAMETERS:
        return False
    view = model_view(kb, deployment.model_name, deployment.model_version, deployment.sku_name, today)
    table = view.get("parameters")
    if not isinstance(table, Mapping):
        return table is UNKNOWN  # the knowledge base does not know: let Azure answer

    spec = table.get(name) or {}
    support = spec.get("support")
    if support not in _DOUBTED:
        return False
    if support == "default_only":
        return value is not None and value != spec.get("default")
    return True


def _calls_by_deployment(contract: tuple[ContractCall, ...] | None) -> dict[str, list[ContractCall]]:
    calls: dict[str, list[ContractCall]] = {}
    for call in contract or ():
        calls.setdefault(call.deployment, []).append(call)
    return calls


def account_probes(
    facts: Facts, kb: KnowledgeBase, today: date, options: ProbeOptions, account: Account
) -> tuple[list[PlannedProbe], list[str]]:
    """One account's probes (its deployments', then its auth checks), and what was deliberately not probed
    and why. Needs only the account, its deployments, its region and the contract, so a run can start
    probing an account while others are still being read."""
    probes: list[PlannedProbe] = []
    not_probed: list[str] = []
    key = options.api_key
    contract = _calls_by_deployment(facts.contract)
    target: PlannedProbe | None = None  # the first probeable API probe, for the auth checks
    mine = sorted((d for d in facts.deployments if d.account_id == account.id), key=lambda d: d.name.lower())
    for deployment in mine:
        where = f"{account.name}/{deployment.name}"
        if (deployment.provisioning_state or "") != "Succeeded":
            not_probed.append(f"{where}: provisioningState {deployment.provisioning_state}, not Succeeded")
            continue
        apis = _apis(kb, facts, account, deployment, today)
        if isinstance(apis, list) and apis and not set(apis) & {"chat_completions", "responses", "completions"}:
            not_probed.append(f"{where}: {deployment.model_name} serves only {', '.join(apis)} (not probed)")
            continue
        calls = [c for c in contract.get(deployment.name, ()) if c.account in (None, account.name)]
        called = sorted({c.api for c in calls} & set(PROBED_APIS))
        if calls and not called:
            not_probed.append(
                f"{where}: the contract calls it only through {', '.join(sorted({c.api for c in calls}))}"
            )
            continue
        reasoning = _reasoning(kb, deployment, today)
        for api in called or PROBED_APIS:
            probe = PlannedProbe(
                account,
                deployment.name,
                api,
                deployment.id,
                called_by_app=bool(called),
                reasoning=reasoning,
                api_key=key,
            )
            probes.append(probe)
            target = target or probe
        seen: set[tuple[str, str, str]] = set()
        for call in calls:
            if call.api not in PROBED_APIS:
                continue
            for name, value in sorted(call.parameters.items()):
                if not _doubted(kb, deployment, call.api, name, value, today):
                    continue
                # No value in the contract: a parameter rejected outright is probed with a sample value.
                sent = _SAMPLE_VALUES.get(name) if value is None else value
                if name in TOKEN_LIMIT_PARAMETERS:
                    sent = 16
                marker = (call.api, name, repr(sent))
                if marker in seen:
                    continue
                seen.add(marker)
                probes.append(
                    PlannedProbe(
                        account,
                        deployment.name,
                        call.api,
                        deployment.id,
                        name,
                        sent,
                        called_by_app=True,
                        reasoning=reasoning,
                        api_key=key,
                    )
                )
    probes.extend(_auth_check_probes(options.auth_checks, account, target))
    return probes, not_probed


def select_probes(
    facts: Facts, kb: KnowledgeBase, today: date, options: ProbeOptions
) -> tuple[list[PlannedProbe], list[str]]:
    """The probes to send, in order (app-critical first), and what was deliberately not probed and why."""
    probes: list[PlannedProbe] = []
    not_probed: list[str] = []
    for account in sorted(facts.accounts, key=probe_order):
        more, skipped = account_probes(facts, kb, today, options, account)
        probes.extend(more)
        not_probed.extend(skipped)
    probes.extend(missing_deployment_probes(facts, options.api_key))
    return probes, not_probed


def probe_order(account: Account) -> str:
    """Accounts are probed in this order (then deployments by name): the order the budget is spent in."""
    return account.id.lower()


def _reasoning(kb: KnowledgeBase, deployment: Deployment, today: date) -> bool | None:
    value = model_view(kb, deployment.model_name, deployment.model_version, deployment.sku_name, today).get("reasoning")
    return value if isinstance(value, bool) else None


def missing_deployment_probes(facts: Facts, key: str | None) -> list[PlannedProbe]:
    """Contract names with no deployment: one call on the app's account(s) shows what Azure answers.
    Needs every account's deployments, so these go last."""
    accounts = sorted(facts.accounts, key=probe_order)
    names = {a.id: a.name for a in accounts}
    by_name: dict[str, list[Deployment]] = {}
    for d in facts.deployments:
        by_name.setdefault(d.name, []).append(d)
    app_accounts = {
        d.account_id
        for c in facts.contract or ()
        for d in by_name.get(c.deployment, ())
        if c.account in (None, names.get(d.account_id))
    }
    probes: list[PlannedProbe] = []
    seen: set[tuple[str, str, str]] = set()
    for call in facts.contract or ():
        if call.api not in PROBED_APIS or call.deployment in by_name:
            continue
        targets = [
            a
            for a in accounts
            if (call.account is None or a.name == call.account)
            and (call.account is not None or not app_accounts or a.id in app_accounts)
        ]
        for account in targets:
            marker = (account.id, call.deployment, call.api)
            if marker in seen:
                continue
            seen.add(marker)
            probes.append(PlannedProbe(account, call.deployment, call.api, None, called_by_app=True, api_key=key))
    return probes


def _auth_check_probes(
    checks: tuple[AuthCheck, ...], account: Account, target: PlannedProbe | None
) -> list[PlannedProbe]:
    if target is None:
        return []
    return [
        PlannedProbe(
            account,
            target.deployment,
            target.api,
            target.deployment_id,
            reasoning=target.reasoning,
            label=check.label,
            api_key=check.api_key,
            token_scope=check.token_scope,
        )
        for check in checks
        if not check.accounts or account.name in check.accounts
    ]
