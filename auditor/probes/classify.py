"""Turn one data-plane answer (status, JSON body, headers) into a classified outcome. Pure.

Azure OpenAI answers in three envelopes (bodies quoted in public issue threads, e.g. vanna-ai/vanna#967,
chatboxai/chatbox#861, microsoft/vscode#254389, langchain-ai/langchain#17373): the gateway's `{"error":{"code","message"}}`
(OperationNotSupported, DeploymentNotFound, 401/403 auth, 429), the OpenAI engine's
`{"error":{"message","type","param","code"}}` (unsupported_parameter / unsupported_value / content_filter),
and the token check's `{"statusCode":401,"message"}`. Keeping this free of I/O means every rule about an
answer can be tested on recorded bodies.
"""

from __future__ import annotations

import contextlib
import math
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

from auditor.model.enums import ProbeOutcome
from auditor.model.facts import PROBE_ANSWERED, PROBE_UNANSWERED
from auditor.util.redact import clean

ANSWERED = PROBE_ANSWERED
UNANSWERED = PROBE_UNANSWERED
SKIPPED = ProbeOutcome.SKIPPED
AUTH_FAILURES = (
    ProbeOutcome.INVALID_KEY,
    ProbeOutcome.INVALID_TOKEN,
    ProbeOutcome.LOCAL_AUTH_DISABLED,
    ProbeOutcome.PERMISSION_DENIED,
    ProbeOutcome.NETWORK_BLOCKED,
)

_PARAMETER_CODES: dict[str, ProbeOutcome] = {
    "unsupported_parameter": ProbeOutcome.UNSUPPORTED_PARAMETER,
    "unknown_parameter": ProbeOutcome.UNSUPPORTED_PARAMETER,
    "unsupported_value": ProbeOutcome.UNSUPPORTED_VALUE,
    "invalid_value": ProbeOutcome.UNSUPPORTED_VALUE,
    "integer_below_min_value": ProbeOutcome.UNSUPPORTED_VALUE,
    "integer_above_max_value": ProbeOutcome.UNSUPPORTED_VALUE,
}
_PRINCIPAL = re.compile(r"principal `([^`]+)`")
_MAX_MESSAGE = 400


@dataclass(frozen=True)
class Answer:
    """The classified answer of one attempt."""

    outcome: ProbeOutcome
    status_code: int | None = None
    error_code: str | None = None
    error_param: str | None = None
    message: str | None = None
    retry_after: float | None = None
    rate_limit: Mapping[str, str] = field(default_factory=dict)
    tokens: int | None = None
    remedy: str | None = None
    """Which advice fits the answer (the probe rules' `remediation_by` cases in rules/builtin/probe.yaml): the
    outcome's name, or a finer reading where one outcome has two causes (`token_audience`, `data_action`)."""
    principal: str | None = None
    """The principal Azure named in a PermissionDenied answer."""
    filtered: tuple[str, ...] = ()
    """The content filter categories that blocked the prompt."""


def _text(value: object) -> str | None:
    """A value from the answer, kept: secrets redacted before it is cut to _MAX_MESSAGE characters."""
    if value is None:
        return None
    return clean(str(value), limit=_MAX_MESSAGE)


def _lower(headers: Mapping[str, str]) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in headers.items()}


