"""The patterns real Azure OpenAI apps use (issue 15), each on a small app written for it under
tests/fixtures/scan/, with the exact contract entries expected; and the scan's file safety (symlinks,
special files, size limit, deep nesting, tests left out)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from auditor.sources.scan import contract_document, scan

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(autouse=True)
def _in_fixtures(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(FIXTURES)


def _contract(name: str, **options: Any) -> dict[str, Any]:
    result = scan(f"scan/{name}", **options)
    assert result.skipped == ()
    return contract_document(result)


def test_1_the_model_chosen_per_host_keeps_the_azure_branch_and_records_the_others() -> None:
    document = _contract("branches")
    assert document["deployments"] == {
        "env:AZURE_OPENAI_CHAT_DEPLOYMENT": [
            {
                "api": "chat_completions",
                "parameters": {"messages": None, "temperature": 0.7},
                "source": "scan/branches/app.py:22",
                "alternatives": ["env:OLLAMA_MODEL", "env:GITHUB_MODEL (default openai/gpt-4o)", "env:OPENAI_MODEL"],
                "note": "MODEL_NAME differs by branch; the Azure branch is kept",
            }
        ]
    }
    assert document["unresolved"] == [
        {
            "api": "chat_completions",
            "source": "scan/branches/app.py:33",
            "model": "OTHER",
            "why": "model= is OTHER, which differs by branch (local-model, remote-model) and no single branch is "
            "recognisably Azure's: not guessed",
            "parameters": {"messages": None},
        }
    ]


def test_2_raw_and_streaming_response_calls_are_found_and_a_resume_is_not_a_call() -> None:
    assert _contract("raw_response") == {
        "deployments": {
            "chat-prod": [
                {
                    "api": "chat_completions",
                    "parameters": {"max_tokens": 1000, "messages": None, "stream": True},
                    "source": "scan/raw_response/app.py:14",
                    "api_version": "2024-10-21",
                }
            ],
            "reasoner": [
                {
                    "api": "responses",
                    "parameters": {"input": None},
                    "source": "scan/raw_response/app.py:21",
                    "api_version": "2024-10-21",
                }
            ],
            "split-call": [  # `.create\` then `(` on the next line
                {
                    "api": "chat_completions",
                    "parameters": {"messages": None},
                    "source": "scan/raw_response/app.py:31",
                    "api_version": "2024-10-21",
                }
            ],
        }
    }


def test_3_the_clients_azure_deployment_wins_over_model() -> None:
    assert _contract("client_deployment")["deployments"] == {
        "env:AZURE_OPENAI_DEPLOYMENT": [
            {
                "api": "chat_completions",
                "parameters": {"messages": None},
                "source": "scan/client_deployment/app.py:18",
                "api_version": "env:OPENAI_API_VERSION",  # openai-python reads it when api_version= is not given
                "note": "the AzureOpenAI client's azure_deployment routes the call; model='placeholder' is not used "
                "for routing",
            }
        ],
        "gpt4o-prod": [
            {
                "api": "embeddings",
                "parameters": {"input": None},
                "source": "scan/client_deployment/app.py:22",
                "api_version": "2024-10-21",
                "note": "the AzureOpenAI client's azure_deployment routes the call; model='text-embedding-3-small' is "
                "not used for routing",
            }
        ],
    }


def test_4_settings_objects_attributes_and_class_constants() -> None:
    document = _contract("settings")
    assert "unresolved" not in document
    assert document["deployments"] == {
        "env:AZURE_OPENAI_CHAT_DEPLOYMENT": [
            {"api": "responses", "parameters": {"input": None}, "source": "scan/settings/app.py:30"}
        ],
        "env:AZURE_OPENAI_EMBEDDING_DEPLOYMENT": [
            {
                "api": "embeddings",
                "default": "embed-default",
                "parameters": {"input": None},
                "source": "scan/settings/app.py:28",
                "note": "settings field AzureOpenAISettings.embedding_name",
            }
        ],
        "env:AZURE_OPENAI_EMB_DEPLOYMENT": [
            {"api": "embeddings", "parameters": {"input": None}, "source": "scan/settings/app.py:31"}
        ],
        "env:AZURE_OPENAI_MODEL": [
            {
                "api": "chat_completions",
                "default": "gpt-4.1",
                "parameters": {"messages": None},
                "source": "scan/settings/app.py:23",
            },
            {
                "api": "chat_completions",
                "default": "chat-default",
                "parameters": {"messages": None},
                "source": "scan/settings/app.py:27",
                "note": "settings field AzureOpenAISettings.model",
            },
        ],
        "summary-prod": [
            {"api": "chat_completions", "parameters": {"messages": None}, "source": "scan/settings/app.py:29"}
        ],
    }


def test_5_keyword_dicts_keep_model_and_parameters() -> None:
    assert (
        _contract("kwargs_dicts")
        == {
            "deployments": {
                "chat-prod": [
                    {
                        "api": "chat_completions",
                        "parameters": {"max_tokens": 800, "messages": None},
                        "source": "scan/kwargs_dicts/app.py:19",
                    }
                ],
                "env:AZURE_OPENAI_CHAT_DEPLOYMENT": [
                    {
                        "api": "chat_completions",
                        "parameters": {"messages": None, "stream": True, "temperature": 0.7},
                        "source": "scan/kwargs_dicts/app.py:14",
                    },
                    {  # model_args = build_args(...): the dict the project's function returns (sample-app-aoai-chatGPT's shape)
                        "api": "chat_completions",
                        "parameters": {"max_tokens": 400, "messages": None, "temperature": 0.3},
                        "source": "scan/kwargs_dicts/app.py:34",
                    },
                ],
            },
            "unresolved": [
                {
                    "api": "chat_completions",
                    "source": "scan/kwargs_dicts/app.py:23",
                    "model": "(no model=)",
                    "why": "the call passes its arguments as **kwargs, built at run time",
                }
            ],
        }
    )


def test_6_fallbacks_wrappers_partial_environ_alias_and_tuple_unpacking() -> None:
    document = _contract("wrappers")
    assert document["deployments"] == {
        "chat-mini": [
            {
                "api": "chat_completions",
                "parameters": {"messages": None},
                "source": "scan/wrappers/use.py:6",
                "via": "complete() at scan/wrappers/llm.py:16",
            }
        ],
        "chat-prod": [
            {
                "api": "chat_completions",
                "parameters": {"messages": None, "temperature": 0.7},
                "source": "scan/wrappers/use.py:5",
                "via": "complete() at scan/wrappers/llm.py:16",
            }
        ],
        "env:AZURE_OPENAI_CHAT_DEPLOYMENT": [
            {
                "api": "chat_completions",
                "default": "chat-fallback",
                "parameters": {"messages": None},
                "source": "scan/wrappers/llm.py:27",
            },
            {
                "api": "chat_completions",
                "default": "or-default",
                "parameters": {"messages": None},
                "source": "scan/wrappers/llm.py:29",
            },
        ],
        "env:AZURE_OPENAI_DEPLOYMENT": [  # client, model = get_client(): the project's function returns one tuple
            {
                "api": "chat_completions",
                "parameters": {"messages": None},
                "source": "scan/wrappers/llm.py:31",
                "note": "returned by get_client()",
            }
        ],
        "env:AZURE_OPENAI_GPT4_DEPLOYMENT": [
            {"api": "chat_completions", "parameters": {"messages": None}, "source": "scan/wrappers/llm.py:28"}
        ],
        "partial-prod": [
            {
                "api": "chat_completions",
                "parameters": {"temperature": 0},
                "source": "scan/wrappers/llm.py:19",
                "via": "functools.partial",
            }
        ],
    }
    assert document["unresolved"] == [
        {
            "api": "chat_completions",
            "source": "scan/wrappers/llm.py:38",
            "model": "deployment",
            "why": "model= is deployment, unpacked from load_pair() (a tuple known at run time)",
            "parameters": {"messages": None},
        }
    ]


def test_7_frameworks_record_their_api_deployment_and_parameters() -> None:
    document = _contract("frameworks")
    assert "unresolved" not in document
    assert document["deployments"] == {
        "autogen-chat": [
            {
                "api": "chat_completions",
                "parameters": {"temperature": 0.1},
                "source": "scan/frameworks/others.py:8",
                "via": "autogen_ext.AzureOpenAIChatCompletionClient",
                "api_version": "2024-10-21",
            }
        ],
        "embed-large": [
            {
                "api": "embeddings",
                "source": "scan/frameworks/lc.py:15",
                "via": "langchain_openai.AzureOpenAIEmbeddings",
                "api_version": "2024-10-21",
            }
        ],
        "env:AZURE_OPENAI_CHAT_DEPLOYMENT": [
            {
                "api": "chat_completions",
                # langchain_openai/chat_models/azure.py _default_params: max_tokens goes out as max_completion_tokens
                "parameters": {"max_completion_tokens": 500, "temperature": 0.3},
                "source": "scan/frameworks/lc.py:7",
                "via": "langchain_openai.AzureChatOpenAI",
                "api_version": "2024-10-21",
            },
            {  # built per host: the Azure branch's object is the call, the other host an alternative
                "api": "chat_completions",
                "source": "scan/frameworks/lc.py:18",
                "alternatives": ["env:OLLAMA_MODEL"],
                "via": "langchain_openai.AzureChatOpenAI",
                "api_version": "2024-10-21",
                "note": "differs by branch; the Azure branch is kept",
            },
        ],
        "env:AZURE_OPENAI_CHAT_DEPLOYMENT_NAME": [
            {
                "api": "chat_completions",
                "source": "scan/frameworks/others.py:11",
                "via": "semantic_kernel.AzureChatCompletion",
                "note": "semantic_kernel.AzureChatCompletion reads AZURE_OPENAI_CHAT_DEPLOYMENT_NAME when no deployment "
                "is given",
            }
        ],
        "gpt-4o-prod": [
            {
                "api": "chat_completions",
                "parameters": {"max_tokens": 300, "temperature": 0.5},
                "source": "scan/frameworks/agents_app.py:10",
                "via": "agents.Agent with agents.OpenAIChatCompletionsModel",
            }
        ],
        "gpt-5-prod": [{"api": "responses", "source": "scan/frameworks/agents_app.py:16", "via": "agents.Agent"}],
        "llama-chat": [
            {
                "api": "chat_completions",
                "parameters": {"temperature": 0.0},
                "source": "scan/frameworks/others.py:13",
                "via": "llama_index.AzureOpenAI",
                "api_version": "2024-10-21",
            }
        ],
        "llama-embed": [
            {
                "api": "embeddings",
                "source": "scan/frameworks/others.py:14",
                "via": "llama_index.AzureOpenAIEmbedding",
                "api_version": "2024-10-21",
            }
        ],
        "o4-mini-prod": [
            {
                "api": "responses",
                # openai-agents-python openai_responses.py: max_tokens -> max_output_tokens, reasoning passed through
                "parameters": {"max_output_tokens": 2000, "reasoning": {"effort": "high"}},
                "source": "scan/frameworks/agents_app.py:11",
                "via": "agents.Agent with agents.OpenAIResponsesModel",
            }
        ],
        "reasoner": [
            {
                "api": "responses",
                "parameters": {"reasoning": {"effort": "low"}},
                "source": "scan/frameworks/lc.py:14",
                "via": "langchain_openai.AzureChatOpenAI",
                "api_version": "env:OPENAI_API_VERSION",
            }
        ],
        "sk-chat": [
            {
                "api": "chat_completions",
                "source": "scan/frameworks/others.py:12",
                "via": "semantic_kernel.AzureChatCompletion",
                "api_version": "2024-10-21",
            }
        ],
    }


def test_8_the_pre_1_0_sdk_is_recorded_with_its_generation() -> None:
    legacy = {"sdk": "openai<1", "api_version": "2023-05-15"}
    assert _contract("legacy")["deployments"] == {
        "davinci-prod": [
            {
                "api": "completions",
                "parameters": {"max_tokens": 100, "prompt": None},
                "source": "scan/legacy/app.py:20",
                "via": "openai.Completion.create",
                **legacy,
            }
        ],
        "embed-ada": [
            {
                "api": "embeddings",
                "parameters": {"input": None},
                "source": "scan/legacy/app.py:16",
                "via": "openai.Embedding.create",
                **legacy,
            }
        ],
        "env:AZURE_OPENAI_CHATGPT_DEPLOYMENT": [
            {
                "api": "chat_completions",
                "parameters": {"messages": None, "temperature": 0.2},
                "source": "scan/legacy/app.py:12",
                "via": "openai.ChatCompletion.create",
                **legacy,
            }
        ],
    }


def test_8_the_legacy_call_gets_its_finding_through_the_contract(tmp_path: Path) -> None:
    from auditor.sources.scan import contract_from_code

    calls, _, _ = contract_from_code("scan/legacy")
    assert {c.sdk for c in calls} == {"openai<1"}


def test_9_and_10_other_sdks_tests_and_prompt_text_are_not_recorded(tmp_path: Path) -> None:
    document = _contract("not_calls")
    assert document == {
        "deployments": {
            "chat-prod": [
                {
                    "api": "chat_completions",
                    "parameters": {"input": None, "messages": None, "prompt": None},
                    "source": "scan/not_calls/app.py:10",
                },
                {
                    "api": "responses",
                    "parameters": {"input": None, "instructions": None},
                    "source": "scan/not_calls/app.py:11",
                },
            ]
        }
    }
    app = tmp_path / "app"
    (app / "tests").mkdir(parents=True)
    (app / "main.py").write_text("from openai import OpenAI\nOpenAI().embeddings.create(model='e', input='x')\n")
    mock = "from openai import OpenAI\nOpenAI().chat.completions.create(model='mock-deployment', messages=[])\n"
    for name in ("tests/test_app.py", "conftest.py", "test_main.py", "helper_test.py"):
        (app / name).write_text(mock)
    result = scan(app)
    assert [c.deployment for c in result.calls] == ["e"]
    assert result.notes == ("4 test file(s) (tests/, test_*.py, conftest.py) left out; --include-tests keeps them",)
    assert [c.deployment for c in scan(app, include_tests=True).calls].count("mock-deployment") == 4


def test_contract_scan_command_takes_include_tests(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from auditor.cli import main

    app = tmp_path / "app"
    (app / "tests").mkdir(parents=True)
    (app / "tests" / "test_x.py").write_text(
        "from openai import OpenAI\nOpenAI().chat.completions.create(model='mock', messages=[])\n"
    )
    assert main(["contract", "scan", str(app)]) == 0
    captured = capsys.readouterr()
    assert "mock" not in captured.out and "1 test file(s)" in captured.err
    assert main(["contract", "scan", str(app), "--include-tests"]) == 0
    assert "mock:" in capsys.readouterr().out


# --- file safety ------------------------------------------------------------------------------------------


def _app(tmp_path: Path) -> Path:
    app = tmp_path / "app"
    app.mkdir()
    (app / "main.py").write_text(
        "from openai import OpenAI\nOpenAI().chat.completions.create(model='in-tree', messages=[])\n"
    )
    return app


def test_symlinks_are_never_followed_out_of_the_tree(tmp_path: Path) -> None:
    app = _app(tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.py").write_text("from openai import OpenAI\nOpenAI().chat.completions.create(model='outside')\n")
    (app / "linked.py").symlink_to(outside / "secret.py")
    (app / "linked_dir").symlink_to(outside)
    result = scan(app)
    assert [c.deployment for c in result.calls] == ["in-tree"]
    # unread files of the app are gaps (issue 26): listed as unread with why, not as notes
    assert sorted(result.skipped) == [
        f"{app}/linked.py: not read (a symlink, not followed: its target is read only if it is in the tree)",
        f"{app}/linked_dir: not read (a symlinked directory, not followed)",
    ]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_special_files_are_not_read(tmp_path: Path) -> None:
    app = _app(tmp_path)
    os.mkfifo(app / "pipe.py")  # opening it for reading would block forever
    result = scan(app)
    assert [c.deployment for c in result.calls] == ["in-tree"]
    assert result.skipped == (f"{app}/pipe.py: not read (not a regular file)",)


def test_files_over_the_size_limit_are_skipped_with_a_note(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from auditor.sources.scan import files

    app = _app(tmp_path)
    (app / "generated.py").write_text("X = 1\n" * 100)
    monkeypatch.setattr(files, "MAX_FILE_BYTES", 200)
    monkeypatch.setattr(files.read_source, "__defaults__", (200,))
    result = scan(app)
    assert [c.deployment for c in result.calls] == ["in-tree"]
    assert result.skipped == (f"{app}/generated.py: not scanned (OSError: larger than 200 bytes (600); not scanned)",)


def test_line_numbers_follow_the_tokenizer_not_str_splitlines(tmp_path: Path) -> None:
    app = tmp_path / "app"
    app.mkdir()
    (app / "ff.py").write_text(
        'import openai\n\x0c\nc = openai.OpenAI()  # \x1c\n\x0c\nc.chat.completions.create(model="ff", messages=[])\n'
    )
    assert [(c.deployment, c.line) for c in scan(app).calls] == [("ff", 5)]


def test_deeply_nested_expressions_do_not_crash_the_scan(tmp_path: Path) -> None:
    app = _app(tmp_path)
    (app / "deep.py").write_text("from openai import OpenAI\nX = " + "(" * 5000 + "1" + ")" * 5000 + "\n")
    deep_binop = "from openai import OpenAI\nM = " + " + ".join(["'a'"] * 20000) + "\n"
    deep_binop += "OpenAI().chat.completions.create(model=M, messages=[])\n"
    (app / "deep2.py").write_text(deep_binop)
    result = scan(app)
    assert "in-tree" in [c.deployment for c in result.calls]
    assert all("deep" in s and "not scanned" in s for s in result.skipped)
    assert any("deep.py" in s for s in result.skipped)
