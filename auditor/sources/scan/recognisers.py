"""The recognisers the scanner offers each call to, in order (protocol.py): the pre-1.0 SDK, framework
classes (LangChain, the Agents SDK, AutoGen, Semantic Kernel, LlamaIndex), AutoGen component configs and
azure-ai-evaluation model configs, Foundry agents, and Prompty. A new library is one module and one line here."""

from __future__ import annotations

from auditor.sources.scan.configs import ConfigCalls
from auditor.sources.scan.foundry import FoundryAgents
from auditor.sources.scan.frameworks import FrameworkCalls
from auditor.sources.scan.legacy import LegacyCalls
from auditor.sources.scan.prompty import PromptyCalls
from auditor.sources.scan.protocol import RecogniserFactory

RECOGNISERS: tuple[RecogniserFactory, ...] = (LegacyCalls, FrameworkCalls, ConfigCalls, FoundryAgents, PromptyCalls)
MARKS: frozenset[str] = frozenset().union(
    LegacyCalls.marks, FrameworkCalls.marks, ConfigCalls.marks, FoundryAgents.marks, PromptyCalls.marks
)
"""Names whose calls pass 1 keeps for pass 2."""
ROOTS: frozenset[str] = frozenset().union(
    LegacyCalls.roots, FrameworkCalls.roots, ConfigCalls.roots, FoundryAgents.roots, PromptyCalls.roots
)
"""Top-level modules whose importers pass 2 reads (besides openai's)."""
MARK_SUFFIXES = ("Evaluator", "Simulator")
"""azure-ai-evaluation's evaluator classes (RelevanceEvaluator ...), given a model configuration."""
