"""The precision corpus: apps and tenants the gate must judge right, table-driven.

Each scenario is a contract (what the app sends, written as the official samples write it, or broken the
way the seed guide and real user reports describe) and a tenant state (deployments, the region's live
catalog and quota, as ARM reports them) -> the exit code at the default gate (`--fail-on error`) and the
exact set of rule ids that fail, at any severity. Healthy apps must exit 0 with no unknown at or above the
gate; broken ones must fail exactly their rules. A false block is as bad as a missed failure: the summary
test prints the confusion matrix over the whole corpus.

Tenant states carry the live catalog's own deprecation dates (ARM's `deprecation.inference`), so the
corpus does not depend on the knowledge base's retirement table, which changes every month.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest

from auditor.gating.verdict import gate
from auditor.model.facts import (
    CatalogModel,
    CatalogSku,
    ContentFilterPolicy,
    ContractCall,
    Deployment,
    Facts,
    QuotaUsage,
    Region,
)
from auditor.model.results import Severity, Status
from auditor.pipeline.audit import audit
from tests.conftest import make_account, make_deployment

TODAY = date(2026, 12, 3)
LATER = date(2027, 10, 1)  # a catalog deprecation date well after today
RETIRED = date(2025, 11, 14)

# What the live catalog reports per model (capabilities as ARM's Models_List carries them).
_CHAT = {"chatCompletion": "true", "responses": "true"}
_CAPABILITIES = {
    "text-embedding-3-large": {"embeddings": "true"},
    "text-embedding-3-small": {"embeddings": "true"},
    "text-embedding-ada-002": {"embeddings": "true"},
    "gpt-5-pro": {"responses": "true"},
    "gpt-5-codex": {"responses": "true"},
}
_VERSIONS = {
    "gpt-4o": "2024-11-20",
    "gpt-4o-mini": "2024-07-18",
    "gpt-4.1": "2025-04-14",
    "gpt-4.1-mini": "2025-04-14",
    "gpt-4.1-nano": "2025-04-14",
    "o1": "2024-12-17",
    "o1-mini": "2024-09-12",
    "o3-mini": "2025-01-31",
    "o3": "2025-04-16",
    "o4-mini": "2025-04-16",
    "gpt-5": "2025-08-07",
    "gpt-5-mini": "2025-08-07",
    "gpt-5-nano": "2025-08-07",
    "gpt-5-pro": "2025-10-06",
    "gpt-5.1": "2025-11-13",
    "gpt-5-codex": "2025-09-15",
    "gpt-35-turbo": "0125",
    "text-embedding-3-large": "1",
    "text-embedding-3-small": "1",
    "text-embedding-ada-002": "2",
    "code-cushman-001": "1",
    "gpt-chat-latest": "2026-05-05",
    "gpt-5.3-chat": "2026-03-03",
    "gpt-4o-mini-2024-07-18.ft-0123456789abcdef": "1",
}
_CAPABILITIES["code-cushman-001"] = {"completion": "true", "search": "true", "inference": "true"}  # recorded westeurope
REGIONAL = {
    "endpoint": "https://eastus2.api.cognitive.microsoft.com/",
    "custom_subdomain": None,
    "disable_local_auth": None,
}
FINE_TUNE = "gpt-4o-mini-2024-07-18.ft-0123456789abcdef"
NO_CATALOG_DATE = {"inference_deprecation": None, "sku_date": None}  # the knowledge base's schedule decides
SOURCE = "/subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/acct"


@dataclass(frozen=True)
class Scenario:
    id: str
    healthy: bool
    deployments: tuple[tuple[str, str], ...]  # (deployment name, model)
    calls: tuple[tuple[str, str, dict[str, Any]], ...]  # (deployment name, api, parameters)
    fails: frozenset[str] = frozenset()
    exit: int = 0
    source: str = ""
    call_extra: dict[str, Any] = field(default_factory=dict)  # roles, min_context_tokens, tokens_per_minute
    not_offered: frozenset[str] = frozenset()  # models the region's catalog does not offer
    retired: frozenset[str] = frozenset()  # models whose catalog entry is past its deprecation date
    # Shapes read from recorded real traffic and published examples (tests/test_real_traffic.py): fields of every
    # deployment, of the account, of every catalog entry; fine-tunes listed in the account's own models list.
    deployment_extra: dict[str, Any] = field(default_factory=dict)
    account_extra: dict[str, Any] = field(default_factory=dict)
    catalog_extra: dict[str, Any] = field(default_factory=dict)
    account_models: bool = False


def _s(id: str, healthy: bool, deployments: Any, calls: Any, fails: Any = (), exit: int = 0, **kw: Any) -> Scenario:
    return Scenario(id, healthy, tuple(deployments), tuple(calls), frozenset(fails), exit, **kw)


MESSAGES = [{"role": "user", "content": "hi"}]
TOOLS = [{"type": "function", "function": {"name": "get_time", "parameters": {"type": "object"}}}]

# fmt: off
HEALTHY = [
    # MicrosoftDocs/azure-ai-docs how-to/chatgpt + streaming samples: client.chat.completions.create(..., stream=True)
    _s("gpt-4o streaming chat", True, [("chat", "gpt-4o")],
       [("chat", "chat_completions", {"messages": MESSAGES, "stream": True, "temperature": 0.7, "max_tokens": 800})]),
    # how-to/function-calling.md: tools, tool_choice auto, several calls in one turn
    _s("gpt-4.1 parallel tool calls", True, [("agent", "gpt-4.1")],
       [("agent", "chat_completions", {"messages": MESSAGES, "tools": TOOLS, "tool_choice": "auto",
                                       "parallel_tool_calls": True})]),
    _s("gpt-4o-mini JSON mode", True, [("mini", "gpt-4o-mini")],
       [("mini", "chat_completions", {"messages": MESSAGES, "response_format": {"type": "json_object"}})]),
    _s("gpt-4o structured outputs", True, [("chat", "gpt-4o")],
       [("chat", "chat_completions", {"messages": MESSAGES, "response_format": {"type": "json_schema"}})]),
    _s("gpt-4.1-mini streaming with usage", True, [("chat", "gpt-4.1-mini")],
       [("chat", "chat_completions", {"messages": MESSAGES, "stream": True, "stream_options": {"include_usage": True}})]),
    _s("gpt-4.1-nano deterministic sampling", True, [("cheap", "gpt-4.1-nano")],
       [("cheap", "chat_completions", {"messages": MESSAGES, "temperature": 0, "top_p": 1, "seed": 42})]),
    # how-to/embeddings: dimensions on text-embedding-3 models
    _s("text-embedding-3-large with dimensions", True, [("embed", "text-embedding-3-large")],
       [("embed", "embeddings", {"input": "hello", "dimensions": 1024})]),
    _s("text-embedding-3-small", True, [("embed-small", "text-embedding-3-small")],
       [("embed-small", "embeddings", {"input": ["a", "b"], "encoding_format": "float"})]),
    # how-to/reasoning: max_completion_tokens and reasoning_effort on Chat Completions
    _s("o4-mini with max_completion_tokens and reasoning_effort", True, [("reasoner", "o4-mini")],
       [("reasoner", "chat_completions", {"messages": MESSAGES, "max_completion_tokens": 5000,
                                          "reasoning_effort": "high"})]),
    _s("o3-mini with reasoning_effort medium", True, [("reasoner", "o3-mini")],
       [("reasoner", "chat_completions", {"messages": MESSAGES, "max_completion_tokens": 2000,
                                          "reasoning_effort": "medium"})]),
    _s("o4-mini with temperature at its default", True, [("reasoner", "o4-mini")],
       [("reasoner", "chat_completions", {"messages": MESSAGES, "temperature": 1})]),
    _s("gpt-5 Chat Completions with reasoning_effort minimal", True, [("gpt5", "gpt-5")],
       [("gpt5", "chat_completions", {"messages": MESSAGES, "max_completion_tokens": 4000,
                                      "reasoning_effort": "minimal"})]),
    # how-to/responses: responses.create(model=..., input=..., reasoning={"effort": ...}, max_output_tokens=...)
    _s("gpt-5 Responses with reasoning.effort", True, [("gpt5", "gpt-5")],
       [("gpt5", "responses", {"input": "hi", "reasoning": {"effort": "medium"}, "max_output_tokens": 2000})]),
    _s("gpt-5-mini Responses with store=false", True, [("gpt5-mini", "gpt-5-mini")],
       [("gpt5-mini", "responses", {"input": "hi", "reasoning": {"effort": "low"}, "store": False})]),
    _s("gpt-5-nano Responses with instructions", True, [("nano", "gpt-5-nano")],
       [("nano", "responses", {"input": "hi", "instructions": "Be brief.", "max_output_tokens": 500})]),
    _s("gpt-5-pro Responses in background with effort high", True, [("pro", "gpt-5-pro")],
       [("pro", "responses", {"input": "hi", "reasoning": {"effort": "high"}, "background": True})]),
    _s("gpt-5-codex Responses", True, [("codex", "gpt-5-codex")],
       [("codex", "responses", {"input": "fix it", "max_output_tokens": 2000})]),
    _s("gpt-4.1 Responses with tools and store=false", True, [("agent", "gpt-4.1")],
       [("agent", "responses", {"input": "hi", "tools": TOOLS, "store": False})]),
    _s("gpt-4o Responses chained with previous_response_id", True, [("chat", "gpt-4o")],
       [("chat", "responses", {"input": "and then?", "previous_response_id": "resp_1"})]),
    _s("o3 Responses with reasoning.effort high", True, [("o3", "o3")],
       [("o3", "responses", {"input": "hi", "reasoning": {"effort": "high"}, "max_output_tokens": 4000})],
       fails={"AOAI-ACCESS-001"}),  # info: o3 is limited access; a healthy app on it is still told
    _s("gpt-4o with a system prompt and a long context", True, [("chat", "gpt-4o")],
       [("chat", "chat_completions", {"messages": MESSAGES})],
       call_extra={"roles": ("system", "user"), "min_context_tokens": 100000, "tokens_per_minute": 5000}),
    _s("a chat app and an embeddings app on one account", True,
       [("chat", "gpt-4.1-mini"), ("embed", "text-embedding-3-small")],
       [("chat", "chat_completions", {"messages": MESSAGES, "stream": True}),
        ("embed", "embeddings", {"input": "hello"})]),
    # --- issue 25: what real Azure sends for healthy deployments ------------------------------------------------
    # recorded real deployments omit deploymentState while running, even at api-versions that define it
    _s("running deployment without deploymentState", True, [("chat", "gpt-4o")],
       [("chat", "chat_completions", {"messages": MESSAGES})], deployment_extra={"state": None}),
    # the recorded accounts: regional endpoint, no custom subdomain, keys (a warning: the gate passes)
    _s("regional-endpoint account called with a key", True, [("chat", "gpt-4o")],
       [("chat", "chat_completions", {"messages": MESSAGES})], {"AOAI-SEC-013"}, account_extra=REGIONAL),
    _s("deployment without versionUpgradeOption", True, [("chat", "gpt-4o")],
       [("chat", "chat_completions", {"messages": MESSAGES})], deployment_extra={"version_upgrade_option": None}),
    _s("fine-tuned deployment listed in the account's models", True, [("ft", FINE_TUNE)],
       [("ft", "chat_completions", {"messages": MESSAGES})],
       deployment_extra={"model_source": SOURCE, "sku_name": "Standard"}, account_models=True),
    _s("max_tokens at gpt-35-turbo's output limit", True, [("legacy", "gpt-35-turbo")],
       [("legacy", "chat_completions", {"messages": MESSAGES, "max_tokens": 4096})]),
    _s("text-embedding-3-large with dimensions at its maximum", True, [("embed", "text-embedding-3-large")],
       [("embed", "embeddings", {"input": "hello", "dimensions": 3072})]),
    _s("gpt-4o with top_logprobs 20 and temperature 2", True, [("chat", "gpt-4o")],
       [("chat", "chat_completions", {"messages": MESSAGES, "logprobs": True, "top_logprobs": 20, "temperature": 2})]),
    # --- issue 25, knowledge: a preview's scheduled date is "not sooner than" (MS-LC); the 2026-10-05 matrix still
    # offers gpt-chat-latest 2026-05-05, past its 2026-08-05
    _s("gpt-chat-latest preview past its not-sooner-than date", True, [("chat", "gpt-chat-latest")],
       [("chat", "chat_completions", {"messages": MESSAGES})], {"AOAI-LIFE-006"}, catalog_extra=NO_CATALOG_DATE),
]

BROKEN = [
    # Seed guide common error 1 / I-vanna-967: Chat Completions on a Responses-only model
    _s("Chat Completions on gpt-5-pro", False, [("pro", "gpt-5-pro")],
       [("pro", "chat_completions", {"messages": MESSAGES})], {"AOAI-API-001"}, 1),
    # I-graphrag-1557: chat on an embeddings deployment
    _s("Chat Completions on text-embedding-3-large", False, [("embed", "text-embedding-3-large")],
       [("embed", "chat_completions", {"messages": MESSAGES})], {"AOAI-API-001"}, 1),
    # The seed guide's own calling pattern: responses.create(messages=...)
    _s("messages= on the Responses API", False, [("agent", "gpt-4.1")],
       [("agent", "responses", {"messages": MESSAGES})], {"AOAI-API-003"}, 1),
    _s("reasoning_effort= on the Responses API", False, [("gpt5", "gpt-5")],
       [("gpt5", "responses", {"input": "hi", "reasoning_effort": "medium"})], {"AOAI-API-003"}, 1),
    _s("reasoning={effort} on Chat Completions", False, [("gpt5", "gpt-5")],
       [("gpt5", "chat_completions", {"messages": MESSAGES, "reasoning": {"effort": "low"}})], {"AOAI-API-004"}, 1),
    _s("max_output_tokens on Chat Completions", False, [("chat", "gpt-4o")],
       [("chat", "chat_completions", {"messages": MESSAGES, "max_output_tokens": 100})], {"AOAI-API-004"}, 1),
    # Seed common error 3, I-cline-2643: temperature on o1 / o3-mini
    _s("temperature on o1", False, [("o1", "o1")],
       [("o1", "chat_completions", {"messages": MESSAGES, "temperature": 0.7})], {"AOAI-PARAM-001"}, 1),
    _s("temperature on o3-mini", False, [("mini", "o3-mini")],
       [("mini", "chat_completions", {"messages": MESSAGES, "temperature": 1})], {"AOAI-PARAM-001"}, 1),
    # I-vscode-261278, I-obot-2862: only the default temperature on o3 / o4-mini / gpt-5
    _s("temperature 0.1 on o3", False, [("o3", "o3")],
       [("o3", "chat_completions", {"messages": MESSAGES, "temperature": 0.1})],
       {"AOAI-PARAM-001", "AOAI-ACCESS-001"}, 1),
    _s("temperature 0 on o4-mini", False, [("reasoner", "o4-mini")],
       [("reasoner", "chat_completions", {"messages": MESSAGES, "temperature": 0.0})], {"AOAI-PARAM-001"}, 1),
    _s("temperature 0.2 on gpt-5", False, [("gpt5", "gpt-5")],
       [("gpt5", "chat_completions", {"messages": MESSAGES, "temperature": 0.2})], {"AOAI-PARAM-001"}, 1),
    # I-OpenHands-11662, I-open-notebook-111: max_tokens on reasoning models
    _s("max_tokens on gpt-5", False, [("gpt5", "gpt-5")],
       [("gpt5", "chat_completions", {"messages": MESSAGES, "max_tokens": 1000})], {"AOAI-PARAM-001"}, 1),
    _s("max_tokens on o4-mini", False, [("reasoner", "o4-mini")],
       [("reasoner", "chat_completions", {"messages": MESSAGES, "max_tokens": 1000})], {"AOAI-PARAM-001"}, 1),
    _s("reasoning_effort on gpt-4o", False, [("chat", "gpt-4o")],
       [("chat", "chat_completions", {"messages": MESSAGES, "reasoning_effort": "low"})], {"AOAI-PARAM-004"}, 1),
    _s("reasoning.effort minimal on gpt-5-pro", False, [("pro", "gpt-5-pro")],
       [("pro", "responses", {"input": "hi", "reasoning": {"effort": "minimal"}})], {"AOAI-PARAM-004"}, 1),
    # I-lobehub-5885: o1-mini refuses the system role
    _s("system message to o1-mini", False, [("mini", "o1-mini")],
       [("mini", "chat_completions", {"messages": MESSAGES})], {"AOAI-PARAM-005"}, 1,
       call_extra={"roles": ("system", "user")}),
    # I-litellm-7693: stream=true on o1
    _s("stream=true on o1", False, [("o1", "o1")],
       [("o1", "chat_completions", {"messages": MESSAGES, "stream": True})], {"AOAI-PARAM-006"}, 1),
    # I-semantic-kernel-10365: parallel_tool_calls on o3-mini (a warning: the gate still passes)
    _s("parallel_tool_calls on o3-mini", False, [("mini", "o3-mini")],
       [("mini", "chat_completions", {"messages": MESSAGES, "tools": TOOLS, "parallel_tool_calls": True})],
       {"AOAI-PARAM-007"}, 0),
    _s("dimensions on text-embedding-ada-002", False, [("ada", "text-embedding-ada-002")],
       [("ada", "embeddings", {"input": "hello", "dimensions": 256})], {"AOAI-PARAM-001"}, 1),
    # Seed common error 2: the model name used as the deployment name (DeploymentNotFound)
    _s("model name used as deployment name", False, [("chat-prod", "gpt-4o")],
       [("gpt-4o", "chat_completions", {"messages": MESSAGES})], {"AOAI-DEPLOY-003"}, 1),
    _s("deployment that does not exist", False, [("chat-prod", "gpt-4o")],
       [("summarizer", "chat_completions", {"messages": MESSAGES})], {"AOAI-DEPLOY-004"}, 1),
    _s("retired version", False, [("legacy", "gpt-35-turbo")],
       [("legacy", "chat_completions", {"messages": MESSAGES})], {"AOAI-LIFE-001"}, 1, retired=frozenset({"gpt-35-turbo"})),
    _s("region does not offer the model", False, [("chat", "gpt-5.1")],
       [("chat", "chat_completions", {"messages": MESSAGES})], {"AOAI-REGION-001"}, 1,
       not_offered=frozenset({"gpt-5.1"})),
    _s("more tokens per minute than the deployment grants", False, [("chat", "gpt-4o")],
       [("chat", "chat_completions", {"messages": MESSAGES})], {"AOAI-QUOTA-002"}, 1,
       call_extra={"tokens_per_minute": 60000}),
    _s("context longer than the deployment's window", False, [("chat", "gpt-4o")],
       [("chat", "chat_completions", {"messages": MESSAGES})], {"AOAI-PARAM-003"}, 1,
       call_extra={"min_context_tokens": 200000}),
    # --- issue 25: shapes from recorded real traffic and published examples -------------------------------------
    _s("paused deployment", False, [("chat", "gpt-4o")],
       [("chat", "chat_completions", {"messages": MESSAGES})], {"AOAI-DEPLOY-006"}, 1,
       deployment_extra={"state": "Paused"}),
    # gpt-35-turbo 0125's recorded catalog entry: maxOutputToken 4096
    _s("max_tokens one above gpt-35-turbo's output limit", False, [("legacy", "gpt-35-turbo")],
       [("legacy", "chat_completions", {"messages": MESSAGES, "max_tokens": 4097})], {"AOAI-PARAM-011"}, 1),
    _s("dimensions above text-embedding-3-small's 1,536", False, [("embed", "text-embedding-3-small")],
       [("embed", "embeddings", {"input": "hello", "dimensions": 3072})], {"AOAI-PARAM-011"}, 1),
    _s("top_logprobs above 20", False, [("chat", "gpt-4o")],
       [("chat", "chat_completions", {"messages": MESSAGES, "logprobs": True, "top_logprobs": 25})],
       {"AOAI-PARAM-011"}, 1),
    _s("temperature above 2", False, [("chat", "gpt-4o")],
       [("chat", "chat_completions", {"messages": MESSAGES, "temperature": 2.5})], {"AOAI-PARAM-011"}, 1),
    _s("version listed with an empty SKU list", False, [("chat", "gpt-4o")],
       [("chat", "chat_completions", {"messages": MESSAGES})], {"AOAI-REGION-001"}, 1,
       catalog_extra={"skus": ()}),
    _s("2021 Manual-scale deployment of a version listed with no SKU", False, [("chat", "gpt-4o")],
       [("chat", "chat_completions", {"messages": MESSAGES})], {"AOAI-REGION-001"}, 1,
       deployment_extra={"sku_name": None, "scale_type": "Manual", "sku_capacity": 1}, catalog_extra={"skus": ()}),
    _s("version missing from the region's catalog", False, [("chat", "gpt-4o")],
       [("chat", "chat_completions", {"messages": MESSAGES})], {"AOAI-REGION-001"}, 1,
       catalog_extra={"version": "2024-08-06"}),
    # the recorded code-cushman-001 entry: completion + search, no chat key
    _s("Chat Completions on a legacy Completions model", False, [("cushman", "code-cushman-001")],
       [("cushman", "chat_completions", {"messages": MESSAGES})], {"AOAI-API-001"}, 1),
    _s("provisioned SKU retired before the model's tentative date", False, [("chat", "gpt-4o")],
       [("chat", "chat_completions", {"messages": MESSAGES})], {"AOAI-LIFE-001"}, 1,
       catalog_extra={"deprecation_tentative": True, "sku_date": RETIRED}),
    # the recorded gpt-35-turbo 0125 entry: replacementConfig gpt-4.1-mini 2025-04-14 from 2025-09-30
    _s("Azure moves the deployment to another model", False, [("chat", "gpt-4o")],
       [("chat", "chat_completions", {"messages": MESSAGES})], {"AOAI-LIFE-008"}, 0,
       catalog_extra={"replacement_name": "gpt-4.1-mini", "replacement_version": "2025-04-14",
                      "replacement_auto_upgrade_start": date(2027, 3, 1)}),
    # a preview Microsoft retired is marked Retired in the schedule (MS-T5: gpt-5.3-chat, 2026-06-29)
    _s("preview the schedule marks Retired", False, [("chat", "gpt-5.3-chat")],
       [("chat", "chat_completions", {"messages": MESSAGES})], {"AOAI-LIFE-001"}, 1, catalog_extra=NO_CATALOG_DATE),
]
# fmt: on

SCENARIOS = HEALTHY + BROKEN

KNOWLEDGE_UPKEEP = {"AOAI-API-010", "AOAI-PARAM-010", "AOAI-LIFE-010", "AOAI-LIFE-011"}
"""Info rules that judge the knowledge base against the live catalog, not the app: the corpus's catalog
dates are its own (see the module docstring), so they are left out of the expected sets."""
UPGRADE_IMPACT = {"AOAI-UPG-001", "AOAI-UPG-002", "AOAI-UPG-003"}
"""Rules about the model a deployment runs next (auditor/engine/upgrade.py; tests/test_upgrade.py has their cases):
the corpus judges today's calls, and its knowledge-base replacements (gpt-4o -> gpt-5.1 ...) are not its subject."""
SCHEDULE_NOTICES = {"AOAI-LIFE-007"}
"""The Legacy-stage notice (info) is about the model's place in the retirement schedule, not about the app."""


