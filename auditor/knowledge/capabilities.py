"""What the keys of a catalog entry's `capabilities` mean: the one table the auditor reads them through.

Azure sends every capability as a string (`"true"`, `"128000"`) and leaves out what a model lacks. Two
generations of keys are in use: older entries carry `completion`, `chat`, `maxTotalToken`, `inference`,
`imageGenerations`, `vision`; newer ones `chatCompletion`, `responses`, `maxContextToken`, `maxOutputToken`.
Both occur in the published Models_List example (Azure/azure-rest-api-specs, specification/cognitiveservices/
resource-manager/Microsoft.CognitiveServices/stable/2025-09-01/examples/ListLocationModels.json: gpt-4o
2024-05-13 with `completion`, `chat`, `vision`; gpt-35-turbo 0301 with `completion`, `chatCompletion`,
`maxTotalToken`) and in a real `az cognitiveservices model list` dump published on GitHub (cjoakim/data
datasets/azure/model-list.json @7a42440: 298 entries, `chatCompletion`, `responses`, `maxContextToken` ... on
current models). The swagger describes `capabilities` only as "The
capabilities" (string map), so each meaning below is taken from where the key occurs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Capability:
    """One catalog capability key: what it says, and the auditor's use of it."""

    meaning: str
    api: str | None = None
    """The API a "true" value proves the model serves (auditor API names), when it proves one."""
    limit: str | None = None
    """The token limit its number gives (context_window, max_output_tokens)."""
    weak_api: bool = False
    """A "true" proves the API only when no chat key is present (see `completion`)."""


CAPABILITIES: Mapping[str, Capability] = {
    "chatCompletion": Capability("the Chat Completions API works", api="chat_completions"),
    "chat": Capability(
        "older key for chat: the Chat Completions API works (gpt-4o 2024-05-13 in ListLocationModels.json)",
        api="chat_completions",
    ),
    "responses": Capability("the Responses API works", api="responses"),
    "completion": Capability(
        "older key for text generation. Alone it marks a legacy Completions model (ada, davinci: "
        "`completion` + `search` in the 2021-2023 examples); next to `chat`/`chatCompletion` (gpt-4o "
        "2024-05-13 in ListLocationModels.json) it says nothing about the legacy Completions endpoint",
        api="completions",
        weak_api=True,
    ),
    "embeddings": Capability("the Embeddings API works", api="embeddings"),
    "maxContextToken": Capability("the context window in tokens (input + output)", limit="context_window"),
    "maxTotalToken": Capability(
        "older key for the context window in tokens (gpt-35-turbo 0301: 4096 in ListLocationModels.json)",
        limit="context_window",
    ),
    "maxOutputToken": Capability("the most output tokens one call can produce", limit="max_output_tokens"),
    "inference": Capability('the version can be deployed for inference ("false": a fine-tuning base only)'),
    "imageGenerations": Capability("the image generation API works (dall-e); no chat or completions"),
    "vision": Capability("image input is accepted"),
    "functionCalling": Capability("tools / function calling work"),
    "jsonObjectResponse": Capability('response_format {"type": "json_object"} works'),
    "jsonSchemaResponse": Capability("structured outputs (json_schema) work"),
    "assistants": Capability("the Assistants API works"),
    "realtime": Capability("the Realtime API works"),
    "audio": Capability("audio input or output works"),
    "search": Capability("older key: the legacy search/similarity endpoints work"),
    "embeddingsMaxInputs": Capability("the most inputs one embeddings call takes"),
    "scaleType": Capability("the old scale types offered (Manual, Standard, Provisioned)"),
    "area": Capability("the data zone of the entry (US, EUR)"),
    "fineTune": Capability("the version can be fine-tuned"),
}

_CHAT_KEYS = tuple(k for k, c in CAPABILITIES.items() if c.api == "chat_completions")


def _true(value: object) -> bool:
    return str(value).strip().lower() == "true"


def apis_reported(capabilities: Mapping[str, str]) -> list[str]:
    """The APIs the catalog entry proves the model serves, read through CAPABILITIES."""
    has_chat = any(_true(capabilities.get(k)) for k in _CHAT_KEYS)
    apis = set()
    for key, value in capabilities.items():
        capability = CAPABILITIES.get(key)
        if capability is None or capability.api is None or not _true(value):
            continue
        if capability.weak_api and has_chat:
            continue
        apis.add(capability.api)
    return sorted(apis)


def limits_reported(capabilities: Mapping[str, str]) -> dict[str, tuple[str, int]]:
    """Token limits the entry reports, as {limit: (key, value)}; the newer key wins where both are present."""
    out: dict[str, tuple[str, int]] = {}
    for key, value in capabilities.items():
        capability = CAPABILITIES.get(key)
        if capability is None or capability.limit is None:
            continue
        try:
            number = int(str(value))
        except ValueError:
            continue
        if capability.limit in out and key == "maxTotalToken":
            continue
        out[capability.limit] = (key, number)
    return out
