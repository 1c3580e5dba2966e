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

OPENAI_USER_ROLE = "Cognitive Services OpenAI User"
OPENAI_USER_ROLE_ID = "5e0bd9bd-7b93-4f28-af87-19fc36ad61bd"
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
    hint: str | None = None


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


_FILTER_HINT = (
    "The content filter blocked a neutral one-word prompt{which}: review the deployment's content filter policy; it "
    "will block real users too."
)


def _success(status: int, body: object, hints: dict[str, str]) -> Answer:
    categories = _content_filtered(body)
    if categories is None:
        return Answer(ProbeOutcome.SUCCESS, status, rate_limit=hints, tokens=_usage_tokens(body))
    which = f" (filtered: {', '.join(categories)})" if categories else ""
    return Answer(
        ProbeOutcome.CONTENT_FILTER,
        status,
        error_code="content_filter",
        message="the answer was cut by the content filter (finish_reason content_filter)",
        rate_limit=hints,
        tokens=_usage_tokens(body),
        hint=_FILTER_HINT.format(which=which),
    )


def _redirect(status: int, headers: Mapping[str, str], hints: dict[str, str]) -> Answer:
    host = _host(_lower(headers).get("location", ""))
    return Answer(
        ProbeOutcome.UNEXPECTED,
        status,
        message=f"HTTP {status} redirect to {_text(host) or 'no Location'}: not followed (the request's "
        "credential would have been sent there), so the deployment's answer is unknown",
        rate_limit=hints,
    )


_Reply = Callable[..., Answer]


def _throttled(reply: _Reply, headers: Mapping[str, str], now: float | None) -> Answer:
    wait = retry_hint(headers, now)
    hint = (f"Azure asked to retry after {wait:g} s. " if wait is not None else "") + (
        "The deployment was at its rate limit for a single tiny call: raise its capacity, or spread load over more "
        "deployments."
    )
    return reply(ProbeOutcome.RATE_LIMITED, hint, retry_after=wait)


def _unauthorized(reply: _Reply, body: object, code: str | None, message: str | None, auth: str) -> Answer:
    if isinstance(body, Mapping) and "statusCode" in body and "error" not in body:
        return reply(
            ProbeOutcome.INVALID_TOKEN,
            hint=(
                "Azure rejected the Entra token (missing, expired, or issued for another audience): request it for "
                "the cloud's Cognitive Services scope (e.g. https://cognitiveservices.azure.com/.default)."
            ),
        )
    if code == "PermissionDenied":
        principal = _PRINCIPAL.search(message or "")
        who = f"principal {principal.group(1)}" if principal else "the calling identity"
        return reply(
            ProbeOutcome.PERMISSION_DENIED,
            hint=(
                f"Grant {who} the '{OPENAI_USER_ROLE}' role ({OPENAI_USER_ROLE_ID}) on the account: the token is "
                "valid, but the identity lacks the data action the call needs (Owner and Contributor have no data "
                "actions)."
            ),
        )
    if code in ("401", "Unauthorized") or auth == "key":
        return reply(
            ProbeOutcome.INVALID_KEY,
            hint=(
                "Azure rejected the API key (a wrong key, a key of another account, or a wrong endpoint): use this "
                "account's key from your secret store, or better, call with Entra ID (unset AZURE_OPENAI_API_KEY) "
                f"and grant the identity '{OPENAI_USER_ROLE}'."
            ),
        )
    return reply(
        ProbeOutcome.INVALID_TOKEN,
        hint="Azure rejected the Entra token: request a fresh token for the Cognitive Services scope.",
    )


def _forbidden(reply: _Reply, code: str | None, message: str | None) -> Answer:
    lowered = (message or "").lower()
    if code == "AuthenticationTypeDisabled":
        return reply(
            ProbeOutcome.LOCAL_AUTH_DISABLED,
            hint=(
                "The account has key authentication disabled (disableLocalAuth): call it with an Entra ID token and "
                f"the '{OPENAI_USER_ROLE}' role instead of an API key."
            ),
        )
    if any(word in lowered for word in ("public access", "private endpoint", "firewall", "virtual network")):
        return reply(
            ProbeOutcome.NETWORK_BLOCKED,
            hint=(
                "The account's network rules refuse this caller: call from a network it allows (its private "
                "endpoint, an allowed IP range or virtual network)."
            ),
        )
    return reply(
        ProbeOutcome.PERMISSION_DENIED, hint=f"Grant the calling identity the '{OPENAI_USER_ROLE}' role on the account."
    )


def _not_found(reply: _Reply, code: str | None) -> Answer:
    if code == "DeploymentNotFound":
        return reply(
            ProbeOutcome.DEPLOYMENT_NOT_FOUND,
            hint=(
                "Create the deployment or fix the name the app passes as model=; if it was created in the last five "
                "minutes, wait and probe again."
            ),
        )
    return reply(
        ProbeOutcome.UNEXPECTED, hint="The endpoint answered 404 for the data-plane path: check the account endpoint."
    )


def _bad_request(reply: _Reply, code: str | None, param: str | None, message: str | None, inner: object) -> Answer:
    if code in _API_CODES:
        return reply(ProbeOutcome.API_NOT_SUPPORTED, hint="Call this deployment through an API its model serves.")
    if code == "content_filter":
        categories = _filtered(inner)
        return reply(
            ProbeOutcome.CONTENT_FILTER,
            hint=_FILTER_HINT.format(which=f" (filtered: {', '.join(categories)})" if categories else ""),
        )
    if code in _PARAMETER_CODES:
        return reply(_PARAMETER_CODES[code])
    named = param or _named_parameter(message)
    if code is None and named:
        return reply(ProbeOutcome.UNSUPPORTED_PARAMETER, param=named)
    return reply(ProbeOutcome.UNEXPECTED)


def classify(
    status: int, body: object, headers: Mapping[str, str], *, auth: str = "entra", now: float | None = None
) -> Answer:
    """Classify one HTTP answer. `auth` is how the call authenticated ("entra" or "key"), which decides
    how an unlabelled 401 is read."""
    hints = rate_limit_headers(headers)
    code, param, message, inner = _error_fields(body)

    def reply(
        outcome: ProbeOutcome, hint: str | None = None, retry_after: float | None = None, param: str | None = param
    ) -> Answer:
        """An error answer: what Azure said (status, code, param, message, throttling hints) and our reading."""
        return Answer(outcome, status, code, param, message, retry_after, hints, hint=hint)

    if 200 <= status < 300:
        return _success(status, body, hints)
    if 300 <= status < 400:
        return _redirect(status, headers, hints)
    by_status: dict[int, Callable[[], Answer]] = {
        429: lambda: _throttled(reply, headers, now),
        401: lambda: _unauthorized(reply, body, code, message, auth),
        403: lambda: _forbidden(reply, code, message),
        404: lambda: _not_found(reply, code),
        400: lambda: _bad_request(reply, code, param, message, inner),
        408: lambda: reply(ProbeOutcome.TIMEOUT),
    }
    if status in by_status:
        return by_status[status]()
    return reply(ProbeOutcome.SERVER_ERROR if status >= 500 else ProbeOutcome.UNEXPECTED)


def failure(kind: ProbeOutcome, detail: str) -> Answer:
    """A call that got no HTTP answer: `timeout`, `connection_error` or `unexpected` (e.g. no token)."""
    return Answer(kind, message=_text(detail))
