"""Class 2 on the data plane: hostile retry hints and error bodies from a deployment never crash a probe
run; they become an unknown or a throttled result with the reason."""

from __future__ import annotations

import math
import time

import pytest

from auditor.demo.sim import FaultRule
from auditor.probes.classify import classify, retry_hint
from tests.hostile.test_redirects import _probe


@pytest.mark.parametrize("value", ["nan", "NaN", "-nan", "1e999", "inf", "-inf", "soon", "Wed, 99 Foo 2026"])
def test_retry_hints_that_are_not_times(value: str) -> None:
    for header in ("retry-after", "retry-after-ms"):
        wait = retry_hint({header: value})
        assert wait is None or (not math.isnan(wait) and wait >= 0), (header, value, wait)


@pytest.mark.parametrize("value", ["nan", "inf", "1e999"])
def test_a_probe_told_to_wait_nan_or_forever_does_not_crash(tenant, credential, value: str) -> None:
    tenant.add_fault(
        FaultRule(
            r"/chat/completions$",
            429,
            {"error": {"code": "429", "message": "Rate limit is exceeded."}},
            {"retry-after": value, "retry-after-ms": value},
            times=None,
            plane="data",
        )
    )
    started = time.monotonic()
    (result,), _ = _probe(tenant, credential)
    assert time.monotonic() - started < 20
    assert result.outcome == "rate_limited"


@pytest.mark.parametrize(
    "body",
    [
        '{"error": "\\ud800 broken"}',
        '{"error": {"code": {"nested": [1, 2]}, "param": ["x"], "message": 7}}',
        "[1, 2, 3]",
        '{"error": {"code": "x", "message": "' + "\\u001b]0;t\\u0007" * 50 + '"}}',
        "not json at all \x00",
    ],
)
def test_a_probe_answer_of_any_shape_is_classified(body: str) -> None:
    import json

    try:
        parsed = json.loads(body)
    except ValueError:
        parsed = body
    answer = classify(400, parsed, {})
    assert answer.outcome and answer.status_code == 400
    for text in (answer.message, answer.error_code, answer.error_param):
        assert text is None or (isinstance(text, str) and len(text) <= 400)
        if text:
            text.encode("utf-8")
