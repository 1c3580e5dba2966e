"""The Azure OpenAI data plane: `/openai/v1/...` and the legacy deployment paths, key and Entra auth in Azure's
order, scripted 429s and 5xx, parameter checks per model behaviour, the content filter.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import unquote

from auditor.demo.sim.bodies import (
    _model_id,
    _texts,
    chat_success,
    embeddings_success,
    responses_success,
)
from auditor.demo.sim.documents import ArmDocuments
from auditor.demo.sim.identity import COGNITIVE_SERVICES_RESOURCE, _norm_resource
from auditor.demo.sim.spec import (
    AccountSpec,
    DeploymentSpec,
    ModelBehaviour,
)
from auditor.demo.sim.wire import (
    _API_VERSION_NOT_SUPPORTED,
    _AUTH_TYPE_DISABLED,
    _CONTENT_FILTER_MESSAGE,
    _DATA_ACTIONS,
    _DEPLOYMENT_NOT_FOUND,
    _INVALID_KEY,
    _INVALID_TOKEN,
    _OPERATION_IDS,
    _OPERATION_NOT_SUPPORTED,
    _PUBLIC_ACCESS_DISABLED,
    _RESOURCE_NOT_FOUND,
    _SAFE,
    _SERVER_ERROR_MESSAGE,
    _arm_error,
    _compact,
    _openai_error,
    _region_name,
    _Reply,
)

_DATA_PATH = re.compile(r"^/aoai/(?P<acct>[^/]+)/(?P<rest>.*)$")
_V1_ROUTES = {
    "openai/v1/chat/completions": "chatCompletion",
    "openai/v1/responses": "responses",
    "openai/v1/embeddings": "embeddings",
}
_LEGACY_DEPLOYMENT_ROUTE = re.compile(r"^openai/deployments/(?P<dep>[^/]+)/(?P<op>chat/completions|embeddings)$")


_Replier = Callable[..., _Reply]

_BAD_JSON = _openai_error(
    "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your "
    "HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid "
    "JSON.)",
    None,
    None,
)


def _replier(base_headers: Mapping[str, str]) -> _Replier:
    """Replies carrying the account's data-plane headers (and any extra ones)."""

    def reply(status: int, payload: bytes, reason: str | None = None, extra: Mapping[str, str] | None = None) -> _Reply:
        out = dict(base_headers)
        if extra:
            out.update(extra)
        return _Reply(status, payload, out, reason)

    return reply


def _operation_of(rest: str) -> tuple[str | None, str | None, bool]:
    """The operation a data-plane path names, the deployment in the path (legacy routes), and whether the
    route is a legacy (api-version dated) one."""
    operation = _V1_ROUTES.get(rest)
    if operation is not None:
        return operation, None, False
    legacy_match = _LEGACY_DEPLOYMENT_ROUTE.match(rest)
    if legacy_match:
        operation = "chatCompletion" if legacy_match.group("op") == "chat/completions" else "embeddings"
        return operation, unquote(legacy_match.group("dep")), True
    if rest == "openai/responses":
        return "responses", None, True
    return None, None, False


def _json_object(body: bytes) -> dict[str, Any] | None:
    """The request body as a JSON object (None: not JSON, or not an object)."""
    try:
        request = json.loads(body or b"{}")
    except ValueError:
        return None
    return request if isinstance(request, dict) else None


