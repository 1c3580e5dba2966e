"""Wire texts and helpers shared by every plane: reply tuple, JSON encodings, ARM and OpenAI error envelopes,
the exact error bodies Azure sends (as quoted in public issues and recorded in tests/cassettes), paging tokens and stable ids.
"""

from __future__ import annotations

import base64
import json
import uuid
from datetime import datetime, timezone
from typing import Any, NamedTuple


class _Reply(NamedTuple):
    status: int
    body: bytes
    headers: dict[str, str]
    reason: str | None = None
    stall: float = 0.0
    drip: float = 0.0


def _compact(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _pretty(obj: Any) -> bytes:
    # The OpenAI-engine parameter errors are sent pretty-printed with 2-space indent, no trailing newline
    # (the real capture's content-length, 221, matches exactly that form).
    return json.dumps(obj, indent=2, ensure_ascii=False).encode("utf-8")


def _utc_stamp() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f0Z")


def _stable_uuid(*parts: str) -> str:
    """Deterministic GUIDs for ids, etags and internal ids, so served documents are reproducible."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join(parts)))


def _opaque_token(offset: int) -> str:
    """A `$skipToken`: opaque to clients, URL-safe (the SDK re-quotes nextLink query values)."""
    return base64.urlsafe_b64encode(f"skip:{offset}".encode()).decode().rstrip("=")


def _read_token(token: str | None) -> int:
    if not token:
        return 0
    try:
        padded = token + "=" * (-len(token) % 4)
        prefix, _, number = base64.urlsafe_b64decode(padded.encode()).decode().partition(":")
        return int(number) if prefix == "skip" and int(number) >= 0 else -1
    except (ValueError, UnicodeDecodeError):
        return -1


# ---------------------------------------------------------------------------------------------------------
# Wire texts (as real Azure answers quote them)
# ---------------------------------------------------------------------------------------------------------

# The space after "message": reproduces the 198-byte content-length of the real capture.
_DEPLOYMENT_NOT_FOUND = (
    b'{"error":{"code":"DeploymentNotFound","message": "The API deployment for this resource does not exist. '
    b'If you created the deployment within the last 5 minutes, please wait a moment and try again."}}'
)
_RESOURCE_NOT_FOUND = b'{"error":{"code":"404","message": "Resource not found"}}'
_AUTH_TYPE_DISABLED = (
    b'{"error":{"code":"AuthenticationTypeDisabled","message": "Key based authentication is disabled for this '
    b'resource."}}'
)
# compact, 224 bytes.
_INVALID_KEY = _compact(
    {
        "error": {
            "code": "401",
            "message": (
                "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for "
                "an active subscription and use a correct regional API endpoint for your resource."
            ),
        }
    }
)
# non-standard envelope, no "error" key.
_INVALID_TOKEN = _compact(
    {
        "statusCode": 401,
        "message": (
            "Unauthorized. Access token is missing, invalid, audience is incorrect "
            "(https://cognitiveservices.azure.com), or have expired."
        ),
    }
)
# Real Azure text for a public call to an account with publicNetworkAccess Disabled,
# as quoted in public issues (Azure-Samples/azure-search-openai-demo#1157, TabularEditor3#1557).
_PUBLIC_ACCESS_DISABLED = (
    b'{"error":{"code":"403","message": "Public access is disabled. Please configure private endpoint."}}'
)
# dated api-version on /openai/v1.
_API_VERSION_NOT_SUPPORTED = _compact({"error": {"code": "BadRequest", "message": "API version not supported"}})
_OPERATION_NOT_SUPPORTED = (
    "The {operation} operation does not work with the specified model, {model}. Please choose different model "
    "and try again. You can learn more about which models can be used with each operation here: "
    "https://go.microsoft.com/fwlink/?linkid=2197993."
)
_CONTENT_FILTER_MESSAGE = (
    "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please "
    "modify your prompt and retry. To learn more about our content filtering policies please read our "
    "documentation: https://go.microsoft.com/fwlink/?linkid=2198766"
)
# No public capture (UNVERIFIED): the OpenAI-engine 500 text commonly quoted for Azure OpenAI.
_SERVER_ERROR_MESSAGE = (
    "The server had an error while processing your request. Sorry about that! You can retry your request, or "
    "contact us through an Azure support request at: https://go.microsoft.com/fwlink/?linkid=2213926 if you "
    "keep seeing this error. (Please include the request ID {request_id} in your email.)"
)
# Data actions named by PermissionDenied; the path in the message is templated, like Azure's.
# The chat text is verbatim; the responses/embeddings ones follow the same pattern (UNVERIFIED).
_DATA_ACTIONS = {
    "chatCompletion": (
        "Microsoft.CognitiveServices/accounts/OpenAI/deployments/chat/completions/action",
        "POST /openai/deployments/{deployment-id}/chat/completions",
    ),
    "responses": ("Microsoft.CognitiveServices/accounts/OpenAI/responses/write", "POST /openai/responses"),
    "embeddings": (
        "Microsoft.CognitiveServices/accounts/OpenAI/deployments/embeddings/action",
        "POST /openai/deployments/{deployment-id}/embeddings",
    ),
}
_OPERATION_IDS = {
    "chatCompletion": "ChatCompletions_Create",
    "responses": "Responses_Create",
    "embeddings": "Embeddings_Create",
}
_REGION_NAMES = {
    "australiaeast": "Australia East",
    "brazilsouth": "Brazil South",
    "canadacentral": "Canada Central",
    "canadaeast": "Canada East",
    "centralus": "Central US",
    "eastus": "East US",
    "eastus2": "East US 2",
    "francecentral": "France Central",
    "germanywestcentral": "Germany West Central",
    "italynorth": "Italy North",
    "japaneast": "Japan East",
    "koreacentral": "Korea Central",
    "northcentralus": "North Central US",
    "northeurope": "North Europe",
    "norwayeast": "Norway East",
    "polandcentral": "Poland Central",
    "southafricanorth": "South Africa North",
    "southcentralus": "South Central US",
    "southeastasia": "Southeast Asia",
    "southindia": "South India",
    "spaincentral": "Spain Central",
    "swedencentral": "Sweden Central",
    "switzerlandnorth": "Switzerland North",
    "uaenorth": "UAE North",
    "uksouth": "UK South",
    "westeurope": "West Europe",
    "westus": "West US",
    "westus2": "West US 2",
    "westus3": "West US 3",
}
_SAFE = {"filtered": False, "severity": "safe"}
_NOT_DETECTED = {"filtered": False, "detected": False}


def _region_name(location: str) -> str:
    return _REGION_NAMES.get(location, location)


def _openai_error(
    message: str, param: str | None, code: str | None, error_type: str | None = "invalid_request_error"
) -> bytes:
    return _pretty({"error": {"message": message, "type": error_type, "param": param, "code": code}})


def _arm_error(code: str, message: str) -> bytes:
    return _compact({"error": {"code": code, "message": message}})
