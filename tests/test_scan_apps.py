"""Apps as they really are (issue 26): notebooks, Prompty files, AutoGen component configs, azure-ai-evaluation
model configs, Foundry agents, every openai call shape, parameters sent under a condition, and nothing silently
absent — each unread file listed, and a gap of the audit unless allowed.

The fixtures are written here, in the shapes of public apps (each cites its repository, path and commit); no
code of those apps is copied into this repository."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from auditor.sources.scan import ScannedCall, contract_document, scan


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def _notebook(*cells: tuple[str, str] | tuple[str, str, dict[str, Any]], language: str = "python") -> str:
    """An nbformat 4 notebook: (cell_type, source[, metadata]) per cell."""
    return json.dumps(
        {
            "nbformat": 4,
            "nbformat_minor": 5,
            "metadata": {"kernelspec": {"name": "python3", "language": language}},
            "cells": [
                {
                    "cell_type": cell[0],
                    "metadata": cell[2] if len(cell) > 2 else {},
                    "source": cell[1].splitlines(keepends=True),
                    **({"outputs": [], "execution_count": None} if cell[0] == "code" else {}),
                }
                for cell in cells
            ],
        }
    )


def _by_file(calls: tuple[ScannedCall, ...]) -> list[tuple[str, int, str, str | None]]:
    return [(c.file.split("/app/", 1)[1], c.line, c.api, c.deployment) for c in calls]


# --- notebooks ---------------------------------------------------------------------------------------------

# In the shape of Azure-Samples/azureai-samples scenarios/Assistants/multi-agent/multi-agent.ipynb (commit
# 5a62b26): settings read in one cell, the client built in another, calls in later cells, `!pip` and `%` lines.
MULTI_AGENT = _notebook(
    ("markdown", "# Multi-agent\nA markdown cell is not code."),
    ("code", "!pip install openai python-dotenv --quiet\n%load_ext dotenv\n%dotenv"),
    (
        "code",
        "import os\nfrom openai import AzureOpenAI\n\n"
        'dalle_deployment = os.getenv("DALLE3_DEPLOYMENT_NAME", "dalle3")\n'
        'gpt_deployment = os.getenv("GPT4_DEPLOYMENT_NAME")\n'
        'client = AzureOpenAI(api_version="2024-10-21", azure_endpoint=os.environ["AZURE_OPENAI_ENDPOINT"])',
    ),
    ("code", "%%bash\necho not python"),
    (
        "code",
        "def generate_image(prompt):\n"
        "    result = client.images.generate(model=dalle_deployment, prompt=prompt, size='1024x1024', quality='hd', n=1)\n"
        "    return result.data[0].url",
    ),
    ("code", "response = await client.responses.create(model=gpt_deployment, input='hi')\nresponse?"),
    ("code", "def unfinished(:\n    pass"),
    ("code", "Console.WriteLine(client);", {"vscode": {"languageId": "csharp"}}),
)


def test_notebook_code_cells_are_read_as_one_module(tmp_path: Path) -> None:
    app = _write(tmp_path / "app", {"multi-agent.ipynb": MULTI_AGENT})
    result = scan(app)
    assert _by_file(result.calls) == [
        ("multi-agent.ipynb#cell-5", 2, "images", "env:DALLE3_DEPLOYMENT_NAME"),
        ("multi-agent.ipynb#cell-6", 1, "responses", "env:GPT4_DEPLOYMENT_NAME"),  # a top-level await
    ]
    images = result.calls[0]
    assert images.default == "dalle3"  # settings of an earlier cell followed as in a module
    assert images.api_version == "2024-10-21"
    assert images.parameters == {"n": 1, "prompt": None, "quality": "hd", "size": "1024x1024"}
    # cells not read are said, with why: the one that does not parse and the C# one; magics are not Python
    assert [s.split("#", 1)[1].split(" (")[0] for s in result.skipped] == ["cell-7: not read", "cell-8: not read"]
    assert "SyntaxError" in result.skipped[0] and "csharp cell" in result.skipped[1]


def test_a_notebook_of_another_language_is_listed_as_unread(tmp_path: Path) -> None:
    app = _write(tmp_path / "app", {"dotnet.ipynb": _notebook(("code", "var x = 1;"), language="C#")})
    result = scan(app)
    assert result.calls == ()
    assert result.skipped == (f"{app}/dotnet.ipynb: not scanned (NotPython: a C# notebook; the scan reads Python)",)


def test_one_notebook_can_be_scanned_alone(tmp_path: Path) -> None:
    path = tmp_path / "nb.ipynb"
    path.write_text(MULTI_AGENT)
    assert [c.file for c in scan(path).calls] == [f"{path}#cell-5", f"{path}#cell-6"]
    other = tmp_path / "app.ts"
    other.write_text("import OpenAI from 'openai';\n")
    assert scan(other).skipped == (f"{other}: not read (the scan reads .py, .ipynb and .prompty files)",)


# --- Prompty -----------------------------------------------------------------------------------------------

# In the shapes of Azure-Samples/contoso-chat (commit 028921f) src/api/contoso_chat/chat.prompty and
# chat_request.py (`prompty.execute("chat.prompty", configuration=model_config)` with no deployment of its
# own), and of Azure-Samples/contoso-creative-writer (commit cf6387c) src/api/agents/editor/editor.py
# (promptflow's `Prompty.load(path, model={"configuration": AzureOpenAIModelConfiguration(...)})`).
CHAT_PROMPTY = """---
name: Contoso Chat Prompt
model:
  api: chat
  configuration:
    type: azure_openai
    azure_deployment: ${env:AZURE_OPENAI_CHAT_DEPLOYMENT:gpt-4o-mini}
    azure_endpoint: ${ENV:AZURE_OPENAI_ENDPOINT}
    api_version: 2024-08-01-preview
  parameters:
    max_tokens: 128
    temperature: 0.2
