"""Foundry agents: `project_client.agents.create_agent(model=..., tools=..., temperature=...)` (azure-ai-projects
1.x / azure-ai-agents: Azure/azure-sdk-for-python sdk/ai/azure-ai-agents/azure/ai/agents/_patch.py
`create_agent(model, name, instructions, tools, tool_resources, temperature, top_p, response_format ...)`),
and `agents.create_version(..., definition=PromptAgentDefinition(model=...))` (azure-ai-projects 2.x, agents on
the Responses API). The agent's runs call the named deployment: recorded as a call on it (api `agents` for the
classic Agent Service, `responses` for prompt agents)."""

from __future__ import annotations

import ast
from typing import Any

from auditor.sources.scan.calls import VALUE_PARAMETERS, result_call
from auditor.sources.scan.collect import dotted
from auditor.sources.scan.model import Unresolved
from auditor.sources.scan.protocol import ScanContext
from auditor.sources.scan.resolve import Ctx, literal, short

_AGENT_PARAMETERS = ("tools", "tool_resources", "response_format", "temperature", "top_p")


class FoundryAgents:
    """The recogniser of Foundry agent creation."""

    roots = frozenset({"azure"})
    """Modules whose importers may hold these calls (pass 2 reads them)."""
    marks = frozenset({"create_agent", "create_version", "PromptAgentDefinition"})

    def __init__(self, scan: ScanContext) -> None:
        self.scan = scan

    def call(self, node: ast.Call, ctx: Ctx) -> bool:
        func = node.func
        if not isinstance(func, ast.Attribute):
            return self._definition(node, ctx) if isinstance(func, ast.Name) else False
        owner = dotted(func.value) or short(func.value)
        if func.attr == "create_agent" and owner.split(".")[-1] in ("agents", "agents_client", "agent_client"):
            self._agent(node, ctx, "agents", "azure.ai.agents create_agent")
            return True
        return False

    def _definition(self, node: ast.Call, ctx: Ctx) -> bool:
        """`PromptAgentDefinition(model=...)`: a prompt agent of azure-ai-projects 2.x (Responses API)."""
        if not isinstance(node.func, ast.Name) or node.func.id != "PromptAgentDefinition":
            return False
        origin = ctx.origin(node.func.id)
        if origin is None or not origin[0].startswith("azure.ai.projects"):
            return False
        self._agent(node, ctx, "responses", "azure.ai.projects PromptAgentDefinition")
        return True

    def _agent(self, node: ast.Call, ctx: Ctx, api: str, via: str) -> None:
        keywords, unseen = self.scan.keywords(node, ctx)
        model = keywords.get("model")
        if model is None and node.args:
            model = (node.args[0], ctx)
        if model is not None:
            outcome = self.scan.resolve(model[0], model[1])
        else:
            why = f"the agent is created with no model= ({'**' + unseen if unseen else 'none given'})"
            outcome = Unresolved(why, "kwargs-unresolved" if unseen else "no-model-keyword")
        parameters: dict[str, Any] = {}
        for name in _AGENT_PARAMETERS:
            if name in keywords:
                expr, where = keywords[name]
                parameters[name] = literal(self.scan.resolver, expr, where) if name in VALUE_PARAMETERS else None
        self.scan.record(
            result_call(
                api=api,
                file=self.scan.display,
                line=node.lineno,
                expression=short(model[0]) if model else "(no model=)",
                parameters=parameters,
                outcome=outcome,
                via=via,
            )
        )

    def finish(self) -> None:
        return None