def retry_hint(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds the server asked us to wait: `retry-after-ms` first, then `retry-after` (seconds or an
    HTTP date), as openai-python reads them (openai/openai-python, src/openai/_base_client.py)."""
    lowered = _lower(headers)
    raw_ms = lowered.get("retry-after-ms")
    if raw_ms is not None:
        with contextlib.suppress(ValueError):
            if not math.isnan(float(raw_ms)):  # `nan` is no time to wait (time.sleep refuses it)
                return max(float(raw_ms) / 1000.0, 0.0)
    raw = lowered.get("retry-after")
    if raw is None:
        return None
    with contextlib.suppress(ValueError):
        return None if math.isnan(float(raw)) else max(float(raw), 0.0)
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - (time.time() if now is None else now), 0.0)


def _host(url: str) -> str | None:
    try:
        return urlsplit(url).hostname if url else None
    except ValueError:
        return "an unparsable URL"


def rate_limit_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The throttling hints Azure sent: retry-after(-ms) and x-ratelimit-*."""
    lowered = _lower(headers)
    return {
        k: v
        for k, v in sorted(lowered.items())
        if k.startswith("x-ratelimit-") or k in ("retry-after", "retry-after-ms")
    }


def _error_fields(body: object) -> tuple[str | None, str | None, str | None, object]:
    """(code, param, message, innererror) from either error envelope; codes are strings as Azure sends."""
    if not isinstance(body, Mapping):
        return None, None, _text(body) if body else None, None
    error = body.get("error")
    if isinstance(error, Mapping):
        code = error.get("code")
        return (
            (None if code is None else _text(code)),
            _text(error.get("param")),
            _text(error.get("message")),
            error.get("innererror"),
        )
    if isinstance(error, str):
        return None, None, _text(error), None
    return None, None, _text(body.get("message")), None


def _usage_tokens(body: object) -> int | None:
    usage = body.get("usage") if isinstance(body, Mapping) else None
    if not isinstance(usage, Mapping):
        return None
    for key in ("total_tokens", "prompt_tokens"):
        value = usage.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def _filtered(innererror: object) -> list[str]:
    results = innererror.get("content_filter_result") if isinstance(innererror, Mapping) else None
    if not isinstance(results, Mapping):
        return []
    return sorted(name for name, r in results.items() if isinstance(r, Mapping) and r.get("filtered"))


_NAMED_PARAMETER = (
    # The OpenAI engine's 400s with `code: null` that name the parameter in the message (real bodies quoted in
    # public issues: "Unrecognized request argument supplied: max_completion_tokens", "Function tools with
    # reasoning_effort are not supported for gpt-5 in /v1/chat/completions.", "image_url is only supported by
    # certain models.", "Unsupported parameter: 'temperature' is not supported with this model.").
    re.compile(r"unrecognized request argument supplied: (?P<param>[A-Za-z_][\w.]*)", re.I),
    re.compile(r"unsupported parameter: '(?P<param>[\w.]+)'", re.I),
    re.compile(r"\bwith (?P<param>[a-z_][\w.]*) (?:are|is) not supported", re.I),
    re.compile(r"(?:^|\. )'?(?P<param>[a-z_][\w.]*)'? is only supported by", re.I),
    re.compile(r"^'?(?P<param>[a-z_][\w.]*)'? is not supported (?:with|by|for|on|in) ", re.I),
)
_API_CODES = {"OperationNotSupported", "unsupported_model"}
"""400 codes that say the deployment's model does not serve the API called (`unsupported_model` is what the
Responses API answers for a model it does not serve)."""


def _named_parameter(message: str | None) -> str | None:
    for pattern in _NAMED_PARAMETER:
        match = pattern.search(message or "")
        if match:
            return match.group("param")
    return None


def _content_filtered(body: object) -> list[str] | None:
    """The categories a 200 was filtered for, or None when it was not: Chat Completions' `finish_reason:
    "content_filter"` on a choice, or the Responses API's `incomplete_details.reason: "content_filter"`."""
    if not isinstance(body, Mapping):
        return None
    choices = body.get("choices")
    for choice in choices if isinstance(choices, list) else ():
        if isinstance(choice, Mapping) and choice.get("finish_reason") == "content_filter":
            return _filtered({"content_filter_result": choice.get("content_filter_results")})
    details = body.get("incomplete_details")
    if isinstance(details, Mapping) and details.get("reason") == "content_filter":
        return []
    return None


def _success(status: int, body: object, hints: dict[str, str]) -> Answer:
    """A 2xx: success, unless the content filter cut the answer (a 200 with finish_reason content_filter)."""
    categories = _content_filtered(body)
    if categories is None:
        return Answer(ProbeOutcome.SUCCESS, status, rate_limit=hints, tokens=_usage_tokens(body))
    return Answer(
        ProbeOutcome.CONTENT_FILTER,
        status,
        error_code="content_filter",
        message="the answer was cut by the content filter (finish_reason content_filter)",
        rate_limit=hints,
        tokens=_usage_tokens(body),
        remedy=ProbeOutcome.CONTENT_FILTER.value,
        filtered=tuple(categories),
    )


def _bad_request(
    answer: Callable[..., Answer], code: str | None, param: str | None, message: str | None, inner: object
) -> Answer:
    """A 400: the API not served, the content filter, or a parameter refused, by its code or, where the code is
    null, by the parameter the answer names."""
    if code in _API_CODES:
        return answer(ProbeOutcome.API_NOT_SUPPORTED)
    if code == "content_filter":
        return answer(ProbeOutcome.CONTENT_FILTER, filtered=tuple(_filtered(inner)))
    if code in _PARAMETER_CODES:
        return answer(_PARAMETER_CODES[code])
    named = param or _named_parameter(message)
    if code is None and named:
        return answer(ProbeOutcome.UNSUPPORTED_PARAMETER, param=named)
    return answer(ProbeOutcome.UNEXPECTED)


def classify(
    status: int, body: object, headers: Mapping[str, str], *, auth: str = "entra", now: float | None = None
) -> Answer:
    """Classify one HTTP answer. `auth` is how the call authenticated ("entra" or "key"), which decides
    how an unlabelled 401 is read."""
    hints = rate_limit_headers(headers)
    code, param, message, inner = _error_fields(body)

    def answer(outcome: ProbeOutcome, remedy: str | None = None, *, param: str | None = param, **more: Any) -> Answer:
        """An error answer: what Azure said (status, code, param, message, throttling hints) and our reading."""
        return Answer(outcome, status, code, param, message, rate_limit=hints, remedy=remedy or outcome.value, **more)

    if 200 <= status < 300:
        return _success(status, body, hints)
    if 300 <= status < 400:
        host = _host(_lower(headers).get("location", ""))
        return Answer(
            ProbeOutcome.UNEXPECTED,
            status,
            message=f"HTTP {status} redirect to {_text(host) or 'no Location'}: not followed (the request's "
            "credential would have been sent there), so the deployment's answer is unknown",
            rate_limit=hints,
        )
    if status == 429:
        return answer(ProbeOutcome.RATE_LIMITED, retry_after=retry_hint(headers, now))
    if status == 401:
        return _unauthorized(answer, body, code, message, auth)
    if status == 403:
        return _forbidden(answer, code, message)
    if status == 404:
        if code == "DeploymentNotFound":
            return answer(ProbeOutcome.DEPLOYMENT_NOT_FOUND)
        return answer(ProbeOutcome.UNEXPECTED, "endpoint_not_found")
    if status == 400:
        return _bad_request(answer, code, param, message, inner)
    if status == 408:
        return answer(ProbeOutcome.TIMEOUT)
    if status >= 500:
        return answer(ProbeOutcome.SERVER_ERROR)
    return answer(ProbeOutcome.UNEXPECTED)


def _unauthorized(
    answer: Callable[..., Answer], body: object, code: str | None, message: str | None, auth: str
) -> Answer:
    """A 401: a token Azure's gateway refused (a bare {statusCode, message} body), an identity without the data
    action (PermissionDenied), or a refused key."""
    if isinstance(body, Mapping) and "statusCode" in body and "error" not in body:
        return answer(ProbeOutcome.INVALID_TOKEN, "token_audience")
    if code == "PermissionDenied":
        principal = _PRINCIPAL.search(message or "")
        return answer(
            ProbeOutcome.PERMISSION_DENIED, "data_action", principal=principal.group(1) if principal else None
        )
    if code in ("401", "Unauthorized") or auth == "key":
        return answer(ProbeOutcome.INVALID_KEY)
    return answer(ProbeOutcome.INVALID_TOKEN)


def _forbidden(answer: Callable[..., Answer], code: str | None, message: str | None) -> Answer:
    """A 403: key authentication switched off, the network rules, or a missing role."""
    lowered = (message or "").lower()
    if code == "AuthenticationTypeDisabled":
        return answer(ProbeOutcome.LOCAL_AUTH_DISABLED)
    if any(word in lowered for word in ("public access", "private endpoint", "firewall", "virtual network")):
        return answer(ProbeOutcome.NETWORK_BLOCKED)
    return answer(ProbeOutcome.PERMISSION_DENIED)


def failure(kind: ProbeOutcome, detail: str) -> Answer:
    """A call that got no HTTP answer: `timeout`, `connection_error` or `unexpected` (e.g. no token)."""
    return Answer(kind, message=_text(detail))
