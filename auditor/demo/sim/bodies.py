"""Data-plane success bodies (chat completions, responses, embeddings, and their streams) with tiny usage."""

from __future__ import annotations

import base64
import hashlib
import math
import re
import secrets
import string
import struct
import time
from collections.abc import Mapping, Sequence
from typing import Any

from auditor.demo.sim.spec import (
    DeploymentSpec,
    ModelBehaviour,
)
from auditor.demo.sim.wire import (
    _NOT_DETECTED,
    _SAFE,
    _compact,
)


def chat_success(
    request: Mapping[str, Any], deployment: DeploymentSpec, behaviour: ModelBehaviour
) -> tuple[bytes, int, bool]:
    """A Chat Completions body (or its stream), with tiny usage numbers."""
    prompt_tokens = _estimate_tokens(_texts(request.get("messages")))
    budget = request.get("max_completion_tokens") or request.get("max_tokens")
    reasoning = 16 if behaviour.reasoning else 0
    content = f"Hello from the simulated deployment {deployment.name}."
    completion = 9
    finish = "stop"
    if isinstance(budget, int) and budget < reasoning + completion:
        # Reasoning models spend the budget on reasoning first, as real ones do.
        reasoning = min(reasoning, budget)
        completion = max(0, budget - reasoning)
        content = content[: completion * 4] if completion else ""
        finish = "length"
    model_id = _model_id(deployment)
    created = int(time.time())
    completion_id = "chatcmpl-" + _random_alnum(29)
    fingerprint = "fp_" + secrets.token_hex(5)
    usage: dict[str, Any] = {
        "completion_tokens": completion + reasoning,
        "prompt_tokens": prompt_tokens,
        "total_tokens": prompt_tokens + completion + reasoning,
        "completion_tokens_details": {
            "accepted_prediction_tokens": 0,
            "audio_tokens": 0,
            "reasoning_tokens": reasoning,
            "rejected_prediction_tokens": 0,
        },
        "prompt_tokens_details": {"audio_tokens": 0, "cached_tokens": 0},
    }
    choice_filter = {
        "hate": _SAFE,
        "protected_material_code": _NOT_DETECTED,
        "protected_material_text": _NOT_DETECTED,
        "self_harm": _SAFE,
        "sexual": _SAFE,
        "violence": _SAFE,
    }
    prompt_filter = [
        {
            "prompt_index": 0,
            "content_filter_results": {
                "hate": _SAFE,
                "jailbreak": _NOT_DETECTED,
                "self_harm": _SAFE,
                "sexual": _SAFE,
                "violence": _SAFE,
            },
        }
    ]
    used = int(usage["total_tokens"])
    if request.get("stream"):
        include_usage = bool((request.get("stream_options") or {}).get("include_usage"))
        common = {
            "created": created,
            "id": completion_id,
            "model": model_id,
            "object": "chat.completion.chunk",
            "system_fingerprint": fingerprint,
        }
        events: list[dict[str, Any]] = [
            {
                "choices": [],
                "created": 0,
                "id": "",
                "model": "",
                "object": "",
                "prompt_filter_results": prompt_filter,
            },
            {
                "choices": [
                    {
                        "content_filter_results": {},
                        "delta": {"content": "", "refusal": None, "role": "assistant"},
                        "finish_reason": None,
                        "index": 0,
                        "logprobs": None,
                    }
                ],
                **common,
                "usage": None,
            },
            {
                "choices": [
                    {
                        "content_filter_results": choice_filter,
                        "delta": {"content": content},
                        "finish_reason": None,
                        "index": 0,
                        "logprobs": None,
                    }
                ],
                **common,
                "usage": None,
            },
            {
                "choices": [
                    {
                        "content_filter_results": {},
                        "delta": {},
                        "finish_reason": finish,
                        "index": 0,
                        "logprobs": None,
                    }
                ],
                **common,
                "usage": None,
            },
        ]
        if include_usage:
            events.append({"choices": [], **common, "usage": usage})
        stream = b"".join(b"data: " + _compact(e) + b"\n\n" for e in events) + b"data: [DONE]\n\n"
        return stream, used, True
    body = {
        "choices": [
            {
                "content_filter_results": choice_filter,
                "finish_reason": finish,
                "index": 0,
                "logprobs": None,
                "message": {"annotations": [], "content": content, "refusal": None, "role": "assistant"},
            }
        ],
        "created": created,
        "id": completion_id,
        "model": model_id,
        "object": "chat.completion",
        "prompt_filter_results": prompt_filter,
        "system_fingerprint": fingerprint,
        "usage": usage,
    }
    return _compact(body), used, False