---
system:
You are an AI agent for the Contoso Outdoors products retailer.
"""
OPENAI_PROMPTY = """---
model:
  api: chat
  configuration:
    type: openai
    name: gpt-4o
---
user: hi
"""
PROMPTY_APP = {
    "chat.prompty": CHAT_PROMPTY,
    "openai.prompty": OPENAI_PROMPTY,
    "broken.prompty": "---\nmodel: [unclosed\n---\n",
    "chat_request.py": """\
import os
import prompty
import prompty.azure

def get_response(question):
    model_config = {
        "azure_endpoint": os.environ["AZURE_OPENAI_ENDPOINT"],
        "api_version": os.environ["AZURE_OPENAI_API_VERSION"],
    }
    return prompty.execute("chat.prompty", inputs={"question": question}, configuration=model_config)

def get_override(question):
    return prompty.execute("chat.prompty", configuration={"azure_deployment": "gpt-4o-override"})
""",
    "editor.py": """\
import os
from promptflow.core import Prompty, AzureOpenAIModelConfiguration

def edit(article):
    configuration = AzureOpenAIModelConfiguration(
        azure_deployment=os.getenv("AZURE_OPENAI_DEPLOYMENT_NAME"),
        api_version=os.getenv("AZURE_OPENAI_API_VERSION"),
    )
    prompty_obj = Prompty.load("editor.prompty", model={"configuration": configuration, "parameters": {"max_tokens": 512}})
    return prompty_obj(article=article)
""",
}


def test_prompty_front_matter_and_the_python_that_runs_it(tmp_path: Path) -> None:
    app = _write(tmp_path / "app", PROMPTY_APP)
    result = scan(app)
    assert _by_file(result.calls) == [
        ("chat.prompty", 7, "chat_completions", "env:AZURE_OPENAI_CHAT_DEPLOYMENT"),
        ("chat_request.py", 13, "chat_completions", "gpt-4o-override"),  # its own azure_deployment: its own call
        ("editor.py", 5, "chat_completions", "env:AZURE_OPENAI_DEPLOYMENT_NAME"),  # where the configuration is built
    ]
    chat = result.calls[0]
    assert chat.default == "gpt-4o-mini"  # ${env:NAME:default}, as prompty's loader reads it
    assert chat.parameters == {"max_tokens": 128, "temperature": 0.2}
    assert chat.api_version == "2024-08-01-preview"
    assert chat.via == "prompty"
    assert result.calls[2].via == "promptflow.core.AzureOpenAIModelConfiguration"
    # openai.prompty targets OpenAI.com: not an Azure deployment, not listed; broken.prompty is unread, said
    assert len(result.skipped) == 1 and result.skipped[0].startswith(f"{app}/broken.prompty: not read (front matter")


# --- AutoGen, azure-ai-evaluation, Foundry agents ------------------------------------------------------------

CONFIG_APP = {
    # AutoGen component config, as autogen-core's ChatCompletionClient.load_component takes it
    # (microsoft/autogen python/packages/autogen-core/src/autogen_core/_component_config.py).
    "autogen_team.py": """\
