"""Frameworks over the openai SDK: each class records the API it calls, the deployment it is built with
and the request parameters it is constructed with. What each class sends was read from the frameworks'
own public source (repository and path named per class below)."""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from auditor.sources.scan.calls import VALUE_PARAMETERS, result_call
from auditor.sources.scan.collect import dotted
from auditor.sources.scan.model import Resolved, Unresolved
from auditor.sources.scan.protocol import ScanContext
from auditor.sources.scan.resolve import Ctx, branch_is_azure, literal, short


@dataclass(frozen=True)
class Spec:
    """A framework class: the API it calls, the keywords naming the deployment (first given wins; `model=`
    is the fallback the Azure client routes by), the env variable it reads when none is given, and how its
    keywords are named on the wire."""

    api: str
    deployment: tuple[str, ...]
    env: str | None = None
    rename: Mapping[str, str] = field(default_factory=dict)
    merge: tuple[str, ...] = ()  # keywords holding a dict of extra request parameters
    api_version_env: str | None = None
    azure: bool = True


_LANGCHAIN = {"streaming": "stream"}
SPECS: dict[tuple[str, str], Spec] = {
    # langchain-ai/langchain libs/partners/openai/langchain_openai/chat_models/azure.py: deployment_name has the
    # alias azure_deployment; model_name (alias model) "does NOT affect completion"; openai_api_version (alias
    # api_version) defaults to env OPENAI_API_VERSION; _default_params renames max_tokens to max_completion_tokens.
    # chat_models/base.py _use_responses_api: use_responses_api=True, or reasoning/include set -> Responses API.
    ("langchain_openai", "AzureChatOpenAI"): Spec(
        "chat_completions",
        ("azure_deployment", "deployment_name"),
        rename={**_LANGCHAIN, "max_tokens": "max_completion_tokens"},
        merge=("model_kwargs",),
        api_version_env="OPENAI_API_VERSION",
    ),
    ("langchain_openai", "ChatOpenAI"): Spec(
        "chat_completions", ("model", "model_name"), rename=_LANGCHAIN, merge=("model_kwargs",), azure=False
    ),
    # langchain_openai/embeddings/azure.py: deployment alias azure_deployment; openai_api_version alias api_version.
    ("langchain_openai", "AzureOpenAIEmbeddings"): Spec(
        "embeddings", ("azure_deployment", "deployment"), api_version_env="OPENAI_API_VERSION"
    ),
    ("langchain_openai", "OpenAIEmbeddings"): Spec("embeddings", ("model",), azure=False),
    # openai/openai-agents-python src/agents/models/openai_responses.py and openai_chatcompletions.py:
    # __init__(model, openai_client); ModelSettings.max_tokens is sent as max_output_tokens (Responses) or
    # max_tokens (Chat Completions); reasoning.effort as reasoning (Responses) or reasoning_effort (Chat).
    ("agents", "OpenAIResponsesModel"): Spec("responses", ("model",), azure=False),
    ("agents", "OpenAIChatCompletionsModel"): Spec("chat_completions", ("model",), azure=False),
    # microsoft/autogen python/packages/autogen-ext/src/autogen_ext/models/openai/_openai_client.py:
    # AzureOpenAIChatCompletionClient(azure_deployment=, model=, api_version=, ...) -> chat.completions.create;
    # request parameters (temperature, max_tokens ...) are constructor keywords (create_args).
    ("autogen_ext", "AzureOpenAIChatCompletionClient"): Spec("chat_completions", ("azure_deployment",)),
    ("autogen_ext", "OpenAIChatCompletionClient"): Spec("chat_completions", ("model",), azure=False),
    # microsoft/semantic-kernel python/semantic_kernel/connectors/ai/open_ai/services/azure_chat_completion.py
    # and settings/azure_open_ai_settings.py: env_prefix AZURE_OPENAI_, chat_deployment_name and
    # embedding_deployment_name fields; request settings come per call (execution settings), not here.
    ("semantic_kernel", "AzureChatCompletion"): Spec(
        "chat_completions", ("deployment_name",), env="AZURE_OPENAI_CHAT_DEPLOYMENT_NAME"
    ),
    ("semantic_kernel", "AzureTextEmbedding"): Spec(
        "embeddings", ("deployment_name",), env="AZURE_OPENAI_EMBEDDING_DEPLOYMENT_NAME"
    ),
    # run-llama/llama_index llama-index-integrations/llms/llama-index-llms-azure-openai/.../base.py: engine with
    # the aliases deployment_name, deployment_id, deployment, azure_deployment; model only picks chat vs
    # completion; OPENAI_API_VERSION when api_version is not given; additional_kwargs merged into the request.
    ("llama_index", "AzureOpenAI"): Spec(
        "chat_completions",
        ("engine", "deployment_name", "deployment_id", "deployment", "azure_deployment"),
        merge=("additional_kwargs",),
        api_version_env="OPENAI_API_VERSION",
    ),
    ("llama_index", "AzureOpenAIEmbedding"): Spec(
        "embeddings",
        ("deployment_name", "engine", "deployment_id", "deployment", "azure_deployment"),
        api_version_env="OPENAI_API_VERSION",
    ),
}
ROOTS = frozenset(root for root, _ in SPECS)
_AGENT_SETTINGS = {
    "temperature",
    "top_p",
    "frequency_penalty",
    "presence_penalty",
    "tool_choice",
    "parallel_tool_calls",
    "truncation",
    "max_tokens",
    "store",
    "verbosity",
    "top_logprobs",
}