def tenant_state(scenario: Scenario) -> Facts:
    """The tenant as the enumerator would read it: deployments, the region's live catalog, quota usages."""
    account = make_account(**scenario.account_extra)
    deployments = tuple(  # deploymentState as api-version 2026-03-01 reports it
        make_deployment(name, model, _VERSIONS[model], **{"state": "Running", **scenario.deployment_extra})
        for name, model in scenario.deployments
    )
    entries = tuple(_entry(d, scenario) for d in deployments if d.model_name not in scenario.not_offered)
    catalog = tuple(e for e, d in zip(entries, deployments, strict=False) if not d.fine_tuned)
    usages = tuple(
        QuotaUsage(
            f"OpenAI.{d.sku_name or 'GlobalStandard'}.{d.model_name}",
            f"Tokens per Minute (thousands) - {d.model_name}",
            10,
            1000,
        )
        for d in deployments
    )
    contract = tuple(
        ContractCall(deployment=name, api=api, parameters=dict(params), **_extra(scenario))
        for name, api, params in scenario.calls
    )
    region = Region(account.subscription_id, account.location, catalog, usages)
    return Facts(
        accounts=(account,),
        deployments=deployments,
        regions=(region,),
        contract=contract,
        # raiPolicies.list returns the built-in policies too (type SystemManaged)
        content_filter_policies={
            account.id: (ContentFilterPolicy("Microsoft.DefaultV2", "SystemManaged", "Blocking", None),)
        },
        account_models={account.id: tuple(e for e in entries if ".ft-" in e.name)} if scenario.account_models else {},
    )