import os
from autogen_core.models import ChatCompletionClient

config = {
    "provider": "autogen_ext.models.openai.AzureOpenAIChatCompletionClient",
    "config": {
        "azure_deployment": "gpt-4.1",
        "model": "gpt-4.1",
        "api_version": "2025-04-01-preview",
        "azure_endpoint": os.environ["AZURE_OPENAI_ENDPOINT"],
        "temperature": 0.1,
    },
}
client = ChatCompletionClient.load_component(config)
from_file = ChatCompletionClient.load_component(yaml_config["model_config"])
""",
    # In the shape of Azure-Samples/azureai-samples (commit 5a62b26)
    # scenarios/rag/custom-rag-app/evaluate_simulate.py: one model config dict shared by two evaluators.
    "evaluate.py": """\
import os
from azure.ai.evaluation import CoherenceEvaluator, FluencyEvaluator, AzureOpenAIModelConfiguration

evaluator_model = {
    "azure_endpoint": os.environ["AZURE_OPENAI_ENDPOINT"],
    "azure_deployment": os.environ["EVALUATION_MODEL"],
    "api_version": "2024-06-01",
}
coherence = CoherenceEvaluator(model_config=evaluator_model)
fluency = FluencyEvaluator(evaluator_model)
judge = AzureOpenAIModelConfiguration(azure_deployment="judge-4o", api_version="2024-10-21")
""",
    # In the shape of Azure-Samples/azureai-samples (commit 5a62b26) scenarios/projects/basic/agents.py.
    "agents.py": """\
import os
from azure.ai.projects import AIProjectClient
from azure.ai.projects.models import PromptAgentDefinition

project = AIProjectClient.from_connection_string(conn_str=os.environ["AIPROJECT_CONNECTION_STRING"])
agent = project.agents.create_agent(model="gpt-4o-mini", name="my-agent", instructions="...", tools=[], temperature=0.3)
v2 = project.agents.create_version(agent_name="a", definition=PromptAgentDefinition(model=os.environ["AGENT_MODEL"]))
""",
}


def test_component_configs_model_configs_and_foundry_agents(tmp_path: Path) -> None:
    app = _write(tmp_path / "app", CONFIG_APP)
    calls = scan(app).calls
    assert [(c.file.split("/")[-1], c.line, c.api, c.deployment, c.via) for c in calls] == [
        ("agents.py", 6, "agents", "gpt-4o-mini", "azure.ai.agents create_agent"),
        ("agents.py", 7, "responses", "env:AGENT_MODEL", "azure.ai.projects PromptAgentDefinition"),
        (
            "autogen_team.py",
            14,
            "chat_completions",
            "gpt-4.1",
            "autogen AzureOpenAIChatCompletionClient (component config)",
        ),
        ("autogen_team.py", 15, "chat_completions", None, "autogen_core.ChatCompletionClient.load_component"),
        (
            "evaluate.py",
            9,
            "chat_completions",
            "env:EVALUATION_MODEL",
            "azure.ai.evaluation.CoherenceEvaluator (model_config)",
        ),
        ("evaluate.py", 11, "chat_completions", "judge-4o", "azure.ai.evaluation.AzureOpenAIModelConfiguration"),
    ]
    assert calls[0].parameters == {"temperature": 0.3, "tools": None}
    assert calls[2].parameters == {"temperature": 0.1} and calls[2].api_version == "2025-04-01-preview"
    assert calls[3].reason == "config-at-run-time"  # read from a file at run time: listed, not guessed
    assert calls[4].api_version == "2024-06-01"  # one call for the config both evaluators share


# --- every openai call shape -------------------------------------------------------------------------------

SHAPES = """\
from openai import AzureOpenAI

client = AzureOpenAI(api_version="2025-04-01-preview")
client.images.generate(model="gpt-image-1", prompt="a cat", size="1024x1024", quality="high")
client.images.edit(model="gpt-image-1", image=b"", prompt="x")
client.audio.transcriptions.create(model="whisper", file=b"", language="en", response_format="text")
client.audio.translations.create(model="whisper", file=b"")
client.audio.speech.create(model="tts-hd", voice="alloy", input="hello", speed=1.2)
client.responses.compact(model="gpt-5", input=[])
client.videos.create(model="sora", prompt="x", seconds="4")
client.beta.assistants.create(model="gpt-4o", instructions="x", tools=[])
client.batches.create(input_file_id="file-1", endpoint="/chat/completions", completion_window="24h")