def _at(node: ast.AST) -> tuple[int, int]:
    return (getattr(node, "lineno", 0), getattr(node, "col_offset", 0))


@dataclass
class _Built:
    node: ast.Call
    ctx: Ctx
    spec: Spec
    name: str


class FrameworkCalls:
    """The framework classes constructed in one file; agents built on a model class use it (not twice)."""

    roots = ROOTS
    marks = frozenset(
        {name for _, name in SPECS}
        | {"Agent", "ModelSettings", "bind_tools", "create_agent", "create_react_agent"}
        | {"AzureChatPromptExecutionSettings", "OpenAIChatPromptExecutionSettings"}
    )

    def __init__(self, scan: ScanContext) -> None:
        self.scan = scan
        self.built: dict[tuple[int, int], _Built] = {}  # by (line, column): pass 1 and pass 2 trees differ
        self.used: set[tuple[int, int]] = set()
        self.tools: set[tuple[int, int]] = set()  # constructors whose model has tools bound (bind_tools ...)
        self.execution_settings: list[dict[str, Any]] = []  # Semantic Kernel request settings built in the file
        self.extra: dict[tuple[int, int], dict[str, Any]] = {}  # parameters bound to a constructor outside it

    def identify(self, node: ast.Call, ctx: Ctx) -> tuple[str, str] | None:
        """(framework root, class name) of a constructor call, by where the class is imported from."""
        name = dotted(node.func)
        if name is None:
            return None
        head = name.split(".")[0]
        origin = ctx.origin(head)
        if origin is None:
            return None
        module = origin[0]
        root = module.split(".")[0]
        cls = name.split(".")[-1] if "." in name else (origin[1] or head)
        if root == "llama_index" and cls == "AzureOpenAI" and ".llms." not in f".{module}.":
            return None
        return (root, cls) if root in ROOTS or (root == "agents" and cls == "Agent") else None

    def call(self, node: ast.Call, ctx: Ctx) -> bool:
        self._bound_tools(node, ctx)
        found = self.identify(node, ctx)
        if found is None:
            return False
        if found == ("agents", "Agent"):
            self.agent(node, ctx)
            return True
        if found[0] == "semantic_kernel" and found[1].endswith("PromptExecutionSettings"):
            self.execution_settings.append(self._execution_settings(node, ctx))
            return True
        spec = SPECS.get(found)
        if spec is None:
            return False
        self.built[_at(node)] = _Built(node, ctx, spec, f"{found[0]}.{found[1]}")
        return True

    def _execution_settings(self, node: ast.Call, ctx: Ctx) -> dict[str, Any]:
        """Semantic Kernel's request settings (`AzureChatPromptExecutionSettings(temperature=..., max_tokens=...,
        function_choice_behavior=...)`, microsoft/semantic-kernel python/semantic_kernel/connectors/ai/open_ai/
        prompt_execution_settings/azure_chat_prompt_execution_settings.py): sent with the chat service's requests;
        a function choice behavior sends the kernel's functions as tools."""
        keywords, _ = self.scan.keywords(node, ctx)
        found: dict[str, Any] = {}
        for name, (expr, where) in keywords.items():
            if name == "function_choice_behavior":
                found["tools"] = None
            elif name in VALUE_PARAMETERS or name == "max_completion_tokens":
                found[name] = literal(self.scan.resolver, expr, where)
        return found

    def _bind_execution_settings(self) -> None:
        """Execution settings built in a file with one Semantic Kernel chat service are that service's: the
        kernel sends them with its requests (with several services the code does not say which)."""
        services = [
            b for b in self.built.values() if b.name.startswith("semantic_kernel.") and b.spec.api == "chat_completions"
        ]
        if len(services) != 1 or not self.execution_settings:
            return
        merged: dict[str, Any] = {}
        for settings in self.execution_settings:
            for name, value in settings.items():
                merged[name] = value if merged.get(name, value) == value else None  # differing values: present
        self.extra.setdefault(_at(services[0].node), {}).update(merged)

    def _bound_tools(self, node: ast.Call, ctx: Ctx) -> None:
        """Tools bound to a model outside its calls: `llm.bind_tools(tools)` (langchain-core BaseChatModel),
        `create_agent(model=llm, tools=...)` (langchain 1.x) and `create_react_agent(llm, tools)` (langgraph
        prebuilt): the model's requests carry `tools`."""
        model: ast.expr | None = None
        if isinstance(node.func, ast.Attribute) and node.func.attr == "bind_tools":
            model = node.func.value
        elif isinstance(node.func, ast.Name) and node.func.id in ("create_agent", "create_react_agent"):
            given = next((k.value for k in node.keywords if k.arg in ("model", "llm")), None)
            has_tools = any(k.arg == "tools" for k in node.keywords) or len(node.args) > 1
            model = (given if given is not None else (node.args[0] if node.args else None)) if has_tools else None
        if model is None:
            return
        built = self.scan.constructor_of(model, ctx)
        if built is not None:
            self.tools.add(_at(built[0]))

    def finish(self) -> None:
        """Record the constructors no agent used. A name given a framework object per host (`if API_HOST ==
        "azure": llm = ChatOpenAI(...) else: llm = ChatOpenAI(...)`) is one call: the Azure branch's, with the
        others' deployments as alternatives (when no branch is recognisably Azure's, each is recorded)."""
        self._bind_execution_settings()
        alternatives: dict[tuple[int, int], list[str]] = {}
        for key, built in self.built.items():
            siblings = self._siblings(built)
            if not siblings:
                continue
            azure = [b for b, azure in siblings if azure]
            if len(azure) != 1 or azure[0] is built:
                continue
            self.used.add(key)
            outcome, _ = self.deployment(built)
            shown = outcome.described() if isinstance(outcome, Resolved) else "a run-time value"
            alternatives.setdefault(_at(azure[0].node), []).append(shown)
        for key, built in self.built.items():
            if key not in self.used:
                others = tuple(dict.fromkeys(alternatives.get(key, [])))
                self.emit(built, built.node, self.constructor_parameters(built), built.spec.api, alternatives=others)

    def _siblings(self, built: _Built) -> list[tuple[_Built, bool]]:
        """The constructors assigned to the same name as `built` in other `if` branches, with whether each
        branch is recognisably Azure's; empty when `built` is not such an assignment."""
        scope = built.ctx.scopes[-1]
        where = _at(built.node)
        for assignments in scope.assigned.values():
            if len(assignments) < 2 or not any(a.value is not None and _at(a.value) == where for a in assignments):
                continue
            found = []
            for assignment in assignments:
                if assignment.value is None or _at(assignment.value) not in self.built or assignment.branch is None:
                    return []
                found.append((self.built[_at(assignment.value)], branch_is_azure(assignment.branch)))
            return found
        return []

    # -- constructors ---------------------------------------------------------------------------------

    def constructor_parameters(self, built: _Built) -> dict[str, Any]:
        keywords, _ = self.scan.keywords(built.node, built.ctx)
        spec = built.spec
        parameters: dict[str, Any] = {}
        for name, (expr, ctx) in keywords.items():
            if name in spec.merge:
                for key, (value, inner) in (self.scan.resolver.dict_items(expr, ctx, 0) or {}).items():
                    parameters[key] = literal(self.scan.resolver, value, inner) if key in VALUE_PARAMETERS else None
            elif name == "reasoning":
                parameters["reasoning"] = self.scan.reasoning(expr, ctx)
            elif name in spec.rename or name in VALUE_PARAMETERS:
                value = literal(self.scan.resolver, expr, ctx)
                if value is not None:
                    parameters[spec.rename.get(name, name)] = value
        return parameters

    def api_of(self, built: _Built, parameters: Mapping[str, Any]) -> str:
        keywords = {k.arg: k.value for k in built.node.keywords if k.arg}
        if built.name.startswith("langchain_openai.") and built.spec.api == "chat_completions":
            flag = keywords.get("use_responses_api")
            if isinstance(flag, ast.Constant) and isinstance(flag.value, bool):
                return "responses" if flag.value else "chat_completions"
            if "reasoning" in parameters or "include" in keywords or keywords.get("output_version") is not None:
                return "responses"
        return built.spec.api

    def deployment(self, built: _Built) -> tuple[Resolved | Unresolved, str]:
        keywords, unseen = self.scan.keywords(built.node, built.ctx)  # `**settings` dicts the code builds included
        spec = built.spec
        for name in (*spec.deployment, "model"):
            if name in keywords:
                expr, where = keywords[name]
                return self.scan.resolve(expr, where, f"{name}="), short(expr)
        if unseen is not None:
            why = f"{built.name}(...) is given its arguments as **{unseen}, built at run time"
            return Unresolved(why, "kwargs-unresolved"), f"**{unseen}"
        if spec.env is not None:
            return Resolved(
                "env", spec.env, azure=True, note=f"{built.name} reads {spec.env} when no deployment is given"
            ), "(none)"
        why = (
            f"{built.name}(...) is given no {' / '.join(spec.deployment)}: the framework's default applies at run time"
        )
        return Unresolved(why, "framework-default"), "(none)"

    def api_version(self, built: _Built) -> str | None:
        keywords, _ = self.scan.keywords(built.node, built.ctx)
        if not built.spec.azure:
            client = keywords.get("openai_client")
            if client is not None:
                return self.scan.api_version(self.scan.constructor_of(*client))
            return None
        for name in ("api_version", "openai_api_version"):
            if name in keywords:
                outcome = self.scan.resolve(keywords[name][0], keywords[name][1], f"{name}=")
                return outcome.text() if isinstance(outcome, Resolved) else None
        return f"env:{built.spec.api_version_env}" if built.spec.api_version_env else None

    def emit(
        self,
        built: _Built,
        at: ast.Call,
        parameters: dict[str, Any],
        api: str,
        via: str | None = None,
        alternatives: tuple[str, ...] = (),
    ) -> None:
        outcome, expression = self.deployment(built)
        parameters = {**self.extra.get(_at(built.node), {}), **parameters}
        if _at(built.node) in self.tools:
            parameters = {**parameters, "tools": None}
        if alternatives and isinstance(outcome, Resolved):
            outcome = replace(outcome, alternatives=alternatives, note="differs by branch; the Azure branch is kept")
        self.scan.record(
            result_call(
                api=self.api_of(built, parameters) if api == built.spec.api else api,
                file=self.scan.display,
                line=at.lineno,
                expression=expression,
                parameters=parameters,
                outcome=outcome,
                via=via or built.name,
                api_version=self.api_version(built),
            )
        )

    # -- the Agents SDK ---------------------------------------------------------------------------------

    def agent(self, node: ast.Call, ctx: Ctx) -> None:
        """`Agent(model=..., model_settings=ModelSettings(...))`: the model is a deployment name (Responses
        unless `set_default_openai_api("chat_completions")`) or one of the model classes above."""
        keywords = {k.arg: k.value for k in node.keywords if k.arg}
        model = keywords.get("model")
        if model is None:
            why = "the agent is given no model=: the Agents SDK's default model applies (OPENAI_DEFAULT_MODEL)"
            self.scan.record(
                result_call(
                    api="responses",
                    file=self.scan.display,
                    line=node.lineno,
                    expression="(no model=)",
                    parameters={},
                    outcome=Unresolved(why, "framework-default"),
                    via="agents.Agent",
                )
            )
            return
        built_by = self.scan.constructor_of(model, ctx)
        built = None
        if built_by is not None:
            found = self.identify(*built_by)
            spec = SPECS.get(found) if found else None
            if spec is not None and found is not None:
                built = self.built.get(_at(built_by[0])) or _Built(built_by[0], built_by[1], spec, ".".join(found))
        api = built.spec.api if built else ("chat_completions" if self.scan.project.chat_default() else "responses")
        parameters = self.settings(keywords.get("model_settings"), ctx, api)
        if keywords.get("tools") is not None or keywords.get("handoffs") is not None:
            parameters["tools"] = None  # the Agents SDK sends function tools (and handoffs) as tools
        if built is not None:
            self.used.add(_at(built.node))
            parameters = {**self.constructor_parameters(built), **parameters}
            self.emit(built, node, parameters, api, via=f"agents.Agent with {built.name}")
            return
        outcome = self.scan.resolve(model, ctx)
        self.scan.record(
            result_call(
                api=api,
                file=self.scan.display,
                line=node.lineno,
                expression=short(model),
                parameters=parameters,
                outcome=outcome,
                via="agents.Agent",
            )
        )

    def settings(self, expr: ast.expr | None, ctx: Ctx, api: str) -> dict[str, Any]:
        if expr is None:
            return {}
        call = self.scan.constructor_of(expr, ctx)
        if call is None:
            return {}
        node, inner = call
        parameters: dict[str, Any] = {}
        for keyword in node.keywords:
            if keyword.arg == "reasoning":
                reasoning = self.scan.reasoning(keyword.value, inner)
                if api == "responses":
                    parameters["reasoning"] = reasoning
                else:
                    parameters["reasoning_effort"] = (reasoning or {}).get("effort")
            elif keyword.arg == "max_tokens":
                name = "max_output_tokens" if api == "responses" else "max_tokens"
                parameters[name] = literal(self.scan.resolver, keyword.value, inner)
            elif keyword.arg in _AGENT_SETTINGS:
                parameters[keyword.arg] = literal(self.scan.resolver, keyword.value, inner)
            elif keyword.arg in ("extra_body", "extra_args"):
                for key, (value, where) in (self.scan.resolver.dict_items(keyword.value, inner, 0) or {}).items():
                    parameters[key] = literal(self.scan.resolver, value, where) if key in VALUE_PARAMETERS else None
        return parameters