def _extra(scenario: Scenario) -> dict[str, Any]:
    extra = dict(scenario.call_extra)
    if "roles" in extra:
        extra["roles"] = tuple(extra["roles"])
    return extra


def _entry(deployment: Deployment, scenario: Scenario) -> CatalogModel:
    model = deployment.model_name or ""
    deprecation = RETIRED if model in scenario.retired else LATER
    extra = dict(scenario.catalog_extra)
    sku_date = extra.pop("sku_date", deprecation)
    sku = deployment.sku_name or "GlobalStandard"
    values: dict[str, Any] = {
        "kind": "OpenAI",
        "format": "OpenAI",
        "name": model,
        "version": deployment.model_version or "",
        "lifecycle_status": "GenerallyAvailable",
        "is_default_version": True,
        "inference_deprecation": deprecation,
        "capabilities": _CAPABILITIES.get(model, _CHAT),
        "skus": (CatalogSku(sku, f"OpenAI.{sku}.{model}", deprecation_date=sku_date),),
    }
    return CatalogModel(**{**values, **extra})


def judge(scenario: Scenario, rules, kb) -> tuple[int, set[str], list[str]]:
    """Exit code at the default gate, the failing rule ids, and the unknowns at or above the gate."""
    facts = tenant_state(scenario)
    report = audit(facts, rules, kb, today=TODAY)
    failing = (
        {f.rule_id for f in report.findings if f.status is Status.FAIL}
        - KNOWLEDGE_UPKEEP
        - UPGRADE_IMPACT
        - SCHEDULE_NOTICES
    )
    unknown = [
        f"{f.rule_id} {f.target_name}: {f.reason}"
        for f in report.findings
        if f.status is Status.UNKNOWN and f.severity.rank >= Severity.ERROR.rank
    ]
    return int(gate(report, "error")), failing, unknown