async def live():
    async with client.beta.realtime.connect(model="gpt-realtime") as connection:
        pass
"""


def test_every_openai_call_shape_that_names_a_model(tmp_path: Path) -> None:
    """The shapes of openai-python 3.3.1 (openai/openai-python src/openai/resources/, commit e43b422)."""
    result = scan(_write(tmp_path / "app", {"shapes.py": SHAPES}))
    assert [(c.line, c.api, c.deployment) for c in result.calls] == [
        (4, "images", "gpt-image-1"),
        (5, "images", "gpt-image-1"),
        (6, "audio", "whisper"),
        (7, "audio", "whisper"),
        (8, "audio", "tts-hd"),
        (9, "responses", "gpt-5"),
        (10, "video", "sora"),
        (11, "assistants", "gpt-4o"),
        (15, "realtime", "gpt-realtime"),
    ]
    assert result.calls[0].parameters == {"prompt": None, "quality": "high", "size": "1024x1024"}
    assert result.calls[2].parameters == {"file": None, "language": "en", "response_format": None}
    assert result.calls[4].parameters == {"input": None, "speed": 1.2, "voice": "alloy"}
    # calls found + calls noted = every call of the app (the 10 `client.` call lines of SHAPES)
    call_lines = [n for n, text in enumerate(SHAPES.splitlines(), 1) if "client." in text and "(" in text]
    noted = [n for n in result.notes if ".py:" in n]
    assert len(result.calls) + len(noted) == len(call_lines) == 10
    # a batch names its deployments in its input file: a note, never silently absent, never a call
    assert [n for n in result.notes if "batches.create" in n] == [
        f"{tmp_path}/app/shapes.py:12: client.batches.create(...): a batch names its deployment in each request "
        "line of its input file (batches.create takes no model=)"
    ]


def test_placeholders_are_not_deployment_names(tmp_path: Path) -> None:
    text = (
        "from openai import OpenAI\nc = OpenAI()\nc.chat.completions.create(model='<DEPLOYMENT_NAME>', messages=[])\n"
    )
    (call,) = scan(_write(tmp_path / "app", {"a.py": text})).calls
    assert call.deployment is None and call.reason == "placeholder"


# --- resolution --------------------------------------------------------------------------------------------

RESOLUTION = {
    "settings.py": """\
from functools import lru_cache
from pydantic_settings import BaseSettings, SettingsConfigDict

class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AZURE_OPENAI_")
    chat_deployment: str = "chat-4o"

@lru_cache
def get_settings():
    return Settings()
""",
    "app.py": """\
from langchain_openai import AzureChatOpenAI
from langchain.agents import create_agent
from openai import AzureOpenAI
from settings import get_settings

settings = get_settings()
client = AzureOpenAI(api_version="2024-10-21")
client.chat.completions.create(model=settings.chat_deployment, messages=[])