class DataPlane(ArmDocuments):
    """Answers chat completions, responses and embeddings for the tenant's deployments."""

    def _rate_headers(self, account: AccountSpec, deployment: DeploymentSpec, tokens_used: int) -> dict[str, str]:
        _, sku = self._catalog_match(account, deployment)
        requests_per_minute = 0
        tokens_per_minute = 0
        for rule in (sku or {}).get("rateLimits") or []:
            per_minute = float(rule.get("count", 0)) * deployment.capacity * 60.0 / float(rule.get("renewalPeriod", 60))
            if rule.get("key") == "request":
                requests_per_minute = int(per_minute)
            elif rule.get("key") == "token":
                tokens_per_minute = int(per_minute)
        key = (account.name.lower(), deployment.name.lower())
        now = time.time()
        with self._lock:
            window = self._window.setdefault(key, deque())
            while window and window[0][0] < now - 60:
                window.popleft()
            if tokens_used:
                window.append((now, tokens_used))
            used_requests = len(window)
            used_tokens = sum(t for _, t in window)
        return {
            "x-ratelimit-limit-requests": str(requests_per_minute),
            "x-ratelimit-limit-tokens": str(tokens_per_minute),
            "x-ratelimit-remaining-requests": str(max(0, requests_per_minute - used_requests)),
            "x-ratelimit-remaining-tokens": str(max(0, tokens_per_minute - used_tokens)),
        }

    def _data(self, method: str, path: str, query: dict[str, str], headers: Mapping[str, str], body: bytes) -> _Reply:
        match = _DATA_PATH.match(path)
        account = self.spec.find_account(match.group("acct")) if match else None
        if account is None or match is None or not account.is_openai_capable:
            return _Reply(404, _RESOURCE_NOT_FOUND, self._data_headers(None))
        reply = _replier(self._data_headers(account))
        api_version = query.get("api-version")
        operation, path_deployment, legacy = _operation_of(match.group("rest").rstrip("/"))
        if operation is None or method != "POST" or (legacy and not api_version):
            return reply(404, _RESOURCE_NOT_FOUND)
        refused = self._refusal(account, headers, operation, legacy, api_version)
        if refused is not None:
            return reply(*refused)
        request = _json_object(body)
        if request is None:
            return reply(400, _BAD_JSON)
        deployment_name = path_deployment or request.get("model")
        if not deployment_name:
            return reply(
                400, _openai_error("Missing required parameter: 'model'.", "model", "missing_required_parameter")
            )
        deployment = account.deployment(str(deployment_name))
        if deployment is None or deployment.provisioning_state != "Succeeded":
            return reply(404, _DEPLOYMENT_NOT_FOUND, "Not Found")
        fault = self._deployment_fault(account, deployment, operation, api_version)
        if fault is not None:
            status, payload, extra = fault
            return reply(status, payload, None, extra)
        return self._serve(account, deployment, operation, request, reply)

    def _refusal(
        self, account: AccountSpec, headers: Mapping[str, str], operation: str, legacy: bool, api_version: str | None
    ) -> tuple[int, bytes, str | None] | None:
        """What refuses the call before its body is read: the network, the credential, the api-version."""
        if account.properties.get("publicNetworkAccess") == "Disabled" and self.spec.caller.network == "public":
            return 403, _PUBLIC_ACCESS_DISABLED, None
        denied = self._data_auth(account, headers, operation)
        if denied is not None:
            return denied
        if not legacy and api_version not in (None, "v1", "preview", "latest"):
            return 400, _API_VERSION_NOT_SUPPORTED, None
        return None

    def _serve(
        self, account: AccountSpec, deployment: Any, operation: str, request: dict[str, Any], reply: _Replier
    ) -> _Reply:
        """The deployment's answer: the operation refused, a parameter refused, the content filter, or success."""
        behaviour = self.spec.behaviour(deployment.model_name)
        if operation not in (deployment.simulate.apis or behaviour.apis):
            # "chatCompletion" is verbatim; "responses"/"embeddings" follow the template (UNVERIFIED).
            message = _OPERATION_NOT_SUPPORTED.format(operation=operation, model=deployment.model_name)
            return reply(400, _arm_error("OperationNotSupported", message))
        if operation == "chatCompletion":
            problem = self._check_chat(request, behaviour)
        elif operation == "responses":
            problem = self._check_responses(request, behaviour)
        else:
            problem = self._check_embeddings(request)
        if problem is not None:
            return reply(400, problem, "model_error")
        if operation != "embeddings" and (
            deployment.simulate.content_filter_always or self._trips_content_filter(request)
        ):
            return reply(400, self._content_filter_body(), "model_error")
        if operation == "chatCompletion":
            payload, used, stream = chat_success(request, deployment, behaviour)
        elif operation == "responses":
            payload, used, stream = responses_success(request, deployment, behaviour)
        else:
            payload, used, stream = embeddings_success(request, deployment, behaviour)
        extra = self._rate_headers(account, deployment, used)
        extra["azureml-model-session"] = "d041-20251105091512"
        if stream:
            extra["Content-Type"] = "text/event-stream; charset=utf-8"
            extra["Cache-Control"] = "no-cache"
        return reply(200, payload, None, extra)

    def _data_auth(
        self, account: AccountSpec, headers: Mapping[str, str], operation: str
    ) -> tuple[int, bytes, str | None] | None:
        """Key vs Entra auth, in the order Azure applies it."""
        api_key = headers.get("api-key")
        bearer = None
        scheme, _, value = (headers.get("authorization") or "").partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            bearer = value.strip()
        if api_key is None and bearer is not None and bearer in self._key_owner:
            api_key, bearer = bearer, None  # v1 accepts a key sent as "Authorization: Bearer <key>"
        if api_key is not None:
            if account.disable_local_auth:
                return 403, _AUTH_TYPE_DISABLED, "Forbidden"
            if api_key not in self.keys.get(account.name.lower(), ()):
                return 401, _INVALID_KEY, "PermissionDenied"
            return None  # keys bypass RBAC
        token = self.tokens.get(bearer) if bearer else None
        if (
            token is None
            or token.expires_on <= time.time()
            or token.resource != _norm_resource(COGNITIVE_SERVICES_RESOURCE)
        ):
            return 401, _INVALID_TOKEN, "Unauthorized"
        if not account.caller_has_data_role:
            action, operation_text = _DATA_ACTIONS[operation]
            message = (
                f"The principal `{self.spec.caller.principal_id}` lacks the required data action `{action}` "
                f"to perform `{operation_text}` operation."
            )
            return 401, _arm_error("PermissionDenied", message), "PermissionDenied"
        return None

    def _deployment_fault(
        self, account: AccountSpec, deployment: DeploymentSpec, operation: str, api_version: str | None
    ) -> tuple[int, bytes, dict[str, str]] | None:
        """The deployment's scripted first calls: 429 RateLimitReached, then 5xx, then normal service."""
        sim = deployment.simulate
        if not sim.rate_limit_first_calls and not sim.server_error_first_calls:
            return None
        key = (account.name.lower(), deployment.name.lower())
        with self._lock:
            count = self._calls.get(key, 0) + 1
            self._calls[key] = count
        if count <= sim.rate_limit_first_calls:
            seconds = sim.retry_after_seconds
            tier = "AIServices" if account.kind.lower() == "aiservices" else "OpenAI"
            model_id = _model_id(deployment)
            # The newest wording; "{deployment} for {model}" ordering is UNVERIFIED: no public capture.
            message = (
                f"Your requests to {deployment.name} for {model_id} in {_region_name(account.location)} have "
                f"exceeded the token rate limit for your current {tier} S0 pricing tier. This request was for "
                f"{_OPERATION_IDS[operation]} under Azure OpenAI API version {api_version or 'v1'}. Please retry "
                f"after {seconds} seconds. To increase your default rate limit, visit: "
                "https://aka.ms/oai/quotaincrease."
            )
            headers = self._rate_headers(account, deployment, 0)
            headers["x-ratelimit-remaining-requests"] = "0"
            headers["x-ratelimit-remaining-tokens"] = "0"
            headers["retry-after"] = str(seconds)
            headers["retry-after-ms"] = str(seconds * 1000)
            return 429, _arm_error("RateLimitReached", message), headers
        if count <= sim.rate_limit_first_calls + sim.server_error_first_calls:
            message = _SERVER_ERROR_MESSAGE.format(request_id=uuid.uuid4())
            return 500, _openai_error(message, None, None, "server_error"), {}
        return None

    # -- data-plane validation ------------------------------------------------------------------------

    @staticmethod
    def _check_sampling(request: Mapping[str, Any], behaviour: ModelBehaviour) -> bytes | None:
        if request.get("stream") is True and not behaviour.streaming:
            return _openai_error(
                "Unsupported value: 'stream' does not support true with this model. Supported values are: false.",
                "stream",
                "unsupported_value",
            )
        temperature = request.get("temperature")
        if temperature is not None:
            if behaviour.temperature == "unsupported":
                return _openai_error(
                    "Unsupported parameter: 'temperature' is not supported with this model.",
                    "temperature",
                    "unsupported_parameter",
                )
            if behaviour.temperature == "defaultOnly" and temperature != 1:
                # The number is echoed as sent: 0.7 -> 0.7, 0 -> 0, 0.0 -> 0.0.
                return _openai_error(
                    f"Unsupported value: 'temperature' does not support {json.dumps(temperature)} "
                    "with this model. Only the default (1) value is supported.",
                    "temperature",
                    "unsupported_value",
                )
        for name in behaviour.rejected_parameters:
            if request.get(name) is not None:
                return _openai_error(
                    f"Unsupported parameter: '{name}' is not supported with this model.", name, "unsupported_parameter"
                )
        return None

    def _check_chat(self, request: Mapping[str, Any], behaviour: ModelBehaviour) -> bytes | None:
        messages = request.get("messages")
        if not isinstance(messages, list) or not messages:
            return _openai_error("Missing required parameter: 'messages'.", "messages", "missing_required_parameter")
        problem = self._check_sampling(request, behaviour)
        if problem is not None:
            return problem
        if request.get("max_tokens") is not None and behaviour.max_tokens == "unsupported":
            return _openai_error(
                "Unsupported parameter: 'max_tokens' is not supported with this model. Use "
                "'max_completion_tokens' instead.",
                "max_tokens",
                "unsupported_parameter",
            )
        floor = behaviour.min_output_tokens
        max_completion = request.get("max_completion_tokens")
        if floor and isinstance(max_completion, int) and max_completion < floor:
            return _openai_error(
                f"Invalid 'max_completion_tokens': integer below minimum value. Expected a value >= "
                f"{floor}, but got {max_completion} instead.",
                "max_completion_tokens",
                "integer_below_min_value",
            )
        if behaviour.system_role == "unsupported":
            for index, message in enumerate(messages):
                role = message.get("role") if isinstance(message, Mapping) else None
                if role in ("system", "developer"):
                    return _openai_error(
                        f"Unsupported value: 'messages[{index}].role' does not support '{role}' with this model.",
                        f"messages[{index}].role",
                        "unsupported_value",
                    )
        return None

    def _check_responses(self, request: Mapping[str, Any], behaviour: ModelBehaviour) -> bytes | None:
        for name in ("messages", "max_tokens", "max_completion_tokens"):
            if name in request:  # the Responses API takes `input` and `max_output_tokens`
                return _openai_error(f"Unknown parameter: '{name}'.", name, "unknown_parameter")
        if request.get("input") is None and not request.get("previous_response_id"):
            return _openai_error("Missing required parameter: 'input'.", "input", "missing_required_parameter")
        problem = self._check_sampling(request, behaviour)
        if problem is not None:
            return problem
        max_output = request.get("max_output_tokens")
        if isinstance(max_output, int) and max_output < 16:  # floor of 16 for every model
            return _openai_error(
                "Invalid 'max_output_tokens': integer below minimum value. Expected a value >= 16, "
                f"but got {max_output} instead.",
                "max_output_tokens",
                "integer_below_min_value",
            )
        return None

    @staticmethod
    def _check_embeddings(request: Mapping[str, Any]) -> bytes | None:
        if request.get("input") in (None, "", []):
            return _openai_error("Missing required parameter: 'input'.", "input", "missing_required_parameter")
        return None

    def _trips_content_filter(self, request: Mapping[str, Any]) -> bool:
        text = " ".join(_texts(request.get("messages"))) + " " + " ".join(_texts(request.get("input")))
        text += " " + str(request.get("instructions") or "")
        lowered = text.lower()
        return any(word.lower() in lowered for word in self.spec.content_filter.trigger_words)

    def _content_filter_body(self) -> bytes:
        """The hybrid envelope with `innererror.content_filter_result` (singular)."""
        spec = self.spec.content_filter
        results: dict[str, Any] = {name: dict(_SAFE) for name in ("hate", "self_harm", "sexual", "violence")}
        if spec.category == "jailbreak":
            results["jailbreak"] = {"filtered": True, "detected": True}
        else:
            results[spec.category] = {"filtered": True, "severity": spec.severity}
        return _compact(
            {
                "error": {
                    "message": _CONTENT_FILTER_MESSAGE,
                    "type": None,
                    "param": "prompt",
                    "code": "content_filter",
                    "status": 400,
                    "innererror": {"code": "ResponsibleAIPolicyViolation", "content_filter_result": results},
                }
            }
        )
