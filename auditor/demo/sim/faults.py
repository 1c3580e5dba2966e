"""Fault injection and request records: canned replies (ARM 429 with Retry-After, 5xx) tests and benchmarks add
at run time, and what was served (no header values, hence no secrets).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from auditor.demo.sim.wire import (
    _utc_stamp,
)


@dataclass(frozen=True)
class ServedRequest:
    """One answered request. Deliberately holds no header values, so no token or key can leak into it."""

    method: str
    path: str
    query: Mapping[str, str]
    status: int
    plane: str  # arm | graph | data | token
    timestamp: float


@dataclass(frozen=True)
class FaultRule:
    """Answer the next `times` requests whose path matches `path_pattern` (re.search) with a canned reply.

    `times=None` means every matching request. `body` may be a dict (sent as compact JSON) or a str.
    Used by tests (ARM 429 with Retry-After, 500s) and by benchmarks.
    """

    path_pattern: str
    status: int
    body: Mapping[str, Any] | str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    times: int | None = 1
    method: str | None = None
    plane: str | None = None
    stall: float = 0.0
    """Seconds to hold the answer back before anything is sent (a read that stalls)."""
    drip: float = 0.0
    """Seconds between the body's bytes once the headers are out (an answer that drips)."""
    echo_authorization: bool = False
    """A str body's `{authorization}` becomes the request's Authorization header (an error that echoes the token)."""

    @classmethod
    def arm_throttled(
        cls,
        path_pattern: str,
        *,
        retry_after: int = 1,
        times: int | None = 1,
        subscription_id: str = "00000000-0000-0000-0000-000000000000",
    ) -> FaultRule:
        """ARM's subscription read throttling: 429 SubscriptionRequestsThrottled with Retry-After."""
        body = {
            "error": {
                "code": "SubscriptionRequestsThrottled",
                "message": (
                    f"Number of 'read' requests for subscription '{subscription_id}' actor "
                    f"'00000000-0000-0000-0000-000000000000' exceeded. Please try again after '{retry_after}' seconds "
                    "after additional tokens are available. Refer to https://aka.ms/arm-throttling for additional "
                    "information."
                ),
            }
        }
        return cls(path_pattern, 429, body, {"Retry-After": str(retry_after)}, times, plane="arm")

    @classmethod
    def server_error(
        cls, path_pattern: str, *, status: int = 500, times: int | None = 1, plane: str | None = None
    ) -> FaultRule:
        """A generic 5xx in ARM's error envelope."""
        body = {
            "error": {
                "code": "InternalServerError",
                "message": (
                    "Encountered internal server error. Diagnostic information: timestamp "
                    f"'{_utc_stamp()}', tracking id '{uuid.uuid4()}'."
                ),
            }
        }
        return cls(path_pattern, status, body, {}, times, plane=plane)
