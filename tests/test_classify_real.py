"""Real data-plane answers, quoted in public issue threads, classified as Azure meant them.

Each body is copied from the thread cited beside it (repository, issue); the expectation is what the answer
says, not what our code happened to do before. These are the cases the first classifier got wrong: a 200 cut by
the content filter, 400s that name the parameter only in `param` or the message (`code: null`), and the
Responses API's `unsupported_model`.
"""

from __future__ import annotations

from typing import Any

import pytest

from auditor.model.enums import ProbeOutcome
from auditor.probes.classify import classify

CASES: list[tuple[str, int, Any, ProbeOutcome, str | None]] = [
    # openai/openai-python#1724 (AzureOpenAI, api-version 2024-08-01-preview, gpt-4o): code and param null.
    (
        "max_completion_tokens unrecognized",
        400,
        {
            "error": {
                "message": "Unrecognized request argument supplied: max_completion_tokens",
                "type": "invalid_request_error",
                "param": None,
                "code": None,
            }
        },
        ProbeOutcome.UNSUPPORTED_PARAMETER,
        "max_completion_tokens",
    ),
    # BerriAI/litellm#8638 (Azure gpt-4o through litellm): the same body.
    (
        "max_completion_tokens unrecognized (litellm)",
        400,
        {
            "error": {
                "message": "Unrecognized request argument supplied: max_completion_tokens",
                "type": "invalid_request_error",
                "param": None,
                "code": None,
            }
        },
        ProbeOutcome.UNSUPPORTED_PARAMETER,
        "max_completion_tokens",
    ),
    # pipecat-ai/pipecat#4043 (gpt-5.4): param names it, code null.
    (
        "function tools with reasoning_effort",
        400,
        {
            "error": {
                "message": "Function tools with reasoning_effort are not supported for gpt-5.4 in /v1/chat/completions. "
                "Please use /v1/responses instead.",
                "type": "invalid_request_error",
                "param": "reasoning_effort",
                "code": None,
            }
        },
        ProbeOutcome.UNSUPPORTED_PARAMETER,
        "reasoning_effort",
    ),
    # charmbracelet/crush#2913 quotes the message alone; the parameter is read from it.
    (
        "function tools with reasoning_effort, message only",
        400,
        {
            "error": {
                "message": "Function tools with reasoning_effort are not supported for gpt-5.5 in /v1/chat/completions. "
                "Please use /v1/responses instead",
                "type": "invalid_request_error",
                "param": None,
                "code": None,
            }
        },
        ProbeOutcome.UNSUPPORTED_PARAMETER,
        "reasoning_effort",
    ),
    # browser-use/web-ui#274 (AZURE_OPENAI_ENDPOINT, gpt-4): the content part is named in param.
    (
        "image_url only on certain models",
        400,
        {
            "error": {
                "message": "Invalid content type. image_url is only supported by certain models.",
                "type": "invalid_request_error",
                "param": "messages.[1].content.[1].type",
                "code": None,
            }
        },
        ProbeOutcome.UNSUPPORTED_PARAMETER,
        "messages.[1].content.[1].type",
    ),
    (
        "image_url only on certain models, message only",
        400,
        {
            "error": {
                "message": "Invalid content type. image_url is only supported by certain models.",
                "type": "invalid_request_error",
                "param": None,
                "code": None,
            }
        },
        ProbeOutcome.UNSUPPORTED_PARAMETER,
        "image_url",
    ),
    # The Responses API's allow-list answer for a model it does not serve (code unsupported_model, param model).
    (
        "unsupported_model on the Responses API",
        400,
        {
            "error": {
                "code": "unsupported_model",
                "message": "Unsupported model gpt-35-turbo on Response API",
                "param": "model",
                "type": "invalid_request_error",
            }
        },
        ProbeOutcome.API_NOT_SUPPORTED,
        "model",
    ),
    # A 200 whose choice was cut by the content filter (MicrosoftDocs/azure-ai-docs, concepts/content-filter.md:
    # finish_reason "content_filter" with content_filter_results on the choice).
    (
        "200 cut by the content filter",
        200,
        {
            "id": "chatcmpl-example",
            "object": "chat.completion",
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "content_filter",
                    "message": {"role": "assistant"},
                    "content_filter_results": {
                        "hate": {"filtered": False, "severity": "safe"},
                        "violence": {"filtered": True, "severity": "medium"},
                    },
                }
            ],
            "usage": {"completion_tokens": 3, "prompt_tokens": 9, "total_tokens": 12},
        },
        ProbeOutcome.CONTENT_FILTER,
        None,
    ),
    # Responses API: an incomplete response cut by the filter (incomplete_details.reason content_filter).
    (
        "Responses answer cut by the content filter",
        200,
        {
            "id": "resp_1",
            "object": "response",
            "status": "incomplete",
            "incomplete_details": {"reason": "content_filter"},
        },
        ProbeOutcome.CONTENT_FILTER,
        None,
    ),
]

HEALTHY: list[tuple[str, int, Any, ProbeOutcome]] = [
    (
        "200 stopped normally",
        200,
        {"choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "hi"}}]},
        ProbeOutcome.SUCCESS,
    ),
    (
        "200 cut by the length limit",
        200,
        {"choices": [{"index": 0, "finish_reason": "length", "message": {"role": "assistant", "content": "h"}}]},
        ProbeOutcome.SUCCESS,
    ),
    # A 400 that names no parameter anywhere stays unexpected: nothing is guessed.
    (
        "400 without code or parameter",
        400,
        {"error": {"message": "Something went wrong.", "type": "invalid_request_error", "param": None, "code": None}},
        ProbeOutcome.UNEXPECTED,
    ),
]


@pytest.mark.parametrize(("label", "status", "body", "outcome", "param"), CASES, ids=[c[0] for c in CASES])
def test_real_answers_are_classified(
    label: str, status: int, body: Any, outcome: ProbeOutcome, param: str | None
) -> None:
    answer = classify(status, body, {})
    assert answer.outcome is outcome, label
    assert answer.error_param == param
    if outcome is ProbeOutcome.CONTENT_FILTER and status == 200:
        assert answer.remedy == "content_filter" and answer.error_code == "content_filter"


def test_the_filtered_categories_are_named() -> None:
    answer = classify(200, CASES[7][2], {})
    assert answer.filtered == ("violence",)


@pytest.mark.parametrize(("label", "status", "body", "outcome"), HEALTHY, ids=[c[0] for c in HEALTHY])
def test_answers_that_say_nothing_more_are_not_read_into(
    label: str, status: int, body: Any, outcome: ProbeOutcome
) -> None:
    assert classify(status, body, {}).outcome is outcome, label