def test_the_corpus_is_large_and_balanced() -> None:
    assert len(SCENARIOS) >= 40
    assert len(HEALTHY) >= 20 and len(BROKEN) >= 20
    assert len({s.id for s in SCENARIOS}) == len(SCENARIOS)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.id for s in SCENARIOS])
def test_scenario(scenario: Scenario, rules, kb) -> None:
    code, failing, unknown = judge(scenario, rules, kb)
    assert failing == set(scenario.fails), f"expected exactly {sorted(scenario.fails)}, got {sorted(failing)}"
    assert code == scenario.exit, (code, unknown)
    if scenario.healthy:
        assert not unknown, "a healthy app must not leave anything at the gate undecided"


def test_confusion_matrix(rules, kb, capsys: pytest.CaptureFixture[str]) -> None:
    """Over the whole corpus: healthy apps blocked (false blocks) and broken apps passed or judged on the
    wrong rules (misses), printed as a confusion matrix."""
    counts = {"healthy passed": 0, "healthy blocked": 0, "broken caught exactly": 0, "broken missed": 0}
    wrong: list[str] = []
    for scenario in SCENARIOS:
        code, failing, unknown = judge(scenario, rules, kb)
        right = failing == set(scenario.fails) and code == scenario.exit
        if scenario.healthy:
            key = "healthy passed" if right and not unknown else "healthy blocked"
        else:
            key = "broken caught exactly" if right else "broken missed"
        counts[key] += 1
        if key in ("healthy blocked", "broken missed"):
            wrong.append(f"{scenario.id}: exit {code}, failing {sorted(failing)}, unknown {unknown}")
    with capsys.disabled():
        print(f"\nprecision corpus ({len(SCENARIOS)} scenarios, gate --fail-on error)")
        print(f"{'':15}{'judged right':>14}{'judged wrong':>14}")
        print(
            f"{'healthy apps':15}{counts['healthy passed']:>14}{counts['healthy blocked']:>14}   (wrong = false block)"
        )
        print(
            f"{'broken apps':15}{counts['broken caught exactly']:>14}{counts['broken missed']:>14}   (wrong = missed)"
        )
    assert not wrong, wrong