def responses_success(
    request: Mapping[str, Any], deployment: DeploymentSpec, behaviour: ModelBehaviour
) -> tuple[bytes, int, bool]:
    """A Responses body; `model` echoes the deployment name (likely, not fully verified)."""
    input_tokens = _estimate_tokens([*_texts(request.get("input")), str(request.get("instructions") or "")])
    reasoning_tokens = 16 if behaviour.reasoning else 0
    text = f"Hello from the simulated deployment {deployment.name}."
    output_tokens = 9 + reasoning_tokens
    created = int(time.time())
    response_id = "resp_" + secrets.token_hex(24)
    output: list[dict[str, Any]] = []
    if behaviour.reasoning:
        output.append({"id": "rs_" + secrets.token_hex(24), "summary": [], "type": "reasoning"})
    output.append(
        {
            "id": "msg_" + secrets.token_hex(24),
            "content": [{"annotations": [], "text": text, "type": "output_text"}],
            "role": "assistant",
            "status": "completed",
            "type": "message",
        }
    )
    body: dict[str, Any] = {
        "id": response_id,
        "created_at": created,
        "error": None,
        "incomplete_details": None,
        "instructions": request.get("instructions"),
        "metadata": request.get("metadata") or {},
        "model": str(request.get("model") or deployment.name),
        "object": "response",
        "output": output,
        "parallel_tool_calls": True,
        "temperature": float(request.get("temperature") or 1.0),
        "tool_choice": "auto",
        "tools": [],
        "top_p": 1.0,
        "background": False,
        "max_output_tokens": request.get("max_output_tokens"),
        "previous_response_id": request.get("previous_response_id"),
        "reasoning": {"effort": (request.get("reasoning") or {}).get("effort") or "medium", "summary": None}
        if behaviour.reasoning
        else {"effort": None, "summary": None},
        "service_tier": "default",
        "status": "completed",
        "text": {"format": {"type": "text"}},
        "truncation": "disabled",
        "usage": {
            "input_tokens": input_tokens,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": output_tokens,
            "output_tokens_details": {"reasoning_tokens": reasoning_tokens},
            "total_tokens": input_tokens + output_tokens,
        },
        "user": None,
        "store": True,
    }
    used = input_tokens + output_tokens
    if request.get("stream"):
        in_progress = dict(body, status="in_progress", output=[], usage=None)
        events = [
            ("response.created", {"response": in_progress}),
            ("response.in_progress", {"response": in_progress}),
            (
                "response.output_text.delta",
                {
                    "item_id": output[-1]["id"],
                    "output_index": len(output) - 1,
                    "content_index": 0,
                    "delta": text,
                    "logprobs": [],
                },
            ),
            ("response.completed", {"response": body}),
        ]
        chunks = []
        for number, (event_type, data) in enumerate(events):
            payload = {"type": event_type, "sequence_number": number, **data}
            chunks.append(f"event: {event_type}\n".encode() + b"data: " + _compact(payload) + b"\n\n")
        return b"".join(chunks), used, True
    return _compact(body), used, False


def embeddings_success(
    request: Mapping[str, Any], deployment: DeploymentSpec, behaviour: ModelBehaviour
) -> tuple[bytes, int, bool]:
    inputs = request.get("input")
    items = inputs if isinstance(inputs, list) and inputs and not isinstance(inputs[0], int) else [inputs]
    dimensions = int(request.get("dimensions") or behaviour.embedding_dimensions or 1536)
    data = []
    for index, item in enumerate(items):
        seed = hashlib.sha256(str(item).encode()).digest()
        vector = [((seed[i % len(seed)] / 255.0) - 0.5) / 10.0 for i in range(dimensions)]
        if request.get("encoding_format") == "base64":
            embedding: Any = base64.b64encode(struct.pack(f"<{dimensions}f", *vector)).decode()
        else:
            embedding = vector
        data.append({"object": "embedding", "index": index, "embedding": embedding})
    tokens = _estimate_tokens([str(i) for i in items])
    body = {
        "object": "list",
        "data": data,
        "model": deployment.model_name,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }
    return _compact(body), tokens, False


def _model_id(deployment: DeploymentSpec) -> str:
    """Chat bodies name the underlying model (+ version when it is a date), not the deployment."""
    version = deployment.model_version
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", version):
        return f"{deployment.model_name}-{version}"
    return deployment.model_name


def _texts(value: Any) -> list[str]:
    """Every text fragment inside chat `messages` or a Responses `input`."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [t for item in value for t in _texts(item)]
    if isinstance(value, Mapping):
        out: list[str] = []
        for key in ("content", "text", "input_text"):
            if key in value:
                out.extend(_texts(value[key]))
        return out
    return []


def _estimate_tokens(texts: Sequence[str]) -> int:
    words = sum(len(t.split()) for t in texts)
    return max(1, math.ceil(words * 4 / 3)) + 7


def _random_alnum(length: int) -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(length))
