"""Model configurations given as data, recorded as calls on the deployment they name:

- AutoGen component configs: `ChatCompletionClient.load_component({"provider": "...AzureOpenAIChatCompletionClient",
  "config": {"azure_deployment": ..., "model": ..., "api_version": ..., "temperature": ...}})`
  (microsoft/autogen python/packages/autogen-core/src/autogen_core/_component_config.py `load_component`;
  autogen-ext models/openai/_openai_client.py: the config's create args are sent with every request);
- azure-ai-evaluation and promptflow model configurations: `AzureOpenAIModelConfiguration(azure_deployment=...,
  api_version=...)` (Azure/azure-sdk-for-python sdk/evaluation/azure-ai-evaluation/azure/ai/evaluation/_model_configurations.py,
  a TypedDict with azure_endpoint, azure_deployment, api_version, api_key), and the same keys given as a dict
  literal to an evaluator (`RelevanceEvaluator(model_config)`, `Simulator(model_config=...)`): its judge calls
  Chat Completions on that deployment. One call per configuration, however many evaluators share it."""

from __future__ import annotations

import ast
from typing import Any

from auditor.sources.scan.calls import VALUE_PARAMETERS, result_call
from auditor.sources.scan.collect import dotted
from auditor.sources.scan.model import Resolved, Unresolved
from auditor.sources.scan.protocol import Keywords, ScanContext
from auditor.sources.scan.resolve import Ctx, literal, short

_EVALUATION_ROOTS = ("azure.ai.evaluation", "promptflow")
_AZURE_PROVIDER = "AzureOpenAIChatCompletionClient"


class ConfigCalls:
    """The recogniser of model configurations given as data."""

    roots = frozenset({"autogen_core", "autogen_ext", "azure", "promptflow"})
    """Modules whose importers may hold these calls (pass 2 reads them)."""
    marks = frozenset({"load_component", "AzureOpenAIModelConfiguration", "Evaluator", "Simulator"})

    def __init__(self, scan: ScanContext) -> None:
        self.scan = scan
        self.seen: set[tuple[int, int]] = set()  # dict configurations already recorded (shared by evaluators)

    def call(self, node: ast.Call, ctx: Ctx) -> bool:
        name = dotted(node.func) or ""
        last = name.split(".")[-1]
        if last == "load_component" and name.split(".")[0] in (
            "ChatCompletionClient",
            "AzureOpenAIChatCompletionClient",
        ):
            self._component(node, ctx)
            return True
        origin = ctx.origin(name.split(".")[0]) if name else None
        module = origin[0] if origin else ""
        if not module.startswith(_EVALUATION_ROOTS):
            return False
        if last == "AzureOpenAIModelConfiguration":
            keywords, _ = self.scan.keywords(node, ctx)
            self._emit(node, keywords, f"{module}.AzureOpenAIModelConfiguration")
            return True
        if last.endswith(("Evaluator", "Simulator")):
            return self._evaluator(node, ctx, f"{module}.{last}")
        return False

    def _component(self, node: ast.Call, ctx: Ctx) -> None:
        given = (
            node.args[0] if node.args else next((k.value for k in node.keywords if k.arg in ("model", "config")), None)
        )
        items = self.scan.resolver.dict_items(given, ctx, 0) if given is not None else None
        if items is None:
            why = f"the component config ({short(given)}) is read at run time (a file or a computed value)"
            self._unresolved(node, why, "autogen_core.ChatCompletionClient.load_component")
            return
        provider = literal(self.scan.resolver, *items["provider"]) if "provider" in items else None
        if not isinstance(provider, str) or not provider.endswith(_AZURE_PROVIDER):
            return
        config = self.scan.resolver.dict_items(*items["config"], 0) if "config" in items else None
        if config is None:
            self._unresolved(
                node, "the component's config is built at run time", "autogen AzureOpenAIChatCompletionClient"
            )
            return
        self._emit(node, config, "autogen AzureOpenAIChatCompletionClient (component config)")

    def _evaluator(self, node: ast.Call, ctx: Ctx, via: str) -> bool:
        given = next((k.value for k in node.keywords if k.arg == "model_config"), node.args[0] if node.args else None)
        if given is None:
            return False
        built = self.scan.constructor_of(given, ctx)
        if built is not None and (dotted(built[0].func) or "").endswith("AzureOpenAIModelConfiguration"):
            return True  # recorded where the configuration is built
        config = self.scan.resolver.dict_items(given, ctx, 0)
        if config is None:  # a configuration passed in or built at run time: listed, once per name and scope
            key = (hash((short(given), ctx.scopes[-1].name)), -1)
            if key not in self.seen:
                self.seen.add(key)
                why = f"the evaluator's model_config ({short(given)}) is built at run time"
                self._unresolved(node, why, f"{via} (model_config)")
            return True
        if "azure_deployment" not in config:
            return False
        where = _origin_of(given, config)
        if where in self.seen:
            return True
        self.seen.add(where)
        self._emit(node, config, f"{via} (model_config)")
        return True

    def _emit(self, node: ast.Call, config: Keywords, via: str) -> None:
        deployment = config.get("azure_deployment") or config.get("model")
        outcome: Resolved | Unresolved
        if deployment is None:
            outcome = Unresolved("the configuration names no azure_deployment", "no-model-keyword")
        else:
            outcome = self.scan.resolve(deployment[0], deployment[1], "azure_deployment=")
        parameters: dict[str, Any] = {}
        for name, (expr, where) in config.items():
            if name in VALUE_PARAMETERS:
                parameters[name] = literal(self.scan.resolver, expr, where)
        version = config.get("api_version")
        api_version = None
        if version is not None:
            resolved = self.scan.resolve(version[0], version[1], "api_version=")
            api_version = resolved.text() if isinstance(resolved, Resolved) and resolved.value else None
        self.scan.record(
            result_call(
                api="chat_completions",
                file=self.scan.display,
                line=node.lineno,
                expression=short(deployment[0]) if deployment else "(none)",
                parameters=parameters,
                outcome=outcome,
                via=via,
                api_version=api_version,
            )
        )

    def _unresolved(self, node: ast.Call, why: str, via: str) -> None:
        self.scan.record(
            result_call(
                api="chat_completions",
                file=self.scan.display,
                line=node.lineno,
                expression="(config)",
                parameters={},
                outcome=Unresolved(why, "config-at-run-time"),
                via=via,
            )
        )

    def finish(self) -> None:
        return None


def _origin_of(given: ast.expr, config: Keywords) -> tuple[int, int]:
    """Where a configuration dict is written (its first value), so evaluators sharing it count once."""
    first = next(iter(config.values()))[0]
    return (getattr(first, "lineno", given.lineno), getattr(first, "col_offset", given.col_offset))