# End to end: the same judgement through the simulated tenant, the real SDK clients and the CLI.
E2E = [
    ("healthy streaming chat with tools", "api: chat_completions\n    parameters: {stream: true, temperature: 0.7, "
     "max_tokens: 800, tools: [], parallel_tool_calls: true}\n    tokens_per_minute: 20000", 0, set()),
    ("healthy Responses with store=false", "api: responses\n    parameters: {input: hi, store: false, "
     "max_output_tokens: 500}", 0, set()),
    # wrong API for the parameter, and gpt-4o takes no reasoning effort either way
    ("reasoning.effort on Chat Completions", "api: chat_completions\n    parameters: {reasoning: {effort: low}}", 1,
     {"AOAI-API-004", "AOAI-PARAM-004"}),
    ("reasoning_effort on gpt-4o", "api: chat_completions\n    parameters: {reasoning_effort: low}", 1,
     {"AOAI-PARAM-004"}),
]  # fmt: skip


@pytest.mark.parametrize("name,call,exit_code,fails", E2E, ids=[e[0] for e in E2E])
def test_end_to_end_through_the_simulator(
    name: str, call: str, exit_code: int, fails: set[str], tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from auditor.cli import main
    from auditor.demo.sim import SimulatedTenant, TenantSpec, default_tenant_data
    from tests.conftest import sign_in_to

    data = default_tenant_data()
    for sub in data["subscriptions"]:
        for group in sub["resourceGroups"]:
            for account in group["accounts"]:
                if account["name"] == "contoso-aoai-eus2":
                    account["deployments"] = [d for d in account["deployments"] if d["name"] == "chat-prod"]
    contract = tmp_path / "contract.yaml"
    contract.write_text(f"deployments:\n  chat-prod:\n    {call}\n")
    with SimulatedTenant(TenantSpec.from_mapping(data)) as running:
        sign_in_to(running, monkeypatch)
        code = main(
            ["--management-endpoint", running.management_url, "--out", str(tmp_path / "out"), "--quiet",
             "--resource", "contoso-aoai-eus2", "--contract", str(contract), "--format", "json"]
        )  # fmt: skip
    findings = json.loads((tmp_path / "out" / "report.json").read_text())["findings"]
    failing = {f["rule_id"] for f in findings if f["status"] == "fail" and f["severity"] == "error"}
    unknown = [f for f in findings if f["status"] == "unknown" and f["severity"] == "error"]
    assert (code, failing, unknown) == (exit_code, fails, [])