llm_kwargs = {"azure_deployment": "lc-4o", "temperature": 0}
llm = AzureChatOpenAI(**llm_kwargs)
agent = create_agent(model=llm, tools=[lookup])
hidden = AzureChatOpenAI(**load_kwargs())
""",
}


# In the shape of yingding/semantic-kernel-workshop (commit 90060a1) 01-intro-to-semantic-kernel/01-intro.ipynb:
# the service added to the kernel, request settings built apart and passed with each request.
SK_NOTEBOOK = _notebook(
    (
        "code",
        "import os\nimport semantic_kernel as sk\n"
        "from semantic_kernel.connectors.ai.open_ai import AzureChatCompletion, AzureChatPromptExecutionSettings\n"
        "from semantic_kernel.connectors.ai.function_choice_behavior import FunctionChoiceBehavior\n"
        "kernel = sk.Kernel()\n"
        'chat_completion = AzureChatCompletion(deployment_name=os.getenv("AZURE_OPENAI_DEPLOYMENT_NAME"))\n'
        "kernel.add_service(chat_completion)",
    ),
    (
        "code",
        "execution_settings = AzureChatPromptExecutionSettings(temperature=0.2, max_tokens=400,\n"
        "    function_choice_behavior=FunctionChoiceBehavior.Auto())\n"
        "result = await chat_completion.get_chat_message_content(chat_history=history, settings=execution_settings)",
    ),
)


def test_semantic_kernel_execution_settings_are_the_services(tmp_path: Path) -> None:
    (call,) = scan(_write(tmp_path / "app", {"01-intro.ipynb": SK_NOTEBOOK})).calls
    assert (call.file.split("/app/")[1], call.line) == ("01-intro.ipynb#cell-1", 6)
    assert call.deployment == "env:AZURE_OPENAI_DEPLOYMENT_NAME"
    assert call.parameters == {"max_tokens": 400, "temperature": 0.2, "tools": None}


def test_settings_getters_settings_dicts_and_bound_tools(tmp_path: Path) -> None:
    calls = scan(_write(tmp_path / "app", RESOLUTION)).calls
    by_line = {c.line: c for c in calls}
    assert by_line[8].deployment == "env:AZURE_OPENAI_CHAT_DEPLOYMENT" and by_line[8].default == "chat-4o"
    assert by_line[11].deployment == "lc-4o"  # **llm_kwargs into the framework constructor
    assert by_line[11].parameters == {"temperature": 0, "tools": None}  # tools bound by create_agent
    assert by_line[13].deployment is None and by_line[13].reason == "kwargs-unresolved"
    assert "**load_kwargs()" in (by_line[13].why or "")  # not "the framework's default applies"


# In the shape of Azure-Samples/langchain-agent-python (commit cd85afb) mcp/app.py: the embedding deployment
# is a constructor argument kept on self and used by another method.
CONSTRUCTED = """\
import os
from openai import AzureOpenAI

class SemanticSearchEmbedding:
    def __init__(self, openai_endpoint: str, embedding_deployment: str):
        self.client = AzureOpenAI(azure_endpoint=openai_endpoint, api_version="2024-10-21")
        self.embedding_deployment = embedding_deployment

    def embed(self, text):
        return self.client.embeddings.create(input=text, model=self.embedding_deployment)

deployment = os.getenv("AZURE_OPENAI_EMBEDDING_DEPLOYMENT", "text-embedding-3-small")
search = SemanticSearchEmbedding(os.environ["AZURE_OPENAI_ENDPOINT"], deployment)
other = SemanticSearchEmbedding(openai_endpoint="x", embedding_deployment="embed-large")
"""


def test_constructor_arguments_are_followed_one_call_level_up(tmp_path: Path) -> None:
    calls = scan(_write(tmp_path / "app", {"emb.py": CONSTRUCTED})).calls
    assert [(c.line, c.api, c.deployment, c.default) for c in calls] == [
        (13, "embeddings", "env:AZURE_OPENAI_EMBEDDING_DEPLOYMENT", "text-embedding-3-small"),
        (14, "embeddings", "embed-large", None),
    ]
    assert calls[0].via == f"SemanticSearchEmbedding() at {tmp_path}/app/emb.py:10"


# --- conditions --------------------------------------------------------------------------------------------

CONDITIONAL = """\
import os
from openai import AzureOpenAI

client = AzureOpenAI(api_version="2025-04-01-preview")
name = os.environ["AZURE_OPENAI_DEPLOYMENT"]
kwargs = {"input": "hi"}
if name.startswith("o"):
    kwargs["reasoning"] = {"effort": "low"}
if use_tools:
    kwargs["temperature"] = 0.2
client.responses.create(model=name, **kwargs)
"""


def test_a_parameter_set_under_a_condition_is_recorded_with_it(tmp_path: Path) -> None:
    (call,) = scan(_write(tmp_path / "app", {"a.py": CONDITIONAL})).calls
    assert call.parameters == {"input": None, "reasoning": {"effort": "low"}, "temperature": 0.2}
    assert call.conditions == {"reasoning": "deployment.startswith('o')", "temperature": "use_tools"}
    entry = contract_document(scan(tmp_path / "app"))["deployments"]["env:AZURE_OPENAI_DEPLOYMENT"][0]
    assert entry["conditions"] == {"reasoning": "deployment.startswith('o')", "temperature": "use_tools"}


GUARDED = """\
from openai import NOT_GIVEN, AzureOpenAI

client = AzureOpenAI(api_version="2025-04-01-preview")
DEPLOYMENT = "o4-mini"
reasoning = DEPLOYMENT.startswith("o")
client.chat.completions.create(
    model=DEPLOYMENT,
    messages=[],
    temperature=None if reasoning else 0.7,
    reasoning_effort="low" if DEPLOYMENT.startswith(("o", "gpt-5")) else NOT_GIVEN,
    **({"max_completion_tokens": 500} if DEPLOYMENT.startswith("o") else {}),
)
"""


def test_a_parameter_sent_by_a_conditional_expression_is_conditional(tmp_path: Path) -> None:
    (call,) = scan(_write(tmp_path / "app", {"a.py": GUARDED})).calls
    assert call.parameters == {
        "max_completion_tokens": 500,
        "messages": None,
        "reasoning_effort": "low",
        "temperature": 0.7,
    }
    assert call.conditions == {
        "max_completion_tokens": "deployment.startswith('o')",
        "reasoning_effort": "deployment.startswith(('o', 'gpt-5'))",
        "temperature": "not reasoning",
    }


@pytest.mark.parametrize(
    ("condition", "name", "holds"),
    [
        ("deployment.startswith('o')", "o4-mini", True),
        ("deployment.startswith('o')", "gpt-4o", False),
        ("deployment.lower().startswith(('o1', 'o3'))", "O3-mini", True),
        ("'mini' in deployment", "gpt-4o", False),
        ("deployment in ('o4-mini', 'o3')", "o3", True),
        ("not deployment.startswith('gpt')", "gpt-4.1", False),
        ("deployment.startswith('o') and use_reasoning", "gpt-4o", False),
        ("deployment.startswith('o') and use_reasoning", "o3", None),
        ("use_tools", "gpt-4o", None),
        ("__import__('os').system('x')", "gpt-4o", None),  # data, never evaluated
    ],
)
def test_conditions_are_decided_from_the_deployment_name_only(condition: str, name: str, holds: bool | None) -> None:
    from auditor.engine.conditional import condition_holds

    assert condition_holds(condition, name) is holds


def _conditional_findings(condition: str, deployment_model: str, rules: Any, kb: Any) -> list[Any]:
    from auditor.engine.evaluate import evaluate_all
    from auditor.model.facts import ContractCall
    from tests.conftest import TODAY, make_deployment, make_facts

    deployment = make_deployment("chat", deployment_model)
    call = ContractCall(
        deployment="chat",
        api="responses",
        parameters={"input": None, "reasoning": {"effort": "low"}},
        conditions={"reasoning": condition} if condition else {},
    )
    facts = make_facts(deployment, contract=(call,))
    chosen = [r for r in rules if r.id == "AOAI-PARAM-004"]
    return [f for f in evaluate_all(chosen, facts, kb, TODAY) if f.status.value != "pass"]


def test_no_false_error_from_a_conditional_parameter(rules: Any, kb: Any) -> None:
    """reasoning sent only to names starting with "o": never judged against gpt-4o (AOAI-PARAM-004 is the
    error the issue reports), judged as usual where it holds, a warning where it cannot be told."""
    from auditor.model.results import Severity, Status

    unconditional = _conditional_findings("", "gpt-4o", rules, kb)  # "": no condition
    assert [(f.status, f.severity) for f in unconditional] == [(Status.FAIL, Severity.ERROR)]  # the rule bites
    assert _conditional_findings("deployment.startswith('o')", "gpt-4o", rules, kb) == []  # cannot hold
    undecided = _conditional_findings("settings.use_reasoning", "gpt-4o", rules, kb)
    assert [(f.status, f.severity) for f in undecided] == [(Status.FAIL, Severity.WARNING)]
    assert "cannot decide" in undecided[0].message


# --- nothing silent: unread files are gaps -----------------------------------------------------------------


def _unread_app(root: Path) -> Path:
    app = _write(
        root,
        {
            "main.py": "from openai import OpenAI\nOpenAI().chat.completions.create(model='chat-prod', messages=[])\n",
            "web/chat.ts": "import { AzureOpenAI } from 'openai';\n",
            "web/util.ts": "export const x = 1;\n",
        },
    )
    (app / "latin1.py").write_bytes(b"# caf\xe9\nimport openai\n")
    return app


def test_every_unread_file_is_listed_with_why(tmp_path: Path) -> None:
    app = _unread_app(tmp_path / "app")
    result = scan(app)
    assert [c.deployment for c in result.calls] == ["chat-prod"]
    assert sorted(result.skipped) == [
        f"{app}/latin1.py: not scanned (not UTF-8 text: invalid continuation byte at byte 5)",
        f"{app}/web/chat.ts: not read (a TypeScript source that mentions openai; the scan reads Python)",
    ]
    assert "1 TypeScript source file(s) not read (none mentions openai)" in result.notes
    document = contract_document(result)
    assert document["unread"] == list(result.skipped)


def test_a_contract_lists_unread_files_and_they_are_gaps(tmp_path: Path) -> None:
    from auditor.sources.contract import load_contract_document, load_contract_unread
    from auditor.sources.scan import contract_yaml

    app = _unread_app(tmp_path / "app")
    path = tmp_path / "contract.yaml"
    path.write_text(contract_yaml(scan(app), str(app)))
    assert len(load_contract_unread(path)) == 2
    calls, _ = load_contract_document(path)  # the new keys are part of the format
    assert [c.deployment for c in calls] == ["chat-prod"]
    assert yaml.safe_load(path.read_text())["unread"][0].endswith("the scan reads Python)")
    from auditor.pipeline.audit import AuditOptions, _app_contract

    _, _, gaps = _app_contract(AuditOptions(contract=path))  # --contract FILE: the same gaps as --contract-from
    assert sorted(g.reason.split(" — ")[0].rsplit("/", 1)[-1] for g in gaps) == [
        "chat.ts: not read (a TypeScript source that mentions openai; the scan reads Python)",
        "latin1.py: not scanned (not UTF-8 text: invalid continuation byte at byte 5)",
    ]
    assert _app_contract(AuditOptions(contract=path, scan_allow_unread=True))[2] == ()


def _demo(tmp_path: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    from auditor.cli import main

    app = _unread_app(tmp_path / "app")
    out = tmp_path / "out"
    argv = ["--demo", "--quiet", "--format", "json", "--out", str(out), "--select", "AOAI-API-001"]
    code = main([*argv, "--contract-from", str(app), *extra])
    return code, json.loads((out / "report.json").read_text())


def test_the_demos_contract_from_flow_shows_unread_files_as_gaps(tmp_path: Path) -> None:
    code, report = _demo(tmp_path)
    unread = [g for g in report["gaps"] if "not read" in g or "not scanned" in g]
    assert any("web/chat.ts" in g and "--scan-allow-unread" in g for g in unread), report["gaps"]
    assert any("latin1.py" in g for g in unread)
    assert code == 3, "calls the scan could not read: the audit is incomplete, not passed"


def test_the_console_names_the_unread_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from auditor.cli import main

    app = _unread_app(tmp_path / "app")
    argv = ["--demo", "--out", str(tmp_path / "out"), "--select", "AOAI-API-001", "--contract-from", str(app)]
    assert main(argv) == 3
    out = " ".join(capsys.readouterr().out.split())
    assert "INCOMPLETE contract-from:" in out and "web/chat.ts" in out


def test_scan_allow_unread_accepts_them(tmp_path: Path) -> None:
    code, report = _demo(tmp_path, "--scan-allow-unread")
    assert not [g for g in report["gaps"] if "chat.ts" in g or "latin1.py" in g]
    assert code == (3 if report["gaps"] else 0), "the unread files no longer make it incomplete"


# --- the CLI -----------------------------------------------------------------------------------------------


def test_contract_scan_writes_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from auditor.cli import main

    app = _write(tmp_path / "app", {"shapes.py": SHAPES})
    assert main(["contract", "scan", str(app), "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert sorted(document["deployments"]) == [
        "gpt-4o",
        "gpt-5",
        "gpt-image-1",
        "gpt-realtime",
        "sora",
        "tts-hd",
        "whisper",
    ]
    assert document["notes"][0].endswith("(batches.create takes no model=)")


def test_contract_scan_help_says_what_is_read(capsys: pytest.CaptureFixture[str]) -> None:
    from auditor.cli import main

    with pytest.raises(SystemExit):
        main(["contract", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for word in ("notebooks", "Prompty", "AutoGen", "Foundry agents", "--format", "unread"):
        assert word in text


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="symlinks")
def test_symlinked_notebooks_are_unread_not_followed(tmp_path: Path) -> None:
    outside = _write(tmp_path / "outside", {"nb.ipynb": MULTI_AGENT})
    app = _write(tmp_path / "app", {"main.py": "x = 1\n"})
    (app / "nb.ipynb").symlink_to(outside / "nb.ipynb")
    result = scan(app)
    assert result.calls == ()
    assert result.skipped == (
        f"{app}/nb.ipynb: not read (a symlink, not followed: its target is read only if it is in the tree)",
    )
